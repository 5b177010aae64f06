"""The facility category vocabulary: codes, Chinese and English labels, normalising values.

Every facility category is a snake_case code (``community_service``, ``kindergarten``) with a
Chinese and an English label (:data:`CATEGORIES`). Values read from a column or a TOML file are
brought to that form by :func:`normalise_category`, which also accepts the Chinese labels.
"""

from __future__ import annotations

import re

from planner.errors import InputError

__all__ = ["CATEGORIES", "is_known_category", "normalise_category"]

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
