"""``fixup_rl/HalfCheetahRandomized-v0``: HalfCheetah-v5 with its physics redrawn at every
reset."""

from __future__ import annotations

from fixup_rl.envs.randomized_task import RandomizedTask


class HalfCheetahRandomized(RandomizedTask):
    """HalfCheetah-v5 with masses, friction and joint damping redrawn at every reset.

    **Description.** The Gymnasium ``HalfCheetah-v5`` task, unchanged except for its physics:
    a planar two-legged robot must run forward, to +x, as fast as it can. Before each episode
    :class:`~fixup_rl.envs.PhysicsRandomization` rescales the model, so the gait that worked
    on the last cheetah may slip, drag or overshoot on this one.

    **Action space.** ``Box(-1, 1, (6,), float32)``: normalized torques on the back thigh, back
    shin, back foot, front thigh, front shin and front foot hinges, in that order.

    **Observation space.** ``Box(-inf, inf, (17,), float64)``:

    * 0: height of the torso (m); 1: angle of the torso (rad);
    * 2-7: angles of the six leg hinges, in action order (rad);
    * 8-9: x and z velocity of the torso (m/s); 10: angular velocity of the torso (rad/s);
    * 11-16: angular velocities of the six leg hinges (rad/s).

    The x position is left out of the observation and reported as ``info["x_position"]``.

    **Randomization.** At every reset, one factor per element, drawn uniformly from the env's
    ``np_random``; defaults:

    * mass and inertia of each of the 8 bodies (world, torso, three per leg): 0.8 – 1.2;
    * friction of each of the 9 geoms (floor, torso, head, six leg segments): 0.7 – 1.3;
    * damping of each of the 9 dofs: 0.8 – 1.2 (the three root dofs have none to scale).

    The factors in force are reported as ``info["physics_scale"]`` at reset.

    **Rewards.** As in HalfCheetah-v5, with the terms in ``info``: ``reward_forward`` (x
    velocity of the torso, m/s) + ``reward_ctrl`` (-0.1 × squared norm of the action).

    **Starting state.** The rest pose with uniform noise in [-0.1, 0.1] on every position and
    Gaussian noise of standard deviation 0.1 on every velocity, drawn from ``np_random`` after
    the physics.

    **Episode end.** *Termination*: never; the cheetah cannot fall into a failure state.
    *Truncation*: after 1000 steps of 0.05 s (the ``TimeLimit`` added by ``gymnasium.make``).

    **Arguments.** ``gymnasium.make("fixup_rl/HalfCheetahRandomized-v0", mass_range=(0.8, 1.2),
    friction_range=(0.7, 1.3), damping_range=(0.8, 1.2), render_mode=None, **kwargs)``, where
    ``kwargs`` go to HalfCheetah-v5 (e.g. ``ctrl_cost_weight``).

    **Version history.**

    * v0: initial version, on HalfCheetah-v5.
    """

    base_id = "HalfCheetah-v5"
