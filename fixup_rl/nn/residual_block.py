"""The base class of every residual block in fixup_rl."""

from __future__ import annotations

import torch
from torch import nn


class ResidualBlock(nn.Module):
    """A residual block: ``x + branch(x)``, followed by the activation when post-activated.

    Subclasses define :meth:`branch`, the residual branch's output before the shortcut is
    added. Diagnostics and tests call it directly to look at what each block contributes.

    :param activation_fn: the activation class (e.g. ``nn.ReLU``)
    :param post_activation: apply the activation after the addition (ResNet v1 order, as in
        the Fixup paper) or leave the residual stream untouched (pre-norm and gated blocks)
    """

    def __init__(self, activation_fn: type[nn.Module], post_activation: bool) -> None:
        super().__init__()
        self.activation = activation_fn()
        self.post_activation = post_activation

    def branch(self, x: torch.Tensor) -> torch.Tensor:
        """Return the residual branch's output for ``x``, before the shortcut is added.

        :param x: the block's input
        :return: a tensor shaped like ``x``
        """
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = x + self.branch(x)
        return self.activation(out) if self.post_activation else out
