"""The networks the diagnostics build, and where to find their parts."""

from __future__ import annotations

import torch
from torch import nn

from fixup_rl.nn import FixupBlock, ImpalaCNN, ResidualBlock, ResidualMLP
from fixup_rl.scale import fixup_scale

#: Input features of the ResidualMLP diagnostics: a MuJoCo-sized observation (HalfCheetah's 17).
MLP_INPUT_DIM = 17

#: ``(channels, height, width)`` of the ImpalaCNN diagnostics: a Procgen-sized image.
IMAGE_SHAPE = (3, 64, 64)


def build_mlp(norm: str, num_blocks: int, width: int, seed: int, m: int = 2) -> ResidualMLP:
    """Build a :class:`~fixup_rl.ResidualMLP` from ``seed``, leaving torch's global RNG as it was.

    The input projection is drawn first, so networks of every depth built from the same seed
    share it.

    :param norm: the residual scheme, one of ``fixup_rl.NORMS``
    :param num_blocks: residual blocks
    :param width: features of every block
    :param seed: the seed of the initialization
    :param m: weight layers per residual branch
    :return: the network, in train mode
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return ResidualMLP(MLP_INPUT_DIM, width, num_blocks, m=m, norm=norm)


def build_cnn(norm: str, blocks_per_stage: int, seed: int) -> ImpalaCNN:
    """Build an :class:`~fixup_rl.ImpalaCNN` (IMPALA's channels 16, 32, 32) for ``IMAGE_SHAPE``.

    :param norm: the residual scheme, one of ``fixup_rl.NORMS``
    :param blocks_per_stage: residual blocks after each of the three stages
    :param seed: the seed of the initialization
    :return: the network, in train mode
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return ImpalaCNN(IMAGE_SHAPE, blocks_per_stage=blocks_per_stage, norm=norm)


def residual_blocks(module: nn.Module) -> list[ResidualBlock]:
    """Every residual block inside ``module``, in the order the modules were registered."""
    return [block for block in module.modules() if isinstance(block, ResidualBlock)]


def first_weight(module: nn.Module) -> nn.Parameter:
    """The first weight matrix or kernel of ``module``: the input projection or first convolution.

    :param module: a network
    :return: its first parameter with two dimensions or more
    """
    for param in module.parameters():
        if param.dim() >= 2:
            return param
    raise ValueError(f"{type(module).__name__} has no weight matrix or kernel to measure")


def fixup_scalars(module: nn.Module) -> list[nn.Parameter]:
    """The scalar biases and multipliers of every :class:`~fixup_rl.nn.FixupBlock` in ``module``."""
    return [param for block in _fixup_blocks(module) for param in block.scalar_parameters()]


@torch.no_grad()
def remove_depth_scaling_(module: nn.Module) -> None:
    """Undo Fixup's depth scaling in place: branch layers keep plain He init, last layers stay 0.

    Every branch layer but the last is divided by ``fixup_scale(L, m)``, which gives the same
    random draw at He's scale. The result is "zero init without scaling", the ablation that
    shows what the ``L^(-1/(2m-2))`` factor is for.

    :param module: a network holding Fixup blocks
    """
    for block in _fixup_blocks(module):
        factor = 1.0 / fixup_scale(block.num_blocks, block.m)
        for layer in block.layers[:-1]:
            layer.weight.mul_(factor)


def _fixup_blocks(module: nn.Module) -> list[FixupBlock]:
    return [block for block in module.modules() if isinstance(block, FixupBlock)]
