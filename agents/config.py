"""The resolved configuration of an agent: its recipe entry, the overrides, and the network.

The network rule
----------------
``depth`` counts residual blocks of two ``Linear`` layers each (``m=2``), after an input
``Linear`` layer: a residual network of depth ``d`` and width ``w`` has ``1 + 2d`` hidden
``Linear`` layers of width ``w`` in each of its policy and value (or Q) networks.

- ``net="mlp"`` is SB3's ``MlpPolicy`` with as many hidden layers of width ``w`` as the
  residual network it stands in for (:func:`hidden_layers`), so the two differ only in the
  skip connections, their initialization and normalization. The activation is ``ReLU``
  for every net unless the recipe sets ``activation_fn`` (SB3's own default for PPO and A2C
  is ``Tanh``).
- Any other ``net`` uses a Fixup policy (:class:`~fixup_rl.FixupActorCriticPolicy`,
  :class:`~fixup_rl.FixupSACPolicy`, :class:`~fixup_rl.FixupTD3Policy`) with
  ``num_blocks=depth``, ``width=width`` and ``norm=net``.
- TQC has no Fixup policy: its ``MlpPolicy`` gets a :class:`~fixup_rl.FixupMlpExtractor`
  (``features_dim=width``, ``num_blocks=depth``, ``norm=net``) and one hidden layer of width
  ``w`` as ``net_arch``, so ``2 + 2d`` layers in all, and ``net="mlp"`` gets as many. Three
  differences from the other residual agents follow from SB3's design: the critics read the
  action only in that last layer, all ``n_critics`` critics share one extractor (an MLP
  critic has its own layers per critic), and the Fixup scalars train at the full learning
  rate (no Fixup parameter groups).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fixup_rl.agents.recipes import check_algo, check_entry, load_recipe
from fixup_rl.agents.schema import HYPERPARAMS, OFF_POLICY, ON_POLICY, RUN_KEYS
from fixup_rl.envs import check_env_id

_FIXUP_POLICIES = {
    "ppo": "FixupActorCriticPolicy",
    "a2c": "FixupActorCriticPolicy",
    "sac": "FixupSACPolicy",
    "td3": "FixupTD3Policy",
}

_RUN_DEFAULTS = {"seed": 0, "device": "auto", "verbose": 0, "tensorboard_log": None}


def hidden_layers(algo: str, depth: int) -> int:
    """Return the hidden ``Linear`` layers of ``algo``'s residual network of ``depth`` blocks.

    It is also the number of hidden layers of the ``net="mlp"`` network of the same depth.

    :param algo: one of :data:`~fixup_rl.agents.ALGOS`
    :param depth: residual blocks
    :return: ``1 + 2 * depth``, plus one for TQC's ``net_arch`` layer after its extractor
    """
    return 1 + 2 * depth + (1 if algo == "tqc" else 0)


def resolve_config(
    algo: str, env_id: str, *, recipes_dir: str | Path | None = None, **overrides: Any
) -> dict[str, Any]:
    """Return the full configuration of an agent, as plain YAML- and JSON-serializable data.

    The recipe entry for ``env_id`` (see :meth:`~fixup_rl.agents.recipes.Recipe.entry_for`)
    is laid over the file's ``network`` block, then ``overrides`` over both.

    :param algo: one of :data:`~fixup_rl.agents.ALGOS`
    :param env_id: an id accepted by :func:`~fixup_rl.envs.check_env_id`
    :param recipes_dir: the folder holding the recipe files; ``None`` for the shipped ones
    :param overrides: ``net``, ``depth``, ``width``, ``seed``, ``n_envs``, ``n_timesteps``,
        ``normalize``, ``device`` (``"auto"``, ``"cpu"`` or ``"cuda"``), ``tensorboard_log``,
        ``verbose``, any hyperparameter of the algorithm, and ``policy_kwargs`` (a mapping
        merged into the recipe's)
    :return: the keys ``algo``, ``env_id``, ``recipe`` (the entry used), ``net``, ``depth``,
        ``width``, ``seed``, ``n_envs``, ``n_timesteps``, ``device``, ``verbose``,
        ``tensorboard_log``, ``normalize`` (``False`` or ``dict(norm_obs=..., norm_reward=...)``),
        ``hyperparams``, ``policy`` (a class name or ``"MlpPolicy"``) and ``policy_kwargs``
    :raises ValueError: for an unknown algorithm, env id, net or override, a value that is not
        accepted, or an algorithm that cannot act in the env's action space
    """
    check_algo(algo)
    info = check_env_id(env_id)
    if algo in OFF_POLICY and info.action_kind == "discrete":
        raise ValueError(
            f"{algo} needs a continuous (Box) action space but {env_id} has a discrete one; "
            f"use {' or '.join(ON_POLICY)} for {env_id}"
        )

    recipe = load_recipe(algo, recipes_dir)
    name, entry = recipe.entry_for(env_id)
    changes = check_entry(algo, overrides, f"override ({algo} on {env_id})", extra=RUN_KEYS)
    run = {**_RUN_DEFAULTS, **{key: changes.pop(key) for key in RUN_KEYS if key in changes}}
    policy_kwargs = {**entry.pop("policy_kwargs", {}), **changes.pop("policy_kwargs", {})}
    merged = {"n_envs": 1, "normalize": False, **recipe.network, **entry, **changes}

    hyperparams = {key: merged.pop(key) for key in list(merged) if key in HYPERPARAMS[algo]}
    policy, network_kwargs = _policy(algo, merged["net"], merged["depth"], merged["width"])
    policy_kwargs = {"activation_fn": "ReLU", **policy_kwargs}
    if "features_extractor_kwargs" in network_kwargs:
        network_kwargs["features_extractor_kwargs"]["activation_fn"] = policy_kwargs[
            "activation_fn"
        ]

    config = {"algo": algo, "env_id": env_id, "recipe": name}
    config.update({key: merged[key] for key in ("net", "depth", "width")})
    config.update(seed=run["seed"], n_envs=merged["n_envs"], n_timesteps=merged["n_timesteps"])
    config.update({key: run[key] for key in ("device", "verbose", "tensorboard_log")})
    config.update(normalize=merged["normalize"], hyperparams=hyperparams, policy=policy)
    config["policy_kwargs"] = {**network_kwargs, **policy_kwargs}
    return config


def _policy(algo: str, net: str, depth: int, width: int) -> tuple[str, dict[str, Any]]:
    layers = [width] * hidden_layers(algo, depth)
    if net == "mlp":
        net_arch: Mapping[str, Any] | list[int] = (
            {"pi": layers, "vf": list(layers)} if algo in ON_POLICY else layers
        )
        return "MlpPolicy", {"net_arch": net_arch}
    if algo == "tqc":
        extractor = {"features_dim": width, "num_blocks": depth, "norm": net}
        return "MlpPolicy", {
            "features_extractor_class": "FixupMlpExtractor",
            "features_extractor_kwargs": extractor,
            "net_arch": [width],
        }
    return _FIXUP_POLICIES[algo], {"num_blocks": depth, "width": width, "norm": net}
