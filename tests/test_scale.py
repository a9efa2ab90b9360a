"""Tests of fixup_rl.fixup_scale, the Fixup rescaling rule L^(-1/(2m-2))."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fixup_rl import fixup_scale


@pytest.mark.parametrize(
    ("num_blocks", "m", "expected"),
    [
        pytest.param(1, 2, 1.0, id="L=1-m=2"),
        pytest.param(4, 2, 0.5, id="L=4-m=2"),
        pytest.param(16, 2, 0.25, id="L=16-m=2"),
        pytest.param(1024, 2, 1 / 32, id="L=1024-m=2"),
        pytest.param(1, 3, 1.0, id="L=1-m=3"),
        pytest.param(4, 3, 1 / math.sqrt(2), id="L=4-m=3"),
        pytest.param(16, 3, 0.5, id="L=16-m=3"),
        pytest.param(1024, 3, 1 / math.sqrt(32), id="L=1024-m=3"),
    ],
)
def test_known_values(num_blocks: int, m: int, expected: float) -> None:
    assert fixup_scale(num_blocks, m) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("num_blocks", [1, 4, 16, 1024], ids=lambda n: f"L={n}")
@pytest.mark.parametrize("m", [2, 3, 4], ids=lambda m: f"m={m}")
def test_formula(num_blocks: int, m: int) -> None:
    assert fixup_scale(num_blocks, m) == pytest.approx(num_blocks ** (-1 / (2 * m - 2)))


@given(num_blocks=st.integers(1, 10_000), m=st.integers(2, 8))
def test_scale_raised_to_2m_minus_2_is_one_over_num_blocks(num_blocks: int, m: int) -> None:
    scale = fixup_scale(num_blocks, m)
    assert 0 < scale <= 1
    assert scale ** (2 * m - 2) == pytest.approx(1 / num_blocks, rel=1e-9)


def test_returns_python_float() -> None:
    assert type(fixup_scale(4, 2)) is float


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"num_blocks": 0, "m": 2}, "num_blocks"),
        ({"num_blocks": -3, "m": 2}, "num_blocks"),
        ({"num_blocks": 4, "m": 1}, "m"),
        ({"num_blocks": 4, "m": 0}, "m"),
        ({"num_blocks": 4.0, "m": 2}, "num_blocks"),
        ({"num_blocks": 4, "m": 2.0}, "m"),
        ({"num_blocks": "4", "m": 2}, "num_blocks"),
        ({"num_blocks": 4, "m": "3"}, "m"),
        ({"num_blocks": True, "m": 2}, "num_blocks"),
        ({"num_blocks": 4, "m": True}, "m"),
    ],
    ids=[
        "num_blocks=0",
        "num_blocks=-3",
        "m=1",
        "m=0",
        "num_blocks=4.0",
        "m=2.0",
        "num_blocks='4'",
        "m='3'",
        "num_blocks=True",
        "m=True",
    ],
)
def test_bad_arguments_raise_value_error_naming_the_argument(kwargs: dict, name: str) -> None:
    with pytest.raises(ValueError, match=rf"^{name} must be an integer"):
        fixup_scale(**kwargs)
