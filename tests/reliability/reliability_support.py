"""What the reliability tests share: tiny agents, a logger that keeps its dumps, faulty envs."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.logger import KVWriter, Logger

from fixup_rl.agents import make_agent

ALGOS = ("ppo", "a2c", "sac", "td3", "tqc")
OFF_POLICY = dict(learning_starts=32, batch_size=32, buffer_size=2_000)
# Updates start within a few dozen steps, so a learn() of a few hundred steps trains.
TINY = {
    "ppo": dict(n_steps=64, batch_size=32, n_epochs=2),
    "a2c": dict(n_steps=8),
    "sac": OFF_POLICY,
    "td3": OFF_POLICY,
    "tqc": OFF_POLICY,
}


def tiny_agent(algo: str, net: str = "fixup", **overrides: Any) -> BaseAlgorithm:
    """A model of ``algo`` on Pendulum-v1 from its recipe, with one block of width 16."""
    settings = dict(net=net, depth=1, width=16, n_envs=1, seed=0, device="cpu", normalize=False)
    model, _ = make_agent(algo, "Pendulum-v1", **{**settings, **TINY[algo], **overrides})
    return model


class Recorded(KVWriter):
    """An SB3 logger output that keeps every dumped value."""

    def __init__(self) -> None:
        self.dumps: list[dict[str, Any]] = []

    def write(self, key_values: dict[str, Any], key_excluded: Any, step: int = 0) -> None:
        self.dumps.append(dict(key_values))


def recording_logger() -> tuple[Logger, Recorded]:
    """A logger for ``model.set_logger`` and the output that keeps what it dumps."""
    output = Recorded()
    return Logger(folder=None, output_formats=[output]), output


class ScaledReward(gym.Wrapper):
    """Multiplies the env's rewards by ``factor`` (1e30 overflows every squared loss)."""

    def __init__(self, env: gym.Env, factor: float) -> None:
        super().__init__(env)
        self.factor = factor

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict]:
        observation, reward, terminated, truncated, info = self.env.step(action)
        return observation, float(reward) * self.factor, terminated, truncated, info


class FaultyEnv(gym.Env):
    """A 3-dimensional random walk that returns ``fault`` at step ``at`` of its episodes.

    :param what: ``"reward"``, ``"observation"``, ``"reset"`` (the first observation) or
        ``"terminal"`` (the last observation of an episode of ``at`` steps)
    """

    def __init__(self, what: str = "reward", at: int = 5, fault: float = np.nan) -> None:
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (3,), dtype=np.float32)
        self.action_space = gym.spaces.Box(-1.0, 1.0, (1,), dtype=np.float32)
        self.what, self.at, self.fault = what, at, fault

    def reset(self, *, seed: int | None = None, options: Any = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        self.t = 0
        observation = self.np_random.normal(size=3).astype(np.float32)
        if self.what == "reset":
            observation[1] = self.fault
        return observation, {}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        self.t += 1
        observation = self.np_random.normal(size=3).astype(np.float32)
        reward = 0.0
        hit = self.t == self.at
        if hit and self.what == "reward":
            reward = self.fault
        if hit and self.what in ("observation", "terminal"):
            observation[2] = self.fault
        terminated = self.what == "terminal" and hit
        return observation, reward, terminated, self.t >= 50, {}
