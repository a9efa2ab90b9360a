"""``export_policy``: write an SB3 model's policy as ``policy.json`` and ``policy.safetensors``."""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import stable_baselines3
import torch
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.vec_env import VecNormalize

from fixup_rl.export.classes import POLICIES, name_of
from fixup_rl.export.kwargs import encode_kwargs
from fixup_rl.export.loader import load_policy
from fixup_rl.export.normalization import ObservationNormalization
from fixup_rl.export.spaces import encode_space
from fixup_rl.export.spec import FORMAT, FORMAT_VERSION, SPEC_FILE, WEIGHTS_FILE, policy_keys
from fixup_rl.export.weights import save_weights, sha256

# Constructor arguments that matter only for training (or only for the initial weights).
_TRAINING_ONLY = (
    "observation_space",
    "action_space",
    "lr_schedule",
    "optimizer_class",
    "optimizer_kwargs",
    "ortho_init",
    "scalar_lr_scale",
    "depth_aware",
)
_CHECK_SAMPLES = 16


def export_policy(
    model: BaseAlgorithm,
    folder: str | Path,
    vec_normalize: VecNormalize | None = None,
    description: Mapping[str, Any] | None = None,
    force: bool = False,
) -> Path:
    """Write ``model``'s policy into ``folder`` as ``policy.json`` and ``policy.safetensors``.

    ``policy.json`` describes the policy (its class and arguments, the observation and action
    spaces, the observation scaling) in plain JSON; ``policy.safetensors`` holds its weights.
    :func:`fixup_rl.load_policy` rebuilds it from these two files without unpickling anything.
    The export is checked before this returns: it is loaded back and must pick the same
    deterministic actions as ``model`` on observations sampled from the observation space.

    :param model: a PPO, A2C, SAC, TD3 or TQC model whose policy is one of
        :data:`fixup_rl.export.classes.POLICIES` (Fixup policies, and SB3's ``MlpPolicy`` and
        ``CnnPolicy``)
    :param folder: the export folder; created if needed
    :param vec_normalize: the ``VecNormalize`` wrapper (or its loaded statistics) the model
        was trained with, if any; its observation statistics are exported
    :param description: notes for people, kept in ``policy.json`` under ``description``
        (strings, numbers, booleans, null, or one level of mapping of these)
    :param force: replace the files of an earlier export in ``folder``
    :return: the folder
    :raises ValueError: for a policy, space or argument that cannot be exported, or a folder
        that already holds an export (without ``force``) or other files
    """
    folder = Path(folder)
    policy = model.policy
    data = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        **describe_policy(policy),
        "observation_normalization": _normalization(vec_normalize, policy.observation_space),
        "weights": {"file": WEIGHTS_FILE, "sha256": ""},
        "description": {**_default_description(model), **dict(description or {})},
    }

    # The weights first, then the description that names their digest; each file is written
    # under a temporary name and renamed, so a reader never sees half a file.
    _claim(folder, force)
    weights_path = folder / WEIGHTS_FILE
    _write_atomically(weights_path, lambda path: save_weights(policy, path))
    data["weights"]["sha256"] = sha256(weights_path)
    text = json.dumps(data, indent=2, allow_nan=False) + "\n"
    _write_atomically(folder / SPEC_FILE, lambda path: path.write_text(text, encoding="utf-8"))

    _check_export(model, folder, vec_normalize)
    return folder


def describe_policy(policy: Any) -> dict[str, Any]:
    """The ``policy_class``, ``policy_kwargs`` and spaces of ``policy`` as JSON data.

    :param policy: an SB3 policy of an exportable class
    :raises ValueError: for a class, argument or space that cannot be exported
    """
    name = name_of(type(policy), POLICIES, "policy class")
    kwargs = policy._get_constructor_parameters()
    if hasattr(policy, "share_features_extractor"):  # not among SB3's saved arguments
        kwargs["share_features_extractor"] = policy.share_features_extractor
    for key in _TRAINING_ONLY:
        kwargs.pop(key, None)
    if name.startswith("Fixup"):
        kwargs.pop("net_arch", None)  # SB3's default, which the Fixup policies do not use
    return {
        "policy_class": name,
        "policy_kwargs": encode_kwargs(policy_keys(POLICIES[name]), kwargs),
        "observation_space": encode_space(policy.observation_space, "observation space"),
        "action_space": encode_space(policy.action_space, "action space"),
    }


def _normalization(vec_normalize: VecNormalize | None, observation_space: Any) -> Any:
    if vec_normalize is None:
        return None
    if not isinstance(vec_normalize, VecNormalize):
        raise ValueError(
            f"vec_normalize must be a VecNormalize wrapper or None, got {vec_normalize!r}"
        )
    statistics = ObservationNormalization.from_vec_normalize(vec_normalize, observation_space)
    return None if statistics is None else statistics.to_json()


def _default_description(model: BaseAlgorithm) -> dict[str, Any]:
    import fixup_rl

    return {
        "algo": type(model).__name__.lower(),
        "num_timesteps": int(model.num_timesteps),
        "squash_output": bool(model.policy.squash_output),
        "versions": {
            "fixup_rl": fixup_rl.__version__,
            "stable_baselines3": stable_baselines3.__version__,
            "torch": torch.__version__,
        },
    }


def _claim(folder: Path, force: bool) -> None:
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"cannot export into {folder}: it is a file, not a folder")
    if folder.is_dir():
        names = {path.name for path in folder.iterdir()}
        if names - {SPEC_FILE, WEIGHTS_FILE}:
            raise ValueError(
                f"cannot export into {folder}: it holds other files than {SPEC_FILE} and "
                f"{WEIGHTS_FILE}; choose an empty or new folder"
            )
        if names and not force:
            raise ValueError(
                f"{folder} already holds an export; pass force=True (--force) to replace it"
            )
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ValueError(f"cannot export into {folder}: {error.strerror or error}") from error


def _write_atomically(path: Path, write: Any) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        write(temporary)
        os.replace(temporary, path)
    finally:
        if temporary.exists():
            temporary.unlink()


def _check_export(model: BaseAlgorithm, folder: Path, vec_normalize: VecNormalize | None) -> None:
    # The export must act as the model does; a difference is a bug of the exporter.
    space = copy.deepcopy(model.observation_space)
    space.seed(0)
    observations = np.stack([space.sample() for _ in range(_CHECK_SAMPLES)])
    fed = observations
    if vec_normalize is not None and vec_normalize.norm_obs:
        fed = vec_normalize.normalize_obs(observations)
    expected, _ = model.predict(fed, deterministic=True)
    actual, _ = load_policy(folder).predict(observations, deterministic=True)
    if not np.array_equal(expected, actual):
        for name in (SPEC_FILE, WEIGHTS_FILE):
            (folder / name).unlink()
        raise RuntimeError(
            f"the export in {folder} does not act like the model (largest difference "
            f"{np.abs(expected - actual).max()}); its files were removed. Please report this bug."
        )
