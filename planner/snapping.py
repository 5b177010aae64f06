"""Points onto the nearest point of the nearest walkable edge, with the straight access leg."""

from __future__ import annotations

import contextlib
import functools
import logging
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import shapely

from planner.errors import InputError
from planner.network import Network
from planner.network import layer_ids_of as layer_ids
from planner.schema import DEFAULT_SNAP_CAP_M

log = logging.getLogger(__name__)

K_FIRST = 3
"""Entries read per point by the first snapping query. 3 proves the answer for 94.7-99.9 % of
points on the real extracts in data/ (the rest read `K_WIDE`, then shapely's STRtree); 2 proves
76-97 %, and 4-5 cost more per query than the second queries they save (bench/RESULTS.md,
2026-12-02, "snapping index")."""

K_WIDE = 8
"""Entries read by the second query, for the points the first did not prove. On Jing'an's 1,064
such points (of 20,000): 8 prove all in 0.77 ms, 16 in 1.24 ms, 6 leave 2 to shapely's STRtree
(bench/bench_snapping.py; bench/RESULTS.md, 2026-12-02, "Snapping: second query")."""

THREADS_FROM_POINTS = 100_000
"""Snapping queries of fewer points run in one thread. pykdtree's OpenMP queries on 2 cores:
when a core is free, 20,000 points take 6.1 ms on two threads against 12.7 ms on one; when the
other core is busy, the threads wait for it at OpenMP's barrier (20,000 points: 32 against
19.8 ms; 2,000: 8.0 against 2.6 ms; a time slice per query), so only large queries, where a
slice is small beside the query, are given every thread (bench/bench_snapping.py;
bench/RESULTS.md, "the snapping index's k-d tree")."""


@dataclass(frozen=True, eq=False)
class SnappedPoints:
    """Points placed on the network.

    Attributes
    ----------
    ids
        The points' ids, in input order.
    edge
        Index of the edge each point lies on; -1 when off the network.
    offset_m
        Distance along the edge's geometry from ``edge_u`` to the snapped point, metres.
    access_m
        Length of the straight leg from the point to the edge, metres (also set for points off
        the network: it is how far they are from it).
    x, y
        The input points in the network CRS.
    snap_cap_m
        The cap used: points farther than it are off the network.
    """

    ids: np.ndarray
    edge: np.ndarray
    offset_m: np.ndarray
    access_m: np.ndarray
    x: np.ndarray
    y: np.ndarray
    snap_cap_m: float

    @property
    def on_network(self) -> np.ndarray:
        """Boolean mask of the points within the snap cap."""
        return self.edge >= 0

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    def off_network(self) -> pd.DataFrame:
        """The points beyond the snap cap: their ids and distance to the nearest edge."""
        off = ~self.on_network
        return pd.DataFrame({"id": self.ids[off], "distance_to_network_m": self.access_m[off]})

    def subset(self, mask: np.ndarray) -> SnappedPoints:
        """The points selected by a boolean mask or index array."""
        return SnappedPoints(
            ids=self.ids[mask],
            edge=self.edge[mask],
            offset_m=self.offset_m[mask],
            access_m=self.access_m[mask],
            x=self.x[mask],
            y=self.y[mask],
            snap_cap_m=self.snap_cap_m,
        )


_WHAT_ZH = {
    "facilities": "设施",
    "residences": "居住点",
    "points": "点",
    "candidate sites": "候选点",
    "communities": "社区",
}


def what_zh(what: str) -> str:
    """The layer a snapping message names, in Chinese."""
    return _WHAT_ZH.get(what, what)


def snap_points(
    network: Network,
    points: Any,
    *,
    snap_cap_m: float = DEFAULT_SNAP_CAP_M,
    what: str = "points",
) -> SnappedPoints:
    """Snap a GeoDataFrame of points to the nearest point of the nearest edge.

    Parameters
    ----------
    network
        The walking network.
    points
        GeoDataFrame with a CRS; non-point geometries use their representative point.
    snap_cap_m
        Points farther than this from every edge are off the network (reported, not moved).
    what
        How to name the layer in messages ("facilities", "residences").

    Raises
    ------
    InputError
        The layer is empty, has no CRS, or has empty geometries.
    """
    if len(points) == 0:
        raise InputError(
            f"The {what} layer is empty: give at least one point.",
            zh=f"{what_zh(what)}图层是空的：请至少给出一个点。",
        )
    if points.crs is None:
        raise InputError(
            f"The {what} layer has no CRS: set one (e.g. EPSG:4326 for WGS84 lon/lat, "
            "EPSG:4490 for CGCS2000).",
            zh=f"{what_zh(what)}图层没有坐标系：请设定一个（例如 WGS84 经纬度为 EPSG:4326，"
            "CGCS2000 为 EPSG:4490）。",
        )
    _check_cap(snap_cap_m)
    geoms = points.geometry.to_crs(network.crs).to_numpy()
    empty = shapely.is_empty(geoms) | shapely.is_missing(geoms)
    if empty.any():
        rows = np.flatnonzero(empty)[:10].tolist()
        raise InputError(
            f"The {what} layer has {int(empty.sum())} empty geometries (rows {rows}); "
            "drop or fix them.",
            zh=f"{what_zh(what)}图层有 {int(empty.sum())} 个空几何（行 {rows}）；请删除或改正。",
        )
    not_point = shapely.get_type_id(geoms) != 0
    if not_point.any():
        geoms = geoms.copy()
        geoms[not_point] = shapely.point_on_surface(geoms[not_point])
    return snap_xy(
        network,
        shapely.get_x(geoms),
        shapely.get_y(geoms),
        ids=layer_ids(points),
        snap_cap_m=snap_cap_m,
        what=what,
    )


def snap_xy(
    network: Network,
    x: np.ndarray,
    y: np.ndarray,
    *,
    ids: np.ndarray,
    snap_cap_m: float = DEFAULT_SNAP_CAP_M,
    what: str = "points",
) -> SnappedPoints:
    """Snap projected coordinates (network CRS) to the network; see `snap_points`.

    Raises
    ------
    InputError
        Coordinates that are not finite numbers, or ids of another length.
    """
    _check_cap(snap_cap_m)
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    ids = np.asarray(ids)
    if not (x.shape == y.shape == ids.shape and x.ndim == 1):
        raise InputError(
            f"The {what}: x, y and ids must be 1-d and of one length, "
            f"not {x.shape}, {y.shape}, {ids.shape}."
        )
    bad = ~(np.isfinite(x) & np.isfinite(y))
    if bad.any():
        raise InputError(
            f"The {what} have {int(bad.sum())} points without finite coordinates (ids "
            f"{', '.join(str(i) for i in ids[bad][:10])}); drop or fix them.",
            zh=f"{what_zh(what)}中有 {int(bad.sum())} 个点的坐标不是有限值（id "
            f"{'、'.join(str(i) for i in ids[bad][:10])}）；请删除或改正。",
        )
    edge, offset, access = segment_index(network).nearest(x, y)
    offset = np.clip(offset, 0.0, network.edge_length_m[edge])
    off = ~(access <= snap_cap_m)
    if off.any():
        log.warning(
            "%d %s are farther than %.0f m from the walking network and are left off it: %s",
            int(off.sum()),
            what,
            snap_cap_m,
            ", ".join(str(i) for i in ids[off][:10]),
        )
        edge[off] = -1
        offset[off] = np.nan
    return SnappedPoints(
        ids=ids,
        edge=edge,
        offset_m=offset,
        access_m=access,
        x=x,
        y=y,
        snap_cap_m=float(snap_cap_m),
    )


class SegmentIndex:
    """Nearest point of the nearest edge, exactly, for many points at once.

    Edges are cut into straight segments of at most ``max_segment_m``. A k-d tree holds one
    entry per segment (its midpoint ``m``, half-length ``r``) and one per distinct vertex of
    the edge geometries (``r = 0``), lifted to 3-d as ``(m, sqrt(R² - r²))`` with ``R`` the
    largest half-length: the squared 3-d distance from ``(p, 0)`` is then ``|p - m|² - r² + R²``,
    so the tree returns entries by power distance ``|p - m|² - r²``. That power is at most the
    squared distance from ``p`` to the segment whenever the segment's nearest point to ``p`` is
    inside it; when it is an end, that end is a vertex (or a cut point, where the next segment,
    collinear, has its nearest point inside it). So a point's candidates (the segments of its
    ``k`` nearest entries) hold the answer once the ``k``-th power is at least the best squared
    distance among them. The few points where that bound does not hold get a wider query, then
    shapely's STRtree over the whole edges.
    """

    def __init__(
        self,
        network: Network,
        *,
        max_segment_m: float = 20.0,
        k: int = K_FIRST,
        k_wide: int = K_WIDE,
    ) -> None:
        """Cut the network's edges into segments and build the tree (a one-off per network)."""
        from pykdtree.kdtree import KDTree

        coords, owner = shapely.get_coordinates(network.edge_geometry, return_index=True)
        same = owner[1:] == owner[:-1]
        piece_len = np.hypot(*np.diff(coords, axis=0).T)
        first_of_edge = np.concatenate(([0], np.flatnonzero(~same) + 1))
        along_in_edge = _along_each_edge(piece_len, first_of_edge, coords.shape[0])
        start, end, piece_len = coords[:-1][same], coords[1:][same], piece_len[same]
        # Cut each piece into n equal segments of at most max_segment_m.
        n = np.maximum(1, np.ceil(piece_len / max_segment_m)).astype(np.int64)
        piece = np.repeat(np.arange(n.shape[0]), n)
        j = np.arange(piece.shape[0]) - np.repeat(np.cumsum(n) - n, n)
        t0 = (j / n[piece])[:, None]
        t1 = ((j + 1) / n[piece])[:, None]
        vec = end[piece] - start[piece]
        seg_start = start[piece] + t0 * vec
        seg_end = start[piece] + t1 * vec
        step = np.hypot(*(seg_end - seg_start).T)
        self._x0, self._y0 = seg_start[:, 0], seg_start[:, 1]
        self._dx, self._dy = (seg_end - seg_start).T
        self._len2 = step**2
        self._inv_len2 = np.divide(1.0, self._len2, out=np.zeros_like(step), where=step > 0)
        self._edge = owner[:-1][same][piece]
        self._along0 = along_in_edge[:-1][same][piece] + t0[:, 0] * piece_len[piece]
        self._network = weakref.proxy(network)  # the cache below is keyed by network

        # Entries: segment midpoints, then the pieces' ends (the geometries' vertices), each
        # vertex once, owned by the first segment that starts or ends there.
        first_seg = np.cumsum(n) - n
        vertex = np.concatenate((start, end))
        vertex_seg = np.concatenate((first_seg, first_seg + n - 1))
        _, once = np.unique(vertex.view(np.complex128).ravel(), return_index=True)
        half = step / 2.0
        lift_m = float(half.max(initial=0.0))
        self._origin = coords.mean(axis=0) if coords.size else np.zeros(2)
        # The tree's build is a review's peak of memory on a city: the entries are written into
        # one array and what the tree does not need is let go first.
        del coords, start, end, vec, piece, j, t1
        n_seg = step.shape[0]
        entries = np.empty((n_seg + once.shape[0], 3))
        entries[:n_seg, :2] = (seg_start + seg_end) / 2.0 - self._origin
        entries[n_seg:, :2] = vertex[once] - self._origin
        entries[:n_seg, 2] = np.sqrt(lift_m**2 - half**2)
        entries[n_seg:, 2] = lift_m
        self._entry_seg = np.concatenate((np.arange(n_seg), vertex_seg[once]))
        self._lift2 = lift_m**2
        del seg_end, vertex, vertex_seg, once, half, step
        self._entries = entries  # pykdtree's tree refers to it
        self._tree = KDTree(entries)
        self._k = min(k, entries.shape[0])
        self._k_wide = min(k_wide, entries.shape[0])

    def nearest(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Edge, offset along it (m) and straight distance to it (m) for each point."""
        # Queries in spatial order (a Z-order curve over 10 m cells) walk the tree's nodes in
        # cache order: Andorra's 20,000 points 10.7 -> 7.7 ms (strips of 100 m cells: 7.8;
        # bench/bench_snapping.py).
        order = np.argsort(_z_order(x, y, cell_m=10.0))
        xs, ys = x[order], y[order]
        seg, access, t, proven = self._candidates(xs, ys, self._k)
        wide = np.flatnonzero(~proven)
        if wide.size:
            seg[wide], access[wide], t[wide], proven[wide] = self._candidates(
                xs[wide], ys[wide], self._k_wide
            )
        edge = self._edge[seg]
        offset = self._along0[seg] + t * np.sqrt(self._len2[seg])
        unproven = np.flatnonzero(~proven)
        if unproven.size:
            pts = shapely.points(xs[unproven], ys[unproven])
            which, found = self._network.edge_tree.query_nearest(pts, all_matches=False)
            rows = unproven[which]
            geoms = self._network.edge_geometry[found]
            edge[rows] = found
            access[rows] = shapely.distance(geoms, pts[which])
            offset[rows] = shapely.line_locate_point(geoms, pts[which])
        out_edge = np.empty(x.shape[0], dtype=np.int64)
        out_offset = np.empty(x.shape[0])
        out_access = np.empty(x.shape[0])
        out_edge[order], out_offset[order], out_access[order] = edge, offset, access
        return out_edge, out_offset, out_access

    def _candidates(
        self, x: np.ndarray, y: np.ndarray, k: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Best of the ``k`` nearest entries' segments: segment, distance (m), position on it
        (0-1), and whether the power bound proves it the nearest."""
        query = np.column_stack((x - self._origin[0], y - self._origin[1], np.zeros_like(x)))
        with _openmp_threads(None if x.shape[0] >= THREADS_FROM_POINTS else 1):
            lifted2, entry = self._tree.query(query, k=k, sqr_dists=True)
        lifted2 = lifted2.reshape(x.shape[0], -1)
        seg = self._entry_seg[entry.reshape(x.shape[0], -1)]
        px = x[:, None] - self._x0[seg]
        py = y[:, None] - self._y0[seg]
        dx, dy = self._dx[seg], self._dy[seg]
        # The candidates are ranked by squared distance, with t from a product by 1 / len²;
        # the chosen one's position and distance are then computed as `_on_segment` does.
        t = (px * dx + py * dy) * self._inv_len2[seg]
        np.clip(t, 0.0, 1.0, out=t)
        ex, ey = px - t * dx, py - t * dy
        best = np.argmin(ex * ex + ey * ey, axis=1)
        row = np.arange(x.shape[0])
        seg = seg[row, best]
        t, access = self._on_segment(seg, px[row, best], py[row, best])
        proven = lifted2[:, -1] - self._lift2 >= access**2
        return seg, access, t, proven

    def _on_segment(
        self, seg: np.ndarray, px: np.ndarray, py: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Position on each segment (0-1) of the nearest point to (x0 + px, y0 + py), and the
        distance to it (m)."""
        dx, dy, len2 = self._dx[seg], self._dy[seg], self._len2[seg]
        t = np.clip(np.divide(px * dx + py * dy, len2, out=np.zeros_like(px), where=len2 > 0), 0, 1)
        return t, np.hypot(px - t * dx, py - t * dy)


def _z_order(x: np.ndarray, y: np.ndarray, *, cell_m: float) -> np.ndarray:
    """Position of each point's ``cell_m`` cell along a Z-order (Morton) curve."""
    key = np.zeros(x.shape[0], dtype=np.uint64)
    if not x.size:
        return key
    for shift, v in ((0, x), (1, y)):
        c = np.floor((v - v.min()) / cell_m).clip(0, 2**31 - 1).astype(np.uint64)
        for step, mask in _SPREAD_BITS:
            c = (c | (c << np.uint64(step))) & np.uint64(mask)
        key |= c << np.uint64(shift)
    return key


_SPREAD_BITS = (
    (16, 0x0000FFFF0000FFFF),
    (8, 0x00FF00FF00FF00FF),
    (4, 0x0F0F0F0F0F0F0F0F),
    (2, 0x3333333333333333),
    (1, 0x5555555555555555),
)
"""Shifts and masks that spread a 32-bit integer's bits to the even bits of 64."""


@functools.cache
def _openmp() -> Any:
    """The process's OpenMP runtimes (pykdtree's among them), found once (~4 ms)."""
    import pykdtree.kdtree  # noqa: F401  (loaded first, so its runtime is found)
    import threadpoolctl

    return threadpoolctl.ThreadpoolController().select(user_api="openmp")


@contextlib.contextmanager
def _openmp_threads(limit: int | None) -> Iterator[None]:
    """OpenMP queries on at most ``limit`` threads inside the block (None: as configured)."""
    if limit is None:
        yield
        return
    with _openmp().limit(limits=limit):
        yield


def _along_each_edge(piece_len: np.ndarray, first: np.ndarray, n: int) -> np.ndarray:
    """Distance of each vertex from its edge's first vertex, summed within the edge only.

    A network-wide running sum would make offsets depend, in the last bits, on every edge
    before this one, so a network cut to a unit's halo would snap differently.
    """
    counts = np.diff(np.append(first, n))
    pos = np.arange(n) - np.repeat(first, counts)
    out = np.zeros(n)
    order = np.argsort(pos, kind="stable")
    bounds = np.cumsum(np.bincount(pos))
    for j in range(1, bounds.shape[0]):
        idx = order[bounds[j - 1] : bounds[j]]
        out[idx] = out[idx - 1] + piece_len[idx - 1]
    return out


_SEGMENT_INDEX: weakref.WeakKeyDictionary[Network, SegmentIndex] = weakref.WeakKeyDictionary()


def segment_index(network: Network) -> SegmentIndex:
    """The network's `SegmentIndex`, built on first use and kept as long as the network lives."""
    found = _SEGMENT_INDEX.get(network)
    if found is None:
        found = SegmentIndex(network)
        _SEGMENT_INDEX[network] = found
    return found


def _check_cap(snap_cap_m: float) -> None:
    if not (np.isfinite(snap_cap_m) and snap_cap_m > 0):
        raise InputError(
            f"snap_cap_m must be a positive number of metres, not {snap_cap_m!r}.",
            zh=f"snap_cap_m 必须是正的米数，而不是 {snap_cap_m!r}。",
        )


def snapped_points_xy(network: Network, snapped: SnappedPoints) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates (network CRS) of the snapped positions on their edges; NaN when off."""
    on = snapped.on_network
    x = np.full(len(snapped), np.nan)
    y = np.full(len(snapped), np.nan)
    pts = shapely.line_interpolate_point(
        network.edge_geometry[snapped.edge[on]], snapped.offset_m[on]
    )
    x[on], y[on] = shapely.get_x(pts), shapely.get_y(pts)
    return x, y
