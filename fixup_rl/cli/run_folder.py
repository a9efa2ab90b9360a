"""The run folder: what ``fixup-rl train`` writes and ``fixup-rl eval`` reads.

::

    <out>/<algo>-<env>-<net>-s<seed>-<YYYYmmdd-HHMMSS>/
        config.yaml              the resolved configuration (fixup_rl.agents.resolve_config)
        model.zip                the final model
        vecnormalize.pkl         its VecNormalize statistics (normalized envs only)
        final_evaluation.json    the evaluation of the final model, made at the end of training
        evaluations.npz          the periodic evaluations (SB3's EvalCallback format)
        best_model.zip           the best model of those evaluations
        best_vecnormalize.pkl    its statistics (normalized envs only)
        checkpoints/             one checkpoint per --checkpoint-freq steps and one at the end:
            model_<S>_steps.zip                 the model and its optimizers' states
            model_vecnormalize_<S>_steps.pkl    VecNormalize statistics (normalized envs)
            model_replay_buffer_<S>_steps.pkl   replay buffer (SAC, TD3, TQC; latest only)
            model_state_<S>_steps.json          step counters, generator states, file sizes
                                                and SHA-256, train options; written last
        tensorboard/<algo>_1/    TensorBoard event files
        .train.lock              locked while a process trains into the folder

Every file is written atomically (a temporary ``.partial-*`` file in the same folder, flushed
with fsync, then renamed over the old one), so a run killed at any moment leaves complete
files. ``fixup-rl train --resume RUN_DIR`` continues such a run from its latest checkpoint
(:mod:`fixup_rl.cli.resume`): the steps after it are trained again, their TensorBoard events
and evaluations are removed first, so no step is logged twice.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import time
from pathlib import Path
from typing import IO, Any

import yaml

from fixup_rl.agents.recipes import check_algo, check_value
from fixup_rl.agents.schema import ENTRY_KEYS, RUN_KEYS
from fixup_rl.envs import check_env_id
from fixup_rl.reliability.atomic import atomic_write_text

try:
    import fcntl
except ImportError:  # Windows: runs are not locked
    fcntl = None

CONFIG = "config.yaml"
MODEL = "model.zip"
STATS = "vecnormalize.pkl"
FINAL_EVALUATION = "final_evaluation.json"
CHECKPOINTS = "checkpoints"
TENSORBOARD = "tensorboard"
LOCK = ".train.lock"

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
    lock_run_dir(run_dir).close()  # raises while another process trains into it
    shutil.rmtree(run_dir)


def lock_run_dir(run_dir: Path) -> IO[bytes]:
    """Lock ``run_dir`` for this process, which trains into it until it closes the lock.

    The lock is an exclusive ``flock`` on ``run_dir/.train.lock``; the system releases it when
    the process ends, even by SIGKILL, so a killed run can be resumed at once. On systems
    without ``fcntl`` (Windows) the file is opened but nothing is locked.

    :param run_dir: an existing run folder
    :return: the open lock file; keep it open while training
    :raises ValueError: when another process holds the lock
    """
    file = open(run_dir / LOCK, "a+b")  # noqa: SIM115 - held open for the whole run
    if fcntl is None:
        return file
    try:
        fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as error:
        file.close()
        raise ValueError(
            f"{run_dir} is being trained by another process right now; wait for it to end or "
            "stop it first"
        ) from error
    return file


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
        atomic_write_text(run_dir / CONFIG, yaml.safe_dump(config, sort_keys=False))
    except OSError as error:
        reason = error.strerror or str(error)
        raise ValueError(f"cannot write the run folder {run_dir}: {reason}; check --out") from error


def read_config(run_dir: Path, require_model: bool = True) -> dict[str, Any]:
    """Return the configuration of a run folder, after checking the folder holds a run.

    :param run_dir: the run folder
    :param require_model: also require the final ``model.zip`` (a finished run)
    :raises ValueError: when the folder, its ``config.yaml`` or (with ``require_model``) its
        ``model.zip`` is missing, or ``config.yaml`` is not a configuration written by
        ``fixup-rl train``
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
    if require_model and not (run_dir / MODEL).is_file():
        raise ValueError(
            f"{run_dir} holds no {MODEL}: the run did not finish, or the file was removed"
        )
    return config
