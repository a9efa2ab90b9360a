"""Training that fails loudly and early and survives crashes.

- :class:`FiniteUpdatesCallback` skips and counts optimizer steps with non-finite gradients
  and stops training, naming the likely cause, when they keep coming;
- :class:`VecCheckFinite` refuses non-finite observations and rewards, naming env and step;
- :func:`save_checkpoint`, :class:`AtomicCheckpointCallback`, :func:`latest_checkpoint` and
  :func:`load_checkpoint`: complete checkpoints written atomically, and resuming from them.
"""

from fixup_rl.reliability.atomic import atomic_write, atomic_write_text
from fixup_rl.reliability.checkpoints import (
    AtomicCheckpointCallback,
    Checkpoint,
    latest_checkpoint,
    load_checkpoint,
    save_checkpoint,
)
from fixup_rl.reliability.errors import NonFiniteEnvError, NonFiniteError, NonFiniteUpdatesError
from fixup_rl.reliability.finite_env import VecCheckFinite, check_env_finite
from fixup_rl.reliability.finite_updates import (
    DEFAULT_MAX_CONSECUTIVE_SKIPS,
    FiniteUpdatesCallback,
    find_optimizers,
)
from fixup_rl.reliability.finite_weights import check_finite_weights
from fixup_rl.reliability.rng import RestoreRngCallback, restore_rng_state, rng_state

__all__ = [
    "DEFAULT_MAX_CONSECUTIVE_SKIPS",
    "AtomicCheckpointCallback",
    "Checkpoint",
    "FiniteUpdatesCallback",
    "NonFiniteEnvError",
    "NonFiniteError",
    "NonFiniteUpdatesError",
    "RestoreRngCallback",
    "VecCheckFinite",
    "atomic_write",
    "atomic_write_text",
    "check_env_finite",
    "check_finite_weights",
    "find_optimizers",
    "latest_checkpoint",
    "load_checkpoint",
    "restore_rng_state",
    "rng_state",
    "save_checkpoint",
]
