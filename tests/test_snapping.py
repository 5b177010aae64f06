"""Snapping points onto the network: the nearest point of the nearest edge, the snap cap, bad
layers, and the segment index kept per network."""

from __future__ import annotations

import gc
import logging
import weakref
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from test_engine import CRS, RESIDENCES, grid_lines, points_gdf, random_points

from planner.errors import InputError
from planner.network import Network, build_network, load_network
from planner.snapping import segment_index, snap_points, snap_xy, snapped_points_xy

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="module")
def grid() -> Network:
    return build_network(gpd.GeoDataFrame(geometry=grid_lines(), crs=CRS), source="grid")


@pytest.fixture(scope="module")
def cau() -> Network:
    return load_network(DATA / "cn_beijing_haidian_cau_map.osm.bz2")


def test_grid_snapping(grid: Network) -> None:
    snapped = snap_points(grid, points_gdf(RESIDENCES), what="residences")
    np.testing.assert_allclose(snapped.access_m, [5, 10, 5, 5, 5, 0, 0], atol=1e-9)
    lengths = grid.edge_length_m[snapped.edge]
    np.testing.assert_allclose(lengths[:5], [100, 100, 60, 200, 220])
    # Offsets from the edge's u end, whichever way the edge is stored.
    from_u = snapped.offset_m[:5]
    np.testing.assert_allclose(np.minimum(from_u, lengths[:5] - from_u), [20, 50, 10, 75, 100])
    x, y = snapped_points_xy(grid, snapped)
    np.testing.assert_allclose(x, [80, 200, 100, -50, 260, 200, 200], atol=1e-9)
    np.testing.assert_allclose(y, [0, 150, 250, 225, 40, 100, 100], atol=1e-9)


def test_snapping_is_nearest_point_of_nearest_edge(cau: Network) -> None:
    network = cau
    rng = np.random.default_rng(7)
    x, y = random_points(network, rng, 300)
    snapped = snap_xy(network, x, y, ids=np.arange(300))
    pts = shapely.points(x, y)
    brute = shapely.distance(network.edge_geometry[None, :], pts[:, None]).min(axis=1)
    on = snapped.on_network
    np.testing.assert_allclose(snapped.access_m, brute, atol=1e-9)
    sx, sy = snapped_points_xy(network, snapped)
    np.testing.assert_allclose(np.hypot(sx - x, sy - y)[on], brute[on], atol=1e-6)


def test_bad_point_layers(cau: Network) -> None:
    with pytest.raises(InputError, match="facilities layer is empty"):
        snap_points(cau, gpd.GeoDataFrame(geometry=[], crs=4326), what="facilities")
    with pytest.raises(InputError, match="residences layer has no CRS"):
        snap_points(cau, gpd.GeoDataFrame(geometry=[shapely.Point(0, 0)]), what="residences")
    with pytest.raises(InputError, match=r"1 empty geometries \(rows \[1\]\)"):
        snap_points(cau, gpd.GeoDataFrame(geometry=[shapely.Point(116.35, 40.0), None], crs=4326))


def test_points_beyond_the_cap_reported_never_moved(
    cau: Network, caplog: pytest.LogCaptureFixture
) -> None:
    west, south = float(cau.node_x.min()), float(cau.node_y.min())
    layer = gpd.GeoDataFrame(
        {"id": ["near", "far", "farther"]},
        geometry=[
            shapely.Point(cau.node_x[0] + 3, cau.node_y[0]),
            shapely.Point(west - 2000, south),
            shapely.Point(west - 3000, south - 3000),
        ],
        crs=cau.crs,
    )
    with caplog.at_level(logging.WARNING, logger="planner.snapping"):
        snapped = snap_points(cau, layer, what="residences")
    off = snapped.off_network()
    assert list(off["id"]) == ["far", "farther"]
    brute = shapely.distance(cau.edge_geometry[None, :], layer.geometry.to_numpy()[1:, None])
    np.testing.assert_allclose(off["distance_to_network_m"], brute.min(axis=1))
    assert (off["distance_to_network_m"] > 2000).all()
    np.testing.assert_array_equal(snapped.x, shapely.get_x(layer.geometry.to_numpy()))
    assert snapped.on_network.tolist() == [True, False, False]
    assert "2 residences are farther than 500 m" in caplog.text
    assert "far, farther" in caplog.text


def test_segment_index_is_built_once_and_dies_with_its_network() -> None:
    network = build_network(gpd.GeoDataFrame(geometry=grid_lines(), crs=CRS), source="grid")
    index = segment_index(network)
    assert segment_index(network) is index
    alive = weakref.ref(network)
    del network
    gc.collect()
    assert alive() is None  # the cache holds no strong reference to the network


def test_small_queries_run_on_one_openmp_thread_and_threads_change_no_answer(
    cau: Network, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threadpoolctl

    from planner import snapping

    with snapping._openmp_threads(1):
        runtimes = threadpoolctl.threadpool_info()
    openmp = [r for r in runtimes if r["user_api"] == "openmp"]  # pykdtree's among them
    assert openmp and all(r["num_threads"] == 1 for r in openmp)

    x, y = random_points(cau, np.random.default_rng(11), 2_000)
    one = segment_index(cau).nearest(x, y)
    monkeypatch.setattr(snapping, "THREADS_FROM_POINTS", 1)
    every = segment_index(cau).nearest(x, y)
    for a, b in zip(one, every, strict=True):
        np.testing.assert_array_equal(a, b)
