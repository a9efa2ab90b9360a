"""Build a residual block from the name of its residual scheme (``norm``)."""

from __future__ import annotations

from torch import nn

from fixup_rl._validation import check_choice
from fixup_rl.nn.fixup_block import FixupBlock
from fixup_rl.nn.gated_blocks import ReZeroBlock, SkipInitBlock
from fixup_rl.nn.norm_blocks import BatchNormBlock, LayerNormBlock
from fixup_rl.nn.plain_block import PlainBlock
from fixup_rl.nn.residual_block import ResidualBlock

#: The residual schemes every network of fixup_rl can be built with.
NORMS = ("fixup", "none", "batchnorm", "layernorm", "rezero", "skipinit")

_OTHER_BLOCKS = {
    "none": PlainBlock,
    "batchnorm": BatchNormBlock,
    "layernorm": LayerNormBlock,
    "rezero": ReZeroBlock,
    "skipinit": SkipInitBlock,
}


def make_block(
    norm: str,
    width: int,
    num_blocks: int,
    m: int,
    activation_fn: type[nn.Module],
    kind: str,
) -> ResidualBlock:
    """Create one residual block of the scheme ``norm``.

    :param norm: one of :data:`NORMS`
    :param width: features (or channels) of the block
    :param num_blocks: the number of residual blocks in the whole network (Fixup's ``L``)
    :param m: the number of weight layers in each branch
    :param activation_fn: the activation class
    :param kind: ``"linear"`` or ``"conv"``
    :return: the block
    """
    check_choice("norm", norm, NORMS)
    if norm == "fixup":
        return FixupBlock(width, num_blocks, m, activation_fn, kind)
    return _OTHER_BLOCKS[norm](width, m, activation_fn, kind)
