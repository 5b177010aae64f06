"""OSM tags -> facility category: which OpenStreetMap features are which community facilities.

:func:`category_from_osm_tags` reads the tags of one feature (``amenity``, ``healthcare``,
``shop``, ``leisure``, ``building``, then name hints) and returns a code of the category
vocabulary (:data:`planner.standards.CATEGORIES`), or None. The tables it uses are
:data:`OSM_TAG_CATEGORIES` and :data:`OSM_NAME_HINTS`.

This module imports nothing from :mod:`planner.standards`; the import runs the other way
(``planner.standards`` re-exports these names).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = ["OSM_NAME_HINTS", "OSM_TAG_CATEGORIES", "category_from_osm_tags"]

#: OSM ``(key, value)`` -> category. ``"*"`` as value means any value not listed separately.
#: Some entries are refined by :func:`category_from_osm_tags` (see its docstring):
#: ``amenity=school`` (primary or middle school), ``amenity=social_facility`` (elderly care for
#: seniors), ``amenity=community_centre`` (name hints), ``amenity=clinic|doctors`` and
#: ``healthcare=*`` (a health centre or station by name; a few non-clinical values excluded),
#: ``shop=supermarket`` (a fresh-food supermarket by name).
OSM_TAG_CATEGORIES: dict[tuple[str, str], str] = {
    ("amenity", "kindergarten"): "kindergarten",
    ("amenity", "childcare"): "daycare",
    ("amenity", "school"): "primary_school",
    ("amenity", "clinic"): "health",
    ("amenity", "doctors"): "health",
    ("amenity", "hospital"): "hospital",
    ("amenity", "pharmacy"): "pharmacy",
    ("amenity", "nursing_home"): "elderly_care_home",
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
    ("healthcare", "hospital"): "hospital",
    ("healthcare", "*"): "health",
    ("shop", "supermarket"): "supermarket",
    ("shop", "convenience"): "convenience",
    ("shop", "greengrocer"): "convenience",
    ("shop", "mall"): "mall",
    ("shop", "department_store"): "mall",
    ("leisure", "sports_centre"): "sports_centre",
    ("leisure", "sports_hall"): "sports_centre",
    ("leisure", "pitch"): "pitch",
    ("leisure", "stadium"): "sports_ground",
    ("leisure", "track"): "sports_ground",
    ("leisure", "fitness_centre"): "fitness",
    ("leisure", "fitness_station"): "outdoor_fitness",
    ("leisure", "park"): "park",
    ("building", "kindergarten"): "kindergarten",
    ("building", "school"): "primary_school",
    ("building", "hospital"): "hospital",
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
    ("社区综合体", "community_complex"),
    ("便民服务中心", "community_service"),
    ("党群服务中心", "community_service"),
    ("居委会", "community_service"),
    ("居民委员会", "community_service"),
    ("卫生服务中心", "health_centre"),
    ("卫生服务站", "health_station"),
    ("卫生站", "health_station"),
    ("卫生院", "health_centre"),
    ("卫生室", "health_station"),
    ("社区医院", "health_centre"),
    ("医院", "hospital"),
    ("诊所", "health"),
    ("门诊", "health_centre"),
    ("养老", "elderly_care"),
    ("敬老", "elderly_care"),
    ("老年", "elderly_care"),
    ("养老院", "elderly_care_home"),
    ("敬老院", "elderly_care_home"),
    ("养护院", "elderly_care_home"),
    ("福利院", "elderly_care_home"),
    ("托老", "elderly_day_care"),
    ("日间照料", "elderly_day_care"),
    ("日间照料中心", "elderly_day_care"),
    ("养老服务站", "elderly_day_care"),
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
    ("生鲜超市", "fresh_supermarket"),
    ("文化站", "culture"),
    ("文化中心", "culture"),
    ("文化活动", "culture"),
    ("文化馆", "culture"),
    ("图书馆", "culture"),
    ("体育馆", "sports_centre"),
    ("体育场", "sports_ground"),
    ("体育中心", "sports_centre"),
    ("运动场", "sports_ground"),
    ("全民健身", "sports_centre"),
    ("健身馆", "sports_centre"),
    ("球场", "pitch"),
    ("健身房", "fitness"),
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

_ELDERLY_CATEGORIES = frozenset({"elderly_care", "elderly_care_home", "elderly_day_care"})
_COMMUNITY_CENTRE_HINT_CATEGORIES = frozenset(
    {"community_service", "community_complex", "culture", *_ELDERLY_CATEGORIES}
)
_HEALTH_CATEGORIES = frozenset({"health", "health_centre", "health_station", "hospital"})
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


def _elderly_category(tags: Mapping[str, Any]) -> str:
    """Elderly care by name: a care home, day care, or (tier unknown) generic elderly care."""
    hinted = _hint_in_names(_names(tags), OSM_NAME_HINTS, allowed=_ELDERLY_CATEGORIES)
    return hinted or "elderly_care"


def _social_facility_category(tags: Mapping[str, Any]) -> str:
    for_whom = _tag(tags, "social_facility:for")
    kind = _tag(tags, "social_facility")
    if kind in {"nursing_home", "assisted_living"}:
        return "elderly_care_home"
    if for_whom == "senior":
        return "elderly_day_care" if kind == "day_care" else _elderly_category(tags)
    return "community_service"


def _health_category(tags: Mapping[str, Any], default: str) -> str:
    """A clinic's tier by name (health centre / station / hospital), else ``default``."""
    hinted = _hint_in_names(_names(tags), OSM_NAME_HINTS, allowed=_HEALTH_CATEGORIES)
    return hinted or default


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
    amenity=clinic|doctors, healthcare=* (not dentist,           by name: health_centre
    optometrist, audiologist, laboratory, blood_donation,        (卫生服务中心, 社区医院,
    sample_collection, alternative, podiatrist)                  卫生院, 门诊), health_station
                                                                 (卫生服务站, 卫生站, 卫生室),
                                                                 hospital (医院); else health
    amenity=hospital, healthcare=hospital: by name as above      hospital
    (社区卫生服务中心 tagged as a hospital is a health_centre),
    else; building=hospital
    amenity=pharmacy, healthcare=pharmacy                        pharmacy
    amenity=nursing_home, amenity=social_facility with           elderly_care_home
    social_facility=nursing_home|assisted_living
    amenity=social_facility, social_facility:for=senior:         elderly_day_care /
    social_facility=day_care / by name (养老院, 敬老院 ->         by name / elderly_care
    home; 日间照料, 托老, 养老服务站 -> day care) / otherwise
    amenity=social_facility otherwise                            community_service
    amenity=community_centre with community_centre:for=senior    elderly care by name
    or a name hint for elderly care (养老/敬老/老年/托老/日间照料)  (as above)
    amenity=community_centre with a culture name hint (文化...)  culture
    amenity=community_centre otherwise, amenity=social_centre    community_service
    amenity=marketplace                                          market
    amenity=library|arts_centre|theatre                          culture
    amenity=post_office                                          post
    amenity=bank                                                 bank
    amenity=police                                               police
    shop=supermarket named ...生鲜...                             fresh_supermarket
    shop=supermarket otherwise                                   supermarket
    shop=convenience|greengrocer (菜店 is convenience retail)     convenience
    shop=mall|department_store                                   mall
    leisure=fitness_centre named 健身器材/健身路径/室外健身        outdoor_fitness
    leisure=sports_centre|sports_hall                            sports_centre
    leisure=stadium|track                                        sports_ground
    leisure=pitch                                                pitch
    leisure=fitness_centre otherwise                             fitness
    leisure=fitness_station                                      outdoor_fitness
    leisure=park                                                 park
    building=kindergarten                                        kindergarten
    no amenity/healthcare/shop/leisure tag, or                   by name hint
    amenity=townhall|public_building: name hints                 (:data:`OSM_NAME_HINTS`)
    any other amenity/healthcare/shop/leisure value              none
    ==========================================================  ====================

    ``building=kindergarten|school|hospital`` count when no amenity, healthcare, shop or
    leisure tag decided, even next to an unmapped amenity (``amenity=university``);
    ``building=school`` is refined by name like ``amenity=school`` (a campus building named
    ...学院 gets none). Callers that distrust building types can drop the ``building`` key.

    Name hints (:data:`OSM_NAME_HINTS`) include 社区服务中心/社区服务站/社区中心/居委会 ->
    community_service, 社区综合体 -> community_complex, 卫生服务中心 -> health_centre,
    卫生服务站/卫生站 -> health_station, 养老院/敬老院 -> elderly_care_home, 日间照料/托老 ->
    elderly_day_care, 养老/老年 -> elderly_care (tier unknown), 体育场/运动场 -> sports_ground,
    体育馆/全民健身 -> sports_centre, 球场 -> pitch, 生鲜超市 -> fresh_supermarket,
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
        A category of :data:`planner.standards.CATEGORIES`, or None when the feature is not a
        facility the vocabulary knows.
    """
    amenity = _tag(tags, "amenity")
    if amenity is not None and amenity not in _NAME_ONLY_AMENITIES:
        if amenity == "school":
            return _school_category(tags)
        if amenity == "social_facility":
            return _social_facility_category(tags)
        if amenity == "community_centre":
            if _tag(tags, "community_centre:for") == "senior":
                return _elderly_category(tags)
            hinted = _hint_in_names(
                _names(tags), OSM_NAME_HINTS, allowed=_COMMUNITY_CENTRE_HINT_CATEGORIES
            )
            return hinted or "community_service"
        if amenity in {"clinic", "doctors"}:
            return _health_category(tags, "health")
        if amenity == "hospital":
            return _health_category(tags, "hospital")
        category = OSM_TAG_CATEGORIES.get(("amenity", amenity))
        if category is not None:
            return category
    healthcare = _tag(tags, "healthcare")
    if healthcare is not None:
        if healthcare == "pharmacy":
            return "pharmacy"
        if healthcare == "hospital":
            return _health_category(tags, "hospital")
        if healthcare not in _HEALTHCARE_EXCLUDED:
            return _health_category(tags, "health")
    leisure = _tag(tags, "leisure")
    if leisure == "fitness_centre" and _hint_in_names(_names(tags), _OUTDOOR_FITNESS_HINTS):
        return "outdoor_fitness"
    if _tag(tags, "shop") == "supermarket":
        fresh = _hint_in_names(_names(tags), (("生鲜", "fresh_supermarket"),))
        return fresh or "supermarket"
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
