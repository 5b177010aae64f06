"""Tests for planner.standards.rules: minutes <-> metres, Rule construction."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from planner.errors import InputError
from planner.standards import (
    DEFAULT_SPEED_KMH,
    Rule,
    m_to_minutes,
    minutes_to_m,
)

# ---------------------------------------------------------------- minutes <-> metres


@pytest.mark.parametrize(
    ("minutes", "speed", "metres"),
    [
        (15, 4.0, 1000.0),  # 15 × 4 × 1000 / 60
        (10, 4.0, 2000.0 / 3.0),  # 666.67 m
        (5, 4.0, 1000.0 / 3.0),
        (15, 5.0, 1250.0),
        (12, 4.0, 800.0),
        (0, 4.0, 0.0),
        (60, 4.5, 4500.0),
    ],
)
def test_minutes_to_m_hand_worked(minutes: float, speed: float, metres: float) -> None:
    assert minutes_to_m(minutes, speed) == pytest.approx(metres, rel=1e-12)


@pytest.mark.parametrize(
    ("metres", "speed", "minutes"),
    [
        (1000, 4.0, 15.0),
        (800, 4.0, 12.0),
        (500, 4.0, 7.5),
        (300, 4.0, 4.5),
        (300, 5.0, 3.6),
        (1000, 3.0, 20.0),
    ],
)
def test_m_to_minutes_hand_worked(metres: float, speed: float, minutes: float) -> None:
    assert m_to_minutes(metres, speed) == pytest.approx(minutes, rel=1e-12)


def test_fifteen_minutes_is_exactly_1000_m_at_default_speed() -> None:
    assert DEFAULT_SPEED_KMH == 4.0
    assert minutes_to_m(15, DEFAULT_SPEED_KMH) == 1000.0
    assert m_to_minutes(1000, DEFAULT_SPEED_KMH) == 15.0
    assert isinstance(minutes_to_m(15, 4.0), float)


def test_conversions_work_on_arrays_and_pass_inf_and_nan() -> None:
    out = m_to_minutes(np.array([0.0, 500.0, np.inf, np.nan]), 4.0)
    assert isinstance(out, np.ndarray)
    assert out[:3].tolist() == [0.0, 7.5, math.inf]
    assert math.isnan(out[3])
    assert minutes_to_m([15, 30], 4.0).tolist() == [1000.0, 2000.0]


@pytest.mark.parametrize("speed", [0, -4.0, math.inf, math.nan, "4", True, None])
def test_bad_speed_is_rejected(speed: object) -> None:
    with pytest.raises(InputError, match="speed"):
        minutes_to_m(15, speed)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="speed"):
        m_to_minutes(1000, speed)  # type: ignore[arg-type]


def test_negative_values_are_rejected() -> None:
    with pytest.raises(InputError, match="negative"):
        minutes_to_m(-1, 4.0)
    with pytest.raises(InputError, match="negative"):
        m_to_minutes(np.array([10.0, -5.0]), 4.0)


@given(
    st.floats(min_value=0, max_value=1e6, allow_nan=False),
    st.floats(min_value=0.5, max_value=30, allow_nan=False),
)
def test_round_trip(metres: float, speed: float) -> None:
    back = minutes_to_m(m_to_minutes(metres, speed), speed)
    assert back == pytest.approx(metres, rel=1e-12, abs=1e-9)


def test_rule_build_and_direct_construction_guard_consistency() -> None:
    with pytest.raises(InputError, match="exactly one"):
        Rule.build("health", max_walk_m=300, max_walk_min=5)
    with pytest.raises(InputError, match="exactly one"):
        Rule.build("health")
    rule = Rule.build("health", max_walk_m=600, speed_kmh=4.0)
    assert (rule.max_walk_min, rule.key, rule.label_en) == (9.0, "health", "Health care")
    with pytest.raises(ValueError, match="does not match"):
        Rule(
            category="health",
            max_walk_m=600,
            max_walk_min=10,
            speed_kmh=4.0,
            min_floor_area_m2_per_100_households=None,
            tier=None,
            source="",
            clause="",
            label_zh="",
            label_en="",
        )
