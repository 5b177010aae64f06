"""Accuracy of isochrone polygons against exact walk distances of points sampled on the network.

`score_isochrone` places points along every edge, computes their exact walk from the isochrone's
source with the distance engine, and counts recall and false inclusion (`IsochroneScore`).
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass
from typing import Any, Final

import geopandas as gpd
import numpy as np
import shapely

from planner import engine
from planner.errors import InputError
from planner.isochrones.reach import _one_source, reached_pieces
from planner.network import Network
from planner.schema import DEFAULT_BUFFER_M, DEFAULT_SNAP_CAP_M
from planner.snapping import SnappedPoints

_FAR_FACTOR: Final = 1.2  # false inclusion counts points whose walk exceeds the band by >= 20 %


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


__all__ = ["IsochroneScore", "score_isochrone"]
