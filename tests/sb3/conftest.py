"""Small environments for the SB3 integration tests: images, Dict observations, float64."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces


class ImageTargetEnv(gym.Env):
    """A 24x24 channel-last uint8 image with a bright square; reward for pushing toward it."""

    def __init__(self, discrete: bool = False) -> None:
        self.observation_space = spaces.Box(0, 255, (24, 24, 3), dtype=np.uint8)
        if discrete:
            self.action_space: spaces.Space = spaces.Discrete(3)
        else:
            self.action_space = spaces.Box(-1.0, 1.0, (2,), dtype=np.float32)
        self._steps = 0

    def _obs(self) -> np.ndarray:
        image = np.zeros((24, 24, 3), dtype=np.uint8)
        row, col = self._target
        image[row : row + 4, col : col + 4] = 255
        return image

    def reset(self, *, seed: int | None = None, options: Any = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        self._target = tuple(self.np_random.integers(0, 20, size=2))
        self._steps = 0
        return self._obs(), {}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        self._steps += 1
        reward = float(-np.abs(np.asarray(action, dtype=np.float64)).sum())
        return self._obs(), reward, False, self._steps >= 20, {}


class DictEnv(gym.Env):
    """A Dict observation with a vector, a Discrete and an image key; continuous actions."""

    def __init__(self) -> None:
        self.observation_space = spaces.Dict(
            {
                "state": spaces.Box(-1.0, 1.0, (3,), dtype=np.float32),
                "mode": spaces.Discrete(4),
                "camera": spaces.Box(0, 255, (3, 16, 16), dtype=np.uint8),
            }
        )
        self.action_space = spaces.Box(-1.0, 1.0, (2,), dtype=np.float32)
        self._steps = 0

    def reset(self, *, seed: int | None = None, options: Any = None) -> tuple[dict, dict]:
        super().reset(seed=seed)
        self._steps = 0
        return self.observation_space.sample(), {}

    def step(self, action: Any) -> tuple[dict, float, bool, bool, dict]:
        self._steps += 1
        reward = float(-np.square(action).sum())
        return self.observation_space.sample(), reward, False, self._steps >= 20, {}


class Float64Env(gym.Env):
    """A point that moves with the action; float64 observations."""

    observation_space = spaces.Box(-10.0, 10.0, (4,), dtype=np.float64)
    action_space = spaces.Box(-1.0, 1.0, (2,), dtype=np.float32)

    def reset(self, *, seed: int | None = None, options: Any = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        self._state = self.np_random.uniform(-1, 1, size=4)
        self._steps = 0
        return self._state.copy(), {}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        self._steps += 1
        self._state[:2] += 0.1 * np.asarray(action, dtype=np.float64)
        reward = float(-np.square(self._state[:2]).sum())
        return self._state.copy(), reward, False, self._steps >= 20, {}


@pytest.fixture
def image_env() -> gym.Env:
    return ImageTargetEnv()


@pytest.fixture
def dict_env() -> gym.Env:
    return DictEnv()


@pytest.fixture
def float64_env() -> gym.Env:
    return Float64Env()
