"""The size of a learning step: how far a few optimizer steps move the network's output.

Fixup's depth scaling is designed so that one SGD step of learning rate η on the weights
changes the output by Θ(η) whatever the depth (Zhang, Dauphin & Ma, ICLR 2019, section 3).
The diagnostics measure it: ``steps`` optimizer steps on a fixed random regression batch, then

    output change = sqrt(mean_b ||f_after(x_b) - f_before(x_b)||^2)

(RMS over the batch of each sample's Euclidean change of the output vector), divided by η.
In the linear regime (η small) this ratio does not depend on η; it grows with depth when the
learning step does.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn

from fixup_rl._validation import check_choice, check_int
from fixup_rl.diagnostics.measures import rms_norm
from fixup_rl.diagnostics.networks import fixup_scalars, remove_depth_scaling_
from fixup_rl.param_groups import fixup_param_groups

OPTIMIZERS = ("sgd", "adam")

#: η of each optimizer, in the linear regime, where output change / η does not depend on η.
#: Measured at width 256 from 4 to 1024 blocks: the Fixup weights-only and depth-aware ratios
#: at η and at 10η agree within 0.5% (SGD and Adam), and the official recipe's at 1024 blocks
#: is within 2% of its value at η/10. SGD needs the smaller η because the official recipe's
#: 1024 scalar biases all shift the output the same way (at 1e-5 its ratio is 20% low). Lower
#: is not better: at 1e-7 SGD's weight updates start to vanish in float32 rounding (ratios 15%
#: low at 1024 blocks), and Adam's ε (1e-8) starts to damp the steps of tiny gradients.
LEARNING_RATES = {"sgd": 1e-6, "adam": 1e-5}

#: Optimizer steps before the output change is measured.
STEPS = 3

#: The variants compared, and what each trains. All but "none" start from the same Fixup net.
VARIANTS = {
    "weights_only": "Fixup, weights only (scalars frozen)",
    "official": "Fixup, scalars at η/10 (official)",
    "depth_aware": "Fixup, depth-aware groups",
    "no_scaling": "zero init, unscaled, weights only",
    "none": "none (plain He)",
}

#: The variants built from a Fixup network (``"none"`` is a network of its own).
FIXUP_VARIANTS = ("weights_only", "official", "depth_aware", "no_scaling")

#: The deepest network "no_scaling" is trained at. Its output change / η grows with depth and,
#: never in the linear regime, also grows as η shrinks; two more runs at 1024 blocks would add
#: about 10 s to the report to show the same thing.
NO_SCALING_MAX_DEPTH = 256


def variant_param_groups(
    net: nn.Module, variant: str, optimizer: str, lr: float
) -> list[dict[str, Any]]:
    """The optimizer parameter groups of one variant of the learning-step comparison.

    - ``"weights_only"`` and ``"no_scaling"``: every parameter but the Fixup scalars, at ``lr``
      (freeze the scalars with :func:`frozen` while training);
    - ``"official"``: ``fixup_param_groups(net, lr)``, the scalars at ``lr / 10``;
    - ``"depth_aware"``: ``fixup_param_groups(net, lr, depth_aware=True, adaptive=...)``,
      adaptive for Adam, not for SGD;
    - ``"none"``: every parameter at ``lr``.

    :param net: the network to train
    :param variant: one of :data:`VARIANTS`
    :param optimizer: ``"sgd"`` or ``"adam"``
    :param lr: the learning rate η
    :return: the parameter groups
    """
    check_choice("variant", variant, VARIANTS)
    check_choice("optimizer", optimizer, OPTIMIZERS)
    if variant == "official":
        return fixup_param_groups(net, lr)
    if variant == "depth_aware":
        return fixup_param_groups(net, lr, depth_aware=True, adaptive=optimizer == "adam")
    scalars = {id(param) for param in fixup_scalars(net)}
    return [{"params": [p for p in net.parameters() if id(p) not in scalars], "lr": lr}]


def variant_output_change(
    net: nn.Module,
    variant: str,
    optimizer: str,
    lr: float,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    steps: int = STEPS,
) -> float:
    """Turn a Fixup network (or, for ``"none"``, a plain one) into ``variant`` and train it.

    ``"no_scaling"`` first removes the depth scaling of the branch layers (in place); the
    weights-only variants train with the Fixup scalars frozen. See :func:`output_change`.

    :param net: the freshly initialized network; its parameters change
    :param variant: one of :data:`VARIANTS`
    :param optimizer: ``"sgd"`` or ``"adam"``
    :param lr: the learning rate η
    :param inputs: the batch of inputs
    :param targets: the regression targets
    :param steps: optimizer steps
    :return: the output change (divide by ``lr`` to compare runs)
    """
    if variant == "no_scaling":
        remove_depth_scaling_(net)
    groups = variant_param_groups(net, variant, optimizer, lr)
    scalars = fixup_scalars(net) if variant in ("weights_only", "no_scaling") else []
    with frozen(scalars):
        return output_change(net, inputs, targets, groups, optimizer, steps)


@contextmanager
def frozen(params: Sequence[nn.Parameter]) -> Iterator[None]:
    """Stop ``params`` from requiring gradients while the block runs."""
    flags = [param.requires_grad for param in params]
    for param in params:
        param.requires_grad_(False)
    try:
        yield
    finally:
        for param, flag in zip(params, flags, strict=True):
            param.requires_grad_(flag)


def output_change(
    net: nn.Module,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    param_groups: list[dict[str, Any]],
    optimizer: str = "sgd",
    steps: int = STEPS,
) -> float:
    """Train ``net`` in place for ``steps`` steps and return how far its output moved.

    The loss is the regression loss ``mean_b 0.5 * ||f(x_b) - y_b||^2`` on the fixed batch
    ``(inputs, targets)``; the result is ``sqrt(mean_b ||f_after(x_b) - f_before(x_b)||^2)``
    in float64 (``inf`` or ``nan`` if the network overflowed, in which case training stops
    at the first non-finite output). Divide it by the learning rate to compare runs.

    :param net: the network; its parameters change
    :param inputs: the batch of inputs
    :param targets: the regression targets, shaped like ``net(inputs)``
    :param param_groups: the optimizer's parameter groups (each with its ``lr``)
    :param optimizer: ``"sgd"`` (plain SGD) or ``"adam"`` (torch's defaults)
    :param steps: optimizer steps (>= 1)
    :return: the output change
    """
    check_choice("optimizer", optimizer, OPTIMIZERS)
    check_int("steps", steps, minimum=1)
    optim = _optimizer(optimizer, param_groups)

    before: torch.Tensor | None = None
    for _ in range(steps):
        output = net(inputs)
        if before is None:
            before = output.detach()
        if not bool(torch.isfinite(output).all()):  # overflowed: inf or nan from here on
            return rms_norm(output.detach() - before)
        loss = 0.5 * (output - targets).pow(2).flatten(1).sum(1).mean()
        optim.zero_grad(set_to_none=True)  # the new gradients are taken over, not added
        loss.backward()
        optim.step()

    with torch.no_grad():
        after = net(inputs)
    assert before is not None
    return rms_norm(after - before)


def _optimizer(name: str, param_groups: list[dict[str, Any]]) -> torch.optim.Optimizer:
    if name == "sgd":
        return torch.optim.SGD(param_groups, lr=param_groups[0]["lr"])
    try:
        # The fused kernel updates 134M parameters (1024 blocks of width 256) several times
        # faster than the default, with the same arithmetic.
        return torch.optim.Adam(param_groups, lr=param_groups[0]["lr"], fused=True)
    except RuntimeError:  # a torch without the fused CPU kernel
        return torch.optim.Adam(param_groups, lr=param_groups[0]["lr"])
