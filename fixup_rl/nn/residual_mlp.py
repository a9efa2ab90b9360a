"""A deep residual MLP for vector observations."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.modules import module as torch_module

from fixup_rl._validation import check_activation, check_choice, check_int
from fixup_rl.nn.activation_ops import ActivationOps, activation_ops
from fixup_rl.nn.factory import NORMS, make_block
from fixup_rl.nn.fixup_block import FixupBlock
from fixup_rl.nn.fold_cache import FoldCache
from fixup_rl.nn.fused_stack import fused_fixup_stack, stack_pays
from fixup_rl.nn.layers import he_init_
from fixup_rl.nn.plain_block import PlainBlock

#: Per block, the folded (weight, bias) of each branch layer.
FoldedBlocks = list[list[tuple[torch.Tensor, torch.Tensor]]]


class ResidualMLP(nn.Module):
    """Map ``(batch, in_dim)`` to ``(batch, width)`` through ``num_blocks`` residual blocks.

    An input projection ``Linear(in_dim, width)`` (plain He init, not depth-scaled) and the
    activation come first, then the blocks. ``norm`` picks the residual scheme, so the same
    network can be compared against what users would pick instead:

    - ``"fixup"`` (default): :class:`~fixup_rl.nn.FixupBlock` (Zhang et al., ICLR 2019);
    - ``"none"``: the same block with He init everywhere and no scalars, the unstable
      baseline (:class:`~fixup_rl.nn.PlainBlock`);
    - ``"batchnorm"``: BatchNorm after every branch layer (He et al., CVPR 2016);
    - ``"layernorm"``: pre-norm blocks with a final LayerNorm, as in SimBa (Lee et al., 2025);
    - ``"rezero"``: branch times a scalar that starts at 0 (Bachlechner et al., 2020);
    - ``"skipinit"``: pre-activation branch times a scalar that starts at 0 (De & Smith, 2020).

    Every scheme but ``"batchnorm"`` computes each sample independently of the rest of its
    batch, in train and in eval mode.

    With ``norm="fixup"``, a ReLU, Tanh, LeakyReLU or ELU activation and a 2-D input, the
    network runs its blocks as a whole rather than block by block, the same function at a
    smaller cost per call: without gradients, in eval mode with folded-weight caching enabled
    (:func:`~fixup_rl.nn.cache_folded_weights`) or as a :func:`~fixup_rl.fold` copy, as a
    chain of plain matrix products on weights folded once per parameter change; for small
    batches (:func:`~fixup_rl.nn.fused_stack.stack_pays`), as one autograd node for all the
    blocks (:mod:`fixup_rl.nn.fused_stack`). A forward hook on the
    network's input layer or on a block (or a global one) makes it run block by block, so
    that every hook sees its call.

    :param in_dim: input features
    :param width: features of every block and of the output
    :param num_blocks: the number of residual blocks (>= 1)
    :param m: weight layers per residual branch (>= 2)
    :param norm: the residual scheme, one of ``fixup_rl.NORMS``
    :param activation_fn: the activation class, as in SB3 (e.g. ``nn.ReLU``, ``nn.Tanh``)
    """

    def __init__(
        self,
        in_dim: int,
        width: int,
        num_blocks: int,
        m: int = 2,
        norm: str = "fixup",
        activation_fn: type[nn.Module] = nn.ReLU,
    ) -> None:
        super().__init__()
        self.in_dim = check_int("in_dim", in_dim, minimum=1)
        self.width = check_int("width", width, minimum=1)
        self.num_blocks = check_int("num_blocks", num_blocks, minimum=1)
        self.m = check_int("m", m, minimum=2)
        self.norm = check_choice("norm", norm, NORMS)
        check_activation("activation_fn", activation_fn)

        self.input = nn.Linear(in_dim, width)
        he_init_(self.input)
        self.input_activation = activation_fn()
        self.blocks = nn.ModuleList(
            make_block(norm, width, num_blocks, m, activation_fn, kind="linear")
            for _ in range(num_blocks)
        )
        self.final_norm = nn.LayerNorm(width) if norm == "layernorm" else nn.Identity()
        self.fold_cache: FoldCache[FoldedBlocks] = FoldCache()

    @property
    def out_dim(self) -> int:
        """The number of output features (``width``)."""
        return self.width

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() < 1 or x.shape[-1] != self.in_dim:
            raise ValueError(
                f"ResidualMLP expects inputs of shape (batch, {self.in_dim}), got {tuple(x.shape)}"
            )
        if x.dtype != self.input.weight.dtype:
            x = x.to(self.input.weight.dtype)

        if self.norm == "fixup" and x.dim() == 2:
            out = self._fixup_stack_forward(x)
            if out is not None:
                return out

        h = self.input_activation(self.input(x))
        for block in self.blocks:
            h = block(h)
        return self.final_norm(h)

    def _fixup_stack_forward(self, x: torch.Tensor) -> torch.Tensor | None:
        # The blocks as a whole, or None where they must run one by one.
        ops = activation_ops(self.input_activation)
        blocks = list(self.blocks._modules.values())
        if ops is None or not _runs_as_a_whole(self.input, blocks, ops):
            return None
        fixup = all(isinstance(block, FixupBlock) for block in blocks)

        if not torch.is_grad_enabled():
            if all(isinstance(block, PlainBlock) for block in blocks):  # a fold() copy
                layers = [[(layer.weight, layer.bias) for layer in b.layers] for b in blocks]
                return _folded_stack(x, self.input.weight, self.input.bias, layers, ops)
            if fixup and not self.training and self.fold_cache.enabled:
                params = [param for block in blocks for param in block._own_parameters()]
                layers = self.fold_cache.get(params, self._folded_blocks)
                return _folded_stack(x, self.input.weight, self.input.bias, layers, ops)

        if not fixup or not stack_pays(x.shape[0], self.width):
            return None  # large batches: each block's own fused node costs less
        h = self.input_activation(self.input(x))
        params = [block._own_parameters() for block in blocks]
        weights = [block_params[:-1] for block_params in params]
        return fused_fixup_stack(h, weights, [block_params[-1] for block_params in params], ops)

    @torch.no_grad()
    def _folded_blocks(self) -> FoldedBlocks:
        return [block._fused_weights_and_biases() for block in self.blocks]


def _runs_as_a_whole(input_layer: nn.Module, blocks: list[nn.Module], ops: ActivationOps) -> bool:
    # Whether running the blocks as a whole skips nothing: no hook would miss its call, and
    # every block is a Fixup block or a folded one with the network's activation.
    if torch_module._global_forward_hooks or torch_module._global_forward_pre_hooks:
        return False
    if _hooked(input_layer):
        return False
    for block in blocks:
        if not isinstance(block, (FixupBlock, PlainBlock)) or _hooked(block):
            return False
        if activation_ops(block.activation) is not ops:
            return False
    return True


def _hooked(module: nn.Module) -> bool:
    return bool(
        module._forward_hooks
        or module._forward_pre_hooks
        or module._backward_hooks
        or module._backward_pre_hooks
    )


def _folded_stack(
    x: torch.Tensor,
    input_weight: torch.Tensor,
    input_bias: torch.Tensor,
    blocks: FoldedBlocks,
    ops: ActivationOps,
) -> torch.Tensor:
    # Inference through the folded blocks, in the order of operations of the blocks' own
    # folded paths (so the results are the same to the bit); every tensor made here is new,
    # so the activations and shortcuts are applied in place.
    h = ops.inplace(F.linear(x, input_weight, input_bias))
    for layers in blocks:
        t = h
        for weight, bias in layers[:-1]:
            t = ops.inplace(F.linear(t, weight, bias))
        weight, bias = layers[-1]
        h = ops.inplace(F.linear(t, weight, bias).add_(h))
    return h
