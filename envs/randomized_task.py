"""The builder shared by our registered randomized ids: a Gymnasium MuJoCo env, wrapped."""

from __future__ import annotations

from typing import Any, ClassVar

import gymnasium as gym

from fixup_rl.envs.catalogue import require_mujoco
from fixup_rl.envs.physics_randomization import (
    DEFAULT_DAMPING_RANGE,
    DEFAULT_FRICTION_RANGE,
    DEFAULT_MASS_RANGE,
    PhysicsRandomization,
    check_factor_range,
)


class RandomizedTask(PhysicsRandomization):
    """A Gymnasium MuJoCo task built from its id and wrapped in :class:`PhysicsRandomization`.

    This is the entry point behind each ``fixup_rl/<Name>Randomized-v0`` id. A subclass names
    its task in :attr:`base_id` and carries the task's manual in its docstring; build it with
    ``gymnasium.make``, which adds the time limit and the API checks.

    :param mass_range: ``(low, high)`` of the factor applied to each body's mass and inertia
    :param friction_range: ``(low, high)`` of the factor applied to each geom's friction
    :param damping_range: ``(low, high)`` of the factor applied to each dof's damping
    :param render_mode: passed to the base env; ``None`` (the default) never creates a renderer
    :param base_kwargs: passed to the base env, e.g. ``ctrl_cost_weight=1e-3``
    """

    base_id: ClassVar[str]
    """The Gymnasium id of the task being randomized, e.g. ``"Hopper-v5"``."""

    def __init__(
        self,
        mass_range: tuple[float, float] = DEFAULT_MASS_RANGE,
        friction_range: tuple[float, float] = DEFAULT_FRICTION_RANGE,
        damping_range: tuple[float, float] = DEFAULT_DAMPING_RANGE,
        render_mode: str | None = None,
        **base_kwargs: Any,
    ) -> None:
        # Check the cheap things before compiling a MuJoCo model.
        require_mujoco(f"{type(self).__name__} ({self.base_id} with randomized physics)")
        check_factor_range("mass_range", mass_range)
        check_factor_range("friction_range", friction_range)
        check_factor_range("damping_range", damping_range)

        # Only the bare env is kept; `gymnasium.make` of our id adds its own outer wrappers.
        base = gym.make(
            self.base_id, render_mode=render_mode, disable_env_checker=True, **base_kwargs
        ).unwrapped
        super().__init__(base, mass_range, friction_range, damping_range)
