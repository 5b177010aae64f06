"""Graphs from flat arrays of segment vertices: the step both loaders share, and `build_network`.

`assemble` turns per-vertex arrays (refs, projected coordinates, segment ids) into a `Network`:
a node where segments meet, end or turn back, an edge between consecutive nodes, the largest
component kept. `planner.network.from_osm` feeds it OSM ways; `build_network` feeds it street
centre lines (a planned layout, a test grid).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyproj
import scipy.sparse as sp
import shapely
from scipy.sparse import csgraph

from planner._geo import utm_crs
from planner.errors import InputError
from planner.network.model import LoadReport, Network, layer_ids_of

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Kept:
    """Values of a per-vertex array after `clean_segments`, and the mask that selected them."""

    values: np.ndarray
    keep: np.ndarray


def clean_segments(
    refs: np.ndarray, way_idx: np.ndarray, seg_id: np.ndarray
) -> tuple[np.ndarray, Kept, np.ndarray]:
    """Drop a vertex repeating the one before it, then segments left with fewer than 2 vertices.

    Returns the kept refs, the kept way index (with the boolean mask over the input vertices)
    and the kept segment ids.
    """
    new_seg = np.concatenate(([True], seg_id[1:] != seg_id[:-1]))
    repeat = np.concatenate(([False], refs[1:] == refs[:-1])) & ~new_seg
    keep = ~repeat
    kept_seg = seg_id[keep]
    _, seg_inverse, seg_len = np.unique(kept_seg, return_inverse=True, return_counts=True)
    long_enough = seg_len[seg_inverse] >= 2
    keep[np.flatnonzero(keep)[~long_enough]] = False
    return refs[keep], Kept(way_idx[keep], keep), seg_id[keep]


def assemble(
    refs: np.ndarray,
    px: np.ndarray,
    py: np.ndarray,
    seg_id: np.ndarray,
    ref_way_id: np.ndarray,
    ref_highway: np.ndarray,
    *,
    crs: pyproj.CRS,
    largest: bool,
    source: str,
    sha256: str | None,
    timestamp: str | None,
    walkable_ways: int,
    ways_cut: int,
    missing: int,
) -> Network:
    """Graph from flat per-vertex arrays: a node where segments meet, end or turn back, an edge
    between consecutive nodes of a segment.

    A vertex is a graph node where its segment starts or ends, where its ref occurs more than
    once (ways meet, or a way crosses itself), and where a way turns back on itself (the refs
    before and after it are the same: ``A B A``). A way that runs back over the same nodes gives
    the same edge twice; it is kept once, as OSMnx does.
    """
    first = np.concatenate(([True], seg_id[1:] != seg_id[:-1]))
    last = np.concatenate((seg_id[1:] != seg_id[:-1], [True]))
    _, ref_inverse, ref_counts = np.unique(refs, return_inverse=True, return_counts=True)
    is_node = first | last | (ref_counts[ref_inverse] >= 2)
    turn = np.zeros(refs.shape[0], dtype=bool)
    turn[1:-1] = (refs[:-2] == refs[2:]) & ~first[1:-1] & ~last[1:-1]
    is_node |= turn

    step = np.hypot(np.diff(px, prepend=px[0]), np.diff(py, prepend=py[0]))
    step[first] = 0.0
    along = np.cumsum(step)

    node_pos = np.flatnonzero(is_node)
    pair_ok = seg_id[node_pos[1:]] == seg_id[node_pos[:-1]]
    start_pos, end_pos = node_pos[:-1][pair_ok], node_pos[1:][pair_ok]
    if turn.any():
        unique_edge = _unique_edges(refs, start_pos, end_pos, ref_way_id)
        start_pos, end_pos = start_pos[unique_edge], end_pos[unique_edge]
    length = along[end_pos] - along[start_pos]

    node_refs, node_index = np.unique(refs[node_pos], return_inverse=True)
    index_of_pos = np.full(refs.shape[0], -1, dtype=np.int64)
    index_of_pos[node_pos] = node_index
    node_x = np.empty(node_refs.shape[0])
    node_y = np.empty(node_refs.shape[0])
    node_x[node_index] = px[node_pos]
    node_y[node_index] = py[node_pos]
    edge_u, edge_v = index_of_pos[start_pos], index_of_pos[end_pos]

    n_coords = end_pos - start_pos + 1
    coord_edge = np.repeat(np.arange(start_pos.shape[0]), n_coords)
    coord_pos = np.repeat(start_pos - np.cumsum(n_coords) + n_coords, n_coords) + np.arange(
        coord_edge.shape[0]
    )
    geometry = shapely.linestrings(px[coord_pos], py[coord_pos], indices=coord_edge)

    edge_way = start_pos
    n_nodes_all = node_refs.shape[0]
    components_dropped = nodes_dropped = 0
    km_dropped = 0.0
    if largest:
        graph = sp.coo_matrix(
            (np.ones(edge_u.shape[0]), (edge_u, edge_v)), shape=(n_nodes_all, n_nodes_all)
        )
        n_comp, labels = csgraph.connected_components(graph, directed=False)
        if n_comp > 1:
            # Size in OSM nodes, shape points included, as OSMnx measures it before simplifying.
            shape_points = np.bincount(labels[edge_u], weights=n_coords - 2, minlength=n_comp)
            sizes = np.bincount(labels, minlength=n_comp) + shape_points
            keep_node = labels == int(np.argmax(sizes))
            keep_edge = keep_node[edge_u]
            components_dropped = n_comp - 1
            nodes_dropped = int((~keep_node).sum())
            km_dropped = float(length[~keep_edge].sum()) / 1000.0
            new_index = np.cumsum(keep_node) - 1
            node_refs, node_x, node_y = node_refs[keep_node], node_x[keep_node], node_y[keep_node]
            edge_u, edge_v = new_index[edge_u[keep_edge]], new_index[edge_v[keep_edge]]
            length, geometry, edge_way = length[keep_edge], geometry[keep_edge], edge_way[keep_edge]
            log.info(
                "Kept the largest component; dropped %d components, %d nodes, %.2f km",
                components_dropped,
                nodes_dropped,
                km_dropped,
            )
    if missing:
        log.info("%d ways cut at %d node refs missing from %s", ways_cut, missing, source)
    report = LoadReport(
        source=source,
        sha256=sha256,
        osm_timestamp=timestamp,
        crs=crs.to_string(),
        walkable_ways=walkable_ways,
        ways_cut=ways_cut,
        missing_node_refs=missing,
        components_dropped=components_dropped,
        nodes_dropped=nodes_dropped,
        km_dropped=round(km_dropped, 3),
        nodes=int(node_refs.shape[0]),
        edges=int(edge_u.shape[0]),
        km=round(float(length.sum()) / 1000.0, 3),
    )
    return Network(
        crs=crs,
        node_x=node_x,
        node_y=node_y,
        node_osmid=node_refs,
        edge_u=edge_u.astype(np.int64),
        edge_v=edge_v.astype(np.int64),
        edge_length_m=length,
        edge_geometry=geometry,
        edge_way_id=ref_way_id[edge_way],
        edge_highway=ref_highway[edge_way],
        report=report,
    )


def _unique_edges(
    refs: np.ndarray, start_pos: np.ndarray, end_pos: np.ndarray, ref_way_id: np.ndarray
) -> np.ndarray:
    """Mask keeping the first of the edges of one way over the same refs (either direction)."""
    u, v = refs[start_pos], refs[end_pos]
    key = np.column_stack(
        (ref_way_id[start_pos], np.minimum(u, v), np.maximum(u, v), end_pos - start_pos)
    )
    _, group, group_size = np.unique(key, axis=0, return_inverse=True, return_counts=True)
    keep = np.ones(start_pos.shape[0], dtype=bool)
    # Candidates share way, end refs and vertex count: compare their ref sequences.
    seen: set[tuple[int, tuple[int, ...]]] = set()
    for position in np.flatnonzero(group_size[group] > 1):
        seq = tuple(refs[start_pos[position] : end_pos[position] + 1].tolist())
        ident = (int(group[position]), min(seq, seq[::-1]))
        if ident in seen:
            keep[position] = False
        else:
            seen.add(ident)
    return keep


def build_network(
    lines: Any,
    *,
    node_tolerance_m: float = 0.01,
    largest_component: bool = True,
    source: str = "lines",
) -> Network:
    """Build a network from street centre lines (e.g. a planned street layout, or a test grid).

    Lines join wherever they share a vertex, as OSM ways join at shared nodes: vertices whose
    coordinates round to the same cell of a ``node_tolerance_m`` grid are one node. Lines that
    cross without a shared vertex are not joined (a bridge over a street). Nodes are kept where
    lines meet, end or turn back, as for OSM files.

    Parameters
    ----------
    lines
        GeoDataFrame or GeoSeries of LineStrings, in a projected CRS with metre units, or with a
        geographic (or non-metre) CRS, then projected to the local UTM zone. Edge way ids are
        taken from an integer ``id`` column when there is one, else the row position.
    node_tolerance_m
        Size of the grid, metres, on which vertices are matched.
    largest_component
        Keep only the largest connected component.
    source
        A label for the load report and messages.

    Returns
    -------
    Network

    Raises
    ------
    InputError
        No CRS, no lines, empty or missing geometries, or geometries that are not LineStrings.
    """
    if lines.crs is None:
        raise InputError(
            f"{source}: the lines have no CRS; set one (e.g. EPSG:4326).",
            zh=f"{source}：线没有坐标系；请设定一个（例如 EPSG:4326）。",
        )
    if not (np.isfinite(node_tolerance_m) and node_tolerance_m > 0):
        raise InputError(
            f"node_tolerance_m must be a positive number, not {node_tolerance_m!r}.",
            zh=f"node_tolerance_m 必须是正数，而不是 {node_tolerance_m!r}。",
        )
    series = lines.geometry
    geoms = series.to_numpy()
    if len(geoms) == 0:
        raise InputError(f"{source}: no lines given.", zh=f"{source}：没有给出线。")
    kinds = shapely.get_type_id(geoms)
    bad = kinds != 1
    if bad.any():
        rows = np.flatnonzero(bad)[:10].tolist()
        raise InputError(
            f"{source}: {int(bad.sum())} geometries are not LineStrings (rows {rows}); "
            "explode MultiLineStrings and drop other geometries first.",
            zh=f"{source}：{int(bad.sum())} 个几何不是 LineString（行 {rows}）；"
            "请先把 MultiLineString 拆开，并删除其他几何。",
        )
    empty = shapely.is_empty(geoms)
    if empty.any():
        rows = np.flatnonzero(empty)[:10].tolist()
        raise InputError(
            f"{source}: {int(empty.sum())} lines are empty (rows {rows}); drop them.",
            zh=f"{source}：{int(empty.sum())} 条线是空的（行 {rows}）；请删除。",
        )
    crs = pyproj.CRS.from_user_input(lines.crs)
    if not crs.is_projected or crs.axis_info[0].unit_name not in ("metre", "meter"):
        centre = shapely.centroid(shapely.envelope(series.to_crs(4326).union_all()))
        crs = utm_crs(centre.x, centre.y)
        geoms = series.to_crs(crs).to_numpy()
    coords, owner = shapely.get_coordinates(geoms, return_index=True)
    if not np.isfinite(coords).all():
        rows = np.unique(owner[~np.isfinite(coords).all(axis=1)])[:10].tolist()
        raise InputError(
            f"{source}: lines with non-finite coordinates (rows {rows}).",
            zh=f"{source}：有坐标不是有限值的线（行 {rows}）。",
        )
    cell = np.round(coords / node_tolerance_m).astype(np.int64)
    _, vertex_ref = np.unique(cell, axis=0, return_inverse=True)
    vertex_ref = vertex_ref.astype(np.int64).ravel()
    ids = layer_ids_of(lines) if hasattr(lines, "columns") else np.arange(len(geoms))
    line_id = ids if np.issubdtype(np.asarray(ids).dtype, np.integer) else np.arange(len(geoms))
    refs, kept, seg_id = clean_segments(vertex_ref, owner.astype(np.int64), owner)
    if refs.shape[0] == 0:
        raise InputError(
            f"{source}: every line is shorter than node_tolerance_m.",
            zh=f"{source}：每条线都短于 node_tolerance_m。",
        )
    xy = coords[kept.keep]
    return assemble(
        refs,
        xy[:, 0].copy(),
        xy[:, 1].copy(),
        seg_id,
        np.asarray(line_id, dtype=np.int64)[kept.values],
        np.full(refs.shape[0], "planned", dtype=object),
        crs=crs,
        largest=largest_component,
        source=source,
        sha256=None,
        timestamp=None,
        walkable_ways=len(geoms),
        ways_cut=0,
        missing=0,
    )
