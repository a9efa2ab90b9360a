"""Folded weights kept between inference calls, recomputed when the parameters change."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

import torch
from torch import nn
from torch.optim.optimizer import register_optimizer_step_post_hook

T = TypeVar("T")


class _OptimizerSteps:
    """Counts every optimizer step taken in this process, by any ``torch.optim`` optimizer.

    A parameter's version counter is not enough to tell that it changed: torch's fused Adam
    and AdamW kernels (``fused=True``) update parameters without moving it. Counting steps
    through torch's global step hook catches every optimizer, fused or not.
    """

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, optimizer: torch.optim.Optimizer, args: Any, kwargs: Any) -> None:
        self.count += 1


_optimizer_steps = _OptimizerSteps()
register_optimizer_step_post_hook(_optimizer_steps)


class FoldCache(Generic[T]):
    """Keep ``compute()``'s result until one of ``params`` is modified or replaced.

    Disabled (the default), :meth:`get` computes the value on every call. Enabled, it keeps
    the value until any ``torch.optim`` optimizer takes a step (fused kernels included), a
    parameter's storage moves (``.to()``, ``.data = ...``, a new device or dtype) or its
    version counter moves: PyTorch increments a tensor's version on every in-place operation,
    which covers ``load_state_dict`` and in-place edits under ``torch.no_grad()``.

    Writes through ``param.data`` (``param.data.mul_(...)``) bypass the version counter and
    are **not** seen; SB3 writes that way only into target networks (Polyak averaging), which
    is why caching is opt-in, per network (:func:`cache_folded_weights`).
    """

    def __init__(self) -> None:
        self.enabled = False
        self.key: tuple[int, tuple[tuple[int, int], ...]] | None = None
        self.value: T | None = None
        self.computed = 0  # how many times the value was computed

    def get(self, params: Sequence[torch.Tensor], compute: Callable[[], T]) -> T:
        """Return the value for ``params``: the cached one if still valid, else a new one.

        :param params: the tensors the value depends on
        :param compute: computes the value from their current contents
        :return: the value
        """
        if not self.enabled:
            self.computed += 1
            return compute()
        versions = tuple((param.data_ptr(), param._version) for param in params)
        key = (_optimizer_steps.count, versions)
        if key != self.key or self.value is None:
            self.value = compute()
            self.key = key
            self.computed += 1
        return self.value

    def clear(self) -> None:
        """Drop the cached value (it is recomputed on the next :meth:`get`)."""
        self.key = None
        self.value = None


def cache_folded_weights(module: nn.Module, enabled: bool = True) -> int:
    """Let the Fixup blocks in ``module`` keep their folded weights between inference calls.

    In eval mode without gradients, a Fixup block computes with its scalars folded into its
    weights. By default it folds on every call; with caching it folds once and refolds only
    after its parameters may have changed (any optimizer's step, ``load_state_dict``, in-place
    edits, ``.to()``), so a rollout of thousands of steps folds once. Writes through ``.data`` are
    not seen (see :class:`FoldCache`): do not enable caching on a network updated that way,
    such as an SB3 target network, or disable and re-enable it after such a write.

    The Fixup policies of :mod:`fixup_rl.sb3` enable it on their online networks.

    :param module: any module containing Fixup blocks
    :param enabled: enable (``True``) or disable and drop the cached weights (``False``)
    :return: the number of blocks changed
    """
    if not isinstance(module, nn.Module):
        raise ValueError(f"module must be a torch.nn.Module, got {type(module).__name__}")
    if not isinstance(enabled, bool):
        raise ValueError(f"enabled must be a bool, got {enabled!r}")

    count = 0
    for child in module.modules():
        cache = getattr(child, "fold_cache", None)
        if isinstance(cache, FoldCache):
            cache.enabled = enabled
            cache.clear()
            count += 1
    return count
