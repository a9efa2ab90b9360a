"""The base class of every residual block in fixup_rl."""

from __future__ import annotations

from collections.abc import Callable

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

    def apply(self, fn: Callable[[nn.Module], None]) -> ResidualBlock:
        """Apply ``fn`` to every submodule, except Stable-Baselines3's weight re-initialization.

        SB3's ``ActorCriticPolicy`` re-initializes every Linear and Conv layer of its feature
        extractor orthogonally (``ortho_init=True``, its default) through
        ``module.apply(partial(BasePolicy.init_weights, gain=...))``. Inside a residual block
        that would silently erase the block's initialization (Fixup's zeroed last layer and
        depth scaling above all), so the blocks skip that one function and keep their init.

        :param fn: the function to apply
        :return: this block
        """
        if _is_sb3_weight_init(fn):
            return self
        return super().apply(fn)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = x + self.branch(x)
        return self.activation(out) if self.post_activation else out


def _is_sb3_weight_init(fn: Callable[[nn.Module], None]) -> bool:
    # Recognized by name so that the core networks need not import stable_baselines3.
    func = getattr(fn, "func", fn)
    return getattr(func, "__qualname__", "") == "BasePolicy.init_weights" and getattr(
        func, "__module__", ""
    ).startswith("stable_baselines3.")
