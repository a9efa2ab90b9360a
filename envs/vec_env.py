"""Vectorized environments for the catalogue's tasks, built on SB3's ``make_vec_env``."""

from __future__ import annotations

import functools
import numbers
import os
from typing import Any

import gymnasium as gym
from stable_baselines3.common.env_util import make_vec_env as sb3_make_vec_env
from stable_baselines3.common.vec_env import VecEnv, VecNormalize

from fixup_rl._validation import check_int, check_optional_mapping
from fixup_rl.envs.catalogue import check_env_id

# Set through make_vec_env's own arguments so they cannot disagree with `normalize`.
_RESERVED_NORMALIZE_KEYS = ("venv", "norm_obs", "norm_reward", "gamma")


def make_vec_env(
    env_id: str,
    n_envs: int = 1,
    seed: int | None = None,
    vec_env_cls: type[VecEnv] | None = None,
    normalize: bool = False,
    norm_obs: bool = True,
    norm_reward: bool = True,
    gamma: float = 0.99,
    env_kwargs: dict[str, Any] | None = None,
    vec_env_kwargs: dict[str, Any] | None = None,
    normalize_kwargs: dict[str, Any] | None = None,
    monitor_dir: str | None = None,
) -> VecEnv:
    """Build ``n_envs`` copies of a catalogue task as one SB3 ``VecEnv``.

    Each copy is made with ``gymnasium.make`` and wrapped in SB3's ``Monitor`` (episode
    returns and lengths in ``info["episode"]``). Copy ``i`` is seeded with ``seed + i`` at its
    first reset, so with a randomized id every copy runs its own physics.

    Unlike SB3's ``make_vec_env`` with a string id, no ``render_mode`` is set unless
    ``env_kwargs`` asks for one, so the envs stay headless.

    **Which VecEnv.** The default ``DummyVecEnv`` steps the copies one after another in this
    process; it is the faster choice for cheap steps (classic control, a few MuJoCo envs),
    where sending actions and observations between processes would cost more than the
    physics. ``SubprocVecEnv`` runs each copy in its own process and pays off when steps are
    expensive and there are several copies to run at once, e.g. 8 or more Ant, Humanoid or
    randomized MuJoCo envs on a machine with as many cores.

    :param env_id: a versioned id accepted by :func:`~fixup_rl.envs.check_env_id`, e.g.
        ``"HalfCheetah-v5"`` or ``"fixup_rl/HopperRandomized-v0"``
    :param n_envs: the number of copies (>= 1)
    :param seed: the seed of copy 0 (copy ``i`` gets ``seed + i``); ``None`` draws fresh seeds
    :param vec_env_cls: the ``VecEnv`` class, e.g. ``SubprocVecEnv``; ``None`` for
        ``DummyVecEnv``
    :param normalize: wrap the result in SB3's ``VecNormalize`` (running mean and variance of
        observations and of discounted returns)
    :param norm_obs: with ``normalize``, normalize observations
    :param norm_reward: with ``normalize``, scale rewards by the running std of the return
    :param gamma: with ``normalize``, the discount of that return; use the agent's own gamma
    :param env_kwargs: keyword arguments for ``gymnasium.make``, e.g. ``{"mass_range": (0.5,
        1.5)}`` for a randomized id or ``{"render_mode": "rgb_array"}``
    :param vec_env_kwargs: keyword arguments for ``vec_env_cls``, e.g.
        ``{"start_method": "spawn"}`` for ``SubprocVecEnv``
    :param normalize_kwargs: further keyword arguments for ``VecNormalize``, e.g.
        ``{"clip_obs": 10.0}``; needs ``normalize=True``
    :param monitor_dir: folder for the ``Monitor`` CSV logs; ``None`` writes no file
    :return: the ``VecEnv``, a ``VecNormalize`` when ``normalize`` is set
    """
    check_env_id(env_id)
    n_envs = check_int("n_envs", n_envs, minimum=1)
    if seed is not None:
        seed = check_int("seed", seed, minimum=0)
    _check_vec_env_cls(vec_env_cls)
    flags = {"normalize": normalize, "norm_obs": norm_obs, "norm_reward": norm_reward}
    for name, flag in flags.items():
        if not isinstance(flag, bool):
            raise ValueError(f"{name} must be True or False, got {flag!r}")
    gamma = _check_gamma(gamma)
    normalize_kwargs = _check_normalize_kwargs(normalize, normalize_kwargs)
    env_kwargs = check_optional_mapping("env_kwargs", env_kwargs)
    vec_env_kwargs = check_optional_mapping("vec_env_kwargs", vec_env_kwargs)
    if monitor_dir is not None and not isinstance(monitor_dir, (str, os.PathLike)):
        raise ValueError(f"monitor_dir must be a folder path or None, got {monitor_dir!r}")

    # A module-level builder, pickled by reference: a subprocess that unpickles it imports
    # fixup_rl.envs, which registers our randomized ids there too.
    vec_env = sb3_make_vec_env(
        functools.partial(_make_env, env_id),
        n_envs=n_envs,
        seed=seed,
        env_kwargs=env_kwargs,
        vec_env_cls=vec_env_cls,
        vec_env_kwargs=vec_env_kwargs,
        monitor_dir=monitor_dir,
    )

    if normalize:
        vec_env = VecNormalize(
            vec_env, norm_obs=norm_obs, norm_reward=norm_reward, gamma=gamma, **normalize_kwargs
        )
    return vec_env


def _make_env(env_id: str, **kwargs: Any) -> gym.Env:
    return gym.make(env_id, **kwargs)


def _check_vec_env_cls(vec_env_cls: Any) -> None:
    if vec_env_cls is None:
        return
    if not (isinstance(vec_env_cls, type) and issubclass(vec_env_cls, VecEnv)):
        raise ValueError(
            "vec_env_cls must be None or a VecEnv class such as DummyVecEnv or SubprocVecEnv "
            f"(the class, not an instance), got {vec_env_cls!r}"
        )
    if issubclass(vec_env_cls, VecNormalize):
        raise ValueError(
            "vec_env_cls must build the copies (DummyVecEnv, SubprocVecEnv), got VecNormalize; "
            "pass normalize=True instead"
        )


def _check_gamma(gamma: Any) -> float:
    if isinstance(gamma, bool) or not isinstance(gamma, numbers.Real) or not 0 <= gamma <= 1:
        raise ValueError(f"gamma must be a number in [0, 1], got {gamma!r}")
    return float(gamma)


def _check_normalize_kwargs(normalize: bool, normalize_kwargs: Any) -> dict[str, Any]:
    if normalize_kwargs is None:
        return {}
    if not isinstance(normalize_kwargs, dict):
        raise ValueError(f"normalize_kwargs must be a dict or None, got {normalize_kwargs!r}")
    if normalize_kwargs and not normalize:
        raise ValueError(
            f"normalize_kwargs={normalize_kwargs!r} was given but normalize is False; "
            "pass normalize=True to wrap the envs in VecNormalize"
        )
    reserved = sorted(set(normalize_kwargs) & set(_RESERVED_NORMALIZE_KEYS))
    if reserved:
        raise ValueError(
            f"normalize_kwargs must not set {', '.join(reserved)}; pass "
            "norm_obs, norm_reward and gamma as arguments of make_vec_env"
        )
    return dict(normalize_kwargs)
