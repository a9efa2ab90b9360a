"""Signal propagation at init: how the activations and the gradients cross a residual network.

Fixup's claim (Zhang, Dauphin & Ma, ICLR 2019, section 2) is that a residual network without
normalization can start with an output, and gradients, whose size does not depend on its
depth. Every Fixup block starts as the identity (its last branch layer is zero), so the output
of a Fixup ResidualMLP at init is the same at 4 and at 1024 blocks, whereas the variance of a
plain He-initialized residual network more than doubles with every block: its output std is
about 1e12 at 64 blocks and overflows float32 at about 200.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from fixup_rl.diagnostics.measures import (
    entry_std,
    finite_max,
    frobenius_norm,
    kept_buffers,
    rms_norm,
    seeded_generator,
)
from fixup_rl.diagnostics.networks import first_weight, residual_blocks


def signal_propagation(net: nn.Module, inputs: torch.Tensor, seed: int = 0) -> dict[str, Any]:
    """Measure the forward signal and the backward gradient of ``net`` for one batch.

    One forward pass with autograd and one backward pass, in the module's current mode (train
    mode for a freshly built network, so BatchNorm uses batch statistics). The gradients are
    those of the probe ``s = sum_b <f(x_b), v_b>``, where each ``v_b`` is a random unit vector
    shaped like one output: the gradient of a random direction of the output, whose size is
    the size of the network's Jacobian. Nothing of ``net`` changes (BatchNorm's running
    statistics are restored afterwards).

    Every residual block's branch is measured on the block's actual input, captured by a
    forward pre-hook that computes ``block.branch(input)`` without autograd and keeps only its
    norm, so no per-block activation is held beyond what autograd itself keeps.

    The measures (float64; ``inf`` or ``nan`` where float32 overflowed):

    - ``output_std``: the standard deviation of all output entries;
    - ``input_grad_norm``: RMS over the batch of ``||ds/dx_b||``, the per-sample input gradient;
    - ``first_layer_grad_norm``: ``||d(s / batch)/dW||`` (Frobenius) for the first weight ``W``
      (the input projection, or the first convolution);
    - ``branch_norms`` and ``stream_norms``: per block, RMS over the batch of the norm of the
      branch's output and of the block's input; ``max_branch_norm`` is the largest branch norm.

    :param net: the network (any module whose residual blocks derive from
        :class:`~fixup_rl.nn.ResidualBlock`)
    :param inputs: a batch of inputs
    :param seed: the seed of the probe directions ``v_b``
    :return: the measures, as a dict
    """
    weight = first_weight(net)
    branch_norms: list[float] = []
    stream_norms: list[float] = []

    def record(block: nn.Module, args: tuple[torch.Tensor, ...]) -> None:
        with torch.no_grad():
            stream_norms.append(rms_norm(args[0]))
            branch_norms.append(rms_norm(block.branch(args[0])))

    # Forward, recording each branch as the signal streams past; then backward from a random
    # unit direction of each sample's output. Both inside kept_buffers: BatchNorm's backward
    # reads the running statistics, so they are restored only once it is done.
    x = inputs.detach().clone().requires_grad_(True)
    hooks = [block.register_forward_pre_hook(record) for block in residual_blocks(net)]
    with kept_buffers(net), torch.enable_grad():
        try:
            output = net(x)
        finally:
            for hook in hooks:
                hook.remove()
        probe = torch.randn(output.shape, generator=seeded_generator(seed), dtype=output.dtype)
        probe = probe / probe.flatten(1).norm(dim=1).view(-1, *([1] * (probe.dim() - 1)))
        input_grad, weight_grad = torch.autograd.grad((output * probe).sum(), [x, weight])

    return {
        "output_std": entry_std(output),
        "input_grad_norm": rms_norm(input_grad),
        "first_layer_grad_norm": frobenius_norm(weight_grad) / len(inputs),
        "max_branch_norm": finite_max(branch_norms),
        "branch_norms": branch_norms,
        "stream_norms": stream_norms,
    }
