"""Skip every optimizer step whose gradients are not finite; stop when that keeps happening.

SB3's algorithms compute a loss, backpropagate, clip the gradient norm and step the optimizer.
A NaN anywhere in the loss makes every gradient NaN, and one optimizer step then writes NaN
into the weights for good. :class:`FiniteUpdatesCallback` puts a check in front of the step of
every optimizer of the model (the policy's, or the actor's, the critic's and SAC's entropy
coefficient's), so a non-finite gradient never reaches the weights.
"""

from __future__ import annotations

import functools
import math
import weakref
from typing import Any

import torch
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback
from torch import nn
from torch.distributions import Distribution
from torch.optim import Optimizer
from torch.utils.hooks import RemovableHandle

from fixup_rl._validation import check_int
from fixup_rl.reliability.diagnosis import likely_cause
from fixup_rl.reliability.errors import NonFiniteUpdatesError

DEFAULT_MAX_CONSECUTIVE_SKIPS = 10
"""Consecutive skipped steps of one optimizer after which training stops.

Ten: a single bad batch (one extreme transition in a replay sample, one PPO minibatch) is
skipped and training goes on, while a fault that every batch shares (NaN weights upstream, a
diverged learning rate, poisoned data) stops training within a few updates.
"""

_HOOK = "_fixup_rl_finite_guard"


class FiniteUpdatesCallback(BaseCallback):
    """Skip and count the optimizer steps whose gradient norm is not finite.

    When training starts, the callback hooks into every optimizer of the model (see
    :func:`find_optimizers`) and every parameter they train. As backpropagation fills a
    parameter's gradient, a hook takes the sum of its squares in float32, before SB3 clips the
    gradient norm: clipping scales an infinite norm down to zero gradients, which would hide
    a non-finite loss and still move the weights by Adam's momentum. Before each optimizer
    step, the sums of the parameters it trains give the squared norm of its gradient. If that
    is NaN or infinite (a non-finite loss or gradient, or a gradient so large that its square
    overflows, as Adam's second moment would), every gradient of the step is dropped, so the
    optimizer changes neither the weights nor its own state, and the step is counted. The
    total number of skipped steps is recorded as ``train/skipped_updates`` through the model's
    logger at every step (0 while none failed).

    After ``max_consecutive_skips`` skipped steps in a row of one optimizer, the step raises
    :class:`~fixup_rl.reliability.NonFiniteUpdatesError`, naming the optimizer, the step and
    the likely cause (extreme data in the model's buffer, a deep network without normalization
    or Fixup, else the learning rate). The weights are then those of the last finite step.

    While training, torch.distributions' argument checks are off (as with
    ``Distribution.set_default_validate_args(False)``): a policy whose outputs went NaN then
    yields a NaN loss, which is skipped like any other, instead of a ``ValueError`` from deep
    inside SB3. The hooks are removed and the checks restored when training ends or this
    callback stops it (after any other exception, at the next ``learn()``), and a later
    ``learn()`` installs them again.

    :param max_consecutive_skips: skipped steps in a row of one optimizer after which training
        stops (an integer >= 1)
    :param verbose: 1 to print a line for each skipped step
    """

    def __init__(
        self, max_consecutive_skips: int = DEFAULT_MAX_CONSECUTIVE_SKIPS, verbose: int = 0
    ) -> None:
        super().__init__(verbose)
        self.max_consecutive_skips = check_int(
            "max_consecutive_skips", max_consecutive_skips, minimum=1
        )
        self.skipped_updates = 0
        self.in_a_row: dict[str, int] = {}
        self._squares: dict[nn.Parameter, tuple[weakref.ref, torch.Tensor]] = {}
        self._handles: list[RemovableHandle] = []
        self._validate_args: bool | None = None

    def _init_callback(self) -> None:
        self._remove_hooks()
        # A policy whose outputs went non-finite must reach the loss, where this callback sees
        # it, rather than stop torch.distributions' argument checks with a raw ValueError.
        self._validate_args = Distribution._validate_args
        Distribution.set_default_validate_args(False)
        params: dict[int, nn.Parameter] = {}
        for name, optimizer in find_optimizers(self.model).items():
            # A hook left behind by a learn() that raised must not check the steps twice.
            stale = getattr(optimizer, _HOOK, None)
            if stale is not None:
                stale.remove()
            handle = optimizer.register_step_pre_hook(functools.partial(self._before_step, name))
            setattr(optimizer, _HOOK, handle)
            self._handles.append(handle)
            self.in_a_row[name] = 0
            params |= {id(p): p for group in optimizer.param_groups for p in group["params"]}
        for param in params.values():
            self._handles.append(param.register_post_accumulate_grad_hook(self._after_backward))

    def _on_step(self) -> bool:
        return True

    def _on_training_end(self) -> None:
        self._remove_hooks()

    def _remove_hooks(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()
        self._squares.clear()
        if self._validate_args is not None:
            Distribution.set_default_validate_args(self._validate_args)
            self._validate_args = None

    def _after_backward(self, param: torch.Tensor) -> None:
        # The gradient as backpropagation left it, before any clipping; the reference tells
        # whether the gradient tensor at step time is still this one.
        grad = param.grad
        assert grad is not None
        self._squares[param] = (weakref.ref(grad), _squares(grad))

    def _before_step(self, name: str, optimizer: Optimizer, args: Any, kwargs: Any) -> None:
        params = [p for group in optimizer.param_groups for p in group["params"]]
        sums = []
        for param in params:
            if param.grad is None:
                continue
            grad_ref, squares = self._squares.get(param, (None, None))
            fresh = grad_ref is not None and grad_ref() is param.grad
            sums.append(squares if fresh else _squares(param.grad))
        if not sums:
            return
        squared_norm = float(torch.stack([s.to(sums[0].device) for s in sums]).sum())

        if math.isfinite(squared_norm):
            self.in_a_row[name] = 0
        else:
            for param in params:
                param.grad = None  # the optimizer skips parameters without a gradient
            self.skipped_updates += 1
            self.in_a_row[name] += 1
            if self.verbose >= 1:
                print(
                    f"FiniteUpdatesCallback: skipped a step of {name} at step "
                    f"{self.model.num_timesteps} (squared gradient norm {squared_norm})"
                )
        self.logger.record("train/skipped_updates", self.skipped_updates)

        if self.in_a_row[name] >= self.max_consecutive_skips:
            message = self._message(name, optimizer, squared_norm)
            self._remove_hooks()
            raise NonFiniteUpdatesError(message)

    def _message(self, name: str, optimizer: Optimizer, squared_norm: float) -> str:
        what = (
            "a NaN gradient norm"
            if math.isnan(squared_norm)
            else "an infinite gradient norm (its square overflows float32)"
        )
        learning_rate = float(optimizer.param_groups[0]["lr"])
        return (
            f"training stopped at step {self.model.num_timesteps}: "
            f"{self.in_a_row[name]} steps in a row of {name} had {what} and were "
            f"skipped ({self.skipped_updates} skipped in all), so the weights are those of the "
            f"last finite step. Likely cause: {likely_cause(self.model, learning_rate)}"
        )


def find_optimizers(model: BaseAlgorithm) -> dict[str, Optimizer]:
    """Return every optimizer of an SB3 model, named by where it lives.

    The ``optimizer`` attribute of the policy and of each of its modules (``"optimizer"`` for
    PPO and A2C, ``"actor.optimizer"`` and ``"critic.optimizer"`` for SAC, TD3 and TQC), and
    the optimizers held by the model itself (``"ent_coef_optimizer"`` for SAC and TQC).

    :param model: the SB3 model
    :return: the optimizers by name, each once
    """
    found: dict[str, Optimizer] = {}
    for path, module in model.policy.named_modules():
        optimizer = getattr(module, "optimizer", None)
        if isinstance(optimizer, Optimizer):
            found[f"{path}.optimizer" if path else "optimizer"] = optimizer
    for name, value in vars(model).items():
        if isinstance(value, Optimizer):
            found[name] = value

    unique: dict[str, Optimizer] = {}
    for name, optimizer in found.items():
        if all(optimizer is not kept for kept in unique.values()):
            unique[name] = optimizer
    return unique


def _squares(grad: torch.Tensor) -> torch.Tensor:
    # float32 whatever the gradient's dtype, so "overflows" means the same everywhere.
    return grad.detach().to(torch.float32).square().sum()
