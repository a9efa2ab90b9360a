"""An IMPALA-style residual CNN for image observations."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from fixup_rl._validation import (
    check_activation,
    check_choice,
    check_int,
    check_int_sequence,
)
from fixup_rl.nn.factory import NORMS, make_block
from fixup_rl.nn.layers import he_init_


class ImpalaCNN(nn.Module):
    """The IMPALA ResNet with Fixup (or another residual scheme) in its residual blocks.

    Each stage is a 3x3 convolution to the stage's channels (plain He init), a 3x3 max-pool
    of stride 2, then ``blocks_per_stage`` residual conv blocks. After the last stage the
    feature map is activated (unless the blocks already end with the activation) and
    flattened. Fixup's depth scaling uses the total number of residual blocks of the network,
    ``len(channels) * blocks_per_stage``.

    Espeholt et al., "IMPALA: Scalable Distributed Deep-RL with Importance Weighted
    Actor-Learner Architectures", ICML 2018; Zhang, Dauphin & Ma, ICLR 2019.

    :param observation_shape: ``(channels, height, width)`` of one observation
    :param channels: output channels of each stage
    :param blocks_per_stage: residual blocks after each stage's pooling (>= 1)
    :param m: conv layers per residual branch (>= 2)
    :param norm: the residual scheme, one of ``fixup_rl.NORMS``
    :param activation_fn: the activation class
    """

    def __init__(
        self,
        observation_shape: Sequence[int],
        channels: Sequence[int] = (16, 32, 32),
        blocks_per_stage: int = 2,
        m: int = 2,
        norm: str = "fixup",
        activation_fn: type[nn.Module] = nn.ReLU,
    ) -> None:
        super().__init__()
        observation_shape = check_int_sequence("observation_shape", observation_shape, 1, length=3)
        channels = check_int_sequence("channels", channels, minimum=1)
        self.blocks_per_stage = check_int("blocks_per_stage", blocks_per_stage, minimum=1)
        self.m = check_int("m", m, minimum=2)
        self.norm = check_choice("norm", norm, NORMS)
        check_activation("activation_fn", activation_fn)
        self.observation_shape = tuple(int(dim) for dim in observation_shape)
        self.num_blocks = len(channels) * blocks_per_stage
        if norm == "layernorm":
            _check_layernorm_sizes(self.observation_shape, channels)

        stems: list[nn.Module] = []
        in_channels = self.observation_shape[0]
        for out_channels in channels:
            conv = nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1)
            he_init_(conv)
            stems.append(nn.Sequential(conv, nn.MaxPool2d(3, stride=2, padding=1)))
            in_channels = out_channels
        self.stems = nn.ModuleList(stems)
        self.blocks = nn.ModuleList(
            make_block(norm, out_channels, self.num_blocks, m, activation_fn, kind="conv")
            for out_channels in channels
            for _ in range(blocks_per_stage)
        )
        post_activated = self.blocks[-1].post_activation
        self.final_activation = nn.Identity() if post_activated else activation_fn()
        self.flatten = nn.Flatten()

        with torch.no_grad():
            probe = torch.zeros(1, *self.observation_shape)
            self.out_dim = int(self._features(probe).shape[1])

    def _features(self, x: torch.Tensor) -> torch.Tensor:
        for i, stem in enumerate(self.stems):
            x = stem(x)
            for block in self.blocks[i * self.blocks_per_stage : (i + 1) * self.blocks_per_stage]:
                x = block(x)
        return self.flatten(self.final_activation(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or tuple(x.shape[1:]) != self.observation_shape:
            expected = ", ".join(map(str, self.observation_shape))
            raise ValueError(
                f"ImpalaCNN expects inputs of shape (batch, {expected}), got {tuple(x.shape)}"
            )
        dtype = self.stems[0][0].weight.dtype
        if x.dtype != dtype:
            x = x.to(dtype)

        return self._features(x)


def _check_layernorm_sizes(observation_shape: tuple[int, ...], channels: Sequence[int]) -> None:
    # GroupNorm with one group normalizes each sample's channels and pixels together, which
    # needs at least two values: a stage of one channel pooled down to one pixel has one.
    height, width = observation_shape[1:]
    for stage, stage_channels in enumerate(channels):
        height, width = (height - 1) // 2 + 1, (width - 1) // 2 + 1  # the 3x3 max-pool, stride 2
        if stage_channels * height * width < 2:
            raise ValueError(
                f"norm='layernorm' needs at least 2 values per sample to normalize in every "
                f"stage; channels={list(channels)} with observation_shape={observation_shape} "
                f"leave stage {stage} with {stage_channels} channel of {height}x{width} pixels: "
                "use more channels or a larger observation"
            )
