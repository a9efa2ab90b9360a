"""A policy's constructor arguments as plain JSON data, and back, key by key.

Only the arguments that shape the network and its outputs are written (the arguments that
only matter for training, such as the optimizer and the learning-rate schedule, are not).
Each policy family accepts a fixed set of keys; each key accepts one kind of value. Classes
(activations, feature extractors) are written as names from :mod:`fixup_rl.export.classes`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from fixup_rl.export.classes import ACTIVATIONS, EXTRACTORS, activation_name, name_of
from fixup_rl.export.fields import Field
from fixup_rl.nn.factory import NORMS


@dataclass(frozen=True)
class Kind:
    """The values one key accepts.

    :param decode: checks a JSON value and returns the Python value (raises through the field)
    :param encode: turns the Python value into JSON data (raises ValueError if it cannot)
    """

    decode: Callable[[Field, Any], Any]
    encode: Callable[[Any], Any] = lambda value: value


def _plain(value: Any) -> Any:
    # Tuples as lists, numpy scalars as Python numbers: what json writes and reads back.
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value.item() if hasattr(value, "item") else value


def _per_network(keys: tuple[str, ...], item: Callable[[Field, Any], Any]) -> Kind:
    # A value, or a mapping with one value per network (SB3's net_arch, fixup's width).
    def decode(field: Field, value: Any) -> Any:
        if isinstance(value, Mapping):
            value = field.mapping(value, keys)
            return {key: item(field / key, value[key]) for key in keys}
        return item(field, value)

    return Kind(decode, _plain)


BOOL = Kind(lambda field, value: field.boolean(value), _plain)
NUMBER = Kind(lambda field, value: field.number(value), _plain)
POSITIVE_INT = Kind(lambda field, value: field.integer(value, 1), _plain)
M = Kind(lambda field, value: field.integer(value, 2), _plain)
NORM = Kind(lambda field, value: field.choice(value, NORMS))
CHANNELS = Kind(lambda field, value: field.integers(value, 1, nonempty=True), _plain)
ACTIVATION = Kind(
    lambda field, value: ACTIVATIONS[field.choice(value, ACTIVATIONS)], activation_name
)


def _layers(field: Field, value: Any) -> list[int]:
    return field.integers(value, 1)


def _positive(field: Field, value: Any) -> int:
    return field.integer(value, 1)


_EXTRACTOR_ARGUMENTS = ("features_extractor_class", "features_extractor_kwargs")
_ON_NETWORKS = ("pi", "vf")
_OFF_NETWORKS = ("pi", "qf")

_FIXUP_TOWER = {"m": M, "norm": NORM}
_SHARED = {
    "activation_fn": ACTIVATION,
    "normalize_images": BOOL,
    "share_features_extractor": BOOL,
}
_GAUSSIAN = {"use_sde": BOOL, "log_std_init": NUMBER, "use_expln": BOOL}

_ON_POLICY = {**_SHARED, **_GAUSSIAN, "squash_output": BOOL, "full_std": BOOL}
_SAC = {**_SHARED, **_GAUSSIAN, "clip_mean": NUMBER, "n_critics": POSITIVE_INT}
_TD3 = {**_SHARED, "n_critics": POSITIVE_INT}

FAMILIES: Mapping[str, Mapping[str, Kind]] = {
    "on_policy": _ON_POLICY,
    "sac": _SAC,
    "td3": _TD3,
    "tqc": {**_SAC, "n_quantiles": POSITIVE_INT},
}
"""The keys each policy family accepts besides its network's size and the features extractor."""


def network_keys(family: str, fixup: bool) -> dict[str, Kind]:
    """The keys that size a policy's networks: ``net_arch``, or Fixup's ``num_blocks`` and co.

    :param family: the policy family (see :data:`FAMILIES`)
    :param fixup: whether the policy is one of fixup_rl's
    """
    networks = _ON_NETWORKS if family == "on_policy" else _OFF_NETWORKS
    if fixup:
        sizes = _per_network(networks, _positive)
        return {"num_blocks": sizes, "width": sizes, **_FIXUP_TOWER}
    return {"net_arch": _per_network(networks, _layers)}


EXTRACTOR_KEYS: Mapping[str, Mapping[str, Kind]] = {
    "flatten": {},
    "nature_cnn": {"features_dim": POSITIVE_INT, "normalized_image": BOOL},
    "fixup_mlp": {
        "features_dim": POSITIVE_INT,
        "num_blocks": POSITIVE_INT,
        **_FIXUP_TOWER,
        "activation_fn": ACTIVATION,
    },
    "fixup_cnn": {
        "features_dim": POSITIVE_INT,
        "channels": CHANNELS,
        "blocks_per_stage": POSITIVE_INT,
        **_FIXUP_TOWER,
        "activation_fn": ACTIVATION,
        "normalized_image": BOOL,
    },
}
"""The ``features_extractor_kwargs`` each features extractor accepts."""


def encode_kwargs(keys: Mapping[str, Kind], kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """Write a policy's arguments as JSON data.

    The features extractor is written by name, with its arguments. Arguments that are None
    (SB3's "use the default") are left out.

    :param keys: the keys the policy accepts (:data:`FAMILIES` and :func:`network_keys`)
    :param kwargs: the arguments
    :raises ValueError: for an argument or a class that cannot be exported
    """
    plain = {
        key: value
        for key, value in kwargs.items()
        if value is not None and key not in _EXTRACTOR_ARGUMENTS
    }
    data = _encode(keys, plain, "policy")

    extractor = name_of(kwargs["features_extractor_class"], EXTRACTORS, "features extractor")
    extractor_kwargs = kwargs.get("features_extractor_kwargs") or {}
    data["features_extractor_class"] = extractor
    data["features_extractor_kwargs"] = _encode(
        EXTRACTOR_KEYS[EXTRACTORS[extractor].family], extractor_kwargs, extractor
    )
    return data


def _encode(keys: Mapping[str, Kind], kwargs: Mapping[str, Any], owner: str) -> dict[str, Any]:
    data = {}
    for key, value in kwargs.items():
        if key not in keys:
            raise ValueError(f"cannot export the {owner} argument {key}={value!r}")
        data[key] = keys[key].encode(value)
    return data


def decode_kwargs(field: Field, keys: Mapping[str, Kind], data: Any) -> dict[str, Any]:
    """Read the arguments that :func:`encode_kwargs` wrote, checking every key and value.

    :param field: where they are read from, for error messages
    :param keys: the keys the policy accepts
    :param data: the JSON data
    :return: the arguments, classes imported from the allowlists
    :raises PolicyFileError: for a missing, unknown or rejected key or value
    """
    data = field.mapping(data, required=_EXTRACTOR_ARGUMENTS, optional=keys)
    kwargs = {
        key: keys[key].decode(field / key, value)
        for key, value in data.items()
        if key not in _EXTRACTOR_ARGUMENTS
    }

    name = (field / "features_extractor_class").choice(data["features_extractor_class"], EXTRACTORS)
    extractor = EXTRACTORS[name]
    accepted = EXTRACTOR_KEYS[extractor.family]
    extractor_field = field / "features_extractor_kwargs"
    extractor_data = extractor_field.mapping(data["features_extractor_kwargs"], optional=accepted)
    kwargs["features_extractor_class"] = extractor.load()
    kwargs["features_extractor_kwargs"] = {
        key: accepted[key].decode(extractor_field / key, value)
        for key, value in extractor_data.items()
    }
    return kwargs
