"""Tests for planner.standards.categories: the category vocabulary."""

from __future__ import annotations

import pytest

from planner.errors import InputError
from planner.standards import (
    CATEGORIES,
    OSM_NAME_HINTS,
    OSM_TAG_CATEGORIES,
    normalise_category,
)

# ---------------------------------------------------------------- vocabulary


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("community_service", "community_service"),
        ("Community Service", "community_service"),
        (" community-service ", "community_service"),
        ("CommunityService", "community_service"),
        ("primary school", "primary_school"),
        ("幼儿园", "kindergarten"),
        ("小学", "primary_school"),
        ("Elderly/Care", "elderly_care"),
        ("my__new   category", "my_new_category"),
    ],
)
def test_normalise_category(value: str, expected: str) -> None:
    assert normalise_category(value) == expected


@pytest.mark.parametrize("value", ["", "   ", None, 3, float("nan"), "---"])
def test_normalise_category_rejects(value: object) -> None:
    with pytest.raises(InputError):
        normalise_category(value)


def test_vocabulary_is_snake_case_and_mappings_stay_inside_it() -> None:
    for code, (zh, en) in CATEGORIES.items():
        assert normalise_category(code) == code
        assert zh and en
    assert set(OSM_TAG_CATEGORIES.values()) <= set(CATEGORIES)
    assert {category for _hint, category in OSM_NAME_HINTS} <= set(CATEGORIES)
