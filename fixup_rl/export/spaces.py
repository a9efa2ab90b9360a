"""Gymnasium spaces as plain JSON data, and back.

A Box is written with its shape, dtype and bounds (infinite bounds as the strings ``"inf"``
and ``"-inf"``, since JSON has no infinity); Discrete, MultiDiscrete and MultiBinary with their
sizes. These are the spaces whose policies :func:`fixup_rl.load_policy` rebuilds; a Dict or any
other space is refused at export.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from gymnasium import spaces

from fixup_rl.export.fields import Field

#: The dtypes a Box may have in an exported policy.
BOX_DTYPES = (
    "float16",
    "float32",
    "float64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "int8",
    "int16",
    "int32",
    "int64",
)
SPACE_TYPES = ("Box", "Discrete", "MultiDiscrete", "MultiBinary")

_INFINITIES = {"inf": math.inf, "-inf": -math.inf}


def encode_space(space: spaces.Space, what: str) -> dict[str, Any]:
    """Return ``space`` as JSON data.

    :param space: a Box, Discrete, MultiDiscrete or MultiBinary space
    :param what: ``"observation space"`` or ``"action space"``, for the error message
    :return: a mapping with ``"type"`` and the space's sizes (and a Box's dtype and bounds)
    :raises ValueError: for any other space, or a Box of another dtype
    """
    if isinstance(space, spaces.Box):
        if space.dtype.name not in BOX_DTYPES:
            raise ValueError(
                f"cannot export the {what} {space}: its dtype {space.dtype} is not "
                f"one of {', '.join(BOX_DTYPES)}"
            )
        return {
            "type": "Box",
            "shape": list(space.shape),
            "dtype": space.dtype.name,
            "low": [_encode_bound(x) for x in space.low.flatten().tolist()],
            "high": [_encode_bound(x) for x in space.high.flatten().tolist()],
        }
    if isinstance(space, spaces.Discrete):
        return {"type": "Discrete", "n": int(space.n), "start": int(space.start)}
    if isinstance(space, spaces.MultiDiscrete):
        if np.any(space.start != 0):
            raise ValueError(
                f"cannot export the {what} {space}: only MultiDiscrete spaces "
                "starting at 0 are supported"
            )
        return {"type": "MultiDiscrete", "nvec": space.nvec.flatten().tolist()}
    if isinstance(space, spaces.MultiBinary):
        return {"type": "MultiBinary", "n": [int(n) for n in np.atleast_1d(space.n)]}
    raise ValueError(
        f"cannot export a policy whose {what} is {space} ({type(space).__name__}); "
        f"supported: {', '.join(SPACE_TYPES)}"
    )


def decode_space(field: Field, data: Any) -> spaces.Space:
    """Build the space that :func:`encode_space` wrote, checking every field.

    :param field: where the space is read from, for error messages
    :param data: the JSON data
    :return: the space
    :raises PolicyFileError: for a field that is missing, unknown or not accepted
    """
    kind = (field / "type").choice(
        data.get("type") if isinstance(data, dict) else None, SPACE_TYPES
    )
    if kind == "Box":
        data = field.mapping(data, ("type", "shape", "dtype", "low", "high"))
        shape = tuple((field / "shape").integers(data["shape"], minimum=1))
        dtype = (field / "dtype").choice(data["dtype"], BOX_DTYPES)
        size = math.prod(shape)
        low = _decode_bounds(field / "low", data["low"], size, np.dtype(dtype))
        high = _decode_bounds(field / "high", data["high"], size, np.dtype(dtype))
        if np.any(low > high):
            (field / "low").fail("every lower bound must be <= its upper bound")
        return spaces.Box(low.reshape(shape), high.reshape(shape), shape, np.dtype(dtype))
    if kind == "Discrete":
        data = field.mapping(data, ("type", "n", "start"))
        n = (field / "n").integer(data["n"], minimum=1)
        start = (field / "start").integer(data["start"], minimum=-(2**62))
        return spaces.Discrete(n, start=start)
    if kind == "MultiDiscrete":
        data = field.mapping(data, ("type", "nvec"))
        nvec = (field / "nvec").integers(data["nvec"], minimum=1, nonempty=True)
        return spaces.MultiDiscrete(nvec)
    data = field.mapping(data, ("type", "n"))
    n = (field / "n").integers(data["n"], minimum=1, nonempty=True)
    return spaces.MultiBinary(n if len(n) > 1 else n[0])


def flat_size(space: spaces.Space) -> int:
    """The length of the vector SB3 makes of one observation of ``space`` (one-hot for discrete)."""
    if isinstance(space, spaces.Box):
        return math.prod(space.shape)
    if isinstance(space, spaces.Discrete):
        return int(space.n)
    if isinstance(space, spaces.MultiDiscrete):
        return int(np.sum(space.nvec))
    return int(np.prod(space.n))


def _encode_bound(value: float) -> float | int | str:
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return value


def _decode_bounds(field: Field, values: Any, size: int, dtype: np.dtype) -> np.ndarray:
    # Bounds are built in the Box's own dtype (the exported float32 values are exact there).
    floating = np.issubdtype(dtype, np.floating)
    accepted = f"a list of {size} " + (
        "numbers (or the strings 'inf' and '-inf')" if floating else f"integers within {dtype}"
    )
    if not isinstance(values, list) or len(values) != size:
        field.reject(accepted, values)
    if floating:
        return np.array([_float_bound(field, accepted, value) for value in values], dtype=dtype)
    limits = np.iinfo(dtype)
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in values) or not all(
        limits.min <= v <= limits.max for v in values
    ):
        field.reject(accepted, values)
    return np.array(values, dtype=dtype)


def _float_bound(field: Field, accepted: str, value: Any) -> float:
    if isinstance(value, str) and value in _INFINITIES:
        return _INFINITIES[value]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        field.reject(accepted, value)
    try:
        bound = float(value)
    except OverflowError:  # an integer beyond the range of floats
        field.reject(accepted, value)
    if math.isnan(bound):
        field.reject(accepted, value)
    return bound
