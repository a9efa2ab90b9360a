"""One linear Fixup block as a single autograd node, with a hand-written backward.

Written with ordinary tensor operations, a Fixup block records a dozen small autograd nodes
(the scalar additions, the multiplier, the shortcut, the activations) around its two matrix
products. At the batch sizes of RL (1 to a few hundred) the bookkeeping of those nodes costs
as much as the matrix products themselves. Here the whole block is one node: the forward
runs the block's operations without recording them, and the backward computes every
gradient (input, weights, scalar biases, multiplier) directly, with the same matrix products
autograd would use and a few reductions for the scalars.

The block computed is (``a_i = bias_in[i]``, ``b_i = bias_out[i]``, ``s = scale``, all of
them entries of the block's one ``scalars`` vector ``[a_0..a_{m-1}, b_0..b_{m-1}, s]``)::

    h_0 = x
    h_{i+1} = act((h_i + a_i) @ W_i.T + b_i)                 for i < m - 1
    out = act(x + s * ((h_{m-1} + a_{m-1}) @ W_{m-1}.T) + b_{m-1})

which is :class:`~fixup_rl.nn.FixupBlock`'s function. The block uses this path for
two-dimensional inputs when gradients are being recorded and its activation is one of
:func:`~fixup_rl.nn.activation_ops.activation_ops`'s; the tests compare both paths' outputs
and gradients, and check these gradients numerically (``torch.autograd.gradcheck``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch.autograd.function import once_differentiable

from fixup_rl.nn.activation_ops import ActivationOps


class ShiftedFixupLinear(torch.autograd.Function):
    """One linear Fixup block as one autograd node, for batches smaller than the width.

    The scalar biases are added to the activations (``batch x width`` elements each), which
    at small batches is cheaper than folding them into the weights (``width x width``).
    """

    @staticmethod
    def forward(  # type: ignore[override]
        ctx: Any,
        x: torch.Tensor,
        scalars: torch.Tensor,
        ops: ActivationOps,
        *weights: torch.Tensor,
    ) -> torch.Tensor:
        m = len(weights)
        values = scalars.unbind()
        bias_in, bias_out, scale = values[:m], values[m : 2 * m], values[2 * m]

        # The branch's inner layers: shift the input, multiply, add the bias, activate.
        h = x
        shifted: list[torch.Tensor] = []
        activated: list[torch.Tensor] = []
        for i in range(m - 1):
            shifted.append(h + bias_in[i])
            h = ops.inplace(torch.addmm(bias_out[i], shifted[i], weights[i].t()))
            activated.append(h)

        # The last layer, the multiplier, the last bias and the shortcut.
        shifted.append(h + bias_in[m - 1])
        product = shifted[m - 1] @ weights[m - 1].t()
        out = ops.inplace(torch.addcmul(x, product, scale).add_(bias_out[m - 1]))

        ctx.ops = ops
        ctx.save_for_backward(scalars, product, out, *weights, *shifted, *activated)
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, grad_out: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        ops: ActivationOps = ctx.ops
        scalars, product, out, *rest = ctx.saved_tensors
        m = (len(rest) + 1) // 3
        weights, shifted, activated = rest[:m], rest[m : 2 * m], rest[2 * m :]
        grad_w: list[torch.Tensor] = [product] * m  # placeholders, all replaced below
        grad_a: list[torch.Tensor] = [product] * m
        grad_b: list[torch.Tensor] = [product] * m

        # Through the block's activation to the shortcut, the last bias and the multiplier.
        grad_pre = ops.grad_from_output(grad_out, out)
        grad_b[m - 1] = grad_pre.sum()
        grad_scale = (grad_pre * product).sum()

        # The last layer, then the inner layers from the last to the first.
        grad_z = grad_pre * scalars[2 * m]
        for i in range(m - 1, -1, -1):
            grad_w[i] = grad_z.t() @ shifted[i]
            grad_shifted = grad_z @ weights[i]
            grad_a[i] = grad_shifted.sum()
            if i > 0:
                grad_z = ops.grad_from_output(grad_shifted, activated[i - 1])
                grad_b[i - 1] = grad_z.sum()

        grad_x = grad_shifted.add_(grad_pre)
        grad_scalars = torch.stack([*grad_a, *grad_b, grad_scale])
        return (grad_x, grad_scalars, None, *grad_w)


class FoldedFixupLinear(torch.autograd.Function):
    """One linear Fixup block as one autograd node, for batches at least as large as the width.

    The scalars are folded into each layer's weight and vector bias (``a_i * W_i.sum(1) +
    b_i``, and ``scale * W`` for the last layer), which costs ``width x width`` operations
    instead of ``batch x width`` ones; the shortcut is added inside the last matrix product.
    """

    @staticmethod
    def forward(  # type: ignore[override]
        ctx: Any,
        x: torch.Tensor,
        scalars: torch.Tensor,
        ops: ActivationOps,
        *weights: torch.Tensor,
    ) -> torch.Tensor:
        m = len(weights)
        values = scalars.unbind()
        bias_in, bias_out, scale = values[:m], values[m : 2 * m], values[2 * m]

        # Each layer's effective weight and vector bias; the multiplier scales the last weight.
        effective = [*weights[: m - 1], weights[m - 1] * scale]
        sums = [weight.sum(1) for weight in effective]
        biases = [torch.addcmul(bias_out[i], bias_in[i], sums[i]) for i in range(m)]

        # The layers, the last one adding the shortcut inside its matrix product.
        inputs = [x]
        for i in range(m - 1):
            inputs.append(ops.inplace(torch.addmm(biases[i], inputs[i], effective[i].t())))
        out = ops.inplace(torch.addmm(x, inputs[m - 1], effective[m - 1].t()).add_(biases[m - 1]))

        ctx.ops = ops
        ctx.save_for_backward(scalars, out, *weights, *effective, *sums, *inputs)
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, grad_out: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        ops: ActivationOps = ctx.ops
        scalars, out, *rest = ctx.saved_tensors
        m = len(rest) // 4
        weights, effective = rest[:m], rest[m : 2 * m]
        sums, inputs = rest[2 * m : 3 * m], rest[3 * m :]
        bias_in = scalars.unbind()[:m]
        grad_w: list[torch.Tensor] = [out] * m  # placeholders, all replaced below
        grad_a: list[torch.Tensor] = [out] * m
        grad_b: list[torch.Tensor] = [out] * m

        # From the last layer to the first: the vector bias a_i * sum_i + b_i spreads its
        # gradient over the scalars and over every column of the effective weight.
        grad_pre = ops.grad_from_output(grad_out, out)
        grad_z = grad_pre
        for i in range(m - 1, -1, -1):
            grad_bias = grad_z.sum(0)
            grad_b[i] = grad_bias.sum()
            grad_a[i] = torch.dot(grad_bias, sums[i])
            column = (bias_in[i] * grad_bias).unsqueeze(1)
            grad_w[i] = torch.addmm(column, grad_z.t(), inputs[i])
            if i > 0:
                grad_input = grad_z @ effective[i]
                grad_z = ops.grad_from_output(grad_input, inputs[i])
        grad_x = torch.addmm(grad_pre, grad_z, effective[0])

        # The last weight was used scaled: its gradient and the multiplier's.
        grad_scale = torch.dot(grad_w[m - 1].flatten(), weights[m - 1].flatten())
        grad_w[m - 1] = grad_w[m - 1].mul_(scalars[2 * m])
        grad_scalars = torch.stack([*grad_a, *grad_b, grad_scale])
        return (grad_x, grad_scalars, None, *grad_w)


def fused_fixup_linear(
    x: torch.Tensor,
    weights: Sequence[torch.Tensor],
    scalars: torch.Tensor,
    ops: ActivationOps,
) -> torch.Tensor:
    """Apply a linear Fixup block to ``x`` as one autograd node.

    :param x: the input, of shape ``(batch, width)``
    :param weights: the ``m`` branch weights, each ``(width, width)``
    :param scalars: the block's ``2m + 1`` scalars: ``m`` biases before the layers, ``m``
        biases after them (the last one after the multiplier), then the multiplier
    :param ops: the activation's functional forms
    :return: the block's output, of shape ``(batch, width)``
    """
    function = FoldedFixupLinear if x.shape[0] >= x.shape[1] else ShiftedFixupLinear
    return function.apply(x, scalars, ops, *weights)
