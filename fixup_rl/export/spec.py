"""``policy.json``: the description of an exported policy, and how it is read and checked.

::

    {
      "format": "fixup_rl.policy",
      "format_version": 1,
      "policy_class": "FixupActorCriticPolicy",
      "policy_kwargs": {"num_blocks": 2, "width": 64, "m": 2, "norm": "fixup",
                        "activation_fn": "ReLU", "features_extractor_class": ..., ...},
      "observation_space": {"type": "Box", "shape": [3], "dtype": "float32", "low": [...], ...},
      "action_space": {"type": "Box", "shape": [1], ...},
      "observation_normalization": null or {"mean": [...], "var": [...], "epsilon": 1e-08,
                                            "clip": 10.0},
      "weights": {"file": "policy.safetensors", "sha256": "..."},
      "description": {"algo": "ppo", "env_id": "Pendulum-v1", ...}
    }

``policy_class`` and every class inside ``policy_kwargs`` are names from the allowlists of
:mod:`fixup_rl.export.classes`; ``policy_kwargs`` holds only the keys of
:mod:`fixup_rl.export.kwargs`. ``description`` is for people (which run, which versions) and
is never used to build anything.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gymnasium import spaces

from fixup_rl.export.classes import EXTRACTORS, POLICIES, Allowed
from fixup_rl.export.fields import Field, show
from fixup_rl.export.kwargs import FAMILIES, Kind, decode_kwargs, network_keys
from fixup_rl.export.normalization import ObservationNormalization
from fixup_rl.export.spaces import decode_space

SPEC_FILE = "policy.json"
WEIGHTS_FILE = "policy.safetensors"
FORMAT = "fixup_rl.policy"
FORMAT_VERSION = 1

TOP_LEVEL = (
    "format",
    "format_version",
    "policy_class",
    "policy_kwargs",
    "observation_space",
    "action_space",
    "observation_normalization",
    "weights",
)
_OPTIONAL = ("description",)


@dataclass(frozen=True)
class PolicySpec:
    """The checked content of a ``policy.json``.

    :param path: the file it was read from
    :param policy_class: the allowlisted policy class
    :param extractor: the allowlisted features extractor it names
    :param policy_kwargs: the policy's arguments, classes already resolved
    :param observation_space: the policy's observation space
    :param action_space: its action space
    :param normalization: the observation scaling, or None
    :param weights_sha256: the SHA-256 digest of ``policy.safetensors``
    :param description: the file's ``description``, for people
    """

    path: Path
    policy_class: Allowed
    extractor: Allowed
    policy_kwargs: dict[str, Any]
    observation_space: spaces.Space
    action_space: spaces.Space
    normalization: ObservationNormalization | None
    weights_sha256: str
    description: dict[str, Any]


def policy_keys(policy_class: Allowed) -> dict[str, Kind]:
    """All the ``policy_kwargs`` keys ``policy_class`` accepts in a policy file."""
    fixup = policy_class.name.startswith("Fixup")
    return {**FAMILIES[policy_class.family], **network_keys(policy_class.family, fixup)}


def read_spec(path: Path) -> PolicySpec:
    """Read and check the ``policy.json`` at ``path``.

    :param path: the file
    :return: the checked description
    :raises PolicyFileError: when the file cannot be read, is not JSON, or holds a field that
        is missing, unknown or not accepted; the message names the file and the field
    """
    root = Field(path)
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text, parse_constant=_no_constant)
    except (OSError, UnicodeDecodeError) as error:
        root.fail(f"cannot be read ({type(error).__name__}: {error})")
    except json.JSONDecodeError as error:
        root.fail(f"not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})")
    except ValueError as error:
        root.fail(f"not valid JSON: {error}")

    data = root.mapping(data, TOP_LEVEL, _OPTIONAL)
    if data["format"] != FORMAT:
        (root / "format").reject(f"{FORMAT!r} (a policy exported by fixup_rl)", data["format"])
    version = (root / "format_version").integer(data["format_version"], minimum=1)
    if version > FORMAT_VERSION:
        (root / "format_version").fail(
            f"version {version} was written by a newer fixup_rl; this one reads version "
            f"{FORMAT_VERSION}: upgrade fixup_rl"
        )

    policy_class = POLICIES[(root / "policy_class").choice(data["policy_class"], POLICIES)]
    observation_space = decode_space(root / "observation_space", data["observation_space"])
    action_space = decode_space(root / "action_space", data["action_space"])
    if policy_class.family != "on_policy" and not isinstance(action_space, spaces.Box):
        (root / "action_space").fail(
            f"{policy_class.name} acts in a Box action space, got {action_space}"
        )
    kwargs = decode_kwargs(root / "policy_kwargs", policy_keys(policy_class), data["policy_kwargs"])
    normalization = None
    if data["observation_normalization"] is not None:
        normalization = ObservationNormalization.from_json(
            root / "observation_normalization", data["observation_normalization"], observation_space
        )

    weights = (root / "weights").mapping(data["weights"], ("file", "sha256"))
    (root / "weights" / "file").choice(weights["file"], (WEIGHTS_FILE,))
    digest = weights["sha256"]
    if not isinstance(digest, str) or not re.fullmatch(r"[0-9a-f]{64}", digest):
        (root / "weights" / "sha256").reject("64 lowercase hex digits", digest)

    description = _description(root / "description", data.get("description", {}))
    return PolicySpec(
        path,
        policy_class,
        EXTRACTORS[data["policy_kwargs"]["features_extractor_class"]],
        kwargs,
        observation_space,
        action_space,
        normalization,
        digest,
        description,
    )


def _description(field: Field, value: Any) -> dict[str, Any]:
    # Free text for people, but plain: strings, numbers, booleans, null, one level of mapping.
    if not isinstance(value, dict):
        field.reject("a mapping", value)
    for key, item in value.items():
        if isinstance(item, dict):
            for inner in item.values():
                if not _scalar(inner):
                    (field / key).reject("strings, numbers, booleans or null", inner)
        elif not _scalar(item):
            (field / key).reject("a string, number, boolean, null or mapping", item)
    return dict(value)


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def _no_constant(name: str) -> Any:
    raise ValueError(f"{show(name)} is not a number JSON allows (write finite numbers)")
