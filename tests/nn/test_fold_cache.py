"""Inference in eval mode runs the folded block; with caching, refolded when parameters change."""

from __future__ import annotations

import copy
from collections.abc import Callable

import pytest
import torch
from torch import nn

from fixup_rl import fold
from fixup_rl.nn import FixupBlock, PlainBlock, ResidualMLP
from fixup_rl.nn.fold_cache import FoldCache, cache_folded_weights
from fixup_rl.nn.residual_block import ResidualBlock


def reference(block: ResidualBlock, x: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return ResidualBlock.forward(block, x)


def eval_output(module: nn.Module, x: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return module(x)


@pytest.mark.parametrize("kind", ["linear", "conv"])
def test_without_caching_nothing_is_kept(perturb: Callable[..., None], kind: str) -> None:
    block = FixupBlock(4, num_blocks=4, kind=kind).eval()
    perturb(block)
    x = torch.randn(5, 4) if kind == "linear" else torch.randn(2, 4, 6, 6)

    for _ in range(3):
        torch.testing.assert_close(eval_output(block, x), reference(block, x))
        with torch.no_grad():
            block.layers[0].weight.data.mul_(1.5)  # invisible to version counters: still seen

    # Linear blocks run the fused node; convolutions fold for each call.
    assert block.fold_cache.computed == (0 if kind == "linear" else 3)
    assert block.fold_cache.value is None


def test_eval_inference_folds_once_and_matches(perturb: Callable[..., None]) -> None:
    block = FixupBlock(16, num_blocks=4).eval()
    perturb(block)
    assert cache_folded_weights(block) == 1
    x = torch.randn(5, 16)

    for _ in range(3):
        torch.testing.assert_close(eval_output(block, x), reference(block, x))

    assert block.fold_cache.computed == 1


# torch's fused kernels update parameters without moving their version counters.
OPTIMIZERS = {
    "adam": lambda params: torch.optim.Adam(params, lr=0.1),
    "adam-foreach": lambda params: torch.optim.Adam(params, lr=0.1, foreach=True),
    "adam-fused": lambda params: torch.optim.Adam(params, lr=0.1, fused=True),
    "adamw-fused": lambda params: torch.optim.AdamW(params, lr=0.1, fused=True),
    "sgd": lambda params: torch.optim.SGD(params, lr=0.1, momentum=0.9),
}


@pytest.mark.parametrize("optimizer_name", list(OPTIMIZERS))
def test_never_stale_after_an_optimizer_step(
    perturb: Callable[..., None], optimizer_name: str
) -> None:
    block = FixupBlock(16, num_blocks=4)
    perturb(block)
    cache_folded_weights(block)
    optimizer = OPTIMIZERS[optimizer_name](block.parameters())
    x = torch.randn(5, 16)

    for step in range(3):
        block.eval()
        torch.testing.assert_close(eval_output(block, x), reference(block, x))
        block.train()
        optimizer.zero_grad()
        block(x).square().sum().backward()
        optimizer.step()
        assert block.fold_cache.computed == step + 1

    block.eval()
    torch.testing.assert_close(eval_output(block, x), reference(block, x))


def test_never_stale_after_any_kind_of_parameter_change(perturb: Callable[..., None]) -> None:
    block = FixupBlock(8, num_blocks=2).eval()
    perturb(block)
    cache_folded_weights(block)
    x = torch.randn(3, 8)
    other = FixupBlock(8, num_blocks=2)
    perturb(other)

    changes = [
        lambda: block.load_state_dict(other.state_dict()),
        lambda: block.scale.mul_(3.0),
        lambda: block.bias_in[1].fill_(0.7),
        lambda: torch.nn.init.normal_(block.layers[1].weight),
        lambda: block.to(torch.float64),
        lambda: setattr(block.layers[0].weight, "data", torch.randn(8, 8, dtype=torch.float64)),
    ]
    for change in changes:
        eval_output(block, x.to(block.scale.dtype))
        with torch.no_grad():
            change()
        x_now = x.to(block.scale.dtype)
        torch.testing.assert_close(eval_output(block, x_now), reference(block, x_now))


def test_data_writes_need_the_cache_reset(perturb: Callable[..., None]) -> None:
    # Writes through .data bypass version counters (SB3's Polyak update of target networks
    # writes that way), which is why caching is opt-in; switching it off and on refolds.
    block = FixupBlock(8, num_blocks=2).eval()
    perturb(block)
    cache_folded_weights(block)
    x = torch.randn(3, 8)
    eval_output(block, x)
    block.scale.data.mul_(3.0)

    cache_folded_weights(block, enabled=False)
    torch.testing.assert_close(eval_output(block, x), reference(block, x))
    cache_folded_weights(block)
    torch.testing.assert_close(eval_output(block, x), reference(block, x))


def test_a_deep_copy_folds_its_own_weights(perturb: Callable[..., None]) -> None:
    block = FixupBlock(8, num_blocks=2).eval()
    perturb(block)
    cache_folded_weights(block)
    x = torch.randn(3, 8)
    eval_output(block, x)

    twin = copy.deepcopy(block)
    with torch.no_grad():
        twin.scale.fill_(-2.0)

    torch.testing.assert_close(eval_output(twin, x), reference(twin, x))
    torch.testing.assert_close(eval_output(block, x), reference(block, x))


def test_train_mode_and_gradients_bypass_the_cache(perturb: Callable[..., None]) -> None:
    block = FixupBlock(8, num_blocks=2)
    perturb(block)
    cache_folded_weights(block)
    x = torch.randn(3, 8)
    eval_output(block, x)  # train mode
    block.eval()
    block(x)  # gradients recorded
    assert block.fold_cache.computed == 0


def test_the_cache_holds_no_state_dict_entries() -> None:
    block = FixupBlock(8, num_blocks=2).eval()
    cache_folded_weights(block)
    eval_output(block, torch.randn(2, 8))
    assert sorted(block.state_dict()) == sorted(FixupBlock(8, num_blocks=2).state_dict())


def test_plain_block_inference_matches_autograd(perturb: Callable[..., None]) -> None:
    block = PlainBlock(8, m=3, activation_fn=nn.Tanh)
    perturb(block)
    x = torch.randn(4, 8)
    torch.testing.assert_close(eval_output(block, x), block(x).detach())


def test_folded_and_eval_networks_agree(perturb: Callable[..., None]) -> None:
    net = ResidualMLP(5, 32, num_blocks=6)
    perturb(net)
    x = torch.randn(7, 5)
    expected = net(x).detach()
    torch.testing.assert_close(eval_output(fold(net), x), expected, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(eval_output(net.eval(), x), expected, rtol=1e-5, atol=1e-5)


def test_fold_cache_recomputes_on_version_or_storage_change() -> None:
    cache: FoldCache[float] = FoldCache()
    cache.enabled = True
    param = torch.zeros(3)
    calls: list[int] = []

    def compute() -> float:
        calls.append(1)
        return float(param.sum())

    assert cache.get([param], compute) == 0.0
    assert cache.get([param], compute) == 0.0
    param.add_(1.0)
    assert cache.get([param], compute) == 3.0
    cache.clear()
    assert cache.get([param], compute) == 3.0
    assert len(calls) == 3 == cache.computed


def test_cache_folded_weights_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match=r"module must be a torch\.nn\.Module, got int"):
        cache_folded_weights(3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="enabled must be a bool, got 'yes'"):
        cache_folded_weights(nn.Linear(2, 2), enabled="yes")  # type: ignore[arg-type]
