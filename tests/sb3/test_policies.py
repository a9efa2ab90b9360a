"""The Fixup policies in SB3's algorithms: init, optimizer groups, independence, awkward input."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium import spaces
from sb3_contrib import TQC
from stable_baselines3 import A2C, PPO, SAC, TD3
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.env_util import make_vec_env

from fixup_rl import (
    FixupActorCriticPolicy,
    FixupMlpExtractor,
    FixupSACPolicy,
    FixupTD3Policy,
    fixup_scale,
)
from fixup_rl.nn import FixupBlock

SMALL = dict(num_blocks=2, width=32)
ALGOS = {
    "ppo": (PPO, FixupActorCriticPolicy, dict(n_steps=32, batch_size=16)),
    "a2c": (A2C, FixupActorCriticPolicy, dict(n_steps=8)),
    "sac": (SAC, FixupSACPolicy, dict(learning_starts=20, batch_size=16, buffer_size=1000)),
    "td3": (TD3, FixupTD3Policy, dict(learning_starts=20, batch_size=16, buffer_size=1000)),
}


def make_model(algo: str, env: gym.Env | str = "Pendulum-v1", **policy_kwargs) -> BaseAlgorithm:
    algo_class, policy_class, kwargs = ALGOS[algo]
    return algo_class(
        policy_class, env, policy_kwargs={**SMALL, **policy_kwargs}, seed=0, **dict(kwargs)
    )


def fixup_blocks(module: torch.nn.Module) -> list[FixupBlock]:
    return [block for block in module.modules() if isinstance(block, FixupBlock)]


def outputs(model: BaseAlgorithm, observations: torch.Tensor) -> dict[str, torch.Tensor]:
    """Everything the policy computes for ``observations``: actions, values or Q-values."""
    policy = model.policy
    with torch.no_grad():
        if isinstance(policy, FixupActorCriticPolicy):
            distribution = policy.get_distribution(observations)
            return {
                "action": distribution.get_actions(deterministic=True),
                "value": policy.predict_values(observations),
            }
        actions = policy._predict(observations, deterministic=True)
        q_values = policy.critic(observations, actions)
        return {"action": actions, **{f"q{i}": q for i, q in enumerate(q_values)}}


@pytest.mark.parametrize("ortho_init", [True, False], ids=["ortho", "no-ortho"])
def test_actor_critic_policy_keeps_fixup_init(ortho_init: bool) -> None:
    model = PPO(
        FixupActorCriticPolicy,
        "Pendulum-v1",
        policy_kwargs=dict(num_blocks=dict(pi=16, vf=4), width=256, ortho_init=ortho_init),
    )
    towers = model.policy.mlp_extractor

    for tower, depth in ((towers.policy_net, 16), (towers.value_net, 4)):
        for block in tower.blocks:
            assert torch.count_nonzero(block.layers[-1].weight) == 0
            expected_std = np.sqrt(2 / 256) * fixup_scale(depth, 2)
            assert block.layers[0].weight.std().item() == pytest.approx(expected_std, rel=0.05)
    for head in (model.policy.action_net, model.policy.value_net):
        assert torch.count_nonzero(head.weight) == 0 and torch.count_nonzero(head.bias) == 0


@pytest.mark.parametrize("algo", ["sac", "td3"])
def test_off_policy_networks_are_deep_residual_with_zero_outputs(algo: str) -> None:
    model = make_model(algo, num_blocks=dict(pi=3, qf=5), n_critics=3)
    critic = model.policy.critic

    assert len(critic.q_networks) == 3
    for q_network in critic.q_networks:
        assert len(fixup_blocks(q_network)) == 5
        # The critic reads the observation features and the action.
        assert q_network[0].in_dim == 3 + 1
        assert torch.count_nonzero(q_network[-1].weight) == 0
    assert len(fixup_blocks(model.policy.actor)) == 3
    target = model.policy.critic_target
    assert len(fixup_blocks(target)) == 3 * 5
    for param, target_param in zip(critic.parameters(), target.parameters(), strict=True):
        assert torch.equal(param, target_param)


def _optimizers(model: BaseAlgorithm) -> list[torch.optim.Optimizer]:
    if isinstance(model.policy, FixupActorCriticPolicy):
        return [model.policy.optimizer]
    return [model.policy.actor.optimizer, model.policy.critic.optimizer]


@pytest.mark.parametrize("algo", ALGOS)
def test_scalars_train_at_a_tenth_of_the_scheduled_learning_rate(algo: str) -> None:
    algo_class, policy_class, kwargs = ALGOS[algo]
    model = algo_class(
        policy_class,
        "Pendulum-v1",
        learning_rate=lambda progress: 1e-3 * progress,
        # A2C replaces optimizer_kwargs unless optimizer_class is given too.
        policy_kwargs={
            **SMALL,
            "optimizer_class": torch.optim.Adam,
            "optimizer_kwargs": dict(weight_decay=1e-4),
        },
        seed=0,
        **kwargs,
    )
    seen: list[tuple[float, float]] = []

    def record(optimizer: torch.optim.Optimizer, args: object, kwargs: object) -> None:
        lrs = {group["name"]: group["lr"] for group in optimizer.param_groups}
        seen.append((lrs["weights"], lrs["fixup_scalars"]))

    for optimizer in _optimizers(model):
        groups = {group["name"]: group for group in optimizer.param_groups}
        assert groups["fixup_scalars"]["weight_decay"] == 0.0
        assert groups["weights"]["weight_decay"] == 1e-4
        scalars = set(map(id, groups["fixup_scalars"]["params"]))
        expected = {id(p) for b in fixup_blocks(model.policy) for p in b.scalar_parameters()}
        assert scalars <= expected and scalars
        optimizer.register_step_pre_hook(record)  # runs after the scaling hook
    model.learn(96)

    assert len(seen) > 2
    assert len({weights for weights, _ in seen}) > 1, "the schedule should change the lr"
    for weights, scalars in seen:
        assert scalars == pytest.approx(0.1 * weights)
    # Between steps the groups hold the schedule's value, as SB3 wrote it.
    for optimizer in _optimizers(model):
        assert len({group["lr"] for group in optimizer.param_groups}) == 1


@pytest.mark.parametrize("mode", ["train", "eval"])
@pytest.mark.parametrize("algo", ALGOS)
def test_outputs_are_independent_of_the_batch(algo: str, mode: str, perturb) -> None:
    model = make_model(algo)
    # Zero heads would make every output trivially equal: move every parameter first.
    perturb(model.policy)
    model.policy.set_training_mode(mode == "train")
    observations = torch.as_tensor(np.stack([model.observation_space.sample() for _ in range(256)]))

    in_batch = outputs(model, observations)
    for i in (0, 17, 255):
        alone = outputs(model, observations[i : i + 1])
        for name, value in alone.items():
            # Matrix products sum in a batch-size-dependent order: a few float32 ulps of the
            # output's scale is the floor, hence the tolerance relative to outputs above 1.
            scale = max(1.0, in_batch[name].abs().max().item())
            assert torch.allclose(value[0], in_batch[name][i], atol=1e-6 * scale, rtol=0), name


@pytest.mark.parametrize("algo", ALGOS)
def test_predict_is_independent_of_n_envs(algo: str, perturb) -> None:
    model = make_model(algo)
    perturb(model.policy)
    observations = np.stack([model.observation_space.sample() for _ in range(8)])

    together, _ = model.predict(observations, deterministic=True)
    for n_envs in (1, 3):
        apart, _ = model.predict(observations[:n_envs], deterministic=True)
        # float32 rounding differs between a batch of 1 and of 8 (different matmul kernels)
        np.testing.assert_allclose(apart, together[:n_envs], atol=1e-5, rtol=0)


@pytest.mark.parametrize("algo", ALGOS)
def test_batch_of_one_in_train_mode_and_float64(algo: str, float64_env, perturb) -> None:
    model = make_model(algo, env=float64_env, norm="batchnorm")
    perturb(model.policy)
    model.policy.set_training_mode(True)
    one = torch.as_tensor(float64_env.observation_space.sample()[None])

    assert one.dtype == torch.float64
    for value in outputs(model, one).values():
        assert torch.isfinite(value).all()


@pytest.mark.parametrize("norm", ["fixup", "batchnorm"])
def test_truncated_last_minibatch_of_one(norm: str) -> None:
    # 3 envs x 7 steps = 21 samples in minibatches of 4: the last one holds a single sample.
    with pytest.warns(UserWarning, match="truncated mini-batch of size 1"):
        model = PPO(
            FixupActorCriticPolicy,
            make_vec_env("Pendulum-v1", n_envs=3, seed=0),
            n_steps=7,
            batch_size=4,
            n_epochs=2,
            policy_kwargs={**SMALL, "norm": norm},
            seed=0,
        )
    model.learn(42)

    for param in model.policy.parameters():
        assert torch.isfinite(param).all()


@pytest.mark.parametrize(
    "space",
    [spaces.Sequence(spaces.Discrete(3)), spaces.Graph(spaces.Discrete(3), None)],
    ids=["sequence", "graph"],
)
@pytest.mark.parametrize("policy_class", [FixupActorCriticPolicy, FixupSACPolicy, FixupTD3Policy])
def test_unsupported_observation_spaces_are_named(space: spaces.Space, policy_class: type) -> None:
    action_space = spaces.Box(-1, 1, (1,), dtype=np.float32)
    with pytest.raises(ValueError, match=f"{type(space).__name__}.*supported"):
        policy_class(space, action_space, lambda _: 1e-3)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(net_arch=[64, 64]), "num_blocks and width"),
        (dict(norm="groupnorm"), "norm must be one of"),
        (dict(width=0), "width"),
        (dict(num_blocks=dict(pi=2)), "num_blocks"),
        (dict(m=1), "m must be"),
        (dict(scalar_lr_scale=-1.0), "scalar_lr_scale"),
        (dict(activation_fn=torch.nn.ReLU()), "activation_fn"),
    ],
    ids=["net_arch", "norm", "width", "num_blocks", "m", "scalar_lr_scale", "activation"],
)
@pytest.mark.parametrize("algo", ["ppo", "sac"])
def test_bad_policy_kwargs_are_named(algo: str, kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        make_model(algo, **kwargs)


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_tqc_with_a_fixup_extractor_is_independent_of_the_batch(mode: str, perturb) -> None:
    model = TQC(
        "MlpPolicy",
        "Pendulum-v1",
        policy_kwargs=dict(
            features_extractor_class=FixupMlpExtractor,
            features_extractor_kwargs=dict(features_dim=32, num_blocks=3),
            net_arch=[32],
        ),
        buffer_size=1000,
        seed=0,
    )
    perturb(model.policy)
    model.policy.set_training_mode(mode == "train")
    observations = torch.as_tensor(np.stack([model.observation_space.sample() for _ in range(64)]))

    with torch.no_grad():
        actions = model.policy._predict(observations, deterministic=True)
        quantiles = model.policy.critic(observations, actions)
        for i in (0, 63):
            one = observations[i : i + 1]
            action = model.policy._predict(one, deterministic=True)
            torch.testing.assert_close(action[0], actions[i], atol=1e-6, rtol=0)
            scale = max(1.0, quantiles.abs().max().item())
            torch.testing.assert_close(
                model.policy.critic(one, action)[0], quantiles[i], atol=1e-6 * scale, rtol=0
            )
