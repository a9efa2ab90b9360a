"""A policy's weights in a safetensors file: tensors and their names, nothing executable.

A policy's ``state_dict`` may list one tensor under several names (SB3 keeps a shared features
extractor as ``features_extractor``, ``pi_features_extractor`` and ``vf_features_extractor``).
The file holds each tensor once, under its first name; loading rebuilds the same policy, whose
sharing is the same, and fills every name from the file.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file
from torch import nn

from fixup_rl.export.fields import Field

FORMAT_METADATA = {"format": "pt", "producer": "fixup_rl"}


def canonical_names(module: nn.Module) -> dict[str, str]:
    """Map every name of ``module``'s state dict to the first name holding the same tensor.

    :param module: the module
    :return: ``{name: first name}``; a tensor held once maps to its own name
    """
    first: dict[tuple, str] = {}
    names = {}
    for name, tensor in module.state_dict(keep_vars=True).items():
        if tensor.numel() == 0:  # empty tensors may share an address without sharing anything
            names[name] = name
            continue
        key = (
            tensor.untyped_storage().data_ptr(),
            tensor.storage_offset(),
            tuple(tensor.shape),
            tuple(tensor.stride()),
            tensor.dtype,
        )
        names[name] = first.setdefault(key, name)
    return names


def save_weights(module: nn.Module, path: Path) -> None:
    """Write ``module``'s state dict into the safetensors file ``path``, each tensor once.

    :param module: the module (on any device; the file holds CPU tensors)
    :param path: the file to write
    """
    state = module.state_dict()
    tensors = {
        name: state[name].detach().to("cpu").contiguous().clone()
        for name, first in canonical_names(module).items()
        if name == first
    }
    save_file(tensors, str(path), metadata=FORMAT_METADATA)


def sha256(path: Path) -> str:
    """The SHA-256 digest of the file at ``path``, in hex."""
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_header(path: Path) -> dict[str, tuple[str, tuple[int, ...]]]:
    """Read the names, dtypes and shapes of the tensors in a safetensors file, not the data.

    :param path: the file
    :return: ``{name: (dtype, shape)}``
    :raises PolicyFileError: when the file is not a safetensors file
    """
    try:
        with safe_open(str(path), framework="pt") as file:
            header, names = {}, file.keys()  # the file object is not iterable
            for name in names:
                view = file.get_slice(name)
                header[name] = (str(view.get_dtype()), tuple(view.get_shape()))
            return header
    except (SafetensorError, OSError, ValueError) as error:
        Field(path).fail(f"not a readable safetensors file ({_reason(error)})")


def element_count(header: dict[str, tuple[str, tuple[int, ...]]]) -> int:
    """The number of numbers in all the tensors of a file's header."""
    return sum(math.prod(shape) for _, shape in header.values())


def load_weights(module: nn.Module, path: Path) -> None:
    """Load the safetensors file ``path`` into ``module``, which must have the same tensors.

    :param module: a module built like the one that was saved
    :param path: the file written by :func:`save_weights`
    :raises PolicyFileError: for a tensor that is missing, unknown, or of another shape or
        dtype than the module's
    """
    try:
        tensors = load_file(str(path), device="cpu")
    except (SafetensorError, OSError, ValueError) as error:
        Field(path).fail(f"not a readable safetensors file ({_reason(error)})")

    names = canonical_names(module)
    expected = {first for first in names.values()}
    missing = sorted(expected - set(tensors))
    unknown = sorted(set(tensors) - expected)
    if missing or unknown:
        Field(path).fail(
            "the tensors do not match the policy described in policy.json: "
            + "; ".join(
                part
                for part in (
                    f"missing {_listed(missing)}" if missing else "",
                    f"unknown {_listed(unknown)}" if unknown else "",
                )
                if part
            )
        )

    state = module.state_dict()
    for name, first in names.items():
        tensor, own = tensors[first], state[name]
        if tensor.shape != own.shape or tensor.dtype != own.dtype:
            (Field(path) / first).fail(
                f"expected a {own.dtype} tensor of shape {tuple(own.shape)} for the policy "
                f"described in policy.json, got {tensor.dtype} {tuple(tensor.shape)}"
            )
    module.load_state_dict({name: tensors[first] for name, first in names.items()}, strict=True)


def _listed(names: list[str], shown: int = 5) -> str:
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def _reason(error: Exception) -> str:
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
