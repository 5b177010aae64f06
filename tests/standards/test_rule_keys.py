"""The rule keys of issue #16 (per, coverage rate, floor-area minimums, target, verified, quote)
and the [targets] table: good values, and clear errors naming the file, the rule and the key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from planner.errors import InputError
from planner.standards import COMMUNITY_FALLBACK_WALK_MIN, Rule, Targets, load_standard


def write(tmp_path: Path, text: str, name: str = "review.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------- per and its defaults


def test_per_defaults() -> None:
    walk = Rule.build("health", max_walk_m=500)
    assert (walk.per, walk.checks_coverage, walk.walk_given) == ("residence", True, True)
    combined = Rule.build(
        "community_service", max_walk_min=15, min_floor_area_m2_per_100_households=30
    )
    assert (combined.per, combined.checks_coverage) == ("catchment", True)
    area = Rule.build("community_service", min_floor_area_m2_per_100_households=30)
    assert (area.per, area.checks_coverage, area.walk_given) == ("community", False, False)
    assert area.max_walk_min == COMMUNITY_FALLBACK_WALK_MIN == 15
    assert area.threshold_unit == "min"
    assert area.with_speed(5.0).max_walk_m == 1250.0
    walked = Rule.build(
        "community_service",
        per="community",
        max_walk_m=800,
        min_floor_area_m2_per_100_households=30,
    )
    assert (walked.per, walked.walk_given, walked.max_walk_m) == ("community", True, 800.0)
    assert walk.min_coverage_rate == 1.0 and walk.verified is None and walk.quote == ""


def test_rule_build_rejects_what_does_not_fit() -> None:
    with pytest.raises(InputError, match="'per'"):
        Rule.build("health", max_walk_m=500, per="household")
    with pytest.raises(InputError, match="max_walk_m or max_walk_min"):
        Rule.build("health")
    with pytest.raises(InputError, match="per-community rule is a floor-area rule"):
        Rule.build("health", max_walk_m=500, per="community")
    with pytest.raises(InputError, match="'residence'"):
        Rule.build(
            "health", max_walk_m=500, per="residence", min_floor_area_m2_per_100_households=3
        )
    with pytest.raises(InputError, match="min_coverage_rate"):
        Rule.build("health", max_walk_m=500, min_coverage_rate=0)
    with pytest.raises(InputError, match="min_floor_area_m2"):
        Rule.build("health", max_walk_m=500, min_floor_area_m2=600)
    with pytest.raises(InputError, match="preferred"):
        Rule.build(
            "health",
            max_walk_m=500,
            min_facility_floor_area_m2=800,
            preferred_facility_floor_area_m2=600,
        )


def test_new_keys_read_from_a_file_and_into_to_dict(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
name = "district"
source = "district brief"

[targets]
compliant_per_subdistrict = 3
compliant_share = 0.5
min_coverage_rate = 0.9

[[rules]]
category = "community_service"
max_walk_min = 15
min_coverage_rate = 0.95
verified = true
quote = "every household within 15 minutes"

[[rules]]
category = "community_service"
per = "community"
min_floor_area_m2_per_100_households = 30
min_floor_area_m2 = 600
target_m2_per_100_households = 80

[[rules]]
key = "embedded_complex"
category = "community_complex"
max_walk_min = 15
min_facility_floor_area_m2 = 600
preferred_facility_floor_area_m2 = 800
verified = false
quote = "一般不应小于600平方米"
""",
    )
    standard = load_standard(path)
    assert standard.keys == (
        "community_service",
        "community_service_floor_area",
        "embedded_complex",
    )
    walk, area, complex_ = standard.rules
    assert walk.min_coverage_rate == 0.95 and walk.verified is True and walk.per == "residence"
    assert (area.per, area.min_floor_area_m2, area.target_m2_per_100_households) == (
        "community",
        600.0,
        80.0,
    )
    assert (
        complex_.min_facility_floor_area_m2 == 600
        and complex_.preferred_facility_floor_area_m2 == 800
    )
    assert not complex_.accepts_facility("community_complex", 500)
    assert standard.targets == Targets(
        min_coverage_rate=0.9, compliant_per_subdistrict=3, compliant_share=0.5
    )
    assert standard.targets.any
    data = json.loads(json.dumps(standard.to_dict(), ensure_ascii=False))
    assert data["targets"]["compliant_per_subdistrict"] == 3
    assert data["rules"][1]["per"] == "community"
    assert data["rules"][1]["checks_coverage"] is False
    assert data["rules"][2]["quote"] == "一般不应小于600平方米"
    assert data["rules"][2]["min_facility_floor_area_m2"] == 600


def test_targets_come_from_the_base_unless_the_file_sets_them(tmp_path: Path) -> None:
    inherited = load_standard(write(tmp_path, 'extends = "chengdu"\n'))
    assert inherited.targets.compliant_per_subdistrict == 2
    own = load_standard(
        write(tmp_path, 'extends = "chengdu"\n[targets]\ncompliant_per_subdistrict = 0\n', "b.toml")
    )
    assert own.targets.compliant_per_subdistrict == 0
    assert not load_standard("community_service").targets.any


def test_targets_validate() -> None:
    assert Targets().to_dict()["compliant_share"] is None
    assert not Targets().any and Targets(compliant_share=0.0).any
    for kwargs, key in [
        ({"min_coverage_rate": 1.5}, "min_coverage_rate"),
        ({"min_coverage_rate": True}, "min_coverage_rate"),
        ({"compliant_share": -0.1}, "compliant_share"),
        ({"compliant_share": "half"}, "compliant_share"),
        ({"compliant_per_subdistrict": 2.5}, "compliant_per_subdistrict"),
        ({"compliant_per_subdistrict": -1}, "compliant_per_subdistrict"),
        ({"compliant_per_subdistrict": True}, "compliant_per_subdistrict"),
    ]:
        with pytest.raises(InputError, match=rf"\[targets\] {key}"):
            Targets(**kwargs)  # type: ignore[arg-type]


def test_a_user_key_replaces_that_base_rule(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        'extends = "community_service"\n[[rules]]\nkey = "community_service_floor_area"\n'
        'category = "community_service"\nper = "community"\n'
        "min_floor_area_m2_per_100_households = 40\n",
    )
    walk, area = load_standard(path).rules
    assert walk.key == "community_service" and walk.max_walk_min == 15
    assert area.key == "community_service_floor_area"
    assert area.min_floor_area_m2_per_100_households == 40
    assert area.target_m2_per_100_households is None  # the whole rule is replaced


def test_a_floor_area_rule_replaces_only_the_base_floor_area_rule(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        'extends = "community_service"\n[[rules]]\ncategory = "community_service"\n'
        "min_floor_area_m2_per_100_households = 40\nmin_floor_area_m2 = 300\n",
    )
    walk, area = load_standard(path).rules
    assert walk.per == "residence" and walk.source.startswith("GB 50180")
    assert (area.per, area.min_floor_area_m2_per_100_households, area.min_floor_area_m2) == (
        "community",
        40,
        300,
    )


BAD = [
    ("per = 'household'", ["'per'", "'household'", "community"]),
    ("per = 3", ["'per'", "text"]),
    ("per = 'community'", ["'per'", "'community'", "'min_floor_area_m2_per_100_households'"]),
    (
        "per = 'residence'\nmin_floor_area_m2_per_100_households = 30",
        ["'per'", "'residence'", "catchment"],
    ),
    ("min_coverage_rate = 0", ["'min_coverage_rate'", "0 < x <= 1"]),
    ("min_coverage_rate = 1.2", ["'min_coverage_rate'", "1.2"]),
    ("min_coverage_rate = true", ["'min_coverage_rate'", "True"]),
    ("min_floor_area_m2 = 600", ["'min_floor_area_m2'", "needs"]),
    (
        "min_floor_area_m2_per_100_households = 30\nmin_floor_area_m2 = -600",
        ["'min_floor_area_m2'", "-600"],
    ),
    ("min_facility_floor_area_m2 = 0", ["'min_facility_floor_area_m2'", "positive"]),
    (
        "min_facility_floor_area_m2 = 800\npreferred_facility_floor_area_m2 = 600",
        ["'preferred_facility_floor_area_m2'", "smaller"],
    ),
    ("target_m2_per_100_households = 80", ["'target_m2_per_100_households'", "needs"]),
    (
        "min_floor_area_m2_per_100_households = 30\ntarget_m2_per_100_households = 20",
        ["'target_m2_per_100_households'", "smaller"],
    ),
    ("verified = 'yes'", ["'verified'", "true or false"]),
    ("quote = 5", ["'quote'", "text"]),
    ("key = 'Bad Key'", ["'key'", "snake_case"]),
]


@pytest.mark.parametrize(("extra", "words"), BAD)
def test_bad_new_keys_name_file_rule_and_key(tmp_path: Path, extra: str, words: list[str]) -> None:
    path = write(
        tmp_path, f"[[rules]]\ncategory = 'community_service'\nmax_walk_m = 500\n{extra}\n"
    )
    if "per = 'community'" in extra:
        path = write(tmp_path, f"[[rules]]\ncategory = 'community_service'\n{extra}\n")
    with pytest.raises(InputError) as info:
        load_standard(path)
    message = str(info.value)
    assert str(path.resolve()) in message
    assert "rule 1" in message and "'community_service'" in message
    for word in words:
        assert word in message


@pytest.mark.parametrize(
    ("table", "words"),
    [
        (
            "[targets]\ncompliant_per_subdistrict = 1.5\n",
            ["[targets] compliant_per_subdistrict", "1.5"],
        ),
        ("[targets]\ncompliant_share = 2\n", ["[targets] compliant_share", "0 to 1"]),
        ("[targets]\nmin_coverage_rate = 'all'\n", ["[targets] min_coverage_rate"]),
        ("[targets]\nper_district = 3\n", ["[targets] unknown key 'per_district'", "allowed"]),
        ("targets = 3\n", ["'targets'", "table"]),
    ],
)
def test_bad_targets_name_file_and_key(tmp_path: Path, table: str, words: list[str]) -> None:
    path = write(tmp_path, table + "[[rules]]\ncategory = 'health'\nmax_walk_m = 500\n")
    with pytest.raises(InputError) as info:
        load_standard(path)
    message = str(info.value)
    assert str(path.resolve()) in message
    for word in words:
        assert word in message


def test_repeated_keys_and_rules_are_reported(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "[[rules]]\nkey = 'a'\ncategory = 'health'\nmax_walk_m = 500\n"
        "[[rules]]\nkey = 'a'\ncategory = 'park'\nmax_walk_m = 500\n",
    )
    with pytest.raises(InputError, match="rule 2.*'a'.*unique"):
        load_standard(path)
    # a walk rule and a per-community floor-area rule of one category do not clash
    ok = write(
        tmp_path,
        "[[rules]]\ncategory = 'health'\nmax_walk_m = 500\n"
        "[[rules]]\ncategory = 'health'\nmin_floor_area_m2_per_100_households = 5\n",
        "ok.toml",
    )
    assert load_standard(ok).keys == ("health", "health_floor_area")
