"""The inference policy that :func:`fixup_rl.load_policy` returns."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from stable_baselines3.common.policies import BasePolicy
from torch import nn

from fixup_rl.export.normalization import ObservationNormalization


class ExportedPolicy(nn.Module):
    """A policy rebuilt from an export: raw observations in, actions within the env's bounds out.

    It holds the SB3 policy the run trained (``policy``, in eval mode, without gradients) and
    the run's observation scaling, if any, so it takes the env's own observations, as the
    ``VecNormalize``-wrapped model did.

    :param policy: the rebuilt SB3 policy, weights loaded
    :param normalization: the frozen ``VecNormalize`` observation statistics, or None
    :param description: the export's ``description`` (which run, which versions)
    """

    def __init__(
        self,
        policy: BasePolicy,
        normalization: ObservationNormalization | None,
        description: dict[str, Any],
    ) -> None:
        super().__init__()
        self.policy = policy
        self.normalization = normalization
        self.description = description
        self.observation_space = policy.observation_space
        self.action_space = policy.action_space
        self.policy.set_training_mode(False)
        self.requires_grad_(False)
        self.eval()

    def predict(
        self,
        observation: np.ndarray,
        state: tuple[np.ndarray, ...] | None = None,
        episode_start: np.ndarray | None = None,
        deterministic: bool = True,
    ) -> tuple[np.ndarray, tuple[np.ndarray, ...] | None]:
        """Return the action for one raw observation or a batch of them, as SB3's ``predict``.

        Observations are scaled as the run's ``VecNormalize`` scaled them, then the SB3
        policy's ``predict`` picks the action: Box actions come back within the action space's
        bounds (squashed policies rescaled, others clipped), as SB3 hands them to the env.

        :param observation: the env's observation, or a batch of them
        :param state: the recurrent state (unused; the policies are not recurrent)
        :param episode_start: where episodes start (unused)
        :param deterministic: take the most likely action (the default here, unlike SB3) or
            sample one
        :return: the actions and the state (None)
        """
        if self.normalization is not None:
            observation = self.normalization.normalize(np.asarray(observation))
        return self.policy.predict(observation, state, episode_start, deterministic)

    def forward(self, observation: torch.Tensor) -> torch.Tensor:
        """The deterministic actions for a batch of raw observations, as a tensor.

        The same as :meth:`predict` with ``deterministic=True``, for torch code: the
        observations are a batch in the layout of the observation space (channel-first
        images, discrete observations as integers), the actions come back within the env's
        bounds.

        :param observation: a batch of raw observations
        :return: the batch of actions
        """
        if self.normalization is not None:
            observation = self.normalization.normalize_tensor(observation)
        self.policy.set_training_mode(False)
        with torch.no_grad():
            actions = self.policy._predict(observation, deterministic=True)
        if not isinstance(self.action_space, spaces.Box):
            return actions

        low = torch.as_tensor(self.action_space.low, device=actions.device)
        high = torch.as_tensor(self.action_space.high, device=actions.device)
        actions = actions.reshape(-1, *self.action_space.shape)
        if self.policy.squash_output:
            return low + 0.5 * (actions + 1.0) * (high - low)
        return torch.clamp(actions, low, high)
