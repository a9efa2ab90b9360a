"""Residual towers: the policy and value networks of the Fixup actor-critic policies."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from fixup_rl._validation import check_int
from fixup_rl.nn.residual_mlp import ResidualMLP


def per_network(name: str, value: Any, keys: tuple[str, ...]) -> dict[str, int]:
    """Expand an int, or a dict with one int per network, into a dict over ``keys``.

    ``per_network("width", 64, ("pi", "vf"))`` gives ``{"pi": 64, "vf": 64}``;
    ``per_network("width", {"pi": 64, "vf": 128}, ("pi", "vf"))`` checks and returns the dict.

    :param name: the parameter's name, used in error messages
    :param value: an int, or a dict with exactly the keys ``keys``
    :param keys: the networks, e.g. ``("pi", "vf")`` or ``("pi", "qf")``
    :return: one positive int per key
    """
    if isinstance(value, dict):
        if set(value) != set(keys):
            raise ValueError(
                f"{name} must be an int or a dict with the keys {list(keys)}, got {value!r}"
            )
        return {key: check_int(f"{name}[{key!r}]", value[key], minimum=1) for key in keys}
    number = check_int(name, value, minimum=1)
    return dict.fromkeys(keys, number)


class FixupTowers(nn.Module):
    """Separate residual networks for the policy (``pi``) and the value function (``vf``).

    It stands where SB3's ``MlpExtractor`` stands in an ``ActorCriticPolicy`` and has the same
    interface: ``latent_dim_pi``, ``latent_dim_vf``, ``forward``, ``forward_actor`` and
    ``forward_critic``.

    :param features_dim: the size of the features that both towers read
    :param width: the width of each tower, an int or ``dict(pi=..., vf=...)``
    :param num_blocks: the residual blocks of each tower, an int or ``dict(pi=..., vf=...)``
    :param m: weight layers per residual branch
    :param norm: the residual scheme, one of ``fixup_rl.NORMS``
    :param activation_fn: the activation class
    """

    def __init__(
        self,
        features_dim: int,
        width: int | dict[str, int],
        num_blocks: int | dict[str, int],
        m: int,
        norm: str,
        activation_fn: type[nn.Module],
    ) -> None:
        super().__init__()
        widths = per_network("width", width, ("pi", "vf"))
        depths = per_network("num_blocks", num_blocks, ("pi", "vf"))
        self.policy_net = ResidualMLP(
            features_dim, widths["pi"], depths["pi"], m, norm, activation_fn
        )
        self.value_net = ResidualMLP(
            features_dim, widths["vf"], depths["vf"], m, norm, activation_fn
        )
        self.latent_dim_pi = widths["pi"]
        self.latent_dim_vf = widths["vf"]

    def forward(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.forward_actor(features), self.forward_critic(features)

    def forward_actor(self, features: torch.Tensor) -> torch.Tensor:
        return self.policy_net(features)

    def forward_critic(self, features: torch.Tensor) -> torch.Tensor:
        return self.value_net(features)
