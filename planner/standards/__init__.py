"""The catalogue of planning standards, their rules, and the facility category vocabulary.

The package's modules: :mod:`~planner.standards.categories` (the category vocabulary and
:func:`normalise_category`), :mod:`~planner.standards.rules` (:class:`Rule`, :class:`Standard`
and the minutes <-> metres conversion), :mod:`~planner.standards.loader` (reading TOML:
:func:`load_standard`, :func:`list_standards`). The OSM tag rules live in
:mod:`planner.osm.categories` and are re-exported here (:func:`category_from_osm_tags`).

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
