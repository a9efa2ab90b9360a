"""Residual networks and blocks: Fixup and the schemes it is compared against."""

from fixup_rl.nn.factory import NORMS, make_block
from fixup_rl.nn.fixup_block import FixupBlock
from fixup_rl.nn.fold_cache import cache_folded_weights
from fixup_rl.nn.gated_blocks import ReZeroBlock, SkipInitBlock
from fixup_rl.nn.impala_cnn import ImpalaCNN
from fixup_rl.nn.norm_blocks import BatchNormBlock, LayerNormBlock
from fixup_rl.nn.plain_block import PlainBlock
from fixup_rl.nn.residual_block import ResidualBlock
from fixup_rl.nn.residual_mlp import ResidualMLP

__all__ = [
    "NORMS",
    "BatchNormBlock",
    "FixupBlock",
    "ImpalaCNN",
    "LayerNormBlock",
    "PlainBlock",
    "ReZeroBlock",
    "ResidualBlock",
    "ResidualMLP",
    "SkipInitBlock",
    "cache_folded_weights",
    "make_block",
]
