"""SB3 rollouts and predict() run the Fixup blocks folded, once per update and never stale."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from stable_baselines3 import PPO, SAC

from fixup_rl import FixupActorCriticPolicy, FixupSACPolicy
from fixup_rl.nn import FixupBlock
from fixup_rl.nn.residual_block import ResidualBlock


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


def fixup_blocks(module: torch.nn.Module) -> list[FixupBlock]:
    return [child for child in module.modules() if isinstance(child, FixupBlock)]


def unfused_actions(model: PPO | SAC, obs: np.ndarray) -> np.ndarray:
    """Deterministic actions with every Fixup block computed by plain autograd operations."""
    blocks = fixup_blocks(model.policy)
    originals = [block.forward for block in blocks]
    for block in blocks:
        block.forward = ResidualBlock.forward.__get__(block)  # type: ignore[method-assign]
    try:
        return model.predict(obs, deterministic=True)[0]
    finally:
        for block, forward in zip(blocks, originals, strict=True):
            block.forward = forward  # type: ignore[method-assign]


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
    blocks = fixup_blocks(model.policy)
    assert blocks and all(block.fold_cache.enabled for block in blocks)

    model.learn(3 * 64)

    # Rollout 1 folds the initial weights, rollouts 2 and 3 the updated ones: 64 steps each.
    assert [block.fold_cache.computed for block in blocks] == [3] * len(blocks)
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
    assert all(not block.fold_cache.enabled for block in fixup_blocks(model.critic_target))
    assert all(block.fold_cache.enabled for block in fixup_blocks(model.actor))

    model.learn(64)

    # The target critic, updated through .data, computes what its current weights say.
    obs = torch.as_tensor(np.stack([model.observation_space.sample() for _ in range(4)]))
    actions = torch.as_tensor(np.stack([model.action_space.sample() for _ in range(4)]))
    with torch.no_grad():
        q_values = model.critic_target(obs, actions)
        blocks = fixup_blocks(model.critic_target)
        for block in blocks:
            block.forward = ResidualBlock.forward.__get__(block)  # type: ignore[method-assign]
        expected = model.critic_target(obs, actions)
    for got, want in zip(q_values, expected, strict=True):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)

    obs_np = obs.numpy()
    np.testing.assert_allclose(
        model.predict(obs_np, deterministic=True)[0], unfused_actions(model, obs_np), atol=1e-5
    )
