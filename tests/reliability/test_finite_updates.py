"""FiniteUpdatesCallback: non-finite updates are skipped, counted and logged, and stop training."""

from __future__ import annotations

import re

import gymnasium as gym
import pytest
import torch
from reliability_support import ALGOS, ScaledReward, recording_logger, tiny_agent
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.vec_env import DummyVecEnv
from torch.optim import Optimizer
from torch.utils.hooks import RemovableHandle

from fixup_rl.reliability import FiniteUpdatesCallback, NonFiniteUpdatesError, find_optimizers
from fixup_rl.reliability.diagnosis import likely_cause

NETS = ("fixup", "mlp")
CASES = [(algo, net) for algo in ALGOS for net in NETS]
IDS = [f"{algo}-{net}" for algo, net in CASES]


def trained_by_the_policy_loss(model: BaseAlgorithm) -> tuple[str, Optimizer]:
    # The actor's optimizer off-policy: the critic's parameters also receive the actor loss's
    # gradient, which the critic never steps with.
    optimizers = find_optimizers(model)
    name = "optimizer" if "optimizer" in optimizers else "actor.optimizer"
    return name, optimizers[name]


def poison(param: torch.Tensor, times: int) -> RemovableHandle:
    """Make the next ``times`` gradients backpropagated into ``param`` NaN."""
    left = [times]

    def hook(grad: torch.Tensor) -> torch.Tensor:
        if left[0] == 0:
            return grad
        left[0] -= 1
        return grad * float("nan")

    return param.register_hook(hook)


@pytest.mark.parametrize(("algo", "net"), CASES, ids=IDS)
def test_a_few_poisoned_updates_are_skipped_and_training_goes_on(algo: str, net: str) -> None:
    model = tiny_agent(algo, net)
    logger, output = recording_logger()
    model.set_logger(logger)
    _, optimizer = trained_by_the_policy_loss(model)
    poison(optimizer.param_groups[0]["params"][0], times=3)
    guard = FiniteUpdatesCallback(max_consecutive_skips=4)

    model.learn(256, callback=guard, log_interval=1)

    assert guard.skipped_updates == 3
    key = "train/skipped_updates"
    logged = [dump[key] for dump in output.dumps if key in dump]
    assert logged and logged[-1] == 3
    assert all(torch.isfinite(p).all() for p in model.policy.parameters())


@pytest.mark.parametrize(("algo", "net"), CASES, ids=IDS)
def test_updates_that_stay_non_finite_stop_training_before_any_step(algo: str, net: str) -> None:
    model = tiny_agent(algo, net)
    name, optimizer = trained_by_the_policy_loss(model)
    params = [p for group in optimizer.param_groups for p in group["params"]]
    before = [p.detach().clone() for p in params]
    poison(params[0], times=10**9)
    guard = FiniteUpdatesCallback(max_consecutive_skips=4)

    message = rf"4 steps in a row of {re.escape(name)} had a NaN gradient norm and were skipped"
    with pytest.raises(NonFiniteUpdatesError, match=message) as raised:
        model.learn(512, callback=guard)

    assert "Likely cause: a learning rate too high for this network" in str(raised.value)
    assert guard.skipped_updates == 4
    # The skipped steps changed neither the weights nor the optimizer's state.
    for param, old in zip(params, before, strict=True):
        torch.testing.assert_close(param.detach(), old, rtol=0, atol=0)
        assert not optimizer.state[param]


@pytest.mark.parametrize("algo", ["ppo", "a2c", "sac", "td3"])
@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # SB3's explained variance overflows
def test_extreme_rewards_are_named_as_the_likely_cause(algo: str) -> None:
    # Squared losses of rewards of 1e30 overflow float32. PPO and A2C clip the gradient norm,
    # which scales an infinite norm down to zero gradients: the check must come before that.
    # (TQC's quantile Huber loss has bounded gradients: its updates stay finite here.)
    model = tiny_agent(algo)
    model.set_env(DummyVecEnv([lambda: ScaledReward(gym.make("Pendulum-v1"), 1e30)]))

    with pytest.raises(NonFiniteUpdatesError, match="Likely cause: rewards of extreme size"):
        model.learn(512, callback=FiniteUpdatesCallback(max_consecutive_skips=3))

    assert all(torch.isfinite(p).all() for p in model.policy.parameters())


@pytest.mark.parametrize(
    ("net", "cause"),
    [
        ("none", r"a residual network without normalization or Fixup \(pi: norm='none', 3 blocks"),
        ("mlp", r"a deep MLP without normalization \(mlp_extractor.policy_net: 7 Linear layers"),
        ("fixup", r"a learning rate too high for this network \(0.001\); lower it, e.g. to 0.0001"),
    ],
)
def test_the_network_is_named_when_the_data_is_not_to_blame(net: str, cause: str) -> None:
    model = tiny_agent("ppo", net, depth=3)

    assert re.match(cause, likely_cause(model, learning_rate=1e-3))


def test_non_finite_data_in_the_buffer_points_to_the_env_check() -> None:
    model = tiny_agent("sac")
    model.replay_buffer.rewards[:10] = float("inf")
    model.replay_buffer.pos = 10

    cause = likely_cause(model, learning_rate=1e-3)

    assert cause.startswith("the model's buffer holds non-finite rewards; wrap the env in ")
    assert "VecCheckFinite" in cause


def test_the_hooks_are_gone_after_training() -> None:
    model = tiny_agent("ppo")
    _, optimizer = trained_by_the_policy_loss(model)
    param = optimizer.param_groups[0]["params"][0]
    guard = FiniteUpdatesCallback()
    model.learn(128, callback=guard)

    poison(param, times=1)
    optimizer.zero_grad()
    param.sum().backward()
    optimizer.step()  # a step outside learn(): no longer checked

    assert guard.skipped_updates == 0
    assert not torch.isfinite(param).all()


def test_max_consecutive_skips_is_checked() -> None:
    with pytest.raises(ValueError, match="max_consecutive_skips must be an integer >= 1, got 0"):
        FiniteUpdatesCallback(max_consecutive_skips=0)
