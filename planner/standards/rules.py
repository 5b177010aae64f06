"""Rules and standards, and the one place that converts walking minutes and metres.

A :class:`Rule` asks that every household reach a facility of one category within a walking
threshold (and, optionally, that the category supply a floor area per 100 households). A
:class:`Standard` is a named set of rules at one walking speed. :func:`minutes_to_m` and
:func:`m_to_minutes` are the only conversions between the two threshold units. Reading
standards from TOML is :mod:`planner.standards.loader`; see :mod:`planner.standards` for the
tiers and the units a rule keeps when the speed changes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal, overload

import numpy as np
import numpy.typing as npt

from planner.errors import InputError
from planner.schema import DEFAULT_SPEED_KMH
from planner.standards.categories import CATEGORIES

__all__ = ["TIERS", "Rule", "Standard", "m_to_minutes", "minutes_to_m"]

#: Life-circle tiers of GB 50180-2018, shortest first.
TIERS: tuple[str, ...] = ("5min", "10min", "15min")

# --------------------------------------------------------------------------------------------
# Minutes <-> metres: the one place
# --------------------------------------------------------------------------------------------


def _check_speed(speed_kmh: object) -> float:
    if isinstance(speed_kmh, bool) or not isinstance(speed_kmh, int | float | np.floating):
        raise InputError(f"walking speed {speed_kmh!r} is not a number; give km/h, e.g. 4.0")
    speed = float(speed_kmh)
    if not math.isfinite(speed) or speed <= 0:
        raise InputError(f"walking speed {speed_kmh!r} km/h must be a positive finite number")
    return speed


def _convert_walk(value: Any, speed_kmh: float, *, to_m: bool) -> Any:
    """Minutes to metres (``to_m``) or metres to minutes at ``speed_kmh``; a float for a scalar."""
    speed = _check_speed(speed_kmh)
    values = np.asarray(value, dtype=float)
    if np.any(values < 0):
        what, unit, give = ("time", "min", "minutes") if to_m else ("distance", "m", "metres")
        raise InputError(f"walking {what} {value!r} {unit} is negative; give {give} >= 0")
    out = values * speed * 1000.0 / 60.0 if to_m else values * 60.0 / (speed * 1000.0)
    return float(out) if out.ndim == 0 else out


@overload
def minutes_to_m(walk_min: float, speed_kmh: float) -> float: ...
@overload
def minutes_to_m(walk_min: npt.ArrayLike, speed_kmh: float) -> npt.NDArray[np.float64]: ...
def minutes_to_m(walk_min: Any, speed_kmh: float) -> Any:
    """Convert walking minutes to metres at ``speed_kmh``: ``m = min × km/h × 1000 / 60``.

    Parameters
    ----------
    walk_min
        Minutes (a number or an array; NaN and inf pass through).
    speed_kmh
        Walking speed in km/h, > 0.

    Returns
    -------
    float or numpy.ndarray
        Metres; a float for a scalar input. 15 min at 4.0 km/h is 1000.0 m.

    Raises
    ------
    InputError
        If the speed is not a positive finite number or a value is negative.
    """
    return _convert_walk(walk_min, speed_kmh, to_m=True)


@overload
def m_to_minutes(walk_m: float, speed_kmh: float) -> float: ...
@overload
def m_to_minutes(walk_m: npt.ArrayLike, speed_kmh: float) -> npt.NDArray[np.float64]: ...
def m_to_minutes(walk_m: Any, speed_kmh: float) -> Any:
    """Convert walking metres to minutes at ``speed_kmh``: ``min = m × 60 / (km/h × 1000)``.

    Parameters
    ----------
    walk_m
        Metres (a number or an array; NaN and inf pass through).
    speed_kmh
        Walking speed in km/h, > 0.

    Returns
    -------
    float or numpy.ndarray
        Minutes; a float for a scalar input. 300 m at 4.0 km/h is 4.5 min.

    Raises
    ------
    InputError
        If the speed is not a positive finite number or a value is negative.
    """
    return _convert_walk(walk_m, speed_kmh, to_m=False)


# --------------------------------------------------------------------------------------------
# Rules and standards
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """One requirement: households reach a facility of ``category`` within a threshold.

    Build rules with :meth:`Rule.build`, which derives the unit not stated. Direct
    construction checks that metres and minutes agree at ``speed_kmh``.

    Attributes
    ----------
    category
        Facility category (snake_case) the rule asks for.
    max_walk_m
        Check threshold in metres: covered when walk distance <= ``max_walk_m``.
    max_walk_min
        The same threshold in minutes at ``speed_kmh``.
    speed_kmh
        Walking speed used to relate metres and minutes.
    min_floor_area_m2_per_100_households
        Minimum floor area of the category's facilities per 100 households, or None when the
        rule has no floor-area part.
    tier
        Life-circle tier (``"5min"``, ``"10min"``, ``"15min"``) or None.
    source
        The document the rule comes from.
    clause
        Where in the source (table, section), or ``""`` for user rules without one.
    label_zh, label_en
        What the rule asks for, in Chinese and English.
    threshold_unit
        ``"m"`` when the source states metres, ``"min"`` when it states minutes; that number is
        kept when the speed changes.
    recommended_walk_m
        A lower recommended distance where the source gives a range (GB 50180's 800 m of
        800-1000 m), for reporting; the check uses ``max_walk_m``.
    also_accepts
        Further categories whose facilities satisfy the rule (GB 50180's 菜市场或生鲜超市:
        a ``market`` or a ``supermarket``).
    note
        Free text shown in reports.
    key
        Unique name of the rule within its standard, used in output column names.
    """

    category: str
    max_walk_m: float
    max_walk_min: float
    speed_kmh: float
    min_floor_area_m2_per_100_households: float | None
    tier: str | None
    source: str
    clause: str
    label_zh: str
    label_en: str
    threshold_unit: Literal["m", "min"] = "m"
    recommended_walk_m: float | None = None
    also_accepts: tuple[str, ...] = ()
    note: str = ""
    key: str = ""

    def __post_init__(self) -> None:
        speed = _check_speed(self.speed_kmh)
        if self.threshold_unit not in ("m", "min"):
            raise ValueError(f"threshold_unit must be 'm' or 'min', not {self.threshold_unit!r}")
        expected_min = m_to_minutes(self.max_walk_m, speed)
        if not math.isclose(expected_min, self.max_walk_min, rel_tol=1e-9, abs_tol=1e-9):
            raise ValueError(
                f"rule {self.category!r}: max_walk_min {self.max_walk_min} does not match "
                f"max_walk_m {self.max_walk_m} at {speed} km/h ({expected_min} min); "
                "build rules with Rule.build"
            )
        if self.tier is not None and self.tier not in TIERS:
            raise ValueError(f"rule {self.category!r}: tier {self.tier!r} is not one of {TIERS}")
        if not self.key:
            object.__setattr__(self, "key", self.category)

    @classmethod
    def build(
        cls,
        category: str,
        *,
        max_walk_m: float | None = None,
        max_walk_min: float | None = None,
        speed_kmh: float = DEFAULT_SPEED_KMH,
        min_floor_area_m2_per_100_households: float | None = None,
        tier: str | None = None,
        source: str = "",
        clause: str = "",
        label_zh: str | None = None,
        label_en: str | None = None,
        recommended_walk_m: float | None = None,
        also_accepts: Sequence[str] = (),
        note: str = "",
        key: str = "",
    ) -> Rule:
        """Build a rule from a threshold in metres or in minutes (exactly one of them).

        Labels default to the category's labels in :data:`CATEGORIES`.

        Raises
        ------
        InputError
            If both or neither threshold is given, or a value is out of range.
        """
        if (max_walk_m is None) == (max_walk_min is None):
            raise InputError(
                f"rule {category!r}: give exactly one of max_walk_m or max_walk_min "
                f"(got max_walk_m={max_walk_m!r}, max_walk_min={max_walk_min!r})"
            )
        speed = _check_speed(speed_kmh)
        unit: Literal["m", "min"]
        if max_walk_m is not None:
            unit, walk_m = "m", float(max_walk_m)
            walk_min = m_to_minutes(walk_m, speed)
        else:
            assert max_walk_min is not None
            unit, walk_min = "min", float(max_walk_min)
            walk_m = minutes_to_m(walk_min, speed)
        if not math.isfinite(walk_m) or walk_m <= 0:
            raise InputError(f"rule {category!r}: the threshold must be a positive finite number")
        zh, en = CATEGORIES.get(category, (category, category))
        return cls(
            category=category,
            max_walk_m=walk_m,
            max_walk_min=walk_min,
            speed_kmh=speed,
            min_floor_area_m2_per_100_households=(
                None
                if min_floor_area_m2_per_100_households is None
                else float(min_floor_area_m2_per_100_households)
            ),
            tier=tier,
            source=source,
            clause=clause,
            label_zh=label_zh if label_zh is not None else zh,
            label_en=label_en if label_en is not None else en,
            threshold_unit=unit,
            recommended_walk_m=None if recommended_walk_m is None else float(recommended_walk_m),
            also_accepts=tuple(also_accepts),
            note=note,
            key=key,
        )

    @property
    def accepted_categories(self) -> tuple[str, ...]:
        """Categories whose facilities satisfy this rule: ``category`` then ``also_accepts``."""
        return (self.category, *self.also_accepts)

    @property
    def has_floor_area(self) -> bool:
        """True when the rule also sets a minimum floor area per 100 households."""
        return self.min_floor_area_m2_per_100_households is not None

    @property
    def recommended_walk_min(self) -> float | None:
        """``recommended_walk_m`` in minutes at ``speed_kmh``, or None."""
        if self.recommended_walk_m is None:
            return None
        return m_to_minutes(self.recommended_walk_m, self.speed_kmh)

    @property
    def threshold_text(self) -> str:
        """The threshold in words, stated unit first: ``"15 min (1000 m at 4 km/h)"``."""
        metres = (
            f"{self.max_walk_m:.0f} m"
            if self.max_walk_m.is_integer()
            else (f"{self.max_walk_m:.1f} m")
        )
        minutes = f"{self.max_walk_min:.3g} min"
        speed = f"{self.speed_kmh:g} km/h"
        if self.threshold_unit == "min":
            return f"{minutes} ({metres} at {speed})"
        return f"{metres} ({minutes} at {speed})"

    def with_speed(self, speed_kmh: float) -> Rule:
        """Return the rule at another walking speed, keeping the unit the source stated."""
        speed = _check_speed(speed_kmh)
        if self.threshold_unit == "min":
            walk_min = self.max_walk_min
            walk_m = minutes_to_m(walk_min, speed)
        else:
            walk_m = self.max_walk_m
            walk_min = m_to_minutes(walk_m, speed)
        return replace(self, max_walk_m=walk_m, max_walk_min=walk_min, speed_kmh=speed)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for summary.json: every field plus ``threshold_text``."""
        return {
            "key": self.key,
            "category": self.category,
            "accepted_categories": list(self.accepted_categories),
            "tier": self.tier,
            "max_walk_m": self.max_walk_m,
            "max_walk_min": self.max_walk_min,
            "speed_kmh": self.speed_kmh,
            "threshold_unit": self.threshold_unit,
            "threshold_text": self.threshold_text,
            "recommended_walk_m": self.recommended_walk_m,
            "min_floor_area_m2_per_100_households": self.min_floor_area_m2_per_100_households,
            "label_zh": self.label_zh,
            "label_en": self.label_en,
            "source": self.source,
            "clause": self.clause,
            "note": self.note,
        }


@dataclass(frozen=True)
class Standard:
    """A named set of rules, all at one walking speed.

    Attributes
    ----------
    name
        Short name (``"community_service"``, ``"gb50180_5min"``).
    title_zh, title_en
        Titles for reports.
    rules
        The rules, in file order (bases first).
    source
        The documents the standard comes from.
    speed_kmh
        Walking speed of every rule.
    path
        The user TOML file the standard was read from; None for a built-in standard (so
        summaries do not depend on where the package is installed).
    extends
        Names or paths of the standards it builds on.
    notes
        Free text for reports (what is and is not modelled).
    """

    name: str
    title_zh: str
    title_en: str
    rules: tuple[Rule, ...]
    source: str
    speed_kmh: float = DEFAULT_SPEED_KMH
    path: str | None = None
    extends: tuple[str, ...] = ()
    notes: str = ""

    def __post_init__(self) -> None:
        keys = [rule.key for rule in self.rules]
        duplicated = sorted({key for key in keys if keys.count(key) > 1})
        if duplicated:
            raise ValueError(f"standard {self.name!r}: rule keys {duplicated} are not unique")
        speeds = {rule.speed_kmh for rule in self.rules}
        if speeds - {self.speed_kmh}:
            raise ValueError(
                f"standard {self.name!r}: rules use speeds {sorted(speeds)} km/h, "
                f"the standard {self.speed_kmh} km/h"
            )

    @property
    def keys(self) -> tuple[str, ...]:
        """Rule keys in order."""
        return tuple(rule.key for rule in self.rules)

    @property
    def categories(self) -> tuple[str, ...]:
        """Distinct categories the rules ask for, in order of first appearance."""
        return tuple(dict.fromkeys(rule.category for rule in self.rules))

    @property
    def floor_area_rules(self) -> tuple[Rule, ...]:
        """Rules with a minimum floor area per 100 households."""
        return tuple(rule for rule in self.rules if rule.has_floor_area)

    def rule(self, key: str) -> Rule:
        """Return the rule with ``key``.

        Raises
        ------
        KeyError
            If no rule has that key; the message lists the keys.
        """
        for candidate in self.rules:
            if candidate.key == key:
                return candidate
        raise KeyError(f"standard {self.name!r} has no rule {key!r}; rules: {list(self.keys)}")

    def with_speed(self, speed_kmh: float) -> Standard:
        """Return the standard with every rule at another walking speed."""
        speed = _check_speed(speed_kmh)
        rules = tuple(rule.with_speed(speed) for rule in self.rules)
        return replace(self, rules=rules, speed_kmh=speed)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for summary.json."""
        return {
            "name": self.name,
            "title_zh": self.title_zh,
            "title_en": self.title_en,
            "source": self.source,
            "speed_kmh": self.speed_kmh,
            "path": self.path,
            "extends": list(self.extends),
            "notes": self.notes,
            "rules": [rule.to_dict() for rule in self.rules],
        }
