"""Tier tests: categories that keep GB 50180's tiers apart, and how old category names map."""

from __future__ import annotations

import pytest

from planner.standards import (
    CATEGORIES,
    CATEGORY_LABELS_ZH,
    CATEGORY_PARENTS,
    Rule,
    category_from_osm_tags,
    load_standard,
    normalise_category,
    parent_category,
    subcategories,
)


def gb(key: str) -> Rule:
    return load_standard("gb50180").rule(key)


def test_a_day_care_station_no_longer_passes_the_15_minute_elderly_care_rule() -> None:
    home = gb("elderly_care_home")
    day_care = normalise_category("日间照料中心")
    assert day_care == "elderly_day_care"
    assert category_from_osm_tags({"name": "学院路老年人日间照料中心"}) == day_care
    assert not home.accepts_facility(day_care)
    assert home.accepts_facility(normalise_category("养老院"))
    assert home.accepts_facility(category_from_osm_tags({"amenity": "nursing_home"}))
    # the 5-minute day-care rule takes the day-care centre, not the care home
    assert gb("elderly_day_care").accepts_facility(day_care)
    assert not gb("elderly_day_care").accepts_facility("elderly_care_home")


def test_a_pitch_no_longer_passes_the_large_sports_ground_rule() -> None:
    large = gb("sports_ground_15min")
    assert large.label_zh == "大型多功能运动场地"
    pitch = category_from_osm_tags({"leisure": "pitch", "sport": "basketball"})
    assert pitch == "pitch"
    for category in (pitch, "fitness", "sports_centre", "outdoor_fitness"):
        assert not large.accepts_facility(category), category
    assert large.accepts_facility(category_from_osm_tags({"leisure": "stadium"}))
    assert large.accepts_facility(normalise_category("综合运动场"))
    # the 5-minute small ground takes a pitch (and a larger ground within its 300 m)
    assert gb("pitch").accepts_facility(pitch)
    assert gb("pitch").accepts_facility("sports_ground")


def test_a_health_station_no_longer_passes_the_15_minute_health_centre_rule() -> None:
    centre = gb("health_centre")
    station = normalise_category("社区卫生服务站")
    assert station == "health_station"
    assert category_from_osm_tags({"amenity": "clinic", "name": "XX社区卫生服务站"}) == station
    assert not centre.accepts_facility(station)
    assert not centre.accepts_facility("health")  # a clinic of unknown tier
    assert not centre.accepts_facility("hospital")
    assert centre.accepts_facility(normalise_category("社区卫生服务中心"))
    assert centre.accepts_facility(normalise_category("社区医院"))


def test_a_plain_supermarket_passes_the_food_market_rule_only_where_the_rule_says_so() -> None:
    market = gb("market")
    assert market.label_zh == "菜市场或生鲜超市"
    assert not market.accepts_facility("supermarket")
    assert not market.accepts_facility(category_from_osm_tags({"shop": "supermarket"}))
    assert market.accepts_facility(
        category_from_osm_tags({"shop": "supermarket", "name": "X生鲜超市"})
    )
    assert market.accepts_facility(normalise_category("农贸市场"))
    assert market.accepts_facility(normalise_category("菜市场"))
    lenient = Rule.build("market", max_walk_m=500, also_accepts=["supermarket"])
    assert lenient.accepts_facility("supermarket")
    assert lenient.accepts_facility("fresh_supermarket")  # a sub-category of supermarket
    # the 5-minute community shops item names 超市: it accepts supermarkets
    assert gb("convenience").accepts_facility("supermarket")


def test_a_generic_category_satisfies_only_rules_that_ask_for_it() -> None:
    # an old facility labelled elderly_care (tier unknown) satisfies neither tier's rule...
    assert not gb("elderly_care_home").accepts_facility("elderly_care")
    assert not gb("elderly_day_care").accepts_facility("elderly_care")
    # ...but a rule asking for the generic category accepts it and every sub-category
    generic = Rule.build("elderly_care", max_walk_m=500)
    assert generic.accepted_categories == ("elderly_care", "elderly_care_home", "elderly_day_care")
    health = Rule.build("health", max_walk_m=500)
    assert set(health.accepted_categories) == {
        "health",
        "health_centre",
        "health_station",
        "hospital",
    }
    sports = Rule.build("sports", max_walk_m=500)
    assert set(sports.accepted_categories) == {
        "sports",
        "sports_ground",
        "sports_centre",
        "pitch",
        "fitness",
    }
    assert Rule.build("community_service", max_walk_m=500).accepts_facility("community_complex")


def test_parents_and_labels_stay_inside_the_vocabulary() -> None:
    assert set(CATEGORY_PARENTS) <= set(CATEGORIES)
    assert set(CATEGORY_PARENTS.values()) <= set(CATEGORIES)
    assert not set(CATEGORY_PARENTS.values()) & set(CATEGORY_PARENTS)  # one level
    assert set(CATEGORY_LABELS_ZH.values()) <= set(CATEGORIES)
    for code, (zh, _en) in CATEGORIES.items():
        assert normalise_category(zh) == code
        assert CATEGORY_LABELS_ZH.get(zh, code) == code
    assert parent_category("health_station") == "health"
    assert parent_category("health") is None
    assert subcategories("supermarket") == ("fresh_supermarket",)
    assert subcategories("park") == ()


@pytest.mark.parametrize(
    ("label", "category"),
    [
        ("社区服务中心", "community_service"),
        ("社区服务站", "community_service"),
        ("社区党群服务中心", "community_service"),
        ("党群服务中心", "community_service"),
        ("社区综合体", "community_complex"),
        ("便民服务中心", "community_service"),
        ("卫生服务中心", "health_centre"),
        ("卫生服务站", "health_station"),
        ("社区卫生服务中心", "health_centre"),
        ("社区卫生服务站", "health_station"),
        ("养老服务中心", "elderly_care"),
        ("养老服务站", "elderly_day_care"),
        ("日间照料中心", "elderly_day_care"),
        ("养老院", "elderly_care_home"),
        ("农贸市场", "market"),
        ("菜市场", "market"),
        ("生鲜超市", "fresh_supermarket"),
        ("超市", "supermarket"),
        ("文化活动中心", "culture"),
        ("文化活动站", "culture"),
        ("幼儿园", "kindergarten"),
        ("小学", "primary_school"),
        ("中学", "middle_school"),
        ("学校", "school"),
        ("综合运动场", "sports_ground"),
        ("综合健身馆", "sports_centre"),
        (" 派出所 ", "police"),
    ],
)
def test_bureau_labels(label: str, category: str) -> None:
    assert normalise_category(label) == category


def test_accepts_facility_with_a_size_minimum() -> None:
    rule = Rule.build(
        "community_complex",
        max_walk_min=15,
        min_facility_floor_area_m2=600,
        preferred_facility_floor_area_m2=800,
    )
    assert rule.accepts_facility("community_complex", 600.0)
    assert rule.accepts_facility("community_complex", 1200)
    assert not rule.accepts_facility("community_complex", 599.9)
    assert not rule.accepts_facility("community_complex", None)  # size unknown
    assert not rule.accepts_facility("community_complex", float("nan"))
    assert not rule.accepts_facility("community_service", 2000.0)
    assert not rule.accepts_facility(None, 2000.0)
    got = rule.accepts_facilities(
        ["community_complex", "community_complex", "community_complex", "health"],
        [700.0, 500.0, float("nan"), 900.0],
    )
    assert got.tolist() == [True, False, False, False]
    plain = Rule.build("health", max_walk_m=500)
    assert plain.accepts_facility("health_station", None)
    assert plain.accepts_facilities(["health", "park"]).tolist() == [True, False]
