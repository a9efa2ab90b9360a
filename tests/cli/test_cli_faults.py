"""``fixup-rl train`` when updates or envs come out non-finite: one line and exit status 1."""

from __future__ import annotations

import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym
import pytest
from stable_baselines3 import PPO
from stable_baselines3.common.vec_env import DummyVecEnv

from fixup_rl.agents import build_agent
from fixup_rl.cli import train as train_command
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


class NanRewardPendulum(gym.Wrapper):
    """Pendulum-v1 whose third step of every episode returns a NaN reward."""

    def __init__(self) -> None:
        super().__init__(gym.make("Pendulum-v1"))
        self.t = 0

    def reset(self, **kwargs: Any) -> tuple[Any, dict]:
        self.t = 0
        return self.env.reset(**kwargs)

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict]:
        observation, reward, terminated, truncated, info = self.env.step(action)
        self.t += 1
        return observation, float("nan") if self.t == 3 else reward, terminated, truncated, info


TINY = shlex.split(
    "train --algo ppo --env Pendulum-v1 --width 16 --depth 1 --timesteps 128 --n-envs 1 "
    "--set n_steps=64 --set batch_size=32 --set n_epochs=1 --no-normalize --eval-freq 0 "
    "--checkpoint-freq 0 --eval-episodes 1 --name faulty"
)


def test_an_env_returning_nan_while_training_stops_with_one_line(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    def faulty_agent(config: dict[str, Any]) -> tuple[Any, Any]:
        model, _ = build_agent(config)
        envs = DummyVecEnv([NanRewardPendulum])
        model.set_env(envs)
        return model, envs

    monkeypatch.setattr(train_command, "build_agent", faulty_agent)
    status, _, err = cli(*TINY)

    assert status == 1
    assert err.count("\n") == 1, err
    assert err.startswith("fixup-rl train: error: ")
    assert "env 0" in err and "step 3" in err and "reward" in err
    assert not Path("runs/faulty/model.zip").exists()


def test_an_eval_env_returning_nan_is_one_line_after_the_model_is_saved(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        train_command, "make_env", lambda config, **kwargs: DummyVecEnv([NanRewardPendulum])
    )
    status, _, err = cli(*TINY)

    assert status == 1
    assert err.count("\n") == 1, err
    assert "reward" in err and "the final evaluation was not" in err
    assert Path("runs/faulty/model.zip").is_file()
    assert not Path("runs/faulty/final_evaluation.json").exists()
