"""``fixup_rl/InvertedPendulumRandomized-v0``: InvertedPendulum-v5 with its physics redrawn at
every reset."""

from __future__ import annotations

from fixup_rl.envs.randomized_task import RandomizedTask


class InvertedPendulumRandomized(RandomizedTask):
    """InvertedPendulum-v5 with masses and joint damping redrawn at every reset.

    **Description.** The Gymnasium ``InvertedPendulum-v5`` task, unchanged except for its
    physics: a cart slides on a rail and must keep the pole hinged on it upright. Before each
    episode :class:`~fixup_rl.envs.PhysicsRandomization` rescales the model, so the cart and
    the pole are heavier or lighter and their joints looser or stiffer. It is the cheapest
    randomized task, a quick check that a policy copes with changing physics at all.

    **Action space.** ``Box(-3, 3, (1,), float32)``: the force pushing the cart along the rail
    (scaled by the actuator gear of 100).

    **Observation space.** ``Box(-inf, inf, (4,), float64)``: 0: cart position (m);
    1: pole angle from upright (rad); 2: cart velocity (m/s); 3: pole angular velocity
    (rad/s).

    **Randomization.** At every reset, one factor per element, drawn uniformly from the env's
    ``np_random``; defaults:

    * mass and inertia of each of the 3 bodies (world, cart, pole): 0.8 – 1.2;
    * friction of each of the 3 geoms (rail, cart, pole): 0.7 – 1.3, drawn and reported but
      without effect, since no geom of this model takes part in contacts;
    * damping of the 2 dofs (slider and hinge): 0.8 – 1.2.

    The factors in force are reported as ``info["physics_scale"]`` at reset.

    **Rewards.** As in InvertedPendulum-v5: +1 for every step that does not end the episode,
    0 for the step that does (``info["reward_survive"]``).

    **Starting state.** Cart centred, pole upright, every position and velocity perturbed by
    uniform noise in [-0.01, 0.01], drawn from ``np_random`` after the physics.

    **Episode end.** *Termination*: the pole angle exceeds 0.2 rad in magnitude, or the
    observation is not finite. *Truncation*: after 1000 steps of 0.04 s (the ``TimeLimit``
    added by ``gymnasium.make``).

    **Arguments.** ``gymnasium.make("fixup_rl/InvertedPendulumRandomized-v0",
    mass_range=(0.8, 1.2), friction_range=(0.7, 1.3), damping_range=(0.8, 1.2),
    render_mode=None, **kwargs)``, where ``kwargs`` go to InvertedPendulum-v5 (e.g.
    ``reset_noise_scale``).

    **Version history.**

    * v0: initial version, on InvertedPendulum-v5.
    """

    base_id = "InvertedPendulum-v5"
