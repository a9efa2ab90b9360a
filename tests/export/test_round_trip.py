"""An exported policy acts exactly like the model it was exported from."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from gymnasium import spaces
from stable_baselines3 import PPO
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.vec_env import VecEnv, VecNormalize

from fixup_rl import (
    FixupActorCriticCnnPolicy,
    FixupActorCriticPolicy,
    FixupMlpExtractor,
    load_policy,
)
from fixup_rl.agents import ALGOS, NETS, make_agent
from fixup_rl.export import ExportedPolicy, export_policy

OFF_POLICY_HYPERPARAMS = {"buffer_size": 1_000}

# (algo, env id, net): every algorithm with every net on Pendulum-v1 (continuous), PPO and A2C
# on CartPole-v1 (discrete), and a MuJoCo task.
CASES = [
    *((algo, "Pendulum-v1", net) for algo in ALGOS for net in NETS),
    *(
        (algo, "CartPole-v1", net)
        for algo in ("ppo", "a2c")
        for net in ("fixup", "mlp", "batchnorm")
    ),
    *((algo, "InvertedPendulum-v5", "fixup") for algo in ALGOS),
    ("ppo", "InvertedPendulum-v5", "mlp"),
]


Agent = Callable[..., tuple[BaseAlgorithm, VecEnv]]


@pytest.fixture
def agent(as_if_trained: Callable[..., None]) -> Agent:
    """Build ``make_agent(algo, env_id, net=net, ...)`` small, its weights and statistics moved."""
    return lambda algo, env_id, net, normalize: _agent(as_if_trained, algo, env_id, net, normalize)


def _agent(
    as_if_trained: Callable[..., None], algo: str, env_id: str, net: str, normalize: bool
) -> tuple[BaseAlgorithm, VecEnv]:
    extra = OFF_POLICY_HYPERPARAMS if algo in ("sac", "td3", "tqc") else {}
    model, env = make_agent(
        algo,
        env_id,
        net=net,
        depth=1,
        width=16,
        n_envs=1,
        normalize=normalize,
        device="cpu",
        **extra,
    )
    as_if_trained(model, env)
    return model, env


def _expected(model: BaseAlgorithm, env: VecEnv, observations: np.ndarray) -> np.ndarray:
    # What the trained model does with the env's raw observations: VecNormalize, then predict.
    if isinstance(env, VecNormalize):
        observations = env.normalize_obs(observations)
    return model.predict(observations, deterministic=True)[0]


def _check_same_actions(
    model: BaseAlgorithm, env: VecEnv, policy: ExportedPolicy, observations: np.ndarray
) -> np.ndarray:
    expected = _expected(model, env, observations)
    actual, state = policy.predict(observations)

    assert state is None
    np.testing.assert_array_equal(actual, expected)
    # The test could fail: the policy does not answer every observation alike.
    assert len(np.unique(actual, axis=0)) > 1
    return actual


@pytest.mark.parametrize(("algo", "env_id", "net"), CASES, ids=["-".join(c) for c in CASES])
def test_exported_policy_acts_exactly_like_the_model(
    tmp_path: Path, agent: Agent, rollout_observations: Callable, algo: str, env_id: str, net: str
) -> None:
    model, env = agent(algo, env_id, net, normalize=True)
    observations = rollout_observations(env_id)

    export_policy(model, tmp_path, vec_normalize=env)
    policy = load_policy(tmp_path)

    actions = _check_same_actions(model, env, policy, observations)
    space = policy.action_space
    assert all(space.contains(action) for action in actions.astype(space.dtype))


@pytest.mark.parametrize("algo", ["ppo", "sac"])
def test_without_observation_scaling(
    tmp_path: Path, agent: Agent, rollout_observations: Callable, algo: str
) -> None:
    model, env = agent(algo, "Pendulum-v1", "fixup", normalize=False)

    export_policy(model, tmp_path)
    policy = load_policy(tmp_path)

    assert policy.normalization is None
    _check_same_actions(model, env, policy, rollout_observations("Pendulum-v1"))


@pytest.mark.parametrize(
    ("algo", "env_id", "net"),
    [
        ("ppo", "Pendulum-v1", "fixup"),
        ("ppo", "CartPole-v1", "fixup"),
        ("td3", "Pendulum-v1", "mlp"),
    ],
    ids=["ppo-box", "ppo-discrete", "td3-mlp"],
)
def test_forward_gives_the_actions_of_predict(
    tmp_path: Path, agent: Agent, rollout_observations: Callable, algo: str, env_id: str, net: str
) -> None:
    model, env = agent(algo, env_id, net, normalize=True)
    export_policy(model, tmp_path, vec_normalize=env)
    policy = load_policy(tmp_path)
    observations = rollout_observations(env_id)

    actions = policy(torch.as_tensor(observations))

    assert isinstance(actions, torch.Tensor) and not actions.requires_grad
    np.testing.assert_array_equal(actions.numpy(), policy.predict(observations)[0])


def test_one_observation_without_a_batch_dimension(
    tmp_path: Path, agent: Agent, rollout_observations: Callable
) -> None:
    model, env = agent("sac", "Pendulum-v1", "fixup", normalize=True)
    export_policy(model, tmp_path, vec_normalize=env)
    policy = load_policy(tmp_path)
    observations = rollout_observations("Pendulum-v1", count=4)

    action, _ = policy.predict(observations[2])

    assert action.shape == (1,)
    np.testing.assert_array_equal(action, policy.predict(observations)[0][2])


def test_loading_the_policy_json_path_works_too(
    tmp_path: Path, agent: Agent, rollout_observations: Callable
) -> None:
    model, env = agent("ppo", "Pendulum-v1", "fixup", normalize=True)
    export_policy(model, tmp_path, vec_normalize=env)
    observations = rollout_observations("Pendulum-v1")

    by_file = load_policy(tmp_path / "policy.json").predict(observations)[0]

    np.testing.assert_array_equal(by_file, load_policy(str(tmp_path)).predict(observations)[0])


def test_a_shared_features_extractor_is_stored_once_and_shared_again(
    tmp_path: Path, spaces_env: Callable, as_if_trained: Callable, sample_observations: Callable
) -> None:
    env = spaces_env(spaces.Box(-1, 1, (5,)), spaces.Box(-1, 1, (2,)))
    model = PPO(
        FixupActorCriticPolicy,
        env,
        policy_kwargs=dict(
            features_extractor_class=FixupMlpExtractor,
            features_extractor_kwargs=dict(features_dim=8, num_blocks=1),
            share_features_extractor=True,
            width=8,
            num_blocks=1,
        ),
        device="cpu",
    )
    as_if_trained(model, env)

    export_policy(model, tmp_path)
    policy = load_policy(tmp_path)

    shared = policy.policy
    assert shared.pi_features_extractor is shared.vf_features_extractor
    _check_same_actions(model, env, policy, sample_observations(env))


SPACES: dict[str, tuple[spaces.Space, spaces.Space]] = {
    "box2d-obs-multidiscrete-act": (spaces.Box(-2, 2, (2, 3)), spaces.MultiDiscrete([3, 4])),
    "discrete-obs-box-act": (spaces.Discrete(7), spaces.Box(-1, 3, (2,))),
    "multidiscrete-obs-discrete-act": (spaces.MultiDiscrete([2, 5]), spaces.Discrete(4)),
    "multibinary-obs-multibinary-act": (spaces.MultiBinary(6), spaces.MultiBinary(3)),
    "float64-obs-box-act": (spaces.Box(-1, 1, (4,), np.float64), spaces.Box(-1, 1, (1,))),
}


@pytest.mark.parametrize(("observation_space", "action_space"), SPACES.values(), ids=list(SPACES))
def test_other_spaces(
    tmp_path: Path,
    spaces_env: Callable,
    as_if_trained: Callable,
    sample_observations: Callable,
    observation_space: spaces.Space,
    action_space: spaces.Space,
) -> None:
    env = spaces_env(observation_space, action_space)
    model = PPO(
        FixupActorCriticPolicy, env, policy_kwargs=dict(width=8, num_blocks=1), device="cpu"
    )
    as_if_trained(model, env)

    export_policy(model, tmp_path)
    policy = load_policy(tmp_path)

    assert policy.observation_space == model.observation_space
    assert policy.action_space == action_space
    _check_same_actions(model, env, policy, sample_observations(env))


def test_image_observations(tmp_path: Path, spaces_env: Callable, as_if_trained: Callable) -> None:
    # Channel-last uint8 images: SB3 transposes them for the model; the export does the same.
    image = spaces.Box(0, 255, (12, 12, 3), np.uint8)
    env = spaces_env(image, spaces.Box(-1, 1, (2,)))
    extractor: dict[str, Any] = dict(channels=(4,), blocks_per_stage=1, features_dim=8)
    model = PPO(
        FixupActorCriticCnnPolicy,
        env,
        policy_kwargs=dict(features_extractor_kwargs=extractor, width=8, num_blocks=1),
        device="cpu",
    )
    as_if_trained(model, model.get_env())

    export_policy(model, tmp_path)
    policy = load_policy(tmp_path)

    observations = np.stack([image.sample() for _ in range(16)])
    np.testing.assert_array_equal(
        policy.predict(observations)[0], model.predict(observations, deterministic=True)[0]
    )
