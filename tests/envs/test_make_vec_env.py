"""make_vec_env: SB3 vectorized envs of the catalogue's tasks."""

from __future__ import annotations

import pickle
import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv, VecNormalize

from fixup_rl.envs import accepted_ids, make_vec_env
from fixup_rl.envs import vec_env as vec_env_module


def test_default_is_a_headless_dummy_vec_env_of_monitored_envs() -> None:
    vec_env = make_vec_env("Pendulum-v1", n_envs=3, seed=0)

    assert isinstance(vec_env, DummyVecEnv)
    assert vec_env.num_envs == 3
    assert all(isinstance(env, Monitor) for env in vec_env.envs)
    assert vec_env.render_mode is None
    assert vec_env.reset().shape == (3, 3)
    vec_env.close()


def test_copies_of_a_randomized_id_run_different_physics() -> None:
    vec_env = make_vec_env("fixup_rl/HopperRandomized-v0", n_envs=2, seed=0)
    vec_env.reset()

    masses = [env.unwrapped.model.body_mass.copy() for env in vec_env.envs]
    scales = [info["physics_scale"]["mass"] for info in vec_env.reset_infos]
    assert not np.array_equal(masses[0], masses[1])
    assert not np.array_equal(scales[0], scales[1])
    # The wrapper's factors are reachable through the VecEnv, as a training callback would log them.
    for scale, info in zip(vec_env.get_attr("physics_scale"), vec_env.reset_infos, strict=True):
        np.testing.assert_array_equal(scale["mass"], info["physics_scale"]["mass"])
    vec_env.close()


def test_same_seed_reproduces_the_vec_env() -> None:
    def observations(seed: int) -> np.ndarray:
        vec_env = make_vec_env("fixup_rl/InvertedPendulumRandomized-v0", n_envs=2, seed=seed)
        obs = [vec_env.reset()]
        actions = np.full((2, 1), 0.5, dtype=np.float32)
        obs += [vec_env.step(actions)[0] for _ in range(5)]
        vec_env.close()
        return np.stack(obs)

    np.testing.assert_array_equal(observations(0), observations(0))
    assert not np.array_equal(observations(0), observations(1))


def test_normalize_wraps_in_vec_normalize() -> None:
    vec_env = make_vec_env(
        "HalfCheetah-v5",
        n_envs=2,
        seed=0,
        normalize=True,
        norm_reward=False,
        gamma=0.95,
        normalize_kwargs={"clip_obs": 5.0},
    )

    assert isinstance(vec_env, VecNormalize)
    assert isinstance(vec_env.venv, DummyVecEnv)
    assert (vec_env.norm_obs, vec_env.norm_reward) == (True, False)
    assert (vec_env.gamma, vec_env.clip_obs) == (0.95, 5.0)
    assert np.all(np.abs(vec_env.reset()) <= 5.0)
    vec_env.close()


def test_env_kwargs_reach_the_env() -> None:
    vec_env = make_vec_env(
        "fixup_rl/HopperRandomized-v0", seed=0, env_kwargs={"mass_range": (1.2, 1.2)}
    )
    vec_env.reset()
    np.testing.assert_array_equal(vec_env.reset_infos[0]["physics_scale"]["mass"], 1.2)
    vec_env.close()


def test_subproc_vec_env_runs_different_physics_per_process() -> None:
    # fork keeps this fast; the fresh-interpreter case is covered by the test below.
    vec_env = make_vec_env(
        "fixup_rl/InvertedPendulumRandomized-v0",
        n_envs=2,
        seed=0,
        vec_env_cls=SubprocVecEnv,
        vec_env_kwargs={"start_method": "fork"},
    )
    try:
        vec_env.reset()
        scales = vec_env.get_attr("physics_scale")
        assert not np.array_equal(scales[0]["mass"], scales[1]["mass"])
    finally:
        vec_env.close()


def test_env_builder_registers_our_ids_in_a_fresh_interpreter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # SubprocVecEnv's spawn and forkserver workers start with an empty registry: unpickling
    # the builder must import fixup_rl.envs, which registers our ids there.
    captured = {}

    def capture(env_fn, **kwargs):
        captured["env_fn"] = env_fn
        return DummyVecEnv([lambda: gym.make("CartPole-v1")])

    monkeypatch.setattr(vec_env_module, "sb3_make_vec_env", capture)
    make_vec_env("fixup_rl/HopperRandomized-v0", seed=0)

    script = (
        "import pickle, sys\n"
        "env = pickle.loads(sys.stdin.buffer.read())()\n"
        "_, info = env.reset(seed=0)\n"
        "print(env.spec.id, sorted(info['physics_scale']))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        input=pickle.dumps(captured["env_fn"]),
        capture_output=True,
        check=True,
        timeout=60,
    )
    assert result.stdout.decode().split() == [
        "fixup_rl/HopperRandomized-v0",
        "['damping',",
        "'friction',",
        "'mass']",
    ]


@pytest.mark.parametrize("n_envs", [0, -1, 1.5, True, "2"])
def test_bad_n_envs_is_named(n_envs: object) -> None:
    with pytest.raises(ValueError, match="n_envs must be an integer >= 1"):
        make_vec_env("CartPole-v1", n_envs=n_envs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"seed": -1}, "seed must be an integer >= 0"),
        ({"seed": 0.5}, "seed must be an integer >= 0"),
        ({"vec_env_cls": "dummy"}, "vec_env_cls must be None or a VecEnv class"),
        ({"vec_env_cls": VecNormalize}, "pass normalize=True instead"),
        ({"normalize": 1}, "normalize must be True or False"),
        ({"norm_obs": None}, "norm_obs must be True or False"),
        ({"gamma": 1.5}, r"gamma must be a number in \[0, 1\]"),
        ({"normalize_kwargs": {"clip_obs": 5.0}}, "pass normalize=True"),
        ({"normalize": True, "normalize_kwargs": {"gamma": 0.9}}, "must not set gamma"),
        ({"normalize": True, "normalize_kwargs": [("clip_obs", 5.0)]}, "must be a dict"),
    ],
    ids=[
        "negative-seed",
        "float-seed",
        "string-cls",
        "vec-normalize-cls",
        "int-flag",
        "none-flag",
        "gamma",
        "kwargs-without-normalize",
        "reserved-kwarg",
        "kwargs-not-dict",
    ],
)
def test_bad_arguments_are_named(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        make_vec_env("CartPole-v1", **kwargs)


def test_unknown_id_lists_accepted_ids() -> None:
    with pytest.raises(
        ValueError, match=r"got 'HalfCheetah-v4'.*Did you mean 'HalfCheetah-v5'"
    ) as e:
        make_vec_env("HalfCheetah-v4")
    assert all(env_id in str(e.value) for env_id in accepted_ids())
