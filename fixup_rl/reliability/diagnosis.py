"""Naming the likely cause of gradients that keep coming out non-finite.

When training stops because every update turned NaN, the user needs a place to start. The
causes checked here, in order, are the ones that explain it most often: the data (extreme or
non-finite rewards and observations in the model's buffer), the network (a deep stack with
neither normalization nor Fixup), and, when neither shows, the learning rate.
"""

from __future__ import annotations

import numpy as np
from stable_baselines3.common.base_class import BaseAlgorithm
from torch import nn

from fixup_rl.callbacks import find_residual_networks

EXTREME = 1e6
"""Rewards or observations of at least this magnitude are reported as the likely cause."""

DEEP_MLP = 6
"""A plain MLP with at least this many Linear layers and no normalization counts as deep."""

_NORM_LAYERS = (nn.LayerNorm, nn.BatchNorm1d, nn.BatchNorm2d, nn.GroupNorm)


def likely_cause(model: BaseAlgorithm, learning_rate: float) -> str:
    """Return a sentence naming the most likely cause of non-finite gradients, and the fix.

    :param model: the SB3 model whose updates failed
    :param learning_rate: the learning rate of the failing optimizer, quoted in the fallback
    :return: the cause and what to do about it
    """
    return (
        _extreme_data(model)
        or _deep_network_without_normalization(model.policy)
        or (
            f"a learning rate too high for this network ({learning_rate:g}); lower it, e.g. to "
            f"{learning_rate / 10:g} (fixup-rl train: --set learning_rate={learning_rate / 10:g})"
        )
    )


def _extreme_data(model: BaseAlgorithm) -> str | None:
    buffer = getattr(model, "replay_buffer", None) or getattr(model, "rollout_buffer", None)
    if buffer is None:
        return None
    filled = buffer.buffer_size if buffer.full else buffer.pos
    observations = buffer.observations
    arrays = {"rewards": buffer.rewards[:filled]}
    if isinstance(observations, dict):
        arrays |= {f"observations[{key!r}]": obs[:filled] for key, obs in observations.items()}
    else:
        arrays["observations"] = observations[:filled]

    for name, array in arrays.items():
        values = np.asarray(array, dtype=np.float64)
        if values.size == 0:
            continue
        if not np.isfinite(values).all():
            return (
                f"the model's buffer holds non-finite {name}; wrap the env in "
                "fixup_rl.reliability.VecCheckFinite to find which env returns them, and when"
            )
        peak = float(np.abs(values).max())
        if peak >= EXTREME:
            return (
                f"{name} of extreme size (up to {peak:.3g} in magnitude in the model's buffer); "
                "scale them: normalize with VecNormalize (fixup-rl train: --normalize) or "
                "rescale them in the env"
            )
    return None


def _deep_network_without_normalization(policy: nn.Module) -> str | None:
    for name, network in find_residual_networks(policy).items():
        if getattr(network, "norm", None) == "none":
            blocks = len(network.blocks)
            return (
                f"a residual network without normalization or Fixup ({name}: norm='none', "
                f"{blocks} blocks), whose output grows with every block; use norm='fixup'"
            )

    if any(isinstance(module, _NORM_LAYERS) for module in policy.modules()):
        return None
    for name, module in policy.named_modules():
        if isinstance(module, nn.Sequential):
            layers = sum(isinstance(child, nn.Linear) for child in module)
            if layers >= DEEP_MLP:
                return (
                    f"a deep MLP without normalization ({name}: {layers} Linear layers); use "
                    "a Fixup network (fixup-rl train: --net fixup)"
                )
    return None
