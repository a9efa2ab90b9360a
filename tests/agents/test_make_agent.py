"""make_agent: every algorithm builds a working model from its recipe, tiny real learn() runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from stable_baselines3.common.noise import NormalActionNoise, OrnsteinUhlenbeckActionNoise
from stable_baselines3.common.utils import LinearSchedule
from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize
from torch import nn

from fixup_rl.agents import make_agent, make_env, resolve_config
from fixup_rl.nn import ResidualMLP

TINY = {"width": 16, "depth": 1, "device": "cpu"}
# Small budgets and buffers so that each learn() below takes a fraction of a second.
FAST: dict[str, dict[str, Any]] = {
    "ppo": {"n_envs": 1, "n_steps": 32, "batch_size": 16, "n_epochs": 1},
    "a2c": {"n_envs": 2, "n_steps": 8},
    "sac": {"learning_starts": 16, "batch_size": 16, "buffer_size": 1000},
    "td3": {"learning_starts": 16, "batch_size": 16, "buffer_size": 1000, "train_freq": 8},
    "tqc": {
        "learning_starts": 16,
        "batch_size": 16,
        "buffer_size": 1000,
        "train_freq": 8,
        "gradient_steps": 8,
    },
}
POLICIES = {
    ("ppo", "fixup"): "FixupActorCriticPolicy",
    ("a2c", "fixup"): "FixupActorCriticPolicy",
    ("sac", "fixup"): "FixupSACPolicy",
    ("td3", "fixup"): "FixupTD3Policy",
    ("tqc", "fixup"): "TQCPolicy",
    ("ppo", "mlp"): "ActorCriticPolicy",
    ("a2c", "mlp"): "ActorCriticPolicy",
    ("sac", "mlp"): "SACPolicy",
    ("td3", "mlp"): "TD3Policy",
    ("tqc", "mlp"): "TQCPolicy",
}


@pytest.mark.parametrize("net", ["fixup", "mlp"])
@pytest.mark.parametrize("algo", list(FAST))
def test_make_agent_learns_on_pendulum(algo: str, net: str) -> None:
    model, env = make_agent(algo, "Pendulum-v1", net=net, **TINY, **FAST[algo])
    before = {k: v.clone() for k, v in model.policy.state_dict().items()}

    model.learn(64)

    assert type(model.policy).__name__ == POLICIES[algo, net]
    assert model.get_env() is env
    assert model.num_timesteps >= 64
    changed = [k for k, v in model.policy.state_dict().items() if not torch.equal(v, before[k])]
    assert changed, "no parameter moved"
    residual = [m for m in model.policy.modules() if isinstance(m, ResidualMLP)]
    assert bool(residual) == (net != "mlp")


def test_make_agent_learns_ppo_on_cartpole() -> None:
    model, env = make_agent("ppo", "CartPole-v1", **TINY, n_envs=2, n_steps=16, batch_size=16)

    model.learn(64)

    assert env.num_envs == 2
    assert model.num_timesteps >= 64


def test_the_recipe_decides_normalization() -> None:
    _, normalized = make_agent("a2c", "Pendulum-v1", **TINY)  # the recipe normalizes
    _, plain = make_agent("ppo", "CartPole-v1", **TINY)

    assert isinstance(normalized, VecNormalize) and normalized.norm_reward
    assert normalized.gamma == pytest.approx(0.9)  # the algorithm's gamma, as in the zoo
    assert isinstance(plain, DummyVecEnv)


def test_structured_values_become_sb3_objects() -> None:
    ppo, _ = make_agent("ppo", "CartPole-v1", **TINY)  # linear learning rate and clip range
    td3, _ = make_agent("td3", "Pendulum-v1", **TINY)  # normal noise, train every episode
    ou, _ = make_agent("td3", "MountainCarContinuous-v0", **TINY)

    assert isinstance(ppo.learning_rate, LinearSchedule)
    assert ppo.lr_schedule(0.5) == pytest.approx(0.5e-3)
    assert ppo.clip_range(0.25) == pytest.approx(0.05)
    assert isinstance(td3.action_noise, NormalActionNoise)
    assert td3.train_freq.frequency == 1 and td3.train_freq.unit.value == "episode"
    assert isinstance(ou.action_noise, OrnsteinUhlenbeckActionNoise)


@pytest.mark.parametrize("algo", ["ppo", "a2c", "sac", "td3"])
def test_mlp_and_fixup_have_the_same_linear_layers(algo: str) -> None:
    small = {"depth": 3, "width": 8, **({"buffer_size": 100} if algo in ("sac", "td3") else {})}
    fixup, _ = make_agent(algo, "Pendulum-v1", net="fixup", **small)
    mlp, _ = make_agent(algo, "Pendulum-v1", net="mlp", **small)

    def shapes(model: Any) -> list[tuple[int, ...]]:
        return [tuple(m.weight.shape) for m in model.policy.modules() if isinstance(m, nn.Linear)]

    assert shapes(fixup) == shapes(mlp)
    assert len([s for s in shapes(mlp) if s == (8, 8)]) >= 2 * 3
    # ReLU for every net, where SB3's own default for PPO and A2C would be Tanh.
    assert any(isinstance(m, nn.ReLU) for m in mlp.policy.modules())
    if algo in ("ppo", "a2c"):
        assert not any(isinstance(m, nn.Tanh) for m in mlp.policy.modules())


def test_the_seed_fixes_the_initial_network() -> None:
    first, _ = make_agent("sac", "Pendulum-v1", **TINY, seed=3)
    second, _ = make_agent("sac", "Pendulum-v1", **TINY, seed=3)
    other, _ = make_agent("sac", "Pendulum-v1", **TINY, seed=4)

    a, b, c = (m.policy.state_dict() for m in (first, second, other))
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)


def test_vecnormalize_statistics_survive_save_and_load(tmp_path: Path) -> None:
    model, env = make_agent("a2c", "Pendulum-v1", **TINY, n_envs=2)
    model.learn(64)
    path = tmp_path / "vecnormalize.pkl"
    env.save(str(path))

    config = resolve_config("a2c", "Pendulum-v1", **TINY)
    loaded = VecNormalize.load(str(path), make_env({**config, "normalize": False}, n_envs=1))

    assert env.obs_rms.count > 64
    np.testing.assert_array_equal(loaded.obs_rms.mean, env.obs_rms.mean)
    np.testing.assert_array_equal(loaded.obs_rms.var, env.obs_rms.var)
    assert loaded.obs_rms.count == env.obs_rms.count
    np.testing.assert_array_equal(loaded.ret_rms.var, env.ret_rms.var)
    assert (loaded.gamma, loaded.clip_obs, loaded.epsilon) == (env.gamma, env.clip_obs, env.epsilon)
