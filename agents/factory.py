"""Building SB3 agents and their environments from a resolved configuration."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import numpy as np
from stable_baselines3 import A2C, PPO, SAC, TD3
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.noise import (
    ActionNoise,
    NormalActionNoise,
    OrnsteinUhlenbeckActionNoise,
)
from stable_baselines3.common.utils import LinearSchedule
from stable_baselines3.common.vec_env import VecEnv

from fixup_rl.agents.config import resolve_config
from fixup_rl.agents.schema import ACTIVATIONS
from fixup_rl.envs import make_vec_env
from fixup_rl.sb3 import FixupActorCriticPolicy, FixupMlpExtractor, FixupSACPolicy, FixupTD3Policy

_POLICIES: dict[str, Any] = {
    "MlpPolicy": "MlpPolicy",
    "FixupActorCriticPolicy": FixupActorCriticPolicy,
    "FixupSACPolicy": FixupSACPolicy,
    "FixupTD3Policy": FixupTD3Policy,
}
_EXTRACTORS = {"FixupMlpExtractor": FixupMlpExtractor}
_SCHEDULED = ("learning_rate", "clip_range", "clip_range_vf")


def algo_class(algo: str) -> type[BaseAlgorithm]:
    """Return the SB3 class of ``algo`` (TQC comes from sb3-contrib).

    :param algo: one of :data:`~fixup_rl.agents.ALGOS`
    :return: the algorithm class
    :raises ModuleNotFoundError: for ``"tqc"`` when sb3-contrib is not installed
    """
    classes = {"ppo": PPO, "a2c": A2C, "sac": SAC, "td3": TD3}
    if algo in classes:
        return classes[algo]
    assert algo == "tqc", algo
    try:
        return importlib.import_module("sb3_contrib").TQC
    except ModuleNotFoundError as error:
        raise ModuleNotFoundError(
            'tqc comes from sb3-contrib, which is not installed; run `pip install "sb3-contrib"`'
        ) from error


def make_env(
    config: dict[str, Any],
    n_envs: int | None = None,
    seed: int | None = None,
    for_eval: bool = False,
) -> VecEnv:
    """Build the vectorized env of a resolved configuration.

    :param config: a configuration from :func:`~fixup_rl.agents.resolve_config`
    :param n_envs: copies of the env; ``config["n_envs"]`` when ``None``
    :param seed: the seed of the first copy; ``config["seed"]`` when ``None``
    :param for_eval: build an evaluation env: with ``VecNormalize``, its statistics are
        frozen (``training=False``) and rewards are not normalized, so returns are the env's
    :return: the ``VecEnv``, wrapped in ``VecNormalize`` when ``config["normalize"]`` is set
    """
    normalize = config["normalize"]
    env = make_vec_env(
        config["env_id"],
        n_envs=config["n_envs"] if n_envs is None else n_envs,
        seed=config["seed"] if seed is None else seed,
        normalize=bool(normalize),
        norm_obs=bool(normalize) and normalize["norm_obs"],
        norm_reward=bool(normalize) and normalize["norm_reward"] and not for_eval,
        gamma=config["hyperparams"].get("gamma", 0.99),
    )
    if for_eval and normalize:
        env.training = False
    return env


def build_agent(config: dict[str, Any]) -> tuple[BaseAlgorithm, VecEnv]:
    """Build the SB3 model and its training env from a resolved configuration.

    :param config: a configuration from :func:`~fixup_rl.agents.resolve_config`
    :return: the model and its env (a ``VecNormalize`` when ``config["normalize"]`` is set)
    """
    env = make_env(config)
    hyperparams = _sb3_hyperparams(config["hyperparams"], env)
    model = algo_class(config["algo"])(
        _POLICIES[config["policy"]],
        env,
        policy_kwargs=_sb3_policy_kwargs(config["policy_kwargs"]),
        seed=config["seed"],
        device=config["device"],
        verbose=config["verbose"],
        tensorboard_log=config["tensorboard_log"],
        **hyperparams,
    )
    return model, env


def make_agent(
    algo: str, env_id: str, *, recipes_dir: str | Path | None = None, **overrides: Any
) -> tuple[BaseAlgorithm, VecEnv]:
    """Build an SB3 agent for ``env_id`` from ``algo``'s recipe, with Fixup networks by default.

    ``make_agent("ppo", "Pendulum-v1")`` is PPO with the recipe's hyperparameters and a Fixup
    network of the recipe's depth and width; ``net="mlp"`` gives SB3's ``MlpPolicy`` of the
    same number of layers instead (see :mod:`fixup_rl.agents.config`).

    :param algo: one of :data:`~fixup_rl.agents.ALGOS`
    :param env_id: an id accepted by :func:`~fixup_rl.envs.check_env_id`
    :param recipes_dir: the folder holding the recipe files; ``None`` for the shipped ones
    :param overrides: as for :func:`~fixup_rl.agents.resolve_config`
    :return: the model and its env (a ``VecNormalize`` when the recipe normalizes)
    :raises ValueError: as :func:`~fixup_rl.agents.resolve_config`
    """
    return build_agent(resolve_config(algo, env_id, recipes_dir=recipes_dir, **overrides))


def _sb3_hyperparams(hyperparams: dict[str, Any], env: VecEnv) -> dict[str, Any]:
    built = dict(hyperparams)
    for key in _SCHEDULED:
        if isinstance(built.get(key), dict):
            schedule = built[key]
            built[key] = LinearSchedule(schedule["initial"], schedule["final"], 1.0)
    if isinstance(built.get("train_freq"), dict):
        built["train_freq"] = (built["train_freq"]["every"], built["train_freq"]["unit"])
    if built.get("action_noise") is not None:
        built["action_noise"] = _action_noise(built["action_noise"], env)
    return built


def _action_noise(noise: dict[str, Any], env: VecEnv) -> ActionNoise:
    shape = env.action_space.shape
    assert shape is not None, "action noise needs a Box action space"
    mean, sigma = np.zeros(shape), noise["std"] * np.ones(shape)
    if noise["type"] == "normal":
        return NormalActionNoise(mean, sigma)
    return OrnsteinUhlenbeckActionNoise(mean, sigma)


def _sb3_policy_kwargs(policy_kwargs: dict[str, Any]) -> dict[str, Any]:
    built = dict(policy_kwargs)
    if "activation_fn" in built:  # absent: the policy's own default
        built["activation_fn"] = ACTIVATIONS[built["activation_fn"]]
    if "features_extractor_class" in built:
        built["features_extractor_class"] = _EXTRACTORS[built["features_extractor_class"]]
        extractor = dict(built["features_extractor_kwargs"])
        extractor["activation_fn"] = ACTIVATIONS[extractor["activation_fn"]]
        built["features_extractor_kwargs"] = extractor
    return built
