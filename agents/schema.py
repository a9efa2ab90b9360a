"""What a recipe may hold: the keys each algorithm accepts and the values each key accepts.

A recipe holds plain YAML data only (numbers, strings, booleans, lists and mappings). Values
that SB3 wants as objects are written in a structured form and built later by
:mod:`fixup_rl.agents.factory`:

- a linear schedule, zoo's ``lin_7.3e-4``: ``{schedule: linear, initial: 7.3e-4}``, with an
  optional ``final`` (default 0), the value reached at the end of training;
- a train frequency in episodes, zoo's ``[1, "episode"]``: ``{every: 1, unit: episode}``;
- action noise, zoo's ``noise_type``/``noise_std``: ``{type: normal, std: 0.1}`` (or
  ``ornstein-uhlenbeck``), with one std for every action dimension;
- an activation, zoo's ``nn.ReLU``: its class name, ``ReLU``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from torch import nn

ALGOS = ("ppo", "a2c", "sac", "td3", "tqc")
"""The algorithms with a recipe: SB3's PPO, A2C, SAC, TD3 and sb3-contrib's TQC."""

ON_POLICY = ("ppo", "a2c")
OFF_POLICY = ("sac", "td3", "tqc")

NETS = ("fixup", "mlp", "layernorm", "batchnorm", "none", "rezero", "skipinit")
"""The networks an agent can use: ``"mlp"`` is SB3's own ``MlpPolicy``; every other name is a
residual network of ``fixup_rl`` with that ``norm`` (see :data:`fixup_rl.NORMS`)."""

DEVICES = ("auto", "cpu", "cuda")

ACTIVATIONS: Mapping[str, type[nn.Module]] = {
    "ReLU": nn.ReLU,
    "Tanh": nn.Tanh,
    "ELU": nn.ELU,
    "GELU": nn.GELU,
    "SiLU": nn.SiLU,
    "LeakyReLU": nn.LeakyReLU,
}


class Rejected(Exception):
    """Raised by a :class:`Kind` for a value it does not accept."""


@dataclass(frozen=True)
class Kind:
    """The values one key accepts.

    :param accepted: what is accepted, in words, for error messages
    :param convert: returns the value in its plain, canonical form (ints as ``int``, numbers
        as ``float``) or raises :class:`Rejected`
    """

    accepted: str
    convert: Callable[[Any], Any]

    def check(self, value: Any) -> Any:
        """Return ``value`` in canonical form, or raise :class:`Rejected`."""
        return self.convert(value)


def _integer(value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise Rejected
    return int(value)


def _number(
    value: Any, low: float = -math.inf, high: float = math.inf, open_low: bool = False
) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise Rejected
    value = float(value)
    if value < low or value > high or (open_low and value == low):
        raise Rejected
    return value


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise Rejected
    return value


def _mapping(value: Any, required: set[str], optional: set[str] = frozenset()) -> dict:
    if not isinstance(value, Mapping) or not required <= set(value) <= required | optional:
        raise Rejected
    return dict(value)


def _schedule(value: Any) -> float | dict[str, Any]:
    if not isinstance(value, Mapping):
        return _number(value, 0.0, open_low=True)
    plain = _mapping(value, {"schedule", "initial"}, {"final"})
    if plain["schedule"] != "linear":
        raise Rejected
    initial = _number(plain["initial"], 0.0, open_low=True)
    final = _number(plain.get("final", 0.0), 0.0)
    return {"schedule": "linear", "initial": initial, "final": final}


def _optional(kind: Kind) -> Kind:
    return Kind(f"null or {kind.accepted}", lambda v: None if v is None else kind.check(v))


def _gradient_steps(value: Any) -> int:
    if value == -1 and not isinstance(value, bool):
        return -1
    return _integer(value, 1)


def _train_freq(value: Any) -> int | dict[str, Any]:
    if not isinstance(value, Mapping):
        return _integer(value, 1)
    plain = _mapping(value, {"every", "unit"})
    if plain["unit"] not in ("step", "episode"):
        raise Rejected
    return {"every": _integer(plain["every"], 1), "unit": plain["unit"]}


def _action_noise(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    plain = _mapping(value, {"type", "std"})
    if plain["type"] not in ("normal", "ornstein-uhlenbeck"):
        raise Rejected
    return {"type": plain["type"], "std": _number(plain["std"], 0.0, open_low=True)}


def _ent_coef(value: Any) -> float | str:
    if isinstance(value, str):
        if value == "auto":
            return value
        if value.startswith("auto_"):
            try:
                _number(float(value[len("auto_") :]), 0.0, open_low=True)
            except ValueError as error:
                raise Rejected from error
            return value
        raise Rejected
    return _number(value, 0.0)


def _target_entropy(value: Any) -> float | str:
    return value if value == "auto" else _number(value)


def _choice(choices: tuple[str, ...]) -> Kind:
    def convert(value: Any) -> str:
        if not isinstance(value, str) or value not in choices:
            raise Rejected
        return value

    return Kind("one of " + ", ".join(repr(c) for c in choices), convert)


POSITIVE_INT = Kind("an integer >= 1", lambda v: _integer(v, 1))
NON_NEGATIVE_INT = Kind("an integer >= 0", lambda v: _integer(v, 0))
POSITIVE = Kind("a number > 0", lambda v: _number(v, 0.0, open_low=True))
NON_NEGATIVE = Kind("a number >= 0", lambda v: _number(v, 0.0))
UNIT = Kind("a number in [0, 1]", lambda v: _number(v, 0.0, 1.0))
NUMBER = Kind("a finite number", _number)
BOOL = Kind("true or false", _boolean)
SCHEDULE = Kind(
    "a number > 0, or {schedule: linear, initial: <number > 0>, final: <number >= 0, default 0>}",
    _schedule,
)
SDE_SAMPLE_FREQ = Kind(
    "an integer >= 1, or -1 (sample only at the start of a rollout)",
    lambda v: -1 if v == -1 and not isinstance(v, bool) else _integer(v, 1),
)

_ON_POLICY_HYPERPARAMS: dict[str, Kind] = {
    "learning_rate": SCHEDULE,
    "n_steps": POSITIVE_INT,
    "gamma": UNIT,
    "gae_lambda": UNIT,
    "ent_coef": NON_NEGATIVE,
    "vf_coef": NON_NEGATIVE,
    "max_grad_norm": POSITIVE,
    "use_sde": BOOL,
    "sde_sample_freq": SDE_SAMPLE_FREQ,
    "normalize_advantage": BOOL,
    "stats_window_size": POSITIVE_INT,
}

_OFF_POLICY_HYPERPARAMS: dict[str, Kind] = {
    "learning_rate": SCHEDULE,
    "buffer_size": POSITIVE_INT,
    "learning_starts": NON_NEGATIVE_INT,
    "batch_size": POSITIVE_INT,
    "tau": UNIT,
    "gamma": UNIT,
    "train_freq": Kind(
        "an integer >= 1 (steps), or {every: <integer >= 1>, unit: step or episode}", _train_freq
    ),
    "gradient_steps": Kind("an integer >= 1, or -1 (as many as steps collected)", _gradient_steps),
    "action_noise": Kind(
        "null, or {type: normal or ornstein-uhlenbeck, std: <number > 0>}", _action_noise
    ),
    "n_steps": POSITIVE_INT,
    "stats_window_size": POSITIVE_INT,
}

_SAC_HYPERPARAMS: dict[str, Kind] = {
    **_OFF_POLICY_HYPERPARAMS,
    "ent_coef": Kind(
        "a number >= 0, 'auto', or 'auto_<initial value>' such as 'auto_0.1'", _ent_coef
    ),
    "target_update_interval": POSITIVE_INT,
    "target_entropy": Kind("'auto' or a finite number", _target_entropy),
    "use_sde": BOOL,
    "sde_sample_freq": SDE_SAMPLE_FREQ,
    "use_sde_at_warmup": BOOL,
}

HYPERPARAMS: Mapping[str, Mapping[str, Kind]] = {
    "ppo": {
        **_ON_POLICY_HYPERPARAMS,
        "batch_size": POSITIVE_INT,
        "n_epochs": POSITIVE_INT,
        "clip_range": SCHEDULE,
        "clip_range_vf": _optional(SCHEDULE),
        "target_kl": _optional(POSITIVE),
    },
    "a2c": {**_ON_POLICY_HYPERPARAMS, "rms_prop_eps": POSITIVE, "use_rms_prop": BOOL},
    "sac": _SAC_HYPERPARAMS,
    "td3": {
        **_OFF_POLICY_HYPERPARAMS,
        "policy_delay": POSITIVE_INT,
        "target_policy_noise": NON_NEGATIVE,
        "target_noise_clip": NON_NEGATIVE,
    },
    "tqc": {**_SAC_HYPERPARAMS, "top_quantiles_to_drop_per_net": NON_NEGATIVE_INT},
}
"""Per algorithm, the SB3 constructor arguments a recipe may set and the values each accepts.
Arguments that name classes (buffers, policies) or that the runner sets itself (``seed``,
``device``, ``verbose``, ``tensorboard_log``, ``policy_kwargs``) are not among them."""

_ACTIVATION = _choice(tuple(ACTIVATIONS))

POLICY_KWARGS: Mapping[str, Mapping[str, Kind]] = {
    "ppo": {"activation_fn": _ACTIVATION, "log_std_init": NUMBER, "ortho_init": BOOL},
    "a2c": {"activation_fn": _ACTIVATION, "log_std_init": NUMBER, "ortho_init": BOOL},
    "sac": {"activation_fn": _ACTIVATION, "log_std_init": NUMBER, "n_critics": POSITIVE_INT},
    "td3": {"activation_fn": _ACTIVATION, "n_critics": POSITIVE_INT},
    "tqc": {
        "activation_fn": _ACTIVATION,
        "log_std_init": NUMBER,
        "n_critics": POSITIVE_INT,
        "n_quantiles": POSITIVE_INT,
    },
}
"""Per algorithm, the ``policy_kwargs`` a recipe may set. The network itself (``net_arch``,
``num_blocks``, ``width``, ``norm``) comes from ``net``, ``depth`` and ``width``."""


def _normalize(value: Any) -> bool | dict[str, bool]:
    if isinstance(value, bool):
        return {"norm_obs": True, "norm_reward": True} if value else False
    plain = _mapping(value, {"norm_obs", "norm_reward"})
    flags = {key: _boolean(plain[key]) for key in ("norm_obs", "norm_reward")}
    return flags if any(flags.values()) else False


NETWORK_KEYS: Mapping[str, Kind] = {
    "net": _choice(NETS),
    "depth": POSITIVE_INT,
    "width": POSITIVE_INT,
}
"""The keys of a recipe's ``network`` block, which every entry may also set."""

ENTRY_KEYS: Mapping[str, Kind] = {
    **NETWORK_KEYS,
    "n_timesteps": POSITIVE_INT,
    "n_envs": POSITIVE_INT,
    "normalize": Kind(
        "false, true, or {norm_obs: <true or false>, norm_reward: <true or false>}", _normalize
    ),
}
"""The keys of a recipe entry besides ``policy_kwargs`` and the algorithm's hyperparameters."""

RUN_KEYS: Mapping[str, Kind] = {
    "seed": NON_NEGATIVE_INT,
    "device": _choice(DEVICES),
    "verbose": Kind("0, 1 or 2", lambda v: _integer(v, 0) if v in (0, 1, 2) else _reject()),
    "tensorboard_log": Kind(
        "null or a folder path", lambda v: v if v is None or isinstance(v, str) else _reject()
    ),
}
"""The overrides that are not part of a recipe: how and where a run happens."""


def _reject() -> Any:
    raise Rejected
