"""Fixtures shared by the CLI tests: running ``fixup-rl``, and one trained run to inspect."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import torch

from fixup_rl.cli import main

# A PPO run small enough to finish in seconds, with every kind of output: normalization,
# evaluations every 64 steps and checkpoints every 128.
TINY_RUN = shlex.split(
    "train --algo ppo --env Pendulum-v1 --width 16 --depth 1 --timesteps 256 --n-envs 1 "
    "--set n_steps=64 --set batch_size=32 --set n_epochs=1"
)
TRAIN_ARGS = [
    *TINY_RUN,
    *shlex.split("--normalize --eval-freq 64 --eval-episodes 2 --checkpoint-freq 128"),
]
# Tiny networks run fastest on one thread; on a busy machine two waiting threads are slow.
SUBPROCESS_ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``python -m fixup_rl.cli ARGS`` in ``cwd`` and return what it did."""
    return subprocess.run(
        [sys.executable, "-m", "fixup_rl.cli", *args],
        cwd=cwd,
        env=SUBPROCESS_ENV,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(autouse=True)
def _one_torch_thread() -> Iterator[None]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def cli(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Callable[..., tuple[int, str, str]]:
    """Run ``fixup-rl ARGS`` in this process, from ``tmp_path``; return (status, stdout, stderr)."""
    monkeypatch.chdir(tmp_path)

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        status = main(list(args))
        out, err = capsys.readouterr()
        return status, out, err

    return run


@pytest.fixture
def cli_process(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run ``python -m fixup_rl.cli ARGS`` in a subprocess, from ``tmp_path``."""
    return lambda *args: run_cli(*args, cwd=tmp_path)


@pytest.fixture
def tiny_run() -> list[str]:
    """``train`` arguments for a PPO run of 256 steps, without evaluations or checkpoints."""
    return [*TINY_RUN, "--eval-freq", "0", "--checkpoint-freq", "0", "--eval-episodes", "1"]


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess]:
    """The run folder of one ``fixup-rl train`` subprocess (see ``TRAIN_ARGS``), and the process."""
    out = tmp_path_factory.mktemp("runs")
    done = run_cli(*TRAIN_ARGS, "--out", str(out), "--name", "tiny", cwd=out)
    assert done.returncode == 0, done.stderr
    return out / "tiny", done
