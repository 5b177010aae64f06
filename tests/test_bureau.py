"""A bureau's own files in, a bureau's own files out (issue #17), end to end.

The bureau case is made here: a street grid in Wuhan (Jiang'an), facilities as a GBK Shapefile
without ``.cpg`` in CGCS2000 3-degree Gauss-Kruger CM 114E (EPSG:4547) with Chinese column names
and category labels, residential compounds as a GBK CSV with 小区编号/户数/经度/纬度 in GCJ-02
(and as an XLSX sheet in BD-09), community polygons in CGCS2000 (EPSG:4490) with 社区名称 and 街道.
Their review must equal the review of the same data prepared by hand in WGS84; the workbook is
read back with openpyxl; `guess_review` on the folder writes a review file that reads the same
layers.
"""

from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest
import shapely

from planner._geo import wgs84_to_offset
from planner.checks import check
from planner.guess import guess_review, reader_arguments, write_review_toml
from planner.layers import read_communities, read_facilities, read_residences
from planner.maps import STATUS_COLOURS
from planner.network import build_network
from planner.outputs import write_review
from planner.workbook import header

UTM = 32650  # Wuhan, 114.3 E
X0, Y0 = 238_000.0, 3_386_000.0  # about 114.30 E, 30.58 N

FAC = pd.DataFrame(
    {
        "id": ["F1", "F2", "F3", "F4"],
        "name": ["花桥社区服务中心", "球场幼儿园", "花桥菜市场", "球场社区服务站"],
        "category": ["社区服务", "幼儿园", "菜市场", "社区服务"],
        "floor_area_m2": [900.0, 600.0, 400.0, 150.0],
        "x": [X0 + 300, X0 + 900, X0 + 1500, X0 + 2700],
        "y": [Y0 + 310, Y0 + 910, Y0 + 10, Y0 + 1210],
    }
)
RES = pd.DataFrame(
    {
        "id": [f"R{i:02d}" for i in range(1, 13)],
        "name": [f"小区{i}" for i in range(1, 13)],
        "households": [320, 150, 480, 90, 260, 610, 75, 300, 410, 55, 230, 140],
        "x": X0 + np.array([100, 500, 700, 1100, 1300, 1700, 1900, 2300, 2500, 2900, 600, 2100.0]),
        "y": Y0 + np.array([110, 510, 1310, 710, 1510, 310, 910, 1110, 1710, 310, 1610, 10.0]),
    }
)
COMMUNITY_BOXES = [
    (X0 - 50, Y0 - 50, X0 + 1600, Y0 + 1800),
    (X0 + 1600, Y0 - 50, X0 + 3050, Y0 + 1800),
]


def _wgs84(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    points = gpd.GeoSeries(gpd.points_from_xy(frame["x"], frame["y"]), crs=UTM).to_crs(4326)
    return points.x.to_numpy(), points.y.to_numpy()


@pytest.fixture(scope="module")
def network():
    lines = [shapely.LineString([(X0, Y0 + y), (X0 + 3000, Y0 + y)]) for y in range(0, 1801, 300)]
    lines += [shapely.LineString([(X0 + x, Y0), (X0 + x, Y0 + 1800)]) for x in range(0, 3001, 300)]
    return build_network(gpd.GeoDataFrame(geometry=lines, crs=UTM))


@pytest.fixture(scope="module")
def by_hand():
    """The same data prepared by hand: WGS84, English columns, snake_case categories."""
    f_lon, f_lat = _wgs84(FAC)
    facilities = gpd.GeoDataFrame(
        FAC[["id", "name", "floor_area_m2"]].assign(
            category=["community_service", "kindergarten", "market", "community_service"]
        ),
        geometry=gpd.points_from_xy(f_lon, f_lat),
        crs=4326,
    )
    r_lon, r_lat = _wgs84(RES)
    residences = gpd.GeoDataFrame(
        RES[["id", "name", "households"]], geometry=gpd.points_from_xy(r_lon, r_lat), crs=4326
    )
    communities = gpd.GeoDataFrame(
        {"id": ["C1", "C2"], "name": ["花桥社区", "球场社区"], "subdistrict": ["花桥街道"] * 2},
        geometry=[shapely.box(*b) for b in COMMUNITY_BOXES],
        crs=UTM,
    ).to_crs(4326)
    return read_facilities(facilities), read_residences(residences), read_communities(communities)


@pytest.fixture(scope="module")
def bureau(tmp_path_factory, network):
    """The bureau's folder, as its files really are."""
    folder = tmp_path_factory.mktemp("bureau")
    f_lon, f_lat = _wgs84(FAC)
    shp = gpd.GeoDataFrame(
        {
            "编号": FAC["id"],
            "名称": FAC["name"],
            "类别": FAC["category"],
            "建筑面积": FAC["floor_area_m2"],
        },
        geometry=gpd.points_from_xy(f_lon, f_lat),
        crs=4326,
    ).to_crs(4547)
    shp.to_file(folder / "公共服务设施.shp", encoding="gbk")
    for cpg in folder.glob("*.cpg"):
        cpg.unlink()
    r_lon, r_lat = _wgs84(RES)
    g_lon, g_lat = wgs84_to_offset(r_lon, r_lat, "gcj02")
    table = pd.DataFrame(
        {
            "小区编号": RES["id"],
            "小区名称": RES["name"],
            "户数": RES["households"],
            "经度": g_lon,
            "纬度": g_lat,
        }
    )
    table.to_csv(folder / "居住小区.csv", index=False, encoding="gbk")
    b_lon, b_lat = wgs84_to_offset(r_lon, r_lat, "bd09")
    other = tmp_path_factory.mktemp("xlsx") / "居住小区_百度.xlsx"
    with pd.ExcelWriter(other) as writer:
        pd.DataFrame({"说明": ["百度坐标"]}).to_excel(writer, sheet_name="说明", index=False)
        table.assign(经度=b_lon, 纬度=b_lat).to_excel(writer, sheet_name="小区", index=False)
    communities = gpd.GeoDataFrame(
        {
            "社区代码": ["C1", "C2"],
            "社区名称": ["花桥社区", "球场社区"],
            "街道": ["花桥街道", "花桥街道"],
            "面积": [2.9, 2.6],
        },
        geometry=[shapely.box(*b) for b in COMMUNITY_BOXES],
        crs=UTM,
    ).to_crs(4490)
    communities.to_file(folder / "社区边界.gpkg")
    network.save(folder / "network")
    return {"folder": folder, "xlsx": other, "gcj02": (g_lon, g_lat)}


def _read_bureau(bureau):
    folder = bureau["folder"]
    facilities = read_facilities(
        folder / "公共服务设施.shp",
        id_col="编号",
        name_col="名称",
        category_col="类别",
        floor_area_col="建筑面积",
    )
    residences = read_residences(
        folder / "居住小区.csv",
        crs="gcj02",
        id_col="小区编号",
        name_col="小区名称",
        households_col="户数",
    )
    communities = read_communities(folder / "社区边界.gpkg")
    return facilities, residences, communities


def _assert_same_review(a, b) -> None:
    for name in ("residences", "facilities"):
        left = pd.DataFrame(getattr(a, name).drop(columns="geometry"))
        right = pd.DataFrame(getattr(b, name).drop(columns="geometry"))
        pd.testing.assert_frame_equal(left, right, check_exact=False, atol=1e-3)
        np.testing.assert_allclose(
            shapely.get_coordinates(getattr(a, name).geometry),
            shapely.get_coordinates(getattr(b, name).geometry),
            atol=1e-8,
        )
    pd.testing.assert_frame_equal(a.gaps, b.gaps, check_exact=False, atol=1e-3)
    left = pd.DataFrame(a.communities.drop(columns="geometry"))
    right = pd.DataFrame(b.communities.drop(columns="geometry"))
    shared = [c for c in left.columns if c in right.columns]  # the bureau's layer keeps 面积
    pd.testing.assert_frame_equal(left[shared], right[shared], check_exact=False, atol=1e-3)
    for key in ("passes", "households", "coverage", "floor_area"):
        assert a.summary[key] == pytest.approx(b.summary[key], abs=1e-3), key


@pytest.fixture(scope="module")
def reviews(network, by_hand, bureau):
    expected = check(network, *by_hand[:2], communities=by_hand[2], isochrones=False)
    fac, res, comm = _read_bureau(bureau)
    got = check(network, fac, res, communities=comm, isochrones=False)
    return expected, got


def test_bureau_review_equals_the_review_by_hand(reviews, by_hand, bureau):
    expected, got = reviews
    _assert_same_review(got, expected)
    # The case is not trivial: some households are covered, some are not.
    rate = got.summary["coverage"][0]["rate"]
    assert 0 < rate < 1
    fac, _res, comm = _read_bureau(bureau)
    assert list(fac["category"]) == [
        "community_service",
        "kindergarten",
        "market",
        "community_service",
    ]
    assert list(comm["subdistrict"]) == ["花桥街道", "花桥街道"] and "面积" in comm.columns


def test_bd09_xlsx_gives_the_same_residences(bureau, by_hand):
    res = read_residences(
        bureau["xlsx"],
        crs="bd09",
        sheet="小区",
        id_col="小区编号",
        name_col="小区名称",
        households_col="户数",
    )
    expected = by_hand[1]
    assert list(res["id"]) == list(expected["id"])
    np.testing.assert_allclose(res["households"], expected["households"])
    np.testing.assert_allclose(
        shapely.get_coordinates(res.geometry), shapely.get_coordinates(expected.geometry), atol=1e-8
    )


def test_the_csv_without_crs_is_refused(bureau):
    with pytest.raises(Exception, match=r'crs = "gcj02" under \[residences\].*--residences-crs'):
        read_residences(bureau["folder"] / "居住小区.csv", households_col="户数")


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_outputs_in_the_bureau_s_own_terms(reviews, bureau, tmp_path):
    _expected, got = reviews
    first = write_review(got, tmp_path / "a", map_html=False, offset_system="gcj02")
    second = write_review(got, tmp_path / "b", map_html=False, offset_system="gcj02")
    for kind in ("workbook", "residences_csv", "facilities_csv", "gaps"):
        assert _digest(first[kind]) == _digest(second[kind]), kind  # byte-identical runs
    # CSVs: UTF-8 with BOM, GCJ-02 coordinates beside the WGS84 ones.
    raw = first["residences_csv"].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    table = pd.read_csv(first["residences_csv"], encoding="utf-8-sig")
    assert list(table.columns[:5]) == ["id", "lon", "lat", "lon_gcj02", "lat_gcj02"]
    g_lon, g_lat = bureau["gcj02"]
    np.testing.assert_allclose(table["lon_gcj02"], g_lon, atol=2e-7)
    np.testing.assert_allclose(table["lat_gcj02"], g_lat, atol=2e-7)
    assert first["gaps"].read_bytes().startswith(b"\xef\xbb\xbf")

    book = openpyxl.load_workbook(first["workbook"])
    assert book.sheetnames == ["社区", "街道", "设施", "缺口", "居住点", "参数"]
    sheet = book["居住点"]
    headers = [c.value for c in sheet[1]]
    assert headers[:5] == [
        "编号",
        "经度（WGS84）",
        "纬度（WGS84）",
        "经度（GCJ-02）",
        "纬度（GCJ-02）",
    ]
    assert "户数" in headers and "覆盖状况" in headers
    assert header("walk_m_community_service") in headers
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["A"].width > 4
    col = {h: i + 1 for i, h in enumerate(headers)}
    statuses = got.residences["status"].tolist()
    colours = {
        "covered": STATUS_COLOURS["covered"],
        "uncovered": STATUS_COLOURS["uncovered"],
        "partly": STATUS_COLOURS["partly"],
        "off_network": STATUS_COLOURS["off_network"],
    }
    for row, status in enumerate(statuses, start=2):
        walk = sheet.cell(row=row, column=col[header("walk_m_community_service")])
        value = got.residences["walk_m_community_service"].iloc[row - 2]
        if np.isnan(value):
            assert walk.value is None  # beyond the walk: an empty cell, not "nan"
        else:
            assert walk.data_type == "n" and walk.value == pytest.approx(value)  # numbers
        hh = sheet.cell(row=row, column=col["户数"])
        assert hh.value == got.residences["households"].iloc[row - 2]
        cell = sheet.cell(row=row, column=col["覆盖状况"])
        assert cell.fill.start_color.rgb[-6:] == colours[status].lstrip("#").upper()
        assert cell.value in {"全部覆盖", "部分覆盖", "未覆盖", "不在路网"}
    covered = sheet.cell(row=2, column=col[header("covered_community_service")])
    assert covered.data_type == "b"
    expected_fill = STATUS_COLOURS["covered"] if covered.value else STATUS_COLOURS["uncovered"]
    assert covered.fill.start_color.rgb[-6:] == expected_fill.lstrip("#").upper()
    communities = book["社区"]
    comm_headers = [c.value for c in communities[1]]
    assert comm_headers[:2] == ["社区编号", "名称"] and "户数" in comm_headers
    rate = communities.cell(
        row=2, column=comm_headers.index(header("coverage_rate_community_service")) + 1
    )
    assert rate.number_format == "0.0%" and isinstance(rate.value, float)
    params = {r[0].value: r[1] for r in book["参数"].iter_rows(min_row=2)}
    assert params["步行速度（千米/小时）"].value == 4.0
    verdict = params["结论：全部达标"]
    assert verdict.value is got.passes
    assert (
        verdict.fill.start_color.rgb[-6:]
        == (STATUS_COLOURS["covered"] if got.passes else STATUS_COLOURS["uncovered"])
        .lstrip("#")
        .upper()
    )
    english = write_review(got, tmp_path / "en", map_html=False, lang="en")
    book = openpyxl.load_workbook(english["workbook"])
    assert book.sheetnames == [
        "communities",
        "sub-districts",
        "facilities",
        "gaps",
        "residences",
        "parameters",
    ]
    assert [c.value for c in book["residences"][1]][:3] == [
        "id",
        "longitude (WGS84)",
        "latitude (WGS84)",
    ]


def test_guess_review_writes_a_review_file_that_reads_the_same_layers(bureau, network, reviews):
    folder = bureau["folder"]
    guess = guess_review(folder)
    assert guess.network == "network"
    assert set(guess.layers) == {"facilities", "residences", "communities"}
    path = write_review_toml(guess, folder / "review.toml")
    text = path.read_text(encoding="utf-8")
    config = tomllib.loads(text)
    assert config["network"] == "network"
    fac, res, comm = (config[k] for k in ("facilities", "residences", "communities"))
    assert fac["path"] == "公共服务设施.shp" and fac["encoding"] == "gbk"
    assert fac["columns"] == {
        "id": "编号",
        "name": "名称",
        "category": "类别",
        "floor_area_m2": "建筑面积",
    }
    assert "EPSG:4547" in text and "crs" not in fac
    assert res["path"] == "居住小区.csv" and res["encoding"] == "gbk"
    assert res["columns"] == {
        "id": "小区编号",
        "name": "小区名称",
        "households": "户数",
        "lon": "经度",
        "lat": "纬度",
    }
    # The CSV's CRS cannot be seen: never guessed, written commented with a note.
    assert "crs" not in res
    assert '# crs = "gcj02"' in text and "cannot be told apart" in text
    assert comm["columns"] == {"id": "社区代码", "name": "社区名称", "subdistrict": "街道"}
    # The bureau uncomments the crs line; the review file then reads the same layers.
    config = tomllib.loads(text.replace('# crs = "gcj02"', 'crs = "gcj02"'))
    assert config["residences"]["crs"] == "gcj02"
    layers = (
        read_facilities(**reader_arguments(config["facilities"], folder=folder)),
        read_residences(**reader_arguments(config["residences"], folder=folder)),
        read_communities(**reader_arguments(config["communities"], folder=folder)),
    )
    again = check(network, *layers[:2], communities=layers[2], isochrones=False)
    _assert_same_review(again, reviews[1])
