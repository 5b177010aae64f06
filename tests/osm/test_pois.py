"""Tests of planner.osm.pois and planner.osm.buildings: facilities and residences from OSM files,
and the bundled demo."""

from __future__ import annotations

import importlib.util
import math
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from planner import layers
from planner.errors import InputError
from planner.households import BUILDING_DEFAULTS
from planner.osm import pois
from planner.osm.buildings import HOUSEHOLDS_PER_COMMUNITY, read_osm_buildings, read_osm_residences
from planner.outputs import write_demo_inputs

DATA = Path(__file__).resolve().parents[2] / "data"
HAIDIAN = DATA / "cn_beijing_haidian_cau_map.osm.bz2"
GUIXI = DATA / "cn_jiangxi_guixi_mapofgx.osm.bz2"
ID_PATTERN = re.compile(r"^[nwr][0-9]+$")


def _sorted_ids(ids: list[str]) -> list[str]:
    order = {"n": 0, "w": 1, "r": 2}
    return sorted(ids, key=lambda i: (order[i[0]], int(i[1:])))


def _utm_area(geom: shapely.Geometry) -> float:
    series = gpd.GeoSeries([geom], crs=4326)
    return float(series.to_crs(series.estimate_utm_crs()).area.iloc[0])


# --------------------------------------------------------------------------------------------
# A tiny hand-made OSM file whose answers are worked out by hand
# --------------------------------------------------------------------------------------------

LON0, LAT0 = 116.35, 40.0
M_PER_DEG_LAT = 110_950.0
M_PER_DEG_LON = 111_320.0 * math.cos(math.radians(LAT0))


class _OsmWriter:
    """Builds an OSM XML file from rectangles and points given in metres east/north."""

    def __init__(self) -> None:
        self.nodes: list[str] = []
        self.ways: list[str] = []
        self.relations: list[str] = []
        self._next_node = 1000

    @staticmethod
    def _tags(tags: dict[str, str]) -> str:
        return "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())

    def node(self, node_id: int, x_m: float, y_m: float, tags: dict[str, str] | None = None) -> int:
        lon = LON0 + x_m / M_PER_DEG_LON
        lat = LAT0 + y_m / M_PER_DEG_LAT
        self.nodes.append(
            f'<node id="{node_id}" version="1" lat="{lat:.8f}" lon="{lon:.8f}">'
            f"{self._tags(tags or {})}</node>"
        )
        return node_id

    def rect(self, way_id: int, x_m: float, y_m: float, w_m: float, h_m: float, tags: dict) -> None:
        ids = []
        for dx, dy in ((0, 0), (w_m, 0), (w_m, h_m), (0, h_m)):
            self._next_node += 1
            ids.append(self.node(self._next_node, x_m + dx, y_m + dy))
        refs = "".join(f'<nd ref="{i}"/>' for i in [*ids, ids[0]])
        self.ways.append(f'<way id="{way_id}" version="1">{refs}{self._tags(tags)}</way>')

    def relation(self, rel_id: int, members: list[tuple[str, int]], tags: dict) -> None:
        body = "".join(f'<member type="{t}" ref="{r}" role=""/>' for t, r in members)
        self.relations.append(
            f'<relation id="{rel_id}" version="1">{body}{self._tags(tags)}</relation>'
        )

    def write(self, path: Path) -> Path:
        path.write_text(
            '<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6" generator="test">\n'
            + "\n".join(self.nodes + self.ways + self.relations)
            + "\n</osm>\n",
            encoding="utf-8",
        )
        return path


@pytest.fixture(scope="module")
def tiny_osm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    osm = _OsmWriter()
    # a community service station that is a whole building: 20 x 10 m, 3 levels -> 600 m2
    osm.rect(
        1,
        0,
        0,
        20,
        10,
        {
            "building": "yes",
            "building:levels": "3",
            "amenity": "social_facility",
            "name": "测试社区服务站",
        },
    )
    # a residential compound with a 30 x 20 m block holding a social centre and a bakery
    osm.rect(2, 100, 0, 200, 200, {"landuse": "residential", "name": "测试小区"})
    osm.rect(3, 150, 50, 30, 20, {"building": "yes"})
    osm.node(101, 160, 60, {"amenity": "social_centre", "name": "活动室"})
    osm.node(102, 170, 60, {"shop": "bakery"})
    # a named canteen in the compound: not a home
    osm.rect(4, 150, 120, 30, 20, {"building": "yes", "name": "食堂"})
    # a social centre with no building -> the category's default floor area
    osm.node(103, 500, 500, {"amenity": "social_centre"})
    # a bus stop and a bus route named after a stadium: not sports grounds
    osm.node(104, 400, 0, {"highway": "bus_stop", "name": "体育场"})
    osm.relation(1, [("node", 104)], {"type": "route", "route": "bus", "name": "1路：体育场"})
    # a planned kindergarten: not built yet
    osm.rect(5, 400, 100, 40, 40, {"landuse": "construction", "name": "规划幼儿园"})
    # kindergarten grounds with a node and a 20 x 20 m building=kindergarten (3 default levels)
    osm.rect(6, 600, 0, 50, 50, {"amenity": "kindergarten", "name": "测试幼儿园"})
    osm.node(105, 605, 45, {"amenity": "kindergarten"})
    osm.rect(7, 610, 10, 20, 20, {"building": "kindergarten"})
    # a community point
    osm.node(106, 250, 250, {"place": "quarter", "name": "测试社区"})
    return osm.write(tmp_path_factory.mktemp("tiny") / "tiny.osm")


@pytest.fixture(scope="module")
def tiny_facilities(tiny_osm: Path) -> gpd.GeoDataFrame:
    return pois.read_osm_facilities(tiny_osm)


def test_tiny_facilities_are_the_hand_worked_ones(tiny_facilities: gpd.GeoDataFrame) -> None:
    got = dict(zip(tiny_facilities["id"], tiny_facilities["category"], strict=True))
    assert got == {
        "n101": "community_service",
        "n103": "community_service",
        "w1": "community_service",
        "w6": "kindergarten",
    }


def test_tiny_floor_areas(tiny_facilities: gpd.GeoDataFrame) -> None:
    fac = tiny_facilities.set_index("id")
    # whole building: 20 m x 10 m x 3 levels
    assert fac.loc["w1", "floor_area_m2"] == pytest.approx(600.0, rel=0.01)
    assert fac.loc["w1", "floor_area_method"].startswith("estimate:building(")
    # one storey of a 30 x 20 m block, shared with the bakery
    assert fac.loc["n101", "floor_area_m2"] == pytest.approx(300.0, rel=0.01)
    assert "shared by 2 POIs" in fac.loc["n101", "floor_area_method"]
    # no building: the documented default
    default_m2, _why = pois.DEFAULT_FLOOR_AREA_M2["community_service"]
    assert fac.loc["n103", "floor_area_m2"] == default_m2
    assert fac.loc["n103", "floor_area_method"].startswith("default:community_service(")
    # kindergarten grounds: the building inside, 20 x 20 m x 3 default levels
    levels, _ = pois.FACILITY_DEFAULT_LEVELS["kindergarten"]
    assert fac.loc["w6", "floor_area_m2"] == pytest.approx(400.0 * levels, rel=0.01)
    assert fac.loc["w6", "floor_area_method"].startswith("estimate:site_buildings(1 buildings")
    assert fac.loc["w6", "merged_ids"] == "n105;w7"
    assert fac["floor_area_estimated"].all()


def test_tiny_site_area_and_points(tiny_facilities: gpd.GeoDataFrame) -> None:
    fac = tiny_facilities.set_index("id")
    assert fac.loc["w6", "site_area_m2"] == pytest.approx(2500.0, rel=0.01)
    assert math.isnan(fac.loc["n101", "site_area_m2"])
    assert tiny_facilities.crs.to_epsg() == 4326
    assert (tiny_facilities.geom_type == "Point").all()
    # the polygon's point lies inside the polygon
    grounds = shapely.box(
        LON0 + 600 / M_PER_DEG_LON,
        LAT0,
        LON0 + 650 / M_PER_DEG_LON,
        LAT0 + 50 / M_PER_DEG_LAT,
    )
    assert grounds.contains(fac.loc["w6", "geometry"])


def test_tiny_residences_from_buildings(tiny_osm: Path) -> None:
    res = read_osm_residences(tiny_osm)
    assert res["id"].tolist() == ["w3"]  # the canteen (w4) and the service station (w1) are not
    row = res.iloc[0]
    defaults = BUILDING_DEFAULTS["yes"]
    expected = 600.0 * defaults.levels / defaults.m2_per_household
    assert row["households"] == pytest.approx(expected, rel=0.01)
    assert row["footprint_m2"] == pytest.approx(600.0, rel=0.01)
    assert bool(row["households_estimated"])
    assert row["households_method"].startswith("estimate:buildings(")
    assert row["residential_basis"] == "building=yes in landuse=residential w2"
    assert row["compound_name"] == "测试小区"
    assert res.geom_type.tolist() == ["Point"]


def test_tiny_residences_from_communities(tiny_osm: Path) -> None:
    res = read_osm_residences(tiny_osm, method="communities", households_per_community=800)
    assert res["id"].tolist() == ["n106"]
    assert res["households"].tolist() == [800.0]
    assert res["households_method"].iloc[0].startswith("estimate:community_point(assumed 800 ")
    assert bool(res["households_estimated"].iloc[0])


def test_tiny_buildings_carry_their_context(tiny_osm: Path) -> None:
    buildings = read_osm_buildings(tiny_osm).set_index("id")
    assert sorted(buildings.index) == ["w1", "w3", "w4", "w7"]
    assert buildings.loc["w3", "landuse"] == "residential"
    assert buildings.loc["w3", "compound_name"] == "测试小区"
    assert buildings.loc["w1", "use"] == "amenity=social_facility"
    assert pd.isna(buildings.loc["w1", "landuse"])
    assert buildings.loc["w1", "building:levels"] == "3"
    assert set(buildings.geom_type) == {"Polygon"}
    assert buildings.crs.to_epsg() == 4326


def test_buildings_say_why_they_are_homes(tiny_osm: Path) -> None:
    buildings = read_osm_buildings(tiny_osm, residential_basis=True).set_index("id")
    homes = buildings[buildings["residential_basis"].notna()]
    assert homes.index.tolist() == ["w3"]  # as read_osm_residences picks them
    assert homes.loc["w3", "residential_basis"] == "building=yes in landuse=residential w2"
    assert "residential_basis" not in read_osm_buildings(tiny_osm).columns


def test_bad_inputs_raise_input_error(tmp_path: Path, tiny_osm: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        pois.read_osm_facilities(tmp_path / "missing.osm.bz2")
    broken = tmp_path / "broken.osm"
    broken.write_text("<osm><node id='1' lat='x'", encoding="utf-8")
    with pytest.raises(InputError, match="cannot be read"):
        pois.read_osm_facilities(broken)
    with pytest.raises(InputError, match="method"):
        read_osm_residences(tiny_osm, method="grid")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="households_per_community"):
        read_osm_residences(tiny_osm, method="communities", households_per_community=0)
    with pytest.raises(InputError, match="no community points"):
        read_osm_residences(HAIDIAN, method="communities")


# --------------------------------------------------------------------------------------------
# The real extracts
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def haidian_facilities() -> gpd.GeoDataFrame:
    return pois.read_osm_facilities(HAIDIAN)


@pytest.fixture(scope="module")
def haidian_residences() -> gpd.GeoDataFrame:
    return read_osm_residences(HAIDIAN)


def test_haidian_categories(haidian_facilities: gpd.GeoDataFrame) -> None:
    fac = haidian_facilities.set_index("id")
    # the community health service centre, the two kindergartens, the social centre
    assert fac.loc["w167169164", "category"] == "health_centre"
    assert fac.loc["w167169164", "name"] == "中国农业大学东区社区卫生服务中心"
    assert fac.loc["n1785669301", "category"] == "kindergarten"
    assert fac.loc["w1192949960", "category"] == "kindergarten"
    assert fac.loc["n5672637049", "category"] == "community_service"
    counts = haidian_facilities["category"].value_counts()
    assert {
        "community_service",
        "health_centre",
        "kindergarten",
        "primary_school",
        "market",
    } <= set(counts.index)
    assert counts["market"] == 2


def test_haidian_not_facilities(haidian_facilities: gpd.GeoDataFrame) -> None:
    ids = set(haidian_facilities["id"])
    assert "w982189445" not in ids  # landuse=construction "0803-633规划幼儿园": planned
    assert "r15972224" not in ids  # the 居委会's administrative boundary
    assert "w169065601" not in ids  # amenity=college teaching building tagged building=school
    assert not any(i.startswith("r") for i in ids)  # bus routes named ...体育场 etc.


def test_haidian_merges(haidian_facilities: gpd.GeoDataFrame) -> None:
    fac = haidian_facilities.set_index("id")
    assert fac.loc["w167320566", "merged_ids"] == "n3722961302"  # the mall's old node
    assert fac.loc["w1393226242", "merged_ids"] == "w1393226244;w1393226245"  # school buildings
    merged = {m for text in haidian_facilities["merged_ids"] for m in text.split(";") if m}
    assert not merged & set(haidian_facilities["id"])


def test_haidian_ids_and_labels(haidian_facilities: gpd.GeoDataFrame) -> None:
    ids = haidian_facilities["id"].tolist()
    assert len(ids) == len(set(ids))
    assert all(ID_PATTERN.match(i) for i in ids)
    assert ids == _sorted_ids(ids)
    area = haidian_facilities["floor_area_m2"].to_numpy(dtype=float)
    assert np.isfinite(area).all() and (area >= 0).all()
    assert haidian_facilities["floor_area_estimated"].all()
    methods = haidian_facilities["floor_area_method"]
    assert methods.str.match(r"^(estimate:|default:|open_air\()").all()
    assert set(haidian_facilities["category_basis"]) <= {"tags", "building", "name"}


def test_haidian_floor_area_from_buildings(haidian_facilities: gpd.GeoDataFrame) -> None:
    fac = haidian_facilities.set_index("id")
    buildings = read_osm_buildings(HAIDIAN).set_index("id")
    # 多用厅 stands in the staff canteen (a building with its own use): one storey, 2 users
    canteen = _utm_area(buildings.loc["w594889495", "geometry"])
    assert fac.loc["n5672637049", "floor_area_m2"] == pytest.approx(canteen / 2, rel=0.01)
    assert "own use included" in fac.loc["n5672637049", "floor_area_method"]
    # a hospital building with building:levels=4
    hospital = _utm_area(buildings.loc["w806243496", "geometry"])
    assert fac.loc["w806243496", "floor_area_m2"] == pytest.approx(4 * hospital, rel=0.01)
    # pitches are open ground
    pitches = fac[fac["osm_tags"].str.contains('"leisure":"pitch"', regex=False)]
    assert len(pitches) and (pitches["floor_area_m2"] == 0).all()


def test_haidian_residences(haidian_residences: gpd.GeoDataFrame) -> None:
    res = haidian_residences
    ids = res["id"].tolist()
    assert len(ids) == len(set(ids)) and ids == _sorted_ids(ids)
    assert (res["households"] > 0).all()
    assert 1000 < res["households"].sum() < 20000
    assert res["households_estimated"].all()
    assert res["households_method"].str.startswith("estimate:buildings(").all()
    assert (res["footprint_m2"] > 0).all()
    assert (res.geom_type == "Point").all() and res.crs.to_epsg() == 4326
    by_id = res.set_index("id")
    assert by_id.loc["w950323928", "name"] == "静淑东里9号楼"  # building=residential, 6 levels
    assert by_id.loc["w950323928", "levels_source"] == "tag"
    assert by_id.loc["w595098654", "name"] == "20号楼"  # building=yes, numbered, in 石科院生活区
    assert by_id.loc["w167350466", "compound_name"] == "富润家园"
    for not_a_home in ("w594886647", "w595098584", "w595098649"):  # 招待所, 二食堂, 动力楼
        assert not_a_home not in by_id.index


def test_guixi(tmp_path: Path) -> None:
    fac = pois.read_osm_facilities(GUIXI)
    assert "community_service" not in set(fac["category"])  # the planning gap case
    assert (fac["category"] == "middle_school").sum() >= 2
    buildings = read_osm_residences(GUIXI)  # only a few residential blocks are mapped
    assert len(buildings) < 50
    res = read_osm_residences(GUIXI, method="communities")
    assert len(res) == 16
    assert res["name"].str.endswith("社区").all()
    assert (res["households"] == HOUSEHOLDS_PER_COMMUNITY).all()
    assert res["households_estimated"].all()


# --------------------------------------------------------------------------------------------
# Written files: read back through planner.layers, deterministic, and data/ up to date
# --------------------------------------------------------------------------------------------


def test_write_demo_inputs_reads_back(tmp_path: Path, tiny_osm: Path) -> None:
    counts = write_demo_inputs(HAIDIAN, tmp_path / "a")
    fac = layers.read_facilities(tmp_path / "a" / "facilities.gpkg", require_floor_area=True)
    res = layers.read_residences(tmp_path / "a" / "residences.gpkg")
    assert counts["facilities"] == len(fac) and counts["residences"] == len(res)
    assert counts["households"] == pytest.approx(res["households"].sum(), abs=0.1)
    assert counts["categories"]["community_service"] >= 1
    assert fac["id"].is_unique and res["id"].is_unique
    assert fac["floor_area_estimated"].all() and res["households_estimated"].all()
    # the same input gives the same bytes
    write_demo_inputs(HAIDIAN, tmp_path / "b")
    for name in ("facilities.gpkg", "residences.gpkg"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_write_demo_inputs_leaves_nothing_half_written(
    tmp_path: Path, tiny_osm: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import planner.outputs

    real_write = planner.outputs.write_layer

    def fail_on_residences(frame: gpd.GeoDataFrame, path: Path) -> None:
        if path.name == "residences.gpkg":
            raise OSError("disk full")
        real_write(frame, path)

    monkeypatch.setattr(planner.outputs, "write_layer", fail_on_residences)
    out = tmp_path / "out"
    with pytest.raises(OSError, match="disk full"):
        write_demo_inputs(tiny_osm, out)
    assert not (out / "facilities.gpkg").exists()  # written to the stage, never moved in
    assert [p.name for p in tmp_path.iterdir()] in ([], ["out"])
    with pytest.raises(InputError, match="residences"):
        write_demo_inputs(tiny_osm, out, residences="grid")  # type: ignore[arg-type]


def _load_make_demo():
    spec = importlib.util.spec_from_file_location("make_demo", DATA / "make_demo.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bundled_demo_is_up_to_date(tmp_path: Path) -> None:
    make_demo = _load_make_demo()
    counts = make_demo.make(tmp_path)
    assert set(counts) == {"haidian", "guixi"}
    for demo in ("haidian", "guixi"):
        layers = ["facilities.gpkg", "residences.gpkg"]
        if (DATA / demo / "communities.gpkg").exists():
            layers.append("communities.gpkg")
        for name in layers:
            bundled = gpd.read_file(DATA / demo / name)
            fresh = gpd.read_file(tmp_path / demo / name)
            pd.testing.assert_frame_equal(
                pd.DataFrame(bundled.drop(columns="geometry")),
                pd.DataFrame(fresh.drop(columns="geometry")),
                obj=f"data/{demo}/{name} (regenerate with: python data/make_demo.py)",
            )
            assert bundled.geometry.geom_equals_exact(fresh.geometry, tolerance=1e-9).all()
        bundled_toml = (DATA / demo / "review.toml").read_text(encoding="utf-8")
        assert bundled_toml == (tmp_path / demo / "review.toml").read_text(encoding="utf-8")


def test_bundled_review_configs_point_at_existing_files() -> None:
    import tomllib

    for demo in ("haidian", "guixi"):
        config_path = DATA / demo / "review.toml"
        config = tomllib.loads(config_path.read_text(encoding="utf-8"))
        for key in ("network", "facilities", "residences", "communities"):
            if key in config:
                assert (config_path.parent / config[key]).is_file(), (demo, key)
        assert config["out"] == f"../../maps/{demo}"
        layers.read_facilities(config_path.parent / config["facilities"])
        layers.read_residences(config_path.parent / config["residences"])


def test_bundled_demo_gives_sensible_numbers() -> None:
    from planner.checks import check
    from planner.network import load_network

    results = {}
    for demo, osm in (("haidian", HAIDIAN), ("guixi", GUIXI)):
        fac = layers.read_facilities(DATA / demo / "facilities.gpkg")
        res = layers.read_residences(DATA / demo / "residences.gpkg")
        results[demo] = check(load_network(osm), fac, res).summary
    haidian = {c["key"]: c for c in results["haidian"]["coverage"]}
    assert 0.0 < haidian["community_service"]["rate"] < 1.0
    assert len(haidian) >= 6  # several categories measured
    assert results["haidian"]["households"]["total"] > 1000
    assert results["haidian"]["floor_area"]["supply_m2"] > 0
    guixi = {c["key"]: c for c in results["guixi"]["coverage"]}
    assert guixi["community_service"]["rate"] == 0.0  # no community service mapped: the gap
    assert results["guixi"]["floor_area"]["shortfall_m2"] > 0
