"""Tests for planner.standards: conversions, the catalogue, user TOML files, OSM categories."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from planner.errors import InputError
from planner.standards import (
    CATEGORIES,
    DEFAULT_SPEED_KMH,
    DEFAULT_STANDARD,
    OSM_NAME_HINTS,
    OSM_TAG_CATEGORIES,
    TIERS,
    Rule,
    category_from_osm_tags,
    list_standards,
    load_standard,
    m_to_minutes,
    minutes_to_m,
    normalise_category,
)

# ---------------------------------------------------------------- minutes <-> metres


@pytest.mark.parametrize(
    ("minutes", "speed", "metres"),
    [
        (15, 4.0, 1000.0),  # 15 × 4 × 1000 / 60
        (10, 4.0, 2000.0 / 3.0),  # 666.67 m
        (5, 4.0, 1000.0 / 3.0),
        (15, 5.0, 1250.0),
        (12, 4.0, 800.0),
        (0, 4.0, 0.0),
        (60, 4.5, 4500.0),
    ],
)
def test_minutes_to_m_hand_worked(minutes: float, speed: float, metres: float) -> None:
    assert minutes_to_m(minutes, speed) == pytest.approx(metres, rel=1e-12)


@pytest.mark.parametrize(
    ("metres", "speed", "minutes"),
    [
        (1000, 4.0, 15.0),
        (800, 4.0, 12.0),
        (500, 4.0, 7.5),
        (300, 4.0, 4.5),
        (300, 5.0, 3.6),
        (1000, 3.0, 20.0),
    ],
)
def test_m_to_minutes_hand_worked(metres: float, speed: float, minutes: float) -> None:
    assert m_to_minutes(metres, speed) == pytest.approx(minutes, rel=1e-12)


def test_fifteen_minutes_is_exactly_1000_m_at_default_speed() -> None:
    assert DEFAULT_SPEED_KMH == 4.0
    assert minutes_to_m(15, DEFAULT_SPEED_KMH) == 1000.0
    assert m_to_minutes(1000, DEFAULT_SPEED_KMH) == 15.0
    assert isinstance(minutes_to_m(15, 4.0), float)


def test_conversions_work_on_arrays_and_pass_inf_and_nan() -> None:
    out = m_to_minutes(np.array([0.0, 500.0, np.inf, np.nan]), 4.0)
    assert isinstance(out, np.ndarray)
    assert out[:3].tolist() == [0.0, 7.5, math.inf]
    assert math.isnan(out[3])
    assert minutes_to_m([15, 30], 4.0).tolist() == [1000.0, 2000.0]


@pytest.mark.parametrize("speed", [0, -4.0, math.inf, math.nan, "4", True, None])
def test_bad_speed_is_rejected(speed: object) -> None:
    with pytest.raises(InputError, match="speed"):
        minutes_to_m(15, speed)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="speed"):
        m_to_minutes(1000, speed)  # type: ignore[arg-type]


def test_negative_values_are_rejected() -> None:
    with pytest.raises(InputError, match="negative"):
        minutes_to_m(-1, 4.0)
    with pytest.raises(InputError, match="negative"):
        m_to_minutes(np.array([10.0, -5.0]), 4.0)


@given(
    st.floats(min_value=0, max_value=1e6, allow_nan=False),
    st.floats(min_value=0.5, max_value=30, allow_nan=False),
)
def test_round_trip(metres: float, speed: float) -> None:
    back = minutes_to_m(m_to_minutes(metres, speed), speed)
    assert back == pytest.approx(metres, rel=1e-12, abs=1e-9)


# ---------------------------------------------------------------- the built-in catalogue


def test_list_standards() -> None:
    assert list_standards() == [
        "community_service",
        "gb50180",
        "gb50180_10min",
        "gb50180_15min",
        "gb50180_5min",
    ]
    assert DEFAULT_STANDARD == "community_service"


def test_default_standard_is_community_service_15_min_30_m2() -> None:
    standard = load_standard(DEFAULT_STANDARD)
    assert standard.name == "community_service"
    assert standard.speed_kmh == 4.0
    assert standard.path is None
    (rule,) = standard.rules
    assert rule.category == "community_service"
    assert rule.key == "community_service"
    assert rule.threshold_unit == "min"
    assert rule.max_walk_min == 15.0
    assert rule.max_walk_m == 1000.0
    assert rule.min_floor_area_m2_per_100_households == 30.0
    assert rule.tier == "15min"
    assert rule.threshold_text == "15 min (1000 m at 4 km/h)"
    assert standard.floor_area_rules == (rule,)
    assert "30" in rule.clause or "每百户" in rule.clause
    assert "十四五" in rule.source and "2016-2020" in rule.source


def test_speed_changes_metres_of_minute_rules_and_minutes_of_metre_rules() -> None:
    community = load_standard("community_service", speed_kmh=5.0).rules[0]
    assert (community.max_walk_min, community.max_walk_m, community.speed_kmh) == (15, 1250, 5)
    kindergarten = load_standard("gb50180_5min", speed_kmh=5.0).rule("kindergarten")
    assert kindergarten.max_walk_m == 300.0
    assert kindergarten.max_walk_min == pytest.approx(3.6)
    assert kindergarten.threshold_text == "300 m (3.6 min at 5 km/h)"


@pytest.mark.parametrize(
    ("name", "walk_m", "tier", "categories"),
    [
        (
            "gb50180_15min",
            1000.0,
            "15min",
            {
                "middle_school",
                "sports",
                "health",
                "elderly_care",
                "culture",
                "community_service",
                "mall",
                "bank",
                "post",
            },
        ),
        ("gb50180_10min", 500.0, "10min", {"primary_school", "sports", "market", "mall", "bank"}),
        (
            "gb50180_5min",
            300.0,
            "5min",
            {
                "community_service",
                "culture",
                "sports",
                "outdoor_fitness",
                "kindergarten",
                "elderly_care",
                "convenience",
            },
        ),
    ],
)
def test_gb50180_tiers(name: str, walk_m: float, tier: str, categories: set[str]) -> None:
    standard = load_standard(name)
    assert set(standard.categories) == categories
    assert len(standard.rules) == len(categories)
    for rule in standard.rules:
        assert rule.max_walk_m == walk_m
        assert rule.tier == tier
        assert rule.key == rule.category
        assert rule.threshold_unit == "m"
        assert "table 3.0.4" in rule.clause
        assert rule.min_floor_area_m2_per_100_households is None
    if tier == "15min":
        assert {rule.recommended_walk_m for rule in standard.rules} == {800.0}
        assert standard.rules[0].recommended_walk_min == 12.0


def test_gb50180_combines_the_three_tiers_as_separate_rules() -> None:
    standard = load_standard("gb50180")
    assert len(standard.rules) == 9 + 5 + 7
    sports = [rule for rule in standard.rules if rule.category == "sports"]
    assert [(r.key, r.max_walk_m) for r in sports] == [
        ("sports_15min", 1000.0),
        ("sports_10min", 500.0),
        ("sports_5min", 300.0),
    ]
    assert standard.rule("elderly_care_5min").max_walk_m == 300.0
    assert standard.rule("elderly_care_15min").max_walk_m == 1000.0
    assert standard.rule("middle_school").tier == "15min"
    assert standard.rule("kindergarten").max_walk_min == 4.5
    assert len(set(standard.keys)) == len(standard.rules)
    assert standard.rule("market").accepted_categories == (
        "market",
        "supermarket",
    )


def test_every_builtin_rule_is_cited_and_in_the_vocabulary() -> None:
    for name in list_standards():
        standard = load_standard(name)
        assert standard.source and standard.title_zh and standard.title_en
        for rule in standard.rules:
            assert rule.source.strip(), (name, rule.key)
            assert rule.clause.strip(), (name, rule.key)
            assert rule.category in CATEGORIES
            assert set(rule.also_accepts) <= set(CATEGORIES)
            assert rule.tier in TIERS
            assert rule.label_zh and rule.label_en


def test_to_dict_is_json_ready_and_has_both_units_and_speed() -> None:
    data = load_standard("gb50180").to_dict()
    text = json.dumps(data, ensure_ascii=False)
    rule = data["rules"][0]
    assert {"max_walk_m", "max_walk_min", "speed_kmh", "threshold_text"} <= set(rule)
    assert "GB 50180-2018" in text


def test_unknown_standard_lists_the_available_names() -> None:
    with pytest.raises(InputError) as info:
        load_standard("gb50181")
    message = str(info.value)
    assert "gb50181" in message
    for name in list_standards():
        assert name in message


def test_missing_user_file() -> None:
    with pytest.raises(InputError, match="does not exist"):
        load_standard("/nonexistent/review.toml")


def test_rule_lookup_error_lists_keys() -> None:
    with pytest.raises(KeyError, match="community_service"):
        load_standard("community_service").rule("health")


# ---------------------------------------------------------------- user files


def write(tmp_path: Path, text: str, name: str = "review.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_user_file_overrides_and_adds_rules(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
extends = "community_service"
name = "chengdu_review"

[[rules]]
category = "community_service"
max_walk_min = 10
min_floor_area_m2_per_100_households = 40
source = "district brief"

[[rules]]
category = "elderly_care"
max_walk_m = 500
""",
    )
    standard = load_standard(path)
    assert standard.name == "chengdu_review"
    assert standard.extends == ("community_service",)
    assert standard.path == str(path.resolve())
    community, elderly = standard.rules
    assert community.max_walk_min == 10
    assert community.max_walk_m == pytest.approx(2000 / 3)
    assert community.min_floor_area_m2_per_100_households == 40
    assert community.source == "district brief"
    assert community.clause == ""
    assert community.tier == "15min"  # kept from the replaced rule
    assert elderly.max_walk_m == 500 and elderly.max_walk_min == 7.5
    assert elderly.source == "user file review.toml"
    assert elderly.tier is None
    assert elderly.label_zh == CATEGORIES["elderly_care"][0]
    assert "community_service.toml" not in standard.title_en
    assert "review.toml" in standard.title_en


def test_override_replaces_the_whole_rule(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        'extends = "community_service"\n'
        '[[rules]]\ncategory = "community_service"\nmax_walk_m = 800\n',
    )
    (rule,) = load_standard(path).rules
    assert rule.max_walk_m == 800 and rule.max_walk_min == 12
    assert rule.min_floor_area_m2_per_100_households is None
    assert rule.threshold_unit == "m"


def test_user_file_without_extends_stands_alone(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        'source = "my plan"\n[[rules]]\ncategory = "Health"\nmax_walk_min = 20\n',
        name="health_only.toml",
    )
    standard = load_standard(path)
    assert standard.name == "health_only"
    (rule,) = standard.rules
    assert rule.category == "health"
    assert rule.max_walk_m == pytest.approx(4000 / 3)
    assert rule.source == "my plan"


def test_user_speed_applies_to_base_rules(tmp_path: Path) -> None:
    path = write(tmp_path, 'extends = "community_service"\nspeed_kmh = 4.8\n')
    standard = load_standard(path)
    assert standard.speed_kmh == 4.8
    assert standard.rules[0].max_walk_m == pytest.approx(1200.0)
    # the caller's speed wins over the file's
    assert load_standard(path, speed_kmh=4.0).rules[0].max_walk_m == 1000.0


def test_override_in_multi_tier_base_needs_a_tier(tmp_path: Path) -> None:
    ambiguous = write(
        tmp_path, 'extends = "gb50180"\n[[rules]]\ncategory = "sports"\nmax_walk_m = 200\n'
    )
    with pytest.raises(InputError) as info:
        load_standard(ambiguous)
    message = str(info.value)
    assert str(ambiguous.resolve()) in message
    assert "rule 1" in message and "'sports'" in message and "'tier'" in message

    precise = write(
        tmp_path,
        'extends = "gb50180"\n[[rules]]\ncategory = "sports"\ntier = "5min"\nmax_walk_m = 200\n',
        name="precise.toml",
    )
    standard = load_standard(precise)
    assert len(standard.rules) == 21
    assert standard.rule("sports_5min").max_walk_m == 200
    assert standard.rule("sports_10min").max_walk_m == 500
    assert standard.rule("sports_15min").max_walk_m == 1000


def test_new_tier_of_a_category_is_added(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        'extends = "gb50180_15min"\n[[rules]]\ncategory = "health"\ntier = "5min"\n'
        "max_walk_m = 300\n",
    )
    standard = load_standard(path)
    assert len(standard.rules) == 10
    assert standard.rule("health_15min").max_walk_m == 1000
    assert standard.rule("health_5min").max_walk_m == 300


def test_extends_a_relative_path_and_a_list(tmp_path: Path) -> None:
    write(tmp_path, '[[rules]]\ncategory = "park"\nmax_walk_m = 400\n', name="parks.toml")
    path = write(tmp_path, 'extends = ["community_service", "parks.toml"]\n', name="both.toml")
    standard = load_standard(path)
    assert [rule.category for rule in standard.rules] == ["community_service", "park"]


def test_extends_cycle_is_reported(tmp_path: Path) -> None:
    write(tmp_path, 'extends = "b.toml"\n', name="a.toml")
    write(tmp_path, 'extends = "a.toml"\n', name="b.toml")
    with pytest.raises(InputError, match="circle"):
        load_standard(tmp_path / "a.toml")


def test_new_category_needs_labels(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[[rules]]\ncategory = "canteen"\nmax_walk_m = 300\nlabel_zh = "社区食堂"\n'
        'label_en = "Community canteen"\n',
    )
    (rule,) = load_standard(path).rules
    assert (rule.category, rule.label_zh) == ("canteen", "社区食堂")


BAD_FILES = [
    # (content, the words the message must contain)
    ("[[rules]\ncategory = 'health'", ["not valid TOML"]),
    ("[[rules]]\nmax_walk_m = 500\n", ["rule 1", "'category'", "missing"]),
    ("[[rules]]\ncategory = 'health'\n", ["rule 1", "'health'", "'max_walk_m'", "missing"]),
    (
        "[[rules]]\ncategory = 'health'\nmax_walk_m = 500\nmax_walk_min = 5\n",
        ["rule 1", "'health'", "'max_walk_m'", "'max_walk_min'", "both"],
    ),
    ("[[rules]]\ncategory = 'health'\nmax_walk_m = -500\n", ["rule 1", "'max_walk_m'", "-500"]),
    ("[[rules]]\ncategory = 'health'\nmax_walk_min = 0\n", ["rule 1", "'max_walk_min'", "0"]),
    ("[[rules]]\ncategory = 'health'\nmax_walk_m = true\n", ["'max_walk_m'", "True"]),
    ("[[rules]]\ncategory = 'health'\nmax_walk_m = '500'\n", ["'max_walk_m'", "'500'"]),
    (
        "[[rules]]\ncategory = 'health'\nmax_walk_m = 500\nradius = 3\n",
        ["rule 1", "'health'", "unknown key 'radius'", "allowed"],
    ),
    (
        "name = 'x'\nthreshold = 3\n[[rules]]\ncategory = 'health'\nmax_walk_m = 500\n",
        ["unknown key 'threshold'"],
    ),
    (
        "[[rules]]\ncategory = 'kindergarden'\nmax_walk_m = 300\n",
        ["rule 1", "'category'", "'kindergarden'", "vocabulary", "kindergarten"],
    ),
    ("[[rules]]\ncategory = 'health'\nmax_walk_m = 300\ntier = '20min'\n", ["'tier'", "20min"]),
    (
        "[[rules]]\ncategory = 'health'\nmax_walk_m = 300\nmin_floor_area_m2_per_100_households"
        " = -30\n",
        ["'min_floor_area_m2_per_100_households'", "-30"],
    ),
    (
        "[[rules]]\ncategory = 'health'\nmax_walk_m = 300\nrecommended_walk_m = 400\n",
        ["'recommended_walk_m'", "larger"],
    ),
    (
        "[[rules]]\ncategory = 'market'\nmax_walk_m = 300\nalso_accepts = ['supermarkt']\n",
        ["'also_accepts'", "supermarkt"],
    ),
    (
        "[[rules]]\ncategory = 'health'\nmax_walk_m = 300\n[[rules]]\ncategory = 'health'\n"
        "max_walk_m = 500\n",
        ["rule 2", "repeats rule 1"],
    ),
    ("[[rules]]\ncategory = 'health'\nmax_walk_m = 300\nsource = 5\n", ["'source'", "text"]),
    ("rules = 3\n", ["'rules'", "[[rules]]"]),
    ("name = 'x'\n", ["no [[rules]]"]),
    ("speed_kmh = 0\n[[rules]]\ncategory = 'health'\nmax_walk_m = 300\n", ["'speed_kmh'"]),
    ("name = 'Bad Name'\n[[rules]]\ncategory = 'health'\nmax_walk_m = 300\n", ["'name'"]),
    ("extends = 'nope'\n", ["unknown standard 'nope'", "community_service"]),
    ("extends = 5\n", ["'extends'"]),
]


@pytest.mark.parametrize(("content", "words"), BAD_FILES)
def test_bad_toml_names_file_rule_and_key(tmp_path: Path, content: str, words: list[str]) -> None:
    path = write(tmp_path, content)
    with pytest.raises(InputError) as info:
        load_standard(path)
    message = str(info.value)
    assert str(path.resolve()) in message
    for word in words:
        assert word in message


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "colour = 'red'\n[[rules]]\ncategory = 'health'\nmax_walk_m = -1\n"
        "[[rules]]\nmax_walk_m = 5\nmax_walk_min = 5\n",
    )
    with pytest.raises(InputError) as info:
        load_standard(path)
    message = str(info.value)
    assert "4 problems" in message
    assert "'colour'" in message and "rule 1" in message and "rule 2" in message


def test_rule_build_and_direct_construction_guard_consistency() -> None:
    with pytest.raises(InputError, match="exactly one"):
        Rule.build("health", max_walk_m=300, max_walk_min=5)
    with pytest.raises(InputError, match="exactly one"):
        Rule.build("health")
    rule = Rule.build("health", max_walk_m=600, speed_kmh=4.0)
    assert (rule.max_walk_min, rule.key, rule.label_en) == (9.0, "health", "Health care")
    with pytest.raises(ValueError, match="does not match"):
        Rule(
            category="health",
            max_walk_m=600,
            max_walk_min=10,
            speed_kmh=4.0,
            min_floor_area_m2_per_100_households=None,
            tier=None,
            source="",
            clause="",
            label_zh="",
            label_en="",
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


# ---------------------------------------------------------------- OSM tags -> category


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        ({"amenity": "kindergarten", "name": "北京大学幼儿园"}, "kindergarten"),
        ({"amenity": "childcare"}, "daycare"),
        ({"amenity": "school", "name": "清华附小"}, "primary_school"),
        ({"amenity": "school", "name": "海淀实验小学"}, "primary_school"),
        ({"amenity": "school", "name": "北京市第一〇一中学"}, "middle_school"),
        ({"amenity": "school", "name": "人大附中初中部"}, "middle_school"),
        ({"amenity": "school", "name": "北京大学附属中学附属小学"}, "primary_school"),
        ({"amenity": "school", "name": "Lincoln High School"}, "middle_school"),
        ({"amenity": "school", "isced:level": "2;3"}, "middle_school"),
        ({"amenity": "school", "isced:level": "1"}, "primary_school"),
        ({"amenity": "school", "isced:level": "1;2"}, "primary_school"),
        ({"amenity": "school"}, "primary_school"),
        ({"amenity": "clinic"}, "health"),
        ({"amenity": "doctors"}, "health"),
        ({"amenity": "hospital", "name": "北京大学第三医院"}, "health"),
        ({"healthcare": "centre", "name": "社区卫生服务中心"}, "health"),
        ({"healthcare": "dentist"}, None),
        ({"healthcare": "pharmacy"}, "pharmacy"),
        ({"amenity": "pharmacy"}, "pharmacy"),
        ({"amenity": "clinic;pharmacy"}, "health"),
        ({"amenity": "nursing_home"}, "elderly_care"),
        ({"amenity": "social_facility", "social_facility:for": "senior"}, "elderly_care"),
        ({"amenity": "social_facility", "social_facility": "assisted_living"}, "elderly_care"),
        ({"amenity": "social_facility", "social_facility": "shelter"}, "community_service"),
        ({"amenity": "community_centre", "name": "学院路社区服务中心"}, "community_service"),
        ({"amenity": "community_centre"}, "community_service"),
        ({"amenity": "community_centre", "name": "东升老年活动中心"}, "elderly_care"),
        ({"amenity": "community_centre", "name": "街道文化活动中心"}, "culture"),
        ({"amenity": "community_centre", "community_centre:for": "senior"}, "elderly_care"),
        ({"amenity": "social_centre"}, "community_service"),
        ({"amenity": "marketplace", "name": "清河菜市场"}, "market"),
        ({"amenity": "library"}, "culture"),
        ({"amenity": "arts_centre"}, "culture"),
        ({"amenity": "theatre"}, "culture"),
        ({"amenity": "post_office"}, "post"),
        ({"amenity": "bank", "name": "中国银行"}, "bank"),
        ({"amenity": "police"}, "police"),
        ({"shop": "supermarket", "name": "物美超市"}, "supermarket"),
        ({"shop": "convenience"}, "convenience"),
        ({"shop": "greengrocer"}, "convenience"),
        ({"shop": "mall"}, "mall"),
        ({"shop": "clothes"}, None),
        ({"leisure": "sports_centre"}, "sports"),
        ({"leisure": "pitch", "sport": "basketball"}, "sports"),
        ({"leisure": "fitness_station"}, "outdoor_fitness"),
        ({"leisure": "park"}, "park"),
        ({"leisure": "playground"}, None),
        ({"building": "school", "name": "信息与电气工程学院"}, None),
        ({"building": "school", "name": "育英中学"}, "middle_school"),
        ({"building": "hospital"}, "health"),
        ({"building": "kindergarten"}, "kindergarten"),
        ({"building": "school"}, "primary_school"),
        ({"building": "hospital", "amenity": "parking"}, "health"),
        # the building type still speaks when the amenity is not a facility; callers such as
        # planner.pois decide whether a building-type-only category counts
        ({"building": "school", "amenity": "university"}, "primary_school"),
        ({"amenity": "school", "name": "清华附中"}, "middle_school"),
        ({"amenity": "school", "name": "清华大学洁华幼儿园"}, "kindergarten"),
        ({"amenity": "school", "name": "北京大学化学学院"}, None),
        ({"amenity": "school", "name": "Ressun lukio"}, "middle_school"),
        ({"amenity": "school", "isced:level": "0"}, "kindergarten"),
        ({"amenity": "school", "isced:level": "0;1"}, "primary_school"),
        ({"amenity": "school", "isced:level": "6"}, None),
        ({"leisure": "fitness_centre", "name": "社区健身器材"}, "outdoor_fitness"),
        ({"leisure": "fitness_centre", "name": "优享健身"}, "sports"),
        ({"amenity": "university", "name": "中国农业大学"}, None),
        # names decide only for features with no amenity/healthcare/shop/leisure tag
        ({"name": "静淑苑社区居委会"}, "community_service"),
        ({"office": "government", "name": "学院路社区服务站"}, "community_service"),
        ({"amenity": "townhall", "name": "东王庄社区居民委员会"}, "community_service"),
        ({"amenity": "townhall", "name": "海淀区人民政府"}, None),
        ({"building": "yes", "name": "北太平庄社区卫生服务站"}, "health"),
        ({"name": "双榆树敬老院"}, "elderly_care"),
        ({"name": "蓝天幼儿园"}, "kindergarten"),
        ({"name": "中关村第三小学"}, "primary_school"),
        ({"name": "清华大学附属中学"}, "middle_school"),
        ({"name": "西苑农贸市场"}, "market"),
        ({"name": "五道口市场"}, "market"),
        ({"name": "海淀区市场监督管理局"}, None),
        ({"name:zh": "知春里社区服务中心", "name": "Zhichunli"}, "community_service"),
        ({"amenity": "parking", "name": "医院停车场"}, None),
        ({"amenity": "veterinary", "name": "宠物医院"}, None),
        ({"name": float("nan"), "amenity": float("nan")}, None),
        ({}, None),
    ],
)
def test_category_from_osm_tags(tags: dict[str, object], expected: str | None) -> None:
    assert category_from_osm_tags(tags) == expected
