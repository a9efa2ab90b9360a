"""A stack of linear Fixup blocks as one autograd node, for small batches.

At small batch sizes, a Fixup network's cost is the number of operations it
launches, not their size. :mod:`fixup_rl.nn.fused_fixup` makes each block one autograd node;
here the whole stack of blocks of a :class:`~fixup_rl.nn.ResidualMLP` is one node, so the
autograd bookkeeping is paid once per network instead of once per block. Each block computes
(``a_i = bias_in[i]``, ``b_i = bias_out[i]``, ``s = scale``)::

    h_0 = x
    h_{i+1} = act((h_i + a_i) @ W_i.T + b_i)                 for i < m - 1
    out = act(x + s * ((h_{m-1} + a_{m-1}) @ W_{m-1}.T) + b_{m-1})

the function of :class:`~fixup_rl.nn.FixupBlock`, with the scalar biases added to the
activations (``batch x width`` elements), which is cheaper than folding them into the
weights (``width x width``) while the batch is small. The backward computes every gradient
directly, block by block from the last, and gathers the scalars' gradients (sums over the
batch and the features) into one tensor at the end.

:func:`stack_pays` says when this beats one node per block: below a batch of ``width``, or
while the activations of one layer hold at most :data:`STACK_MAX_ELEMENTS` numbers (measured
on a CPU, forward and backward: 0.70 to 0.93 times the cost of one node per block at widths
32 to 128 up to that size, 0.83 to 1.01 times at width 256 below a batch of 256; 1.02 to 1.06
times beyond, where one node per block folds the scalars into the weights instead).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch.autograd.function import once_differentiable

from fixup_rl.nn.activation_ops import ActivationOps


class FixupStackLinear(torch.autograd.Function):
    """``n`` linear Fixup blocks of ``m`` layers each, applied in turn, as one autograd node.

    ``params`` holds, block after block, the ``m`` branch weights and then the block's
    ``2m + 1`` scalars ``[a_0..a_{m-1}, b_0..b_{m-1}, s]``.
    """

    @staticmethod
    def forward(  # type: ignore[override]
        ctx: Any,
        x: torch.Tensor,
        ops: ActivationOps,
        m: int,
        *params: torch.Tensor,
    ) -> torch.Tensor:
        saved: list[torch.Tensor] = []
        h = x
        for start in range(0, len(params), m + 1):
            weights, values = params[start : start + m], params[start + m].unbind()

            # The branch: shift the input, multiply, add the bias, activate; the last layer
            # has no activation of its own.
            t = h
            for i in range(m - 1):
                shifted = t + values[i]
                t = ops.inplace(torch.addmm(values[m + i], shifted, weights[i].t()))
                saved += (shifted, t)
            shifted = t + values[m - 1]
            product = shifted @ weights[m - 1].t()

            # The multiplier, the last bias, the shortcut and the block's activation.
            h = ops.inplace(torch.addcmul(h, product, values[2 * m]).add_(values[2 * m - 1]))
            saved += (shifted, product, h)

        ctx.ops, ctx.m, ctx.num_params = ops, m, len(params)
        ctx.save_for_backward(*params, *saved)
        return h

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, grad_out: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        ops: ActivationOps = ctx.ops
        m: int = ctx.m
        tensors = ctx.saved_tensors
        params, saved = tensors[: ctx.num_params], tensors[ctx.num_params :]
        blocks = len(params) // (m + 1)
        per_block = 2 * m + 1  # saved per block: (shifted, activated) per inner layer, then
        # the last layer's shifted input, its product and the block's output

        grads: list[torch.Tensor | None] = [None] * len(params)
        # Per block, the tensors whose sums are the scalars' gradients, in the scalars' order
        # [a_0..a_{m-1}, b_0..b_{m-1}]; and the pairs whose dot product is the multiplier's.
        summed: list[list[torch.Tensor]] = [[] for _ in range(blocks)]
        scale_pairs: list[tuple[torch.Tensor, torch.Tensor]] = []
        g = grad_out
        for k in range(blocks - 1, -1, -1):
            weights = params[k * (m + 1) : k * (m + 1) + m]
            scale = params[k * (m + 1) + m][2 * m]
            block = saved[k * per_block : (k + 1) * per_block]
            product, out = block[-2], block[-1]
            grad_a: list[torch.Tensor] = [grad_out] * m  # placeholders, all replaced
            grad_b: list[torch.Tensor] = [grad_out] * m

            # Through the block's activation: the shortcut, the last bias, the multiplier.
            grad_pre = ops.grad_from_output(g, out)
            grad_b[m - 1] = grad_pre
            scale_pairs.append((grad_pre, product))

            # The last layer, then the inner layers from the last to the first.
            grad_z = grad_pre * scale
            weight_grads: list[torch.Tensor] = [grad_out] * m
            for i in range(m - 1, -1, -1):
                weight_grads[i] = grad_z.t() @ block[2 * i]
                grad_shifted = grad_z @ weights[i]
                grad_a[i] = grad_shifted
                if i > 0:
                    grad_z = ops.grad_from_output(grad_shifted, block[2 * i - 1])
                    grad_b[i - 1] = grad_z
            grads[k * (m + 1) : k * (m + 1) + m] = weight_grads
            summed[k] = grad_a + grad_b
            g = grad_shifted + grad_pre

        # Every scalar bias's gradient is the sum of one (batch, width) tensor, every
        # multiplier's a dot product; gathered into one tensor, then split per block.
        biases = torch.stack([t.sum() for block_terms in summed for t in block_terms])
        scales = torch.stack([torch.vdot(g.flatten(), p.flatten()) for g, p in scale_pairs[::-1]])
        grad_scalars = torch.cat([biases.view(blocks, 2 * m), scales.unsqueeze(1)], 1).unbind()
        for k in range(blocks):
            grads[k * (m + 1) + m] = grad_scalars[k]
        return (g, None, None, *grads)


#: Up to this many numbers in a (batch, width) activation, one node for the stack pays.
STACK_MAX_ELEMENTS = 16384


def stack_pays(batch: int, width: int) -> bool:
    """Whether :func:`fused_fixup_stack` is the faster form for this batch and width.

    :param batch: rows of the input
    :param width: features of every block
    :return: True below a batch of ``width`` or up to ``STACK_MAX_ELEMENTS`` activations
    """
    return batch < width or batch * width <= STACK_MAX_ELEMENTS


def fused_fixup_stack(
    x: torch.Tensor,
    weights: Sequence[Sequence[torch.Tensor]],
    scalars: Sequence[torch.Tensor],
    ops: ActivationOps,
) -> torch.Tensor:
    """Apply linear Fixup blocks to ``x``, one after the other, as one autograd node.

    :param x: the input, of shape ``(batch, width)``
    :param weights: per block, its ``m`` branch weights, each ``(width, width)``
    :param scalars: per block, its ``2m + 1`` scalars (see :class:`FixupStackLinear`)
    :param ops: the activation's functional forms
    :return: the last block's output, of shape ``(batch, width)``
    """
    m = len(weights[0])
    params = [t for block, values in zip(weights, scalars, strict=True) for t in (*block, values)]
    return FixupStackLinear.apply(x, ops, m, *params)
