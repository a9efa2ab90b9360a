"""resolve_config: overrides, the network rule, and the errors for bad input."""

from __future__ import annotations

import json
from typing import Any

import pytest

from fixup_rl.agents import ALGOS, NETS, hidden_layers, make_agent, resolve_config
from fixup_rl.agents.schema import ON_POLICY


def test_the_default_is_the_recipe_with_a_fixup_network() -> None:
    config = resolve_config("ppo", "Pendulum-v1")

    assert config["algo"] == "ppo" and config["env_id"] == "Pendulum-v1"
    assert (config["net"], config["depth"], config["width"]) == ("fixup", 2, 64)
    assert (config["n_envs"], config["n_timesteps"], config["seed"]) == (4, 100000, 0)
    assert config["device"] == "auto"
    assert config["normalize"] == {"norm_obs": True, "norm_reward": True}
    assert config["hyperparams"]["n_steps"] == 1024
    assert config["policy"] == "FixupActorCriticPolicy"
    assert config["policy_kwargs"] == {
        "num_blocks": 2,
        "width": 64,
        "norm": "fixup",
        "activation_fn": "ReLU",
    }
    json.dumps(config)  # plain data


def test_overrides_replace_recipe_values() -> None:
    config = resolve_config(
        "ppo",
        "MountainCarContinuous-v0",
        net="layernorm",
        depth=3,
        width=32,
        seed=7,
        n_envs=2,
        n_timesteps=500,
        device="cpu",
        normalize={"norm_obs": True, "norm_reward": False},
        n_steps=16,
        learning_rate={"schedule": "linear", "initial": 3.0e-4},
        policy_kwargs={"log_std_init": -1.0},
    )

    assert (config["net"], config["depth"], config["width"]) == ("layernorm", 3, 32)
    assert (config["seed"], config["n_envs"], config["n_timesteps"]) == (7, 2, 500)
    assert config["device"] == "cpu"
    assert config["normalize"] == {"norm_obs": True, "norm_reward": False}
    assert config["hyperparams"]["n_steps"] == 16
    assert config["hyperparams"]["learning_rate"] == {
        "schedule": "linear",
        "initial": 3.0e-4,
        "final": 0.0,
    }
    # The recipe's other policy_kwargs stay; the override is merged in.
    assert config["policy_kwargs"]["log_std_init"] == -1.0
    assert config["policy_kwargs"]["ortho_init"] is False
    assert config["policy_kwargs"]["norm"] == "layernorm"


def test_normalize_true_means_observations_and_rewards() -> None:
    assert resolve_config("sac", "Pendulum-v1", normalize=True)["normalize"] == {
        "norm_obs": True,
        "norm_reward": True,
    }
    assert resolve_config("a2c", "Pendulum-v1", normalize=False)["normalize"] is False


@pytest.mark.parametrize("depth", [1, 3], ids=lambda d: f"depth{d}")
@pytest.mark.parametrize("algo", ALGOS)
def test_mlp_has_as_many_hidden_layers_as_the_residual_network(algo: str, depth: int) -> None:
    config = resolve_config(algo, "Pendulum-v1", net="mlp", depth=depth, width=8)

    assert config["policy"] == "MlpPolicy"
    net_arch = config["policy_kwargs"]["net_arch"]
    layers = net_arch["pi"] if algo in ON_POLICY else net_arch
    assert layers == [8] * hidden_layers(algo, depth)
    assert hidden_layers(algo, depth) == 1 + 2 * depth + (algo == "tqc")


def test_tqc_puts_the_residual_network_in_a_features_extractor() -> None:
    config = resolve_config("tqc", "Pendulum-v1", net="rezero", depth=3, width=32)

    assert config["policy"] == "MlpPolicy"
    assert config["policy_kwargs"]["features_extractor_class"] == "FixupMlpExtractor"
    assert config["policy_kwargs"]["features_extractor_kwargs"] == {
        "features_dim": 32,
        "num_blocks": 3,
        "norm": "rezero",
        "activation_fn": "ReLU",
    }
    assert config["policy_kwargs"]["net_arch"] == [32]


@pytest.mark.parametrize("net", [n for n in NETS if n != "mlp"])
def test_every_residual_net_is_a_norm_of_the_fixup_policies(net: str) -> None:
    config = resolve_config("td3", "Pendulum-v1", net=net)

    assert config["policy"] == "FixupTD3Policy"
    assert config["policy_kwargs"]["norm"] == net


BAD_INPUT: dict[str, tuple[tuple[str, str], dict[str, Any], str]] = {
    "unknown algo": (
        ("dqn", "Pendulum-v1"),
        {},
        r"algo must be one of ppo, a2c, sac, td3, tqc, got 'dqn'",
    ),
    "unknown env": (
        ("ppo", "Pendulum-v0"),
        {},
        r"got 'Pendulum-v0'\. Did you mean 'Pendulum-v1'\? Accepted ids: Pendulum-v1",
    ),
    "unknown net": (
        ("ppo", "Pendulum-v1"),
        {"net": "resnet"},
        r"net='resnet' is not accepted; expected one of 'fixup', 'mlp', 'layernorm'",
    ),
    "SAC on a discrete task": (
        ("sac", "CartPole-v1"),
        {},
        r"sac needs a continuous \(Box\) action space but CartPole-v1 has a discrete one; "
        r"use ppo or a2c",
    ),
    "unknown override": (
        ("ppo", "Pendulum-v1"),
        {"n_stepz": 3},
        r"override \(ppo on Pendulum-v1\): unknown key 'n_stepz' \(did you mean 'n_steps'\?\)",
    ),
    "hyperparameter of another algorithm": (
        ("sac", "Pendulum-v1"),
        {"n_epochs": 3},
        r"override \(sac on Pendulum-v1\): unknown key 'n_epochs'",
    ),
    "zero depth": (("ppo", "Pendulum-v1"), {"depth": 0}, r"depth=0 is not accepted"),
    "negative n_envs": (("ppo", "Pendulum-v1"), {"n_envs": -1}, r"n_envs=-1 is not accepted"),
    "zero budget": (("ppo", "Pendulum-v1"), {"n_timesteps": 0}, r"n_timesteps=0 is not"),
    "bool as an integer": (("ppo", "Pendulum-v1"), {"seed": True}, r"seed=True is not accepted"),
    "unknown device": (
        ("ppo", "Pendulum-v1"),
        {"device": "tpu"},
        r"device='tpu' is not accepted; expected one of 'auto', 'cpu', 'cuda'",
    ),
    "gamma above 1": (("a2c", "Pendulum-v1"), {"gamma": 1.5}, r"expected a number in \[0, 1\]"),
    "unknown activation": (
        ("ppo", "Pendulum-v1"),
        {"policy_kwargs": {"activation_fn": "nn.ReLU"}},
        r"policy_kwargs: activation_fn='nn.ReLU' is not accepted; expected one of 'ReLU'",
    ),
    "bad action noise": (
        ("td3", "Pendulum-v1"),
        {"action_noise": {"type": "uniform", "std": 0.1}},
        r"action_noise=.* is not accepted; expected null, or \{type: normal or ornstein",
    ),
}


@pytest.mark.parametrize(("args", "overrides", "match"), BAD_INPUT.values(), ids=list(BAD_INPUT))
def test_bad_input_is_a_clear_value_error(
    args: tuple[str, str], overrides: dict[str, Any], match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        resolve_config(*args, **overrides)


@pytest.mark.parametrize("net", ["mlp", "fixup"])
def test_gsde_works_with_both_sac_policies(net: str) -> None:
    model, env = make_agent("sac", "Pendulum-v1", net=net, depth=1, width=16, use_sde=True)
    model.learn(model.learning_starts + 8)

    assert model.use_sde is True
    env.close()
