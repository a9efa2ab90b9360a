"""Fixtures shared by the sweep tests: tiny sweep files, and ``fixup-rl sweep`` subprocesses."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

# PPO runs of a few hundred steps on one env, with a tiny network: seconds each.
TINY_PARAMS: dict[str, Any] = {
    "algo": "ppo",
    "env": "Pendulum-v1",
    "width": 16,
    "n_envs": 1,
    "n_timesteps": 256,
    "n_steps": 64,
    "batch_size": 32,
    "n_epochs": 1,
}
TINY_SWEEP: dict[str, Any] = {
    "params": {**TINY_PARAMS, "depth": {"grid": [1, 2]}, "seed": {"grid": [0, 1]}},
    "evaluation": {"every": 128, "episodes": 1},
}

# One thread per process on a busy machine; Tune's warning about frequent checkpoints is about
# real sweeps, not about trials of a few seconds.
QUIET_ENV = {
    "OMP_NUM_THREADS": "1",
    "TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S": "0",
}


@pytest.fixture
def tiny_sweep() -> Callable[..., dict[str, Any]]:
    """Return the 2 × 2 tiny sweep (depth × seed) as sweep-file data, top-level keys changed."""
    return lambda **changes: {**copy.deepcopy(TINY_SWEEP), **changes}


@pytest.fixture
def tiny_params() -> dict[str, Any]:
    """The fixed parameters of the tiny sweep: PPO on Pendulum-v1, a few hundred steps."""
    return copy.deepcopy(TINY_PARAMS)


@pytest.fixture
def write_sweep(tmp_path: Path) -> Callable[..., Path]:
    """Write sweep-file data (or text) to ``tmp_path/<name>.yaml`` and return the path."""

    def write(data: Any, name: str = "sweep") -> Path:
        path = tmp_path / f"{name}.yaml"
        text = data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False)
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def sweep_process(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run ``fixup-rl sweep ARGS`` in a subprocess from ``tmp_path``; ``env``: more variables."""

    def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            _command(*args),
            cwd=tmp_path,
            env={**os.environ, **QUIET_ENV, **(env or {})},
            capture_output=True,
            text=True,
            timeout=300,
        )

    return run


@pytest.fixture
def start_sweep(tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen[str]]]:
    """Start ``fixup-rl sweep ARGS`` in a subprocess from ``tmp_path``, killed if still running
    when the test ends; its output goes to ``tmp_path/sweep.log``."""
    started: list[subprocess.Popen[str]] = []

    def start(*args: str) -> subprocess.Popen[str]:
        log = open(tmp_path / "sweep.log", "w", encoding="utf-8")  # noqa: SIM115 - child's
        process = subprocess.Popen(
            _command(*args),
            cwd=tmp_path,
            env={**os.environ, **QUIET_ENV},
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        log.close()  # the child holds its own copy
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=60)


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "fixup_rl.cli", "sweep", *args]
