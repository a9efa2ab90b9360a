"""A VecEnv wrapper that refuses non-finite observations and rewards, naming env and step."""

from __future__ import annotations

from typing import Any

import numpy as np
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper
from stable_baselines3.common.vec_env.base_vec_env import VecEnvObs, VecEnvStepReturn

from fixup_rl._validation import check_int
from fixup_rl.reliability.errors import NonFiniteEnvError


class VecCheckFinite(VecEnvWrapper):
    """Raise :class:`~fixup_rl.reliability.NonFiniteEnvError` on a NaN or infinite value.

    Checks the observations of every reset and step (the terminal observation of a finished
    episode too) and the rewards of every step, before anything above this wrapper sees them.
    The error names the env's index, the step and what was not finite. Put it directly on the
    envs, under ``VecNormalize`` (whose running statistics a single infinity would ruin for
    good); :func:`check_env_finite` does that for an env already built.

    Unlike SB3's ``VecCheckNan`` it never lets the value through with a warning, and it does
    not check the actions, which come from the policy the optimizer guard already protects.

    :param venv: the vectorized env
    :param num_steps: the number of vector steps taken before this wrapper existed (a run
        resumed from a checkpoint), so that reported steps count from the run's start
    """

    def __init__(self, venv: VecEnv, num_steps: int = 0) -> None:
        if not isinstance(venv, VecEnv):
            raise ValueError(
                f"venv must be an SB3 VecEnv (e.g. from make_vec_env), got {type(venv).__name__}"
            )
        super().__init__(venv)
        self.num_steps = check_int("num_steps", num_steps, minimum=0)
        self.episode_steps = np.zeros(self.num_envs, dtype=np.int64)

    def reset(self) -> VecEnvObs:
        observations = self.venv.reset()
        self.episode_steps[:] = 0
        self._check_observations(observations, "observation", "at reset")
        return observations

    def step_wait(self) -> VecEnvStepReturn:
        observations, rewards, dones, infos = self.venv.step_wait()
        self.num_steps += 1
        self.episode_steps += 1

        self._check(np.asarray(rewards).reshape(self.num_envs, -1), "reward")
        for index, info in enumerate(infos):
            if dones[index] and "terminal_observation" in info:
                terminal = _batch_of_one(info["terminal_observation"])
                self._check_observations(terminal, "terminal observation", index=index)
        self.episode_steps[np.asarray(dones, dtype=bool)] = 0
        self._check_observations(observations, "observation")
        return observations, rewards, dones, infos

    def _check_observations(
        self, observations: VecEnvObs, what: str, when: str | None = None, index: int | None = None
    ) -> None:
        parts = observations.items() if isinstance(observations, dict) else [(None, observations)]
        for key, array in parts:
            label = what if key is None else f"{what}[{key!r}]"
            self._check(np.asarray(array), label, when, index)

    def _check(
        self, array: np.ndarray, what: str, when: str | None = None, index: int | None = None
    ) -> None:
        if not np.issubdtype(array.dtype, np.inexact):
            return
        rows = array.reshape(array.shape[0], -1)
        bad = np.flatnonzero(~np.isfinite(rows).all(axis=1))
        if bad.size == 0:
            return
        env = int(bad[0]) if index is None else index
        values = rows[bad[0]]
        positions = np.flatnonzero(~np.isfinite(values))
        shown = ", ".join(f"[{i}]={values[i]}" for i in positions[:4])
        more = f" and {positions.size - 4} more" if positions.size > 4 else ""
        when = when or (
            f"at step {self.num_steps} of the vec env (step {self.episode_steps[env]} of the "
            "env's episode)"
        )
        raise NonFiniteEnvError(
            f"env {env} of {self.num_envs} returned a non-finite {what} {when}: {shown}{more}; "
            "no network is trained on it. Check the env's dynamics and reward for overflow or "
            "division by zero, or bound its outputs with a wrapper"
        )


def check_env_finite(env: VecEnv) -> VecEnv:
    """Return ``env`` with a :class:`VecCheckFinite` directly above its innermost VecEnv.

    The wrapper goes under every existing ``VecEnvWrapper`` (``VecNormalize`` included), so it
    sees the envs' own values. An env that already holds one is returned unchanged.

    :param env: a VecEnv, wrapped or not
    :return: ``env`` itself when it is a wrapper (now holding the check below it), else the
        new ``VecCheckFinite`` around it
    """
    if not isinstance(env, VecEnv):
        raise ValueError(
            f"env must be an SB3 VecEnv (e.g. from make_vec_env), got {type(env).__name__}"
        )
    wrapper: Any = env
    parent = None
    while isinstance(wrapper, VecEnvWrapper):
        if isinstance(wrapper, VecCheckFinite):
            return env
        parent, wrapper = wrapper, wrapper.venv
    if parent is None:
        return VecCheckFinite(env)
    parent.venv = VecCheckFinite(wrapper)
    return env


def _batch_of_one(observation: Any) -> Any:
    if isinstance(observation, dict):
        return {key: np.asarray(value)[None] for key, value in observation.items()}
    return np.asarray(observation)[None]
