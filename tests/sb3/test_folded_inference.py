"""SB3 rollouts and predict() run the Fixup blocks folded, once per update and never stale."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial

import numpy as np
import pytest
import torch
from stable_baselines3 import PPO, SAC

from fixup_rl import FixupActorCriticPolicy, FixupSACPolicy
from fixup_rl.nn import FixupBlock, ResidualMLP
from fixup_rl.nn.residual_block import ResidualBlock


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


def fixup_blocks(module: torch.nn.Module) -> list[FixupBlock]:
    return [child for child in module.modules() if isinstance(child, FixupBlock)]


def fixup_networks(module: torch.nn.Module) -> list[ResidualMLP]:
    return [child for child in module.modules() if isinstance(child, ResidualMLP)]


def _block_by_block(net: ResidualMLP, x: torch.Tensor) -> torch.Tensor:
    # The network as written: the input layer, then every block as x + branch(x), activated.
    h = net.input_activation(net.input(x.to(net.input.weight.dtype)))
    for block in net.blocks:
        h = ResidualBlock.forward(block, h)
    return net.final_norm(h)


@contextmanager
def plain_autograd(module: torch.nn.Module) -> Iterator[None]:
    """Compute every Fixup network in ``module`` block by block with plain autograd operations."""
    nets = fixup_networks(module)
    for net in nets:
        net.forward = partial(_block_by_block, net)  # type: ignore[method-assign]
    try:
        yield
    finally:
        for net in nets:
            del net.forward


def unfused_actions(model: PPO | SAC, obs: np.ndarray) -> np.ndarray:
    """Deterministic actions with every Fixup block computed by plain autograd operations."""
    with plain_autograd(model.policy):
        return model.predict(obs, deterministic=True)[0]


# fused=True: torch's fused Adam, which leaves the parameters' version counters alone.
@pytest.mark.parametrize("optimizer_kwargs", [{}, {"fused": True}], ids=["default", "fused"])
def test_ppo_folds_once_per_rollout(optimizer_kwargs: dict) -> None:
    model = PPO(
        FixupActorCriticPolicy,
        "Pendulum-v1",
        n_steps=64,
        batch_size=32,
        n_epochs=1,
        policy_kwargs={"optimizer_kwargs": optimizer_kwargs},
    )
    nets = fixup_networks(model.policy)
    assert nets and all(net.fold_cache.enabled for net in nets)

    model.learn(3 * 64)

    # Rollout 1 folds the initial weights, rollouts 2 and 3 the updated ones: 64 steps each.
    assert [net.fold_cache.computed for net in nets] == [3] * len(nets)
    obs = np.stack([model.observation_space.sample() for _ in range(5)])
    np.testing.assert_allclose(
        model.predict(obs, deterministic=True)[0], unfused_actions(model, obs), atol=1e-5
    )


@pytest.mark.parametrize("optimizer_kwargs", [{}, {"fused": True}], ids=["default", "fused"])
def test_sac_target_critic_follows_polyak_updates(optimizer_kwargs: dict) -> None:
    model = SAC(
        FixupSACPolicy,
        "Pendulum-v1",
        learning_starts=32,
        batch_size=16,
        policy_kwargs={"num_blocks": 2, "width": 16, "optimizer_kwargs": optimizer_kwargs},
    )
    for module in (model.critic_target, model.actor):
        enabled = module is model.actor
        assert fixup_blocks(module) and fixup_networks(module)
        assert all(block.fold_cache.enabled is enabled for block in fixup_blocks(module))
        assert all(net.fold_cache.enabled is enabled for net in fixup_networks(module))

    model.learn(64)

    # The target critic, updated through .data, computes what its current weights say.
    obs = torch.as_tensor(np.stack([model.observation_space.sample() for _ in range(4)]))
    actions = torch.as_tensor(np.stack([model.action_space.sample() for _ in range(4)]))
    with torch.no_grad():
        q_values = model.critic_target(obs, actions)
        with plain_autograd(model.critic_target):
            expected = model.critic_target(obs, actions)
    for got, want in zip(q_values, expected, strict=True):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)

    obs_np = obs.numpy()
    np.testing.assert_allclose(
        model.predict(obs_np, deterministic=True)[0], unfused_actions(model, obs_np), atol=1e-5
    )
