"""Every public constructor refuses a bad value with a message naming the parameter and value.

Each row feeds one bad value to one parameter and expects a ``ValueError`` whose message names
the parameter, shows the value and says what is accepted: never a traceback from inside torch
or SB3.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces
from stable_baselines3 import PPO, SAC, TD3
from stable_baselines3.common.vec_env import DummyVecEnv
from torch import nn

from fixup_rl import (
    FixupActorCriticPolicy,
    FixupBlock,
    FixupCnnExtractor,
    FixupCombinedExtractor,
    FixupMetricsCallback,
    FixupMlpExtractor,
    FixupSACPolicy,
    FixupTD3Policy,
    ImpalaCNN,
    ResidualMLP,
    fixup_param_groups,
    fixup_scale,
    fold,
)
from fixup_rl.agents import resolve_config
from fixup_rl.bench import LearningRun, SpeedConfig, ThroughputConfig
from fixup_rl.envs import PhysicsRandomization, make_vec_env
from fixup_rl.export import export_policy
from fixup_rl.nn import (
    BatchNormBlock,
    LayerNormBlock,
    PlainBlock,
    ReZeroBlock,
    SkipInitBlock,
    make_block,
)
from fixup_rl.reliability import RestoreRngCallback, VecCheckFinite, check_env_finite
from fixup_rl.sb3 import keep_lr_scales
from fixup_rl.sweep import Space, SweepSpec, check_sweep, run_sweep

BOX = spaces.Box(-1.0, 1.0, (3,), np.float32)
IMAGE = spaces.Box(0, 255, (3, 16, 16), np.uint8)
DICT = spaces.Dict({"state": BOX, "camera": IMAGE})


def _lr(_: float) -> float:
    return 1e-3


def _ppo(**policy_kwargs: Any) -> PPO:
    return PPO(FixupActorCriticPolicy, "Pendulum-v1", policy_kwargs=policy_kwargs, device="cpu")


def _sac(**policy_kwargs: Any) -> SAC:
    return SAC(FixupSACPolicy, "Pendulum-v1", policy_kwargs=policy_kwargs, device="cpu")


def _tiny_sweep() -> SweepSpec:
    return check_sweep({"params": {"algo": "ppo", "env": "Pendulum-v1", "n_timesteps": 64}})


def _hopper(**kwargs: Any) -> PhysicsRandomization:
    return PhysicsRandomization(gym.make("Hopper-v5"), **kwargs)


# name: (the call, the parameter, the bad value as the message shows it, what is accepted)
Row = tuple[Callable[[], Any], str, str, str]
ROWS: dict[str, Row] = {
    # The core networks and blocks.
    "ResidualMLP in_dim": (lambda: ResidualMLP(0, 8, 1), "in_dim", "0", "integer >= 1"),
    "ResidualMLP width": (lambda: ResidualMLP(3, "8", 1), "width", "'8'", "integer >= 1"),
    "ResidualMLP num_blocks": (lambda: ResidualMLP(3, 8, -1), "num_blocks", "-1", ">= 1"),
    "ResidualMLP m": (lambda: ResidualMLP(3, 8, 1, m=1), "m", "1", "integer >= 2"),
    "ResidualMLP norm": (lambda: ResidualMLP(3, 8, 1, norm="bn"), "norm", "'bn'", "one of"),
    "ResidualMLP activation instance": (
        lambda: ResidualMLP(3, 8, 1, activation_fn=nn.ReLU()),
        "activation_fn",
        "ReLU()",
        "an activation class such as nn.ReLU",
    ),
    "FixupBlock width": (lambda: FixupBlock(0, 2), "width", "0", "integer >= 1"),
    "FixupBlock num_blocks": (lambda: FixupBlock(8, 0), "num_blocks", "0", "integer >= 1"),
    "FixupBlock m": (lambda: FixupBlock(8, 2, m=1), "m", "1", "integer >= 2"),
    "FixupBlock kind": (
        lambda: FixupBlock(8, 2, kind="dense"),
        "kind",
        "'dense'",
        "one of 'linear', 'conv'",
    ),
    "FixupBlock activation": (
        lambda: FixupBlock(8, 2, activation_fn="relu"),
        "activation_fn",
        "'relu'",
        "nn.Module subclass",
    ),
    **{
        f"{block.__name__} {name}": (lambda b=block, k=kwargs: b(**k), name, shown, accepted)
        for block in (PlainBlock, BatchNormBlock, LayerNormBlock, ReZeroBlock, SkipInitBlock)
        for name, kwargs, shown, accepted in (
            ("width", {"width": -2}, "-2", "integer >= 1"),
            ("m", {"width": 8, "m": 0}, "0", "integer >= 1"),
            ("kind", {"width": 8, "kind": "3d"}, "'3d'", "one of 'linear', 'conv'"),
        )
    },
    "make_block norm": (
        lambda: make_block("bn", 8, 2, 2, nn.ReLU, "linear"),
        "norm",
        "'bn'",
        "one of 'fixup'",
    ),
    "ImpalaCNN observation_shape": (
        lambda: ImpalaCNN((3, 16)),
        "observation_shape",
        "(3, 16)",
        "a sequence of 3 integers >= 1",
    ),
    "ImpalaCNN channels as an int": (
        lambda: ImpalaCNN((3, 16, 16), channels=16),
        "channels",
        "16",
        "a sequence of one or more integers >= 1",
    ),
    "ImpalaCNN no channels": (
        lambda: ImpalaCNN((3, 16, 16), channels=()),
        "channels",
        "()",
        "one or more integers",
    ),
    "ImpalaCNN blocks_per_stage": (
        lambda: ImpalaCNN((3, 16, 16), blocks_per_stage=0),
        "blocks_per_stage",
        "0",
        "integer >= 1",
    ),
    # The SB3 extractors.
    "FixupMlpExtractor features_dim": (
        lambda: FixupMlpExtractor(BOX, 0),
        "features_dim",
        "0",
        "integer >= 1",
    ),
    "FixupMlpExtractor observation space": (
        lambda: FixupMlpExtractor(spaces.Text(4)),
        "observation space",
        "Text(",
        "supported: Box",
    ),
    "FixupCnnExtractor normalized_image": (
        lambda: FixupCnnExtractor(IMAGE, normalized_image="yes"),
        "normalized_image",
        "'yes'",
        "True or False",
    ),
    "FixupCnnExtractor channels": (
        lambda: FixupCnnExtractor(IMAGE, channels=[]),
        "channels",
        "[]",
        "one or more integers",
    ),
    "FixupCombinedExtractor mlp_features_dim": (
        lambda: FixupCombinedExtractor(DICT, mlp_features_dim=0),
        "mlp_features_dim",
        "0",
        "integer >= 1",
    ),
    "FixupCombinedExtractor cnn_output_dim": (
        lambda: FixupCombinedExtractor(DICT, cnn_output_dim=-1),
        "cnn_output_dim",
        "-1",
        "integer >= 1",
    ),
    # The policies, through policy_kwargs as SB3 users pass them.
    "PPO width": (lambda: _ppo(width=0), "width", "0", "integer >= 1"),
    "PPO num_blocks per network": (
        lambda: _ppo(num_blocks={"pi": 2}),
        "num_blocks",
        "{'pi': 2}",
        "an int or a dict with the keys ['pi', 'vf']",
    ),
    "PPO m": (lambda: _ppo(m=1), "m", "1", "integer >= 2"),
    "PPO norm": (lambda: _ppo(norm="bn"), "norm", "'bn'", "one of 'fixup'"),
    "PPO scalar_lr_scale": (lambda: _ppo(scalar_lr_scale=0), "scalar_lr_scale", "0", "> 0"),
    "PPO depth_aware": (lambda: _ppo(depth_aware="yes"), "depth_aware", "'yes'", "True or False"),
    "PPO activation_fn": (lambda: _ppo(activation_fn="tanh"), "activation_fn", "'tanh'", "such as"),
    "PPO net_arch": (lambda: _ppo(net_arch=[64]), "net_arch", "[64]", "num_blocks and width"),
    "policy action_space": (
        lambda: FixupActorCriticPolicy(BOX, "continuous", _lr),
        "action_space",
        "'continuous'",
        "Box, Discrete, MultiDiscrete, MultiBinary",
    ),
    "SAC width": (lambda: _sac(width=-1), "width", "-1", "integer >= 1"),
    "SAC width per network": (
        lambda: _sac(width={"pi": 8, "vf": 8}),
        "width",
        "{'pi': 8, 'vf': 8}",
        "['pi', 'qf']",
    ),
    "SAC n_critics": (lambda: _sac(n_critics=0), "n_critics", "0", "integer >= 1"),
    "SAC depth_aware": (lambda: _sac(depth_aware=2), "depth_aware", "2", "True or False"),
    "SAC policy with discrete actions": (
        lambda: FixupSACPolicy(BOX, spaces.Discrete(3), _lr),
        "action_space",
        "Discrete(3)",
        "must be one of: Box",
    ),
    "TD3 num_blocks": (
        lambda: TD3(FixupTD3Policy, "Pendulum-v1", policy_kwargs=dict(num_blocks=0)),
        "num_blocks",
        "0",
        "integer >= 1",
    ),
    # Optimizer groups, folding, the scale rule, the callback.
    "fixup_param_groups module": (
        lambda: fixup_param_groups("net", 1e-3),
        "module",
        "str",
        "torch.nn.Module",
    ),
    "fixup_param_groups lr": (
        lambda: fixup_param_groups(nn.Linear(2, 2), -1),
        "lr",
        "-1",
        "a finite number > 0",
    ),
    "fixup_param_groups weight_decay": (
        lambda: fixup_param_groups(nn.Linear(2, 2), 1e-3, weight_decay=float("nan")),
        "weight_decay",
        "nan",
        "a finite number >= 0",
    ),
    "fixup_param_groups scalar_lr_scale": (
        lambda: fixup_param_groups(nn.Linear(2, 2), 1e-3, scalar_lr_scale=0),
        "scalar_lr_scale",
        "0",
        "> 0",
    ),
    "fixup_param_groups depth_aware": (
        lambda: fixup_param_groups(nn.Linear(2, 2), 1e-3, depth_aware="yes"),
        "depth_aware",
        "'yes'",
        "True or False",
    ),
    "fixup_param_groups adaptive": (
        lambda: fixup_param_groups(nn.Linear(2, 2), 1e-3, adaptive=None),
        "adaptive",
        "None",
        "True or False",
    ),
    "fold module": (lambda: fold([nn.Linear(2, 2)]), "module", "list", "torch.nn.Module"),
    "fixup_scale num_blocks": (lambda: fixup_scale(0, 2), "num_blocks", "0", "integer >= 1"),
    "fixup_scale m": (lambda: fixup_scale(4, 1.5), "m", "1.5", "integer >= 2"),
    "keep_lr_scales optimizer": (
        lambda: keep_lr_scales("adam"),
        "optimizer",
        "str",
        "a torch.optim.Optimizer",
    ),
    "FixupMetricsCallback log_every": (
        lambda: FixupMetricsCallback(log_every=0),
        "log_every",
        "0",
        "integer >= 1",
    ),
    "FixupMetricsCallback max_blocks": (
        lambda: FixupMetricsCallback(max_blocks=-3),
        "max_blocks",
        "-3",
        "integer >= 1",
    ),
    "FixupMetricsCallback verbose": (
        lambda: FixupMetricsCallback(verbose="loud"),
        "verbose",
        "'loud'",
        "integer >= 0",
    ),
    # Environments.
    "make_vec_env env_id": (
        lambda: make_vec_env("Pendulum-v0"),
        "env_id",
        "'Pendulum-v0'",
        "Did you mean 'Pendulum-v1'",
    ),
    "make_vec_env n_envs": (lambda: make_vec_env("Pendulum-v1", n_envs=0), "n_envs", "0", ">= 1"),
    "make_vec_env seed": (lambda: make_vec_env("Pendulum-v1", seed=-1), "seed", "-1", ">= 0"),
    "make_vec_env vec_env_cls": (
        lambda: make_vec_env("Pendulum-v1", vec_env_cls="DummyVecEnv"),
        "vec_env_cls",
        "'DummyVecEnv'",
        "a VecEnv class",
    ),
    "make_vec_env normalize": (
        lambda: make_vec_env("Pendulum-v1", normalize="yes"),
        "normalize",
        "'yes'",
        "True or False",
    ),
    "make_vec_env gamma": (
        lambda: make_vec_env("Pendulum-v1", gamma=1.5),
        "gamma",
        "1.5",
        "a number in [0, 1]",
    ),
    "make_vec_env env_kwargs": (
        lambda: make_vec_env("Pendulum-v1", env_kwargs=["g", 9.8]),
        "env_kwargs",
        "['g', 9.8]",
        "a dict of keyword arguments or None",
    ),
    "make_vec_env vec_env_kwargs": (
        lambda: make_vec_env("Pendulum-v1", vec_env_kwargs=3),
        "vec_env_kwargs",
        "3",
        "a dict of keyword arguments or None",
    ),
    "make_vec_env normalize_kwargs": (
        lambda: make_vec_env("Pendulum-v1", normalize=True, normalize_kwargs={"gamma": 0.9}),
        "normalize_kwargs",
        "gamma",
        "pass norm_obs, norm_reward and gamma as arguments",
    ),
    "make_vec_env monitor_dir": (
        lambda: make_vec_env("Pendulum-v1", monitor_dir=3),
        "monitor_dir",
        "3",
        "a folder path or None",
    ),
    "PhysicsRandomization env": (
        lambda: PhysicsRandomization("Hopper-v5"),
        "env",
        "'Hopper-v5'",
        "a gymnasium.Env",
    ),
    "PhysicsRandomization mass_range": (
        lambda: _hopper(mass_range=(0, 1)),
        "mass_range",
        "(0, 1)",
        "0 < low <= high",
    ),
    "PhysicsRandomization friction_range": (
        lambda: _hopper(friction_range=(2.0, 1.0)),
        "friction_range",
        "(2.0, 1.0)",
        "0 < low <= high",
    ),
    "PhysicsRandomization damping_range": (
        lambda: _hopper(damping_range="wide"),
        "damping_range",
        "'wide'",
        "a pair (low, high)",
    ),
    # Agents and export.
    "resolve_config depth": (
        lambda: resolve_config("ppo", "Pendulum-v1", depth=0),
        "depth",
        "0",
        "an integer >= 1",
    ),
    "resolve_config net": (
        lambda: resolve_config("ppo", "Pendulum-v1", net="resnet"),
        "net",
        "'resnet'",
        "one of 'fixup', 'mlp'",
    ),
    "export_policy vec_normalize": (
        lambda: export_policy(_ppo(width=8), "unused", vec_normalize="stats.pkl"),
        "vec_normalize",
        "'stats.pkl'",
        "a VecNormalize wrapper or None",
    ),
    # Reliability.
    "VecCheckFinite venv": (lambda: VecCheckFinite("envs"), "venv", "str", "an SB3 VecEnv"),
    "VecCheckFinite num_steps": (
        lambda: VecCheckFinite(DummyVecEnv([lambda: gym.make("Pendulum-v1")]), num_steps=-5),
        "num_steps",
        "-5",
        "an integer >= 0",
    ),
    "check_env_finite env": (lambda: check_env_finite(None), "env", "NoneType", "an SB3 VecEnv"),
    "RestoreRngCallback state": (
        lambda: RestoreRngCallback({"numpy": []}),
        "state",
        "['numpy']",
        "the keys action_space, cuda, envs, numpy, python, torch",
    ),
    # Benchmarks.
    "SpeedConfig batch_sizes": (
        lambda: SpeedConfig(batch_sizes=(0,)),
        "batch_sizes",
        "(0,)",
        "a sequence of one or more integers >= 1",
    ),
    "SpeedConfig device": (lambda: SpeedConfig(device="tpu"), "device", "'tpu'", "one of 'cpu'"),
    "ThroughputConfig repeats": (
        lambda: ThroughputConfig(repeats=0),
        "repeats",
        "0",
        "an integer >= 1",
    ),
    "ThroughputConfig nets": (
        lambda: ThroughputConfig(nets=("fixup",)),
        "nets",
        "('fixup',)",
        "includes 'mlp'",
    ),
    "ThroughputConfig device": (
        lambda: ThroughputConfig(device="auto"),
        "device",
        "'auto'",
        "one of 'cpu'",
    ),
    "LearningRun depth": (
        lambda: LearningRun("ppo", "Pendulum-v1", "fixup", 0, 64, 0, 1000, 100),
        "depth",
        "0",
        "an integer >= 1",
    ),
    "LearningRun net": (
        lambda: LearningRun("ppo", "Pendulum-v1", "resnet", 8, 64, 0, 1000, 100),
        "net",
        "'resnet'",
        "one of 'sb3', 'zoo', 'fixup'",
    ),
    # Sweeps (Ray Tune is imported only when a sweep runs).
    "Space kind": (lambda: Space("bogus", ()), "kind", "'bogus'", "one of 'fixed', 'grid'"),
    "run_sweep spec": (lambda: run_sweep("sweep.yaml"), "spec", "str", "a SweepSpec"),
    "run_sweep num_cpus": (
        lambda: run_sweep(_tiny_sweep(), num_cpus=0),
        "num_cpus",
        "0",
        "an integer >= 1",
    ),
    "run_sweep name": (
        lambda: run_sweep(_tiny_sweep(), name="a/b"),
        "name",
        "'a/b'",
        "a folder name without path separators",
    ),
    "run_sweep a spec built by hand": (
        lambda: run_sweep(SweepSpec("s", _tiny_sweep().params, search="bayes")),
        "search",
        "'bayes'",
        "one of 'grid'",
    ),
}


@pytest.mark.parametrize(("call", "name", "shown", "accepted"), ROWS.values(), ids=list(ROWS))
def test_bad_values_are_refused_naming_parameter_value_and_what_is_accepted(
    call: Callable[[], Any], name: str, shown: str, accepted: str
) -> None:
    with pytest.raises(ValueError) as error:
        call()

    message = str(error.value)
    assert name in message, message
    assert shown in message, message
    assert accepted in message, message
