"""Batch coupling of SB3 models and policies: BatchNorm couples in train mode, Fixup never."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from gymnasium import spaces
from stable_baselines3 import A2C, DQN, PPO, SAC, TD3

from fixup_rl import (
    FixupActorCriticPolicy,
    FixupMultiInputActorCriticPolicy,
    FixupSACPolicy,
    FixupTD3Policy,
)
from fixup_rl.diagnostics import batch_coupling
from fixup_rl.diagnostics.batch_coupling import TOLERANCE

SMALL = dict(num_blocks=2, width=32)
OFF_POLICY = dict(learning_starts=10, buffer_size=1000)
MODELS = {
    "ppo": lambda norm: PPO(FixupActorCriticPolicy, "Pendulum-v1", policy_kwargs=dict(norm=norm)),
    "a2c": lambda norm: A2C(FixupActorCriticPolicy, "Pendulum-v1", policy_kwargs=dict(norm=norm)),
    "sac": lambda norm: SAC(
        FixupSACPolicy, "Pendulum-v1", policy_kwargs=dict(norm=norm, **SMALL), **OFF_POLICY
    ),
    "td3": lambda norm: TD3(
        FixupTD3Policy, "Pendulum-v1", policy_kwargs=dict(norm=norm, **SMALL), **OFF_POLICY
    ),
}
BATCH_SIZES = (1, 8, 64)


def outputs_of(result: dict[str, Any]) -> set[str]:
    return set(result["train"]["outputs"])


@pytest.mark.parametrize("algo", MODELS)
def test_fixup_policies_compute_each_sample_on_its_own(algo: str) -> None:
    result = batch_coupling(MODELS[algo]("fixup"), batch_sizes=BATCH_SIZES)

    assert result["perturbed"]  # zero heads: every output is constant until perturbed
    for mode in ("train", "eval"):
        assert not result[mode]["coupled"]
        # Float32 matrix products round differently with the batch size: a few ulps of the
        # output's scale (measured 3e-7 to 1.01e-6 here) is the floor; coupling is >= 1e-2.
        assert result[mode]["max_difference"] <= 2e-6
        for output in result[mode]["outputs"].values():
            assert output["scale"] > 0.1  # the perturbation makes the outputs meaningful
    expected = {"actions", "values"} if algo in ("ppo", "a2c") else {"actions", "q_values"}
    assert outputs_of(result) == expected


@pytest.mark.parametrize("algo", MODELS)
def test_batchnorm_policies_couple_the_batch_in_train_mode_only(algo: str) -> None:
    result = batch_coupling(MODELS[algo]("batchnorm"), batch_sizes=BATCH_SIZES)

    assert result["train"]["coupled"]
    assert result["train"]["max_difference"] > 1e-2
    assert not result["eval"]["coupled"]
    for output in result["train"]["outputs"].values():
        assert set(output["differences"]) == {8, 64}


def test_the_default_batch_sizes_go_up_to_256_observations() -> None:
    result = batch_coupling(MODELS["ppo"]("batchnorm"))
    assert result["batch_sizes"] == [1, 8, 64, 256]
    assert result["observations"] == 256
    assert set(result["train"]["outputs"]["values"]["differences"]) == {8, 64, 256}


@pytest.mark.parametrize(
    "model",
    [
        lambda: PPO("MlpPolicy", "Pendulum-v1"),
        lambda: SAC("MlpPolicy", "Pendulum-v1", **OFF_POLICY),
        lambda: DQN("MlpPolicy", "CartPole-v1", **OFF_POLICY),
    ],
    ids=["ppo", "sac", "dqn"],
)
def test_sb3_own_policies_are_independent(model: Any) -> None:
    result = batch_coupling(model().policy, batch_sizes=BATCH_SIZES)
    assert not result["train"]["coupled"] and not result["eval"]["coupled"]
    assert "q_values" in outputs_of(result) or "values" in outputs_of(result)


def test_a_policy_with_varying_outputs_is_measured_as_it_is() -> None:
    # SB3's orthogonal init gives PPO's MlpPolicy outputs that vary with the observation.
    model = PPO("MlpPolicy", "Pendulum-v1")
    assert not batch_coupling(model, batch_sizes=BATCH_SIZES)["perturbed"]
    assert batch_coupling(model, batch_sizes=BATCH_SIZES, perturb=True)["perturbed"]


def test_the_model_itself_is_left_untouched() -> None:
    model = MODELS["ppo"]("batchnorm")
    state = {key: value.clone() for key, value in model.policy.state_dict().items()}
    training = model.policy.training

    batch_coupling(model, batch_sizes=BATCH_SIZES)

    for key, value in model.policy.state_dict().items():
        torch.testing.assert_close(value, state[key], rtol=0, atol=0, msg=key)
    assert model.policy.training == training


def test_given_observations_and_dict_spaces() -> None:
    observation_space = spaces.Dict(
        {"state": spaces.Box(-1.0, 1.0, (3,), np.float32), "mode": spaces.Discrete(4)}
    )
    policy = FixupMultiInputActorCriticPolicy(
        observation_space, spaces.Box(-1.0, 1.0, (2,), np.float32), lambda _: 3e-4, **SMALL
    )
    result = batch_coupling(policy, n=16, batch_sizes=(1, 4, 16))
    assert result["policy"] == "FixupMultiInputActorCriticPolicy"
    assert result["observations"] == 16 and not result["train"]["coupled"]

    observations = np.random.default_rng(0).uniform(-1, 1, (12, 3)).astype(np.float32)
    result = batch_coupling(MODELS["ppo"]("batchnorm"), observations, batch_sizes=(1, 4, 12))
    assert result["observations"] == 12 and result["train"]["coupled"]


def test_bad_arguments_say_what_is_expected() -> None:
    model = MODELS["ppo"]("fixup")
    with pytest.raises(ValueError, match="Stable-Baselines3 model"):
        batch_coupling(torch.nn.Linear(2, 2))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at least two different integers >= 1"):
        batch_coupling(model, batch_sizes=(1,))
    with pytest.raises(ValueError, match="at least two different integers >= 1"):
        batch_coupling(model, batch_sizes=(0, 8))
    with pytest.raises(ValueError, match="n must be an integer >= the largest batch size 64"):
        batch_coupling(model, n=10, batch_sizes=BATCH_SIZES)
    with pytest.raises(ValueError, match="exceeds the 5 observations given"):
        batch_coupling(model, np.zeros((5, 3), np.float32), batch_sizes=(1, 8))


def test_tolerance_is_the_documented_one() -> None:
    assert TOLERANCE == 1e-4
    result = batch_coupling(MODELS["ppo"]("fixup"), batch_sizes=(1, 8), tolerance=0.0)
    assert result["tolerance"] == 0.0
