"""The catalogue of planning standards, their rules, and the facility category vocabulary.

A *standard* is a named set of *rules*. A rule says: every household must reach a facility of
one category within a walking threshold, and (optionally) the facilities of that category must
supply at least so many m² of floor area per 100 households. Standards ship as TOML files in
``planner/standards/``; users add or override rules with their own TOML file.

Thresholds
----------
A threshold is written in TOML either as ``max_walk_m`` (metres) or as ``max_walk_min`` (minutes
at the standard's walking speed, default 4.0 km/h, so 15 min = 1000 m). Both numbers and the
speed are kept on every :class:`Rule` so reports can give them side by side. The conversion lives
in one place: :func:`minutes_to_m` and :func:`m_to_minutes`. A rule remembers which unit the
standard stated (``threshold_unit``): when the speed changes, the stated number stays and the
other one is derived again (15 min stays 15 min and becomes 1250 m at 5 km/h; GB 50180's 300 m
stays 300 m and becomes 3.6 min at 5 km/h).

Tiers
-----
GB 50180-2018 has three life-circle tiers, each with its own walking distance (table 3.0.4) and
its own facility list (appendix B). Tiers are checked separately: every rule belongs to one tier
and carries that tier's threshold, so a category listed in two tiers (``sports`` in all three,
``elderly_care`` in the 15- and 5-minute tiers) is two or three rules, each with its own
threshold. Checks match facilities to a rule by category (:attr:`Rule.accepted_categories`); the
tier separation is that each tier's rule has its own distance. In the standard's explanatory
notes the tiers are "not inclusive": an upper tier's facilities do not stand in for a lower
tier's, which is why a 15-minute sports centre 900 m away does not satisfy the 5-minute rule
(300 m) for small sports grounds. When one category appears in several rules of a standard, each
rule's :attr:`Rule.key` is ``<category>_<tier>`` (``sports_5min``); otherwise it is the category.

User files
----------
A user TOML file either stands alone or names a base with ``extends = "community_service"``
(or a list of bases, or a path to another TOML file). Its ``[[rules]]`` then replace the base
rules of the same category (and tier, when the user rule gives one) *completely*, or are added
when the base has no such rule. A replaced rule keeps its tier if the user rule does not state
one. Example::

    extends = "community_service"
    name = "chengdu_review"

    [[rules]]
    category = "community_service"
    max_walk_min = 15
    min_floor_area_m2_per_100_households = 30
    source = "Chengdu review brief 2025"

    [[rules]]
    category = "elderly_care"
    max_walk_m = 500
    source = "district plan"
"""

from __future__ import annotations

import logging
import math
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal, overload

import numpy as np
import numpy.typing as npt

from planner.errors import InputError
from planner.schema import DEFAULT_SPEED_KMH, DEFAULT_STANDARD

log = logging.getLogger(__name__)

__all__ = [
    "CATEGORIES",
    "DEFAULT_SPEED_KMH",
    "DEFAULT_STANDARD",
    "OSM_NAME_HINTS",
    "OSM_TAG_CATEGORIES",
    "TIERS",
    "Rule",
    "Standard",
    "category_from_osm_tags",
    "is_known_category",
    "list_standards",
    "load_standard",
    "m_to_minutes",
    "minutes_to_m",
    "normalise_category",
]

#: Life-circle tiers of GB 50180-2018, shortest first.
TIERS: tuple[str, ...] = ("5min", "10min", "15min")

_STANDARDS_DIR = Path(__file__).with_name("standards")

# --------------------------------------------------------------------------------------------
# Category vocabulary
# --------------------------------------------------------------------------------------------

#: The facility category vocabulary: snake_case code -> (Chinese label, English label).
CATEGORIES: dict[str, tuple[str, str]] = {
    "community_service": ("社区服务", "Community service"),
    "health": ("医疗卫生", "Health care"),
    "elderly_care": ("养老服务", "Elderly care"),
    "daycare": ("托育（托儿所）", "Nursery / childcare"),
    "kindergarten": ("幼儿园", "Kindergarten"),
    "primary_school": ("小学", "Primary school"),
    "middle_school": ("中学", "Middle school"),
    "market": ("菜市场", "Food market"),
    "supermarket": ("超市", "Supermarket"),
    "convenience": ("便利店", "Convenience store"),
    "mall": ("商场", "Shopping centre"),
    "culture": ("文化活动", "Culture"),
    "sports": ("体育运动场地", "Sports ground"),
    "outdoor_fitness": ("室外健身场地", "Outdoor fitness"),
    "park": ("公园绿地", "Park"),
    "pharmacy": ("药店", "Pharmacy"),
    "post": ("邮政", "Post office"),
    "bank": ("银行", "Bank"),
    "police": ("派出所", "Police"),
}

_ZH_LABEL_TO_CATEGORY = {zh: code for code, (zh, _en) in CATEGORIES.items()}
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_NON_WORD = re.compile(r"[\s\-/.,;:()]+")
_SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")


def normalise_category(value: object) -> str:
    """Return a category value in the vocabulary's snake_case form.

    ``"Community Service"``, ``"community-service"`` and ``"CommunityService"`` all become
    ``"community_service"``; a Chinese label of :data:`CATEGORIES` (``"幼儿园"``) becomes its
    code (``"kindergarten"``). Values outside the vocabulary are normalised the same way and
    returned; use :func:`is_known_category` to ask whether they are known.

    Parameters
    ----------
    value
        A category as read from a column or a TOML file.

    Returns
    -------
    str
        The snake_case category.

    Raises
    ------
    InputError
        If ``value`` is not a string or is empty after stripping.
    """
    if not isinstance(value, str):
        raise InputError(
            f"category value {value!r} is not text; give a category such as 'community_service' "
            f"(known: {', '.join(CATEGORIES)})"
        )
    text = value.strip()
    if not text:
        raise InputError("category value is empty; give a category such as 'community_service'")
    if text in _ZH_LABEL_TO_CATEGORY:
        return _ZH_LABEL_TO_CATEGORY[text]
    text = _CAMEL_BOUNDARY.sub("_", text)
    text = _NON_WORD.sub("_", text).lower()
    text = re.sub(r"_+", "_", text).strip("_")
    if not text:
        raise InputError(f"category value {value!r} has no letters; give a category code")
    return text


def is_known_category(value: str) -> bool:
    """Return True when ``value`` (already normalised) is in :data:`CATEGORIES`."""
    return value in CATEGORIES


# --------------------------------------------------------------------------------------------
# OSM tags -> category
# --------------------------------------------------------------------------------------------

#: OSM ``(key, value)`` -> category. ``"*"`` as value means any value not listed separately.
#: Some entries are refined by :func:`category_from_osm_tags` (see its docstring):
#: ``amenity=school`` (primary or middle school), ``amenity=social_facility`` (elderly care for
#: seniors), ``amenity=community_centre`` (name hints), ``healthcare=*`` (a few non-clinical
#: values excluded).
OSM_TAG_CATEGORIES: dict[tuple[str, str], str] = {
    ("amenity", "kindergarten"): "kindergarten",
    ("amenity", "childcare"): "daycare",
    ("amenity", "school"): "primary_school",
    ("amenity", "clinic"): "health",
    ("amenity", "doctors"): "health",
    ("amenity", "hospital"): "health",
    ("amenity", "pharmacy"): "pharmacy",
    ("amenity", "nursing_home"): "elderly_care",
    ("amenity", "social_facility"): "community_service",
    ("amenity", "community_centre"): "community_service",
    ("amenity", "social_centre"): "community_service",
    ("amenity", "marketplace"): "market",
    ("amenity", "library"): "culture",
    ("amenity", "arts_centre"): "culture",
    ("amenity", "theatre"): "culture",
    ("amenity", "post_office"): "post",
    ("amenity", "bank"): "bank",
    ("amenity", "police"): "police",
    ("healthcare", "pharmacy"): "pharmacy",
    ("healthcare", "*"): "health",
    ("shop", "supermarket"): "supermarket",
    ("shop", "convenience"): "convenience",
    ("shop", "greengrocer"): "convenience",
    ("shop", "mall"): "mall",
    ("shop", "department_store"): "mall",
    ("leisure", "sports_centre"): "sports",
    ("leisure", "sports_hall"): "sports",
    ("leisure", "pitch"): "sports",
    ("leisure", "stadium"): "sports",
    ("leisure", "track"): "sports",
    ("leisure", "fitness_centre"): "sports",
    ("leisure", "fitness_station"): "outdoor_fitness",
    ("leisure", "park"): "park",
    ("building", "kindergarten"): "kindergarten",
    ("building", "school"): "primary_school",
    ("building", "hospital"): "health",
}

#: ``healthcare=*`` values that are not community health care (no category).
_HEALTHCARE_EXCLUDED = frozenset(
    {
        "dentist",
        "optometrist",
        "audiologist",
        "laboratory",
        "blood_donation",
        "sample_collection",
        "alternative",
        "podiatrist",
        "no",
    }
)

#: Name hints, (substring, category). Chinese names name their type at the end ("XX小学",
#: "XX社区居委会"), so when several hints occur in one name the one ending last wins (ties: the
#: longer hint). English hints are matched case-insensitively. "市场" alone counts only at the
#: end of a name (so 市场监督管理局, the market regulation bureau, is not a market).
OSM_NAME_HINTS: tuple[tuple[str, str], ...] = (
    ("社区服务中心", "community_service"),
    ("社区服务站", "community_service"),
    ("社区综合服务", "community_service"),
    ("社区中心", "community_service"),
    ("党群服务中心", "community_service"),
    ("居委会", "community_service"),
    ("居民委员会", "community_service"),
    ("卫生服务中心", "health"),
    ("卫生服务站", "health"),
    ("卫生站", "health"),
    ("卫生院", "health"),
    ("卫生室", "health"),
    ("社区医院", "health"),
    ("医院", "health"),
    ("诊所", "health"),
    ("门诊", "health"),
    ("养老", "elderly_care"),
    ("敬老", "elderly_care"),
    ("老年", "elderly_care"),
    ("托老", "elderly_care"),
    ("日间照料", "elderly_care"),
    ("幼儿园", "kindergarten"),
    ("托儿所", "daycare"),
    ("托育", "daycare"),
    ("小学", "primary_school"),
    ("中学", "middle_school"),
    ("初中", "middle_school"),
    ("高中", "middle_school"),
    ("菜市场", "market"),
    ("农贸市场", "market"),
    ("集贸市场", "market"),
    ("菜场", "market"),
    ("超市", "supermarket"),
    ("文化站", "culture"),
    ("文化中心", "culture"),
    ("文化活动", "culture"),
    ("文化馆", "culture"),
    ("图书馆", "culture"),
    ("体育馆", "sports"),
    ("体育场", "sports"),
    ("体育中心", "sports"),
    ("运动场", "sports"),
    ("全民健身", "sports"),
    ("邮局", "post"),
    ("邮政", "post"),
    ("银行", "bank"),
    ("派出所", "police"),
    ("警务室", "police"),
    ("药店", "pharmacy"),
    ("药房", "pharmacy"),
)

#: Name hints that refine ``amenity=school``. ``""`` marks names of higher education (a
#: university or college department is not a community facility: no category).
_SCHOOL_NAME_HINTS: tuple[tuple[str, str], ...] = (
    ("幼儿园", "kindergarten"),
    ("小学", "primary_school"),
    ("附小", "primary_school"),
    ("中学", "middle_school"),
    ("附中", "middle_school"),
    ("初中", "middle_school"),
    ("高中", "middle_school"),
    ("大学", ""),
    ("学院", ""),
    ("primary", "primary_school"),
    ("elementary", "primary_school"),
    ("ala-aste", "primary_school"),
    ("middle school", "middle_school"),
    ("high school", "middle_school"),
    ("secondary", "middle_school"),
    ("yläaste", "middle_school"),
    ("lukio", "middle_school"),
    ("university", ""),
    ("högskola", ""),
    ("yliopisto", ""),
    ("korkeakoulu", ""),
)

#: Names of outdoor exercise equipment sometimes tagged leisure=fitness_centre.
_OUTDOOR_FITNESS_HINTS: tuple[tuple[str, str], ...] = (
    ("健身器材", "outdoor_fitness"),
    ("健身路径", "outdoor_fitness"),
    ("室外健身", "outdoor_fitness"),
)

_COMMUNITY_CENTRE_HINT_CATEGORIES = frozenset({"community_service", "elderly_care", "culture"})
_NAME_KEYS = ("name", "name:zh", "name:zh-Hans", "official_name", "name:en")
#: With none of these keys (or amenity=townhall/public_building), name hints decide.
_FEATURE_KEYS = ("amenity", "healthcare", "shop", "leisure")
_NAME_ONLY_AMENITIES = frozenset({"townhall", "public_building"})


def _tag(tags: Mapping[str, Any], key: str) -> str | None:
    """The first value of an OSM tag ("a;b" -> "a"), or None when missing, blank or NaN."""
    value = tags.get(key)
    if not isinstance(value, str):
        return None
    value = value.split(";")[0].strip()
    return value or None


def _names(tags: Mapping[str, Any]) -> list[str]:
    return [name for key in _NAME_KEYS if (name := _tag(tags, key)) is not None]


def _hint_in_names(
    names: Sequence[str], hints: Iterable[tuple[str, str]], *, allowed: frozenset[str] | None = None
) -> str | None:
    """The category of the hint that ends last in the first name with any hint."""
    hints = tuple(hints)
    for name in names:
        lowered = name.lower()
        best: tuple[int, int, str] | None = None
        for hint, category in hints:
            if allowed is not None and category not in allowed:
                continue
            position = lowered.rfind(hint.lower())
            if position >= 0:
                candidate = (position + len(hint), len(hint), category)
                if best is None or candidate[:2] > best[:2]:
                    best = candidate
        if (allowed is None or "market" in allowed) and name.endswith("市场"):
            candidate = (len(name), 2, "market")
            if best is None or candidate[:2] > best[:2]:
                best = candidate
        if best is not None:
            return best[2]
    return None


def _school_category(tags: Mapping[str, Any]) -> str | None:
    by_name = _hint_in_names(_names(tags), _SCHOOL_NAME_HINTS)
    if by_name is not None:
        return by_name or None
    isced = tags.get("isced:level")
    if isinstance(isced, str):
        levels = {int(x) for x in re.findall(r"\d", isced)}
        if levels == {0}:
            return "kindergarten"
        if levels:
            lowest = min(levels - {0} or levels)
            if lowest <= 1:
                return "primary_school"
            return "middle_school" if lowest <= 3 else None
    return "primary_school"


def category_from_osm_tags(tags: Mapping[str, Any]) -> str | None:
    """Return the facility category of an OSM feature from its tags, or None.

    The mapping (first rule that applies wins; keys are tried in the order amenity,
    healthcare, shop, leisure, building, then names):

    ==========================================================  ====================
    OSM tags                                                    category
    ==========================================================  ====================
    amenity=kindergarten                                         kindergarten
    amenity=childcare                                            daycare
    amenity=school (and building=school), by name (the hint
    ending last wins):
      幼儿园                                                     kindergarten
      小学, 附小, primary, elementary, ala-aste                  primary_school
      中学, 附中, 初中, 高中, middle school, high school,        middle_school
      secondary, yläaste, lukio
      大学, 学院, university, högskola, yliopisto, korkeakoulu   none (higher education)
    amenity=school without a name hint, by isced:level:
      only 0 / lowest 1 / lowest 2-3 / lowest 4+                 kindergarten /
                                                                 primary_school /
                                                                 middle_school / none
    amenity=school otherwise                                     primary_school
    amenity=clinic|doctors|hospital                              health
    healthcare=* (not dentist, optometrist, audiologist,         health
    laboratory, blood_donation, sample_collection,
    alternative, podiatrist)
    amenity=pharmacy, healthcare=pharmacy                        pharmacy
    amenity=nursing_home                                         elderly_care
    amenity=social_facility with social_facility:for=senior      elderly_care
    or social_facility=nursing_home|assisted_living
    amenity=social_facility otherwise                            community_service
    amenity=community_centre with community_centre:for=senior    elderly_care
    or a name hint for elderly care (养老/敬老/老年/托老/日间照料)
    amenity=community_centre with a culture name hint (文化...)  culture
    amenity=community_centre otherwise, amenity=social_centre    community_service
    amenity=marketplace                                          market
    amenity=library|arts_centre|theatre                          culture
    amenity=post_office                                          post
    amenity=bank                                                 bank
    amenity=police                                               police
    shop=supermarket                                             supermarket
    shop=convenience|greengrocer (菜店 is convenience retail)     convenience
    shop=mall|department_store                                   mall
    leisure=fitness_centre named 健身器材/健身路径/室外健身        outdoor_fitness
    leisure=sports_centre|sports_hall|pitch|stadium|track|       sports
    fitness_centre
    leisure=fitness_station                                      outdoor_fitness
    leisure=park                                                 park
    building=kindergarten / building=hospital                    kindergarten / health
    no amenity/healthcare/shop/leisure tag, or                   by name hint
    amenity=townhall|public_building: name hints                 (:data:`OSM_NAME_HINTS`)
    any other amenity/healthcare/shop/leisure value              none
    ==========================================================  ====================

    ``building=kindergarten|school|hospital`` count when no amenity, healthcare, shop or
    leisure tag decided, even next to an unmapped amenity (``amenity=university``);
    ``building=school`` is refined by name like ``amenity=school`` (a campus building named
    ...学院 gets none). Callers that distrust building types can drop the ``building`` key.

    Name hints (:data:`OSM_NAME_HINTS`) include 社区服务中心/社区服务站/社区中心/居委会 ->
    community_service, 卫生服务中心/卫生站 -> health, 养老/敬老/老年 -> elderly_care,
    幼儿园 -> kindergarten, 小学 -> primary_school, 中学 -> middle_school,
    菜市场/...市场 -> market. They are read from ``name``, ``name:zh``, ``name:zh-Hans``,
    ``official_name`` and ``name:en``. A feature with some other amenity, shop or leisure tag
    (a car park named 医院停车场, a vet named 宠物医院) gets no category from its name.
    Multi-valued tags (``amenity=clinic;pharmacy``) use their first value.

    Parameters
    ----------
    tags
        OSM tags of one feature. Missing, blank and non-text values (NaN from a GeoDataFrame
        row) count as absent.

    Returns
    -------
    str or None
        A category of :data:`CATEGORIES`, or None when the feature is not a facility the
        vocabulary knows.
    """
    amenity = _tag(tags, "amenity")
    if amenity is not None and amenity not in _NAME_ONLY_AMENITIES:
        if amenity == "school":
            return _school_category(tags)
        if amenity == "social_facility":
            for_whom = _tag(tags, "social_facility:for")
            kind = _tag(tags, "social_facility")
            if for_whom == "senior" or kind in {"nursing_home", "assisted_living"}:
                return "elderly_care"
            return "community_service"
        if amenity == "community_centre":
            if _tag(tags, "community_centre:for") == "senior":
                return "elderly_care"
            hinted = _hint_in_names(
                _names(tags), OSM_NAME_HINTS, allowed=_COMMUNITY_CENTRE_HINT_CATEGORIES
            )
            return hinted or "community_service"
        category = OSM_TAG_CATEGORIES.get(("amenity", amenity))
        if category is not None:
            return category
    healthcare = _tag(tags, "healthcare")
    if healthcare is not None:
        if healthcare == "pharmacy":
            return "pharmacy"
        if healthcare not in _HEALTHCARE_EXCLUDED:
            return "health"
    leisure = _tag(tags, "leisure")
    if leisure == "fitness_centre" and _hint_in_names(_names(tags), _OUTDOOR_FITNESS_HINTS):
        return "outdoor_fitness"
    for key in ("shop", "leisure"):
        value = _tag(tags, key)
        if value is not None and (key, value) in OSM_TAG_CATEGORIES:
            return OSM_TAG_CATEGORIES[(key, value)]
    building = _tag(tags, "building")
    if building == "school":
        return _school_category(tags)
    if building is not None and ("building", building) in OSM_TAG_CATEGORIES:
        return OSM_TAG_CATEGORIES[("building", building)]
    has_feature_tag = any(_tag(tags, key) is not None for key in _FEATURE_KEYS)
    if has_feature_tag and amenity not in _NAME_ONLY_AMENITIES:
        return None
    return _hint_in_names(_names(tags), OSM_NAME_HINTS)


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


# --------------------------------------------------------------------------------------------
# Loading TOML
# --------------------------------------------------------------------------------------------

_TOP_KEYS = frozenset(
    {"name", "title_zh", "title_en", "source", "extends", "speed_kmh", "notes", "rules"}
)
_RULE_KEYS = frozenset(
    {
        "category",
        "max_walk_m",
        "max_walk_min",
        "min_floor_area_m2_per_100_households",
        "recommended_walk_m",
        "tier",
        "source",
        "clause",
        "label_zh",
        "label_en",
        "also_accepts",
        "note",
    }
)
_TEXT_RULE_KEYS = ("source", "clause", "label_zh", "label_en", "note")


def list_standards() -> list[str]:
    """Return the names of the built-in standards, sorted."""
    return sorted(path.stem for path in _STANDARDS_DIR.glob("*.toml"))


def _is_path_like(ref: str | Path) -> bool:
    if isinstance(ref, Path):
        return True
    return ref.endswith(".toml") or "/" in ref or "\\" in ref


def _resolve(ref: str | Path, *, relative_to: Path | None) -> tuple[Path, bool]:
    """Return (file, is_builtin) for a standard name or a path."""
    if _is_path_like(ref):
        path = Path(ref).expanduser()
        if not path.is_absolute() and relative_to is not None:
            path = relative_to / path
        if not path.is_file():
            raise InputError(
                f"standard file {path} does not exist; give the path of a TOML file or one of "
                f"the built-in standards: {', '.join(list_standards())}"
            )
        return path.resolve(), False
    if not isinstance(ref, str) or not ref.strip():
        raise InputError(
            f"standard name {ref!r} is empty; built-in standards: {', '.join(list_standards())}"
        )
    path = _STANDARDS_DIR / f"{ref.strip()}.toml"
    if not path.is_file():
        raise InputError(
            f"unknown standard {ref!r}; built-in standards: {', '.join(list_standards())} "
            "(or give the path of a TOML file)"
        )
    return path.resolve(), True


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _positive(value: object) -> bool:
    return _is_number(value) and math.isfinite(float(value)) and float(value) > 0  # type: ignore[arg-type]


@dataclass(frozen=True)
class _RawRule:
    """A validated ``[[rules]]`` entry before merging and key assignment."""

    index: int
    category: str
    tier: str | None
    fields: dict[str, Any]


def _parse_rule(
    entry: object, index: int, where: str, problems: list[str], *, default_source: str
) -> _RawRule | None:
    """Validate one ``[[rules]]`` table, appending every problem to ``problems``."""
    if not isinstance(entry, dict):
        problems.append(f"{where}: rule {index} is not a table; write it as [[rules]]")
        return None
    raw_category = entry.get("category")
    label = f"rule {index}" + (f" (category {raw_category!r})" if raw_category else "")
    here = f"{where}, {label}"
    start = len(problems)
    unknown = sorted(set(entry) - _RULE_KEYS)
    for key in unknown:
        problems.append(
            f"{here}: unknown key {key!r}; allowed keys: {', '.join(sorted(_RULE_KEYS))}"
        )
    category: str | None = None
    if "category" not in entry:
        problems.append(f"{here}: key 'category' is missing; add e.g. category = 'health'")
    else:
        try:
            category = normalise_category(entry["category"])
        except InputError as error:
            problems.append(f"{here}: key 'category': {error}")
        else:
            declares_new = "label_en" in entry or "label_zh" in entry
            if not is_known_category(category) and not declares_new:
                problems.append(
                    f"{here}: key 'category': {category!r} is not in the vocabulary "
                    f"({', '.join(CATEGORIES)}); fix the spelling, or give label_zh and "
                    "label_en to declare a new category"
                )
    has_m, has_min = "max_walk_m" in entry, "max_walk_min" in entry
    if has_m and has_min:
        problems.append(
            f"{here}: keys 'max_walk_m' and 'max_walk_min' are both given; keep only one "
            "(metres, or minutes at the walking speed)"
        )
    elif not has_m and not has_min:
        problems.append(f"{here}: key 'max_walk_m' or 'max_walk_min' is missing; give one of them")
    for key, unit in (("max_walk_m", "metres"), ("max_walk_min", "minutes")):
        if key in entry and not _positive(entry[key]):
            problems.append(
                f"{here}: key {key!r} is {entry[key]!r}; it must be a positive number of {unit}"
            )
    for key in ("recommended_walk_m", "min_floor_area_m2_per_100_households"):
        if key in entry and not _positive(entry[key]):
            problems.append(f"{here}: key {key!r} is {entry[key]!r}; it must be a positive number")
    if (
        has_m
        and not has_min
        and _positive(entry.get("recommended_walk_m"))
        and _positive(entry["max_walk_m"])
        and entry["recommended_walk_m"] > entry["max_walk_m"]
    ):
        problems.append(
            f"{here}: key 'recommended_walk_m' ({entry['recommended_walk_m']}) is larger than "
            f"max_walk_m ({entry['max_walk_m']}); it is the lower end of the range"
        )
    tier = entry.get("tier")
    if "tier" in entry and tier not in TIERS:
        problems.append(f"{here}: key 'tier' is {tier!r}; use one of {', '.join(TIERS)}")
    for key in _TEXT_RULE_KEYS:
        if key in entry and not isinstance(entry[key], str):
            problems.append(f"{here}: key {key!r} must be text, not {entry[key]!r}")
    also: list[str] = []
    if "also_accepts" in entry:
        value = entry["also_accepts"]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            problems.append(f"{here}: key 'also_accepts' must be a list of category names")
        else:
            for item in value:
                code = normalise_category(item) if item.strip() else ""
                if not is_known_category(code):
                    problems.append(
                        f"{here}: key 'also_accepts': {item!r} is not in the vocabulary "
                        f"({', '.join(CATEGORIES)})"
                    )
                also.append(code)
    if len(problems) > start or category is None:
        return None
    fields = {key: entry[key] for key in entry if key not in ("category", "tier")}
    fields["also_accepts"] = tuple(also)
    fields.setdefault("source", default_source)
    return _RawRule(index=index, category=category, tier=tier, fields=fields)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise InputError(
            f"standard file {path}: not valid TOML ({error}); fix the syntax"
        ) from None
    except OSError as error:
        raise InputError(f"standard file {path} cannot be read: {error}") from None


def _load(ref: str | Path, *, relative_to: Path | None, stack: tuple[Path, ...]) -> Standard:
    path, builtin = _resolve(ref, relative_to=relative_to)
    if path in stack:
        chain = " -> ".join(str(p) for p in (*stack, path))
        raise InputError(f"standard file {path}: 'extends' goes round in a circle: {chain}")
    data = _read_toml(path)
    where = f"standard file {path}"
    problems: list[str] = []

    for key in sorted(set(data) - _TOP_KEYS):
        problems.append(
            f"{where}: unknown key {key!r}; allowed top-level keys: {', '.join(sorted(_TOP_KEYS))}"
        )
    for key in ("name", "title_zh", "title_en", "source", "notes"):
        if key in data and not isinstance(data[key], str):
            problems.append(f"{where}: key {key!r} must be text, not {data[key]!r}")
    name = data.get("name", path.stem)
    if isinstance(name, str) and not _SNAKE.match(name):
        problems.append(f"{where}: key 'name' is {name!r}; use snake_case letters and digits")
    if builtin and name != path.stem:
        problems.append(f"{where}: key 'name' is {name!r} but the file is {path.name}")
    file_speed = data.get("speed_kmh")
    if "speed_kmh" in data and not _positive(file_speed):
        problems.append(f"{where}: key 'speed_kmh' is {file_speed!r}; give a positive km/h")
    extends_value = data.get("extends", [])
    if isinstance(extends_value, str):
        extends_value = [extends_value]
    if not isinstance(extends_value, list) or not all(isinstance(e, str) for e in extends_value):
        problems.append(
            f"{where}: key 'extends' must be a standard name, a path, or a list of them"
        )
        extends_value = []
    for ref in extends_value:
        try:
            _resolve(ref, relative_to=path.parent)
        except InputError as error:
            problems.append(f"{where}: key 'extends': {error}")
    rules_value = data.get("rules", [])
    if not isinstance(rules_value, list):
        problems.append(f"{where}: key 'rules' must be an array of tables, written [[rules]]")
        rules_value = []
    if not rules_value and not extends_value:
        problems.append(f"{where}: no [[rules]] and no 'extends'; a standard needs rules")
    file_source = data.get("source") if isinstance(data.get("source"), str) else None
    default_source = file_source or ("" if builtin else f"user file {path.name}")
    raw_rules = [
        raw
        for index, entry in enumerate(rules_value, start=1)
        if (raw := _parse_rule(entry, index, where, problems, default_source=default_source))
    ]
    seen: dict[tuple[str, str | None], int] = {}
    for raw in raw_rules:
        identity = (raw.category, raw.tier)
        if identity in seen:
            problems.append(
                f"{where}, rule {raw.index} (category {raw.category!r}): repeats rule "
                f"{seen[identity]} (same category and tier); keep one or give different tiers"
            )
        seen[identity] = raw.index
    if problems:
        raise InputError(_problems_message(where, problems))

    bases = [_load(ref, relative_to=path.parent, stack=(*stack, path)) for ref in extends_value]
    if file_speed is not None:
        speed = float(file_speed)
    elif bases:
        base_speeds = {base.speed_kmh for base in bases}
        if len(base_speeds) > 1:
            raise InputError(
                f"{where}: the standards in 'extends' use different walking speeds "
                f"{sorted(base_speeds)} km/h; set speed_kmh in this file"
            )
        speed = base_speeds.pop()
    else:
        speed = DEFAULT_SPEED_KMH

    merged: list[tuple[str, str | None, Rule]] = []
    for base in bases:
        for rule in base.with_speed(speed).rules:
            clash = [m for m in merged if (m[0], m[1]) == (rule.category, rule.tier)]
            if clash:
                raise InputError(
                    f"{where}: two standards in 'extends' both define a rule for category "
                    f"{rule.category!r} tier {rule.tier!r}; extend one of them and override"
                )
            merged.append((rule.category, rule.tier, rule))

    for raw in raw_rules:
        here = f"{where}, rule {raw.index} (category {raw.category!r})"
        if raw.tier is not None:
            matches = [i for i, m in enumerate(merged) if (m[0], m[1]) == (raw.category, raw.tier)]
        else:
            matches = [i for i, m in enumerate(merged) if m[0] == raw.category]
        if len(matches) > 1:
            tiers = ", ".join(str(merged[i][1]) for i in matches)
            raise InputError(
                f"{here}: the base has {len(matches)} rules for this category (tiers {tiers}); "
                "add key 'tier' to say which one this rule replaces"
            )
        tier = raw.tier
        if matches and tier is None:
            tier = merged[matches[0]][1]
        try:
            rule = Rule.build(raw.category, speed_kmh=speed, tier=tier, **raw.fields)
        except InputError as error:
            raise InputError(f"{here}: {error}") from None
        if matches:
            log.info("%s replaces the base rule for %r (tier %s)", here, raw.category, tier)
            merged[matches[0]] = (raw.category, tier, rule)
        else:
            merged.append((raw.category, tier, rule))

    counts: dict[str, int] = {}
    for category, _tier, _rule in merged:
        counts[category] = counts.get(category, 0) + 1
    rules = tuple(
        replace(
            rule,
            key=category if counts[category] == 1 or tier is None else f"{category}_{tier}",
        )
        for category, tier, rule in merged
    )
    base_title_en = " + ".join(base.title_en for base in bases)
    base_title_zh = " + ".join(base.title_zh for base in bases)
    suffix = f" (with {path.name})" if bases and raw_rules else ""
    try:
        return Standard(
            name=name,
            title_zh=data.get("title_zh") or (base_title_zh + suffix if bases else name),
            title_en=data.get("title_en") or (base_title_en + suffix if bases else name),
            rules=rules,
            source=file_source or "; ".join(dict.fromkeys(base.source for base in bases)),
            speed_kmh=speed,
            path=None if builtin else str(path),
            extends=tuple(extends_value),
            notes=data.get("notes", ""),
        )
    except ValueError as error:
        raise InputError(f"{where}: {error}") from None


def _problems_message(where: str, problems: list[str]) -> str:
    if len(problems) == 1:
        return problems[0]
    lines = "\n".join(f"  - {problem}" for problem in problems)
    return f"{where} has {len(problems)} problems:\n{lines}"


def load_standard(name_or_path: str | Path, *, speed_kmh: float | None = None) -> Standard:
    """Load a built-in standard by name, or a user standard from a TOML file.

    Parameters
    ----------
    name_or_path
        A built-in name (:func:`list_standards`, e.g. ``"community_service"``, ``"gb50180"``)
        or the path of a TOML file (anything ending in ``.toml`` or containing a slash).
    speed_kmh
        Walking speed for every rule, in km/h. None uses the file's ``speed_kmh`` (or its
        base's), else :data:`DEFAULT_SPEED_KMH` (4.0). Minute thresholds are converted to
        metres at this speed; metre thresholds to minutes.

    Returns
    -------
    Standard
        The standard with its rules resolved (bases merged, keys assigned).

    Raises
    ------
    InputError
        For an unknown name (the message lists the built-in names), a missing file, invalid
        TOML, or invalid content (the message names the file, the rule and the key).
    """
    standard = _load(name_or_path, relative_to=None, stack=())
    if speed_kmh is not None:
        standard = standard.with_speed(speed_kmh)
    return standard
