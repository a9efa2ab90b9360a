"""The catalogue of ids: its contents, the id check, and every catalogue env through the checker."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.error import DependencyNotInstalled
from gymnasium.spaces import Box, Discrete

from fixup_rl.envs import CATALOGUE, RANDOMIZED, accepted_ids, check_env_id

EXPECTED_IDS = {
    "classic": {"Pendulum-v1", "MountainCarContinuous-v0", "CartPole-v1"},
    "mujoco": {
        "InvertedPendulum-v5",
        "InvertedDoublePendulum-v5",
        "Reacher-v5",
        "Swimmer-v5",
        "Hopper-v5",
        "HalfCheetah-v5",
        "Walker2d-v5",
        "Ant-v5",
        "Humanoid-v5",
    },
}
README = Path(__file__).parents[2] / "envs" / "README.md"


def test_catalogue_holds_the_expected_ids_by_family() -> None:
    for family, ids in EXPECTED_IDS.items():
        assert {env_id for env_id, info in CATALOGUE.items() if info.family == family} == ids
    assert len(CATALOGUE) == sum(len(ids) for ids in EXPECTED_IDS.values())


def test_catalogue_is_read_only() -> None:
    with pytest.raises(TypeError):
        CATALOGUE["Acrobot-v1"] = CATALOGUE["CartPole-v1"]  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        CATALOGUE["CartPole-v1"].family = "mujoco"  # type: ignore[misc]


def test_randomized_ids_wrap_catalogue_mujoco_tasks() -> None:
    for env_id, info in RANDOMIZED.items():
        assert env_id.startswith("fixup_rl/") and env_id.endswith("Randomized-v0")
        assert info.family == "mujoco"
        assert CATALOGUE[info.base_id].family == "mujoco"


def test_accepted_ids_are_catalogue_then_randomized() -> None:
    assert accepted_ids() == (*CATALOGUE, *RANDOMIZED)


@pytest.mark.parametrize("env_id", accepted_ids())
def test_check_env_id_returns_the_entry(env_id: str) -> None:
    assert check_env_id(env_id) == {**CATALOGUE, **RANDOMIZED}[env_id]


@pytest.mark.parametrize(
    ("env_id", "hint"),
    [
        ("Hopper-v4", "Did you mean 'Hopper-v5'"),
        ("Hopper", "Did you mean 'Hopper-v5'"),
        ("fixup_rl/HopperRandomized-v1", "Did you mean 'fixup_rl/HopperRandomized-v0'"),
        ("LunarLander-v3", "Accepted ids"),
        (None, "Accepted ids"),
    ],
    ids=["old-version", "unversioned", "wrong-version-ours", "not-in-catalogue", "not-a-string"],
)
def test_unknown_id_is_named_and_accepted_ids_listed(env_id: object, hint: str) -> None:
    with pytest.raises(ValueError, match=f"got {env_id!r}") as excinfo:
        check_env_id(env_id)  # type: ignore[arg-type]
    message = str(excinfo.value)
    assert hint in message
    assert all(accepted in message for accepted in accepted_ids())


@pytest.mark.parametrize("env_id", ["Hopper-v5", "fixup_rl/HopperRandomized-v0"])
def test_missing_mujoco_says_how_to_install_it(
    env_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "mujoco", None)  # makes `import mujoco` fail

    with pytest.raises(DependencyNotInstalled, match=r'pip install "gymnasium\[mujoco\]"'):
        check_env_id(env_id)
    assert check_env_id("CartPole-v1").family == "classic"


def test_missing_mujoco_stops_a_randomized_env_before_it_is_built(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "mujoco", None)

    with pytest.raises(DependencyNotInstalled, match=r"HopperRandomized \(Hopper-v5 .*pip install"):
        gym.make("fixup_rl/HopperRandomized-v0")


def test_readme_documents_every_id() -> None:
    text = README.read_text(encoding="utf-8")
    missing = [env_id for env_id in accepted_ids() if f"`{env_id}`" not in text]
    assert not missing


@pytest.mark.parametrize("env_id", list(CATALOGUE))
def test_catalogue_env_passes_the_env_checker(env_id: str, env_checker) -> None:
    env = gym.make(env_id)
    env_checker(env.unwrapped)

    expected_space = Box if CATALOGUE[env_id].action_kind == "continuous" else Discrete
    assert isinstance(env.action_space, expected_space)
    env.close()


@pytest.mark.parametrize("env_id", list(CATALOGUE))
def test_catalogue_env_reproduces_under_a_seed(env_id: str, rollout, same_record) -> None:
    same_record(rollout(env_id, seed=3), rollout(env_id, seed=3))
    assert not np.array_equal(rollout(env_id, seed=3)[0], rollout(env_id, seed=4)[0])


@pytest.mark.parametrize("env_id", [i for i in CATALOGUE if CATALOGUE[i].family == "mujoco"])
def test_mujoco_env_runs_headless(env_id: str) -> None:
    env = gym.make(env_id)
    env.reset(seed=0)
    env.step(env.action_space.sample())

    assert env.render_mode is None
    assert env.unwrapped.mujoco_renderer.viewer is None
    env.close()
