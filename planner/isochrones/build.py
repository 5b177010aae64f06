"""Walking isochrones that contain only what is reachable: reached street pieces, buffered.

For every point and band (5, 10, 15 minutes by default), an edge of the walking network is reached
wholly or partly: the budget left at each of its end nodes is walked in along the edge's real
geometry, a piece from each end, and the whole edge when the two pieces meet. The point's own edge
is walked from its snapped position in both directions, after the straight access leg (which is
walked, and drawn, too). The reached pieces are buffered by ``buffer_m`` and unioned; holes (blocks
whose inside is farther than ``buffer_m`` from every reached street) stay holes. Never a convex
hull. All bands of a point come from one shortest-path pass (the largest band as the cutoff).

Speed. Unioning thousands of overlapping buffers is what makes this slow elsewhere. Here the union
of the wholly reached edges is assembled from a lazily memoised binary k-d tree of partial unions
of the edges' buffers: the reached set is covered by the largest subtrees that are wholly reached,
so only those few hundred cover polygons and the buffers of the partly reached pieces are unioned
per isochrone, and the subtree unions are reused by every later isochrone on the same network
(cached while the network object lives). The result is the same point set as unioning every
piece's buffer: union is associative. Only the edges at reached nodes are classified, so the
work follows the band, not the size of the network. The polygons of different points are drawn
in threads (``workers``; GEOS releases the GIL). Measured (``bench/RESULTS.md``, per 15-minute
isochrone): 27.5 ms CPU on central Helsinki (16.8 ms wall on 2 cores; the plain union: 200 ms;
OSMnx's recipe: 1.15 s), 3.4 ms on Andorra. Valhalla is faster (6.0 and 1.2 ms) with a coarse raster
whose polygons miss reachable streets (mean recall 97.5 % and 85 %, against our 100 %). What
remains is GEOS overlay work along the reached/unreached frontier.

``method="concave"`` draws the concave hull (shapely/GEOS) of the reached pieces' vertices,
buffered by ``buffer_m``: a smoother shape, but the hull's straight chords cut off reachable
streets and fill some unreachable land. Measured on 15-minute isochrones (``bench/RESULTS.md``):
recall 99.6 % on average but down to 98.9 % on Helsinki and 89.5 % on Andorra, where the exact
``"edges"`` method keeps 100 % recall and 0 % false inclusion.

Accuracy is measured by `score_isochrone`: points sampled along every edge, their exact walk from
the isochrone's source computed by the distance engine, recall and false inclusion counted.
"""

from __future__ import annotations

import bisect
import logging
import math
import os
import weakref
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planner import engine
from planner.errors import InputError
from planner.network import Network
from planner.schema import (
    DEFAULT_BUFFER_M,
    DEFAULT_MINUTES,
    DEFAULT_SNAP_CAP_M,
    DEFAULT_SPEED_KMH,
)
from planner.snapping import (
    SnappedPoints,
    snap_points,
    snapped_points_xy,
)
from planner.standards import m_to_minutes, minutes_to_m

log = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_MINUTES",
    "IsochroneScore",
    "isochrones",
    "reached_pieces",
    "score_isochrone",
]

"""Bands used when neither ``minutes`` nor ``distances_m`` is given (GB 50180 life circles)."""

METHODS: Final = ("edges", "concave")
DEFAULT_QUAD_SEGS: Final = 4
"""Segments per quarter circle of the buffers' round caps and joins. The polygon lies inside the
true round buffer by at most ``buffer_m * (1 - cos(pi / (4 * quad_segs)))``: 0.48 m at 25 m."""

_LARGE_UNION_VERTICES: Final = 50_000  # unions this large go through `_union_large`
_CASCADE_FAN: Final = 32
_NO_HOLES: Final = np.empty(0, dtype=object)
_LEAF_BLOCK: Final = 256  # edge buffers are drawn in k-d blocks of this many, when first needed
_WHOLE_TOL_M: Final = 1e-6  # pieces from both ends closer than this count as meeting
_FAR_FACTOR: Final = 1.2  # false inclusion counts points whose walk exceeds the band by >= 20 %


# --------------------------------------------------------------------------------------------
# Per-network preparation (cached while the network lives)
# --------------------------------------------------------------------------------------------


@dataclass(eq=False)
class _EdgeCoords:
    """Every edge's vertices in one flat array, with the distance along the edge at each vertex."""

    xy: np.ndarray  # (n_vertices, 2)
    start: np.ndarray  # (n_edges + 1,) first vertex of each edge
    along: np.ndarray  # (n_vertices,) metres along its edge
    key: np.ndarray  # (n_vertices,) globally non-decreasing: along + base of its edge
    base: np.ndarray  # (n_edges,)
    length: np.ndarray  # (n_edges,) geometric length, metres


def _union_large(polys: np.ndarray) -> Any:
    """``union_all(polys)`` for large inputs (``polys`` in a spatially coherent order).

    GEOS's cascaded union hands every vertex to every level of its cascade, holes included. Here
    the cascade is ours, in groups of `_CASCADE_FAN` neighbours: after each group's union, the
    holes it closed (city blocks, mostly) are set aside -- they stay holes unless a later
    neighbour reaches into them, when they are put back before that union -- and all are cut out
    again at the end by building rings, not by another overlay. The point set is the same.
    One category's dissolved 5/10/15-minute bands on a 100,000-node city: 86 -> 56 s CPU
    (``bench/bench_bands.py``); below `_LARGE_UNION_VERTICES` GEOS's own cascade is faster.
    """
    items = [(p, _NO_HOLES) for p in polys]
    while len(items) > 1:
        items = [
            _union_group(items[i : i + _CASCADE_FAN]) for i in range(0, len(items), _CASCADE_FAN)
        ]
    polygon, holes = items[0]
    return _with_holes(polygon, holes) if holes.shape[0] else polygon


def _union_group(items: list[tuple[Any, np.ndarray]]) -> tuple[Any, np.ndarray]:
    """Union of ``(polygon, set-aside holes)`` items, with the holes of the result set aside."""
    polys = np.array([p for p, _ in items], dtype=object)
    held = [h for _, h in items]
    kept = _NO_HOLES
    if any(h.shape[0] for h in held):
        holes = np.concatenate(held)
        owner = np.repeat(np.arange(len(items)), [h.shape[0] for h in held])
        shapely.prepare(polys)
        by, hole = shapely.STRtree(holes).query(polys, predicate="intersects")
        meets = np.zeros(holes.shape[0], dtype=bool)
        meets[hole[by != owner[hole]]] = True  # another polygon reaches in: put it back
        kept = holes[~meets]
        for i in np.unique(owner[meets]).tolist():
            polys[i] = _with_holes(polys[i], holes[meets & (owner == i)])
    filled, closed = _set_holes_aside(shapely.union_all(polys))
    return filled, np.concatenate((kept, closed))


def _set_holes_aside(polygon: Any) -> tuple[Any, np.ndarray]:
    """``polygon`` with its holes filled, and those holes; a hole holding an island stays."""
    parts = shapely.get_parts(polygon)
    rings, of_part = _interior_rings(parts)
    if rings.shape[0] == 0:
        return polygon, _NO_HOLES
    holes = shapely.polygons(rings)
    stays = np.zeros(holes.shape[0], dtype=bool)
    if parts.shape[0] > 1:
        shapely.prepare(holes)
        holding, _ = shapely.STRtree(shapely.point_on_surface(parts)).query(
            holes, predicate="contains"
        )
        stays[holding] = True
    filled = _polygons_from_rings(
        shapely.get_exterior_ring(parts), rings[stays], of_part[stays], parts.shape[0]
    )
    return (filled[0] if filled.shape[0] == 1 else shapely.multipolygons(filled)), holes[~stays]


def _interior_rings(parts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every hole ring of the polygons ``parts``, and the index of the part holding each."""
    n_rings = shapely.get_num_interior_rings(parts)
    of_part = np.repeat(np.arange(parts.shape[0]), n_rings)
    ranks = np.arange(of_part.shape[0]) - np.repeat(np.cumsum(n_rings) - n_rings, n_rings)
    return shapely.get_interior_ring(parts[of_part], ranks), of_part


def _polygons_from_rings(
    shells: np.ndarray, holes: np.ndarray, hole_of: np.ndarray, n: int
) -> np.ndarray:
    """``n`` polygons: shell ``i`` with the hole rings whose ``hole_of`` is ``i``."""
    of = np.concatenate((np.arange(n), hole_of))
    order = np.lexsort((np.arange(of.shape[0]), of))  # by polygon, its shell first
    return shapely.polygons(np.concatenate((shells, holes))[order], indices=of[order])


def _with_holes(polygon: Any, holes: np.ndarray) -> Any:
    """``polygon`` with ``holes`` cut out, each lying inside one of its parts clear of its holes."""
    parts = shapely.get_parts(polygon)
    if parts.shape[0] == 1:
        which = np.zeros(holes.shape[0], dtype=np.int64)
    else:
        shapely.prepare(parts)
        part, hole = shapely.STRtree(shapely.point_on_surface(holes)).query(
            parts, predicate="contains"
        )
        which = np.full(holes.shape[0], -1, dtype=np.int64)
        which[hole] = part
        if np.any(which < 0):  # a hole not found inside a part: let GEOS cut them all (exact too)
            return shapely.difference(polygon, shapely.union_all(holes))
    rings, of_part = _interior_rings(parts)
    out = _polygons_from_rings(
        shapely.get_exterior_ring(parts),
        np.concatenate((rings, shapely.get_exterior_ring(holes))),
        np.concatenate((of_part, which)),
        parts.shape[0],
    )
    return out[0] if out.shape[0] == 1 else shapely.multipolygons(out)


@dataclass(eq=False)
class _UnionTree:
    """Lazily memoised unions of edge buffers over a binary k-d tree of the edges."""

    order: np.ndarray  # edges in k-d order; tree nodes are ranges [lo, hi) of it
    rank: np.ndarray  # position of every edge in ``order``
    geometry: np.ndarray  # every edge's LineString (by edge index)
    buffer_m: float
    quad_segs: int
    leaves: np.ndarray  # buffer polygon of every edge (by edge index), None until needed
    memo: dict[tuple[int, int], Any] = field(default_factory=dict)

    def leaf(self, pos: int) -> Any:
        """The buffer of edge ``order[pos]``, drawn with its k-d neighbours on first use."""
        found = self.leaves[self.order[pos]]
        if found is None:
            block = self.order[pos - pos % _LEAF_BLOCK : pos - pos % _LEAF_BLOCK + _LEAF_BLOCK]
            self.leaves[block] = shapely.buffer(
                self.geometry[block], self.buffer_m, quad_segs=self.quad_segs
            )
            found = self.leaves[self.order[pos]]
        return found

    def polygon(self, lo: int, hi: int) -> Any:
        """Union of the buffers of ``order[lo:hi]`` (memoised, with all its subtrees)."""
        if hi - lo == 1:
            return self.leaf(lo)
        found = self.memo.get((lo, hi))
        if found is None:
            mid = (lo + hi) // 2
            found = shapely.union(self.polygon(lo, mid), self.polygon(mid, hi))
            self.memo[(lo, hi)] = found
        return found

    def cover(self, whole: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Polygons of the largest subtrees whose edges are all in ``whole`` (edge ids), and the
        k-d position where each starts."""
        ranks = np.sort(self.rank[whole]).tolist()
        out: list[Any] = []
        starts: list[int] = []
        stack = [(0, int(self.order.shape[0]))]
        while stack:
            lo, hi = stack.pop()
            k = bisect.bisect_left(ranks, hi) - bisect.bisect_left(ranks, lo)
            if k == 0:
                continue
            if k == hi - lo:
                out.append(self.polygon(lo, hi))
                starts.append(lo)
                continue
            mid = (lo + hi) // 2
            stack.append((lo, mid))
            stack.append((mid, hi))
        return np.asarray(out, dtype=object), np.asarray(starts, dtype=np.int64)


@dataclass(eq=False)
class _Prepared:
    coords: _EdgeCoords
    order: np.ndarray
    incident: tuple[np.ndarray, np.ndarray]  # (start per node, edges): the edges at each node
    trees: dict[tuple[float, int], _UnionTree] = field(default_factory=dict)


_PREPARED: weakref.WeakKeyDictionary[Network, _Prepared] = weakref.WeakKeyDictionary()


def _prepared(network: Network) -> _Prepared:
    found = _PREPARED.get(network)
    if found is None:
        found = _Prepared(
            coords=_edge_coords(network), order=_kd_order(network), incident=_incidence(network)
        )
        _PREPARED[network] = found
    return found


def _forget(network: Network | None = None) -> None:
    """Drop the cached preparation of one network (or of all): the next call starts cold."""
    if network is None:
        _PREPARED.clear()
    else:
        _PREPARED.pop(network, None)


def _union_tree(network: Network, buffer_m: float, quad_segs: int) -> _UnionTree:
    prep = _prepared(network)
    key = (float(buffer_m), int(quad_segs))
    tree = prep.trees.get(key)
    if tree is None:
        tree = _UnionTree(
            order=prep.order,
            rank=np.argsort(prep.order),
            geometry=network.edge_geometry,
            buffer_m=float(buffer_m),
            quad_segs=int(quad_segs),
            leaves=np.full(network.n_edges, None, dtype=object),
        )
        prep.trees[key] = tree
    return tree


def _incidence(network: Network) -> tuple[np.ndarray, np.ndarray]:
    """The edges at every node, as (start per node, edge ids) of a compressed list."""
    ends = np.concatenate((network.edge_u, network.edge_v))
    order = np.argsort(ends, kind="stable")
    start = np.searchsorted(ends[order], np.arange(network.n_nodes + 1))
    return start, np.concatenate((np.arange(network.n_edges),) * 2)[order]


def _edge_coords(network: Network) -> _EdgeCoords:
    xy, owner = shapely.get_coordinates(network.edge_geometry, return_index=True)
    n_edges = network.n_edges
    counts = np.bincount(owner, minlength=n_edges)
    start = np.concatenate(([0], np.cumsum(counts)))
    step = np.hypot(np.diff(xy[:, 0], prepend=xy[0, 0]), np.diff(xy[:, 1], prepend=xy[0, 1]))
    step[start[:-1]] = 0.0
    cum = np.cumsum(step)
    along = cum - np.repeat(cum[start[:-1]], counts)
    length = along[start[1:] - 1]
    # A key that grows along each edge and from one edge to the next (1 m gap between edges).
    base = np.concatenate(([0.0], np.cumsum(length[:-1] + 1.0)))
    key = along + np.repeat(base, counts)
    return _EdgeCoords(xy=xy, start=start, along=along, key=key, base=base, length=length)


def _kd_order(network: Network) -> np.ndarray:
    """Edges ordered so that every range ``[lo, hi)`` of the tree's binary split is a k-d cell.

    Each range is sorted along the wider side of its edges' bounding-box centres and split at its
    middle, level by level: subtrees are spatially compact, so their unions overlap little.
    """
    bounds = shapely.bounds(network.edge_geometry)
    cx = (bounds[:, 0] + bounds[:, 2]) / 2.0
    cy = (bounds[:, 1] + bounds[:, 3]) / 2.0
    n = cx.shape[0]
    order = np.arange(n)
    starts = np.array([0])  # start of every range at this level
    while True:
        sizes = np.diff(np.append(starts, n))
        if sizes.max() <= 1:
            return order
        seg = np.repeat(np.arange(starts.shape[0]), sizes)
        x, y = cx[order], cy[order]
        wide_x = (np.maximum.reduceat(x, starts) - np.minimum.reduceat(x, starts)) >= (
            np.maximum.reduceat(y, starts) - np.minimum.reduceat(y, starts)
        )
        key = np.where(wide_x[seg], x, y)
        order = order[np.lexsort((key, seg))]
        mids = starts + sizes // 2
        split = sizes > 1
        starts = np.sort(np.concatenate((starts, mids[split])))


def _substrings(ec: _EdgeCoords, edge: np.ndarray, s0: np.ndarray, s1: np.ndarray) -> np.ndarray:
    """LineStrings of edge pieces ``[s0, s1]`` (metres along each edge), along the real geometry."""
    if edge.shape[0] == 0:
        return np.empty(0, dtype=object)
    length = ec.length[edge]
    s0 = np.clip(s0, 0.0, length)
    s1 = np.clip(s1, s0, length)
    base = ec.base[edge]
    first = ec.start[edge]
    last = ec.start[edge + 1] - 1
    # Vertices strictly inside (s0, s1), and the segments holding the two cut points.
    i0 = np.searchsorted(ec.key, base + s0, side="right")
    i1 = np.searchsorted(ec.key, base + s1, side="left")
    i0 = np.clip(i0, first + 1, last)
    i1 = np.clip(i1, i0, last)
    p0 = _point_along(ec, i0, s0)
    p1 = _point_along(ec, np.maximum(i1, first + 1), s1)
    inner = np.maximum(i1 - i0, 0)
    n_coords = inner + 2
    piece = np.repeat(np.arange(edge.shape[0]), n_coords)
    pos = np.arange(piece.shape[0]) - np.repeat(np.cumsum(n_coords) - n_coords, n_coords)
    xy = np.empty((piece.shape[0], 2))
    is_first = pos == 0
    is_last = pos == n_coords[piece] - 1
    mid = ~(is_first | is_last)
    xy[is_first] = p0
    xy[is_last] = p1
    xy[mid] = ec.xy[i0[piece[mid]] + pos[mid] - 1]
    return shapely.linestrings(xy, indices=piece)


def _point_along(ec: _EdgeCoords, i: np.ndarray, s: np.ndarray) -> np.ndarray:
    """The point at ``s`` metres along the segment ending at vertex ``i`` (of the same edge)."""
    a = ec.along[i - 1]
    b = ec.along[i]
    span = b - a
    t = np.where(span > 0, (s - a) / np.where(span > 0, span, 1.0), 0.0)
    t = np.clip(t, 0.0, 1.0)[:, None]
    return ec.xy[i - 1] * (1.0 - t) + ec.xy[i] * t


# --------------------------------------------------------------------------------------------
# What is reached
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Reach:
    """What one point (or a set of points, dissolved) reaches within one band."""

    whole: np.ndarray  # ids of the edges reached whole
    piece_edge: np.ndarray
    piece_s0: np.ndarray
    piece_s1: np.ndarray
    legs: np.ndarray  # LineStrings: walked parts of access legs


def _classify(
    network: Network, dist: np.ndarray, band_m: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Edges with an end inside the band, and the metres walked in along them from u and from v.

    ``dist`` is one walk distance per node. Returns ``(edges, from_u, from_v, whole)``, the
    last three aligned with ``edges`` (sorted edge ids; 0 m where an end is not reached). Only
    the edges at reached nodes are looked at: the work follows the band, not the network.
    """
    start, at_node = _prepared(network).incident
    nodes = np.flatnonzero(dist < band_m)
    counts = start[nodes + 1] - start[nodes]
    first = np.repeat(start[nodes] - np.cumsum(counts) + counts, counts)
    edges = np.unique(at_node[first + np.arange(first.shape[0])])
    length = network.edge_length_m[edges]
    left_u = band_m - dist[network.edge_u[edges]]
    left_v = band_m - dist[network.edge_v[edges]]
    from_u = np.where(left_u > 0, np.minimum(left_u, length), 0.0)
    from_v = np.where(left_v > 0, np.minimum(left_v, length), 0.0)
    whole = from_u + from_v >= length - _WHOLE_TOL_M
    return edges, from_u, from_v, whole


def _reach(
    ec: _EdgeCoords,
    classified: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    own: list[tuple[int, float, float]],
    legs: np.ndarray,
) -> _Reach:
    """Pieces of one band: partly reached edges' pieces, merged with the sources' own intervals.

    ``classified`` is what `_classify` returns; ``own`` holds ``(edge, lo, hi)`` intervals
    walked from sources lying on the edge.
    """
    edges, from_u, from_v, whole_c = classified
    length = ec.length
    made_whole: list[int] = []  # own edges that the sources' intervals cover end to end
    partial = ~whole_c
    own_spans: dict[int, list[tuple[float, float]]] = {}
    for e, lo, hi in own:
        own_spans.setdefault(e, []).append((lo, hi))
    own_edges = np.array(sorted(own_spans), dtype=np.int64)
    pos = np.searchsorted(edges, own_edges)
    listed = pos < edges.shape[0]
    listed[listed] = edges[pos[listed]] == own_edges[listed]
    partial[pos[listed]] = False
    pu = np.flatnonzero(partial & (from_u > 0))
    pv = np.flatnonzero(partial & (from_v > 0))
    piece_edges = [edges[pu], edges[pv]]
    s0 = [np.zeros(pu.shape[0]), length[edges[pv]] - from_v[pv]]
    s1 = [from_u[pu], length[edges[pv]]]
    for e, p, known in zip(own_edges.tolist(), pos.tolist(), listed.tolist(), strict=True):
        if known and whole_c[p]:
            continue
        spans = own_spans[e]
        if known and from_u[p] > 0:
            spans.append((0.0, float(from_u[p])))
        if known and from_v[p] > 0:
            spans.append((float(length[e] - from_v[p]), float(length[e])))
        merged = _merge_spans(spans)
        if len(merged) == 1 and merged[0][0] <= _WHOLE_TOL_M:
            if merged[0][1] >= length[e] - _WHOLE_TOL_M:
                made_whole.append(e)
                continue
        for lo, hi in merged:
            piece_edges.append(np.array([e]))
            s0.append(np.array([lo]))
            s1.append(np.array([hi]))
    piece_edge = np.concatenate(piece_edges).astype(np.int64)
    piece_s0 = np.concatenate(s0)
    piece_s1 = np.concatenate(s1)
    keep = piece_s1 - piece_s0 > 0
    return _Reach(
        whole=np.union1d(edges[whole_c], np.array(made_whole, dtype=np.int64)),
        piece_edge=piece_edge[keep],
        piece_s0=piece_s0[keep],
        piece_s1=piece_s1[keep],
        legs=legs,
    )


def _merge_spans(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    merged: list[tuple[float, float]] = []
    for lo, hi in sorted(spans):
        if merged and lo <= merged[-1][1] + _WHOLE_TOL_M:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def _own_spans(
    network: Network, ec: _EdgeCoords, sources: SnappedPoints, rows: np.ndarray, band_m: float
) -> list[tuple[int, float, float]]:
    """Intervals of the sources' own edges walked from their snapped positions."""
    out = []
    for i in rows.tolist():
        left = band_m - float(sources.access_m[i])
        if left <= 0:
            continue
        e = int(sources.edge[i])
        length = float(ec.length[e])
        offset = min(max(float(sources.offset_m[i]), 0.0), length)
        out.append((e, max(0.0, offset - left), min(length, offset + left)))
    return out


def _access_legs(
    sources: SnappedPoints, snapped_xy: tuple[np.ndarray, np.ndarray], rows: np.ndarray, band: float
) -> np.ndarray:
    """The walked part of each source's straight access leg, from the point towards the edge."""
    legs = []
    sx, sy = snapped_xy
    for i in rows.tolist():
        access = float(sources.access_m[i])
        if access <= 0:
            continue
        x0, y0 = float(sources.x[i]), float(sources.y[i])
        t = min(1.0, band / access)
        x1 = x0 + (float(sx[i]) - x0) * t
        y1 = y0 + (float(sy[i]) - y0) * t
        legs.append(shapely.LineString([(x0, y0), (x1, y1)]))
    return np.asarray(legs, dtype=object)


def _piece_lines(ec: _EdgeCoords, network: Network, reach: _Reach) -> np.ndarray:
    """Every reached piece as a LineString: whole edges, partial pieces, access legs."""
    whole = network.edge_geometry[reach.whole]
    parts = _substrings(ec, reach.piece_edge, reach.piece_s0, reach.piece_s1)
    return np.concatenate((whole, parts, reach.legs)).astype(object)


def _polygon(
    network: Network,
    ec: _EdgeCoords,
    reach: _Reach,
    *,
    method: str,
    buffer_m: float,
    quad_segs: int,
    concave_ratio: float,
) -> Any:
    if method == "edges":
        tree = _union_tree(network, buffer_m, quad_segs)
        parts = _substrings(ec, reach.piece_edge, reach.piece_s0, reach.piece_s1)
        loose = np.concatenate((parts, reach.legs)).astype(object)
        polys, at = tree.cover(reach.whole)
        # k-d positions: the cover's subtrees, the partial pieces' edges, the legs last
        at = np.concatenate(
            (at, tree.rank[reach.piece_edge], np.full(reach.legs.shape[0], tree.rank.shape[0]))
        )
        polys = np.concatenate((polys, shapely.buffer(loose, buffer_m, quad_segs=quad_segs)))
        if polys.shape[0] == 0:
            return shapely.Polygon()
        if int(shapely.get_num_coordinates(polys).sum()) >= _LARGE_UNION_VERTICES:
            return _union_large(polys[np.argsort(at, kind="stable")])
        return shapely.union_all(polys)
    lines = _piece_lines(ec, network, reach)
    if lines.shape[0] == 0:
        return shapely.Polygon()
    points = shapely.multipoints(shapely.get_coordinates(lines))
    hull = shapely.concave_hull(points, ratio=concave_ratio)
    return shapely.buffer(hull, buffer_m, quad_segs=quad_segs)


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def _bands(
    minutes: Sequence[float] | None, distances_m: Sequence[float] | None, speed_kmh: float
) -> tuple[np.ndarray, np.ndarray]:
    """Validated bands as (minutes, metres), increasing."""
    problems = []
    if isinstance(speed_kmh, bool) or not isinstance(speed_kmh, int | float | np.number):
        raise InputError(f"speed_kmh {speed_kmh!r} is not a number; give km/h, e.g. 4.0.")
    if not math.isfinite(speed_kmh) or speed_kmh <= 0:
        raise InputError(f"speed_kmh must be a positive walking speed in km/h, not {speed_kmh!r}.")
    if minutes is not None and distances_m is not None:
        raise InputError("Give bands as minutes or as distances_m, not both.")
    given = distances_m if distances_m is not None else minutes
    name = "distances_m" if distances_m is not None else "minutes"
    values = np.asarray(DEFAULT_MINUTES if given is None else given, dtype=float).ravel()
    if values.size == 0:
        problems.append(f"{name} is empty: give at least one band")
    elif not np.all(np.isfinite(values)):
        problems.append(f"{name} {values.tolist()} holds a value that is not a finite number")
    else:
        if np.any(values <= 0):
            problems.append(f"{name} {values.tolist()} must all be positive")
        if np.any(np.diff(values) <= 0):
            problems.append(
                f"{name} {values.tolist()} must be strictly increasing, e.g. (5, 10, 15)"
            )
    if problems:
        raise InputError("; ".join(problems) + ".")
    if distances_m is not None:
        return np.asarray(m_to_minutes(values, speed_kmh)), values
    return values, np.asarray(minutes_to_m(values, speed_kmh))


def _check_options(method: str, buffer_m: float, quad_segs: int, concave_ratio: float) -> None:
    problems = []
    if method not in METHODS:
        problems.append(f"method {method!r} is unknown; use one of {', '.join(METHODS)}")
    if not (isinstance(buffer_m, int | float) and math.isfinite(buffer_m) and buffer_m > 0):
        problems.append(f"buffer_m must be a positive number of metres, not {buffer_m!r}")
    if not (isinstance(quad_segs, int) and quad_segs >= 1):
        problems.append(f"quad_segs must be a whole number >= 1, not {quad_segs!r}")
    if not (isinstance(concave_ratio, int | float) and 0.0 <= concave_ratio <= 1.0):
        problems.append(f"concave_ratio must lie in [0, 1], not {concave_ratio!r}")
    if problems:
        raise InputError("; ".join(problems) + ".")


def _snap(network: Network, points: Any, snap_cap_m: float) -> SnappedPoints:
    if isinstance(points, SnappedPoints):
        if len(points) == 0:
            raise InputError("The points layer is empty: give at least one point.")
        return points
    if points is None or len(points) == 0:
        raise InputError("The points layer is empty: give at least one point.")
    if isinstance(points, gpd.GeoSeries):
        points = gpd.GeoDataFrame(geometry=points)
    return snap_points(network, points, snap_cap_m=snap_cap_m, what="points")


def isochrones(
    network: Network,
    points: Any,
    *,
    minutes: Sequence[float] | None = None,
    speed_kmh: float = DEFAULT_SPEED_KMH,
    distances_m: Sequence[float] | None = None,
    buffer_m: float = DEFAULT_BUFFER_M,
    dissolve: bool = False,
    method: str = "edges",
    snap_cap_m: float = DEFAULT_SNAP_CAP_M,
    quad_segs: int = DEFAULT_QUAD_SEGS,
    concave_ratio: float = 0.1,
    workers: int | None = None,
) -> gpd.GeoDataFrame:
    """Walking isochrones of points: the reached street pieces, buffered and unioned.

    Parameters
    ----------
    network
        The walking network.
    points
        GeoDataFrame (or GeoSeries) of points with a CRS; ids from its ``id`` column, else its
        index. `SnappedPoints` are accepted too.
    minutes
        Bands in minutes, strictly increasing; default ``(5, 10, 15)``. Converted to metres at
        ``speed_kmh`` (15 min at 4.0 km/h = 1000 m). Exclusive with ``distances_m``.
    speed_kmh
        Walking speed, km/h (> 0).
    distances_m
        Bands in metres, strictly increasing, instead of minutes.
    buffer_m
        Width of the land drawn on each side of a reached street, metres.
    dissolve
        One polygon per band for all points together (the area served by any of them).
    method
        ``"edges"`` (exact: reached pieces buffered and unioned) or ``"concave"`` (the concave
        hull of the reached pieces' vertices, buffered by ``buffer_m``: smoother, but it covers
        unreachable land between streets; see the module docstring).
    snap_cap_m
        Points farther than this from every walkable edge get no isochrone.
    quad_segs
        Segments per quarter circle in buffers (see `DEFAULT_QUAD_SEGS`).
    concave_ratio
        ``ratio`` of `shapely.concave_hull` for ``method="concave"`` (0 most concave, 1 convex).
    workers
        Threads drawing the polygons of different points at once; default: one per CPU core.
        The result does not depend on it (same rows, same order, same shapes).

    Returns
    -------
    geopandas.GeoDataFrame
        In WGS84 (EPSG:4326). One row per point and band: ``id``, ``band_min``, ``band_m``,
        geometry; with ``dissolve=True``, one row per band: ``band_min``, ``band_m``,
        ``n_points``, geometry. ``attrs["off_network"]`` lists the ids of points left off the
        network (no polygon); ``attrs`` also hold ``speed_kmh``, ``buffer_m`` and ``method``.

    Raises
    ------
    InputError
        Empty points layer, no CRS, bands not strictly increasing or not positive, minutes and
        distances both given, a speed that is not positive, an unknown method.

    Examples
    --------
    >>> import planner
    >>> network = planner.load_network("data/cn_beijing_haidian_cau_map.osm.bz2")
    >>> facilities = planner.read_facilities("data/haidian/facilities.gpkg")
    >>> residences = planner.read_residences("data/haidian/residences.gpkg")
    >>> centres = facilities[facilities["category"] == "community_service"]
    >>> bands = planner.isochrones(network, centres, minutes=(5, 10, 15))
    >>> bands[["band_min", "band_m"]].round(1).values.tolist()
    [[5.0, 333.3], [10.0, 666.7], [15.0, 1000.0]]
    """
    band_min, band_m = _bands(minutes, distances_m, speed_kmh)
    _check_options(method, buffer_m, quad_segs, concave_ratio)
    snapped = _snap(network, points, snap_cap_m)
    n_workers = _workers(workers, len(snapped))
    on = np.flatnonzero(snapped.on_network)
    off_ids = snapped.ids[~snapped.on_network].tolist()
    if off_ids:
        log.warning(
            "No isochrone for %d point(s) off the walking network (farther than %.0f m): %s",
            len(off_ids),
            snapped.snap_cap_m,
            ", ".join(map(str, off_ids[:10])) + (" ..." if len(off_ids) > 10 else ""),
        )
    ec = _prepared(network).coords
    xy = snapped_points_xy(network, snapped)
    options: dict[str, Any] = {
        "method": method,
        "buffer_m": float(buffer_m),
        "quad_segs": quad_segs,
        "concave_ratio": float(concave_ratio),
    }
    cutoff = float(band_m[-1])
    rows: dict[str, list[Any]] = {"band_min": [], "band_m": [], "geometry": []}
    if dissolve:
        rows["n_points"] = []
        if on.size and method == "edges":
            best = np.full(network.n_nodes, np.inf)
            for _, dist in engine.node_distances(network, snapped, cutoff_m=cutoff):
                np.minimum(best, dist.min(axis=0), out=best)
            _union_tree(network, options["buffer_m"], options["quad_segs"])  # built once, shared

            def band_polygon(bm: float) -> Any:
                reach = _band_reach(network, ec, best, bm, snapped, on, xy)
                return _polygon(network, ec, reach, **options)

            # The bands are independent unions: largest first, drawn in threads.
            with ThreadPoolExecutor(max_workers=min(n_workers, len(band_m))) as pool:
                drawn = list(pool.map(band_polygon, band_m[::-1].tolist()))[::-1]
            for bmin, bm, geom in zip(band_min.tolist(), band_m.tolist(), drawn, strict=True):
                rows["geometry"].append(geom)
                rows["band_min"].append(bmin)
                rows["band_m"].append(bm)
                rows["n_points"].append(int(on.size))
        elif on.size:
            per_band: list[list[Any]] = [[] for _ in band_m]
            for _, geoms in _per_point(network, ec, snapped, on, xy, band_m, options, n_workers):
                for k, geom in enumerate(geoms):
                    per_band[k].append(geom)
            for k, (bmin, bm) in enumerate(zip(band_min.tolist(), band_m.tolist(), strict=True)):
                rows["geometry"].append(shapely.union_all(per_band[k]))
                rows["band_min"].append(bmin)
                rows["band_m"].append(bm)
                rows["n_points"].append(int(on.size))
        frame = pd.DataFrame({k: v for k, v in rows.items() if k != "geometry"})
    else:
        ids: list[Any] = []
        for i, geoms in _per_point(network, ec, snapped, on, xy, band_m, options, n_workers):
            for bmin, bm, geom in zip(band_min.tolist(), band_m.tolist(), geoms, strict=True):
                ids.append(snapped.ids[i])
                rows["band_min"].append(bmin)
                rows["band_m"].append(bm)
                rows["geometry"].append(geom)
        frame = pd.DataFrame(
            {
                "id": pd.Series(ids, dtype=_id_dtype(snapped.ids)),
                "band_min": rows["band_min"],
                "band_m": rows["band_m"],
            }
        )
    frame["band_min"] = frame["band_min"].astype(float)
    frame["band_m"] = frame["band_m"].astype(float)
    geoms = gpd.GeoSeries(np.asarray(rows["geometry"], dtype=object), crs=network.crs)
    out = gpd.GeoDataFrame(frame, geometry=geoms.to_crs(4326).to_numpy(), crs=4326)
    out.attrs.update(
        {
            "off_network": off_ids,
            "speed_kmh": float(speed_kmh),
            "buffer_m": float(buffer_m),
            "method": method,
        }
    )
    log.info(
        "%d isochrone polygon(s) (%s, bands %s m, buffer %.0f m)",
        len(out),
        method,
        ", ".join(f"{b:g}" for b in band_m),
        buffer_m,
    )
    return out


def _id_dtype(ids: np.ndarray) -> Any:
    if np.issubdtype(ids.dtype, np.integer):
        return ids.dtype
    return object


def _band_reach(
    network: Network,
    ec: _EdgeCoords,
    dist: np.ndarray,
    band: float,
    snapped: SnappedPoints,
    rows: np.ndarray,
    xy: tuple[np.ndarray, np.ndarray],
) -> _Reach:
    return _reach(
        ec,
        _classify(network, dist, band),
        _own_spans(network, ec, snapped, rows, band),
        _access_legs(snapped, xy, rows, band),
    )


def _per_point(
    network: Network,
    ec: _EdgeCoords,
    snapped: SnappedPoints,
    on: np.ndarray,
    xy: tuple[np.ndarray, np.ndarray],
    band_m: np.ndarray,
    options: dict[str, Any],
    workers: int,
) -> Iterator[tuple[int, list[Any]]]:
    """Yield ``(point index, [polygon per band])`` in point order: one shortest-path pass per point.

    The polygons of a block of points are drawn by ``workers`` threads (GEOS releases the GIL).
    """
    if on.size == 0:
        return
    if options["method"] == "edges":
        _union_tree(network, options["buffer_m"], options["quad_segs"])  # built once, shared

    def draw(i: int, dist: np.ndarray) -> list[Any]:
        one = np.array([i])
        return [
            _polygon(network, ec, _band_reach(network, ec, dist, bm, snapped, one, xy), **options)
            for bm in band_m.tolist()
        ]

    with ThreadPoolExecutor(max_workers=workers) as pool:
        for block, dist in engine.node_distances(network, snapped, cutoff_m=float(band_m[-1])):
            rows = block.tolist()
            yield from zip(rows, pool.map(draw, rows, dist), strict=True)


def _workers(workers: int | None, n_points: int) -> int:
    if workers is None:
        return max(1, min(os.cpu_count() or 1, n_points))
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise InputError(
            f"workers must be a whole number >= 1 (or None for all cores), not {workers!r}."
        )
    return workers


def reached_pieces(
    network: Network,
    source: Any,
    band_m: float,
    *,
    snap_cap_m: float = DEFAULT_SNAP_CAP_M,
) -> np.ndarray:
    """The street pieces reached from one point within ``band_m`` metres, as LineStrings.

    Whole edges, partial pieces walked in from each end, the pieces of the point's own edge and
    the walked part of its access leg, in the network's CRS. This is what the ``"edges"`` method
    buffers; `score_isochrone` uses it for its "within the buffer of a reached piece" exception.

    Parameters
    ----------
    network
        The walking network.
    source
        One point: a GeoDataFrame/GeoSeries with one row, or `SnappedPoints` of length one.
    band_m
        The walking budget, metres (> 0).
    snap_cap_m
        Snap cap for the point.

    Raises
    ------
    InputError
        More or fewer than one point, a point off the network, a budget that is not positive.
    """
    snapped = _one_source(network, source, snap_cap_m)
    if not (math.isfinite(band_m) and band_m > 0):
        raise InputError(f"band_m must be a positive number of metres, not {band_m!r}.")
    ec = _prepared(network).coords
    xy = snapped_points_xy(network, snapped)
    ((_, dist),) = list(engine.node_distances(network, snapped, cutoff_m=float(band_m)))
    reach = _band_reach(network, ec, dist[0], float(band_m), snapped, np.array([0]), xy)
    return _piece_lines(ec, network, reach)


def _one_source(network: Network, source: Any, snap_cap_m: float) -> SnappedPoints:
    snapped = _snap(network, source, snap_cap_m)
    if len(snapped) != 1:
        raise InputError(f"Give exactly one source point, not {len(snapped)}.")
    if not snapped.on_network[0]:
        raise InputError(
            f"Source point {snapped.ids[0]!r} is {snapped.access_m[0]:.0f} m from the walking "
            f"network, beyond the snap cap of {snapped.snap_cap_m:.0f} m: move it or raise "
            "snap_cap_m."
        )
    return snapped


# --------------------------------------------------------------------------------------------
# Accuracy
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IsochroneScore:
    """Accuracy of one isochrone polygon against exact walk distances of sampled points.

    Attributes
    ----------
    recall
        Share of the sampled points within the band that lie inside the polygon.
    false_inclusion
        Share of the eligible far points (walk >= 1.2 × band, not within ``buffer_m`` of a reached
        piece) that lie inside the polygon; NaN when there is none.
    n_within
        Points within the band.
    n_within_inside
        Of those, inside the polygon.
    n_far
        Eligible far points.
    n_far_inside
        Of those, inside the polygon.
    n_far_excused
        Far points within ``buffer_m`` of a reached piece (not counted).
    band_m, spacing_m, buffer_m
        The parameters used.
    """

    recall: float
    false_inclusion: float
    n_within: int
    n_within_inside: int
    n_far: int
    n_far_inside: int
    n_far_excused: int
    band_m: float
    spacing_m: float
    buffer_m: float

    def to_dict(self) -> dict[str, Any]:
        """The score as a plain dict."""
        return dict(self.__dict__)


@dataclass(frozen=True, eq=False)
class _Samples:
    points: SnappedPoints
    x: np.ndarray
    y: np.ndarray


_SAMPLES: weakref.WeakKeyDictionary[Network, dict[float, _Samples]] = weakref.WeakKeyDictionary()


def _samples(network: Network, spacing_m: float) -> _Samples:
    per_network = _SAMPLES.setdefault(network, {})
    found = per_network.get(spacing_m)
    if found is not None:
        return found
    length = network.edge_length_m
    count = np.maximum(1, np.ceil(length / spacing_m)).astype(np.int64)
    edge = np.repeat(np.arange(network.n_edges), count)
    k = np.arange(edge.shape[0]) - np.repeat(np.cumsum(count) - count, count)
    offset = (k + 0.5) * (length / count)[edge]
    pts = shapely.line_interpolate_point(network.edge_geometry[edge], offset)
    x, y = shapely.get_x(pts), shapely.get_y(pts)
    snapped = SnappedPoints(
        ids=np.arange(edge.shape[0]),
        edge=edge,
        offset_m=offset,
        access_m=np.zeros(edge.shape[0]),
        x=x,
        y=y,
        snap_cap_m=DEFAULT_SNAP_CAP_M,
    )
    found = _Samples(points=snapped, x=x, y=y)
    per_network[spacing_m] = found
    return found


def score_isochrone(
    network: Network,
    polygon: Any,
    source: Any,
    band_m: float,
    *,
    buffer_m: float = DEFAULT_BUFFER_M,
    spacing_m: float = 15.0,
    snap_cap_m: float = DEFAULT_SNAP_CAP_M,
) -> IsochroneScore:
    """Score an isochrone polygon against exact walk distances of points sampled on the network.

    Points are placed along every edge, one per ``spacing_m`` metres (at the middles of equal
    steps). Their walk from ``source`` is computed exactly by the distance engine (they lie on
    their edges: no access leg). Then:

    - recall: the points whose walk is within ``band_m`` that lie inside (or on) the polygon;
    - false inclusion: the points whose walk is at least 1.2 × ``band_m`` (or that cannot be
      reached) lying inside the polygon, except the points within ``buffer_m`` of a reached piece
      (`reached_pieces`), which any buffer of the reached streets covers; as a share of the far
      points not so excused.

    Parameters
    ----------
    network
        The walking network.
    polygon
        The isochrone: a shapely geometry in the network's CRS, or a GeoSeries/GeoDataFrame
        holding one geometry in any CRS (reprojected).
    source
        The isochrone's point: GeoDataFrame/GeoSeries with one row, or `SnappedPoints` of one.
    band_m
        The band, metres.
    buffer_m
        The buffer width that excuses far points near reached pieces.
    spacing_m
        Sampling step along the edges, metres.
    snap_cap_m
        Snap cap for the source.

    Returns
    -------
    IsochroneScore
    """
    if not (math.isfinite(spacing_m) and spacing_m > 0):
        raise InputError(f"spacing_m must be a positive number of metres, not {spacing_m!r}.")
    geom = _as_network_geometry(network, polygon)
    snapped = _one_source(network, source, snap_cap_m)
    samples = _samples(network, float(spacing_m))
    _, target, walk = engine.pairs_within(
        network, snapped, samples.points, cutoff_m=_FAR_FACTOR * float(band_m)
    )
    walk_all = np.full(len(samples.points), np.inf)
    walk_all[target] = walk
    shapely.prepare(geom)
    inside = shapely.intersects_xy(geom, samples.x, samples.y)
    within = walk_all <= band_m
    far = walk_all >= _FAR_FACTOR * band_m
    pieces = reached_pieces(network, snapped, band_m, snap_cap_m=snap_cap_m)
    excused = np.zeros(len(samples.points), dtype=bool)
    if pieces.shape[0] and far.any():
        far_idx = np.flatnonzero(far)
        tree = shapely.STRtree(pieces)
        hit, _ = tree.query(
            shapely.points(samples.x[far_idx], samples.y[far_idx]),
            predicate="dwithin",
            distance=buffer_m,
        )
        excused[far_idx[np.unique(hit)]] = True
    counted = far & ~excused
    n_within = int(within.sum())
    n_far = int(counted.sum())
    n_within_inside = int((within & inside).sum())
    n_far_inside = int((counted & inside).sum())
    return IsochroneScore(
        recall=n_within_inside / n_within if n_within else float("nan"),
        false_inclusion=n_far_inside / n_far if n_far else float("nan"),
        n_within=n_within,
        n_within_inside=n_within_inside,
        n_far=n_far,
        n_far_inside=n_far_inside,
        n_far_excused=int((far & excused).sum()),
        band_m=float(band_m),
        spacing_m=float(spacing_m),
        buffer_m=float(buffer_m),
    )


def _as_network_geometry(network: Network, polygon: Any) -> Any:
    if isinstance(polygon, gpd.GeoDataFrame):
        polygon = polygon.geometry
    if isinstance(polygon, gpd.GeoSeries):
        if len(polygon) != 1:
            raise InputError(f"Give one isochrone polygon to score, not {len(polygon)}.")
        if polygon.crs is None:
            raise InputError("The isochrone polygon has no CRS; set one (e.g. EPSG:4326).")
        return polygon.to_crs(network.crs).iloc[0]
    if not isinstance(polygon, shapely.Geometry):
        raise InputError(f"Cannot score {type(polygon).__name__}: give a polygon.")
    return polygon
