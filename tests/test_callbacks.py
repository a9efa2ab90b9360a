"""Tests of FixupMetricsCallback: what it logs, when, and that it never changes training."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium import spaces
from stable_baselines3 import A2C, PPO, SAC, TD3
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.logger import Logger
from stable_baselines3.common.vec_env import VecNormalize
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from torch import nn

from fixup_rl import (
    FixupActorCriticCnnPolicy,
    FixupActorCriticPolicy,
    FixupMlpExtractor,
    FixupMultiInputActorCriticPolicy,
    FixupSACMultiInputPolicy,
    FixupSACPolicy,
    FixupTD3Policy,
    ResidualMLP,
)
from fixup_rl.callbacks import FixupMetricsCallback, evenly_spaced, find_residual_networks

SMALL = dict(num_blocks=2, width=16)  # copied at each use: SB3 writes into policy_kwargs
OFF_POLICY = dict(learning_starts=50, batch_size=32, buffer_size=1000)


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    # The networks here are tiny: a second thread only adds overhead, and on a busy machine
    # thread contention slows these runs down tenfold.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


class RecordingLogger(Logger):
    """An SB3 logger that keeps every recorded value with ``snapshot()`` taken at that moment."""

    def __init__(self, snapshot: Callable[[], Any] = lambda: None) -> None:
        super().__init__(folder=None, output_formats=[])
        self.snapshot = snapshot
        self.records: list[tuple[str, Any, Any]] = []

    def record(self, key: str, value: Any, exclude: str | tuple[str, ...] | None = None) -> None:
        super().record(key, value, exclude)
        self.records.append((key, value, self.snapshot()))

    def values(self, key: str) -> list[Any]:
        return [value for recorded, value, _ in self.records if recorded == key]

    def snapshots(self, key: str) -> list[Any]:
        return [snapshot for recorded, _, snapshot in self.records if recorded == key]

    def fixup_keys(self) -> set[str]:
        return {key for key, _, _ in self.records if key.startswith("fixup/")}


class ImageEnv(gym.Env):
    """Random 16x16 RGB images, a 2-d continuous action, 10 steps per episode."""

    observation_space = spaces.Box(0, 255, (16, 16, 3), dtype=np.uint8)
    action_space = spaces.Box(-1.0, 1.0, (2,), dtype=np.float32)

    def reset(self, *, seed: int | None = None, options: Any = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        self._steps = 0
        return self.observation_space.sample(), {}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        self._steps += 1
        reward = -float(np.square(action).sum())
        return self.observation_space.sample(), reward, False, self._steps >= 10, {}


class DictEnv(gym.Env):
    """A Dict of a vector and a Discrete observation, a 2-d continuous action."""

    observation_space = spaces.Dict(
        {"state": spaces.Box(-1.0, 1.0, (3,), dtype=np.float32), "mode": spaces.Discrete(4)}
    )
    action_space = spaces.Box(-1.0, 1.0, (2,), dtype=np.float32)

    def reset(self, *, seed: int | None = None, options: Any = None) -> tuple[dict, dict]:
        super().reset(seed=seed)
        self.observation_space.seed(seed)
        self._steps = 0
        return self.observation_space.sample(), {}

    def step(self, action: Any) -> tuple[dict, float, bool, bool, dict]:
        self._steps += 1
        reward = -float(np.square(action).sum())
        return self.observation_space.sample(), reward, False, self._steps >= 10, {}


def make_ppo(env: Any = "Pendulum-v1", **kwargs: Any) -> PPO:
    return PPO(
        FixupActorCriticPolicy,
        env,
        n_steps=64,
        batch_size=64,
        n_epochs=2,
        policy_kwargs=dict(SMALL, **kwargs),
        seed=0,
    )


def make_sac(env: Any = "Pendulum-v1") -> SAC:
    return SAC(FixupSACPolicy, env, policy_kwargs=dict(SMALL), seed=0, **OFF_POLICY)


# (model, steps of learn(), the networks the callback must find)
RUNS = {
    "ppo": (make_ppo, 128, ["pi", "vf"]),
    "sac": (make_sac, 80, ["actor", "critic.qf0", "critic.qf1"]),
    "td3": (
        lambda: TD3(FixupTD3Policy, "Pendulum-v1", policy_kwargs=dict(SMALL), seed=0, **OFF_POLICY),
        80,
        ["actor", "critic.qf0", "critic.qf1"],
    ),
    "a2c-extractor": (
        lambda: A2C(
            "MlpPolicy",
            "Pendulum-v1",
            n_steps=8,
            policy_kwargs=dict(
                features_extractor_class=FixupMlpExtractor,
                features_extractor_kwargs=dict(features_dim=16, num_blocks=3),
            ),
            seed=0,
        ),
        32,
        ["features"],
    ),
    "a2c-impala": (
        lambda: A2C(
            FixupActorCriticCnnPolicy,
            ImageEnv(),
            n_steps=8,
            policy_kwargs=dict(
                SMALL,
                features_extractor_kwargs=dict(features_dim=16, channels=(4,), blocks_per_stage=2),
            ),
            seed=0,
        ),
        32,
        ["features", "pi", "vf"],
    ),
    "ppo-dict": (
        lambda: PPO(
            FixupMultiInputActorCriticPolicy,
            DictEnv(),
            n_steps=64,
            batch_size=64,
            n_epochs=2,
            policy_kwargs=dict(SMALL, features_extractor_kwargs=dict(mlp_features_dim=8)),
            seed=0,
        ),
        128,
        ["features.state", "features.mode", "pi", "vf"],
    ),
    "sac-dict": (
        lambda: SAC(
            FixupSACMultiInputPolicy,
            DictEnv(),
            policy_kwargs=dict(SMALL, features_extractor_kwargs=dict(mlp_features_dim=8)),
            seed=0,
            **OFF_POLICY,
        ),
        80,
        # SAC gives actor and critic each their own features extractor.
        [
            "actor.features.state",
            "actor.features.mode",
            "actor",
            "critic.features.state",
            "critic.features.mode",
            "critic.qf0",
            "critic.qf1",
        ],
    ),
}


def first_fixup_block(model: BaseAlgorithm) -> nn.Module:
    return next(iter(find_residual_networks(model.policy).values())).blocks[0]


@pytest.mark.parametrize("run", RUNS)
def test_every_residual_network_is_logged_with_finite_values(run: str) -> None:
    make, steps, names = RUNS[run]
    model = make()
    logger = RecordingLogger()
    model.set_logger(logger)

    model.learn(steps, callback=FixupMetricsCallback(log_every=1))

    assert sorted({key.split("/")[1] for key in logger.fixup_keys()}) == sorted(names)
    for name in names:
        network = find_residual_networks(model.policy)[name]
        for i in range(len(network.blocks)):
            assert f"fixup/{name}/block{i}/scale" in logger.fixup_keys()
            assert f"fixup/{name}/block{i}/branch_ratio" in logger.fixup_keys()
            assert f"fixup/{name}/block{i}/grad_norm" in logger.fixup_keys()
        assert f"fixup/{name}/branch_ratio_mean" in logger.fixup_keys()
        assert f"fixup/{name}/grad_norm_max" in logger.fixup_keys()
    for key, value, _ in logger.records:
        if key.startswith("fixup/"):
            assert isinstance(value, float) and math.isfinite(value), (key, value)


@pytest.mark.parametrize(
    ("make", "steps", "log_every", "expected_updates"),
    [
        # PPO counts one update per epoch: after k rollouts it has made 2k updates.
        pytest.param(make_ppo, 6 * 64, 1, [0, 2, 4, 6, 8, 10], id="ppo-every-1"),
        pytest.param(make_ppo, 6 * 64, 4, [0, 4, 8], id="ppo-every-4"),
        pytest.param(make_ppo, 6 * 64, 3, [0, 4, 8], id="ppo-every-3"),
        # SAC makes one update per step after learning_starts=50: 69 updates in 120 steps.
        pytest.param(make_sac, 120, 20, [0, 20, 40, 60], id="sac-every-20"),
    ],
)
def test_measurements_follow_log_every(
    make: Callable[[], BaseAlgorithm], steps: int, log_every: int, expected_updates: list[int]
) -> None:
    model = make()
    block = first_fixup_block(model)
    name = next(iter(find_residual_networks(model.policy)))
    logger = RecordingLogger(lambda: (model._n_updates, block.scale.item()))
    model.set_logger(logger)

    model.learn(steps, callback=FixupMetricsCallback(log_every=log_every))

    key = f"fixup/{name}/block0/scale"
    assert [updates for updates, _ in logger.snapshots(key)] == expected_updates
    assert logger.values(key) == [scale for _, scale in logger.snapshots(key)]


@pytest.mark.parametrize("make", [make_ppo, make_sac], ids=["ppo", "sac"])
def test_branch_ratio_starts_at_zero_and_grows(make: Callable[[], BaseAlgorithm]) -> None:
    model = make()
    logger = RecordingLogger()
    model.set_logger(logger)

    model.learn(6 * 64 if isinstance(model, PPO) else 120, callback=FixupMetricsCallback(4))

    for name, network in find_residual_networks(model.policy).items():
        for i in range(len(network.blocks)):
            ratios = logger.values(f"fixup/{name}/block{i}/branch_ratio")
            # Fixup zeroes each branch's last layer: every block starts as the identity.
            assert ratios[0] == 0.0
            assert ratios[-1] > 0.0, (name, i)
            grad_norms = logger.values(f"fixup/{name}/block{i}/grad_norm")
            # Nothing to report before the first update.
            assert len(grad_norms) == len(ratios) - 1


@pytest.mark.parametrize("make", [make_ppo, make_sac], ids=["ppo", "sac"])
def test_training_is_the_same_with_and_without_the_callback(
    make: Callable[[], BaseAlgorithm],
) -> None:
    steps = 3 * 64 if make is make_ppo else 120
    results = []
    for callback in (None, FixupMetricsCallback(log_every=1, verbose=2)):
        model = make()
        model.set_logger(RecordingLogger())
        model.learn(steps, callback=callback)
        results.append((model.policy.state_dict(), torch.get_rng_state(), np.random.get_state()))

    (params, torch_rng, numpy_rng), (params_cb, torch_rng_cb, numpy_rng_cb) = results
    for key in params:
        assert torch.equal(params[key], params_cb[key]), key
    assert torch.equal(torch_rng, torch_rng_cb)
    assert np.array_equal(numpy_rng[1], numpy_rng_cb[1]) and numpy_rng[2] == numpy_rng_cb[2]


@pytest.mark.parametrize("norm", ["batchnorm", "layernorm", "rezero"])
def test_other_residual_schemes_log_ratios_and_gradients_only(norm: str) -> None:
    model = make_ppo(norm=norm)
    callback = FixupMetricsCallback()
    model.learn(128, callback=callback)
    model.policy.train(True)
    model.policy.mlp_extractor.value_net.train(False)
    modes = {name: module.training for name, module in model.policy.named_modules()}
    state = {key: value.clone() for key, value in model.policy.state_dict().items()}
    grads = {name: param.grad.clone() for name, param in model.policy.named_parameters()}

    metrics = callback.compute_metrics()

    assert not any(key.endswith("/scale") for key in metrics)
    assert "fixup/pi/block1/branch_ratio" in metrics and "fixup/vf/block1/grad_norm" in metrics
    # Measuring changed nothing: parameters, BatchNorm statistics, gradients, train/eval modes.
    for key, value in model.policy.state_dict().items():
        assert torch.equal(value, state[key]), key
    for name, param in model.policy.named_parameters():
        assert torch.equal(param.grad, grads[name]), name
    assert {name: module.training for name, module in model.policy.named_modules()} == modes


def test_measuring_creates_no_gradients() -> None:
    model = make_ppo()
    callback = FixupMetricsCallback()
    model.learn(128, callback=callback)
    model.policy.zero_grad(set_to_none=True)

    metrics = callback.compute_metrics()

    assert all(param.grad is None for param in model.policy.parameters())
    assert "fixup/pi/block0/branch_ratio" in metrics
    assert not any("grad_norm" in key for key in metrics)


def test_max_blocks_logs_evenly_spaced_blocks_and_summaries_over_all() -> None:
    model = make_ppo(num_blocks=5)
    callback = FixupMetricsCallback(max_blocks=3)
    model.learn(128, callback=callback)

    metrics = callback.compute_metrics()

    logged = {int(key.split("/")[2][5:]) for key in metrics if key.startswith("fixup/pi/block")}
    assert logged == {0, 2, 4}
    callback.max_blocks = None
    full = callback.compute_metrics()
    assert metrics["fixup/pi/branch_ratio_mean"] == full["fixup/pi/branch_ratio_mean"]
    assert metrics["fixup/pi/grad_norm_max"] == full["fixup/pi/grad_norm_max"]


@pytest.mark.parametrize(
    ("n", "k", "expected"),
    [(10, 4, [0, 3, 6, 9]), (5, None, [0, 1, 2, 3, 4]), (3, 5, [0, 1, 2]), (7, 1, [0])],
)
def test_evenly_spaced(n: int, k: int | None, expected: list[int]) -> None:
    assert evenly_spaced(n, k) == expected


def test_replay_observations_are_normalized_as_in_training() -> None:
    env = VecNormalize(make_vec_env("Pendulum-v1", n_envs=1, seed=0))
    model = SAC(FixupSACPolicy, env, policy_kwargs=dict(SMALL), seed=0, **OFF_POLICY)
    callback = FixupMetricsCallback()
    model.learn(100, callback=callback)

    observations, actions = callback._probe()

    buffer = model.replay_buffer
    picked = np.unique(np.linspace(0, buffer.pos - 1, callback.probe_size).round().astype(int))
    batch = buffer._get_samples(picked, env=env)
    assert torch.equal(observations, batch.observations)
    assert torch.equal(actions, batch.actions)
    assert not torch.equal(observations, buffer.to_torch(buffer.observations[picked, 0]))


def test_tensorboard_events_hold_fixup_tags(tmp_path: Path) -> None:
    model = PPO(
        FixupActorCriticPolicy,
        "Pendulum-v1",
        n_steps=64,
        batch_size=64,
        n_epochs=2,
        policy_kwargs=dict(SMALL),
        tensorboard_log=str(tmp_path),
        seed=0,
    )

    model.learn(128, callback=FixupMetricsCallback(log_every=1))

    (events,) = tmp_path.rglob("events.out.tfevents.*")
    accumulator = EventAccumulator(str(events))
    accumulator.Reload()
    tags = accumulator.Tags()["scalars"]
    assert "fixup/pi/block0/scale" in tags
    assert "fixup/vf/branch_ratio_mean" in tags
    assert [event.step for event in accumulator.Scalars("fixup/pi/block1/branch_ratio")] == [
        64,
        128,
    ]


def test_a_policy_without_residual_networks_is_warned_about() -> None:
    model = A2C("MlpPolicy", "Pendulum-v1", n_steps=8, seed=0)
    callback = FixupMetricsCallback()

    with pytest.warns(UserWarning, match="found no ResidualMLP or ImpalaCNN"):
        callback.init_callback(model)


def test_clashing_short_names_keep_their_full_paths() -> None:
    class Ensemble(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.nets = nn.ModuleList(ResidualMLP(3, 8, 2) for _ in range(2))
            self.head = nn.Sequential(ResidualMLP(3, 8, 1))
            self.head_target = nn.Sequential(ResidualMLP(3, 8, 1))

    assert list(find_residual_networks(Ensemble())) == ["nets.0", "nets.1", "head"]


@pytest.mark.parametrize("value", [0, -3, 2.5, "10", True, None])
def test_log_every_must_be_a_positive_integer(value: Any) -> None:
    with pytest.raises(ValueError, match=r"log_every must be an integer >= 1"):
        FixupMetricsCallback(log_every=value)


@pytest.mark.parametrize("value", [0, 1.5])
def test_max_blocks_must_be_a_positive_integer_or_none(value: Any) -> None:
    with pytest.raises(ValueError, match=r"max_blocks must be an integer >= 1"):
        FixupMetricsCallback(max_blocks=value)
