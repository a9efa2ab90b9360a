"""Fold the Fixup scalars into the weights for fast inference."""

from __future__ import annotations

import copy
from typing import TypeVar

from torch import nn

from fixup_rl.nn.fixup_block import FixupBlock

ModuleT = TypeVar("ModuleT", bound=nn.Module)


def fold(module: ModuleT) -> ModuleT:
    """Return an inference copy of ``module`` with every Fixup scalar folded into the weights.

    Each :class:`~fixup_rl.nn.FixupBlock` is replaced by a :class:`~fixup_rl.nn.PlainBlock`
    whose weights and vector biases absorb the block's scalar biases and multiplier (a scalar
    ``a`` added before a layer with weight ``W`` is the vector bias ``a * W.sum(1)`` after it;
    a multiplier after the layer scales ``W``). A folded Fixup block then costs exactly what a
    plain residual block costs. The copy is in eval mode with gradients switched off; the
    original is left untouched. Fold again after the original's weights change.

    :param module: any module containing Fixup blocks (a ``ResidualMLP``, an ``ImpalaCNN``, an
        SB3 policy, ...)
    :return: the folded copy, computing the same function up to float rounding
    """
    if not isinstance(module, nn.Module):
        raise ValueError(f"module must be a torch.nn.Module, got {type(module).__name__}")

    if isinstance(module, FixupBlock):
        folded: nn.Module = module.folded()
    else:
        folded = copy.deepcopy(module)
        _replace_fixup_blocks(folded)
    folded.eval()
    folded.requires_grad_(False)
    return folded  # type: ignore[return-value]


def _replace_fixup_blocks(parent: nn.Module) -> None:
    for name, child in parent.named_children():
        if isinstance(child, FixupBlock):
            setattr(parent, name, child.folded())
        else:
            _replace_fixup_blocks(child)
