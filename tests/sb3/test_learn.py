"""Tiny real learn() runs of every algorithm with Fixup networks, on physics and toy tasks."""

from __future__ import annotations

import gymnasium as gym
import pytest
import torch
from sb3_contrib import TQC
from stable_baselines3 import A2C, PPO, SAC, TD3
from stable_baselines3.common.base_class import BaseAlgorithm

from fixup_rl import (
    FixupActorCriticCnnPolicy,
    FixupActorCriticPolicy,
    FixupMlpExtractor,
    FixupMultiInputActorCriticPolicy,
    FixupSACCnnPolicy,
    FixupSACMultiInputPolicy,
    FixupSACPolicy,
    FixupTD3MultiInputPolicy,
    FixupTD3Policy,
)
from fixup_rl.nn import FixupBlock

OFF_POLICY = dict(learning_starts=50, batch_size=32, buffer_size=2000, train_freq=4)
SMALL = dict(num_blocks=2, width=32)  # copied at each use: SB3 writes into policy_kwargs


def _tqc(env: gym.Env | str) -> BaseAlgorithm:
    # sb3-contrib's own TQC policy with a Fixup features extractor.
    extractor = dict(
        features_extractor_class=FixupMlpExtractor,
        features_extractor_kwargs=dict(features_dim=32, num_blocks=3),
        net_arch=[32],
    )
    return TQC("MlpPolicy", env, policy_kwargs=extractor, seed=0, **OFF_POLICY)


MAKERS = {
    "ppo": lambda env: PPO(
        FixupActorCriticPolicy,
        env,
        n_steps=128,
        batch_size=64,
        n_epochs=2,
        policy_kwargs=dict(SMALL),
        seed=0,
    ),
    "a2c": lambda env: A2C(
        FixupActorCriticPolicy, env, n_steps=16, policy_kwargs=dict(SMALL), seed=0
    ),
    "sac": lambda env: SAC(FixupSACPolicy, env, policy_kwargs=dict(SMALL), seed=0, **OFF_POLICY),
    "td3": lambda env: TD3(FixupTD3Policy, env, policy_kwargs=dict(SMALL), seed=0, **OFF_POLICY),
    "tqc": _tqc,
}


def assert_trained(model: BaseAlgorithm, initial: dict[str, torch.Tensor]) -> None:
    changed = False
    for name, param in model.policy.state_dict().items():
        assert torch.isfinite(param).all(), name
        changed |= not torch.equal(param, initial[name])
    assert changed, "learn() did not change any parameter"
    assert any(isinstance(m, FixupBlock) for m in model.policy.modules())


@pytest.mark.parametrize("env_id", ["Pendulum-v1", "InvertedPendulum-v5"])
@pytest.mark.parametrize("algo", MAKERS)
def test_short_run_on_physics_task(algo: str, env_id: str) -> None:
    model = MAKERS[algo](env_id)
    initial = {k: v.clone() for k, v in model.policy.state_dict().items()}

    model.learn(256)

    assert_trained(model, initial)


@pytest.mark.parametrize(
    ("algo_class", "policy_class"),
    [(PPO, FixupActorCriticCnnPolicy), (SAC, FixupSACCnnPolicy)],
    ids=["ppo", "sac"],
)
def test_cnn_policy_learns_on_images(algo_class: type, policy_class: type, image_env) -> None:
    kwargs = (
        dict(n_steps=64, batch_size=32, n_epochs=2)
        if algo_class is PPO
        else dict(learning_starts=32, batch_size=16, buffer_size=200)
    )
    model = algo_class(
        policy_class,
        image_env,
        policy_kwargs=dict(
            **SMALL, features_extractor_kwargs=dict(features_dim=32, channels=(8, 8))
        ),
        seed=0,
        **kwargs,
    )
    initial = {k: v.clone() for k, v in model.policy.state_dict().items()}

    model.learn(96)

    assert_trained(model, initial)


@pytest.mark.parametrize(
    ("algo_class", "policy_class"),
    [
        (PPO, FixupMultiInputActorCriticPolicy),
        (SAC, FixupSACMultiInputPolicy),
        (TD3, FixupTD3MultiInputPolicy),
    ],
    ids=["ppo", "sac", "td3"],
)
def test_multi_input_policy_learns_on_dict_observations(
    algo_class: type, policy_class: type, dict_env
) -> None:
    kwargs = (
        dict(n_steps=64, batch_size=32, n_epochs=2)
        if algo_class is PPO
        else dict(learning_starts=32, batch_size=16, buffer_size=200)
    )
    model = algo_class(
        policy_class,
        dict_env,
        policy_kwargs=dict(**SMALL, features_extractor_kwargs=dict(cnn_output_dim=16)),
        seed=0,
        **kwargs,
    )
    initial = {k: v.clone() for k, v in model.policy.state_dict().items()}

    model.learn(96)

    assert_trained(model, initial)


def test_discrete_actions_and_observations_through_sb3_preprocessing() -> None:
    model = PPO(
        "MlpPolicy",
        "FrozenLake-v1",
        n_steps=64,
        batch_size=32,
        policy_kwargs=dict(
            features_extractor_class=FixupMlpExtractor,
            features_extractor_kwargs=dict(features_dim=16),
        ),
        seed=0,
    )
    initial = {k: v.clone() for k, v in model.policy.state_dict().items()}

    model.learn(128)

    assert_trained(model, initial)
