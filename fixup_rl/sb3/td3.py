"""Fixup policies for TD3: a residual deterministic actor and residual Q-critics."""

from __future__ import annotations

from typing import Any

from gymnasium import spaces
from stable_baselines3.common.preprocessing import get_action_dim
from stable_baselines3.td3.policies import Actor, TD3Policy
from torch import nn

from fixup_rl.sb3.critic import FixupContinuousCritic, residual_head
from fixup_rl.sb3.extractors import FixupCnnExtractor, FixupCombinedExtractor
from fixup_rl.sb3.off_policy import FixupOffPolicyMixin


class FixupTD3Actor(Actor):
    """SB3's TD3 ``Actor`` whose network is a :class:`~fixup_rl.ResidualMLP`.

    The action is ``tanh`` of a zero-initialized Linear layer over the residual network.

    :param observation_space: the observation space
    :param action_space: the action space
    :param net_arch: ignored (SB3 passes it)
    :param features_extractor: the features extractor
    :param features_dim: its output size
    :param width: the residual network's width
    :param num_blocks: its residual blocks
    :param m: weight layers per residual branch
    :param norm: the residual scheme, one of ``fixup_rl.NORMS``
    :param activation_fn: the activation class
    :param kwargs: the other arguments of SB3's TD3 ``Actor``
    """

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Box,
        net_arch: list[int],
        features_extractor: nn.Module,
        features_dim: int,
        width: int = 256,
        num_blocks: int = 2,
        m: int = 2,
        norm: str = "fixup",
        activation_fn: type[nn.Module] = nn.ReLU,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            observation_space,
            action_space,
            [],
            features_extractor,
            features_dim,
            activation_fn=activation_fn,
            **kwargs,
        )
        self.width, self.num_blocks, self.m, self.norm = width, num_blocks, m, norm
        action_dim = get_action_dim(self.action_space)
        network = residual_head(features_dim, action_dim, width, num_blocks, m, norm, activation_fn)
        self.mu = nn.Sequential(*network, nn.Tanh())

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data = super()._get_constructor_parameters()
        data.update(width=self.width, num_blocks=self.num_blocks, m=self.m, norm=self.norm)
        return data


class FixupTD3Policy(FixupOffPolicyMixin, TD3Policy):
    """A TD3 policy with a residual Fixup actor and residual Fixup Q-critics.

    ``TD3(FixupTD3Policy, env)`` works as it is. Actor, critics and their targets are
    :class:`~fixup_rl.ResidualMLP` networks with zero-initialized output layers; the critics
    read the observation features concatenated with the action.

    :param observation_space: the observation space
    :param action_space: the action space
    :param lr_schedule: the learning-rate schedule
    :param num_blocks: residual blocks, an int or ``dict(pi=..., qf=...)``
    :param width: widths, an int or ``dict(pi=..., qf=...)``
    :param m: weight layers per residual branch
    :param norm: the residual scheme, one of ``fixup_rl.NORMS``
    :param scalar_lr_scale: the Fixup scalars' learning rate relative to the learning rate
    :param depth_aware: use the depth-aware learning rates of ``fixup_param_groups``
    :param activation_fn: the activation class
    :param net_arch: must stay None; use ``num_blocks`` and ``width``
    :param kwargs: the other arguments of SB3's ``TD3Policy`` (``n_critics``, ...)
    """

    actor_class = FixupTD3Actor
    critic_class = FixupContinuousCritic


class FixupTD3CnnPolicy(FixupTD3Policy):
    """:class:`FixupTD3Policy` for images, with a :class:`FixupCnnExtractor`.

    :param args: as for :class:`FixupTD3Policy`
    :param features_extractor_class: the features extractor class
    :param kwargs: as for :class:`FixupTD3Policy`
    """

    def __init__(
        self, *args: Any, features_extractor_class: type = FixupCnnExtractor, **kwargs: Any
    ) -> None:
        super().__init__(*args, features_extractor_class=features_extractor_class, **kwargs)


class FixupTD3MultiInputPolicy(FixupTD3Policy):
    """:class:`FixupTD3Policy` for Dict observations, with a :class:`FixupCombinedExtractor`.

    :param args: as for :class:`FixupTD3Policy`
    :param features_extractor_class: the features extractor class
    :param kwargs: as for :class:`FixupTD3Policy`
    """

    def __init__(
        self, *args: Any, features_extractor_class: type = FixupCombinedExtractor, **kwargs: Any
    ) -> None:
        super().__init__(*args, features_extractor_class=features_extractor_class, **kwargs)
