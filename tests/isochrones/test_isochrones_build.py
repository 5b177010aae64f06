"""Isochrones: the public function's bands, options, caching, threads, bad input and writing.

The small networks (bent line, square) are drawn in `iso_support`.
"""

from __future__ import annotations

import importlib
import logging
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from iso_support import CRS, DATA, local, points_gdf, random_points, same_shape, square_network

import planner
from planner import engine
from planner.errors import InputError
from planner.isochrones import build, isochrones, reached_pieces, score_isochrone
from planner.isochrones._prepare import _forget
from planner.network import Network, load_network
from planner.outputs import write_isochrones
from planner.snapping import snap_points


@pytest.fixture(scope="module")
def square() -> Network:
    return square_network()


@pytest.fixture(scope="module")
def cau() -> Network:
    return load_network(DATA / "cn_beijing_haidian_cau_map.osm.bz2")


def test_bands_come_from_one_shortest_path_pass(
    square: Network, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[float | None] = []
    real = engine.node_distances

    def counting(*args: object, **kwargs: object) -> object:
        calls.append(kwargs.get("cutoff_m"))  # type: ignore[arg-type]
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(engine, "node_distances", counting)
    out = isochrones(square, points_gdf([(0, 0), (150, 200)]), distances_m=(100, 250, 450))
    assert len(out) == 6
    assert calls == [450.0]  # one call for all points, cut off at the largest band
    # Each point's bands nest.
    geoms = local(out, square)
    for k in range(2):
        b100, b250, b450 = geoms[3 * k : 3 * k + 3]
        assert b250.buffer(1e-6).contains(b100) and b450.buffer(1e-6).contains(b250)


def test_minutes_convert_at_the_speed(square: Network) -> None:
    out = isochrones(square, points_gdf([(0, 0)]), minutes=(5, 10), speed_kmh=3.0)
    assert out["band_m"].tolist() == pytest.approx([250.0, 500.0])
    assert out["band_min"].tolist() == [5.0, 10.0]
    default = isochrones(square, points_gdf([(0, 0)]))
    assert default["band_min"].tolist() == [5.0, 10.0, 15.0]
    assert default["band_m"].tolist() == pytest.approx([1000 / 3, 2000 / 3, 1000.0])
    assert default.crs.to_epsg() == 4326


def test_dissolve_is_the_union_of_the_points_polygons(cau: Network) -> None:
    pts = random_points(cau, 4, seed=3)
    each = isochrones(cau, pts, distances_m=(300, 600))
    together = isochrones(cau, pts, distances_m=(300, 600), dissolve=True)
    assert list(together.columns) == ["band_min", "band_m", "n_points", "geometry"]
    assert together["n_points"].tolist() == [4, 4]
    each_local = each.to_crs(cau.crs)
    for k, band in enumerate((300.0, 600.0)):
        expected = shapely.union_all(each_local.loc[each_local["band_m"] == band].geometry)
        assert same_shape(local(together, cau)[k], expected)


def test_concave_dissolve_unions_the_points_hulls(cau: Network) -> None:
    pts = random_points(cau, 3, seed=4)
    each = isochrones(cau, pts, distances_m=(500,), method="concave")
    together = isochrones(cau, pts, distances_m=(500,), method="concave", dissolve=True)
    assert same_shape(local(together, cau)[0], shapely.union_all(local(each, cau)))


def test_ids_and_input_kinds(square: Network) -> None:
    pts = points_gdf([(0, 0), (150, 200)], ids=["库A", "库B"])
    out = isochrones(square, pts, distances_m=(100,))
    assert out["id"].tolist() == ["库A", "库B"]
    from_series = isochrones(square, pts.geometry, distances_m=(100,))
    assert from_series["id"].tolist() == [0, 1]  # a GeoSeries has no id column: its index
    snapped = snap_points(square, pts)
    from_snapped = isochrones(square, snapped, distances_m=(100,))
    assert all(
        same_shape(a, b)
        for a, b in zip(local(out, square), local(from_snapped, square), strict=True)
    )
    assert pts.crs.to_string() == CRS  # input untouched


def test_cold_and_warm_cache_give_the_same_polygons(cau: Network) -> None:
    pts = random_points(cau, 3, seed=5)
    _forget(cau)
    cold = local(isochrones(cau, pts, minutes=(15,)), cau)
    warm = local(isochrones(cau, pts, minutes=(15,)), cau)
    for a, b in zip(cold, warm, strict=True):
        assert same_shape(a, b, rel=1e-9)


def test_threads_give_the_same_rows_in_the_same_order(cau: Network) -> None:
    pts = random_points(cau, 9, seed=8)
    pts["id"] = [f"p{k}" for k in range(9)]
    _forget(cau)
    one = isochrones(cau, pts, minutes=(5, 15), workers=1)
    _forget(cau)  # both threads build the shared union tree's subtrees concurrently
    many = isochrones(cau, pts, minutes=(5, 15), workers=3)
    assert many["id"].tolist() == one["id"].tolist() == [f"p{k // 2}" for k in range(18)]
    assert many["band_min"].tolist() == one["band_min"].tolist()
    for a, b in zip(local(one, cau), local(many, cau), strict=True):
        assert same_shape(a, b, rel=1e-9)


def test_planner_isochrones_is_the_function_and_the_package_stays_reachable(
    square: Network,
) -> None:
    """``planner.isochrones(...)`` is the function (README); the package is reachable too."""
    package = importlib.import_module("planner.isochrones")
    assert hasattr(package, "__path__") and package.__name__ == "planner.isochrones"
    assert planner.isochrones is package.isochrones is isochrones is build.isochrones
    assert package.reached_pieces is reached_pieces
    assert package.score_isochrone is score_isochrone
    out = planner.isochrones(square, points_gdf([(0, 0)]), minutes=(5, 10, 15))
    assert out["band_min"].tolist() == [5.0, 10.0, 15.0]
    assert out.crs.to_epsg() == 4326


# ---------------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"minutes": (10, 5)}, "strictly increasing"),
        ({"minutes": (5, 5)}, "strictly increasing"),
        ({"distances_m": (-100, 300)}, "positive"),
        ({"minutes": ()}, "empty"),
        ({"minutes": (5, float("nan"))}, "finite"),
        ({"speed_kmh": -4.0}, "positive"),
        ({"speed_kmh": 0}, "positive"),
        ({"speed_kmh": "fast"}, "not a number"),
        ({"minutes": (5,), "distances_m": (300,)}, "not both"),
        ({"method": "convex"}, "unknown"),
        ({"buffer_m": 0}, "buffer_m"),
        ({"workers": 0}, "workers"),
        ({"workers": 1.5}, "workers"),
    ],
)
def test_bad_parameters(square: Network, kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InputError, match=message):
        isochrones(square, points_gdf([(0, 0)]), **kwargs)  # type: ignore[arg-type]


def test_empty_points_layer(square: Network) -> None:
    empty = gpd.GeoDataFrame({"id": []}, geometry=[], crs=CRS)
    with pytest.raises(InputError, match="empty"):
        isochrones(square, empty)


def test_points_off_the_network_are_listed(
    square: Network, caplog: pytest.LogCaptureFixture
) -> None:
    pts = points_gdf([(0, 0), (5000, 5000), (100, -10)], ids=[1, 2, 3])
    with caplog.at_level(logging.WARNING, logger="planner.isochrones"):
        out = isochrones(square, pts, distances_m=(100, 200))
    assert sorted(set(out["id"].tolist())) == [1, 3]
    assert out.attrs["off_network"] == [2]
    assert any(
        "off the walking network" in r.getMessage() and "2" in r.getMessage()
        for r in caplog.records
    )

    only_off = isochrones(square, points_gdf([(5000, 5000)], ids=[9]), distances_m=(100,))
    assert len(only_off) == 0
    assert list(only_off.columns) == ["id", "band_min", "band_m", "geometry"]
    assert only_off.attrs["off_network"] == [9]


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".gpkg", ".geojson"])
@pytest.mark.parametrize("ids", [["a", "b"], [7, 8]])
def test_write_and_read_back(
    square: Network, tmp_path: Path, suffix: str, ids: list[object]
) -> None:
    out = isochrones(square, points_gdf([(0, 0), (150, 200)], ids=ids), minutes=(3, 6))
    target = tmp_path / f"iso{suffix}"
    assert write_isochrones(out, target) == target
    back = gpd.read_file(target)
    assert back["id"].tolist() == [ids[0], ids[0], ids[1], ids[1]]
    assert back["band_min"].tolist() == [3.0, 6.0, 3.0, 6.0]
    assert back.crs.to_epsg() == 4326
    assert back.geometry.is_valid.all()
    assert [p.name for p in tmp_path.iterdir()] == [target.name]  # no temporary file left
    write_isochrones(out.iloc[:1], target)  # replaces the file
    assert len(gpd.read_file(target)) == 1


def test_write_refuses_unknown_suffix_and_missing_folder(square: Network, tmp_path: Path) -> None:
    out = isochrones(square, points_gdf([(0, 0)]), minutes=(3,))
    with pytest.raises(InputError, match=r"\.gpkg or \.geojson"):
        write_isochrones(out, tmp_path / "iso.shp")
    with pytest.raises(InputError, match="does not exist"):
        write_isochrones(out, tmp_path / "missing" / "iso.gpkg")
