"""``fixup_rl/AntRandomized-v0``: Ant-v5 with its physics redrawn at every reset."""

from __future__ import annotations

from fixup_rl.envs.randomized_task import RandomizedTask


class AntRandomized(RandomizedTask):
    """Ant-v5 with masses, friction and joint damping redrawn at every reset.

    **Description.** The Gymnasium ``Ant-v5`` task, unchanged except for its physics: a
    four-legged robot walking in 3D must move forward, to +x, without flipping or jumping
    too high. Before each episode :class:`~fixup_rl.envs.PhysicsRandomization` rescales the
    model, each leg segment with its own factors.

    **Action space.** ``Box(-1, 1, (8,), float32)``: normalized torques on the eight hip and
    ankle hinges, in the actuator order of Gymnasium's ``ant.xml``.

    **Observation space.** ``Box(-inf, inf, (105,), float64)``:

    * 0: height of the torso (m); 1-4: orientation of the torso (unit quaternion);
    * 5-12: angles of the eight hip and ankle hinges (rad);
    * 13-15: linear velocity of the torso (m/s); 16-18: its angular velocity (rad/s);
    * 19-26: angular velocities of the eight hinges (rad/s);
    * 27-104: external contact forces and torques on the 13 bodies (6 numbers each), clipped
      to [-1, 1].

    The x and y position are left out of the observation and reported in ``info``. The
    contact forces scale with the drawn masses, so their distribution shifts between episodes.

    **Randomization.** At every reset, one factor per element, drawn uniformly from the env's
    ``np_random``; defaults:

    * mass and inertia of each of the 14 bodies (world, torso, three per leg): 0.8 – 1.2;
    * friction of each of the 14 geoms (floor, torso, three per leg): 0.7 – 1.3;
    * damping of each of the 14 dofs: 0.8 – 1.2 (the six root dofs have none to scale).

    The factors in force are reported as ``info["physics_scale"]`` at reset.

    **Rewards.** As in Ant-v5, with the terms in ``info``: ``reward_survive`` (+1 per step
    while healthy) + ``reward_forward`` (x velocity of the torso, m/s) + ``reward_ctrl``
    (-0.5 × squared norm of the action) + ``reward_contact`` (-0.0005 × squared norm of the
    clipped contact forces).

    **Starting state.** The rest pose with uniform noise in [-0.1, 0.1] on every position and
    Gaussian noise of standard deviation 0.1 on every velocity, drawn from ``np_random`` after
    the physics.

    **Episode end.** *Termination*: the ant is unhealthy, meaning a state entry is not finite
    or the torso height leaves [0.2, 1.0] m. *Truncation*: after 1000 steps of 0.05 s (the
    ``TimeLimit`` added by ``gymnasium.make``).

    **Arguments.** ``gymnasium.make("fixup_rl/AntRandomized-v0", mass_range=(0.8, 1.2),
    friction_range=(0.7, 1.3), damping_range=(0.8, 1.2), render_mode=None, **kwargs)``, where
    ``kwargs`` go to Ant-v5 (e.g. ``contact_cost_weight``).

    **Version history.**

    * v0: initial version, on Ant-v5.
    """

    base_id = "Ant-v5"
