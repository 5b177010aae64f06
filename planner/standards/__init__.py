"""The catalogue of planning standards, their rules, and the facility category vocabulary.

The package's modules: :mod:`~planner.standards.categories` (the category vocabulary and
:func:`normalise_category`), :mod:`~planner.standards.rules` (:class:`Rule`, :class:`Standard`
and the minutes <-> metres conversion), :mod:`~planner.standards.loader` (reading TOML:
:func:`load_standard`, :func:`list_standards`). The OSM tag rules live in
:mod:`planner.osm.categories` and are re-exported here (:func:`category_from_osm_tags`).

A *standard* is a named set of *rules*. A rule says what it is measured over (``per``):
``"residence"``, every household must reach a facility of one category within a walking
threshold; ``"community"``, the category's facilities in each community must supply at least so
many m² of floor area per 100 households (and, optionally, ``min_floor_area_m2`` per
community); ``"catchment"``, both, the floor area counted over the walking catchment (the
combined rule of earlier versions). A per-community rule without a walk gets 15 min for its
catchment fallback view (used only without a communities layer). Every built-in rule carries its
``source``, ``clause``, ``verified`` status and ``quote`` (docs/STANDARDS.md). A standard may set
programme ``[targets]`` (compliant communities per sub-district, a share, a coverage rate).
Standards ship as TOML files in ``planner/standards/``; users add or override rules with their
own TOML file.

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
and carries that tier's threshold, so a category listed in two tiers (``sports_ground`` in the
15- and 10-minute tiers, ``culture`` in the 15- and 5-minute tiers) is two rules, each with its
own threshold.

Checks match facilities to a rule by category (:attr:`Rule.accepted_categories`: the rule's
category, its sub-categories, and ``also_accepts``). Where GB 50180 distinguishes levels the
categories do too (:data:`CATEGORY_PARENTS`): ``elderly_care_home`` (15-minute 养老院) vs
``elderly_day_care`` (5-minute 日间照料中心), ``health_centre`` vs ``health_station``,
``sports_ground`` (大型/中型多功能运动场地) vs ``pitch`` / ``sports_centre`` / ``fitness``,
``market`` vs ``fresh_supermarket`` vs ``supermarket``. In the standard's explanatory notes the
tiers are "not inclusive": an upper tier's facilities do not stand in for a lower tier's, and a
day-care station does not satisfy the 15-minute care-home rule. A facility with a generic
category (``elderly_care``, tier unknown) satisfies only rules that ask for the generic
category. When one category appears in several coverage rules of a standard, each rule's
:attr:`Rule.key` is ``<category>_<tier>`` (``sports_ground_15min``); a per-community rule's key
is ``<category>_floor_area``; otherwise it is the category, unless the file gives ``key``.

User files
----------
A user TOML file either stands alone or names a base with ``extends = "community_service"``
(or a list of bases, or a path to another TOML file). Its ``[[rules]]`` then replace base rules
*completely*, or are added when the base has no such rule: a rule with a ``key`` of the base
replaces that rule; otherwise a walk rule replaces the base's walk rule of the same category (and
tier, when the user rule gives one), a floor-area rule the base's per-community floor-area rule,
and a walk + floor-area rule (``per = "catchment"``) both. A replaced rule keeps its tier if the
user rule does not state one. ``[targets]`` keys not set come from the bases. Example::

    extends = "community_service"
    name = "chengdu_review"

    [targets]
    compliant_per_subdistrict = 2

    [[rules]]
    category = "community_service"
    per = "community"
    min_floor_area_m2_per_100_households = 30
    min_floor_area_m2 = 300          # renovated premises (Sichuan 2021)
    source = "Chengdu review brief 2025"

    [[rules]]
    category = "elderly_care"
    max_walk_m = 500
    source = "district plan"
"""

from __future__ import annotations

from planner.osm.categories import OSM_NAME_HINTS, OSM_TAG_CATEGORIES, category_from_osm_tags
from planner.schema import DEFAULT_SPEED_KMH, DEFAULT_STANDARD
from planner.standards.categories import (
    CATEGORIES,
    CATEGORY_LABELS_ZH,
    CATEGORY_PARENTS,
    is_known_category,
    normalise_category,
    parent_category,
    subcategories,
)
from planner.standards.loader import list_standards, load_standard
from planner.standards.rules import (
    COMMUNITY_FALLBACK_WALK_MIN,
    PER_VALUES,
    TIERS,
    Rule,
    Standard,
    Targets,
    m_to_minutes,
    minutes_to_m,
)

__all__ = [
    "CATEGORIES",
    "CATEGORY_LABELS_ZH",
    "CATEGORY_PARENTS",
    "COMMUNITY_FALLBACK_WALK_MIN",
    "DEFAULT_SPEED_KMH",
    "DEFAULT_STANDARD",
    "OSM_NAME_HINTS",
    "OSM_TAG_CATEGORIES",
    "PER_VALUES",
    "TIERS",
    "Rule",
    "Standard",
    "Targets",
    "category_from_osm_tags",
    "is_known_category",
    "list_standards",
    "load_standard",
    "m_to_minutes",
    "minutes_to_m",
    "normalise_category",
    "parent_category",
    "subcategories",
]
