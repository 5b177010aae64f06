"""The built-in chengdu standard: every rule cited, its verified status said, the targets set."""

from __future__ import annotations

from planner.standards import CATEGORIES, TIERS, load_standard


def test_chengdu_loads_and_every_rule_has_source_and_verified() -> None:
    standard = load_standard("chengdu")
    assert standard.name == "chengdu" and standard.path is None
    assert "成都" in standard.title_zh and standard.source
    for rule in standard.rules:
        assert rule.source.strip() and rule.clause.strip(), rule.key
        assert isinstance(rule.verified, bool), rule.key
        assert rule.quote.strip(), rule.key
        assert rule.category in CATEGORIES, rule.key
        assert rule.tier in TIERS or rule.per == "community", rule.key
        if not rule.verified:
            # what is not verified says what it rests on: GB 50180's tier or the reviewer's choice
            assert "GB 50180" in rule.source + rule.clause or "reviewer's choice" in rule.note


def test_chengdu_circle_complex_floor_area_and_targets() -> None:
    standard = load_standard("chengdu")
    complex_ = standard.rule("community_complex")
    assert complex_.max_walk_min == 15 and "reviewer's choice" in complex_.note
    assert "十五分钟基本公共服务圈" in complex_.source
    area = standard.rule("community_service_floor_area")
    assert area.per == "community" and not area.checks_coverage
    assert area.min_floor_area_m2_per_100_households == 30
    assert area.min_floor_area_m2 == 600
    assert area.target_m2_per_100_households == 80
    assert area.verified is True
    assert "成都市城乡社区发展治理工程实施方案" in area.source and "四川" in area.source
    assert "30平方米" in area.quote
    assert standard.targets.compliant_per_subdistrict == 2
    assert standard.targets.any and "金牛区" in standard.targets.source
    assert standard.targets.verified is False
    assert standard.floor_area_rules == (area,)


def test_chengdu_items_keep_tiers_apart() -> None:
    standard = load_standard("chengdu")
    assert {r.key for r in standard.rules} >= {
        "middle_school",
        "primary_school",
        "kindergarten",
        "health_centre",
        "health_station",
        "market",
        "culture_15min",
        "culture_5min",
        "sports_ground",
        "sports_centre",
        "community_service",
        "elderly_care",
        "police",
    }
    assert not standard.rule("health_centre").accepts_facility("health_station")
    assert not standard.rule("market").accepts_facility("supermarket")
    assert standard.rule("market").accepts_facility("fresh_supermarket")
    assert not standard.rule("sports_ground").accepts_facility("pitch")
    assert standard.rule("elderly_care").accepts_facility("elderly_day_care")
    assert standard.rule("culture_5min").max_walk_m == 300
    assert standard.rule("primary_school").max_walk_m == 500
