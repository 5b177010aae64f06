"""Tests for planner.layers: formats, encodings, CRSs (CGCS2000, GCJ-02), validation."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import CRS, Geod, Transformer
from shapely.geometry import LineString, MultiPoint, Point, Polygon

from planner.errors import InputError
from planner.layers import (
    gcj02_to_wgs84,
    read_communities,
    read_facilities,
    read_layer,
    read_residences,
    to_wgs84,
    wgs84_to_gcj02,
)

GEOD = Geod(ellps="WGS84")

# Three facilities around Peking University / Tsinghua (WGS84).
FAC_LON = [116.3105, 116.3201, 116.3302]
FAC_LAT = [39.9921, 39.9987, 40.0042]
FAC_NAMES = ["燕园社区服务中心", "清华园卫生服务站", "成府路养老驿站"]
FAC_CATS = ["Community Service", "health", " elderly-care "]
FAC_SNAKE = ["community_service", "health", "elderly_care"]
FAC_AREA = [650.0, 320.5, 410.0]


def _geo_m(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Geodesic distances in metres between arrays of WGS84 points."""
    *_, dist = GEOD.inv(np.asarray(lon1), np.asarray(lat1), np.asarray(lon2), np.asarray(lat2))
    return np.asarray(dist)


def _facilities_gdf(crs=4326) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "id": ["F1", "F2", "F3"],
            "name": FAC_NAMES,
            "category": FAC_CATS,
            "floor_area_m2": FAC_AREA,
            "note": ["a", "b", "c"],
        },
        geometry=gpd.points_from_xy(FAC_LON, FAC_LAT),
        crs=crs,
    )


def _residences_gdf() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"id": [1, 2, 3], "households": [120, 80, 45], "name": ["A区", "B区", "C区"]},
        geometry=gpd.points_from_xy(FAC_LON, FAC_LAT),
        crs=4326,
    )


def _digest(path: Path) -> dict[str, str]:
    """Hashes of a file and its sidecars (shapefile parts)."""
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(path.parent.glob(path.stem + ".*"))
    }


def _write(gdf: gpd.GeoDataFrame, path: Path, **kwargs) -> Path:
    if path.suffix == ".shp":  # dBase field names have at most 10 characters
        gdf = gdf.rename(columns={"floor_area_m2": "area_m2"})
    gdf.to_file(path, **kwargs)
    return path


def _assert_facilities(out: gpd.GeoDataFrame) -> None:
    assert list(out.columns[:4]) == ["id", "name", "category", "floor_area_m2"]
    assert out.crs.to_epsg() == 4326
    assert list(out["id"]) == ["F1", "F2", "F3"]
    assert list(out["name"]) == FAC_NAMES
    assert list(out["category"]) == FAC_SNAKE
    np.testing.assert_allclose(out["floor_area_m2"], FAC_AREA)
    assert list(out["note"]) == ["a", "b", "c"]
    assert isinstance(out.index, pd.RangeIndex)
    np.testing.assert_allclose(out.geometry.x, FAC_LON, atol=1e-9)
    np.testing.assert_allclose(out.geometry.y, FAC_LAT, atol=1e-9)


# ---------------------------------------------------------------------------------------------
# Formats
# ---------------------------------------------------------------------------------------------


def test_gpkg_facilities(tmp_path):
    path = _write(_facilities_gdf(), tmp_path / "fac.gpkg")
    before = _digest(path)
    _assert_facilities(read_facilities(path))
    assert _digest(path) == before


def test_geojson_facilities(tmp_path):
    path = _write(_facilities_gdf(), tmp_path / "fac.geojson")
    before = _digest(path)
    _assert_facilities(read_facilities(str(path)))
    assert _digest(path) == before


def test_gbk_shapefile_without_cpg(tmp_path, caplog):
    path = _write(_facilities_gdf(), tmp_path / "fac.shp", encoding="GBK")
    path.with_suffix(".cpg").unlink()
    dbf = path.with_suffix(".dbf").read_bytes()
    assert "燕园".encode("gbk") in dbf  # the fixture really is GBK
    with pytest.raises(UnicodeDecodeError):
        dbf.decode("utf-8")
    before = _digest(path)
    with caplog.at_level(logging.INFO, logger="planner.layers"):
        out = read_facilities(path, floor_area_col="area_m2")
    _assert_facilities(out)
    assert "GBK" in caplog.text
    assert _digest(path) == before
    assert not path.with_suffix(".cpg").exists()


def test_shapefile_cpg_is_honoured(tmp_path):
    path = _write(_facilities_gdf(), tmp_path / "fac.shp", encoding="GBK")
    assert path.with_suffix(".cpg").read_text().strip().upper() == "GBK"
    _assert_facilities(read_facilities(path, floor_area_col="area_m2"))


def test_utf8_shapefile_without_cpg(tmp_path, caplog):
    path = _write(_facilities_gdf(), tmp_path / "fac.shp", encoding="UTF-8")
    path.with_suffix(".cpg").unlink()
    with caplog.at_level(logging.INFO, logger="planner.layers"):
        _assert_facilities(read_facilities(path, floor_area_col="area_m2"))
    assert "UTF-8" in caplog.text


def test_encoding_override(tmp_path):
    path = _write(_facilities_gdf(), tmp_path / "fac.shp", encoding="GBK")
    path.with_suffix(".cpg").unlink()
    _assert_facilities(read_facilities(path, encoding="gb18030", floor_area_col="area_m2"))
    with pytest.raises(InputError, match=r"fac\.shp.*encoding"):
        read_facilities(path, encoding="utf-8", floor_area_col="area_m2")


def test_csv_with_chinese_lon_lat_columns(tmp_path):
    frame = pd.DataFrame(
        {
            "编号": ["001", "002", "003"],
            "名称": FAC_NAMES,
            "类别": FAC_CATS,
            "面积": FAC_AREA,
            "经度": FAC_LON,
            "纬度": FAC_LAT,
        }
    )
    path = tmp_path / "fac.csv"
    frame.to_csv(path, index=False, encoding="utf-8")
    before = _digest(path)
    out = read_facilities(
        path, id_col="编号", name_col="名称", category_col="类别", floor_area_col="面积"
    )
    assert list(out["id"]) == ["001", "002", "003"]  # leading zeros kept
    assert list(out["name"]) == FAC_NAMES
    assert list(out["category"]) == FAC_SNAKE
    assert "经度" in out.columns and "编号" not in out.columns
    np.testing.assert_allclose(out.geometry.x, FAC_LON)
    np.testing.assert_allclose(out.geometry.y, FAC_LAT)
    assert out.crs.to_epsg() == 4326
    assert _digest(path) == before


def test_gbk_csv_and_explicit_lon_lat(tmp_path):
    frame = pd.DataFrame(
        {
            "id": [1, 2, 3],
            "户数": [10, 20, 30],
            "E": FAC_LON,
            "N": FAC_LAT,
            "备注": ["甲", "乙", "丙"],
        }
    )
    path = tmp_path / "res.csv"
    frame.to_csv(path, index=False, encoding="gbk")
    out = read_residences(path, households_col="户数", lon_col="E", lat_col="N")
    assert list(out["households"]) == [10.0, 20.0, 30.0]
    assert list(out["备注"]) == ["甲", "乙", "丙"]
    np.testing.assert_allclose(out.geometry.x, FAC_LON)


@pytest.mark.parametrize(("lon", "lat"), [("lng", "lat"), ("Longitude", "Latitude"), ("x", "y")])
def test_csv_lon_lat_autodetect(tmp_path, lon, lat):
    path = tmp_path / "res.csv"
    pd.DataFrame({lon: FAC_LON, lat: FAC_LAT, "households": [1, 2, 3]}).to_csv(path, index=False)
    out = read_residences(path)
    np.testing.assert_allclose(out.geometry.y, FAC_LAT)
    assert list(out["id"]) == [0, 1, 2]  # no id column: ids from the index


def test_geodataframe_source_not_mutated():
    gdf = _residences_gdf().rename(columns={"households": "hh"})
    gdf.index = [10, 20, 30]
    snapshot = gdf.copy(deep=True)
    out = read_residences(gdf, households_col="hh")
    pd.testing.assert_frame_equal(pd.DataFrame(gdf), pd.DataFrame(snapshot))
    assert list(out["households"]) == [120.0, 80.0, 45.0]
    assert "hh" not in out.columns
    out.loc[0, "households"] = -1
    assert gdf["hh"].iloc[0] == 120


def test_ids_from_index_of_geodataframe():
    gdf = _residences_gdf().drop(columns="id")
    gdf.index = [7, 8, 9]
    assert list(read_residences(gdf)["id"]) == [7, 8, 9]


def test_plain_dataframe_source():
    frame = pd.DataFrame({"lon": FAC_LON, "lat": FAC_LAT, "households": [1, 2, 3]})
    out = read_residences(frame)
    assert out.crs.to_epsg() == 4326
    np.testing.assert_allclose(out.geometry.x, FAC_LON)


def test_optional_columns_absent(tmp_path):
    gdf = _facilities_gdf().drop(columns=["name", "floor_area_m2"])
    out = read_facilities(gdf)
    assert out["name"].isna().all()
    assert out["floor_area_m2"].isna().all()
    assert out["floor_area_m2"].dtype == float
    res = read_residences(_residences_gdf().drop(columns="households"), require_households=False)
    assert res["households"].isna().all()


def test_conflicting_canonical_column_is_kept_aside():
    gdf = _residences_gdf().assign(hh=[5, 6, 7])
    out = read_residences(gdf, households_col="hh")
    assert list(out["households"]) == [5.0, 6.0, 7.0]
    assert list(out["households_original"]) == [120, 80, 45]


def test_case_insensitive_column_match():
    gdf = _residences_gdf().rename(columns={"id": "ID", "households": "HOUSEHOLDS"})
    out = read_residences(gdf)
    assert list(out["id"]) == [1, 2, 3]
    assert list(out["households"]) == [120.0, 80.0, 45.0]


def test_read_layer_multilayer_gpkg(tmp_path):
    path = tmp_path / "multi.gpkg"
    _facilities_gdf().to_file(path, layer="facilities")
    _residences_gdf().to_file(path, layer="residences")
    out = read_layer(path, layer="residences")
    assert list(out["households"]) == [120, 80, 45]
    with pytest.raises(InputError, match=r"multi\.gpkg.*2 layers.*facilities.*layer="):
        read_residences(path)
    with pytest.raises(InputError, match=r"no layer 'nope'"):
        read_residences(path, layer="nope")


# ---------------------------------------------------------------------------------------------
# Geometry
# ---------------------------------------------------------------------------------------------


def _building(lon: float, lat: float, width_m: float, depth_m: float) -> Polygon:
    """A rectangle built in UTM 50N (Beijing), returned in WGS84."""
    to_utm = Transformer.from_crs(4326, 32650, always_xy=True)
    x, y = to_utm.transform(lon, lat)
    rect = shapely.box(x, y, x + width_m, y + depth_m)
    back = Transformer.from_crs(32650, 4326, always_xy=True)
    return shapely.transform(rect, lambda c: np.column_stack(back.transform(c[:, 0], c[:, 1])))


def test_building_polygons_become_points_with_footprint(tmp_path):
    l_shape = shapely.difference(
        _building(116.32, 39.99, 40, 40), _building(116.32, 39.99, 30, 30).buffer(0)
    )
    polys = [_building(116.31, 39.99, 20, 30), l_shape]
    gdf = gpd.GeoDataFrame(
        {"id": [1, 2, 3], "households": [24, 36, 5]},
        geometry=[*polys, Point(116.33, 40.0)],
        crs=4326,
    )
    path = _write(gdf, tmp_path / "buildings.gpkg")
    out = read_residences(path)
    assert (out.geom_type == "Point").all()
    np.testing.assert_allclose(out["footprint_m2"].iloc[:2], [600.0, 1600.0 - 900.0], rtol=1e-3)
    assert np.isnan(out["footprint_m2"].iloc[2])
    for poly, point in zip(polys, out.geometry.iloc[:2], strict=True):
        assert poly.contains(point)  # representative point, inside even for the L shape
    assert not l_shape.contains(l_shape.centroid)  # the centroid would have been outside


def test_single_part_multipoint_accepted():
    gdf = _residences_gdf()
    gdf.geometry = [MultiPoint([(116.31, 39.99)]), *gdf.geometry.iloc[1:]]
    out = read_residences(gdf)
    assert out.geometry.iloc[0].equals(Point(116.31, 39.99))


def test_lines_null_and_empty_geometries_are_errors(tmp_path):
    gdf = gpd.GeoDataFrame(
        {"id": ["a", "b", "c", "d"], "households": [1, 2, 3, 4]},
        geometry=[Point(116.3, 39.9), LineString([(116.3, 39.9), (116.31, 39.91)]), None, Point()],
        crs=4326,
    )
    path = _write(gdf, tmp_path / "bad_geom.gpkg")
    with pytest.raises(InputError) as info:
        read_residences(path)
    msg = str(info.value)
    assert "bad_geom.gpkg" in msg
    assert "row 2 (id b)" in msg and "LineString" in msg
    assert "row 3 (id c)" in msg and "no geometry" in msg
    assert "row 4 (id d)" in msg and "empty geometry" in msg


def test_communities_polygons_and_repair(caplog):
    bowtie = Polygon([(116.30, 39.90), (116.31, 39.91), (116.31, 39.90), (116.30, 39.91)])
    gdf = gpd.GeoDataFrame(
        {"id": ["C1", "C2"], "name": ["燕园", "蓝旗营"], "households": [3000, None]},
        geometry=[_building(116.3, 39.98, 500, 400), bowtie],
        crs=4326,
    )
    with caplog.at_level(logging.WARNING, logger="planner.layers"):
        out = read_communities(gdf)
    assert "repaired" in caplog.text
    assert out.geometry.is_valid.all()
    assert set(out.geom_type) <= {"Polygon", "MultiPolygon"}
    assert out["households"].iloc[0] == 3000.0 and np.isnan(out["households"].iloc[1])
    assert list(out["name"]) == ["燕园", "蓝旗营"]


def test_communities_must_be_polygons(tmp_path):
    path = _write(_facilities_gdf(), tmp_path / "points.gpkg")
    with pytest.raises(InputError, match=r"points\.gpkg.*must be polygons.*rows 1, 2, 3.*Point"):
        read_communities(path)
    csv = tmp_path / "c.csv"
    pd.DataFrame({"lon": [116.3], "lat": [39.9]}).to_csv(csv, index=False)
    with pytest.raises(InputError, match=r"c\.csv.*polygons"):
        read_communities(csv)


# ---------------------------------------------------------------------------------------------
# CRSs: CGCS2000 Gauss-Kruger, GCJ-02
# ---------------------------------------------------------------------------------------------

# Chengdu (the city that adopted 30 m² / 100 households) lies in GK zone 35 (103.5-106.5 E).
CD_LON = np.array([104.0657, 104.0801, 104.0412])
CD_LAT = np.array([30.6595, 30.6712, 30.6450])


def test_cgcs2000_gauss_kruger_zone35(tmp_path):
    to_gk = Transformer.from_crs(4490, 4523, always_xy=True)
    east, north = to_gk.transform(CD_LON, CD_LAT)
    assert (east > 35_000_000).all()  # zone-prefixed eastings
    gdf = gpd.GeoDataFrame(
        {"id": [1, 2, 3], "households": [100, 200, 300]},
        geometry=gpd.points_from_xy(east, north),
        crs="EPSG:4523",
    )
    path = _write(gdf, tmp_path / "chengdu_gk35.gpkg")
    out = read_residences(path)
    assert out.crs.to_epsg() == 4326
    # CGCS2000 and WGS84 agree to well under a metre.
    assert _geo_m(out.geometry.x, out.geometry.y, CD_LON, CD_LAT).max() < 1.0


def test_gauss_kruger_central_meridian_by_hand():
    # Easting 35 500 000 is the zone-35 central meridian, 105 E, whatever the northing.
    gdf = gpd.GeoDataFrame(
        {"id": [1], "households": [1]}, geometry=[Point(35_500_000, 3_400_000)], crs="EPSG:4523"
    )
    out = read_residences(gdf)
    assert out.geometry.x.iloc[0] == pytest.approx(105.0, abs=1e-9)
    assert 30.0 < out.geometry.y.iloc[0] < 31.0


def test_gauss_kruger_without_zone_prefix_is_explained(tmp_path):
    gdf = gpd.GeoDataFrame(
        {"id": [1, 2], "households": [1, 2]},
        geometry=[Point(403_000, 3_393_000), Point(404_000, 3_394_000)],
        crs="EPSG:4523",
    )
    path = _write(gdf, tmp_path / "noprefix.gpkg")
    with pytest.raises(InputError, match=r"noprefix\.gpkg.*rows 1, 2.*zone 35.*EPSG:4534-4554"):
        read_residences(path)
    # The same numbers in the "CM 105E" variant, EPSG:4544, are fine.
    out = read_residences(gdf.set_crs(4544, allow_override=True))
    assert 103.5 < out.geometry.x.min() < out.geometry.x.max() < 106.5


def test_cgcs2000_geographic_csv(tmp_path):
    path = tmp_path / "res.csv"
    pd.DataFrame({"lon": CD_LON, "lat": CD_LAT, "households": [1, 2, 3]}).to_csv(path, index=False)
    out = read_residences(path, crs="EPSG:4490")
    assert _geo_m(out.geometry.x, out.geometry.y, CD_LON, CD_LAT).max() < 1.0


def test_gcj02_reference_pair():
    # Published example (wandergis/coordtransform test/app.js): WGS84 (116.404, 39.915)
    # -> GCJ-02 (116.41024449916938, 39.91640428150164).
    lon, lat = wgs84_to_gcj02(116.404, 39.915)
    assert lon == pytest.approx(116.41024449916938, abs=1e-9)
    assert lat == pytest.approx(39.91640428150164, abs=1e-9)
    offset_m = _geo_m(116.404, 39.915, lon, lat)
    assert 100.0 < offset_m < 700.0


def test_gcj02_round_trip_across_china():
    rng = np.random.default_rng(42)
    lon = rng.uniform(75.0, 134.0, 2000)
    lat = rng.uniform(18.0, 53.0, 2000)
    lon_copy = lon.copy()
    g_lon, g_lat = wgs84_to_gcj02(lon, lat)
    offsets = _geo_m(lon, lat, g_lon, g_lat)
    assert offsets.min() > 1.0 and offsets.max() < 1500.0
    w_lon, w_lat = gcj02_to_wgs84(g_lon, g_lat)
    assert _geo_m(lon, lat, w_lon, w_lat).max() < 0.01
    assert w_lon.shape == lon.shape
    np.testing.assert_array_equal(lon, lon_copy)  # inputs untouched


def test_gcj02_beijing_offset_magnitude():
    lon, lat = np.array([116.3105, 116.4074]), np.array([39.9921, 39.9042])
    g_lon, g_lat = wgs84_to_gcj02(lon, lat)
    offsets = _geo_m(lon, lat, g_lon, g_lat)
    assert ((offsets > 100) & (offsets < 700)).all()
    assert (g_lon > lon).all() and (g_lat > lat).all()  # Beijing shifts north-east


def test_gcj02_outside_china_unchanged():
    lon, lat = np.array([2.3522, -122.27, 139.69]), np.array([48.8566, 37.80, 35.69])
    for f in (wgs84_to_gcj02, gcj02_to_wgs84):
        out_lon, out_lat = f(lon, lat)
        np.testing.assert_array_equal(out_lon, lon)
        np.testing.assert_array_equal(out_lat, lat)


def test_gcj02_csv_and_geojson_input(tmp_path):
    g_lon, g_lat = wgs84_to_gcj02(np.array(FAC_LON), np.array(FAC_LAT))
    csv = tmp_path / "amap.csv"
    pd.DataFrame({"lng": g_lon, "lat": g_lat, "households": [1, 2, 3]}).to_csv(csv, index=False)
    out = read_residences(csv, crs="gcj02")
    assert _geo_m(out.geometry.x, out.geometry.y, FAC_LON, FAC_LAT).max() < 0.01
    # Amap data saved as GeoJSON is labelled WGS84; crs="GCJ-02" says what it really is.
    gdf = _facilities_gdf()
    gdf.geometry = gpd.points_from_xy(g_lon, g_lat)
    path = _write(gdf, tmp_path / "amap.geojson")
    out = read_facilities(path, crs="GCJ-02")
    assert _geo_m(out.geometry.x, out.geometry.y, FAC_LON, FAC_LAT).max() < 0.01
    # Without crs= the offset stays (hundreds of metres): the declaration matters.
    plain = read_facilities(path)
    assert _geo_m(plain.geometry.x, plain.geometry.y, FAC_LON, FAC_LAT).min() > 100


def test_gcj02_polygons_converted_vertexwise():
    poly = _building(116.31, 39.99, 50, 50)
    coords = shapely.get_coordinates(poly)
    g_lon, g_lat = wgs84_to_gcj02(coords[:, 0], coords[:, 1])
    gcj_poly = Polygon(np.column_stack([g_lon, g_lat]))
    out = to_wgs84(gpd.GeoDataFrame(geometry=[gcj_poly]), source_crs="gcj02")
    assert out.geometry.iloc[0].equals_exact(poly, tolerance=1e-9)


def test_to_wgs84_projected_and_not_mutating():
    gdf = _facilities_gdf().to_crs(32650)
    snapshot = gdf.copy(deep=True)
    out = to_wgs84(gdf)
    assert out.crs.to_epsg() == 4326
    np.testing.assert_allclose(out.geometry.x, FAC_LON, atol=1e-9)
    assert gdf.crs.to_epsg() == 32650
    assert gdf.geometry.equals(snapshot.geometry)


# ---------------------------------------------------------------------------------------------
# Bad input: one InputError naming file, column/rows and fix
# ---------------------------------------------------------------------------------------------


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match=r"nothere\.gpkg.*does not exist"):
        read_facilities(tmp_path / "nothere.gpkg")


def test_unreadable_file(tmp_path):
    path = tmp_path / "junk.gpkg"
    path.write_text("this is not a geopackage")
    with pytest.raises(InputError, match=r"junk\.gpkg.*cannot be read"):
        read_facilities(path)


def test_empty_layer(tmp_path):
    path = _write(_facilities_gdf().iloc[:0], tmp_path / "empty.gpkg")
    with pytest.raises(InputError, match=r"empty\.gpkg.*no features"):
        read_facilities(path)
    csv = tmp_path / "empty.csv"
    csv.write_text("lon,lat,households\n")
    with pytest.raises(InputError, match=r"empty\.csv.*no features"):
        read_residences(csv)


def test_missing_crs(tmp_path):
    path = tmp_path / "nocrs.shp"
    gdf = _residences_gdf().set_crs(None, allow_override=True)
    with pytest.warns(UserWarning, match="crs"):
        gdf.to_file(path)
    with pytest.raises(InputError, match=r"nocrs\.shp.*no coordinate reference system.*EPSG:4490"):
        read_residences(path)
    out = read_residences(path, crs="EPSG:4326")
    np.testing.assert_allclose(out.geometry.x, FAC_LON)


def test_crs_mismatch_and_unknown(tmp_path):
    chengdu = _residences_gdf().set_geometry(gpd.points_from_xy(CD_LON, CD_LAT), crs=4490)
    path = _write(chengdu.to_crs(4523), tmp_path / "gk.gpkg")
    with pytest.raises(InputError, match=r"gk\.gpkg.*crs=EPSG:4326.*EPSG:4523"):
        read_residences(path, crs="EPSG:4326")
    with pytest.raises(InputError, match=r"gk\.gpkg.*crs='EPSG:999999'.*EPSG:4490"):
        read_residences(path, crs="EPSG:999999")
    with pytest.raises(InputError, match=r"gk\.gpkg.*gcj02.*EPSG:4523"):
        read_residences(path, crs="gcj02")
    # The same CRS spelled differently is fine.
    read_residences(path, crs=CRS.from_epsg(4523))


def test_projected_coordinates_labelled_wgs84(tmp_path):
    csv = tmp_path / "proj.csv"
    pd.DataFrame({"x": [35_500_000.0], "y": [3_400_000.0], "households": [3]}).to_csv(
        csv, index=False
    )
    with pytest.raises(InputError, match=r"proj\.csv.*row 1.*not longitude/latitude.*EPSG:4523"):
        read_residences(csv)
    out = read_residences(csv, crs="EPSG:4523")
    assert out.geometry.x.iloc[0] == pytest.approx(105.0)


def test_swapped_lon_lat_is_explained(tmp_path):
    csv = tmp_path / "swapped.csv"
    pd.DataFrame({"lon": FAC_LAT, "lat": FAC_LON, "households": [1, 2, 3]}).to_csv(csv, index=False)
    with pytest.raises(InputError, match=r"swapped\.csv.*rows 1, 2, 3.*look swapped.*--lon-col"):
        read_residences(csv)
    out = read_residences(csv, lon_col="lat", lat_col="lon")
    np.testing.assert_allclose(out.geometry.x, FAC_LON)


def test_excel_utf8_bom_csv(tmp_path):
    path = tmp_path / "excel.csv"
    frame = pd.DataFrame({"经度": FAC_LON, "纬度": FAC_LAT, "households": [1, 2, 3]})
    frame.to_csv(path, index=False, encoding="utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    out = read_residences(path)
    assert "经度" in out.columns
    np.testing.assert_allclose(out.geometry.y, FAC_LAT)


def test_missing_required_columns_name_flags(tmp_path):
    path = _write(_facilities_gdf().drop(columns="category"), tmp_path / "fac.gpkg")
    with pytest.raises(InputError) as info:
        read_facilities(path, require_floor_area=True, floor_area_col="area")
    msg = str(info.value)
    assert "fac.gpkg" in msg and "2 problems" in msg
    assert "'category'" in msg and "--category-col" in msg and "category_col=" in msg
    assert "'area'" in msg and "--floor-area-col" in msg
    assert "columns: id, name, floor_area_m2, note" in msg
    res = _write(_residences_gdf().drop(columns="households"), tmp_path / "res.gpkg")
    with pytest.raises(InputError, match=r"res\.gpkg.*'households'.*--households-col"):
        read_residences(res)
    with pytest.raises(InputError, match=r"'objectid'.*--id-col"):
        read_residences(res, id_col="objectid", require_households=False)
    with pytest.raises(InputError, match=r"'名称'.*--name-col"):
        read_facilities(_facilities_gdf(), name_col="名称")


def test_duplicate_ids(tmp_path):
    gdf = _residences_gdf()
    gdf["id"] = ["A", "B", "A"]
    path = _write(gdf, tmp_path / "dup.geojson")
    with pytest.raises(InputError, match=r"dup\.geojson.*duplicate ids.*A \(2x\).*rows 1, 3"):
        read_residences(path)


def test_bad_households_values_all_reported_once(tmp_path):
    path = tmp_path / "res.csv"
    households = ["12", "abc", "-3", "", "inf", *["x"] * 10]
    n = len(households)
    pd.DataFrame(
        {"id": range(1, n + 1), "lon": [116.3] * n, "lat": [39.9] * n, "households": households}
    ).to_csv(path, index=False)
    with pytest.raises(InputError) as info:
        read_residences(path)
    msg = str(info.value)
    assert msg.count("res.csv") >= 5  # header and every problem name the file
    assert "4 problems" in msg
    assert "not numbers at rows 2, 6, 7" in msg and "'abc'" in msg and "and 1 more" in msg
    assert "negative values at row 3" in msg
    assert "infinite values at row 5" in msg
    assert "'households' (household counts) is empty at row 4" in msg


def test_negative_floor_area_and_required_missing():
    gdf = _facilities_gdf()
    out = read_facilities(gdf.assign(floor_area_m2=[100.0, 5.0, np.nan]))
    assert np.isnan(out["floor_area_m2"].iloc[2])  # missing is fine unless required
    with pytest.raises(InputError, match=r"negative") as info:
        read_facilities(gdf.assign(floor_area_m2=[100.0, -5.0, 1.0]))
    assert "facilities layer" in str(info.value) and "index 1 (id F2)" in str(info.value)
    with pytest.raises(InputError, match=r"facilities layer.*floor areas in m².*empty at index 2"):
        read_facilities(gdf.assign(floor_area_m2=[1.0, 2.0, np.nan]), require_floor_area=True)


def test_blank_category_and_coordinates(tmp_path):
    path = tmp_path / "fac.csv"
    pd.DataFrame(
        {
            "id": ["a", "b", "c"],
            "category": ["health", " ", "market"],
            "lon": [116.3, "東経", None],
            "lat": [39.9, 39.9, 39.9],
        }
    ).to_csv(path, index=False)
    with pytest.raises(InputError) as info:
        read_facilities(path)
    msg = str(info.value)
    assert "'category' (facility categories) is empty at row 2 (id b)" in msg
    assert "longitude column 'lon' has values that are not numbers at row 2" in msg
    assert "longitude column 'lon' is empty at row 3" in msg


def test_missing_or_ambiguous_lon_lat(tmp_path):
    path = tmp_path / "t.csv"
    pd.DataFrame({"east": [116.3], "north": [39.9], "households": [1]}).to_csv(path, index=False)
    with pytest.raises(InputError, match=r"t\.csv.*no longitude column.*--lon-col"):
        read_residences(path)
    pd.DataFrame({"x": [1.0], "lon": [116.3], "lat": [39.9], "households": [1]}).to_csv(
        path, index=False
    )
    with pytest.raises(InputError, match=r"several columns could be the longitude: x, lon"):
        read_residences(path)
    assert read_residences(path, lon_col="lon").geometry.x.iloc[0] == 116.3


def test_lon_col_for_layer_with_geometry_is_error(tmp_path):
    path = _write(_residences_gdf(), tmp_path / "r.gpkg")
    with pytest.raises(InputError, match=r"r\.gpkg.*lon_col='lon'.*already has geometries"):
        read_residences(path, lon_col="lon")


def test_geodataframe_errors_say_layer_not_file():
    gdf = _residences_gdf()
    gdf["households"] = [1, -2, 3]
    with pytest.raises(InputError, match=r"residences layer.*index 1 \(id 2\)"):
        read_residences(gdf)


def test_input_file_unchanged_after_failed_read(tmp_path):
    gdf = _residences_gdf()
    gdf["households"] = [1, -2, 3]
    path = _write(gdf, tmp_path / "bad.shp", encoding="GBK")
    path.with_suffix(".cpg").unlink()
    before = _digest(path)
    with pytest.raises(InputError):
        read_residences(path)
    assert _digest(path) == before
    assert sorted(p.suffix for p in tmp_path.iterdir()) == [".dbf", ".prj", ".shp", ".shx"]
