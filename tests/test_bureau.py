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
import zipfile
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
from planner.workbook import header, workbook_bytes

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
        {
            "id": ["C1", "C2"],
            "name": ["花桥社区", "球场社区"],
            "subdistrict": ["花桥街道"] * 2,
            "面积": [2.9, 2.6],  # an attribute of the bureau's layer, kept
        },
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
        _assert_close(a.summary[key], b.summary[key], key)


def _assert_close(a, b, where: str) -> None:
    """Nested JSON-like values equal, numbers within 1e-3 (pytest.approx takes no text)."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and set(a) == set(b), where
        for key in a:
            _assert_close(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, list | tuple):
        assert isinstance(b, list | tuple) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _assert_close(x, y, f"{where}[{i}]")
    elif isinstance(a, float | int) and not isinstance(a, bool) and b is not None:
        assert a == pytest.approx(b, abs=1e-3, nan_ok=True), where
    else:
        assert a == b, where


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
    # The workbook written to its file has the bytes of the one built in memory, dates pinned.
    assert first["workbook"].read_bytes() == workbook_bytes(got, offset_system="gcj02")
    with zipfile.ZipFile(first["workbook"]) as archive:
        assert {i.date_time for i in archive.infolist()} == {(1980, 1, 31, 0, 0, 0)}
        assert b"2000-01-01T00:00:00Z" in archive.read("docProps/core.xml")
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


# ---------------------------------------------------------------------------------------------
# The same case through the `planner` command, from one review file as the bureau writes it
# ---------------------------------------------------------------------------------------------

BUREAU_TOML = """\
# 江岸区 15分钟社区生活圈审查
network = "network"
standard = "community_service"
lang = "zh"
crs = "gcj02"            # our coordinates come from Amap; layers with their own CRS keep it
isochrones = false
out = "审查结果"

[facilities]             # GBK Shapefile, CGCS2000 Gauss-Kruger (.prj), no .cpg
path = "公共服务设施.shp"
encoding = "gbk"
columns = { id = "编号", name = "名称", category = "类别", floor_area_m2 = "建筑面积" }

[residences]             # Excel-saved CSV, GCJ-02
path = "居住小区.csv"
crs = "gcj02"
encoding = "gbk"
columns = { id = "小区编号", name = "小区名称", households = "户数", lon = "经度", lat = "纬度" }

[communities]            # CGCS2000 polygons
path = "社区边界.gpkg"
columns = { id = "社区代码", name = "社区名称", subdistrict = "街道" }

[categories]
"邻里中心" = "community_service"

[report]
organisation = "江岸区规划分局"
date = "2025-06-30"
"""


def _bureau_folder(bureau, tmp_path: Path, labels: dict[str, str]) -> Path:
    """A copy of the bureau's folder whose facilities carry ``labels`` (id -> label)."""
    import shutil

    folder = tmp_path / "bureau"
    shutil.copytree(bureau["folder"], folder, ignore=shutil.ignore_patterns("review.toml"))
    shp = gpd.read_file(folder / "公共服务设施.shp", encoding="gbk")
    shp["类别"] = [labels.get(i, c) for i, c in zip(shp["编号"], shp["类别"], strict=True)]
    for old in folder.glob("公共服务设施.*"):
        old.unlink()
    shp.to_file(folder / "公共服务设施.shp", encoding="gbk")
    for cpg in folder.glob("*.cpg"):
        cpg.unlink()
    return folder


def test_the_planner_command_reviews_the_bureau_s_files(bureau, reviews, tmp_path, capsys):
    from pypdf import PdfReader

    from planner.cli import main

    folder = _bureau_folder(bureau, tmp_path, {"F4": "邻里中心"})  # a label only [categories] maps
    config = folder / "review.toml"
    config.write_text(BUREAU_TOML, encoding="utf-8")
    code = main(["check", "--config", str(config)])
    captured = capsys.readouterr()
    expected = reviews[0]
    assert code == (0 if expected.passes else 1), captured.err
    out = folder / "审查结果"
    # The review equals the review of the same data prepared by hand in WGS84.
    got = gpd.read_file(out / "residences.gpkg")
    assert list(got["id"]) == list(expected.residences["id"])
    for col in ("households", "walk_m_community_service", "nearest_id_community_service"):
        left, right = got[col].to_numpy(), expected.residences[col].to_numpy()
        if left.dtype.kind == "f":
            np.testing.assert_allclose(left, right, atol=1e-3)
        else:
            assert list(left) == list(right), col
    assert list(got["status"]) == list(expected.residences["status"])
    np.testing.assert_allclose(
        shapely.get_coordinates(got.geometry),
        shapely.get_coordinates(expected.residences.geometry),
        atol=1e-8,
    )
    summary = __import__("json").loads((out / "summary.json").read_text(encoding="utf-8"))
    expected_summary = __import__("json").loads(
        __import__("planner.outputs", fromlist=["summary_json"]).summary_json(expected.summary)
    )
    for key in ("passes", "coverage", "floor_area"):
        _assert_close(summary[key], expected_summary[key], key)
    assert summary["category_labels_unmapped"] == {}
    communities = pd.read_csv(out / "communities.csv", encoding="utf-8-sig")
    assert list(communities["name"]) == ["花桥社区", "球场社区"]
    assert list(communities["compliant"]) == list(expected.communities["compliant"])
    # The terminal speaks Chinese; the paths it names are the final ones.
    assert "达标" in captured.out.splitlines()[0]
    assert "的住户在 1000 米 / 15 分钟内" in captured.out
    assert "花桥街道" in captured.out
    assert ".partial-" not in captured.err and str(out) in captured.err
    assert "\r" not in captured.err  # not a terminal: no progress bars
    # The workbook, read back: Chinese sheets, GCJ-02 coordinates beside WGS84.
    book = openpyxl.load_workbook(out / "review.xlsx")
    assert book.sheetnames == ["社区", "街道", "设施", "缺口", "居住点", "参数"]
    headers = [c.value for c in book["居住点"][1]]
    assert "经度（GCJ-02）" in headers and "户数" in headers
    table = pd.read_csv(out / "residences.csv", encoding="utf-8-sig")
    np.testing.assert_allclose(table["lon_gcj02"], bureau["gcj02"][0], atol=2e-7)
    # The report, in the review's language, with the cover's keys.
    text = "".join(page.extract_text() for page in PdfReader(out / "report.pdf").pages)
    assert "江岸区规划分局" in text and "花桥社区" in text and "2025-06-30" in text
    assert (out / "report.html").is_file()
    # planner report rebuilds it, in English, with another title; nothing else changes.
    before = _digest(out / "summary.json")
    assert main(["report", str(out), "--lang", "en", "--report-title", "Jiang'an review"]) == 0
    text = "".join(page.extract_text() for page in PdfReader(out / "report.pdf").pages)
    assert "Jiang'an review" in text and _digest(out / "summary.json") == before
    # --no-report writes none.
    assert main(["check", "--config", str(config), "--quiet", "--no-report", "--out",
                 str(tmp_path / "bare")]) in (0, 1)  # fmt: skip
    assert not (tmp_path / "bare" / "report.pdf").exists()
    assert (tmp_path / "bare" / "review.xlsx").is_file()


def test_a_required_category_without_facilities_stops_the_run(bureau, tmp_path, capsys):
    from planner.cli import main

    # 社区服务 relabelled 邻里中心 (unknown): no facility would count for community_service.
    folder = _bureau_folder(bureau, tmp_path, {"F1": "邻里中心", "F4": "邻里中心", "F3": "早市"})
    config = folder / "review.toml"
    config.write_text(BUREAU_TOML.replace('"邻里中心" = "community_service"', ""), "utf-8")
    assert main(["check", "--config", str(config), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "community_service" in err and "邻里中心 (2)" in err and "早市 (1)" in err
    assert "[categories]" in err and "--map-category" in err
    assert not (folder / "审查结果").exists()
    # Mapped with the flag: it runs; the label still unknown is listed with its count.
    argv = ["check", "--config", str(config), "--map-category", "邻里中心=community_service"]
    assert main(argv) in (0, 1)
    err = capsys.readouterr().err
    assert "早市 (1)" in err and err.count("早市 (1)") == 1  # said once
    summary = __import__("json").loads(
        (folder / "审查结果" / "summary.json").read_text(encoding="utf-8")
    )
    assert summary["category_labels_unmapped"] == {"早市": 1}


def test_a_category_really_absent_is_checked_not_refused(bureau, tmp_path, capsys):
    from planner.cli import main

    # Every label is a known category, none a community service: a real absence, exit 1.
    folder = _bureau_folder(bureau, tmp_path, {"F1": "幼儿园", "F4": "菜市场"})
    config = folder / "review.toml"
    config.write_text(BUREAU_TOML, "utf-8")
    assert main(["check", "--config", str(config), "--quiet", "--no-report"]) == 1


def test_planner_init_writes_a_review_file_that_runs(bureau, tmp_path, capsys):
    from planner.cli import main

    folder = _bureau_folder(bureau, tmp_path, {})
    assert main(["init", str(folder)]) == 0
    said = capsys.readouterr().out
    assert "facilities: 公共服务设施.shp" in said and "EPSG:4547" in said
    assert "residences: 居住小区.csv" in said and "NOT KNOWN" in said
    config = folder / "review.toml"
    assert main(["init", str(folder)]) == 2  # never overwritten ...
    assert "--force" in capsys.readouterr().err
    assert main(["init", str(folder), "--force"]) == 0  # ... unless asked
    capsys.readouterr()
    # As guessed, the CSV's CRS is not stated: refused, naming the key to set.
    args = ["check", "--config", str(config), "--quiet", "--no-isochrones", "--no-report"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "[residences]" in err and "--residences-crs" in err
    # The bureau uncomments the line the file proposes: it runs.
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace('# crs = "gcj02"', 'crs = "gcj02"'), encoding="utf-8")
    assert main(args) in (0, 1), capsys.readouterr().err
    assert (folder / "review" / "summary.json").is_file()


def test_planner_propose_writes_the_report_with_the_proposals(bureau, tmp_path, capsys):
    from pypdf import PdfReader

    from planner.cli import main

    folder = _bureau_folder(bureau, tmp_path, {"F4": "邻里中心"})
    config = folder / "review.toml"
    config.write_text(BUREAU_TOML, encoding="utf-8")
    out = tmp_path / "plan"
    argv = ["propose", "--config", str(config), "--sites", "1", "--out", str(out), "--quiet"]
    assert main(argv) in (0, 1), capsys.readouterr().err
    assert (out / "proposal.json").is_file() and (out / "report.html").is_file()
    sites = gpd.read_file(out / "proposals.gpkg")
    text = "".join(page.extract_text() for page in PdfReader(out / "report.pdf").pages)
    assert str(sites["id"].iloc[0]) in text
