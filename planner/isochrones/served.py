"""A review's served areas: per category and band, the reached street pieces themselves.

`served_bands` runs one shortest-path pass per category (all its facilities together, dissolved)
and keeps, per band, what the ``"edges"`` method of `planner.isochrones` buffers: the wholly
reached edges (ids), the partly reached pieces and the walked access legs. A line stroked with
round caps and joins ``2 × buffer_m`` wide is exactly that line's buffer, so the map draws the
served area from these pieces (`planner.maps`), with no polygon union, holes included.
`ServedBands.polygons` unions them into the polygons of `planner.isochrones` (the same shapes
as ``isochrones(..., dissolve=True)`` of the same snapped points), for ``isochrones.gpkg`` only,
in parallel processes. See ``docs/ARCHITECTURE.md``.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planner import engine
from planner.isochrones._prepare import _prepared, _substrings
from planner.isochrones.build import DEFAULT_QUAD_SEGS, _polygon
from planner.isochrones.reach import _band_reach, _Reach
from planner.network import Network
from planner.schema import DEFAULT_BUFFER_M, DEFAULT_MINUTES
from planner.snapping import SnappedPoints, snapped_points_xy
from planner.standards import minutes_to_m

log = logging.getLogger(__name__)

POOLS: Final = ("processes", "threads")


@dataclass(frozen=True, eq=False)
class ServedBands:
    """Served areas per category and band, as the street pieces a walk reaches.

    Attributes
    ----------
    network
        The walking network the pieces lie on (its CRS).
    table
        One row per category and band: ``category``, ``band_min``, ``band_m``, ``n_points``.
    reaches
        What each row's walk reaches (aligned with ``table``).
    buffer_m, quad_segs
        The served area is every reached piece buffered by ``buffer_m`` (polygons drawn with
        ``quad_segs`` segments per quarter circle).
    """

    network: Network
    table: pd.DataFrame
    reaches: tuple[_Reach, ...]
    buffer_m: float = DEFAULT_BUFFER_M
    quad_segs: int = DEFAULT_QUAD_SEGS

    def __len__(self) -> int:
        return len(self.table)

    def whole_edges(self, row: int) -> np.ndarray:
        """Ids of the edges that row ``row`` reaches end to end."""
        return self.reaches[row].whole

    def loose_pieces(self, row: int) -> np.ndarray:
        """LineStrings (network CRS) of the partly reached pieces and the walked access legs."""
        reach = self.reaches[row]
        ec = _prepared(self.network).coords
        parts = _substrings(ec, reach.piece_edge, reach.piece_s0, reach.piece_s1)
        return np.concatenate((parts, reach.legs)).astype(object)

    def pieces(self, row: int) -> np.ndarray:
        """Every piece of row ``row`` as a LineString: what its polygon buffers."""
        whole = self.network.edge_geometry[self.reaches[row].whole]
        return np.concatenate((whole, self.loose_pieces(row))).astype(object)

    def polygons(self, *, workers: int | None = None, pool: str = "processes") -> gpd.GeoDataFrame:
        """The served areas as polygons (EPSG:4326): ``table``'s columns and the geometry.

        Each row's pieces are buffered and unioned exactly as `planner.isochrones` does
        (k-d union tree, `planner.isochrones._union`). Rows are drawn in parallel, largest band
        first: ``pool="processes"`` forks one process per worker (where the platform forks),
        ``"threads"`` uses threads (GEOS releases the GIL, but the union tree's Python work
        does not). ``workers`` defaults to one per CPU core.
        """
        n = len(self.table)
        order = sorted(range(n), key=lambda i: -float(self.table["band_m"].iloc[i]))
        n_workers = max(1, min(workers or os.cpu_count() or 1, n))
        geometry: list[Any] = [None] * n
        if n_workers == 1 or n < 2:
            for i in order:
                geometry[i] = _row_polygon(self, i)
        elif pool == "processes" and "fork" in multiprocessing.get_all_start_methods():
            global _FORKED
            _FORKED = self
            try:
                context = multiprocessing.get_context("fork")
                with ProcessPoolExecutor(max_workers=n_workers, mp_context=context) as ex:
                    for i, wkb in zip(order, ex.map(_forked_polygon, order), strict=True):
                        geometry[i] = shapely.from_wkb(wkb)
            finally:
                _FORKED = None
        else:
            with ThreadPoolExecutor(max_workers=n_workers) as ex:
                drawn = ex.map(lambda j: _row_polygon(self, j), order)
                for i, geom in zip(order, drawn, strict=True):
                    geometry[i] = geom
        geoms = gpd.GeoSeries(np.asarray(geometry, dtype=object), crs=self.network.crs)
        columns = ["band_min", "band_m", "n_points", "category"]  # as isochrones.gpkg always had
        out = gpd.GeoDataFrame(
            self.table[columns].copy(), geometry=geoms.to_crs(4326).to_numpy(), crs=4326
        )
        out.attrs.update({"buffer_m": float(self.buffer_m), "method": "edges"})
        return out


_FORKED: ServedBands | None = None  # what forked workers draw from (set only around a pool)


def _forked_polygon(row: int) -> bytes:
    assert _FORKED is not None
    wkb: bytes = shapely.to_wkb(_row_polygon(_FORKED, row))
    return wkb


def _row_polygon(served: ServedBands, row: int) -> Any:
    network = served.network
    return _polygon(
        network,
        _prepared(network).coords,
        served.reaches[row],
        method="edges",
        buffer_m=float(served.buffer_m),
        quad_segs=int(served.quad_segs),
        concave_ratio=0.1,
    )


def served_bands(
    network: Network,
    snapped: SnappedPoints,
    categories: Sequence[Any] | np.ndarray,
    *,
    speed_kmh: float,
    minutes: Sequence[float] = DEFAULT_MINUTES,
    buffer_m: float = DEFAULT_BUFFER_M,
    only: Sequence[str] | None = None,
) -> ServedBands:
    """What the facilities of each category reach within each band, dissolved per category.

    Parameters
    ----------
    network
        The walking network.
    snapped
        The facilities, snapped (points off the network reach nothing).
    categories
        The category of every point of ``snapped``.
    speed_kmh
        Walking speed converting the bands' minutes to metres.
    minutes
        The bands, increasing.
    buffer_m
        Width of land either side of a reached street, metres.
    only
        Categories to draw, in this order (default: every category present, sorted).
    """
    cats = np.array([str(c) for c in np.asarray(categories, dtype=object).tolist()], dtype=object)
    names = sorted(set(cats.tolist())) if only is None else [c for c in only if (cats == c).any()]
    band_min = np.asarray(minutes, dtype=float)
    band_m = np.asarray(minutes_to_m(band_min, speed_kmh), dtype=float)
    ec = _prepared(network).coords
    rows: dict[str, list[Any]] = {"category": [], "band_min": [], "band_m": [], "n_points": []}
    reaches: list[_Reach] = []
    for name in names:
        sub = snapped.subset(cats == name)
        on = np.flatnonzero(sub.on_network)
        n = int(on.size)
        log.info(
            "Reaching the %s-minute bands of %s (%d %s) ...",
            "/".join(f"{b:g}" for b in band_min),
            name,
            n,
            "facility" if n == 1 else "facilities",
        )
        if n == 0:
            continue
        best = np.full(network.n_nodes, np.inf)
        for _, dist in engine.node_distances(network, sub, cutoff_m=float(band_m[-1])):
            np.minimum(best, dist.min(axis=0), out=best)
        xy = snapped_points_xy(network, sub)
        for bmin, bm in zip(band_min.tolist(), band_m.tolist(), strict=True):
            reaches.append(_band_reach(network, ec, best, bm, sub, on, xy))
            rows["category"].append(name)
            rows["band_min"].append(bmin)
            rows["band_m"].append(bm)
            rows["n_points"].append(n)
    table = pd.DataFrame(
        {
            "category": pd.Series(rows["category"], dtype=object),
            "band_min": pd.Series(rows["band_min"], dtype=float),
            "band_m": pd.Series(rows["band_m"], dtype=float),
            "n_points": pd.Series(rows["n_points"], dtype=np.int64),
        }
    )
    return ServedBands(network=network, table=table, reaches=tuple(reaches), buffer_m=buffer_m)


__all__ = ["POOLS", "ServedBands", "served_bands"]
