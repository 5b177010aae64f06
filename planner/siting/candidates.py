"""Candidate sites for new facilities: generated along the streets, or from a layer.

`candidate_sites` places points along every edge of the walking network (leaving out a mask);
`propose` also accepts a layer of points or polygons (parcels: their representative point).
Also the residences no candidate can bring within reach, with the reason.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planner.engine import nearest
from planner.errors import InputError
from planner.network import Network
from planner.snapping import SnappedPoints, snap_points

log = logging.getLogger(__name__)


def candidate_sites(
    network: Network,
    *,
    spacing_m: float = 100.0,
    mask: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
) -> gpd.GeoDataFrame:
    """Candidate sites along the walking network, at most ``spacing_m`` apart along every edge.

    Each edge of length ``L`` gets ``ceil(L / spacing_m)`` points, evenly spaced and centred (the
    first at half a step from its start), so short edges get their midpoint and no point falls on
    a junction shared by several edges.

    Parameters
    ----------
    network
        The walking network.
    spacing_m
        Largest distance between consecutive candidates along an edge, metres.
    mask
        Polygons (any CRS) where no facility may go (water, parks, industrial land...);
        candidates inside or on them are dropped.

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326 points with ``id`` (``"C1"``, ``"C2"``...), ``edge`` and ``offset_m`` (where on
        the network it lies).

    Raises
    ------
    InputError
        A spacing that is not a positive number, or a mask without a CRS.
    """
    if not np.isfinite(spacing_m) or spacing_m <= 0:
        raise InputError(
            f"spacing_m must be a positive number of metres, not {spacing_m!r}.",
            zh=f"spacing_m 必须是正的米数，而不是 {spacing_m!r}。",
        )
    length = network.edge_length_m
    per_edge = np.maximum(np.ceil(length / spacing_m - 1e-9), 1).astype(np.int64)
    edge = np.repeat(np.arange(network.n_edges), per_edge)
    rank = np.arange(edge.shape[0]) - np.repeat(np.cumsum(per_edge) - per_edge, per_edge)
    offset = (rank + 0.5) * length[edge] / per_edge[edge]
    points = shapely.line_interpolate_point(network.edge_geometry[edge], offset)
    if mask is not None:
        if mask.crs is None:
            raise InputError(
                "The mask layer has no CRS; set one (e.g. EPSG:4326).",
                zh="遮罩图层没有坐标系；请设定一个（例如 EPSG:4326）。",
            )
        shapes = np.asarray(gpd.GeoSeries(mask.geometry).to_crs(network.crs).to_numpy())
        shapes = shapes[~(shapely.is_empty(shapes) | shapely.is_missing(shapes))]
        if shapes.size:
            hit, _ = shapely.STRtree(shapes).query(points, predicate="intersects")
            keep = np.ones(points.shape[0], dtype=bool)
            keep[hit] = False
            log.info("Mask removed %d of %d candidate sites", int((~keep).sum()), keep.shape[0])
            edge, offset, points = edge[keep], offset[keep], points[keep]
    sites = gpd.GeoDataFrame(
        {
            "id": [f"C{i}" for i in range(1, edge.shape[0] + 1)],
            "edge": edge,
            "offset_m": np.round(offset, 3),
        },
        geometry=points,
        crs=network.crs,
    )
    return sites.to_crs(4326)


def _candidate_points(
    network: Network,
    candidates: gpd.GeoDataFrame | None,
    spacing_m: float,
    mask: gpd.GeoDataFrame | None,
) -> tuple[gpd.GeoDataFrame, str]:
    """Candidate points in EPSG:4326 with an ``id`` column, and where they come from."""
    if candidates is None:
        generated = candidate_sites(network, spacing_m=spacing_m, mask=mask)
        return generated[["id", "geometry"]], f"generated every {spacing_m:g} m along the network"
    if len(candidates) == 0:
        raise InputError(
            "The candidate sites layer is empty: give at least one point or polygon.",
            zh="候选点图层是空的：请至少给出一个点或面。",
        )
    if candidates.crs is None:
        raise InputError(
            "The candidate sites layer has no CRS: set one (e.g. EPSG:4326).",
            zh="候选点图层没有坐标系：请设定一个（例如 EPSG:4326）。",
        )
    cand = candidates.to_crs(4326).reset_index(drop=False)
    ids = candidates["id"].to_numpy() if "id" in candidates else candidates.index.to_numpy()
    if pd.Series(ids).duplicated().any():
        dup = pd.Series(ids)[pd.Series(ids).duplicated()].unique()[:10].tolist()
        raise InputError(
            f"The candidate sites layer repeats ids {dup}; ids must be unique.",
            zh=f"候选点图层的编号 {dup} 有重复；编号必须唯一。",
        )
    geoms = cand.geometry.to_numpy()
    bad = shapely.is_empty(geoms) | shapely.is_missing(geoms)
    if bad.any():
        rows = np.flatnonzero(bad)[:10].tolist()
        raise InputError(
            f"The candidate sites layer has empty geometries (rows {rows}).",
            zh=f"候选点图层有空几何（行 {rows}）。",
        )
    not_point = shapely.get_type_id(geoms) != 0
    if not_point.any():
        geoms = geoms.copy()
        geoms[not_point] = shapely.point_on_surface(geoms[not_point])
    if mask is not None:
        log.info("mask is used for generated candidates only; the given candidates are kept")
    points = gpd.GeoDataFrame({"id": np.asarray(ids, dtype=object)}, geometry=geoms, crs=4326)
    return points, "user layer"


def _snapped_candidates(
    network: Network, cand_points: gpd.GeoDataFrame, snap_cap_m: float
) -> SnappedPoints:
    """The candidates snapped to the network; at least one must lie on it."""
    cand_snap = snap_points(network, cand_points, snap_cap_m=snap_cap_m, what="candidate sites")
    if not cand_snap.on_network.any():
        raise InputError(
            f"No candidate site lies within {snap_cap_m:g} m of the walking network; give "
            "candidates near the streets (or raise snap_cap_m).",
            zh=f"没有一个候选点在步行网络 {snap_cap_m:g} 米以内；请给出靠近街道的候选点"
            "（或调大 snap_cap_m）。",
        )
    return cand_snap


def _uncoverable(
    network: Network,
    res: gpd.GeoDataFrame,
    res_snap: SnappedPoints,
    households: np.ndarray,
    covered_before: np.ndarray,
    demand: np.ndarray,
    coverable: np.ndarray,
    cand_snap: SnappedPoints,
    threshold_m: float,
) -> pd.DataFrame:
    """Residences uncovered now that no candidate can cover, with the reason."""
    off = np.flatnonzero(~res_snap.on_network & (households > 0))
    far = demand[~coverable]
    _, walk_m = nearest(network, cand_snap, res_snap.subset(far))
    ids = res["id"].to_numpy() if "id" in res else res.index.to_numpy()
    rows = [
        {
            "id": ids[i],
            "households": households[i],
            "reason": "off_network",
            "detail": f"{res_snap.access_m[i]:.0f} m from the nearest walkable street, beyond "
            f"the snap cap of {res_snap.snap_cap_m:g} m",
            "distance_to_network_m": round(float(res_snap.access_m[i]), 3),
            "nearest_candidate_walk_m": np.nan,
        }
        for i in off
    ]
    for i, walk in zip(far, walk_m, strict=True):
        detail = (
            f"nearest candidate site is {walk:.0f} m away on foot (threshold {threshold_m:.0f} m)"
            if np.isfinite(walk)
            else "no candidate site is reachable on the walking network"
        )
        rows.append(
            {
                "id": ids[i],
                "households": households[i],
                "reason": "no_candidate_within_reach",
                "detail": detail,
                "distance_to_network_m": round(float(res_snap.access_m[i]), 3),
                "nearest_candidate_walk_m": round(float(walk), 3),
            }
        )
    columns = [
        "id",
        "households",
        "reason",
        "detail",
        "distance_to_network_m",
        "nearest_candidate_walk_m",
    ]
    table = pd.DataFrame(rows, columns=columns)
    return table.sort_values(["households", "reason"], ascending=[False, True], kind="stable")


__all__ = ["candidate_sites"]
