"""Units of a split review and their halos.

A unit is a set of residences (a square tile of the network CRS, a community, or the communities
of one sub-district or district) reviewed by one task. The task gets only the street network and
the facilities within a *halo* around the unit's residences:

- facilities within ``max_walk_m`` (the largest walk threshold of the review) of the residences'
  bounding box, and
- every edge whose bounding box meets that box grown by ``max_walk_m + snap_cap_m``.

A walk is never shorter than the straight line, so every walk of at most ``max_walk_m`` from a
residence of the unit runs on edges inside the halo and ends at a facility of the halo, and each
such facility snaps to the same edge as in the whole network (its nearest edge is within the snap
cap of it). Hence every walk up to ``max_walk_m``, every coverage verdict and every catchment
pair is the one the single-process review finds. Walks longer than ``max_walk_m`` are only known
to be longer: the merged tables give them as ``inf`` ("more than ``max_walk_m`` m"), see
`planner.distributed.censor_walks`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planner.errors import InputError
from planner.network import Network

Box = tuple[float, float, float, float]
"""(xmin, ymin, xmax, ymax) in the network CRS, metres."""

DEFAULT_TILE_M = 5000.0
"""Side of the square tiles a review is split into when no communities are given."""


@dataclass(frozen=True)
class Unit:
    """One task's share of a review.

    Attributes
    ----------
    name
        How the unit is reported: ``tile 3_-2`` (tile column and row), or the community,
        sub-district or district it is.
    residences
        Positions of the unit's residences in the review's residence table (ascending).
    box
        Bounding box of those residences in the network CRS (for a unit without residences,
        the box of its facilities).
    facilities
        Positions of facilities the unit *owns* (reports the snapping of) when no unit's halo
        reaches them; usually empty.
    """

    name: str
    residences: np.ndarray
    box: Box
    facilities: np.ndarray

    def halo(self, halo_m: float) -> Box:
        """The unit's box grown by ``halo_m`` on every side."""
        return grow(self.box, halo_m)


def grow(box: Box, by: float) -> Box:
    """A box grown by ``by`` metres on every side."""
    return (box[0] - by, box[1] - by, box[2] + by, box[3] + by)


def box_of(x: np.ndarray, y: np.ndarray) -> Box:
    """Bounding box of points."""
    return (float(x.min()), float(y.min()), float(x.max()), float(y.max()))


def in_box(x: np.ndarray, y: np.ndarray, box: Box) -> np.ndarray:
    """Mask of the points inside (or on the border of) ``box``."""
    return (x >= box[0]) & (x <= box[2]) & (y >= box[1]) & (y <= box[3])


def projected_xy(layer: gpd.GeoDataFrame, crs: Any) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates in ``crs`` of a layer's points, as `planner.snap_points` takes them.

    The layer goes through EPSG:4326 first (as `planner.check` does), and non-point geometries
    use their representative point.
    """
    geoms = layer.to_crs(4326).geometry.to_crs(crs).to_numpy()
    if (shapely.is_empty(geoms) | shapely.is_missing(geoms)).any():
        raise InputError("The layer has empty geometries; drop or fix them.")
    not_point = shapely.get_type_id(geoms) != 0
    if not_point.any():
        geoms = geoms.copy()
        geoms[not_point] = shapely.point_on_surface(geoms[not_point])
    return shapely.get_x(geoms), shapely.get_y(geoms)


def tile_units(
    x: np.ndarray, y: np.ndarray, *, tile_m: float = DEFAULT_TILE_M, rows: np.ndarray | None = None
) -> list[Unit]:
    """Residences grouped by square tiles of ``tile_m`` metres (network CRS), in tile order.

    ``rows`` are the positions of the points in the residence table (default ``0..n-1``).
    """
    if not (np.isfinite(tile_m) and tile_m > 0):
        raise InputError(f"tile_m must be a positive number of metres, not {tile_m!r}.")
    rows = np.arange(x.shape[0]) if rows is None else np.asarray(rows)
    if rows.size == 0:
        return []
    ix = np.floor(x / tile_m).astype(np.int64)
    iy = np.floor(y / tile_m).astype(np.int64)
    order = np.lexsort((rows, iy, ix))
    keys = np.stack((ix[order], iy[order]), axis=1)
    cut = np.flatnonzero(np.any(np.diff(keys, axis=0) != 0, axis=1)) + 1
    units = []
    for members in np.split(order, cut):
        members = np.sort(members)
        units.append(
            Unit(
                name=f"tile {ix[members[0]]}_{iy[members[0]]}",
                residences=rows[members],
                box=box_of(x[members], y[members]),
                facilities=np.empty(0, dtype=np.int64),
            )
        )
    return units


def community_units(
    x: np.ndarray,
    y: np.ndarray,
    residences_4326: gpd.GeoDataFrame,
    communities: gpd.GeoDataFrame,
    *,
    level: str | None = None,
    tile_m: float = DEFAULT_TILE_M,
) -> list[Unit]:
    """Residences grouped by the community polygon they lie in (the first when several).

    Parameters
    ----------
    x, y
        The residences in the network CRS.
    residences_4326
        The residences (EPSG:4326), for the point-in-polygon join.
    communities
        Polygons with an ``id`` column (else their index), and the ``level`` column if given.
    level
        None: one unit per community; a column of ``communities`` (``subdistrict``,
        ``district``): one unit per value, holding all its communities.
    tile_m
        Residences inside no community go to square tiles of this size.
    """
    comm = communities.to_crs(4326).reset_index(drop=True)
    if "id" not in comm.columns:
        comm = comm.assign(id=comm.index.to_numpy())
    if level is not None and level not in comm.columns:
        raise InputError(
            f"The communities layer has no column {level!r} to group units by "
            f"(columns: {', '.join(map(str, comm.columns))})."
        )
    joined = gpd.sjoin(
        residences_4326[["geometry"]].reset_index(drop=True).assign(_row=np.arange(len(x))),
        comm[["id", "geometry"] + ([level] if level else [])],
        how="inner",
        predicate="within",
    ).drop_duplicates("_row")
    key = np.full(len(x), None, dtype=object)
    key[joined["_row"].to_numpy()] = joined[level or "id"].astype(str).to_numpy()
    units = []
    has = pd.notna(key)
    if has.any():
        groups = pd.Series(np.flatnonzero(has)).groupby(key[has], sort=True)
        for name, members in groups:
            rows = np.sort(members.to_numpy())
            units.append(
                Unit(
                    name=f"{level or 'community'} {name}",
                    residences=rows,
                    box=box_of(x[rows], y[rows]),
                    facilities=np.empty(0, dtype=np.int64),
                )
            )
    rest = np.flatnonzero(~has)
    units.extend(tile_units(x[rest], y[rest], tile_m=tile_m, rows=rest))
    return units


def facility_owners(
    units: Sequence[Unit], fx: np.ndarray, fy: np.ndarray, max_walk_m: float, tile_m: float
) -> list[Unit]:
    """Units for the facilities that no unit's halo reaches (they still need snapping)."""
    reached = np.zeros(fx.shape[0], dtype=bool)
    for unit in units:
        reached |= in_box(fx, fy, unit.halo(max_walk_m))
    alone = np.flatnonzero(~reached)
    extra = []
    for unit in tile_units(fx[alone], fy[alone], tile_m=tile_m, rows=alone):
        extra.append(
            Unit(
                name=f"facilities {unit.name}",
                residences=np.empty(0, dtype=np.int64),
                box=unit.box,
                facilities=unit.residences,
            )
        )
    return extra


def edges_meeting(
    xmin: np.ndarray, ymin: np.ndarray, xmax: np.ndarray, ymax: np.ndarray, box: Box
) -> np.ndarray:
    """Mask of the edges whose bounding box meets ``box``."""
    return (xmax >= box[0]) & (xmin <= box[2]) & (ymax >= box[1]) & (ymin <= box[3])


def sub_network(
    network: Network,
    edges: np.ndarray,
) -> Network:
    """The network restricted to ``edges`` (ascending positions) and the nodes they end at.

    Node and edge order are kept, so ties are broken as in the whole network.
    """
    u, v = network.edge_u[edges], network.edge_v[edges]
    nodes = np.unique(np.concatenate((u, v)))
    return Network(
        crs=network.crs,
        node_x=network.node_x[nodes].copy(),
        node_y=network.node_y[nodes].copy(),
        node_osmid=network.node_osmid[nodes].copy(),
        edge_u=np.searchsorted(nodes, u),
        edge_v=np.searchsorted(nodes, v),
        edge_length_m=network.edge_length_m[edges].copy(),
        edge_geometry=network.edge_geometry[edges],
        edge_way_id=network.edge_way_id[edges],
        edge_highway=network.edge_highway[edges],
        report=network.report,
    )


class InMemoryNetwork:
    """A whole network held in memory, cut into halos on request (the in-process source)."""

    def __init__(self, network: Network) -> None:
        self.network = network
        self.crs = network.crs
        self.report = network.report
        bounds = shapely.bounds(network.edge_geometry)
        self._xmin, self._ymin, self._xmax, self._ymax = bounds.T

    def read(self, box: Box) -> Network:
        """The edges meeting ``box`` and their end nodes."""
        edges = np.flatnonzero(edges_meeting(self._xmin, self._ymin, self._xmax, self._ymax, box))
        if edges.size == 0:
            raise InputError(f"No street meets the box {box} (a unit far from the network?).")
        return sub_network(self.network, edges)

    def __reduce__(self) -> tuple[Any, ...]:
        return (InMemoryNetwork, (self.network,))


__all__ = [
    "DEFAULT_TILE_M",
    "InMemoryNetwork",
    "Unit",
    "community_units",
    "facility_owners",
    "projected_xy",
    "sub_network",
    "tile_units",
]
