"""The argument check every residual block makes before it builds anything."""

from __future__ import annotations

from typing import Any

from fixup_rl._validation import check_activation, check_choice, check_int
from fixup_rl.nn.layers import LAYER_KINDS


def check_block_args(
    width: Any,
    m: Any,
    activation_fn: Any,
    kind: Any,
    minimum_m: int = 1,
    num_blocks: Any = None,
) -> None:
    """Raise a ValueError naming the first bad argument of a residual block.

    :param width: features (or channels) of the block, an integer >= 1
    :param m: weight layers in the branch, an integer >= ``minimum_m``
    :param activation_fn: an activation class such as ``nn.ReLU``
    :param kind: ``"linear"`` or ``"conv"``
    :param minimum_m: the fewest layers the block's scheme works with
    :param num_blocks: the network's number of blocks, an integer >= 1, for blocks whose init
        depends on it (None to skip)
    """
    check_int("width", width, minimum=1)
    if num_blocks is not None:
        check_int("num_blocks", num_blocks, minimum=1)
    check_int("m", m, minimum=minimum_m)
    check_activation("activation_fn", activation_fn)
    check_choice("kind", kind, LAYER_KINDS)
