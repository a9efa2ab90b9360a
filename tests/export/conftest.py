"""Models that act like trained ones, for the export tests: every weight and statistic moved."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.vec_env import DummyVecEnv, VecEnv, VecNormalize
from torch import nn


@pytest.fixture(autouse=True)
def _one_torch_thread() -> Iterator[None]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _as_if_trained(model: BaseAlgorithm, env: VecEnv, seed: int = 0) -> None:
    """Move every weight and running statistic of ``model`` and ``env`` away from its init.

    Fixup's zero-initialized heads make a fresh policy answer every observation alike, so an
    export that lost a weight would still "act exactly like the original". Here every
    parameter gets noise, BatchNorm statistics get non-default values, and VecNormalize gets
    observation statistics from a few random steps.
    """
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for param in model.policy.parameters():
            std = 0.5 / math.sqrt(param[0].numel()) if param.dim() >= 2 else 0.1
            param.add_(torch.randn(param.shape, generator=generator) * std)
        for module in model.policy.modules():
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                module.running_mean.normal_(0.0, 0.3, generator=generator)
                module.running_var.uniform_(0.5, 2.0, generator=generator)

    if isinstance(env, VecNormalize):
        env.reset()
        for _ in range(25):
            env.step(np.stack([env.action_space.sample() for _ in range(env.num_envs)]))


def _sample_observations(env: VecEnv, count: int = 64, seed: int = 1) -> np.ndarray:
    """``count`` raw observations drawn from ``env``'s observation space."""
    space = env.observation_space
    space.seed(seed)
    return np.stack([space.sample() for _ in range(count)])


def _rollout_observations(env_id: str, count: int = 64, seed: int = 1) -> np.ndarray:
    """``count`` raw observations met by random actions in ``env_id``, from its first reset."""
    env = gym.make(env_id)
    env.action_space.seed(seed)
    observation, _ = env.reset(seed=seed)
    observations = []
    while len(observations) < count:
        observations.append(observation)
        observation, _, terminated, truncated, _ = env.step(env.action_space.sample())
        if terminated or truncated:
            observation, _ = env.reset()
    env.close()
    return np.stack(observations)


class SpacesEnv(gym.Env):
    """An env of any observation and action spaces: random observations, zero reward."""

    def __init__(self, observation_space: gym.Space, action_space: gym.Space) -> None:
        self.observation_space = observation_space
        self.action_space = action_space
        self._steps = 0

    def reset(self, *, seed: int | None = None, options: Any = None) -> tuple[Any, dict]:
        super().reset(seed=seed)
        self.observation_space.seed(seed)
        self._steps = 0
        return self.observation_space.sample(), {}

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict]:
        self._steps += 1
        return self.observation_space.sample(), 0.0, False, self._steps >= 8, {}


@pytest.fixture
def as_if_trained() -> Callable[..., None]:
    """The function that moves a model's weights and statistics (see ``_as_if_trained``)."""
    return _as_if_trained


@pytest.fixture
def sample_observations() -> Callable[..., np.ndarray]:
    """The function that samples observations from an env's space (``_sample_observations``)."""
    return _sample_observations


@pytest.fixture
def rollout_observations() -> Callable[..., np.ndarray]:
    """The function that collects an env's observations (see ``_rollout_observations``)."""
    return _rollout_observations


@pytest.fixture
def spaces_env() -> Callable[[gym.Space, gym.Space], DummyVecEnv]:
    """Build a one-copy ``DummyVecEnv`` of :class:`SpacesEnv` with the given spaces."""
    return lambda observation_space, action_space: DummyVecEnv(
        [lambda: SpacesEnv(observation_space, action_space)]
    )
