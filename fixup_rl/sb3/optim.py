"""Fixup parameter groups inside SB3's optimizers, kept under SB3's learning-rate schedules."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from fixup_rl.param_groups import fixup_param_groups

_HOOKED = "_fixup_rl_lr_scales_kept"


def keep_lr_scales(optimizer: torch.optim.Optimizer) -> torch.optim.Optimizer:
    """Make every step use ``group["lr"] * group["lr_scale"]``, whatever SB3 wrote into ``lr``.

    SB3 applies its learning-rate schedule by writing the same ``lr`` into every parameter
    group before training (``update_learning_rate``), which would erase the reduced learning
    rate of the Fixup scalars. With this, ``group["lr"]`` holds the schedule's value between
    steps (what SB3 writes and logs as ``train/learning_rate``) and each step runs with it
    multiplied by the group's ``"lr_scale"`` (1 where absent). Calling it twice is harmless.

    :param optimizer: an optimizer whose groups may carry ``"lr_scale"``
    :return: the same optimizer
    """
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise ValueError(
            f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}"
        )
    if getattr(optimizer, _HOOKED, False):
        return optimizer
    base_lrs: list[Any] = []

    def scale_before_step(opt: torch.optim.Optimizer, args: Any, kwargs: Any) -> None:
        base_lrs.clear()
        for group in opt.param_groups:
            base_lrs.append(group["lr"])
            group["lr"] = group["lr"] * group.get("lr_scale", 1.0)

    def restore_after_step(opt: torch.optim.Optimizer, args: Any, kwargs: Any) -> None:
        for group, base_lr in zip(opt.param_groups, base_lrs, strict=True):
            group["lr"] = base_lr

    optimizer.register_step_pre_hook(scale_before_step)
    optimizer.register_step_post_hook(restore_after_step)
    setattr(optimizer, _HOOKED, True)
    return optimizer


def fixup_optimizer(
    module: nn.Module,
    params_of: torch.optim.Optimizer,
    optimizer_class: type[torch.optim.Optimizer],
    optimizer_kwargs: dict[str, Any],
    lr: float,
    scalar_lr_scale: float,
    depth_aware: bool,
) -> torch.optim.Optimizer:
    """Build an optimizer over the same parameters as ``params_of``, in Fixup groups.

    SB3 decides which parameters each of its optimizers trains (the critic's excludes a
    features extractor shared with the actor, say); this keeps that choice and only splits
    the parameters into :func:`~fixup_rl.fixup_param_groups` groups, then applies
    :func:`keep_lr_scales`. Group learning rates are stored at the schedule's value; each step
    multiplies them by the group's ``"lr_scale"``.

    :param module: the module that owns the parameters
    :param params_of: the optimizer SB3 built, whose parameters are kept
    :param optimizer_class: the optimizer class
    :param optimizer_kwargs: its keyword arguments (``weight_decay`` applies to the
        non-scalar groups)
    :param lr: the initial learning rate
    :param scalar_lr_scale: the Fixup scalars' learning rate relative to ``lr``
    :param depth_aware: use the depth-aware groups of :func:`~fixup_rl.fixup_param_groups`
    :return: the new optimizer
    """
    kept = {id(param) for group in params_of.param_groups for param in group["params"]}
    kwargs = dict(optimizer_kwargs)
    weight_decay = kwargs.pop("weight_decay", 0.0)
    adaptive = not issubclass(optimizer_class, torch.optim.SGD)
    # Only the grouping and the scales come from here (the learning rate of every group is set
    # to lr below), so lr may be 0: SB3's placeholder schedule for a policy loaded on its own.
    groups = fixup_param_groups(
        module, 1.0, weight_decay, scalar_lr_scale, depth_aware=depth_aware, adaptive=adaptive
    )

    selected = []
    for group in groups:
        params = [param for param in group["params"] if id(param) in kept]
        if params:
            # SB3 writes the schedule's value into "lr"; the scale is applied at each step.
            selected.append({**group, "params": params, "lr": lr})
    assert sum(len(g["params"]) for g in selected) == len(kept), "a parameter was lost"

    return keep_lr_scales(optimizer_class(selected, lr=lr, **kwargs))
