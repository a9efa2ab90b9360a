"""``fixup_rl/HopperRandomized-v0``: Hopper-v5 with its physics redrawn at every reset."""

from __future__ import annotations

from fixup_rl.envs.randomized_task import RandomizedTask


class HopperRandomized(RandomizedTask):
    """Hopper-v5 with masses, friction and joint damping redrawn at every reset.

    **Description.** The Gymnasium ``Hopper-v5`` task, unchanged except for its physics: a
    planar one-legged robot (torso, thigh, leg, foot) must hop forward, to +x, without falling.
    Before each episode :class:`~fixup_rl.envs.PhysicsRandomization` rescales the model, so a
    policy has to cope with a heavier or lighter, more or less grippy, stiffer or looser robot
    than the one it last saw.

    **Action space.** ``Box(-1, 1, (3,), float32)``: normalized torques on the thigh, leg and
    foot hinges, in that order.

    **Observation space.** ``Box(-inf, inf, (11,), float64)``:

    * 0: height of the torso (m); 1: angle of the torso (rad);
    * 2-4: angles of the thigh, leg and foot hinges (rad);
    * 5-6: x and z velocity of the torso (m/s); 7: angular velocity of the torso (rad/s);
    * 8-10: angular velocities of the thigh, leg and foot hinges (rad/s).

    Velocities are clipped to [-10, 10]. The x position is left out of the observation and
    reported as ``info["x_position"]``.

    **Randomization.** At every reset, one factor per element, drawn uniformly from the env's
    ``np_random``; defaults:

    * mass and inertia of each of the 5 bodies (world, torso, thigh, leg, foot): 0.8 – 1.2;
    * friction of each of the 5 geoms (floor and the four limbs): 0.7 – 1.3;
    * damping of each of the 6 dofs: 0.8 – 1.2 (the three root dofs have none to scale).

    The factors in force are reported as ``info["physics_scale"]`` at reset.

    **Rewards.** As in Hopper-v5, with the terms in ``info``:
    ``reward_survive`` (+1 per step while healthy) + ``reward_forward`` (x velocity of the
    torso, m/s) + ``reward_ctrl`` (-0.001 × squared norm of the action).

    **Starting state.** The standing pose with every position and velocity perturbed by
    uniform noise in [-0.005, 0.005], drawn from ``np_random`` after the physics.

    **Episode end.** *Termination*: the hopper is unhealthy, meaning its height drops to 0.7 m
    or below, its torso tilts out of (-0.2, 0.2) rad, or a joint angle or velocity leaves
    (-100, 100). *Truncation*: after 1000 steps of 0.008 s (the ``TimeLimit`` added by
    ``gymnasium.make``).

    **Arguments.** ``gymnasium.make("fixup_rl/HopperRandomized-v0", mass_range=(0.8, 1.2),
    friction_range=(0.7, 1.3), damping_range=(0.8, 1.2), render_mode=None, **kwargs)``, where
    ``kwargs`` go to Hopper-v5 (e.g. ``ctrl_cost_weight``).

    **Version history.**

    * v0: initial version, on Hopper-v5.
    """

    base_id = "Hopper-v5"
