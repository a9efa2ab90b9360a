"""``fixup_rl/Walker2dRandomized-v0``: Walker2d-v5 with its physics redrawn at every reset."""

from __future__ import annotations

from fixup_rl.envs.randomized_task import RandomizedTask


class Walker2dRandomized(RandomizedTask):
    """Walker2d-v5 with masses, friction and joint damping redrawn at every reset.

    **Description.** The Gymnasium ``Walker2d-v5`` task, unchanged except for its physics: a
    planar two-legged robot must walk forward, to +x, without falling. Before each episode
    :class:`~fixup_rl.envs.PhysicsRandomization` rescales the model, and each leg segment gets
    its own factors, so the two legs are no longer identical.

    **Action space.** ``Box(-1, 1, (6,), float32)``: normalized torques on the right thigh,
    leg and foot hinges, then the left ones.

    **Observation space.** ``Box(-inf, inf, (17,), float64)``:

    * 0: height of the torso (m); 1: angle of the torso (rad);
    * 2-7: angles of the six leg hinges, in action order (rad);
    * 8-9: x and z velocity of the torso (m/s); 10: angular velocity of the torso (rad/s);
    * 11-16: angular velocities of the six leg hinges (rad/s).

    Velocities are clipped to [-10, 10]. The x position is left out of the observation and
    reported as ``info["x_position"]``.

    **Randomization.** At every reset, one factor per element, drawn uniformly from the env's
    ``np_random``; defaults:

    * mass and inertia of each of the 8 bodies (world, torso, three per leg): 0.8 – 1.2;
    * friction of each of the 8 geoms (floor, torso, six leg segments): 0.7 – 1.3;
    * damping of each of the 9 dofs: 0.8 – 1.2 (the three root dofs have none to scale).

    The factors in force are reported as ``info["physics_scale"]`` at reset.

    **Rewards.** As in Walker2d-v5, with the terms in ``info``:
    ``reward_survive`` (+1 per step while healthy) + ``reward_forward`` (x velocity of the
    torso, m/s) + ``reward_ctrl`` (-0.001 × squared norm of the action).

    **Starting state.** The standing pose with every position and velocity perturbed by
    uniform noise in [-0.005, 0.005], drawn from ``np_random`` after the physics.

    **Episode end.** *Termination*: the walker is unhealthy, meaning the torso height leaves
    (0.8, 2.0) m or the torso angle leaves (-1, 1) rad. *Truncation*: after 1000 steps of
    0.008 s (the ``TimeLimit`` added by ``gymnasium.make``).

    **Arguments.** ``gymnasium.make("fixup_rl/Walker2dRandomized-v0", mass_range=(0.8, 1.2),
    friction_range=(0.7, 1.3), damping_range=(0.8, 1.2), render_mode=None, **kwargs)``, where
    ``kwargs`` go to Walker2d-v5 (e.g. ``ctrl_cost_weight``).

    **Version history.**

    * v0: initial version, on Walker2d-v5.
    """

    base_id = "Walker2d-v5"
