"""Helpers shared by the env tests: the env checker and seeded rollouts."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import fixup_rl.envs  # noqa: F401  (registers the fixup_rl/ ids)

# Soft warnings every Gymnasium MuJoCo or classic env triggers by design; anything else fails.
KNOWN_CHECKER_WARNINGS = (
    "observation space minimum value is -infinity",
    "observation space maximum value is infinity",
    "symmetric and normalized space",
    "different from the unwrapped version",
)


def run_env_checker(env: gym.Env) -> None:
    """Run Gymnasium's env checker and fail on any warning outside the known soft ones.

    The render check is skipped: it opens a window or a GL context, and the tests run headless.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env, skip_render_check=True)
    unexpected = [
        str(w.message)
        for w in caught
        if not any(k in str(w.message) for k in KNOWN_CHECKER_WARNINGS)
    ]
    assert not unexpected, unexpected


def seeded_rollout(env_id: str, seed: int, n_steps: int = 20, **kwargs: Any) -> list[Any]:
    """Everything a fresh env returns over ``n_steps`` seeded steps, resetting when an episode ends.

    Actions come from the action space seeded with ``seed``, so two calls with the same
    arguments must return identical lists.
    """
    env = gym.make(env_id, **kwargs)
    env.action_space.seed(seed)
    obs, info = env.reset(seed=seed)
    record: list[Any] = [obs, info.get("physics_scale")]

    for _ in range(n_steps):
        obs, reward, terminated, truncated, _ = env.step(env.action_space.sample())
        record += [obs, reward, terminated, truncated]
        if terminated or truncated:
            obs, info = env.reset()
            record += [obs, info.get("physics_scale")]

    env.close()
    return record


def assert_same_record(first: list[Any], second: list[Any]) -> None:
    """Assert two rollouts are identical, element by element and bit for bit."""
    assert len(first) == len(second)
    for a, b in zip(first, second, strict=True):
        if isinstance(a, dict):
            assert a.keys() == b.keys()
            for key in a:
                np.testing.assert_array_equal(a[key], b[key])
        else:
            np.testing.assert_array_equal(a, b)


@pytest.fixture(autouse=True)
def _mujoco_log_outside_the_repository(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # MuJoCo 4 appends compiler warnings (HalfCheetah's deprecated `settotalmass`) to
    # MUJOCO_LOG.TXT in the working directory; run each test from a temporary one.
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def env_checker() -> Callable[[gym.Env], None]:
    """The env checker, failing on unexpected warnings (see ``run_env_checker``)."""
    return run_env_checker


@pytest.fixture
def rollout() -> Callable[..., list[Any]]:
    """A seeded rollout of a fresh env (see ``seeded_rollout``)."""
    return seeded_rollout


@pytest.fixture
def same_record() -> Callable[[list[Any], list[Any]], None]:
    """The exact comparison of two rollouts (see ``assert_same_record``)."""
    return assert_same_record
