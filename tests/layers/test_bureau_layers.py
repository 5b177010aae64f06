"""A bureau's own layers: BD-09 and GCJ-02 tables, tables without a CRS refused, Excel sheets,
community hierarchies with Chinese headers, defaults that never contradict a layer's CRS."""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from planner._geo import wgs84_to_offset
from planner.errors import InputError
from planner.layers import read_communities, read_facilities, read_layer, read_residences

LON = [114.301, 114.305, 114.312]
LAT = [30.581, 30.585, 30.590]


def _frame(lon, lat) -> pd.DataFrame:
    return pd.DataFrame(
        {"小区编号": ["007", "008", "009"], "户数": [120, 80, 45], "经度": lon, "纬度": lat}
    )


@pytest.mark.parametrize("system", ["gcj02", "bd09"])
def test_offset_tables_come_back_to_wgs84(tmp_path, system):
    lon, lat = wgs84_to_offset(LON, LAT, system)
    path = tmp_path / "res.csv"
    _frame(lon, lat).to_csv(path, index=False, encoding="gbk")
    spelled = {"gcj02": "GCJ-02", "bd09": "baidu"}[system]
    out = read_residences(path, crs=spelled, id_col="小区编号", households_col="户数")
    assert list(out["id"]) == ["007", "008", "009"]
    np.testing.assert_allclose(out.geometry.x, LON, atol=1e-9)
    np.testing.assert_allclose(out.geometry.y, LAT, atol=1e-9)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_table_file_without_crs_is_refused_with_the_keys(tmp_path, suffix):
    path = tmp_path / f"res{suffix}"
    frame = _frame(LON, LAT)
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_excel(path, index=False)
    with pytest.raises(InputError) as info:
        read_residences(path, households_col="户数")
    msg = str(info.value)
    assert f"res{suffix}" in msg and "no stated coordinate reference system" in msg
    assert 'crs = "gcj02" under [residences]' in msg
    assert "--residences-crs gcj02" in msg and "--crs" in msg and "bd09" in msg
    with pytest.raises(InputError, match=r"under \[facilities\].*--facilities-crs"):
        read_facilities(path)
    with pytest.raises(InputError, match=r"under \[proposed\].*--proposed-crs"):
        read_facilities(path, kind="proposed")
    with pytest.raises(InputError, match=r"pass crs=\.\.\. \(or --crs\)"):
        read_layer(path)


def test_in_memory_table_without_crs_is_wgs84_with_a_warning(caplog):
    with caplog.at_level(logging.WARNING):
        out = read_residences(_frame(LON, LAT), households_col="户数")
    np.testing.assert_allclose(out.geometry.x, LON)
    assert "without crs=" in caplog.text


def test_default_crs_applies_only_where_the_layer_states_none(tmp_path):
    lon, lat = wgs84_to_offset(LON, LAT, "gcj02")
    csv = tmp_path / "res.csv"
    _frame(lon, lat).to_csv(csv, index=False)
    out = read_residences(csv, households_col="户数", default_crs="gcj02")
    np.testing.assert_allclose(out.geometry.x, LON, atol=1e-9)
    # crs= wins over the default.
    raw = read_residences(csv, households_col="户数", crs="EPSG:4326", default_crs="gcj02")
    np.testing.assert_allclose(raw.geometry.x, lon)
    # A Shapefile with its .prj (Gauss-Kruger) is not touched by a gcj02 default ...
    shp = tmp_path / "fac.shp"
    gk = gpd.GeoDataFrame(
        {"category": ["health"] * 3}, geometry=gpd.points_from_xy(LON, LAT), crs=4326
    ).to_crs(4547)
    gk.to_file(shp)
    fac = read_facilities(shp, default_crs="gcj02")
    np.testing.assert_allclose(fac.geometry.x, LON, atol=1e-7)
    # ... while crs=gcj02 contradicts it.
    with pytest.raises(InputError, match=r"crs=gcj02 was given but the layer says"):
        read_facilities(shp, crs="gcj02")


def test_bd09_relabels_a_layer_that_says_wgs84():
    lon, lat = wgs84_to_offset(LON, LAT, "bd09")
    gdf = gpd.GeoDataFrame({"households": [1, 2, 3]}, geometry=gpd.points_from_xy(lon, lat))
    out = read_residences(gdf.set_crs(4326), crs="bd09")
    np.testing.assert_allclose(out.geometry.y, LAT, atol=1e-9)
    with pytest.raises(InputError, match=r"crs=bd09 was given.*BD-09"):
        read_residences(gdf.set_crs(4326).to_crs(4547), crs="bd09")


def test_xlsx_sheets(tmp_path):
    path = tmp_path / "res.xlsx"
    with pd.ExcelWriter(path) as writer:
        _frame(LON, LAT).to_excel(writer, sheet_name="小区", index=False)
        pd.DataFrame({"说明": ["坐标为WGS84"]}).to_excel(writer, sheet_name="说明", index=False)
    with pytest.raises(InputError, match=r"holds 2 sheets with data \(小区, 说明\).*sheet="):
        read_residences(path, households_col="户数", crs="EPSG:4326")
    for sheet in ("小区", 0, "0"):
        out = read_residences(
            path, households_col="户数", id_col="小区编号", crs="EPSG:4326", sheet=sheet
        )
        assert list(out["id"]) == ["007", "008", "009"]  # text ids keep their zeros
        assert list(out["households"]) == [120.0, 80.0, 45.0]
        np.testing.assert_allclose(out.geometry.x, LON)
    with pytest.raises(InputError, match=r"has no sheet 'x' \(sheets: 小区, 说明\)"):
        read_residences(path, households_col="户数", crs="EPSG:4326", sheet="x")
    with pytest.raises(InputError, match=r"sheet='小区'.*layer="):
        read_residences(path, households_col="户数", crs="EPSG:4326", layer="小区")
    with pytest.raises(InputError, match=r"sheet=0 was given but the file is not an Excel"):
        read_layer(_csv(tmp_path), crs="EPSG:4326", sheet=0)


def _csv(tmp_path):
    path = tmp_path / "t.csv"
    _frame(LON, LAT).to_csv(path, index=False)
    return path


def test_single_sheet_xlsx_with_empty_rows_and_numeric_ids(tmp_path):
    path = tmp_path / "fac.xlsx"
    frame = pd.DataFrame(
        {"编号": [1, 2, None], "类别": ["幼儿园", "菜市场", None], "lng": [*LON[:2], None]}
    ).assign(lat=[*LAT[:2], None])
    frame.to_excel(path, index=False)
    out = read_facilities(path, id_col="编号", category_col="类别", crs="EPSG:4326")
    assert list(out["id"]) == ["1", "2"]  # whole numbers as text, the empty row dropped
    assert list(out["category"]) == ["kindergarten", "market"]


def test_old_excel_is_explained(tmp_path):
    path = tmp_path / "old.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(InputError, match=r"old\.xls.*old-format workbook.*\.xlsx"):
        read_residences(path)


def _communities(**columns) -> gpd.GeoDataFrame:
    boxes = [shapely.box(114.30, 30.58, 114.31, 30.59), shapely.box(114.31, 30.58, 114.32, 30.59)]
    return gpd.GeoDataFrame(columns, geometry=boxes, crs=4490)


def test_communities_with_chinese_hierarchy_headers(tmp_path):
    gdf = _communities(
        社区代码=["420102001", "420102002"],
        社区名称=["花桥社区", "球场社区"],
        街道=["花桥街道", "花桥街道"],
        区县=["江岸区", "江岸区"],
        面积=[1.2, 0.8],
    )
    path = tmp_path / "社区.shp"
    gdf.to_file(path, encoding="gbk")
    path.with_suffix(".cpg").unlink(missing_ok=True)
    out = read_communities(path)
    assert list(out.columns) == [
        "id",
        "name",
        "subdistrict",
        "district",
        "households",
        "面积",
        "geometry",
    ]
    assert list(out["id"]) == ["420102001", "420102002"]
    assert list(out["name"]) == ["花桥社区", "球场社区"]
    assert list(out["subdistrict"]) == ["花桥街道", "花桥街道"]
    assert list(out["district"]) == ["江岸区", "江岸区"]
    assert out["households"].isna().all()  # no households column needed
    assert out.crs.to_epsg() == 4326


def test_communities_named_columns_and_missing_ones():
    gdf = _communities(名字=["a", "b"], 所在街道=["s1", "s2"], 区划=["d", "d"])
    out = read_communities(gdf, name_col="名字", subdistrict_col="所在街道", district_col="区划")
    assert list(out["subdistrict"]) == ["s1", "s2"] and list(out["district"]) == ["d", "d"]
    assert "所在街道" not in out.columns
    bare = read_communities(_communities(x=[1, 2]))
    assert "subdistrict" not in bare.columns and "district" not in bare.columns
    with pytest.raises(InputError, match=r"'街道名' \(sub-districts \(街道\)\).*--subdistrict-col"):
        read_communities(gdf, subdistrict_col="街道名")
    with pytest.raises(InputError, match=r"'户数'.*--households-col"):
        read_communities(gdf, households_col="户数")
