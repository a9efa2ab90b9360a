"""The observation scaling of a run that trained under SB3's ``VecNormalize``.

``VecNormalize`` feeds the policy ``clip((obs - mean) / sqrt(var + epsilon), -clip, clip)`` as
float32, with the running mean and variance frozen at the end of training. An exported policy
stores these statistics as plain numbers and applies the same formula, in the same float64
arithmetic, so it sees exactly the observations the policy saw.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from stable_baselines3.common.running_mean_std import RunningMeanStd
from stable_baselines3.common.vec_env import VecNormalize

from fixup_rl.export.fields import Field


@dataclass(frozen=True)
class ObservationNormalization:
    """Frozen ``VecNormalize`` observation statistics.

    :param mean: the running mean of the observations (float64, the observation's shape)
    :param var: their running variance (float64, the same shape, >= 0)
    :param epsilon: added to the variance before the square root
    :param clip: normalized observations are clipped to ``[-clip, clip]``
    """

    mean: np.ndarray
    var: np.ndarray
    epsilon: float
    clip: float

    @classmethod
    def from_vec_normalize(
        cls, stats: VecNormalize, observation_space: spaces.Space
    ) -> ObservationNormalization | None:
        """Return the observation statistics of ``stats``, or None if it leaves them alone.

        :param stats: the ``VecNormalize`` wrapper (or its unpickled statistics) of the run
        :param observation_space: the policy's observation space
        :raises ValueError: for statistics of Dict observations, or of another shape
        """
        if not stats.norm_obs:
            return None
        if not isinstance(stats.obs_rms, RunningMeanStd) or not isinstance(
            observation_space, spaces.Box
        ):
            raise ValueError(
                "cannot export VecNormalize statistics of Dict observations; only a Box "
                "observation space is supported"
            )
        mean = np.asarray(stats.obs_rms.mean, dtype=np.float64)
        if mean.shape != observation_space.shape:
            raise ValueError(
                f"the VecNormalize statistics have the shape {mean.shape}, but the policy's "
                f"observations have the shape {observation_space.shape}"
            )
        var = np.asarray(stats.obs_rms.var, dtype=np.float64)
        return cls(mean, var, float(stats.epsilon), float(stats.clip_obs))

    def to_json(self) -> dict[str, Any]:
        """Return the statistics as JSON data (lists of floats, written exactly)."""
        return {
            "mean": self.mean.flatten().tolist(),
            "var": self.var.flatten().tolist(),
            "epsilon": self.epsilon,
            "clip": self.clip,
        }

    @classmethod
    def from_json(
        cls, field: Field, data: Any, observation_space: spaces.Space
    ) -> ObservationNormalization:
        """Read statistics written by :meth:`to_json`, checking every field.

        :param field: where they are read from, for error messages
        :param data: the JSON data
        :param observation_space: the policy's observation space, which must be a Box
        :raises PolicyFileError: for a missing, unknown or rejected field
        """
        data = field.mapping(data, ("mean", "var", "epsilon", "clip"))
        if not isinstance(observation_space, spaces.Box):
            field.fail(
                f"observation scaling needs a Box observation space, got {observation_space}"
            )
        shape = observation_space.shape
        size = math.prod(shape)
        mean = _vector(field / "mean", data["mean"], size, minimum=-math.inf)
        var = _vector(field / "var", data["var"], size, minimum=0.0)
        epsilon = (field / "epsilon").number(data["epsilon"], minimum=0.0, open_minimum=True)
        clip = (field / "clip").number(data["clip"], minimum=0.0, open_minimum=True)
        return cls(mean.reshape(shape), var.reshape(shape), epsilon, clip)

    def normalize(self, observation: np.ndarray) -> np.ndarray:
        """Scale raw observations as ``VecNormalize.normalize_obs`` does, to float32.

        :param observation: one observation or a batch of them
        :return: the normalized observations, float32
        """
        scaled = (observation - self.mean) / np.sqrt(self.var + self.epsilon)
        return np.clip(scaled, -self.clip, self.clip).astype(np.float32)

    def normalize_tensor(self, observation: torch.Tensor) -> torch.Tensor:
        """:meth:`normalize` for a torch tensor, computed in float64 as well.

        :param observation: a batch of raw observations
        :return: the normalized observations, float32, on the same device
        """
        mean = torch.as_tensor(self.mean, device=observation.device)
        std = torch.sqrt(torch.as_tensor(self.var, device=observation.device) + self.epsilon)
        scaled = (observation.to(torch.float64) - mean) / std
        return torch.clamp(scaled, -self.clip, self.clip).to(torch.float32)


def _vector(field: Field, values: Any, size: int, minimum: float) -> np.ndarray:
    if not isinstance(values, list) or len(values) != size:
        field.reject(f"a list of {size} numbers", values)
    return np.array([field.number(value, minimum=minimum) for value in values], np.float64)
