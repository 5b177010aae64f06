"""The facility category vocabulary: codes, Chinese and English labels, normalising values.

Every facility category is a snake_case code (``community_service``, ``kindergarten``) with a
Chinese and an English label (:data:`CATEGORIES`). Some categories have sub-categories that keep
apart the tiers a standard distinguishes (:data:`CATEGORY_PARENTS`: ``elderly_care_home`` and
``elderly_day_care`` under ``elderly_care``, ``health_centre`` / ``health_station`` / ``hospital``
under ``health``, ``sports_ground`` / ``sports_centre`` / ``pitch`` / ``fitness`` under ``sports``,
``fresh_supermarket`` under ``supermarket``, ``primary_school`` / ``middle_school`` under
``school``, ``community_complex`` under ``community_service``). Values read from a column or a
TOML file are brought to that form by :func:`normalise_category`, which also accepts the Chinese
labels and the labels bureaus use (:data:`CATEGORY_LABELS_ZH`).
"""

from __future__ import annotations

import re

from planner.errors import InputError

__all__ = [
    "CATEGORIES",
    "CATEGORY_LABELS_ZH",
    "CATEGORY_PARENTS",
    "is_known_category",
    "normalise_category",
    "parent_category",
    "subcategories",
]

#: The facility category vocabulary: snake_case code -> (Chinese label, English label).
#: The generic categories come first; the sub-categories after them keep apart the tiers a
#: standard distinguishes (:data:`CATEGORY_PARENTS` says whose sub-category each is).
CATEGORIES: dict[str, tuple[str, str]] = {
    "community_service": ("社区服务", "Community service"),
    "health": ("医疗卫生", "Health care"),
    "elderly_care": ("养老服务", "Elderly care"),
    "daycare": ("托育（托儿所）", "Nursery / childcare"),
    "kindergarten": ("幼儿园", "Kindergarten"),
    "school": ("学校（中小学）", "School (primary or middle)"),
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
    # sub-categories (tiers kept apart)
    "community_complex": ("社区综合体", "Community complex (社区综合体)"),
    "health_centre": ("社区卫生服务中心", "Community health service centre"),
    "health_station": ("社区卫生服务站", "Community health service station"),
    "hospital": ("医院", "Hospital"),
    "elderly_care_home": ("养老院（机构养老）", "Care home for the elderly (institutional)"),
    "elderly_day_care": ("老年人日间照料中心", "Elderly day-care centre"),
    "fresh_supermarket": ("生鲜超市", "Fresh-food supermarket"),
    "sports_ground": ("多功能运动场", "Multi-purpose sports ground"),
    "sports_centre": ("体育馆、全民健身中心", "Sports centre / sports hall"),
    "pitch": ("球场（小型运动场地）", "Pitch / small ball-games ground"),
    "fitness": ("健身房", "Gym / fitness centre"),
}

#: Sub-category -> its generic category. A rule asking for a generic category accepts its
#: sub-categories too (a ``health`` rule accepts a ``health_station``); a rule asking for a
#: sub-category accepts only that sub-category (and what its ``also_accepts`` lists), so a
#: facility labelled with the generic category (``elderly_care``, tier unknown) satisfies only
#: rules that ask for the generic category.
CATEGORY_PARENTS: dict[str, str] = {
    "community_complex": "community_service",
    "health_centre": "health",
    "health_station": "health",
    "hospital": "health",
    "elderly_care_home": "elderly_care",
    "elderly_day_care": "elderly_care",
    "primary_school": "school",
    "middle_school": "school",
    "fresh_supermarket": "supermarket",
    "sports_ground": "sports",
    "sports_centre": "sports",
    "pitch": "sports",
    "fitness": "sports",
}

#: Labels bureaus write in a category column -> category code (exact match after stripping).
#: The Chinese labels of :data:`CATEGORIES` are read as well. A label that does not say the
#: tier maps to the generic category: 养老服务中心 may be institutional or day care
#: (``elderly_care``), 学校 primary or middle (``school``), and 诊所 is outside the community
#: health system (``health``).
CATEGORY_LABELS_ZH: dict[str, str] = {
    # community service
    "社区服务中心": "community_service",
    "社区服务站": "community_service",
    "社区综合服务中心": "community_service",
    "社区综合服务站": "community_service",
    "社区综合服务设施": "community_service",
    "社区党群服务中心": "community_service",
    "社区党群服务站": "community_service",
    "党群服务中心": "community_service",
    "党群服务站": "community_service",
    "便民服务中心": "community_service",
    "便民服务站": "community_service",
    "社区居委会": "community_service",
    "居委会": "community_service",
    "居民委员会": "community_service",
    "社区用房": "community_service",
    "社区综合体": "community_complex",
    # health
    "社区卫生服务中心": "health_centre",
    "卫生服务中心": "health_centre",
    "社区医院": "health_centre",
    "卫生院": "health_centre",
    "乡镇卫生院": "health_centre",
    "门诊部": "health_centre",
    "社区卫生服务站": "health_station",
    "卫生服务站": "health_station",
    "卫生站": "health_station",
    "卫生室": "health_station",
    "村卫生室": "health_station",
    "诊所": "health",
    "医院": "hospital",
    # elderly care
    "养老院": "elderly_care_home",
    "敬老院": "elderly_care_home",
    "老年养护院": "elderly_care_home",
    "养老机构": "elderly_care_home",
    "社会福利院": "elderly_care_home",
    "日间照料中心": "elderly_day_care",
    "老年人日间照料中心": "elderly_day_care",
    "社区日间照料中心": "elderly_day_care",
    "托老所": "elderly_day_care",
    "养老服务站": "elderly_day_care",
    "社区养老服务站": "elderly_day_care",
    "养老服务中心": "elderly_care",
    "社区养老服务中心": "elderly_care",
    "社区养老服务设施": "elderly_care",
    # education
    "托儿所": "daycare",
    "托育机构": "daycare",
    "学校": "school",
    "中小学": "school",
    "九年一贯制学校": "school",
    "初中": "middle_school",
    "高中": "middle_school",
    "完全中学": "middle_school",
    # shopping
    "农贸市场": "market",
    "集贸市场": "market",
    "菜场": "market",
    "生鲜超市": "fresh_supermarket",
    "商场": "mall",
    "购物中心": "mall",
    # culture
    "文化活动中心": "culture",
    "文化活动站": "culture",
    "综合文化站": "culture",
    "文化站": "culture",
    "文化中心": "culture",
    "文化馆": "culture",
    "图书馆": "culture",
    # sports
    "运动场": "sports_ground",
    "综合运动场": "sports_ground",
    "体育场": "sports_ground",
    "多功能运动场地": "sports_ground",
    "体育馆": "sports_centre",
    "综合健身馆": "sports_centre",
    "全民健身中心": "sports_centre",
    "体育中心": "sports_centre",
    "球场": "pitch",
    "篮球场": "pitch",
    "足球场": "pitch",
    "健身房": "fitness",
    "健身中心": "fitness",
    "室外健身场地": "outdoor_fitness",
    "健身路径": "outdoor_fitness",
    # others
    "公园": "park",
    "药房": "pharmacy",
    "邮局": "post",
    "邮政营业场所": "post",
    "银行营业网点": "bank",
    "警务室": "police",
}

_ZH_LABEL_TO_CATEGORY = {
    **CATEGORY_LABELS_ZH,
    **{zh: code for code, (zh, _en) in CATEGORIES.items()},
}
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_NON_WORD = re.compile(r"[\s\-/.,;:()]+")


def normalise_category(value: object) -> str:
    """Return a category value in the vocabulary's snake_case form.

    ``"Community Service"``, ``"community-service"`` and ``"CommunityService"`` all become
    ``"community_service"``; a Chinese label of :data:`CATEGORIES` (``"幼儿园"``) becomes its
    code (``"kindergarten"``), and so does a bureau label of :data:`CATEGORY_LABELS_ZH`
    (``"社区党群服务中心"`` -> ``"community_service"``). Values outside the vocabulary are
    normalised the same way and returned; use :func:`is_known_category` to ask whether they
    are known.

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
            f"(known: {', '.join(CATEGORIES)})",
            zh=f"类别值 {value!r} 不是文本；请给出类别，例如 'community_service'（已知类别："
            f"{'、'.join(CATEGORIES)}）",
        )
    text = value.strip()
    if not text:
        raise InputError(
            "category value is empty; give a category such as 'community_service'",
            zh="类别值为空；请给出类别，例如 'community_service' 或 社区服务",
        )
    if text in _ZH_LABEL_TO_CATEGORY:
        return _ZH_LABEL_TO_CATEGORY[text]
    text = _CAMEL_BOUNDARY.sub("_", text)
    text = _NON_WORD.sub("_", text).lower()
    text = re.sub(r"_+", "_", text).strip("_")
    if not text:
        raise InputError(
            f"category value {value!r} has no letters; give a category code",
            zh=f"类别值 {value!r} 不含字母；请给出类别代码",
        )
    return text


def is_known_category(value: str) -> bool:
    """Return True when ``value`` (already normalised) is in :data:`CATEGORIES`."""
    return value in CATEGORIES


def parent_category(code: str) -> str | None:
    """The generic category of a sub-category (``"health_station"`` -> ``"health"``), or None."""
    return CATEGORY_PARENTS.get(code)


def subcategories(code: str) -> tuple[str, ...]:
    """The sub-categories of a generic category, in vocabulary order (``()`` for none)."""
    return tuple(sub for sub, parent in CATEGORY_PARENTS.items() if parent == code)
