"""A deep residual Q-critic for SB3's off-policy algorithms (SAC, TD3)."""

from __future__ import annotations

from typing import Any

from stable_baselines3.common.policies import ContinuousCritic
from stable_baselines3.common.preprocessing import get_action_dim
from torch import nn

from fixup_rl.nn.residual_mlp import ResidualMLP


def residual_head(
    in_dim: int, out_dim: int, width: int, num_blocks: int, m: int, norm: str, activation_fn: type
) -> nn.Sequential:
    """A :class:`~fixup_rl.ResidualMLP` followed by a Linear output layer that starts at zero.

    :param in_dim: input features
    :param out_dim: outputs
    :param width: the residual network's width
    :param num_blocks: its residual blocks
    :param m: weight layers per residual branch
    :param norm: the residual scheme
    :param activation_fn: the activation class
    :return: the network
    """
    output = nn.Linear(width, out_dim)
    nn.init.zeros_(output.weight)
    nn.init.zeros_(output.bias)
    return nn.Sequential(ResidualMLP(in_dim, width, num_blocks, m, norm, activation_fn), output)


class FixupContinuousCritic(ContinuousCritic):
    """SB3's ``ContinuousCritic`` with deep residual Q-networks.

    Each of the ``n_critics`` Q-networks reads the observation features concatenated with the
    action and is a :class:`~fixup_rl.ResidualMLP` followed by a zero-initialized output
    layer, so the critic itself is deep and residual. Target critics are built the same way.

    :param observation_space: the observation space
    :param action_space: the action space
    :param net_arch: ignored (SB3 passes it); the Q-networks are set by the arguments below
    :param features_extractor: the features extractor
    :param features_dim: its output size
    :param width: the width of each Q-network
    :param num_blocks: the residual blocks of each Q-network
    :param m: weight layers per residual branch
    :param norm: the residual scheme, one of ``fixup_rl.NORMS``
    :param activation_fn: the activation class
    :param kwargs: the other arguments of SB3's ``ContinuousCritic``
    """

    def __init__(
        self,
        observation_space: Any,
        action_space: Any,
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
        # SB3 builds one-layer Q-networks from net_arch=[]; they are replaced right after.
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
        in_dim = features_dim + get_action_dim(self.action_space)
        for idx in range(self.n_critics):
            q_net = residual_head(in_dim, 1, width, num_blocks, m, norm, activation_fn)
            self.add_module(f"qf{idx}", q_net)
            self.q_networks[idx] = q_net
