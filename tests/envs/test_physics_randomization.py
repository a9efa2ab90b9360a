"""PhysicsRandomization: what it draws, where it writes, and how it fails."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from fixup_rl.envs import (
    DEFAULT_DAMPING_RANGE,
    DEFAULT_FRICTION_RANGE,
    DEFAULT_MASS_RANGE,
    PhysicsRandomization,
)

RANGES = {
    "mass": DEFAULT_MASS_RANGE,
    "friction": DEFAULT_FRICTION_RANGE,
    "damping": DEFAULT_DAMPING_RANGE,
}


def make_hopper(**kwargs) -> PhysicsRandomization:
    # Hopper has damped and undamped dofs and friction on every geom: every case in one model.
    return PhysicsRandomization(gym.make("Hopper-v5"), **kwargs)


def nominal_model():
    return gym.make("Hopper-v5").unwrapped.model


def test_factors_lie_in_their_ranges_and_are_written_to_the_model() -> None:
    env = make_hopper()
    nominal = nominal_model()
    model = env.unwrapped.model

    for seed in range(5):
        _, info = env.reset(seed=seed)
        scale = info["physics_scale"]

        assert scale.keys() == RANGES.keys()
        assert scale["mass"].shape == (model.nbody,)
        assert scale["friction"].shape == (model.ngeom,)
        assert scale["damping"].shape == (model.nv,)
        for name, (low, high) in RANGES.items():
            assert np.all((low <= scale[name]) & (scale[name] <= high)), name
            assert np.unique(scale[name]).size == scale[name].size, f"{name}: one draw per element"

        np.testing.assert_array_equal(model.body_mass, nominal.body_mass * scale["mass"])
        np.testing.assert_array_equal(
            model.body_inertia, nominal.body_inertia * scale["mass"][:, None]
        )
        np.testing.assert_array_equal(
            model.geom_friction, nominal.geom_friction * scale["friction"][:, None]
        )
        np.testing.assert_array_equal(model.dof_damping, nominal.dof_damping * scale["damping"])


def test_derived_constants_follow_the_new_masses() -> None:
    env = make_hopper(mass_range=(1.5, 1.5))
    env.reset(seed=0)

    model = env.unwrapped.model
    # mj_setConst ran: the world's subtree mass is the sum of the rescaled body masses.
    assert model.body_subtreemass[0] == pytest.approx(model.body_mass.sum())
    assert model.body_subtreemass[0] == pytest.approx(1.5 * nominal_model().body_mass.sum())


def test_factors_do_not_compound_over_resets() -> None:
    env = make_hopper(mass_range=(1.1, 1.1), friction_range=(0.9, 0.9), damping_range=(1.2, 1.2))
    nominal = nominal_model()
    model = env.unwrapped.model

    for _ in range(10):
        env.reset()
    np.testing.assert_array_equal(model.body_mass, nominal.body_mass * 1.1)
    np.testing.assert_array_equal(model.geom_friction, nominal.geom_friction * 0.9)
    np.testing.assert_array_equal(model.dof_damping, nominal.dof_damping * 1.2)


def test_same_seed_draws_the_same_physics_and_start() -> None:
    env = make_hopper()
    first_obs, first = env.reset(seed=7)
    env.reset()
    second_obs, second = env.reset(seed=7)

    for name in RANGES:
        np.testing.assert_array_equal(first["physics_scale"][name], second["physics_scale"][name])
    np.testing.assert_array_equal(first_obs, second_obs)


def test_different_seeds_and_unseeded_resets_draw_different_physics() -> None:
    env = make_hopper()
    seeded = [env.reset(seed=seed)[1]["physics_scale"]["mass"] for seed in (0, 1)]
    unseeded = [env.reset()[1]["physics_scale"]["mass"] for _ in range(2)]

    assert not np.array_equal(seeded[0], seeded[1])
    assert not np.array_equal(unseeded[0], unseeded[1])


def test_draws_come_only_from_the_env_generator() -> None:
    # The global NumPy state must neither feed nor be consumed by the draw.
    env = make_hopper()
    np.random.seed(0)
    first = env.reset(seed=3)[1]["physics_scale"]["mass"]
    global_after_first = np.random.random()
    np.random.seed(1)
    second = env.reset(seed=3)[1]["physics_scale"]["mass"]

    np.testing.assert_array_equal(first, second)
    np.random.seed(0)
    assert np.random.random() == global_after_first


def test_physics_changes_the_dynamics() -> None:
    def final_obs(mass_factor: float) -> np.ndarray:
        env = make_hopper(mass_range=(mass_factor, mass_factor))
        env.reset(seed=0)
        env.action_space.seed(0)
        for _ in range(10):
            obs, *_ = env.step(env.action_space.sample())
        return obs

    assert not np.allclose(final_obs(0.8), final_obs(1.2))


def test_physics_scale_property_reports_the_episode_factors() -> None:
    env = make_hopper()
    assert env.physics_scale is None

    _, info = env.reset(seed=0)
    np.testing.assert_array_equal(env.physics_scale["mass"], info["physics_scale"]["mass"])
    env.physics_scale["mass"][:] = 0.0  # a copy: editing it changes nothing
    np.testing.assert_array_equal(env.physics_scale["mass"], info["physics_scale"]["mass"])


def test_spec_recreates_the_wrapper_with_its_ranges() -> None:
    env = make_hopper(mass_range=(1.1, 1.1))
    remade = env.spec.make()

    assert isinstance(remade, PhysicsRandomization)
    assert remade.mass_range == (1.1, 1.1)


@pytest.mark.parametrize("env_id", ["CartPole-v1", "Pendulum-v1"])
def test_non_mujoco_env_is_rejected(env_id: str) -> None:
    with pytest.raises(ValueError, match=r"needs a MuJoCo env.*got <\w+<" + env_id):
        PhysicsRandomization(gym.make(env_id))


@pytest.mark.parametrize("name", ["mass_range", "friction_range", "damping_range"])
@pytest.mark.parametrize(
    ("value", "detail"),
    [
        ((0.0, 1.2), "zero or less"),
        ((-0.5, 1.2), "zero or less"),
        ((1.2, 0.8), "swap the two bounds"),
        ((1.0,), r"got \(1.0,\)"),
        ((0.8, 1.0, 1.2), r"got \(0.8, 1.0, 1.2\)"),
        ("ab", "got 'ab'"),
        (1.0, "got 1.0"),
        ((float("nan"), 1.0), "got"),
        ((0.8, float("inf")), "got"),
        ((True, 1.0), "got"),
    ],
    ids=["zero", "negative", "reversed", "one", "three", "string", "scalar", "nan", "inf", "bool"],
)
def test_bad_ranges_are_named(name: str, value: object, detail: str) -> None:
    with pytest.raises(ValueError, match=rf"{name} must be a pair \(low, high\).*0 < low <= high"):
        make_hopper(**{name: value})
    with pytest.raises(ValueError, match=detail):
        make_hopper(**{name: value})


def test_fixed_range_and_list_are_accepted() -> None:
    env = make_hopper(mass_range=[1.0, 1.0], friction_range=np.array([0.5, 2.0]))
    assert env.mass_range == (1.0, 1.0)
    assert env.friction_range == (0.5, 2.0)
