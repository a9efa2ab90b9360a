"""Domain randomization for MuJoCo tasks: masses, friction and damping redrawn at every reset."""

from __future__ import annotations

import numbers
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.core import ActType, ObsType

DEFAULT_MASS_RANGE: tuple[float, float] = (0.8, 1.2)
DEFAULT_FRICTION_RANGE: tuple[float, float] = (0.7, 1.3)
DEFAULT_DAMPING_RANGE: tuple[float, float] = (0.8, 1.2)

INFO_KEY = "physics_scale"


def check_factor_range(name: str, value: Any) -> tuple[float, float]:
    """Return ``value`` as ``(low, high)`` if it is a valid range of scale factors.

    :param name: the parameter's name, used in the error message
    :param value: the range to check: two finite numbers with ``0 < low <= high``
        (``low == high`` fixes the factor)
    :return: ``(low, high)`` as Python floats
    """
    accepted = "a pair (low, high) of finite numbers with 0 < low <= high"
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) != 2:
        raise ValueError(f"{name} must be {accepted}, got {value!r}")

    low, high = value
    for bound in (low, high):
        if isinstance(bound, bool) or not isinstance(bound, numbers.Real):
            raise ValueError(f"{name} must be {accepted}, got {value!r}")
        if not np.isfinite(bound):
            raise ValueError(f"{name} must be {accepted}, got {value!r}")

    low, high = float(low), float(high)
    if low <= 0:
        raise ValueError(
            f"{name} must be {accepted}, got {value!r}; a factor of zero or less would remove "
            "the quantity or flip its sign"
        )
    if low > high:
        raise ValueError(f"{name} must be {accepted}, got {value!r}; swap the two bounds")
    return low, high


class PhysicsRandomization(
    gym.Wrapper[ObsType, ActType, ObsType, ActType], gym.utils.RecordConstructorArgs
):
    """Redraw the physics of a MuJoCo env at every reset (domain randomization).

    At each :meth:`reset` the wrapper draws one scale factor per element of the compiled
    ``mujoco.MjModel``, uniformly within the configured range, and writes
    ``nominal value × factor`` into the model before the base env starts its episode:

    * **mass**: ``body_mass`` and ``body_inertia``, one factor per body shared by both (as if
      the body's density changed); default range 0.8 – 1.2;
    * **friction**: ``geom_friction``, one factor per geom shared by its sliding, torsional and
      rolling coefficients; default range 0.7 – 1.3;
    * **damping**: ``dof_damping``, the viscous damping of each dof, one factor per dof; default
      range 0.8 – 1.2.

    The nominal values are copied once, at construction, so factors never compound over
    resets. After writing, ``mujoco.mj_setConst`` refreshes the constants MuJoCo derives from
    masses (subtree masses, inverse weights used by the constraint solver).

    **Randomness.** Every factor comes from the env's own ``np_random``, drawn in the order
    mass, friction, damping. ``reset(seed=s)`` therefore reproduces both the physics and the
    initial state: the base env is first reset with ``s`` to seed its generator, the factors
    are drawn, and a second, unseeded base reset starts the episode under the new physics.
    Without a seed the generator simply continues, so successive episodes differ. (Wrappers
    below this one see both resets of a seeded call.)

    **Spaces.** The observation and action spaces are those of the wrapped env, unchanged.

    **Reward, termination and truncation.** Unchanged: the wrapper only edits the model
    between episodes and passes :meth:`step` through. Termination is the base env's
    (e.g. the Hopper falling); truncation comes from the ``TimeLimit`` that ``gymnasium.make``
    puts around the env.

    **Info.** The reset ``info`` gains ``info["physics_scale"]``, a dict with the arrays of
    factors in force for the episode: ``"mass"`` (shape ``(nbody,)``, entry 0 is the world
    body), ``"friction"`` (``(ngeom,)``) and ``"damping"`` (``(nv,)``).

    **Limits.** A quantity whose nominal value is zero stays zero (the world body's mass, free
    joints without damping). Explicit contact pairs (``<pair>``), actuator gains, armature and
    joint friction loss are left alone. Geoms that never touch anything (all of
    ``InvertedPendulum-v5``) get friction factors that change nothing.

    **Version history.**

    * v0 (fixup_rl 0.1.0): initial version.

    :param env: a MuJoCo env: its ``unwrapped`` has a ``model`` (``mujoco.MjModel``) and a
        ``data`` (``mujoco.MjData``), as every Gymnasium MuJoCo env does
    :param mass_range: ``(low, high)`` of the factor applied to each body's mass and inertia
    :param friction_range: ``(low, high)`` of the factor applied to each geom's friction
    :param damping_range: ``(low, high)`` of the factor applied to each dof's damping
    """

    def __init__(
        self,
        env: gym.Env[ObsType, ActType],
        mass_range: tuple[float, float] = DEFAULT_MASS_RANGE,
        friction_range: tuple[float, float] = DEFAULT_FRICTION_RANGE,
        damping_range: tuple[float, float] = DEFAULT_DAMPING_RANGE,
    ) -> None:
        if not isinstance(env, gym.Env):
            raise ValueError(
                f"env must be a gymnasium.Env such as gymnasium.make('Hopper-v5'), got {env!r}"
            )
        gym.utils.RecordConstructorArgs.__init__(
            self, mass_range=mass_range, friction_range=friction_range, damping_range=damping_range
        )
        gym.Wrapper.__init__(self, env)

        self.mass_range = check_factor_range("mass_range", mass_range)
        self.friction_range = check_factor_range("friction_range", friction_range)
        self.damping_range = check_factor_range("damping_range", damping_range)

        # Nominal values, saved once: every reset scales these, never the last episode's.
        model = _mujoco_model(env)
        self._nominal_mass = model.body_mass.copy()
        self._nominal_inertia = model.body_inertia.copy()
        self._nominal_friction = model.geom_friction.copy()
        self._nominal_damping = model.dof_damping.copy()
        self._scale: dict[str, np.ndarray] | None = None

    @property
    def physics_scale(self) -> dict[str, np.ndarray] | None:
        """The factors in force for the current episode (copies), or ``None`` before a reset."""
        if self._scale is None:
            return None
        return {name: factors.copy() for name, factors in self._scale.items()}

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[ObsType, dict[str, Any]]:
        """Draw new physics, then reset the base env under it.

        :param seed: seeds the env's ``np_random`` before the draw, as for any Gymnasium env
        :param options: passed to the base env's reset
        :return: the first observation and the base env's ``info`` with ``"physics_scale"``
            added
        """
        # Seeding goes through the base env's own reset so its generator is the only source.
        if seed is not None:
            self.env.reset(seed=seed)

        self._scale = self._draw_scale()
        self._apply_scale(self._scale)

        obs, info = self.env.reset(options=options)
        info[INFO_KEY] = self.physics_scale
        return obs, info

    def _draw_scale(self) -> dict[str, np.ndarray]:
        rng = self.np_random
        return {
            "mass": rng.uniform(*self.mass_range, size=self._nominal_mass.shape[0]),
            "friction": rng.uniform(*self.friction_range, size=self._nominal_friction.shape[0]),
            "damping": rng.uniform(*self.damping_range, size=self._nominal_damping.shape[0]),
        }

    def _apply_scale(self, scale: dict[str, np.ndarray]) -> None:
        import mujoco

        model = self.env.unwrapped.model
        model.body_mass[:] = self._nominal_mass * scale["mass"]
        model.body_inertia[:] = self._nominal_inertia * scale["mass"][:, None]
        model.geom_friction[:] = self._nominal_friction * scale["friction"][:, None]
        model.dof_damping[:] = self._nominal_damping * scale["damping"]

        # Refresh what MuJoCo derives from the masses; the base reset then rebuilds the data.
        mujoco.mj_setConst(model, self.env.unwrapped.data)


def _mujoco_model(env: gym.Env) -> Any:
    """Return the ``mujoco.MjModel`` under ``env``, or raise a ValueError saying what is needed."""
    unwrapped = env.unwrapped
    model = getattr(unwrapped, "model", None)
    data = getattr(unwrapped, "data", None)

    try:
        import mujoco
    except ImportError:
        mujoco = None

    if mujoco is None or not isinstance(model, mujoco.MjModel) or data is None:
        raise ValueError(
            "PhysicsRandomization needs a MuJoCo env, one whose unwrapped env has a "
            f"mujoco.MjModel as `.model` and a mujoco.MjData as `.data`; got {unwrapped}. "
            "Wrap a MuJoCo task such as gymnasium.make('Hopper-v5'), or make one of the "
            "registered ids such as 'fixup_rl/HopperRandomized-v0'"
        )
    return model
