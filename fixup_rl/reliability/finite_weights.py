"""The check that no non-finite number is ever saved with a model."""

from __future__ import annotations

import torch
from stable_baselines3.common.base_class import BaseAlgorithm

from fixup_rl.reliability.errors import NonFiniteError


def check_finite_weights(model: BaseAlgorithm) -> None:
    """Raise if any parameter or buffer of the model is NaN or infinite.

    Covers the policy's state (every network, target networks and normalization statistics
    included) and the model's other saved tensors (SAC's and TQC's entropy coefficient).

    :param model: the SB3 model about to be saved
    :raises NonFiniteError: naming the first non-finite tensor
    """
    _, variables = model._get_torch_save_params()
    tensors = {f"policy.{name}": value for name, value in model.policy.state_dict().items()}
    for name in variables:
        value = getattr(model, name, None)
        if isinstance(value, torch.Tensor):
            tensors[name] = value

    for name, tensor in tensors.items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            bad = int((~torch.isfinite(tensor)).sum())
            raise NonFiniteError(
                f"refusing to save the model at step {model.num_timesteps}: {name} holds {bad} "
                f"non-finite value(s) of {tensor.numel()}; train with "
                "fixup_rl.reliability.FiniteUpdatesCallback, which skips non-finite updates"
            )
