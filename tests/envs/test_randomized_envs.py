"""Our registered fixup_rl/...Randomized-v0 ids: registration, checker, seeding, manuals."""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.envs.registration import load_env_creator

from fixup_rl.envs import RANDOMIZED, PhysicsRandomization, RandomizedTask, register_envs

RANDOMIZED_IDS = list(RANDOMIZED)
MANUAL_SECTIONS = (
    "**Action space.**",
    "**Observation space.**",
    "**Randomization.**",
    "**Rewards.**",
    "**Episode end.**",
    "*Termination*",
    "*Truncation*",
    "**Version history.**",
    "v0: initial version",
)


def test_registering_again_is_silent() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        register_envs()
        register_envs()
    assert all(env_id in gym.registry for env_id in RANDOMIZED_IDS)


def test_a_foreign_registration_of_our_id_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    env_id = "fixup_rl/HopperRandomized-v0"
    foreign = gym.spec("Hopper-v5")
    monkeypatch.setitem(gym.registry, env_id, foreign)

    with pytest.raises(ValueError, match="already registered with entry point"):
        register_envs()


@pytest.mark.parametrize("env_id", RANDOMIZED_IDS)
def test_registration_matches_the_catalogue(env_id: str) -> None:
    spec = gym.spec(env_id)
    creator = load_env_creator(spec.entry_point)
    base_id = RANDOMIZED[env_id].base_id

    assert spec.entry_point == RANDOMIZED[env_id].entry_point
    assert issubclass(creator, RandomizedTask)
    assert creator.base_id == base_id
    assert spec.max_episode_steps == gym.spec(base_id).max_episode_steps


@pytest.mark.parametrize("env_id", RANDOMIZED_IDS)
def test_manual_covers_every_section(env_id: str) -> None:
    doc = load_env_creator(gym.spec(env_id).entry_point).__doc__
    missing = [section for section in MANUAL_SECTIONS if section not in doc]
    assert not missing
    assert RANDOMIZED[env_id].base_id in doc


@pytest.mark.parametrize("env_id", RANDOMIZED_IDS)
def test_randomized_env_passes_the_env_checker(env_id: str, env_checker) -> None:
    env = gym.make(env_id)
    env_checker(env)  # the whole stack, our wrapper included
    env_checker(env.unwrapped)

    base = gym.make(RANDOMIZED[env_id].base_id)
    assert env.observation_space == base.observation_space
    assert env.action_space == base.action_space
    env.close()


@pytest.mark.parametrize("env_id", RANDOMIZED_IDS)
def test_randomized_env_reproduces_under_a_seed(env_id: str, rollout, same_record) -> None:
    first = rollout(env_id, seed=5)
    same_record(first, rollout(env_id, seed=5))

    other = rollout(env_id, seed=6)
    assert not np.array_equal(first[1]["mass"], other[1]["mass"])


@pytest.mark.parametrize("env_id", RANDOMIZED_IDS)
def test_randomized_env_stack_and_time_limit(env_id: str) -> None:
    env = gym.make(env_id)
    assert isinstance(env, gym.wrappers.TimeLimit)
    assert env.spec.max_episode_steps == 1000

    wrapper = env
    while not isinstance(wrapper, PhysicsRandomization):
        wrapper = wrapper.env
    assert type(wrapper) is load_env_creator(gym.spec(env_id).entry_point)
    assert env.unwrapped.mujoco_renderer.viewer is None


def test_ranges_and_base_kwargs_pass_through_make() -> None:
    env = gym.make("fixup_rl/HopperRandomized-v0", mass_range=(1.3, 1.3), ctrl_cost_weight=0.5)
    _, info = env.reset(seed=0)
    action = np.full(env.action_space.shape, 0.5, dtype=np.float32)
    *_, step_info = env.step(action)

    np.testing.assert_array_equal(info["physics_scale"]["mass"], 1.3)
    assert step_info["reward_ctrl"] == pytest.approx(-0.5 * np.sum(action**2))


def test_bad_range_through_make_names_the_parameter() -> None:
    with pytest.raises(ValueError, match=r"damping_range must be a pair"):
        gym.make("fixup_rl/AntRandomized-v0", damping_range=(2.0, 1.0))


def test_truncation_comes_from_the_time_limit() -> None:
    # HalfCheetah never terminates, so only the time limit can end its episode.
    env = gym.make("fixup_rl/HalfCheetahRandomized-v0", max_episode_steps=5)
    env.reset(seed=0)
    ends = [env.step(env.action_space.sample())[2:4] for _ in range(5)]
    assert ends == [(False, False)] * 4 + [(False, True)]
