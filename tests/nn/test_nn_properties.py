"""Properties of the core networks over random sizes, schemes, dtypes and batch sizes.

For any architecture hypothesis draws: the output has the right shape and is finite, every
forward path (with and without gradients, train and eval mode) computes the same function, and
each sample is computed independently of the rest of its batch (BatchNorm in train mode aside).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn

from fixup_rl import NORMS, ImpalaCNN, ResidualMLP, fold

# Random architectures and input scales sit a little above the 1e-6 measured for fixed ones
# (see conftest.max_batch_dependence): the float32 rounding floor, relative to the output.
TOLERANCE = 1e-5
ACTIVATIONS = [nn.ReLU, nn.Tanh, nn.ELU, nn.GELU, nn.SiLU, nn.LeakyReLU]
PROPERTIES = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def _inputs(shape: tuple[int, ...], scale: float, dtype: torch.dtype, seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return (torch.randn(shape, generator=generator, dtype=torch.float64) * scale).to(dtype)


def _outputs_in_every_path(net: nn.Module, x: torch.Tensor) -> dict[str, torch.Tensor]:
    # With gradients in train mode (what training runs), without in train and in eval mode.
    net.train()
    outputs = {"train, grad": net(x.clone().requires_grad_(x.is_floating_point())).detach()}
    with torch.no_grad():
        outputs["train, no grad"] = net(x)
        net.eval()
        outputs["eval, no grad"] = net(x)
    return outputs


@PROPERTIES
@given(
    norm=st.sampled_from(NORMS),
    in_dim=st.integers(1, 12),
    width=st.integers(1, 24),
    num_blocks=st.integers(1, 6),
    m=st.integers(2, 3),
    activation_fn=st.sampled_from(ACTIVATIONS),
    batch=st.integers(1, 9),
    scale=st.sampled_from([1e-3, 1.0, 100.0]),
    dtype=st.sampled_from([torch.float32, torch.float64]),
    seed=st.integers(0, 2**16),
)
def test_residual_mlp(
    perturb: Callable[..., None],
    batch_dependence: Callable[..., float],
    norm: str,
    in_dim: int,
    width: int,
    num_blocks: int,
    m: int,
    activation_fn: type[nn.Module],
    batch: int,
    scale: float,
    dtype: torch.dtype,
    seed: int,
) -> None:
    torch.manual_seed(seed)
    net = ResidualMLP(in_dim, width, num_blocks, m, norm, activation_fn)
    perturb(net)
    x = _inputs((batch, in_dim), scale, dtype, seed)

    outputs = _outputs_in_every_path(net, x)

    for path, out in outputs.items():
        assert out.shape == (batch, width), path
        assert out.dtype == torch.float32, path
        assert torch.isfinite(out).all(), path
    if norm != "batchnorm":  # BatchNorm's train mode uses the batch's statistics
        reference = outputs["eval, no grad"]
        bound = TOLERANCE * max(1.0, reference.abs().max().item())
        for path, out in outputs.items():
            assert (out - reference).abs().max().item() <= bound, path
        net.train()
        assert batch_dependence(net, x, range(batch)) <= TOLERANCE
    net.eval()
    assert batch_dependence(net, x, range(batch)) <= TOLERANCE
    assert batch_dependence(fold(net), x, range(batch)) <= TOLERANCE


@PROPERTIES
@given(
    norm=st.sampled_from(NORMS),
    image=st.tuples(st.integers(1, 3), st.integers(3, 12), st.integers(3, 12)),
    channels=st.lists(st.integers(1, 4), min_size=1, max_size=2),
    blocks_per_stage=st.integers(1, 2),
    batch=st.integers(1, 4),
    seed=st.integers(0, 2**16),
)
def test_impala_cnn(
    perturb: Callable[..., None],
    batch_dependence: Callable[..., float],
    norm: str,
    image: tuple[int, int, int],
    channels: list[int],
    blocks_per_stage: int,
    batch: int,
    seed: int,
) -> None:
    torch.manual_seed(seed)
    if norm == "layernorm" and _one_value_per_group(image, channels):
        with pytest.raises(ValueError, match="norm='layernorm' needs at least 2 values"):
            ImpalaCNN(image, channels, blocks_per_stage, norm=norm)
        return
    net = ImpalaCNN(image, channels, blocks_per_stage, norm=norm)
    perturb(net)
    x = _inputs((batch, *image), 1.0, torch.float32, seed)

    outputs = _outputs_in_every_path(net, x)

    for path, out in outputs.items():
        assert out.shape == (batch, net.out_dim), path
        assert torch.isfinite(out).all(), path
    if norm != "batchnorm":
        net.train()
        assert batch_dependence(net, x, range(batch)) <= TOLERANCE
    net.eval()
    assert batch_dependence(net, x, range(batch)) <= TOLERANCE


def _one_value_per_group(image: tuple[int, int, int], channels: list[int]) -> bool:
    # A stage of one channel pooled down to one pixel (each pooling halves, rounding up).
    height, width = image[1:]
    for stage_channels in channels:
        height, width = -(-height // 2), -(-width // 2)
        if stage_channels * height * width < 2:
            return True
    return False


@pytest.mark.parametrize("norm", NORMS)
def test_the_per_sample_check_can_fail(
    perturb: Callable[..., None], batch_dependence: Callable[..., float], norm: str
) -> None:
    # The measure used above sees batch coupling: BatchNorm in train mode fails it.
    net = ResidualMLP(4, 8, 2, norm=norm)
    perturb(net)
    x = torch.randn(6, 4)

    coupled = batch_dependence(net.train(), x, range(6)) > TOLERANCE

    assert coupled == (norm == "batchnorm")
