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
from planner.standards.categories import CATEGORIES, subcategories

__all__ = [
    "COMMUNITY_FALLBACK_WALK_MIN",
    "PER_VALUES",
    "TIERS",
    "Rule",
    "Standard",
    "Targets",
    "m_to_minutes",
    "minutes_to_m",
]

#: Life-circle tiers of GB 50180-2018, shortest first.
TIERS: tuple[str, ...] = ("5min", "10min", "15min")

# --------------------------------------------------------------------------------------------
# Minutes <-> metres: the one place
# --------------------------------------------------------------------------------------------


_WALK_ZH = {"time": "时间", "distance": "距离", "minutes": "分钟", "metres": "米"}


def _zh(what: str) -> str:
    """A rule's name in a Chinese message: ``rule 'health'`` -> ``规则 'health'``."""
    return "规则 " + what[5:] if what.startswith("rule ") else what


def _check_speed(speed_kmh: object) -> float:
    if isinstance(speed_kmh, bool) or not isinstance(speed_kmh, int | float | np.floating):
        raise InputError(
            f"walking speed {speed_kmh!r} is not a number; give km/h, e.g. 4.0",
            zh=f"步行速度 {speed_kmh!r} 不是数字；请以 km/h 给出，例如 4.0",
        )
    speed = float(speed_kmh)
    if not math.isfinite(speed) or speed <= 0:
        raise InputError(
            f"walking speed {speed_kmh!r} km/h must be a positive finite number",
            zh=f"步行速度 {speed_kmh!r} km/h 必须是正的有限数",
        )
    return speed


def _convert_walk(value: Any, speed_kmh: float, *, to_m: bool) -> Any:
    """Minutes to metres (``to_m``) or metres to minutes at ``speed_kmh``; a float for a scalar."""
    speed = _check_speed(speed_kmh)
    values = np.asarray(value, dtype=float)
    if np.any(values < 0):
        what, unit, give = ("time", "min", "minutes") if to_m else ("distance", "m", "metres")
        raise InputError(
            f"walking {what} {value!r} {unit} is negative; give {give} >= 0",
            zh=f"步行{_WALK_ZH[what]} {value!r} {unit} 为负；请给出 >= 0 的{_WALK_ZH[give]}数",
        )
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


#: What a rule is measured over (:attr:`Rule.per`).
PER_VALUES: tuple[str, ...] = ("residence", "community", "catchment")
Per = Literal["residence", "community", "catchment"]

#: The walk of a per-community rule's catchment fallback view when the rule gives none (used
#: only when no communities layer is given): the 15-minute life circle.
COMMUNITY_FALLBACK_WALK_MIN = 15.0


def _is_number(value: object) -> bool:
    return isinstance(value, int | float | np.floating) and not isinstance(value, bool)


def _optional_positive(value: object, what: str, key: str) -> float | None:
    """``value`` as a positive finite float, or None; an InputError naming ``key`` otherwise."""
    if value is None:
        return None
    if not _is_number(value) or not math.isfinite(float(value)) or float(value) <= 0:  # type: ignore[arg-type]
        raise InputError(
            f"{what}: key {key!r} is {value!r}; it must be a positive number",
            zh=f"{_zh(what)}：键 {key!r} 为 {value!r}；必须是正数",
        )
    return float(value)  # type: ignore[arg-type]


def _share(value: object, what: str, key: str, *, open_zero: bool) -> float:
    """``value`` as a float in (0, 1] (``open_zero``) or [0, 1]; an InputError otherwise."""
    ok = _is_number(value) and math.isfinite(float(value))  # type: ignore[arg-type]
    if ok:
        number = float(value)  # type: ignore[arg-type]
        ok = (0 < number <= 1) if open_zero else (0 <= number <= 1)
    if not ok:
        interval = "0 < x <= 1" if open_zero else "0 <= x <= 1"
        raise InputError(
            f"{what}: key {key!r} is {value!r}; give a share as a number with {interval} "
            "(1.0 is every household)",
            zh=f"{_zh(what)}：键 {key!r} 为 {value!r}；请给出 {interval} 的比例（1.0 为全部住户）",
        )
    return float(value)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Rule:
    """One requirement of a standard, and what it is measured over.

    A rule asks that households reach a facility of ``category`` within a walking threshold
    (``per="residence"``), or that the category's facilities supply a floor area per 100
    households of each community (``per="community"``), or both over a walking catchment
    (``per="catchment"``, the two-step floating catchment view). Build rules with
    :meth:`Rule.build`, which derives what is not stated. Direct construction checks that metres
    and minutes agree at ``speed_kmh`` and that the fields fit together.

    Attributes
    ----------
    category
        Facility category (snake_case) the rule asks for.
    max_walk_m
        Check threshold in metres: covered when walk distance <= ``max_walk_m``. For a
        ``per="community"`` rule it is the walk of the catchment fallback view only.
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
        A lower walk a source recommends, for reporting only (no built-in rule sets it: GB
        50180's 800-1000 m is a range, not a recommendation); the check uses ``max_walk_m``.
    also_accepts
        Further categories whose facilities satisfy the rule (GB 50180's 菜市场或生鲜超市:
        a ``market`` or a ``fresh_supermarket``). A plain ``supermarket`` counts only where a
        rule lists it.
    note
        Free text shown in reports.
    key
        Unique name of the rule within its standard, used in output column names.
    per
        What the rule is measured over: ``"residence"`` (walk coverage of each residence; no
        floor area), ``"community"`` (floor area per community; no coverage verdict) or
        ``"catchment"`` (coverage, and floor area over the walking catchment). A rule has a
        floor area exactly when ``per`` is ``"community"`` or ``"catchment"``.
    walk_given
        False when a ``per="community"`` rule gave no walk and got
        :data:`COMMUNITY_FALLBACK_WALK_MIN` (15 min) for its catchment fallback view.
    min_coverage_rate
        Share of a community's households that must be within the walk for the community to
        pass the rule (0 < x <= 1; default 1.0, every household).
    min_floor_area_m2
        Minimum floor area per community in m² (Sichuan 2021: 600 / 500 / 300 m²), on top of the
        per-100-households figure; only with a floor area.
    min_facility_floor_area_m2
        A facility of the category smaller than this does not satisfy the rule
        (:meth:`accepts_facility`; the 2024 guideline's embedded complex: 600 m²).
    preferred_facility_floor_area_m2
        The size a source prefers per facility (2024 guideline: 800 m²); reported, not enforced.
    target_m2_per_100_households
        A higher floor area a source sets as a goal (2024 guideline: 80 m² "where conditions
        allow"); reported, not enforced.
    verified
        True when the rule's figures were checked against published text (``quote``), False when
        some are not, None when nobody said (user rules without the key).
    quote
        The source's own words for the rule (or a marked paraphrase where only that was read).
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
    per: Per = "residence"
    walk_given: bool = True
    min_coverage_rate: float = 1.0
    min_floor_area_m2: float | None = None
    min_facility_floor_area_m2: float | None = None
    preferred_facility_floor_area_m2: float | None = None
    target_m2_per_100_households: float | None = None
    verified: bool | None = None
    quote: str = ""

    def __post_init__(self) -> None:
        speed = _check_speed(self.speed_kmh)
        what = f"rule {self.key or self.category!r}"
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
        self._check_parts(what)
        if not self.key:
            object.__setattr__(self, "key", self.category)

    def _check_parts(self, what: str) -> None:
        """The new fields fit together; an InputError naming the key otherwise."""
        if self.per not in PER_VALUES:
            raise InputError(
                f"{what}: key 'per' is {self.per!r}; use one of {', '.join(PER_VALUES)}",
                zh=f"{_zh(what)}：键 'per' 为 {self.per!r}；请用 {'、'.join(PER_VALUES)} 之一",
            )
        has_area = self.min_floor_area_m2_per_100_households is not None
        if self.per == "community" and not has_area:
            raise InputError(
                f"{what}: key 'per' is 'community' but the rule has no "
                "min_floor_area_m2_per_100_households; a per-community rule is a floor-area rule",
                zh=f"{_zh(what)}：键 'per' 为 'community'，"
                "但规则没有 min_floor_area_m2_per_100_households；"
                ""
                ""
                ""
                "按社区的规则是建筑面积规则",
            )
        if self.per == "residence" and has_area:
            raise InputError(
                f"{what}: key 'per' is 'residence' (walk coverage only) but the rule sets "
                "min_floor_area_m2_per_100_households; use per = 'community' (floor area per "
                "community) or per = 'catchment' (floor area over the walk)",
                zh=f"{_zh(what)}：键 'per' 为 'residence'（只看步行覆盖），"
                "但规则设定了 min_floor_area_m2_per_100_households；请用 per = 'community'"
                "（按社区计建筑面积）或 per = 'catchment'（在步行范围内计建筑面积）",
            )
        if self.per == "catchment" and not has_area:
            raise InputError(
                f"{what}: key 'per' is 'catchment' (floor area over the walk) but the rule has "
                "no min_floor_area_m2_per_100_households; give one, or use per = 'residence'",
                zh=f"{_zh(what)}：键 'per' 为 'catchment'（在步行范围内计建筑面积），"
                "但规则没有 min_floor_area_m2_per_100_households；请补上，或用 per = 'residence'",
            )
        if not self.walk_given and self.per != "community":
            raise InputError(
                f"{what}: only a per = 'community' rule may leave out the walk",
                zh=f"{_zh(what)}：只有 per = 'community' 的规则可以不给步行距离",
            )
        _share(self.min_coverage_rate, what, "min_coverage_rate", open_zero=True)
        for key in (
            "min_floor_area_m2_per_100_households",
            "min_floor_area_m2",
            "min_facility_floor_area_m2",
            "preferred_facility_floor_area_m2",
            "target_m2_per_100_households",
            "recommended_walk_m",
        ):
            _optional_positive(getattr(self, key), what, key)
        if self.min_floor_area_m2 is not None and not has_area:
            raise InputError(
                f"{what}: key 'min_floor_area_m2' (floor area per community) needs "
                "min_floor_area_m2_per_100_households; the rule has no floor-area part",
                zh=f"{_zh(what)}：键 'min_floor_area_m2'"
                "（每个社区的建筑面积）需要 min_floor_area_m2_per_100_households；"
                "该规则没有建筑面积部分",
            )
        if self.target_m2_per_100_households is not None:
            if not has_area:
                raise InputError(
                    f"{what}: key 'target_m2_per_100_households' needs "
                    "min_floor_area_m2_per_100_households; the rule has no floor-area part",
                    zh=f"{_zh(what)}："
                    "键 'target_m2_per_100_households' 需要 min_floor_area_m2_per_100_households；"
                    "该规则没有建筑面积部分",
                )
            assert self.min_floor_area_m2_per_100_households is not None
            if self.target_m2_per_100_households < self.min_floor_area_m2_per_100_households:
                raise InputError(
                    f"{what}: key 'target_m2_per_100_households' "
                    f"({self.target_m2_per_100_households:g}) is below the minimum "
                    f"({self.min_floor_area_m2_per_100_households:g}); a target is higher",
                    zh=f"{_zh(what)}：键 'target_m2_per_100_households'"
                    f"（{self.target_m2_per_100_households:g}）低于最低值（{self.min_floor_area_m2_per_100_households:g}）；目标值应更高",
                )
        low, high = self.min_facility_floor_area_m2, self.preferred_facility_floor_area_m2
        if low is not None and high is not None and high < low:
            raise InputError(
                f"{what}: key 'preferred_facility_floor_area_m2' ({high:g}) is below "
                f"min_facility_floor_area_m2 ({low:g}); the preferred size is the larger one",
                zh=f"{_zh(what)}：键 'preferred_facility_floor_area_m2'"
                f"（{high:g}）小于 min_facility_floor_area_m2（{low:g}）；推荐规模应是较大的那个",
            )
        if self.verified is not None and not isinstance(self.verified, bool):
            raise InputError(
                f"{what}: key 'verified' is {self.verified!r}; give true or false",
                zh=f"{_zh(what)}：键 'verified' 为 {self.verified!r}；请给出 true 或 false",
            )

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
        per: str | None = None,
        min_coverage_rate: float = 1.0,
        min_floor_area_m2: float | None = None,
        min_facility_floor_area_m2: float | None = None,
        preferred_facility_floor_area_m2: float | None = None,
        target_m2_per_100_households: float | None = None,
        verified: bool | None = None,
        quote: str = "",
    ) -> Rule:
        """Build a rule from a threshold in metres or in minutes (exactly one of them).

        ``per`` defaults to ``"residence"`` without a floor area, to ``"catchment"`` with a
        floor area and a walk (the combined rule of earlier versions), and to ``"community"``
        with a floor area and no walk. A ``per="community"`` rule may leave out the walk: it
        gets :data:`COMMUNITY_FALLBACK_WALK_MIN` (15 min) for its catchment fallback view and
        ``walk_given=False``. Labels default to the category's labels in :data:`CATEGORIES`.

        Raises
        ------
        InputError
            If both thresholds are given, or neither on a rule that needs one, or a value is out
            of range or does not fit the rule's ``per``.
        """
        has_area = min_floor_area_m2_per_100_households is not None
        walk_given = max_walk_m is not None or max_walk_min is not None
        if per is None:
            per = "residence" if not has_area else ("catchment" if walk_given else "community")
        if per not in PER_VALUES:
            raise InputError(
                f"rule {key or category!r}: key 'per' is {per!r}; use one of "
                f"{', '.join(PER_VALUES)}",
                zh=f"规则 {key or category!r}：键 'per' 为 {per!r}；"
                f"请用 {'、'.join(PER_VALUES)} 之一",
            )
        if max_walk_m is not None and max_walk_min is not None:
            raise InputError(
                f"rule {category!r}: give exactly one of max_walk_m or max_walk_min "
                f"(got max_walk_m={max_walk_m!r}, max_walk_min={max_walk_min!r})",
                zh=f"规则 {category!r}：max_walk_m 和 max_walk_min 只能给一个"
                f"（现为 max_walk_m={max_walk_m!r}，"
                ""
                ""
                ""
                f"max_walk_min={max_walk_min!r}）",
            )
        if not walk_given:
            if per != "community":
                raise InputError(
                    f"rule {category!r}: give exactly one of max_walk_m or max_walk_min "
                    "(only a per = 'community' floor-area rule may leave the walk out)",
                    zh=f"规则 {category!r}：max_walk_m 和 max_walk_min 须给且只给一个"
                    "（只有 per = 'community' 的建筑面积规则可以不给步行距离）",
                )
            max_walk_min = COMMUNITY_FALLBACK_WALK_MIN
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
            raise InputError(
                f"rule {category!r}: the threshold must be a positive finite number",
                zh=f"规则 {category!r}：阈值必须是正的有限数",
            )
        zh, en = CATEGORIES.get(category, (category, category))
        what = f"rule {key or category!r}"
        return cls(
            category=category,
            max_walk_m=walk_m,
            max_walk_min=walk_min,
            speed_kmh=speed,
            min_floor_area_m2_per_100_households=_optional_positive(
                min_floor_area_m2_per_100_households, what, "min_floor_area_m2_per_100_households"
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
            per=per,  # type: ignore[arg-type]
            walk_given=walk_given,
            min_coverage_rate=_share(min_coverage_rate, what, "min_coverage_rate", open_zero=True),
            min_floor_area_m2=_optional_positive(min_floor_area_m2, what, "min_floor_area_m2"),
            min_facility_floor_area_m2=_optional_positive(
                min_facility_floor_area_m2, what, "min_facility_floor_area_m2"
            ),
            preferred_facility_floor_area_m2=_optional_positive(
                preferred_facility_floor_area_m2, what, "preferred_facility_floor_area_m2"
            ),
            target_m2_per_100_households=_optional_positive(
                target_m2_per_100_households, what, "target_m2_per_100_households"
            ),
            verified=verified,
            quote=quote,
        )

    @property
    def accepted_categories(self) -> tuple[str, ...]:
        """Categories whose facilities satisfy this rule.

        ``category``, its sub-categories (:data:`~planner.standards.categories.CATEGORY_PARENTS`:
        a ``health`` rule accepts a ``health_station``), then ``also_accepts`` and theirs. A rule
        asking for a sub-category does not accept the generic category: a facility labelled
        ``elderly_care`` (tier unknown) does not satisfy a rule for ``elderly_care_home``.
        """
        out: list[str] = []
        for code in (self.category, *self.also_accepts):
            out.extend((code, *subcategories(code)))
        return tuple(dict.fromkeys(out))

    def accepts_facility(self, category: object, floor_area_m2: object = None) -> bool:
        """Whether one facility satisfies this rule: its category, and its size if one is set.

        Parameters
        ----------
        category
            The facility's category code (normalised).
        floor_area_m2
            Its floor area in m², or None / NaN when unknown.

        Returns
        -------
        bool
            True when ``category`` is in :attr:`accepted_categories` and, if the rule sets
            :attr:`min_facility_floor_area_m2`, the floor area is known and at least that (a
            facility of unknown size cannot be shown to meet a size minimum).
        """
        if not isinstance(category, str) or category not in self.accepted_categories:
            return False
        if self.min_facility_floor_area_m2 is None:
            return True
        if not _is_number(floor_area_m2) or not math.isfinite(float(floor_area_m2)):  # type: ignore[arg-type]
            return False
        return float(floor_area_m2) >= self.min_facility_floor_area_m2  # type: ignore[arg-type]

    def accepts_facilities(
        self, categories: npt.ArrayLike, floor_areas_m2: npt.ArrayLike | None = None
    ) -> npt.NDArray[np.bool_]:
        """:meth:`accepts_facility` for arrays of categories and floor areas (NaN = unknown)."""
        cats = np.asarray(categories, dtype=object)
        accepted = np.isin(cats, list(self.accepted_categories))
        if self.min_facility_floor_area_m2 is None:
            return accepted
        if floor_areas_m2 is None:
            return np.zeros(cats.shape, dtype=bool)
        areas = np.asarray(floor_areas_m2, dtype=float)
        with np.errstate(invalid="ignore"):
            big_enough = np.isfinite(areas) & (areas >= self.min_facility_floor_area_m2)
        out: npt.NDArray[np.bool_] = accepted & big_enough
        return out

    @property
    def has_floor_area(self) -> bool:
        """True when the rule also sets a minimum floor area per 100 households."""
        return self.min_floor_area_m2_per_100_households is not None

    @property
    def checks_coverage(self) -> bool:
        """True when the rule gives a walk coverage verdict (every ``per`` but ``"community"``)."""
        return self.per != "community"

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
            "per": self.per,
            "checks_coverage": self.checks_coverage,
            "walk_given": self.walk_given,
            "min_coverage_rate": self.min_coverage_rate,
            "min_floor_area_m2": self.min_floor_area_m2,
            "min_facility_floor_area_m2": self.min_facility_floor_area_m2,
            "preferred_facility_floor_area_m2": self.preferred_facility_floor_area_m2,
            "target_m2_per_100_households": self.target_m2_per_100_households,
            "verified": self.verified,
            "quote": self.quote,
        }


@dataclass(frozen=True)
class Targets:
    """Programme targets a review is held to, beyond each rule's own verdict.

    Read from a standard's ``[targets]`` table (and overridable per review). Chengdu's
    sub-district targets, e.g. 金牛区 (2017): "每个街道有2个以上社区建成…社区发展治理典型示范".

    Attributes
    ----------
    min_coverage_rate
        Overrides every coverage rule's :attr:`Rule.min_coverage_rate` for a review, or None.
    compliant_per_subdistrict
        Compliant communities each sub-district (街道) must have, or None.
    compliant_share
        Share of compliant communities each sub-district / district must reach, or None.
    source, quote
        Where the targets come from, and its words; ``""`` when not given.
    verified
        Whether the targets were checked against published text (None: not said).
    note
        Free text for reports.
    """

    min_coverage_rate: float | None = None
    compliant_per_subdistrict: int | None = None
    compliant_share: float | None = None
    source: str = ""
    quote: str = ""
    verified: bool | None = None
    note: str = ""

    def __post_init__(self) -> None:
        for key in ("min_coverage_rate", "compliant_share"):
            value = getattr(self, key)
            if value is None:
                continue
            if not _is_number(value) or not (0 <= float(value) <= 1):
                raise InputError(
                    f"[targets] {key} is {value!r}; give a number from 0 to 1 (a share, e.g. 0.9)",
                    zh=f"[targets] {key} 为 {value!r}；请给出 0 到 1 之间的数（比例，例如 0.9）",
                )
            object.__setattr__(self, key, float(value))
        count = self.compliant_per_subdistrict
        if count is not None and (
            isinstance(count, bool) or not isinstance(count, int | np.integer) or count < 0
        ):
            raise InputError(
                f"[targets] compliant_per_subdistrict is {count!r}; give a whole number >= 0 "
                "(compliant communities per sub-district, e.g. 2)",
                zh=f"[targets] compliant_per_subdistrict 为 {count!r}；请给出 >= 0 的整数"
                "（每个街道的达标社区数，"
                ""
                ""
                ""
                "例如 2）",
            )
        if count is not None:
            object.__setattr__(self, "compliant_per_subdistrict", int(count))
        for key in ("source", "quote", "note"):
            if not isinstance(getattr(self, key), str):
                raise InputError(
                    f"[targets] {key} must be text, not {getattr(self, key)!r}",
                    zh=f"[targets] {key} 必须是文本，而不是 {getattr(self, key)!r}",
                )
        if self.verified is not None and not isinstance(self.verified, bool):
            raise InputError(
                f"[targets] verified is {self.verified!r}; give true or false",
                zh=f"[targets] verified 为 {self.verified!r}；请给出 true 或 false",
            )

    @property
    def any(self) -> bool:
        """True when a roll-up target (per sub-district count or share) is set."""
        return self.compliant_per_subdistrict is not None or self.compliant_share is not None

    def to_dict(self) -> dict[str, Any]:
        """Plain data for summary.json."""
        return {
            "min_coverage_rate": self.min_coverage_rate,
            "compliant_per_subdistrict": self.compliant_per_subdistrict,
            "compliant_share": self.compliant_share,
            "source": self.source,
            "quote": self.quote,
            "verified": self.verified,
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
    targets
        Programme targets (the ``[targets]`` table); :class:`Targets` with nothing set when the
        file has none.
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
    targets: Targets = Targets()

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

    @property
    def coverage_rules(self) -> tuple[Rule, ...]:
        """Rules that give a walk coverage verdict (:attr:`Rule.checks_coverage`)."""
        return tuple(rule for rule in self.rules if rule.checks_coverage)

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
            "targets": self.targets.to_dict(),
            "rules": [rule.to_dict() for rule in self.rules],
        }
