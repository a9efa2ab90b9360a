"""Batch coupling: whether a policy's output for one observation depends on the rest of its batch.

A BatchNorm network in train mode normalizes each feature over the batch, so the action (or
value) it computes for an observation changes with the other observations of the batch, and
with the batch size: with ``n_envs`` in a rollout, with the minibatch size in an update. Fixup
networks compute each sample on its own, in train and in eval mode. This module measures it
for any Stable-Baselines3 model or policy.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.policies import ActorCriticPolicy, BasePolicy
from torch import nn

from fixup_rl.diagnostics.measures import seeded_generator

DEFAULT_BATCH_SIZES = (1, 8, 64, 256)

#: The largest relative difference still counted as "no coupling". Matrix products are not
#: bit-identical across batch sizes (BLAS picks other kernels and summation orders): per-sample
#: float32 policies measure up to 1e-6 (the default 2 blocks of width 64) and 2e-5 (64 plain
#: blocks) here, while BatchNorm in train mode measures 0.5 and more.
TOLERANCE = 1e-4

Observations = np.ndarray | dict[str, np.ndarray]


def batch_coupling(
    model_or_policy: BaseAlgorithm | BasePolicy,
    observations: Observations | None = None,
    n: int | None = None,
    batch_sizes: Sequence[int] = DEFAULT_BATCH_SIZES,
    perturb: bool | None = None,
    seed: int = 0,
    tolerance: float = TOLERANCE,
) -> dict[str, Any]:
    """Measure how much a policy's outputs for the same observations change with their batch.

    The observations are split into consecutive batches of each size of ``batch_sizes``, and
    the outputs computed in batches of each size are compared with those of the smallest size
    (1 by default: each observation alone). The outputs are the deterministic actions (as the
    policy computes them, before clipping or unscaling), the values of an actor-critic
    policy, and the Q-values of a policy with a ``critic`` (SAC, TD3, TQC: for fixed random
    actions) or a ``q_net`` (DQN). A difference is the largest absolute difference over every
    compared output, divided by ``max(1, largest absolute output)`` of that output.

    Everything runs on a deep copy of the policy, in eval mode and then in train mode, so the
    policy itself (its BatchNorm running statistics above all) is left untouched. The heads of
    the Fixup policies start at zero, so an untrained policy may output the same action and
    value for every observation, which hides any coupling. With ``perturb=None`` the copy's
    parameters get Gaussian noise when an output is constant across the observations: weights
    (two dimensions or more) ``0.5 / sqrt(fan_in)``, every other parameter 0.1. Pass
    ``perturb=False`` to measure the policy as it is (a trained model), or ``True`` to always
    perturb.

    :param model_or_policy: an SB3 model (``PPO``, ``SAC``, ...) or its ``policy``
    :param observations: a batch of observations (an array, or a dict of arrays for a Dict
        space); default: ``n`` observations sampled from the observation space with ``seed``
    :param n: the number of observations to sample (default: the largest batch size; unused
        when ``observations`` are given)
    :param batch_sizes: the batch sizes to compare (each >= 1, at most the number of
        observations)
    :param perturb: perturb a copy's parameters (True), never (False), or when needed (None)
    :param seed: the seed of the sampled observations, actions and perturbation
    :param tolerance: the largest relative difference counted as independent
    :return: ``policy``, ``observations``, ``batch_sizes``, ``perturbed``, ``tolerance``, and
        per mode (``"eval"``, ``"train"``): ``max_difference``, ``coupled`` (above
        ``tolerance``) and ``outputs``: per output, its ``scale`` and its ``differences`` per
        batch size
    """
    policy = _policy_of(model_or_policy)
    sizes = _check_batch_sizes(batch_sizes)
    if observations is None:
        n = sizes[-1] if n is None else n
        if isinstance(n, bool) or not isinstance(n, int) or n < sizes[-1]:
            raise ValueError(
                f"n must be an integer >= the largest batch size {sizes[-1]}, got {n!r}"
            )
        observations = _sample(policy.observation_space, n, seed)
    count = _count(observations)
    if count < sizes[-1]:
        raise ValueError(
            f"the largest batch size {sizes[-1]} exceeds the {count} observations given; "
            "pass more observations or smaller batch_sizes"
        )

    # A copy, so train-mode passes leave the policy's BatchNorm statistics alone.
    policy = copy.deepcopy(policy)
    obs, _ = policy.obs_to_tensor(observations)
    actions = _critic_actions(policy, count, seed)
    policy.train(False)
    perturbed = _has_constant_output(policy, obs, actions) if perturb is None else bool(perturb)
    if perturbed:
        _perturb_(policy, seed)

    # Eval mode first, then train mode, where BatchNorm's running statistics start to move.
    result: dict[str, Any] = {
        "policy": type(policy).__name__,
        "observations": count,
        "batch_sizes": list(sizes),
        "perturbed": perturbed,
        "tolerance": tolerance,
    }
    for mode in ("eval", "train"):
        policy.train(mode == "train")
        result[mode] = _compare(policy, obs, actions, sizes, tolerance)
    return result


def _compare(
    policy: BasePolicy,
    obs: torch.Tensor | dict[str, torch.Tensor],
    actions: torch.Tensor | None,
    sizes: tuple[int, ...],
    tolerance: float,
) -> dict[str, Any]:
    # The reference (smallest batch size) first: in train mode a batch of one reads BatchNorm's
    # running statistics, which the larger batches then update.
    by_size = {size: _outputs_in_batches(policy, obs, actions, size) for size in sizes}
    reference = by_size[sizes[0]]
    outputs: dict[str, Any] = {}
    for name, ref in reference.items():
        scale = ref.abs().max().item() if ref.numel() else 0.0
        differences = {}
        for size in sizes[1:]:
            rows = len(by_size[size][name])
            difference = (by_size[size][name] - ref[:rows]).abs().max().item()
            differences[size] = difference / max(1.0, scale)
        outputs[name] = {"scale": scale, "differences": differences}
    largest = max((d for out in outputs.values() for d in out["differences"].values()), default=0.0)
    return {
        "max_difference": largest,
        "coupled": not largest <= tolerance,  # nan counts as coupled
        "outputs": outputs,
    }


def _outputs_in_batches(
    policy: BasePolicy,
    obs: torch.Tensor | dict[str, torch.Tensor],
    actions: torch.Tensor | None,
    size: int,
) -> dict[str, torch.Tensor]:
    # Consecutive batches of `size`; a last, smaller batch is left out.
    count = _count(obs)
    chunks = [
        _outputs(
            policy,
            _rows(obs, start, size),
            None if actions is None else actions[start : start + size],
        )
        for start in range(0, count - size + 1, size)
    ]
    return {name: torch.cat([chunk[name] for chunk in chunks]) for name in chunks[0]}


@torch.no_grad()
def _outputs(
    policy: BasePolicy,
    obs: torch.Tensor | dict[str, torch.Tensor],
    actions: torch.Tensor | None,
) -> dict[str, torch.Tensor]:
    count = _count(obs)
    # _predict, not predict: predict switches the policy to eval mode and returns numpy.
    outputs = {"actions": policy._predict(obs, deterministic=True).float().reshape(count, -1)}
    if isinstance(policy, ActorCriticPolicy):
        outputs["values"] = policy.predict_values(obs).reshape(count, -1)
    critic = getattr(policy, "critic", None)
    if isinstance(critic, nn.Module) and actions is not None:
        q_values = critic(obs, actions)
        if isinstance(q_values, (tuple, list)):
            q_values = torch.cat([q.reshape(count, -1) for q in q_values], dim=1)
        outputs["q_values"] = q_values.reshape(count, -1)
    q_net = getattr(policy, "q_net", None)
    if isinstance(q_net, nn.Module):
        outputs["q_values"] = q_net(obs).reshape(count, -1)
    return outputs


def _has_constant_output(
    policy: BasePolicy,
    obs: torch.Tensor | dict[str, torch.Tensor],
    actions: torch.Tensor | None,
) -> bool:
    for output in _outputs(policy, obs, actions).values():
        spread = (output.max(dim=0).values - output.min(dim=0).values).abs().max().item()
        if not spread > 1e-12 * max(1.0, output.abs().max().item()):
            return True
    return False


@torch.no_grad()
def _perturb_(policy: nn.Module, seed: int) -> None:
    generator = seeded_generator(seed)
    for param in policy.parameters():
        fan_in = param[0].numel() if param.dim() >= 2 else 0
        std = 0.5 / math.sqrt(fan_in) if fan_in else 0.1
        noise = torch.randn(param.shape, generator=generator, dtype=param.dtype)
        param.add_(noise.to(param.device) * std)


def _critic_actions(policy: BasePolicy, count: int, seed: int) -> torch.Tensor | None:
    # Fixed random actions for the Q-networks of SAC, TD3 and TQC, scaled as the critic reads
    # them (to [-1, 1] when the policy squashes its output).
    if not isinstance(getattr(policy, "critic", None), nn.Module):
        return None
    space = copy.deepcopy(policy.action_space)
    space.seed(seed)
    raw = np.stack([space.sample() for _ in range(count)]).astype(np.float32)
    if isinstance(space, spaces.Box) and getattr(policy, "squash_output", False):
        raw = policy.scale_action(raw)
    return torch.as_tensor(raw, device=policy.device).reshape(count, -1)


def _sample(space: spaces.Space, n: int, seed: int) -> Observations:
    space = copy.deepcopy(space)
    space.seed(seed)
    samples = [space.sample() for _ in range(n)]
    if isinstance(space, spaces.Dict):
        return {key: np.stack([sample[key] for sample in samples]) for key in space.spaces}
    return np.stack(samples)


def _policy_of(model_or_policy: Any) -> BasePolicy:
    if isinstance(model_or_policy, BaseAlgorithm):
        return model_or_policy.policy
    if isinstance(model_or_policy, BasePolicy):
        return model_or_policy
    raise ValueError(
        "batch_coupling needs a Stable-Baselines3 model (PPO, SAC, ...) or its policy, "
        f"got {type(model_or_policy).__name__}"
    )


def _check_batch_sizes(batch_sizes: Sequence[int]) -> tuple[int, ...]:
    sizes = tuple(sorted(set(batch_sizes)))
    if len(sizes) < 2 or any(isinstance(s, bool) or not isinstance(s, int) or s < 1 for s in sizes):
        raise ValueError(
            f"batch_sizes must hold at least two different integers >= 1, got {tuple(batch_sizes)}"
        )
    return sizes


def _count(obs: Any) -> int:
    if isinstance(obs, dict):
        return len(next(iter(obs.values())))
    return len(obs)


def _rows(obs: Any, start: int, size: int) -> Any:
    if isinstance(obs, dict):
        return {key: value[start : start + size] for key, value in obs.items()}
    return obs[start : start + size]
