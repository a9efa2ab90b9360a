"""``fixup-rl train`` when updates keep coming out non-finite: one line, exit 1, nothing saved."""

from __future__ import annotations

import shlex
from collections.abc import Callable
from pathlib import Path

import pytest
from stable_baselines3 import PPO

from fixup_rl.reliability import check_finite_weights, latest_checkpoint

# SB3's progress bar uses tqdm's rich bar, which warns that it is experimental; SB3's explained
# variance overflows on the diverged values.
pytestmark = [
    pytest.mark.filterwarnings("ignore:rich is experimental"),
    pytest.mark.filterwarnings("ignore::RuntimeWarning"),
]

Cli = Callable[..., tuple[int, str, str]]

# Adam moves every weight by about the learning rate in its first step: 1e30 breaks the policy.
DIVERGING = shlex.split(
    "train --algo ppo --env Pendulum-v1 --width 16 --depth 1 --timesteps 1024 --n-envs 1 "
    "--set n_steps=64 --set batch_size=32 --set n_epochs=2 --set learning_rate=1.0e+30 "
    "--eval-freq 0 --checkpoint-freq 128 --max-consecutive-skips 8 --name diverged"
)


def test_updates_that_stay_non_finite_stop_training_with_one_line(cli: Cli) -> None:
    status, _, err = cli(*DIVERGING)

    assert status == 1
    assert err.count("\n") == 1, err
    assert err.startswith("fixup-rl train: error: training stopped at step ")
    assert "8 steps in a row of optimizer had a NaN gradient norm and were skipped" in err
    assert "Likely cause: a learning rate too high for this network (1e+30)" in err
    checkpoint = latest_checkpoint(Path("runs/diverged/checkpoints"))
    assert f"the latest checkpoint is at step {checkpoint.step} in runs/diverged" in err
    assert not Path("runs/diverged/model.zip").exists()
    check_finite_weights(PPO.load(checkpoint.path("model")))
