"""Tests for planner.households: estimates from buildings and from a population layer."""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from planner.errors import InputError
from planner.households import (
    BUILDING_DEFAULTS,
    DEFAULT_HOUSEHOLD_SIZE,
    households_from_buildings,
    households_from_population,
)

DATA = Path(__file__).resolve().parents[1] / "data"
HELSINKI_GRID = DATA / "fi_helsinki_population_grid_2020_hsy.gpkg"

UTM50 = "EPSG:32650"  # Beijing, metres


def rect(x: float, y: float, w: float, h: float) -> shapely.Polygon:
    return shapely.box(x, y, x + w, y + h)


def hand_buildings() -> gpd.GeoDataFrame:
    """Five buildings in UTM 50N (metres) with hand-workable numbers."""
    return gpd.GeoDataFrame(
        {
            "building": ["apartments", "house", None, "school", "dormitory"],
            "building:levels": ["6", None, None, "3", "4;5"],
        },
        geometry=[
            rect(440000, 4430000, 20, 30),  # 600 m2
            rect(440100, 4430000, 10, 10),  # 100 m2
            rect(440200, 4430000, 15, 20),  # 300 m2
            rect(440300, 4430000, 50, 40),  # 2000 m2
            rect(440400, 4430000, 10, 40),  # 400 m2
        ],
        index=pd.Index([11, 12, 13, 14, 15], name="osm_id"),
        crs=UTM50,
    )


# ---------------------------------------------------------------- from buildings


def test_households_from_buildings_hand_worked() -> None:
    buildings = hand_buildings()
    out = households_from_buildings(buildings)
    assert out.index.tolist() == [11, 12, 13, 14, 15]
    assert out["footprint_m2"].tolist() == [600.0, 100.0, 300.0, 2000.0, 400.0]
    assert out["levels"].tolist() == [6.0, 2.0, 6.0, 3.0, 4.0]
    assert out["levels_source"].tolist() == ["tag", "default", "default", "tag", "tag"]
    assert out["gross_floor_area_m2"].tolist() == [3600.0, 200.0, 1800.0, 6000.0, 1600.0]
    # 3600/95 = 37.89; 200/120 = 1.67; 1800/95 = 18.95; school: 0; 1600/30 = 53.33
    assert out["households"].tolist() == [37.9, 1.7, 18.9, 0.0, 53.3]
    assert out["households_estimated"].all()
    methods = out["households_method"].tolist()
    assert all(m.startswith("estimate:buildings(") for m in methods)
    assert "building=apartments: 600.0 m2 footprint x 6 levels (tag) / 95 m2" in methods[0]
    assert "2 levels (default) / 120 m2" in methods[1]
    assert "building=yes" in methods[2]
    assert "not residential" in methods[3]


def test_buildings_input_is_not_modified() -> None:
    buildings = hand_buildings()
    before = buildings.copy()
    households_from_buildings(buildings)
    pd.testing.assert_frame_equal(buildings, before)
    assert "households" not in buildings.columns


def test_overrides_by_number_and_by_type() -> None:
    buildings = hand_buildings()
    flat = households_from_buildings(buildings, m2_per_household=100, decimals=2)
    assert flat["households"].tolist() == [36.0, 2.0, 18.0, 0.0, 16.0]
    per_type = households_from_buildings(
        buildings, m2_per_household={"apartments": 90}, default_levels={"yes": 3, "school": 2}
    )
    # apartments 3600/90 = 40; yes 300 × 3 / 95 = 9.47; school becomes residential:
    # tagged 3 levels, 6000 / 95 (residential default m2) = 63.16
    assert per_type["households"].tolist() == [40.0, 1.7, 9.5, 63.2, 53.3]
    everywhere_two = households_from_buildings(buildings, default_levels=2)
    assert everywhere_two["levels"].tolist() == [6.0, 2.0, 2.0, 3.0, 4.0]


def test_footprint_is_measured_in_a_projected_crs() -> None:
    buildings = hand_buildings().to_crs("EPSG:4326")
    out = households_from_buildings(buildings)
    assert out.crs == buildings.crs
    np.testing.assert_allclose(out["footprint_m2"], [600, 100, 300, 2000, 400], atol=0.2)
    assert out["households"].tolist() == [37.9, 1.7, 18.9, 0.0, 53.3]


def test_level_tags_that_are_not_counts_fall_back_to_defaults(
    caplog: pytest.LogCaptureFixture,
) -> None:
    buildings = gpd.GeoDataFrame(
        {
            "building": ["apartments"] * 5,
            "building:levels": ["many", "0", "500", " 7 ", 5.5],
        },
        geometry=[rect(440000 + 50 * i, 4430000, 10, 10) for i in range(5)],
        crs=UTM50,
    )
    with caplog.at_level(logging.WARNING, logger="planner.households"):
        out = households_from_buildings(buildings)
    assert out["levels"].tolist() == [6.0, 6.0, 6.0, 7.0, 5.5]
    assert out["levels_source"].tolist() == ["default", "default", "default", "tag", "tag"]
    assert "3 values of 'building:levels'" in caplog.text


def test_missing_type_and_levels_columns_mean_residential_defaults() -> None:
    buildings = gpd.GeoDataFrame(geometry=[rect(440000, 4430000, 19, 10)], crs=UTM50)
    out = households_from_buildings(buildings)
    assert out["households"].tolist() == [12.0]  # 190 × 6 / 95


def test_building_errors() -> None:
    points = gpd.GeoDataFrame(
        {"building": ["yes", "yes"]},
        geometry=[shapely.Point(440000, 4430000), rect(0, 0, 1, 1)],
        index=["a", "b"],
        crs=UTM50,
    )
    with pytest.raises(InputError, match=r"1 rows have no polygon geometry \(rows 'a'\)"):
        households_from_buildings(points)
    with pytest.raises(InputError, match="no CRS"):
        households_from_buildings(hand_buildings().set_crs(None, allow_override=True))
    with pytest.raises(InputError, match="m2_per_household"):
        households_from_buildings(hand_buildings(), m2_per_household=-95)
    with pytest.raises(InputError, match=r"default_levels\['house'\]"):
        households_from_buildings(hand_buildings(), default_levels={"house": 0})
    with pytest.raises(InputError, match="GeoDataFrame"):
        households_from_buildings(pd.DataFrame({"a": [1]}))  # type: ignore[arg-type]


def test_defaults_table_is_documented_in_the_module() -> None:
    import planner.households as module

    assert module.__doc__ is not None
    for building_type, defaults in BUILDING_DEFAULTS.items():
        assert building_type in module.__doc__
        assert f"{defaults.m2_per_household:g}" in module.__doc__
    assert DEFAULT_HOUSEHOLD_SIZE == 2.62


# ---------------------------------------------------------------- from population, hand-worked


def hand_grid() -> gpd.GeoDataFrame:
    """Three 100 m cells: A 262 persons, B 131 persons, C 0 persons."""
    return gpd.GeoDataFrame(
        {"cell": ["A", "B", "C"], "population": [262, 131, 0]},
        geometry=[
            rect(440000, 4430000, 100, 100),
            rect(440100, 4430000, 100, 100),
            rect(440200, 4430000, 100, 100),
        ],
        crs=UTM50,
    )


def test_integer_cell_ids_stay_integers_when_a_building_is_in_no_cell() -> None:
    grid = hand_grid().assign(cell=[7, 8, 9])
    buildings = gpd.GeoDataFrame(
        {"building": ["apartments", "apartments"]},
        geometry=[rect(440010, 4430010, 10, 10), rect(440900, 4430010, 10, 10)],
        crs=UTM50,
    )
    res = households_from_population(grid, buildings, cell_id_col="cell").residences
    cells = res["population_cell"]
    assert str(cells.dtype) == "Int64"
    assert cells.isna().tolist() == [False, True, False]
    assert cells.dropna().tolist() == [7, 8]


def test_population_hand_worked() -> None:
    buildings = gpd.GeoDataFrame(
        {"building": ["apartments", "apartments", "school", "house", "apartments"]},
        geometry=[
            rect(440010, 4430010, 10, 10),  # A, 100 m2 x 6
            rect(440030, 4430010, 30, 10),  # A, 300 m2 x 6: three times the first
            rect(440060, 4430060, 20, 20),  # A, not residential
            rect(440210, 4430010, 10, 10),  # C, nobody lives in C
            rect(440900, 4430010, 10, 10),  # outside the grid
        ],
        index=[101, 102, 103, 104, 105],
        crs=UTM50,
    )
    result = households_from_population(hand_grid(), buildings, cell_id_col="cell")
    res = result.residences
    assert result.cells_without_buildings == ["B"]
    assert len(res) == 6
    assert res["residence_source"].tolist() == ["building"] * 5 + ["population_cell"]
    assert res["building_index"].tolist()[:5] == [101, 102, 103, 104, 105]
    assert res["building_index"].isna().tolist() == [False] * 5 + [True]
    # A: 262 / 2.62 = 100 households, shared 1:3 -> 25, 75; B: 131 / 2.62 = 50 at its point
    assert res["households"].tolist() == [25.0, 75.0, 0.0, 0.0, 0.0, 50.0]
    cells = res["population_cell"]
    assert cells.isna().tolist() == [False] * 4 + [True, False]
    assert cells.dropna().tolist() == ["A", "A", "A", "C", "B"]
    point = res.geometry.iloc[5]
    assert point.geom_type == "Point" and hand_grid().geometry.iloc[1].contains(point)
    assert res.crs == buildings.crs
    assert res["households_estimated"].all()
    methods = res["households_method"].tolist()
    assert all(m.startswith("estimate:population(") for m in methods)
    assert "262 persons / 2.62 persons per household = 100 households" in methods[0]
    assert "over 2 residential buildings" in methods[0]
    assert "not residential" in methods[2]
    assert "outside every population cell" in methods[4]
    assert "no residential building in the cell" in methods[5]


def test_population_shares_use_largest_remainder() -> None:
    grid = hand_grid().iloc[[0]]
    grid = grid.assign(population=[10 * 2.62])  # 10 households over 3 equal buildings
    buildings = gpd.GeoDataFrame(
        geometry=[rect(440010 + 30 * i, 4430010, 10, 10) for i in range(3)], crs=UTM50
    )
    out = households_from_population(grid, buildings).residences
    assert sorted(out["households"].tolist()) == [3.3, 3.3, 3.4]
    assert round(out["households"].sum(), 6) == 10.0
    exact = households_from_population(grid, buildings, decimals=None).residences
    np.testing.assert_allclose(exact["households"], [10 / 3] * 3, rtol=1e-12)


def test_population_errors() -> None:
    grid, buildings = hand_grid(), hand_buildings()
    with pytest.raises(InputError, match="no column 'persons'"):
        households_from_population(grid, buildings, population_col="persons")
    with pytest.raises(InputError, match=r"1 rows are not a number >= 0: 1 \(-5\)"):
        households_from_population(grid.assign(population=[1, -5, 0]), buildings)
    with pytest.raises(InputError, match="not a number"):
        households_from_population(grid.assign(population=[1, np.nan, 0]), buildings)
    with pytest.raises(InputError, match="not a number"):
        households_from_population(grid.assign(population=["1", "x", "0"]), buildings)
    with pytest.raises(InputError, match="repeat"):
        households_from_population(grid.assign(cell=["A", "A", "B"]), buildings, cell_id_col="cell")
    with pytest.raises(InputError, match="household_size"):
        households_from_population(grid, buildings, household_size=0)
    with pytest.raises(InputError, match="no CRS"):
        households_from_population(grid.set_crs(None, allow_override=True), buildings)


# ---------------------------------------------------------------- real Helsinki population grid


@pytest.fixture(scope="module")
def helsinki_grid() -> gpd.GeoDataFrame:
    grid = gpd.read_file(HELSINKI_GRID)
    # what the file holds (inspected): 92 cells of 250 m in WGS84, columns id and population
    assert grid.crs.to_epsg() == 4326
    assert list(grid.columns) == ["id", "population", "geometry"]
    assert len(grid) == 92 and int(grid["population"].sum()) == 71724
    return grid


def synthetic_buildings(grid: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Two blocks in two of every three cells (ETRS-TM35FIN), none in the others."""
    local = grid.to_crs("EPSG:3067")
    rows = []
    for i, cell in enumerate(local.geometry):
        if i % 3 == 0:
            continue
        c = cell.centroid
        rows.append(("apartments", "5", rect(c.x - 40, c.y - 10, 40, 20)))
        rows.append(("yes", None, rect(c.x + 20, c.y - 10, 20 + i % 7, 20)))
        rows.append(("retail", "2", rect(c.x - 40, c.y + 30, 30, 30)))
    return gpd.GeoDataFrame(
        {"building": [r[0] for r in rows], "building:levels": [r[1] for r in rows]},
        geometry=[r[2] for r in rows],
        crs="EPSG:3067",
    )


def test_helsinki_population_totals_are_conserved(helsinki_grid: gpd.GeoDataFrame) -> None:
    buildings = synthetic_buildings(helsinki_grid)
    grid_before = helsinki_grid.copy()
    result = households_from_population(helsinki_grid, buildings, cell_id_col="id")
    pd.testing.assert_frame_equal(helsinki_grid, grid_before)
    res = result.residences

    expected_cells = [i for i in range(92) if i % 3 == 0]
    assert result.cells_without_buildings == expected_cells
    assert (res["residence_source"] == "population_cell").sum() == len(expected_cells)
    assert len(res) == len(buildings) + len(expected_cells)

    # totals, in integer tenths of a household: exactly round(71724 / 2.62, 1)
    units = np.round(res["households"].to_numpy() * 10).astype(int)
    assert units.sum() == round(71724 / 2.62 * 10) == 273756
    # every cell's rows hold its own households to within the 0.1 rounding unit
    per_cell = res.groupby("population_cell")["households"].sum()
    expected = helsinki_grid.set_index("id")["population"] / 2.62
    np.testing.assert_allclose(per_cell.reindex(expected.index), expected, atol=0.1 + 1e-9)
    # non-residential buildings get nothing; the two blocks share by floor area
    assert (res.loc[res["building"] == "retail", "households"] == 0).all()
    first_cell = res[(res["population_cell"] == 1) & (res["households"] > 0)]
    gfa = first_cell["gross_floor_area_m2"].to_numpy()
    np.testing.assert_allclose(first_cell["households"], 296 / 2.62 * gfa / gfa.sum(), atol=0.1)
    # the cell points lie in their cells, in the buildings' CRS
    assert res.crs == buildings.crs
    cells_local = helsinki_grid.to_crs(buildings.crs).set_index("id")
    for row in res[res["residence_source"] == "population_cell"].itertuples():
        assert cells_local.geometry.loc[row.population_cell].contains(row.geometry)


def test_helsinki_unrounded_shares_conserve_to_float_precision(
    helsinki_grid: gpd.GeoDataFrame,
) -> None:
    buildings = synthetic_buildings(helsinki_grid).to_crs("EPSG:4326")
    res = households_from_population(
        helsinki_grid, buildings, cell_id_col="id", decimals=None
    ).residences
    assert res["households"].sum() == pytest.approx(71724 / 2.62, rel=1e-12)
    per_cell = res.groupby("population_cell")["households"].sum()
    expected = helsinki_grid.set_index("id")["population"] / 2.62
    np.testing.assert_allclose(per_cell.reindex(expected.index), expected, rtol=1e-12)
