"""What the Fixup SAC and TD3 policies share: configuration, networks and optimizers."""

from __future__ import annotations

from typing import Any

from gymnasium import spaces
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.type_aliases import Schedule
from torch import nn

from fixup_rl._validation import check_bool, check_int
from fixup_rl.nn.fold_cache import cache_folded_weights
from fixup_rl.sb3.optim import fixup_optimizer
from fixup_rl.sb3.policy_args import check_policy_args
from fixup_rl.sb3.spaces import check_action_space
from fixup_rl.sb3.towers import per_network


class FixupOffPolicyMixin:
    """Builds an off-policy SB3 policy's actor and critics as residual Fixup networks.

    Mixed into a subclass of SB3's ``SACPolicy`` or ``TD3Policy``, which sets
    ``actor_class`` and ``critic_class``. SB3 builds the networks and their optimizers as
    usual through ``make_actor`` and ``make_critic``; the optimizers are then rebuilt over the
    same parameters in Fixup parameter groups. The arguments are those documented on
    :class:`~fixup_rl.FixupSACPolicy` and :class:`~fixup_rl.FixupTD3Policy`.
    """

    actor_class: type[BasePolicy]
    critic_class: type[BasePolicy]

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Box,
        lr_schedule: Schedule,
        num_blocks: int | dict[str, int] = 2,
        width: int | dict[str, int] = 256,
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
            ("pi", "qf"),
            m,
            norm,
            scalar_lr_scale,
            activation_fn,
        )
        check_action_space(action_space, type(self).__name__, continuous=True)
        self.num_blocks = num_blocks
        self.width = width
        self._depths = per_network("num_blocks", num_blocks, ("pi", "qf"))
        self._widths = per_network("width", width, ("pi", "qf"))
        self.depth_aware = check_bool("depth_aware", depth_aware)
        if "n_critics" in kwargs:
            check_int("n_critics", kwargs["n_critics"], minimum=1)
        super().__init__(
            observation_space, action_space, lr_schedule, activation_fn=activation_fn, **kwargs
        )

    def _tower_kwargs(self, network: str) -> dict[str, Any]:
        return dict(
            width=self._widths[network], num_blocks=self._depths[network], m=self.m, norm=self.norm
        )

    def make_actor(self, features_extractor: nn.Module | None = None) -> BasePolicy:
        kwargs = self._update_features_extractor(self.actor_kwargs, features_extractor)
        return self.actor_class(**kwargs, **self._tower_kwargs("pi")).to(self.device)

    def make_critic(self, features_extractor: nn.Module | None = None) -> BasePolicy:
        kwargs = self._update_features_extractor(self.critic_kwargs, features_extractor)
        return self.critic_class(**kwargs, **self._tower_kwargs("qf")).to(self.device)

    def _build(self, lr_schedule: Schedule) -> None:
        super()._build(lr_schedule)

        # Same parameters as SB3's optimizers, split into Fixup groups.
        for network in (self.actor, self.critic):
            network.optimizer = fixup_optimizer(
                network,
                network.optimizer,
                self.optimizer_class,
                self.optimizer_kwargs,
                lr_schedule(1),
                self.scalar_lr_scale,
                self.depth_aware,
            )

            # Rollouts and predict() fold each Fixup block once per update, not once per
            # step. Not the target networks: SB3's Polyak update writes them through .data,
            # which a cache cannot see.
            cache_folded_weights(network)

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
        data.pop("net_arch", None)
        return data
