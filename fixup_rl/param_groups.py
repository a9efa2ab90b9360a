"""Optimizer parameter groups that treat the Fixup scalars apart from the weights."""

from __future__ import annotations

from typing import Any

from torch import nn

from fixup_rl._validation import check_bool, check_positive_float
from fixup_rl.nn.fixup_block import FixupBlock
from fixup_rl.scale import fixup_scale


def fixup_param_groups(
    module: nn.Module,
    lr: float,
    weight_decay: float = 0.0,
    scalar_lr_scale: float = 0.1,
    depth_aware: bool = False,
    adaptive: bool = True,
) -> list[dict[str, Any]]:
    """Split ``module``'s parameters into optimizer groups for Fixup training.

    The Fixup scalars (the scalar biases and multipliers of every
    :class:`~fixup_rl.nn.FixupBlock`) get the learning rate ``lr * scalar_lr_scale`` and no
    weight decay. The official implementation trains them at a tenth of the learning rate,
    as it diverged otherwise, and decaying a multiplier that starts at 1 would slowly switch
    branches off. Every other parameter (weights, vector biases, normalization parameters,
    ReZero/SkipInit gates) gets ``lr`` and ``weight_decay``. Membership is decided by the
    module a parameter belongs to, never by its name.

    **Depth-aware mode** (``depth_aware=True``). Fixup keeps the change of the network's
    output after one SGD step on the *weights* at Θ(η) whatever the number of blocks ``L``.
    Two things break that in practice: every block's scalar biases shift the output directly,
    so trainable scalars add a change that grows like ``L``; and adaptive optimizers (Adam,
    RMSprop: SB3's defaults) take steps of about ``lr`` per parameter whatever the gradient,
    ignoring the ``fixup_scale(L, m)`` shrinking of the branch gradients. The depth-aware rule:

    - scalars: ``lr * scalar_lr_scale / L``;
    - branch weights, only when ``adaptive`` (Adam-like): ``lr * fixup_scale(L, m)``, i.e.
      ``lr * L^-1/2`` for ``m = 2``;
    - everything else: ``lr``.

    ``L`` and ``m`` are read from each block, so a module holding several networks of
    different depths (a policy tower and a value tower, say) is handled network by network.

    Every group carries ``"lr_scale"``, its learning rate divided by ``lr``, so a learning
    rate schedule can keep the ratios (see :func:`fixup_rl.sb3.keep_lr_scales`), and a
    ``"name"``.

    :param module: the module whose parameters to group
    :param lr: the base learning rate (> 0)
    :param weight_decay: weight decay of the non-scalar parameters (>= 0)
    :param scalar_lr_scale: the scalars' learning rate relative to ``lr`` (> 0)
    :param depth_aware: scale learning rates with the depth as described above
    :param adaptive: with ``depth_aware``, whether the optimizer is Adam-like (True) or
        SGD-like (False)
    :return: a list of parameter groups for any ``torch.optim`` optimizer
    """
    if not isinstance(module, nn.Module):
        raise ValueError(f"module must be a torch.nn.Module, got {type(module).__name__}")
    lr = check_positive_float("lr", lr)
    weight_decay = check_positive_float("weight_decay", weight_decay, allow_zero=True)
    scalar_lr_scale = check_positive_float("scalar_lr_scale", scalar_lr_scale)
    depth_aware = check_bool("depth_aware", depth_aware)
    adaptive = check_bool("adaptive", adaptive)

    # Decide each Fixup parameter's (group name, learning-rate scale) by the block that owns it.
    special: dict[int, tuple[str, float]] = {}
    for block in module.modules():
        if not isinstance(block, FixupBlock):
            continue
        depth = block.num_blocks
        scalar_scale = scalar_lr_scale / depth if depth_aware else scalar_lr_scale
        for param in block.scalar_parameters():
            special[id(param)] = ("fixup_scalars", scalar_scale)
        if depth_aware and adaptive:
            branch_scale = fixup_scale(depth, block.m)
            for layer in block.layers:
                special[id(layer.weight)] = ("fixup_branch_weights", branch_scale)

    # Collect the groups in parameter order, one per (name, scale), each parameter once.
    groups: dict[tuple[str, float], dict[str, Any]] = {}
    seen: set[int] = set()
    for param in module.parameters():
        if id(param) in seen:
            continue
        seen.add(id(param))
        name, scale = special.get(id(param), ("weights", 1.0))
        if (name, scale) not in groups:
            decay = 0.0 if name == "fixup_scalars" else weight_decay
            groups[(name, scale)] = {
                "params": [],
                "lr": lr * scale,
                "weight_decay": decay,
                "lr_scale": scale,
                "name": name,
            }
        groups[(name, scale)]["params"].append(param)
    return list(groups.values())
