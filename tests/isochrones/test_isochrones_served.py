"""A review's served areas as reached pieces (`served_bands`) and their polygons on demand."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from iso_support import DATA, random_points

from planner.isochrones import isochrones
from planner.isochrones.served import ServedBands, served_bands
from planner.network import Network, load_network
from planner.snapping import snap_points
from planner.standards import minutes_to_m


@pytest.fixture(scope="module")
def cau() -> Network:
    return load_network(DATA / "cn_beijing_haidian_cau_map.osm.bz2")


@pytest.fixture(scope="module")
def served(cau: Network) -> tuple[ServedBands, object, np.ndarray]:
    points = random_points(cau, 12, seed=7)
    categories = np.array(["a", "b", "c"] * 4, dtype=object)
    snapped = snap_points(cau, points)
    return (
        served_bands(cau, snapped, categories, speed_kmh=4.0, only=["c", "a"]),
        points,
        categories,
    )


def test_rows_per_category_and_band(served: tuple[ServedBands, object, np.ndarray]) -> None:
    bands, _, _ = served
    assert bands.table["category"].tolist() == ["c"] * 3 + ["a"] * 3  # `only`, in its order
    assert bands.table["band_min"].tolist() == [5.0, 10.0, 15.0] * 2
    np.testing.assert_allclose(bands.table["band_m"], list(minutes_to_m([5, 10, 15], 4.0)) * 2)
    assert bands.table["n_points"].tolist() == [4] * 6
    # Bands nest: the edges reached whole in a band are reached whole in every larger one.
    for lo, hi in ((0, 1), (1, 2), (3, 4), (4, 5)):
        assert np.isin(bands.whole_edges(lo), bands.whole_edges(hi)).all()


def test_polygons_are_the_dissolved_isochrones(
    served: tuple[ServedBands, object, np.ndarray], cau: Network
) -> None:
    bands, points, categories = served
    for pool in ("processes", "threads"):
        polygons = bands.polygons(workers=2, pool=pool)
        assert list(polygons.columns) == ["band_min", "band_m", "n_points", "category", "geometry"]
        for cat in ("c", "a"):
            old = isochrones(cau, points[categories == cat], dissolve=True)
            new = polygons[polygons["category"] == cat]
            assert all(
                shapely.equals(a, b) for a, b in zip(old.geometry, new.geometry, strict=True)
            )
    one = bands.polygons(workers=1)
    assert all(shapely.equals(a, b) for a, b in zip(one.geometry, polygons.geometry, strict=True))


def test_pieces_buffered_are_the_polygon(served: tuple[ServedBands, object, np.ndarray]) -> None:
    bands, _, _ = served
    polygons = bands.polygons(workers=1).to_crs(bands.network.crs)
    for row in (0, 5):
        union = shapely.union_all(shapely.buffer(bands.pieces(row), bands.buffer_m, quad_segs=4))
        drawn = polygons.geometry.iloc[row]
        assert shapely.symmetric_difference(union, drawn).area < 1e-6 * drawn.area
