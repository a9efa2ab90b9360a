"""Physics tasks for fixup_rl: a catalogue of versioned Gymnasium ids, physics randomization
for the MuJoCo ones, and vectorized construction for SB3.

Importing this package registers our randomized ids (``fixup_rl/HopperRandomized-v0`` and
the others of :data:`RANDOMIZED`) with Gymnasium. Nothing here needs MuJoCo until a MuJoCo
task is built.
"""

from fixup_rl.envs.ant_randomized_v0 import AntRandomized
from fixup_rl.envs.catalogue import (
    CATALOGUE,
    RANDOMIZED,
    EnvInfo,
    accepted_ids,
    check_env_id,
    mujoco_installed,
    require_mujoco,
)
from fixup_rl.envs.half_cheetah_randomized_v0 import HalfCheetahRandomized
from fixup_rl.envs.hopper_randomized_v0 import HopperRandomized
from fixup_rl.envs.inverted_pendulum_randomized_v0 import InvertedPendulumRandomized
from fixup_rl.envs.physics_randomization import (
    DEFAULT_DAMPING_RANGE,
    DEFAULT_FRICTION_RANGE,
    DEFAULT_MASS_RANGE,
    PhysicsRandomization,
)
from fixup_rl.envs.randomized_task import RandomizedTask
from fixup_rl.envs.registration import register_envs
from fixup_rl.envs.vec_env import make_vec_env
from fixup_rl.envs.walker2d_randomized_v0 import Walker2dRandomized

register_envs()

__all__ = [
    "CATALOGUE",
    "DEFAULT_DAMPING_RANGE",
    "DEFAULT_FRICTION_RANGE",
    "DEFAULT_MASS_RANGE",
    "RANDOMIZED",
    "AntRandomized",
    "EnvInfo",
    "HalfCheetahRandomized",
    "HopperRandomized",
    "InvertedPendulumRandomized",
    "PhysicsRandomization",
    "RandomizedTask",
    "Walker2dRandomized",
    "accepted_ids",
    "check_env_id",
    "make_vec_env",
    "mujoco_installed",
    "register_envs",
    "require_mujoco",
]
