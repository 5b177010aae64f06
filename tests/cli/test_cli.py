"""The `planner` command as a review board runs it: files in, output contract and exit code out."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from planner.cli import main

CRS = 32650  # as in conftest


def _args(review: dict[str, Path], out: Path, *extra: str) -> list[str]:
    return [
        "check",
        "--network", str(review["network"]),
        "--facilities", str(review["facilities"]),
        "--residences", str(review["residences"]),
        "--crs", "EPSG:4326",
        "--out", str(out),
        "--quiet",
        "--no-isochrones",
        *extra,
    ]  # fmt: skip


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_passing_review_writes_the_output_contract(review, tmp_path):
    out = tmp_path / "out"
    assert main(_args(review, out)) == 0
    for name in (
        "map.html",
        "residences.gpkg",
        "residences.geojson",
        "facilities.gpkg",
        "summary.json",
        "residences.csv",
        "gaps.csv",
    ):
        assert (out / name).is_file(), name
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["passes"] is True
    assert summary["parameters"]["speed_kmh"] == 4.0
    assert summary["parameters"]["snap_cap_m"] == 500.0
    assert summary["inputs"]["facilities"]["sha256"] == _digest(review["facilities"])
    cov = summary["coverage"][0]
    assert (cov["households_total"], cov["households_covered"]) == (500, 500)
    assert summary["floor_area"]["m2_per_100hh"] == pytest.approx(80)
    residences = gpd.read_file(out / "residences.gpkg")
    assert list(residences["id"]) == ["R1", "R2", "R3", "R4"]
    assert list(residences["walk_m_community_service"].round(3)) == [520, 520, 920, 520]
    assert residences["covered_community_service"].all()
    facilities = gpd.read_file(out / "facilities.gpkg")
    assert list(facilities["households_in_catchment"]) == [300, 200]
    assert not list(tmp_path.glob(".out.partial-*"))


def test_failing_review_exits_1(review, tmp_path, capsys):
    out = tmp_path / "slow"
    assert main(_args(review, out, "--speed-kmh", "3.6")) == 1
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["passes"] is False
    assert summary["coverage"][0]["max_walk_m"] == pytest.approx(900)
    gaps = pd.read_csv(out / "gaps.csv")
    assert list(gaps["id"]) == ["R3"]
    out_zh = capsys.readouterr().out
    assert "：未达标" in out_zh.splitlines()[0]  # the terminal speaks the review's language
    assert "80.0 % 的住户在 900 米 / 15 分钟内 [达标要求]" in out_zh
    assert main(_args(review, tmp_path / "en", "--speed-kmh", "3.6", "--lang", "en")) == 1
    out_en = capsys.readouterr().out
    assert out_en.splitlines()[0].endswith(": FAIL")
    assert "80.0 % of households within 900 m / 15 min [required]" in out_en


def test_terminal_columns_align_by_display_width():
    from planner.cli._terminal import display_width, pad, summary_lines

    assert display_width("社区abc") == 7
    assert display_width(pad("社区", 6)) == 6
    summary = {
        "passes": False,
        "standard": {"title_zh": "标准", "title_en": "Standard"},
        "coverage": [
            {
                "key": k,
                "label_zh": zh,
                "rate": 0.5,
                "max_walk_m": 1000.0,
                "max_walk_min": 15.0,
                "required": True,
            }
            for k, zh in (("kindergarten", "幼儿园"), ("health_centre", "社区卫生服务中心"))
        ],
        "floor_area": None,
    }
    lines = summary_lines(summary, None, "zh")[1:]
    starts = {display_width(line.split("  50.0")[0]) for line in lines}
    assert len(starts) == 1  # the rates start in one column, Chinese labels or not


def test_bad_input_exits_2_and_writes_nothing(review, tmp_path, capsys):
    bad = tmp_path / "no_households.csv"
    pd.read_csv(review["residences"]).drop(columns="households").to_csv(bad, index=False)
    before = _digest(bad)
    out = tmp_path / "never"
    args = _args(review, out)
    args[args.index("--residences") + 1] = str(bad)
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "no_households.csv" in err and "households" in err
    assert not out.exists()
    assert not list(tmp_path.glob(".never.partial-*"))
    assert _digest(bad) == before


def test_unknown_standard_exits_2(review, tmp_path, capsys):
    assert main(_args(review, tmp_path / "o", "--standard", "no_such_rule")) == 2
    assert "no_such_rule" in capsys.readouterr().err


def test_config_file_with_relative_paths_and_flag_override(review, tmp_path):
    config = tmp_path / "review.toml"
    config.write_text(
        "\n".join(
            [
                f'network = "{review["network"].name}"',
                f'facilities = "{review["facilities"].name}"',  # the old form still works
                'out = "configured"',
                "speed_kmh = 3.6",
                "isochrones = false",
                'lang = "en"',
                "[residences]",  # a layer's own table: the CSV's CRS is its own
                f'path = "{review["residences"].name}"',
                'crs = "EPSG:4326"',
            ]
        ),
        encoding="utf-8",
    )
    assert main(["check", "--config", str(config), "--quiet"]) == 1
    assert (tmp_path / "configured" / "summary.json").is_file()
    assert main(["check", "--config", str(config), "--speed-kmh", "4", "--quiet"]) == 0


def test_bad_config_exits_2(tmp_path, capsys):
    config = tmp_path / "review.toml"
    config.write_text('network = "x.osm"\nspeeed_kmh = 4\n', encoding="utf-8")
    assert main(["check", "--config", str(config)]) == 2
    assert "speeed_kmh" in capsys.readouterr().err


def test_runs_are_byte_identical(review, tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    assert main(_args(review, first)) == 0
    assert main(_args(review, second)) == 0
    for name in (
        "residences.csv",
        "facilities.csv",
        "gaps.csv",
        "summary.json",
        "residences.geojson",
        "residences.gpkg",
        "facilities.gpkg",
    ):
        assert _digest(first / name) == _digest(second / name), name


def test_proposed_plan_reports_before_and_after(review, tmp_path):
    planned = gpd.GeoDataFrame(
        {"id": ["P1"], "category": ["community_service"], "floor_area_m2": [200.0]},
        geometry=[shapely.Point(441_600, 4_420_010)],
        crs=CRS,
    ).to_crs(4326)
    planned_path = tmp_path / "planned.gpkg"
    planned.to_file(planned_path)
    out = tmp_path / "plan"
    # At 3.6 km/h R3 is uncovered; a planned centre next to it fixes that.
    assert main(_args(review, out, "--speed-kmh", "3.6", "--proposed", str(planned_path))) == 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    comparison = summary["comparison"]
    assert comparison["passes_before"] is False and comparison["passes_after"] is True
    row = comparison["coverage"][0]
    assert row["rate_before"] == pytest.approx(0.8) and row["rate_after"] == 1.0
    facilities = gpd.read_file(out / "facilities.gpkg")
    assert list(facilities["proposed"]) == [False, False, True]


def test_network_command_saves_and_reports(tmp_path, capsys):
    saved = tmp_path / "oakland.network"
    assert main(["network", "data/us_west_oakland_osmnx.osm.bz2", "--save", str(saved)]) == 0
    assert "nodes" in capsys.readouterr().out
    assert (saved / "network.json").is_file()
    assert main(["network", "does_not_exist.osm.pbf"]) == 2


@pytest.mark.parametrize("command", ["network", "households"])
def test_network_and_households_speak_chinese_unless_told_english(command, tmp_path, capsys):
    """Like the review commands, the two preparing commands print a user's error in Chinese
    first by default, and in English only with --lang en."""
    missing = str(tmp_path / "没有.osm.pbf")
    out = ["--out", str(tmp_path / "out")]
    args = [command, missing] if command == "network" else [command, "--buildings", missing, *out]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "没有.osm.pbf" in err and "(English)" in err
    assert any("\u4e00" <= ch <= "\u9fff" for ch in err.split("English")[0])
    assert main([*args, "--lang", "en"]) == 2
    err = capsys.readouterr().err
    assert "English" not in err and not any(
        "\u4e00" <= ch <= "\u9fff" for ch in err.replace(missing, "")
    )


def test_propose_command_covers_the_gap(review, tmp_path, capsys):
    out = tmp_path / "proposal"
    args = _args(review, out, "--speed-kmh", "3.6", "--sites", "1")
    args[0] = "propose"
    assert main(args) == 0
    sites = gpd.read_file(out / "proposals.gpkg")
    assert len(sites) == 1 and sites["households_newly_covered"].iloc[0] == 100
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["comparison"]["passes_before"] is False
    assert summary["comparison"]["passes_after"] is True
    assert "P1" in capsys.readouterr().out


def test_propose_needs_sites_or_cover_all(review, tmp_path, capsys):
    args = _args(review, tmp_path / "p")
    args[0] = "propose"
    assert main(args) == 2
    assert "--sites" in capsys.readouterr().err


def test_tianditu_without_key_is_refused_before_any_work(review, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("TIANDITU_KEY", raising=False)
    out = tmp_path / "t"
    assert main([*_args(review, out), "--basemap", "tianditu"]) == 2
    assert "--tianditu-key" in capsys.readouterr().err
    assert not out.exists()
