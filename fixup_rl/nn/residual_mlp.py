"""A deep residual MLP for vector observations."""

from __future__ import annotations

import torch
from torch import nn

from fixup_rl._validation import check_activation, check_choice, check_int
from fixup_rl.nn.factory import NORMS, make_block
from fixup_rl.nn.layers import he_init_


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

        h = self.input_activation(self.input(x))
        for block in self.blocks:
            h = block(h)
        return self.final_norm(h)
