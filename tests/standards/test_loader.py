"""Tests for planner.standards.loader: the built-in catalogue and user TOML files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from planner.errors import InputError
from planner.standards import (
    CATEGORIES,
    DEFAULT_STANDARD,
    TIERS,
    Targets,
    list_standards,
    load_standard,
)

# ---------------------------------------------------------------- the built-in catalogue


def test_list_standards() -> None:
    assert list_standards() == [
        "chengdu",
        "community_service",
        "gb50180",
        "gb50180_10min",
        "gb50180_15min",
        "gb50180_5min",
    ]
    assert DEFAULT_STANDARD == "community_service"


def test_default_standard_is_walk_coverage_and_floor_area_per_community() -> None:
    standard = load_standard(DEFAULT_STANDARD)
    assert standard.name == "community_service"
    assert standard.speed_kmh == 4.0
    assert standard.path is None
    walk, area = standard.rules
    assert (walk.key, walk.category, walk.per) == (
        "community_service",
        "community_service",
        "residence",
    )
    assert walk.threshold_unit == "min"
    assert walk.max_walk_min == 15.0
    assert walk.max_walk_m == 1000.0
    assert walk.min_floor_area_m2_per_100_households is None
    assert walk.tier == "15min"
    assert walk.threshold_text == "15 min (1000 m at 4 km/h)"
    assert walk.checks_coverage and walk.walk_given
    assert "GB 50180-2018" in walk.source
    assert walk.verified is False and walk.quote
    assert (area.key, area.category, area.per) == (
        "community_service_floor_area",
        "community_service",
        "community",
    )
    assert area.min_floor_area_m2_per_100_households == 30.0
    assert area.target_m2_per_100_households == 80.0
    assert area.min_floor_area_m2 is None
    assert not area.checks_coverage and not area.walk_given
    assert area.max_walk_min == 15.0  # the catchment fallback view's walk
    assert area.tier is None
    assert standard.floor_area_rules == (area,)
    assert standard.coverage_rules == (walk,)
    assert "每百户" in area.clause and "嵌入式" in area.source and "十四五" in area.source
    assert area.verified is True and "30平方米" in area.quote and "80平方米" in area.quote
    assert standard.targets == Targets()


def test_speed_changes_metres_of_minute_rules_and_minutes_of_metre_rules() -> None:
    community = load_standard("community_service", speed_kmh=5.0).rule("community_service")
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
                "sports_ground",
                "health_centre",
                "elderly_care_home",
                "culture",
                "community_service",
                "mall",
                "bank",
                "post",
            },
        ),
        (
            "gb50180_10min",
            500.0,
            "10min",
            {"primary_school", "sports_ground", "market", "mall", "bank"},
        ),
        (
            "gb50180_5min",
            300.0,
            "5min",
            {
                "community_service",
                "culture",
                "pitch",
                "outdoor_fitness",
                "kindergarten",
                "elderly_day_care",
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
        assert "table 3.0.4" in rule.clause and "not verified" in rule.clause
        assert rule.min_floor_area_m2_per_100_households is None
        assert rule.per == "residence"
        assert rule.verified is False and rule.quote
        # 800-1000 m is a range, not a recommendation
        assert rule.recommended_walk_m is None
    table = "B.0.2" if tier == "5min" else "B.0.1"
    assert all(table in rule.clause for rule in standard.rules)


def test_gb50180_combines_the_three_tiers_as_separate_rules() -> None:
    standard = load_standard("gb50180")
    assert len(standard.rules) == 9 + 5 + 7
    grounds = [rule for rule in standard.rules if rule.category == "sports_ground"]
    assert [(r.key, r.max_walk_m) for r in grounds] == [
        ("sports_ground_15min", 1000.0),
        ("sports_ground_10min", 500.0),
    ]
    assert standard.rule("pitch").max_walk_m == 300.0
    assert standard.rule("elderly_day_care").max_walk_m == 300.0
    assert standard.rule("elderly_care_home").max_walk_m == 1000.0
    assert standard.rule("middle_school").tier == "15min"
    assert standard.rule("kindergarten").max_walk_min == 4.5
    assert len(set(standard.keys)) == len(standard.rules)
    assert standard.rule("market").accepted_categories == ("market", "fresh_supermarket")


def test_every_builtin_rule_is_cited_and_in_the_vocabulary() -> None:
    for name in list_standards():
        standard = load_standard(name)
        assert standard.source and standard.title_zh and standard.title_en
        for rule in standard.rules:
            assert rule.source.strip(), (name, rule.key)
            assert rule.clause.strip(), (name, rule.key)
            assert rule.category in CATEGORIES
            assert set(rule.also_accepts) <= set(CATEGORIES)
            assert rule.tier in TIERS or (rule.per == "community" and rule.tier is None)
            assert rule.label_zh and rule.label_en
            assert isinstance(rule.verified, bool), (name, rule.key)
            assert rule.quote.strip(), (name, rule.key)
            assert rule.recommended_walk_m is None, (name, rule.key)


def test_to_dict_is_json_ready_and_has_both_units_and_speed() -> None:
    data = load_standard("gb50180").to_dict()
    text = json.dumps(data, ensure_ascii=False)
    rule = data["rules"][0]
    assert {"max_walk_m", "max_walk_min", "speed_kmh", "threshold_text"} <= set(rule)
    assert {
        "per",
        "checks_coverage",
        "min_coverage_rate",
        "min_floor_area_m2",
        "min_facility_floor_area_m2",
        "preferred_facility_floor_area_m2",
        "target_m2_per_100_households",
        "verified",
        "quote",
        "source",
        "clause",
    } <= set(rule)
    assert "targets" in data
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
    with pytest.raises(KeyError, match="community_service_floor_area"):
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
    # a walk + floor area rule (per = "catchment") replaces both the walk and the floor-area rule
    community, elderly = standard.rules
    assert community.per == "catchment" and community.key == "community_service"
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
    # a walk rule replaces the base's walk rule; the per-community floor-area rule stays
    rule, area = load_standard(path).rules
    assert rule.max_walk_m == 800 and rule.max_walk_min == 12
    assert rule.min_floor_area_m2_per_100_households is None
    assert rule.threshold_unit == "m"
    assert rule.tier == "15min" and rule.source == "user file review.toml"
    assert area.key == "community_service_floor_area"


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
    assert standard.rules[1].max_walk_min == 15.0  # the fallback walk stays 15 min
    # the caller's speed wins over the file's
    assert load_standard(path, speed_kmh=4.0).rules[0].max_walk_m == 1000.0


def test_override_in_multi_tier_base_needs_a_tier(tmp_path: Path) -> None:
    ambiguous = write(
        tmp_path, 'extends = "gb50180"\n[[rules]]\ncategory = "sports_ground"\nmax_walk_m = 200\n'
    )
    with pytest.raises(InputError) as info:
        load_standard(ambiguous)
    message = str(info.value)
    assert str(ambiguous.resolve()) in message
    assert "rule 1" in message and "'sports_ground'" in message and "'tier'" in message

    precise = write(
        tmp_path,
        'extends = "gb50180"\n[[rules]]\ncategory = "sports_ground"\ntier = "10min"\n'
        "max_walk_m = 200\n",
        name="precise.toml",
    )
    standard = load_standard(precise)
    assert len(standard.rules) == 21
    assert standard.rule("sports_ground_10min").max_walk_m == 200
    assert standard.rule("sports_ground_15min").max_walk_m == 1000


def test_new_tier_of_a_category_is_added(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        'extends = "gb50180_15min"\n[[rules]]\ncategory = "health_centre"\ntier = "5min"\n'
        "max_walk_m = 300\n",
    )
    standard = load_standard(path)
    assert len(standard.rules) == 10
    assert standard.rule("health_centre_15min").max_walk_m == 1000
    assert standard.rule("health_centre_5min").max_walk_m == 300


def test_extends_a_relative_path_and_a_list(tmp_path: Path) -> None:
    write(tmp_path, '[[rules]]\ncategory = "park"\nmax_walk_m = 400\n', name="parks.toml")
    path = write(tmp_path, 'extends = ["community_service", "parks.toml"]\n', name="both.toml")
    standard = load_standard(path)
    assert [rule.key for rule in standard.rules] == [
        "community_service",
        "community_service_floor_area",
        "park",
    ]


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
