"""``load_policy``: rebuild an exported policy from JSON and safetensors, unpickling nothing."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import torch

from fixup_rl.export.fields import Field, PolicyFileError
from fixup_rl.export.policy import ExportedPolicy
from fixup_rl.export.spaces import flat_size
from fixup_rl.export.spec import SPEC_FILE, WEIGHTS_FILE, PolicySpec, read_spec
from fixup_rl.export.weights import element_count, load_weights, read_header, sha256


def load_policy(path: str | Path) -> ExportedPolicy:
    """Rebuild the policy that ``fixup-rl export`` (or :func:`export_policy`) wrote.

    Nothing is unpickled and no code from the files runs: ``policy.json`` is plain JSON, read
    and checked field by field, and may name only allowlisted classes; ``policy.safetensors``
    holds only tensors. The policy is rebuilt as the SB3 class it was trained as, with the
    same arguments, and given the saved weights, so it acts exactly like the original, and
    it scales observations as the run's ``VecNormalize`` did.

    :param path: the export folder (holding ``policy.json`` and ``policy.safetensors``), or
        its ``policy.json``
    :return: the inference policy: ``predict(obs)`` as SB3's, returning actions within the
        env's bounds, and ``forward`` on tensors
    :raises PolicyFileError: (a ``ValueError``) for a missing file or field, an unknown key or
        class, a value that is not accepted, or weights that do not fit the description; the
        message names the file and the field
    :raises ModuleNotFoundError: when the policy needs sb3-contrib and it is not installed
    """
    # The files.
    folder = Path(path)
    if folder.name == SPEC_FILE and folder.is_file():
        folder = folder.parent
    if not folder.is_dir():
        raise PolicyFileError(
            f"{folder}: no such export folder (it holds {SPEC_FILE} and "
            f"{WEIGHTS_FILE}; write one with `fixup-rl export RUN_DIR`)"
        )
    spec_path, weights_path = folder / SPEC_FILE, folder / WEIGHTS_FILE
    for file in (spec_path, weights_path):
        if not file.is_file():
            raise PolicyFileError(
                f"{file}: missing; an export folder holds {SPEC_FILE} and {WEIGHTS_FILE}"
            )

    # The description, then the weights it announces.
    spec = read_spec(spec_path)
    if sha256(weights_path) != spec.weights_sha256:
        (Field(spec_path) / "weights" / "sha256").fail(
            f"does not match {weights_path}: the weights are not the ones this file describes"
        )
    header = read_header(weights_path)
    _check_size(spec, element_count(header), weights_path)

    # The policy, rebuilt as it was trained, then its weights.
    policy = _build(spec)
    load_weights(policy, weights_path)
    return ExportedPolicy(policy, spec.normalization, spec.description)


def _build(spec: PolicySpec) -> Any:
    policy_class = spec.policy_class.load()
    kwargs = dict(spec.policy_kwargs)
    if spec.policy_class.family == "on_policy":
        kwargs["ortho_init"] = False  # an init the loaded weights replace anyway
    try:
        with torch.device("cpu"):
            return policy_class(
                spec.observation_space, spec.action_space, _constant_schedule, **kwargs
            )
    except (ValueError, TypeError, AssertionError, RuntimeError) as error:
        reason = " ".join(str(error).split()) or type(error).__name__
        (Field(spec.path) / "policy_kwargs").fail(
            f"{spec.policy_class.name} cannot be built from these arguments: {reason}"
        )


def _constant_schedule(_: float) -> float:
    return 1e-4  # the optimizer SB3 builds with the policy is never used


def _check_size(spec: PolicySpec, elements: int, weights_path: Path) -> None:
    # Before anything is allocated: a policy.json claiming far larger networks than the weights
    # file holds is refused, so a small file cannot make the loader build a huge network.
    claimed = minimum_weights(spec)
    if claimed > elements:
        (Field(spec.path) / "policy_kwargs").fail(
            f"describes networks of at least {claimed} weights, but {weights_path} holds "
            f"{elements} numbers"
        )


def minimum_weights(spec: PolicySpec) -> int:
    """A lower bound on the number of weights of the policy ``spec`` describes.

    It counts the dominant terms only: the first layer reading the flattened observation (or
    the features), the ``m`` square weight matrices of every residual block, the weights
    between consecutive ``net_arch`` layers, and the convolutions of a Fixup CNN.

    :param spec: a checked description
    :return: the bound
    """
    kwargs, extractor = spec.policy_kwargs, spec.extractor.family
    options = kwargs["features_extractor_kwargs"]
    m = kwargs.get("m", 2)
    total, in_dim = 0, flat_size(spec.observation_space)

    # The features extractor, and the size of the features it hands to the networks.
    if extractor == "fixup_mlp":
        width = options.get("features_dim", 1)
        blocks = options.get("num_blocks", 1) * options.get("m", 2)
        total, in_dim = in_dim * width + blocks * width**2, width
    elif extractor == "fixup_cnn":
        blocks = options.get("blocks_per_stage", 1) * options.get("m", 2)
        total = sum(blocks * 9 * channels**2 for channels in options.get("channels", []))
        in_dim = options.get("features_dim", 1)
    elif extractor == "nature_cnn":
        in_dim = options.get("features_dim", 1)

    # The policy's own networks: residual towers, or SB3's MLP layers.
    networks = ("pi", "vf") if spec.policy_class.family == "on_policy" else ("pi", "qf")
    for network in networks:
        if "net_arch" in kwargs:
            arch = kwargs["net_arch"]
            layers = [in_dim, *(arch[network] if isinstance(arch, dict) else arch)]
            total += sum(a * b for a, b in itertools.pairwise(layers))
        else:
            width = _of(kwargs.get("width", 1), network)
            total += in_dim * width + _of(kwargs.get("num_blocks", 1), network) * m * width**2
    return total


def _of(value: int | dict[str, int], network: str) -> int:
    return value[network] if isinstance(value, dict) else value
