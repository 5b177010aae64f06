"""What a walk reaches: hand-worked pieces on small synthetic networks, and exactness of the
reached intervals against the distance engine on a real extract."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from iso_support import (
    DATA,
    X0,
    Y0,
    bent_network,
    local,
    points_gdf,
    random_points,
    same_shape,
    shifted,
    square_network,
)

from planner import engine
from planner.isochrones import isochrones, reached_pieces
from planner.isochrones._prepare import _prepared
from planner.isochrones.reach import _band_reach
from planner.isochrones.score import _samples
from planner.network import Network, load_network
from planner.snapping import snap_points, snapped_points_xy


@pytest.fixture(scope="module")
def bent() -> Network:
    return bent_network()


@pytest.fixture(scope="module")
def square() -> Network:
    return square_network()


@pytest.fixture(scope="module")
def cau() -> Network:
    return load_network(DATA / "cn_beijing_haidian_cau_map.osm.bz2")


# ---------------------------------------------------------------------------------------------
# Hand-worked pieces
# ---------------------------------------------------------------------------------------------


def test_own_edge_walked_both_ways_after_the_access_leg(bent: Network) -> None:
    # Point (100,10): access 10 m, offset 100 m. Band 200 m leaves 190 m on the edge:
    # [0, 290] (clipped at the start), plus the access leg (100,10)-(100,0).
    out = isochrones(bent, points_gdf([(100, 10)]), distances_m=(200,))
    (poly,) = local(out, bent)
    expected = shapely.union_all(
        [
            shapely.buffer(shapely.LineString(shifted([(0, 0), (290, 0)])), 25, quad_segs=4),
            shapely.buffer(shapely.LineString(shifted([(100, 10), (100, 0)])), 25, quad_segs=4),
        ]
    )
    assert same_shape(poly, expected)
    assert out.loc[0, "band_m"] == 200.0
    assert out.loc[0, "band_min"] == pytest.approx(3.0)  # 200 m at 4 km/h


def test_piece_follows_the_real_geometry_round_a_bend(bent: Network) -> None:
    # Point (250,0) on the edge, no access leg. Band 150 m: [100, 400] along the edge, which
    # turns the corner at 300 m: (100,0)-(300,0)-(300,100).
    out = isochrones(bent, points_gdf([(250, 0)]), distances_m=(150,))
    (poly,) = local(out, bent)
    piece = shapely.LineString(shifted([(100, 0), (300, 0), (300, 100)]))
    assert same_shape(poly, shapely.buffer(piece, 25, quad_segs=4))
    # The straight chord between the piece's ends is not walked: its middle lies 50 m from it.
    assert not poly.contains(shapely.Point(X0 + 210, Y0 + 60))


def test_partial_edges_walked_in_from_each_end(square: Network) -> None:
    # Source at corner (0,0). Band 300 m: the two edges at the corner whole, 100 m of each far
    # edge walked in from (200,0) and (0,200). The far corner (200,200) is 400 m away.
    out = isochrones(square, points_gdf([(0, 0)]), distances_m=(300,))
    (poly,) = local(out, square)
    reached = shapely.MultiLineString(
        [
            shifted([(0, 0), (200, 0), (200, 100)]),
            shifted([(0, 0), (0, 200), (100, 200)]),
        ]
    )
    assert same_shape(poly, shapely.buffer(reached, 25, quad_segs=4))
    assert not poly.contains(shapely.Point(X0 + 200, Y0 + 200))
    assert poly.contains(shapely.Point(X0 + 200, Y0 + 90))


def test_pieces_that_meet_make_a_whole_edge_and_holes_stay_holes(square: Network) -> None:
    # Band 450 m: 250 m left at (200,0) and at (0,200), more than the 200 m far edges: every
    # edge is whole. The block's inside farther than 25 m from its streets is a 150 x 150 hole.
    out = isochrones(square, points_gdf([(0, 0)]), distances_m=(450,))
    (poly,) = local(out, square)
    assert isinstance(poly, shapely.Polygon)
    assert len(poly.interiors) == 1
    hole = shapely.Polygon(poly.interiors[0])
    assert hole.area == pytest.approx(150 * 150, rel=1e-6)
    assert not poly.contains(shapely.Point(X0 + 100, Y0 + 100))


# ---------------------------------------------------------------------------------------------
# Exactness of the reached pieces against the engine
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("band_m", [150.0, 700.0])
def test_reached_intervals_match_engine_walks(cau: Network, band_m: float) -> None:
    """A point sampled on an edge lies on a reached piece iff its exact walk is within the band."""
    sources = snap_points(cau, random_points(cau, 3, seed=7, jitter_m=30.0))
    ec = _prepared(cau).coords
    samples = _samples(cau, 5.0).points
    xy = snapped_points_xy(cau, sources)
    blocks = list(engine.node_distances(cau, sources, cutoff_m=band_m))
    for block, dist in blocks:
        for row, i in enumerate(block.tolist()):
            one = np.array([i])
            reach = _band_reach(cau, ec, dist[row], band_m, sources, one, xy)
            on_piece = np.isin(samples.edge, reach.whole)
            for e, s0, s1 in zip(reach.piece_edge, reach.piece_s0, reach.piece_s1, strict=True):
                sel = samples.edge == e
                on_piece[sel] |= (samples.offset_m[sel] >= s0 - 1e-6) & (
                    samples.offset_m[sel] <= s1 + 1e-6
                )
            _, t, walk = engine.pairs_within(cau, sources.subset(one), samples, cutoff_m=band_m)
            within = np.zeros(len(samples), dtype=bool)
            within[t] = True
            near_edge = np.zeros(len(samples), dtype=bool)
            near_edge[t[np.abs(walk - band_m) < 1e-6]] = True
            assert np.array_equal(on_piece & ~near_edge, within & ~near_edge)


def test_reached_pieces_include_the_access_leg(bent: Network) -> None:
    pieces = reached_pieces(bent, points_gdf([(100, 40)]), 30.0)
    # Access leg 40 m, band 30 m: only 30 m of the leg, from the point towards the edge.
    assert len(pieces) == 1
    assert pieces[0].length == pytest.approx(30.0)
    assert pieces[0].coords[0] == pytest.approx((X0 + 100, Y0 + 40))
