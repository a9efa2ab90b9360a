"""The argument checks every Fixup policy makes before SB3 builds it."""

from __future__ import annotations

from typing import Any

from gymnasium import spaces

from fixup_rl._validation import check_activation, check_choice, check_int, check_positive_float
from fixup_rl.nn.factory import NORMS
from fixup_rl.sb3.spaces import check_observation_space


def check_policy_args(
    owner: str,
    observation_space: spaces.Space,
    net_arch: Any,
    networks: tuple[str, ...],
    m: Any,
    norm: Any,
    scalar_lr_scale: Any,
    activation_fn: Any,
) -> tuple[int, str, float]:
    """Check a Fixup policy's arguments; raise a ValueError naming the first bad one.

    :param owner: the policy class's name, used in messages
    :param observation_space: the observation space
    :param net_arch: must be None (the residual networks are sized by num_blocks and width)
    :param networks: the networks num_blocks and width may name, e.g. ``("pi", "vf")``
    :param m: weight layers per residual branch
    :param norm: the residual scheme
    :param scalar_lr_scale: the Fixup scalars' learning rate relative to the learning rate
    :param activation_fn: the activation class
    :return: ``m``, ``norm`` and ``scalar_lr_scale``, checked
    """
    check_observation_space(observation_space, owner)
    if net_arch is not None:
        per_network = ", ".join(f"{name}=..." for name in networks)
        raise ValueError(
            f"{owner} builds residual networks: set their size with num_blocks and width "
            f"(an int or dict({per_network})), not net_arch; got net_arch={net_arch!r}"
        )
    check_activation("activation_fn", activation_fn)
    return (
        check_int("m", m, minimum=2),
        check_choice("norm", norm, NORMS),
        check_positive_float("scalar_lr_scale", scalar_lr_scale),
    )
