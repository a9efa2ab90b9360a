"""Fixup policies for SAC: a residual actor and residual Q-critics."""

from __future__ import annotations

from typing import Any

from gymnasium import spaces
from stable_baselines3.sac.policies import Actor, SACPolicy
from torch import nn

from fixup_rl.nn.residual_mlp import ResidualMLP
from fixup_rl.sb3.critic import FixupContinuousCritic
from fixup_rl.sb3.extractors import FixupCnnExtractor, FixupCombinedExtractor
from fixup_rl.sb3.off_policy import FixupOffPolicyMixin


class FixupSACActor(Actor):
    """SB3's SAC ``Actor`` whose latent network is a :class:`~fixup_rl.ResidualMLP`.

    The mean and log-std heads read the residual network's output and start at zero.

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
    :param kwargs: the other arguments of SB3's SAC ``Actor``
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
        # SB3 sizes the heads from net_arch[-1]; its one-layer latent network is replaced.
        super().__init__(
            observation_space,
            action_space,
            [width],
            features_extractor,
            features_dim,
            activation_fn=activation_fn,
            **kwargs,
        )
        self.width, self.num_blocks, self.m, self.norm = width, num_blocks, m, norm
        self.latent_pi = ResidualMLP(features_dim, width, num_blocks, m, norm, activation_fn)
        # The heads start at zero. With gSDE, log_std is a parameter set by log_std_init.
        heads = [self.mu, self.log_std] if isinstance(self.log_std, nn.Module) else [self.mu]
        for head in heads:
            for layer in head.modules():
                if isinstance(layer, nn.Linear):
                    nn.init.zeros_(layer.weight)
                    nn.init.zeros_(layer.bias)

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data = super()._get_constructor_parameters()
        data.update(width=self.width, num_blocks=self.num_blocks, m=self.m, norm=self.norm)
        return data


class FixupSACPolicy(FixupOffPolicyMixin, SACPolicy):
    """A SAC policy with a residual Fixup actor and residual Fixup Q-critics.

    ``SAC(FixupSACPolicy, env)`` works as it is. The actor is a
    :class:`~fixup_rl.ResidualMLP` with zero-initialized mean and log-std heads; each of the
    ``n_critics`` Q-networks (and their targets) is a ResidualMLP over the observation
    features concatenated with the action, with a zero-initialized output. The Fixup scalars
    train at ``scalar_lr_scale`` times the learning rate in both optimizers.

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
    :param kwargs: the other arguments of SB3's ``SACPolicy`` (``n_critics``, ``use_sde``, ...)
    """

    actor_class = FixupSACActor
    critic_class = FixupContinuousCritic


class FixupSACCnnPolicy(FixupSACPolicy):
    """:class:`FixupSACPolicy` for images, with a :class:`FixupCnnExtractor`.

    :param args: as for :class:`FixupSACPolicy`
    :param features_extractor_class: the features extractor class
    :param kwargs: as for :class:`FixupSACPolicy`
    """

    def __init__(
        self, *args: Any, features_extractor_class: type = FixupCnnExtractor, **kwargs: Any
    ) -> None:
        super().__init__(*args, features_extractor_class=features_extractor_class, **kwargs)


class FixupSACMultiInputPolicy(FixupSACPolicy):
    """:class:`FixupSACPolicy` for Dict observations, with a :class:`FixupCombinedExtractor`.

    :param args: as for :class:`FixupSACPolicy`
    :param features_extractor_class: the features extractor class
    :param kwargs: as for :class:`FixupSACPolicy`
    """

    def __init__(
        self, *args: Any, features_extractor_class: type = FixupCombinedExtractor, **kwargs: Any
    ) -> None:
        super().__init__(*args, features_extractor_class=features_extractor_class, **kwargs)
