"""What a walk reaches within a band: whole edges, pieces walked in from each end, access legs.

For every point and band, an edge of the walking network is reached wholly or partly: the budget
left at each of its end nodes is walked in along the edge's real geometry, a piece from each end,
and the whole edge when the two pieces meet. The point's own edge is walked from its snapped
position in both directions, after the straight access leg (which is walked, and drawn, too).
Only the edges at reached nodes are classified, so the work follows the band, not the size of
the network. `reached_pieces` returns those pieces as LineStrings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Final

import geopandas as gpd
import numpy as np
import shapely

from planner import engine
from planner.errors import InputError
from planner.isochrones._prepare import _EdgeCoords, _prepared, _substrings
from planner.network import Network
from planner.schema import DEFAULT_SNAP_CAP_M
from planner.snapping import SnappedPoints, snap_points, snapped_points_xy

_WHOLE_TOL_M: Final = 1e-6  # pieces from both ends closer than this count as meeting


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


def _snap(network: Network, points: Any, snap_cap_m: float) -> SnappedPoints:
    if isinstance(points, SnappedPoints):
        if len(points) == 0:
            raise InputError(
                "The points layer is empty: give at least one point.",
                zh="点图层是空的：请至少给出一个点。",
            )
        return points
    if points is None or len(points) == 0:
        raise InputError(
            "The points layer is empty: give at least one point.",
            zh="点图层是空的：请至少给出一个点。",
        )
    if isinstance(points, gpd.GeoSeries):
        points = gpd.GeoDataFrame(geometry=points)
    return snap_points(network, points, snap_cap_m=snap_cap_m, what="points")


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
        raise InputError(
            f"band_m must be a positive number of metres, not {band_m!r}.",
            zh=f"band_m 必须是正的米数，而不是 {band_m!r}。",
        )
    ec = _prepared(network).coords
    xy = snapped_points_xy(network, snapped)
    ((_, dist),) = list(engine.node_distances(network, snapped, cutoff_m=float(band_m)))
    reach = _band_reach(network, ec, dist[0], float(band_m), snapped, np.array([0]), xy)
    return _piece_lines(ec, network, reach)


def _one_source(network: Network, source: Any, snap_cap_m: float) -> SnappedPoints:
    snapped = _snap(network, source, snap_cap_m)
    if len(snapped) != 1:
        raise InputError(
            f"Give exactly one source point, not {len(snapped)}.",
            zh=f"请只给出一个起点，而不是 {len(snapped)} 个。",
        )
    if not snapped.on_network[0]:
        raise InputError(
            f"Source point {snapped.ids[0]!r} is {snapped.access_m[0]:.0f} m from the walking "
            f"network, beyond the snap cap of {snapped.snap_cap_m:.0f} m: move it or raise "
            "snap_cap_m.",
            zh=f"起点 {snapped.ids[0]!r} 距步行网络 {snapped.access_m[0]:.0f} 米，"
            f"超出了 {snapped.snap_cap_m:.0f} 米的吸附上限：请移动该点或调大 snap_cap_m。",
        )
    return snapped


__all__ = ["reached_pieces"]
