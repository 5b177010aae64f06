"""`isochrones`: the walking isochrones of points, drawn band by band.

Checks the options, snaps the points, runs one shortest-path pass per point (or one for all,
dissolved) and draws each band's polygon from what it reaches (`planner.isochrones.reach`):
``"edges"`` unions the reached pieces' buffers through the k-d union tree
(`planner.isochrones._union`), ``"concave"`` buffers the concave hull of their vertices. The
package docstring (`planner.isochrones`) describes the method and its measured speed and accuracy.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planner import engine
from planner.errors import InputError
from planner.isochrones._prepare import _EdgeCoords, _prepared, _substrings, _union_tree
from planner.isochrones._union import _union_large
from planner.isochrones.reach import _band_reach, _piece_lines, _Reach, _snap
from planner.network import Network
from planner.schema import (
    DEFAULT_BUFFER_M,
    DEFAULT_MINUTES,
    DEFAULT_SNAP_CAP_M,
    DEFAULT_SPEED_KMH,
)
from planner.snapping import SnappedPoints, snapped_points_xy
from planner.standards import m_to_minutes, minutes_to_m

log = logging.getLogger(__name__)

METHODS: Final = ("edges", "concave")
DEFAULT_QUAD_SEGS: Final = 4
"""Segments per quarter circle of the buffers' round caps and joins. The polygon lies inside the
true round buffer by at most ``buffer_m * (1 - cos(pi / (4 * quad_segs)))``: 0.48 m at 25 m."""

_LARGE_UNION_VERTICES: Final = 50_000  # unions this large go through `_union_large`


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
        unreachable land between streets; see `planner.isochrones`).
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
    draw = _dissolved if dissolve else _one_per_point
    frame, geometry = draw(network, ec, snapped, on, xy, band_min, band_m, options, n_workers)
    frame["band_min"] = frame["band_min"].astype(float)
    frame["band_m"] = frame["band_m"].astype(float)
    geoms = gpd.GeoSeries(np.asarray(geometry, dtype=object), crs=network.crs)
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


def _dissolved(
    network: Network,
    ec: _EdgeCoords,
    snapped: SnappedPoints,
    on: np.ndarray,
    xy: tuple[np.ndarray, np.ndarray],
    band_min: np.ndarray,
    band_m: np.ndarray,
    options: dict[str, Any],
    n_workers: int,
) -> tuple[pd.DataFrame, list[Any]]:
    """One row per band for all the points on the network together: the area served by any.

    ``"edges"``: one shortest-path pass for all points (the nearest of them at every node), each
    band drawn once, in threads; ``"concave"``: the union of the points' own polygons.
    """
    geometry: list[Any] = []
    if on.size and options["method"] == "edges":
        best = np.full(network.n_nodes, np.inf)
        for _, dist in engine.node_distances(network, snapped, cutoff_m=float(band_m[-1])):
            np.minimum(best, dist.min(axis=0), out=best)
        _union_tree(network, options["buffer_m"], options["quad_segs"])  # built once, shared

        def band_polygon(bm: float) -> Any:
            reach = _band_reach(network, ec, best, bm, snapped, on, xy)
            return _polygon(network, ec, reach, **options)

        # The bands are independent unions: largest first, drawn in threads.
        with ThreadPoolExecutor(max_workers=min(n_workers, len(band_m))) as pool:
            geometry = list(pool.map(band_polygon, band_m[::-1].tolist()))[::-1]
    elif on.size:
        per_band: list[list[Any]] = [[] for _ in band_m]
        for _, geoms in _per_point(network, ec, snapped, on, xy, band_m, options, n_workers):
            for k, geom in enumerate(geoms):
                per_band[k].append(geom)
        geometry = [shapely.union_all(polygons) for polygons in per_band]
    n_rows = len(geometry)  # every band, or none when no point is on the network
    frame = pd.DataFrame(
        {
            "band_min": band_min.tolist()[:n_rows],
            "band_m": band_m.tolist()[:n_rows],
            "n_points": [int(on.size)] * n_rows,
        }
    )
    return frame, geometry


def _one_per_point(
    network: Network,
    ec: _EdgeCoords,
    snapped: SnappedPoints,
    on: np.ndarray,
    xy: tuple[np.ndarray, np.ndarray],
    band_min: np.ndarray,
    band_m: np.ndarray,
    options: dict[str, Any],
    n_workers: int,
) -> tuple[pd.DataFrame, list[Any]]:
    """One row per band and point on the network, in point order."""
    ids: list[Any] = []
    rows: dict[str, list[Any]] = {"band_min": [], "band_m": []}
    geometry: list[Any] = []
    for i, geoms in _per_point(network, ec, snapped, on, xy, band_m, options, n_workers):
        for bmin, bm, geom in zip(band_min.tolist(), band_m.tolist(), geoms, strict=True):
            ids.append(snapped.ids[i])
            rows["band_min"].append(bmin)
            rows["band_m"].append(bm)
            geometry.append(geom)
    frame = pd.DataFrame(
        {
            "id": pd.Series(ids, dtype=_id_dtype(snapped.ids)),
            "band_min": rows["band_min"],
            "band_m": rows["band_m"],
        }
    )
    return frame, geometry


def _id_dtype(ids: np.ndarray) -> Any:
    if np.issubdtype(ids.dtype, np.integer):
        return ids.dtype
    return object


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


__all__ = ["DEFAULT_QUAD_SEGS", "METHODS", "isochrones"]
