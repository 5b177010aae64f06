"""Exact walking distances between points on the network, on the CSR with scipy.sparse.csgraph.

A point lies on an edge at an offset, reached by a straight access leg. Each source point becomes a
virtual node with one-way arcs to its edge's two ends (access + walk along the edge), so a single
Dijkstra call gives exact point-to-node distances; a destination adds its own walk along its edge
and its access leg. Two points on the same edge may also walk straight along it.

Two doors: the array functions (`nearest`, `pairs_within`, `node_distances`) take snapped points;
`nearest_facilities` and `catchments` take GeoDataFrames and only prepare the arrays.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse import csgraph

from planner.errors import InputError
from planner.network import Network
from planner.snapping import DEFAULT_SNAP_CAP_M, SnappedPoints, layer_ids, snap_points

CHUNK_BYTES = 128 * 2**20
"""Memory for one block of a multi-source distance matrix: sources × nodes float64."""


def _augmented_csr(network: Network, sources: SnappedPoints) -> sp.csr_matrix:
    """The network CSR plus one virtual node per source with arcs to its edge's two ends.

    ``sources`` must all be on the network. Virtual nodes have no incoming arcs, so no path can
    pass through one.
    """
    n = network.n_nodes
    k = len(sources)
    e = sources.edge
    length = network.edge_length_m[e]
    offset = np.clip(sources.offset_m, 0.0, length)
    rows = np.concatenate((np.arange(n, n + k), np.arange(n, n + k)))
    cols = np.concatenate((network.edge_u[e], network.edge_v[e]))
    w = np.concatenate((sources.access_m + offset, sources.access_m + (length - offset)))
    # Duplicate (virtual, end) pairs appear for self-loop edges: keep the shorter.
    order = np.lexsort((w, cols, rows))
    rows, cols, w = rows[order], cols[order], np.maximum(w[order], 1e-9)
    first = np.concatenate(([True], (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])))
    virtual = sp.csr_matrix((w[first], (rows[first], cols[first])), shape=(n + k, n + k))
    base = network.csr
    padded = sp.csr_matrix(
        (base.data, base.indices, np.concatenate((base.indptr, np.full(k, base.indptr[-1])))),
        shape=(n + k, n + k),
    )
    return (padded + virtual).tocsr()


def _check_cutoff(cutoff_m: float | None) -> float:
    if cutoff_m is None:
        return np.inf
    if not np.isfinite(cutoff_m) or cutoff_m <= 0:
        raise InputError(f"cutoff_m must be a positive number of metres, not {cutoff_m!r}.")
    return float(cutoff_m)


def _leg_to_ends(
    network: Network, points: SnappedPoints
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For points on the network: edge ends (u, v) and the walk from each end to the point."""
    e = points.edge
    length = network.edge_length_m[e]
    offset = np.clip(points.offset_m, 0.0, length)
    return (
        network.edge_u[e],
        network.edge_v[e],
        offset + points.access_m,
        (length - offset) + points.access_m,
    )


def _same_edge_pairs(
    sources: SnappedPoints, targets: SnappedPoints
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs on the same edge and their direct walk along it (both access legs included)."""
    src = pd.DataFrame({"edge": sources.edge, "s": np.arange(len(sources))})
    dst = pd.DataFrame({"edge": targets.edge, "t": np.arange(len(targets))})
    pairs = src.merge(dst, on="edge")
    s = pairs["s"].to_numpy()
    t = pairs["t"].to_numpy()
    along = np.abs(sources.offset_m[s] - targets.offset_m[t])
    direct = along + sources.access_m[s] + targets.access_m[t]
    return s, t, direct


def nearest(
    network: Network,
    sources: SnappedPoints,
    targets: SnappedPoints,
    *,
    cutoff_m: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Nearest source of every target, in one multi-source Dijkstra pass.

    Parameters
    ----------
    network
        The walking network.
    sources, targets
        Snapped points; those off the network take no part.
    cutoff_m
        Ignore walks longer than this, metres (None: no limit).

    Returns
    -------
    source_index : np.ndarray
        Position in ``sources`` of each target's nearest source, -1 where none.
    walk_m : np.ndarray
        The walk, metres, NaN where none within the cutoff or reachable.
    """
    limit = _check_cutoff(cutoff_m)
    best_src = np.full(len(targets), -1, dtype=np.int64)
    best = np.full(len(targets), np.inf)
    src_on = np.flatnonzero(sources.on_network)
    tgt_on = np.flatnonzero(targets.on_network)
    if src_on.size and tgt_on.size:
        src = sources.subset(src_on)
        tgt = targets.subset(tgt_on)
        n = network.n_nodes
        graph = _augmented_csr(network, src)
        dist, _, origin = csgraph.dijkstra(
            graph,
            directed=True,
            indices=np.arange(n, n + len(src)),
            limit=limit,
            min_only=True,
            return_predecessors=True,
        )
        u, v, to_u, to_v = _leg_to_ends(network, tgt)
        via_u = dist[u] + to_u
        via_v = dist[v] + to_v
        use_v = via_v < via_u
        walk = np.where(use_v, via_v, via_u)
        origin_node = np.where(use_v, origin[v], origin[u])
        which = np.where(np.isfinite(walk), origin_node - n, -1)
        s, t, direct = _same_edge_pairs(src, tgt)
        if s.size:
            order = np.lexsort((direct, t))
            s, t, direct = s[order], t[order], direct[order]
            first = np.concatenate(([True], t[1:] != t[:-1]))
            s, t, direct = s[first], t[first], direct[first]
            better = direct < walk[t]
            walk[t[better]] = direct[better]
            which[t[better]] = s[better]
        within = np.isfinite(walk) & (walk <= limit)  # inf <= inf when there is no cutoff
        best[tgt_on[within]] = walk[within]
        best_src[tgt_on[within]] = src_on[which[within]]
    best[~np.isfinite(best)] = np.nan
    return best_src, best


def node_distances(
    network: Network,
    sources: SnappedPoints,
    *,
    cutoff_m: float | None = None,
    chunk_bytes: int = CHUNK_BYTES,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Walk distances from each source to every node, in blocks of sources.

    Yields
    ------
    source_index : np.ndarray
        Positions in ``sources`` of this block (on-network sources only).
    dist_m : np.ndarray
        Block × nodes matrix of metres, ``inf`` beyond the cutoff or unreachable.
    """
    limit = _check_cutoff(cutoff_m)
    src_on = np.flatnonzero(sources.on_network)
    if src_on.size == 0:
        return
    src = sources.subset(src_on)
    n = network.n_nodes
    graph = _augmented_csr(network, src)
    block = max(1, int(chunk_bytes // (8 * (n + len(src)))))
    for start in range(0, len(src), block):
        stop = min(start + block, len(src))
        dist = csgraph.dijkstra(
            graph, directed=True, indices=np.arange(n + start, n + stop), limit=limit
        )
        yield src_on[start:stop], dist[:, :n]


def pairs_within(
    network: Network,
    sources: SnappedPoints,
    targets: SnappedPoints,
    *,
    cutoff_m: float,
    chunk_bytes: int = CHUNK_BYTES,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (source, target) pair within a walk of ``cutoff_m``.

    Memory grows with the pairs found and one block of sources × nodes, never with
    sources × nodes.

    Returns
    -------
    source_index, target_index : np.ndarray
        Positions in ``sources`` and ``targets``, sorted by source then target.
    walk_m : np.ndarray
        The walk of each pair, metres.
    """
    limit = _check_cutoff(cutoff_m)
    if not np.isfinite(limit):
        raise InputError("pairs_within needs a finite cutoff_m (metres).")
    tgt_on = np.flatnonzero(targets.on_network)
    src_on = np.flatnonzero(sources.on_network)
    if tgt_on.size == 0 or src_on.size == 0:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, np.empty(0)
    tgt = targets.subset(tgt_on)
    u, v, to_u, to_v = _leg_to_ends(network, tgt)
    found_s: list[np.ndarray] = []
    found_t: list[np.ndarray] = []
    found_w: list[np.ndarray] = []
    for block_src, dist in node_distances(
        network, sources, cutoff_m=limit, chunk_bytes=chunk_bytes
    ):
        reach_u = np.isfinite(dist[:, u])
        reach_v = np.isfinite(dist[:, v])
        rows, cols = np.nonzero(reach_u | reach_v)
        walk = np.minimum(dist[rows, u[cols]] + to_u[cols], dist[rows, v[cols]] + to_v[cols])
        ok = walk <= limit
        found_s.append(block_src[rows[ok]])
        found_t.append(tgt_on[cols[ok]])
        found_w.append(walk[ok])
    s, t, direct = _same_edge_pairs(sources.subset(src_on), tgt)
    ok = direct <= limit
    found_s.append(src_on[s[ok]])
    found_t.append(tgt_on[t[ok]])
    found_w.append(direct[ok])
    s_all = np.concatenate(found_s)
    t_all = np.concatenate(found_t)
    w_all = np.concatenate(found_w)
    order = np.lexsort((w_all, t_all, s_all))
    s_all, t_all, w_all = s_all[order], t_all[order], w_all[order]
    first = np.ones(s_all.shape[0], dtype=bool)  # the shortest walk of each pair
    first[1:] = (s_all[1:] != s_all[:-1]) | (t_all[1:] != t_all[:-1])
    return s_all[first], t_all[first], w_all[first]


def _as_snapped(network: Network, layer: Any, snap_cap_m: float, what: str) -> SnappedPoints:
    if isinstance(layer, SnappedPoints):
        return layer
    return snap_points(network, layer, snap_cap_m=snap_cap_m, what=what)


def nearest_facilities(
    network: Network,
    facilities: Any,
    residences: Any,
    *,
    cutoff_m: float | None = None,
    snap_cap_m: float = DEFAULT_SNAP_CAP_M,
) -> pd.DataFrame:
    """The nearest facility of every residence and the walk to it.

    Parameters
    ----------
    network
        The walking network.
    facilities, residences
        GeoDataFrames (ids from an ``id`` column, else the index) or `SnappedPoints`.
    cutoff_m
        Ignore walks longer than this, metres.
    snap_cap_m
        Points farther than this from the network are off it (reported, no distance).

    Returns
    -------
    pandas.DataFrame
        Indexed like ``residences``: ``facility_id`` and ``walk_m`` (NaN where no facility is
        within the cutoff or reachable). ``attrs["off_network"]`` lists the ids left off.
    """
    fac = _as_snapped(network, facilities, snap_cap_m, "facilities")
    res = _as_snapped(network, residences, snap_cap_m, "residences")
    which, walk_m = nearest(network, fac, res, cutoff_m=cutoff_m)
    index = residences.index if not isinstance(residences, SnappedPoints) else pd.Index(res.ids)
    out = pd.DataFrame({"facility_id": ids_at(fac.ids, which), "walk_m": walk_m}, index=index)
    out.attrs["off_network"] = _off_network(fac, res)
    return out


def catchments(
    network: Network,
    facilities: Any,
    residences: Any,
    *,
    cutoff_m: float,
    snap_cap_m: float = DEFAULT_SNAP_CAP_M,
) -> pd.DataFrame:
    """Every (facility, residence) pair within a walk of ``cutoff_m`` metres.

    Returns
    -------
    pandas.DataFrame
        Long table ``facility_id``, ``residence_id``, ``walk_m``, sorted by facility then
        residence (input order). ``attrs["off_network"]`` lists the ids left off.
    """
    fac = _as_snapped(network, facilities, snap_cap_m, "facilities")
    res = _as_snapped(network, residences, snap_cap_m, "residences")
    s, t, walk_m = pairs_within(network, fac, res, cutoff_m=cutoff_m)
    out = pd.DataFrame({"facility_id": fac.ids[s], "residence_id": res.ids[t], "walk_m": walk_m})
    out.attrs["off_network"] = _off_network(fac, res)
    return out


def ids_at(ids: np.ndarray, position: np.ndarray) -> Any:
    """``ids[position]`` as a pandas array, missing where ``position`` is -1."""
    found = position >= 0
    if np.issubdtype(ids.dtype, np.integer):
        out = pd.array(np.where(found, ids[np.where(found, position, 0)], 0), dtype="Int64")
        out[~found] = pd.NA
        return out
    values = np.full(position.shape[0], None, dtype=object)
    values[found] = ids[position[found]]
    return values


def _off_network(fac: SnappedPoints, res: SnappedPoints) -> dict[str, list[Any]]:
    return {
        "facilities": fac.ids[~fac.on_network].tolist(),
        "residences": res.ids[~res.on_network].tolist(),
    }


__all__ = [
    "catchments",
    "layer_ids",
    "nearest",
    "nearest_facilities",
    "node_distances",
    "pairs_within",
]
