"""The run folder: what ``fixup-rl train`` writes and ``fixup-rl eval`` reads.

::

    <out>/<algo>-<env>-<net>-s<seed>-<YYYYmmdd-HHMMSS>/
        config.yaml              the resolved configuration (fixup_rl.agents.resolve_config)
        model.zip                the final model
        vecnormalize.pkl         its VecNormalize statistics (normalized envs only)
        final_evaluation.json    the evaluation of the final model, made at the end of training
        evaluations.npz          the periodic evaluations (SB3's EvalCallback)
        best_model.zip           the best model of those evaluations
        best_vecnormalize.pkl    its statistics (normalized envs only)
        checkpoints/             model_<steps>_steps.zip, model_vecnormalize_<steps>_steps.pkl
        tensorboard/<algo>_1/    TensorBoard event files
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import time
from pathlib import Path
from typing import Any

import yaml

from fixup_rl.agents.recipes import check_algo, check_value
from fixup_rl.agents.schema import ENTRY_KEYS, RUN_KEYS
from fixup_rl.envs import check_env_id

CONFIG = "config.yaml"
MODEL = "model.zip"
STATS = "vecnormalize.pkl"
FINAL_EVALUATION = "final_evaluation.json"

EVAL_SEED_OFFSET = 1000
"""Evaluation episodes are seeded with the run's seed plus this, so they start from other
states than the training envs (seeded ``seed``, ``seed + 1``, ...)."""


def run_name(config: dict[str, Any]) -> str:
    """Return ``<algo>-<env>-<net>-s<seed>-<YYYYmmdd-HHMMSS>``, the env id made path-safe."""
    env = re.sub(r"[^A-Za-z0-9._-]", "_", config["env_id"])
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return f"{config['algo']}-{env}-{config['net']}-s{config['seed']}-{stamp}"


def check_name(name: str) -> str:
    """An argparse type: a run folder name, one path component."""
    if not name or name in (".", "..") or "/" in name or "\\" in name:
        raise argparse.ArgumentTypeError(
            f"must be a folder name without path separators, got {name!r}; use --out for the path"
        )
    return name


def claim_run_dir(run_dir: Path, force: bool) -> None:
    """Check that ``run_dir`` may be written: new or empty, or an old run with ``force``.

    With ``force``, an existing run folder (one holding ``config.yaml``) is deleted.

    :raises ValueError: when it holds files and ``force`` is not set, or holds files but is not
        a run folder
    """
    _check_writable(run_dir)
    if not run_dir.is_dir() or not any(run_dir.iterdir()):
        return
    if not force:
        raise ValueError(
            f"the run folder {run_dir} already exists and is not empty; pass --force to replace "
            "it, or choose another --name or --out"
        )
    if not (run_dir / CONFIG).is_file():
        raise ValueError(
            f"refusing to replace {run_dir} with --force: it holds files but no {CONFIG}, so it "
            "is not a fixup-rl run folder"
        )
    shutil.rmtree(run_dir)


def _check_writable(run_dir: Path) -> None:
    # Fail before the model is built: the nearest existing folder must be a writable folder.
    existing = run_dir
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise ValueError(
            f"cannot write the run folder {run_dir}: {existing} is a file, not a folder; "
            "check --out and --name"
        )
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ValueError(f"cannot write the run folder {run_dir}: {existing} is not writable")


def create_run_dir(run_dir: Path, config: dict[str, Any]) -> None:
    """Create ``run_dir`` and write ``config.yaml`` into it.

    :raises ValueError: when the folder or the file cannot be written
    """
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / CONFIG).write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    except OSError as error:
        reason = error.strerror or str(error)
        raise ValueError(f"cannot write the run folder {run_dir}: {reason}; check --out") from error


def read_config(run_dir: Path) -> dict[str, Any]:
    """Return the configuration of a run folder, after checking the folder holds a run.

    :raises ValueError: when the folder, its ``config.yaml`` or its ``model.zip`` is missing,
        or ``config.yaml`` is not a configuration written by ``fixup-rl train``
    """
    if not run_dir.is_dir():
        raise ValueError(f"the run folder {run_dir} does not exist or is not a folder")
    path = run_dir / CONFIG
    if not path.is_file():
        raise ValueError(f"{run_dir} is not a fixup-rl run folder: {CONFIG} is missing")
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise ValueError(f"{path} cannot be read as YAML ({type(error).__name__})") from error

    required = ("algo", "env_id", "net", "seed", "normalize", "hyperparams", "device")
    if not isinstance(config, dict) or any(key not in config for key in required):
        raise ValueError(
            f"{path} is not a fixup-rl run configuration: it must be a mapping with the keys "
            f"{', '.join(required)}"
        )
    where = f"{path}"
    check_algo(config["algo"])
    check_env_id(config["env_id"])
    for key, kinds in (("seed", RUN_KEYS), ("device", RUN_KEYS), ("normalize", ENTRY_KEYS)):
        config[key] = check_value(kinds, key, config[key], where)
    if not (run_dir / MODEL).is_file():
        raise ValueError(
            f"{run_dir} holds no {MODEL}: the run did not finish, or the file was removed"
        )
    return config
