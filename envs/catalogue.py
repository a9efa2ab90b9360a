"""The physics tasks fixup_rl trains and evaluates on, each under an explicit, versioned id.

Two tables: :data:`CATALOGUE` holds Gymnasium's own tasks (classic control and the MuJoCo v5
set), :data:`RANDOMIZED` holds our MuJoCo tasks whose physics is redrawn at every reset (see
:class:`~fixup_rl.envs.PhysicsRandomization`). :func:`check_env_id` is the one gate every id
passes before an env is built.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

from gymnasium.error import DependencyNotInstalled

Family = Literal["classic", "mujoco"]
ActionKind = Literal["continuous", "discrete"]

MUJOCO_INSTALL_HINT = 'pip install "gymnasium[mujoco]"'


@dataclass(frozen=True)
class EnvInfo:
    """What one catalogue entry is.

    :param family: ``"classic"`` (pure-Python classic control) or ``"mujoco"`` (needs the
        ``mujoco`` package)
    :param action_kind: ``"continuous"`` for a ``Box`` action space, ``"discrete"`` for a
        ``Discrete`` one
    :param description: one line saying what the agent has to do
    :param base_id: for our randomized ids, the Gymnasium id whose env is wrapped; ``None`` for
        Gymnasium's own ids
    :param entry_point: for our randomized ids, the ``"module:Class"`` that builds the env;
        ``None`` for Gymnasium's own ids
    """

    family: Family
    action_kind: ActionKind
    description: str
    base_id: str | None = None
    entry_point: str | None = None


def _classic(action_kind: ActionKind, description: str) -> EnvInfo:
    return EnvInfo(family="classic", action_kind=action_kind, description=description)


def _mujoco(description: str) -> EnvInfo:
    return EnvInfo(family="mujoco", action_kind="continuous", description=description)


CATALOGUE: Mapping[str, EnvInfo] = MappingProxyType(
    {
        "Pendulum-v1": _classic(
            "continuous", "swing a torque-limited pendulum up and hold it upright"
        ),
        "MountainCarContinuous-v0": _classic(
            "continuous", "rock an underpowered car out of a valley with a sparse goal reward"
        ),
        "CartPole-v1": _classic(
            "discrete", "push a cart left or right to keep a pole balanced (sanity check)"
        ),
        "InvertedPendulum-v5": _mujoco("keep a pole upright by sliding the cart under it"),
        "InvertedDoublePendulum-v5": _mujoco("keep a two-link pole upright on a sliding cart"),
        "Reacher-v5": _mujoco("move the tip of a two-joint planar arm to a random target"),
        "Swimmer-v5": _mujoco("swim forward through viscous fluid with a three-link snake"),
        "Hopper-v5": _mujoco("hop forward on one planar leg without falling"),
        "HalfCheetah-v5": _mujoco("run forward as fast as possible with a planar cheetah"),
        "Walker2d-v5": _mujoco("walk forward on two planar legs without falling"),
        "Ant-v5": _mujoco("walk forward with a four-legged robot in 3D"),
        "Humanoid-v5": _mujoco("walk forward with a 3D humanoid without falling"),
    }
)
"""Gymnasium's tasks we support, by id. Classic control needs only ``gymnasium``; the MuJoCo
tasks also need ``pip install "gymnasium[mujoco]"``."""


def _randomized(base_id: str, module: str, cls: str) -> EnvInfo:
    base = CATALOGUE[base_id]
    return EnvInfo(
        family="mujoco",
        action_kind=base.action_kind,
        description=f"{base_id} with masses, friction and damping redrawn at every reset",
        base_id=base_id,
        entry_point=f"fixup_rl.envs.{module}:{cls}",
    )


RANDOMIZED: Mapping[str, EnvInfo] = MappingProxyType(
    {
        "fixup_rl/InvertedPendulumRandomized-v0": _randomized(
            "InvertedPendulum-v5", "inverted_pendulum_randomized_v0", "InvertedPendulumRandomized"
        ),
        "fixup_rl/HopperRandomized-v0": _randomized(
            "Hopper-v5", "hopper_randomized_v0", "HopperRandomized"
        ),
        "fixup_rl/HalfCheetahRandomized-v0": _randomized(
            "HalfCheetah-v5", "half_cheetah_randomized_v0", "HalfCheetahRandomized"
        ),
        "fixup_rl/Walker2dRandomized-v0": _randomized(
            "Walker2d-v5", "walker2d_randomized_v0", "Walker2dRandomized"
        ),
        "fixup_rl/AntRandomized-v0": _randomized("Ant-v5", "ant_randomized_v0", "AntRandomized"),
    }
)
"""Our physics-randomized MuJoCo tasks, by id; registered with Gymnasium when
``fixup_rl.envs`` is imported."""


def accepted_ids() -> tuple[str, ...]:
    """Return every id :func:`check_env_id` accepts: the catalogue's, then the randomized ones.

    :return: the ids, in table order
    """
    return (*CATALOGUE, *RANDOMIZED)


def mujoco_installed() -> bool:
    """Return whether the ``mujoco`` package can be imported.

    :return: ``True`` when MuJoCo tasks can be built here
    """
    try:
        importlib.import_module("mujoco")
    except ImportError:
        return False
    return True


def check_env_id(env_id: str) -> EnvInfo:
    """Return the catalogue entry of ``env_id`` after checking that the task can be built here.

    :param env_id: a versioned id from :data:`CATALOGUE` or :data:`RANDOMIZED`, such as
        ``"Hopper-v5"`` or ``"fixup_rl/HopperRandomized-v0"``
    :return: the entry describing the task
    :raises ValueError: when ``env_id`` is not one of the accepted ids; the message lists them
        and suggests the closest
    :raises gymnasium.error.DependencyNotInstalled: when ``env_id`` is a MuJoCo task and the
        ``mujoco`` package is missing
    """
    info = CATALOGUE.get(env_id) if isinstance(env_id, str) else None
    if info is None and isinstance(env_id, str):
        info = RANDOMIZED.get(env_id)

    if info is None:
        accepted = accepted_ids()
        close = difflib.get_close_matches(str(env_id), accepted, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(
            f"env_id must be one of the supported versioned ids, got {env_id!r}.{hint} "
            f"Accepted ids: {', '.join(accepted)}"
        )

    if info.family == "mujoco":
        require_mujoco(env_id)
    return info


def require_mujoco(task: str) -> None:
    """Raise a clear error when ``mujoco`` is missing; do nothing when it is installed.

    :param task: the task that needs MuJoCo, named in the error message
    :raises gymnasium.error.DependencyNotInstalled: when the ``mujoco`` package is missing
    """
    if not mujoco_installed():
        raise DependencyNotInstalled(
            f"{task} is a MuJoCo task but the mujoco package is not installed; "
            f"run `{MUJOCO_INSTALL_HINT}`"
        )
