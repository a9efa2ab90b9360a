"""Fixup actor-critic policies for SB3's on-policy algorithms (PPO, A2C)."""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np
from gymnasium import spaces
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.common.type_aliases import Schedule
from torch import nn

from fixup_rl._validation import check_bool
from fixup_rl.nn.fold_cache import cache_folded_weights
from fixup_rl.sb3.extractors import FixupCnnExtractor, FixupCombinedExtractor
from fixup_rl.sb3.optim import fixup_optimizer
from fixup_rl.sb3.policy_args import check_policy_args
from fixup_rl.sb3.spaces import check_action_space
from fixup_rl.sb3.towers import FixupTowers


class FixupActorCriticPolicy(ActorCriticPolicy):
    """An SB3 actor-critic policy whose policy and value networks are Fixup residual towers.

    ``PPO(FixupActorCriticPolicy, env)`` works as it is. The features extractor (SB3's
    ``FlattenExtractor`` by default) feeds two separate :class:`~fixup_rl.ResidualMLP`
    towers, one for the policy and one for the value function, followed by the action and
    value heads, which start at zero (Fixup zeroes the final layer). The Fixup scalars train
    at ``scalar_lr_scale`` times the learning rate, a ratio kept under SB3's schedules.

    ``ortho_init`` (SB3's orthogonal re-initialization) never touches the residual towers or
    the heads; it still applies to the non-residual layers of the features extractor, as in
    SB3. ``net_arch`` is not used: set the towers with ``num_blocks`` and ``width``.

    All other arguments are those of SB3's ``ActorCriticPolicy``.

    :param observation_space: the observation space
    :param action_space: the action space
    :param lr_schedule: the learning-rate schedule
    :param num_blocks: residual blocks per tower, an int or ``dict(pi=..., vf=...)``
    :param width: width of each tower, an int or ``dict(pi=..., vf=...)``
    :param m: weight layers per residual branch
    :param norm: the residual scheme, one of ``fixup_rl.NORMS``
    :param scalar_lr_scale: the Fixup scalars' learning rate relative to the learning rate
    :param depth_aware: use the depth-aware learning rates of ``fixup_param_groups``
    :param activation_fn: the activation class
    :param net_arch: must stay None; use ``num_blocks`` and ``width``
    :param kwargs: the other arguments of SB3's ``ActorCriticPolicy``
    """

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Space,
        lr_schedule: Schedule,
        num_blocks: int | dict[str, int] = 2,
        width: int | dict[str, int] = 64,
        m: int = 2,
        norm: str = "fixup",
        scalar_lr_scale: float = 0.1,
        depth_aware: bool = False,
        activation_fn: type[nn.Module] = nn.ReLU,
        net_arch: Any = None,
        **kwargs: Any,
    ) -> None:
        self.m, self.norm, self.scalar_lr_scale = check_policy_args(
            type(self).__name__,
            observation_space,
            net_arch,
            ("pi", "vf"),
            m,
            norm,
            scalar_lr_scale,
            activation_fn,
        )
        check_action_space(action_space, type(self).__name__, continuous=False)
        self.num_blocks = num_blocks
        self.width = width
        self.depth_aware = check_bool("depth_aware", depth_aware)
        super().__init__(
            observation_space, action_space, lr_schedule, activation_fn=activation_fn, **kwargs
        )

    def _build_mlp_extractor(self) -> None:
        self.mlp_extractor = FixupTowers(
            self.features_dim, self.width, self.num_blocks, self.m, self.norm, self.activation_fn
        )

    def _build(self, lr_schedule: Schedule) -> None:
        # SB3's build, without its orthogonal re-initialization of towers and heads.
        ortho_init, self.ortho_init = self.ortho_init, False
        super()._build(lr_schedule)
        self.ortho_init = ortho_init

        # Fixup zeroes the last layer: the heads start at zero.
        for head in (self.action_net, self.value_net):
            nn.init.zeros_(head.weight)
            nn.init.zeros_(head.bias)

        # SB3 re-initializes the features extractor; its residual blocks keep their init.
        if ortho_init:
            for extractor in {self.pi_features_extractor, self.vf_features_extractor}:
                extractor.apply(partial(self.init_weights, gain=np.sqrt(2)))

        self.optimizer = fixup_optimizer(
            self,
            self.optimizer,
            self.optimizer_class,
            self.optimizer_kwargs,
            lr_schedule(1),
            self.scalar_lr_scale,
            self.depth_aware,
        )

        # Rollouts and predict() fold each Fixup block once per update, not once per step.
        cache_folded_weights(self)

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data = super()._get_constructor_parameters()
        data.update(
            num_blocks=self.num_blocks,
            width=self.width,
            m=self.m,
            norm=self.norm,
            scalar_lr_scale=self.scalar_lr_scale,
            depth_aware=self.depth_aware,
        )
        data.pop("net_arch", None)  # SB3's default, which the residual towers replace
        return data


class FixupActorCriticCnnPolicy(FixupActorCriticPolicy):
    """:class:`FixupActorCriticPolicy` for images, with a :class:`FixupCnnExtractor`.

    :param args: as for :class:`FixupActorCriticPolicy`
    :param features_extractor_class: the features extractor class
    :param kwargs: as for :class:`FixupActorCriticPolicy`
    """

    def __init__(
        self,
        *args: Any,
        features_extractor_class: type = FixupCnnExtractor,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, features_extractor_class=features_extractor_class, **kwargs)


class FixupMultiInputActorCriticPolicy(FixupActorCriticPolicy):
    """:class:`FixupActorCriticPolicy` for Dict observations, with a
    :class:`FixupCombinedExtractor`.

    :param args: as for :class:`FixupActorCriticPolicy`
    :param features_extractor_class: the features extractor class
    :param kwargs: as for :class:`FixupActorCriticPolicy`
    """

    def __init__(
        self,
        *args: Any,
        features_extractor_class: type = FixupCombinedExtractor,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, features_extractor_class=features_extractor_class, **kwargs)
