"""Points onto the nearest point of the nearest walkable edge, with the straight access leg."""

from __future__ import annotations

import logging
import weakref
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
        raise InputError(f"The {what} layer is empty: give at least one point.")
    if points.crs is None:
        raise InputError(
            f"The {what} layer has no CRS: set one (e.g. EPSG:4326 for WGS84 lon/lat, "
            "EPSG:4490 for CGCS2000)."
        )
    _check_cap(snap_cap_m)
    geoms = points.geometry.to_crs(network.crs).to_numpy()
    empty = shapely.is_empty(geoms) | shapely.is_missing(geoms)
    if empty.any():
        rows = np.flatnonzero(empty)[:10].tolist()
        raise InputError(
            f"The {what} layer has {int(empty.sum())} empty geometries (rows {rows}); "
            "drop or fix them."
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
            f"{', '.join(str(i) for i in ids[bad][:10])}); drop or fix them."
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

    Edges are cut into straight segments of at most ``max_segment_m``; a k-d tree holds the
    segments' midpoints. For a point, the exact distances to the segments of its ``k`` nearest
    midpoints give a best segment at distance ``d``; any other segment's midpoint is at least as
    far as the k-th one, so it lies at least that distance minus half a segment away. When that
    bound is ``>= d`` the answer is proven; the few points where it is not (sparse networks, far
    points) are answered by shapely's STRtree over the whole edges.
    """

    def __init__(self, network: Network, *, max_segment_m: float = 20.0, k: int = 12) -> None:
        from scipy.spatial import cKDTree

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
        self._edge = owner[:-1][same][piece]
        self._along0 = along_in_edge[:-1][same][piece] + t0[:, 0] * piece_len[piece]
        self._half = float(step.max(initial=0.0)) / 2.0
        self._k = min(k, int(step.shape[0]))
        self._tree = cKDTree((seg_start + seg_end) / 2.0)
        self._network = weakref.proxy(network)  # the cache below is keyed by network

    def nearest(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Edge, offset along it (m) and straight distance to it (m) for each point."""
        mid_dist, seg = self._tree.query(np.column_stack((x, y)), k=self._k, workers=-1)
        mid_dist = mid_dist.reshape(len(x), -1)
        seg = seg.reshape(len(x), -1)
        px = x[:, None] - self._x0[seg]
        py = y[:, None] - self._y0[seg]
        dx, dy, len2 = self._dx[seg], self._dy[seg], self._len2[seg]
        t = np.clip(np.divide(px * dx + py * dy, len2, out=np.zeros_like(px), where=len2 > 0), 0, 1)
        dist = np.hypot(px - t * dx, py - t * dy)
        best = np.argmin(dist, axis=1)
        row = np.arange(len(x))
        chosen = seg[row, best]
        access = dist[row, best]
        edge = self._edge[chosen]
        offset = self._along0[chosen] + t[row, best] * np.sqrt(len2[row, best])
        unproven = mid_dist[:, -1] - self._half < access
        if unproven.any():
            pts = shapely.points(x[unproven], y[unproven])
            which, found = self._network.edge_tree.query_nearest(pts, all_matches=False)
            rows = np.flatnonzero(unproven)[which]
            geoms = self._network.edge_geometry[found]
            edge[rows] = found
            access[rows] = shapely.distance(geoms, pts[which])
            offset[rows] = shapely.line_locate_point(geoms, pts[which])
        return edge.astype(np.int64), offset, access


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
        raise InputError(f"snap_cap_m must be a positive number of metres, not {snap_cap_m!r}.")


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
