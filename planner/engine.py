"""Exact walking distances between points on the network, on the CSR with scipy.sparse.csgraph.

A point lies on an edge at an offset, reached by a straight access leg. Each source point becomes a
virtual node with one-way arcs to its edge's two ends (access + walk along the edge), so a single
Dijkstra call gives exact point-to-node distances; a destination adds its own walk along its edge
and its access leg. Two points on the same edge may also walk straight along it.

`nearest` is one multi-source pass over the whole graph. `pairs_within` (catchments) uses that a
walk is never shorter than the straight line: sources are grouped on a grid of ``cutoff_m``
cells, and each group searches only the graph in the 3 × 3 cells around its own.

Two doors: the array functions (`nearest`, `pairs_within`, `node_distances`) take snapped points;
`nearest_facilities` and `catchments` take GeoDataFrames and only prepare the arrays.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Final

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse import csgraph

from planner.errors import InputError
from planner.network import Network
from planner.network import layer_ids_of as layer_ids
from planner.schema import DEFAULT_SNAP_CAP_M
from planner.snapping import SnappedPoints, snap_points

CHUNK_BYTES = 128 * 2**20
"""Memory for one block of distances: sources × nodes float64 (`node_distances`), or sources ×
(local nodes + nearby targets) float64 (`pairs_within`)."""


def _augmented_csr(network: Network, sources: SnappedPoints) -> sp.csr_matrix:
    """The network CSR plus one virtual node per source with arcs to its edge's two ends.

    ``sources`` must all be on the network. Virtual nodes have no incoming arcs, so no path can
    pass through one.
    """
    u, v, to_u, to_v = _leg_to_ends(network, sources)
    return _with_virtual_sources(network.csr, u, v, to_u, to_v)


def _with_virtual_sources(
    base: sp.csr_matrix, end_u: np.ndarray, end_v: np.ndarray, w_u: np.ndarray, w_v: np.ndarray
) -> sp.csr_matrix:
    """``base`` (n × n) plus virtual nodes n, n+1, ... with arcs to ``end_u`` and ``end_v``.

    Ends given as -1 get no arc. Where both ends are one node (a self-loop edge) the shorter
    arc is kept.
    """
    n = base.shape[0]
    k = end_u.shape[0]
    rows = np.tile(np.arange(k), 2)
    cols = np.concatenate((end_u, end_v))
    w = np.maximum(np.concatenate((w_u, w_v)), 1e-9)  # csgraph drops explicit zeros
    ok = cols >= 0
    rows, cols, w = rows[ok], cols[ok], w[ok]
    order = np.lexsort((w, cols, rows))
    rows, cols, w = rows[order], cols[order], w[order]
    first = np.ones(rows.shape[0], dtype=bool)
    first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    # The virtual rows, sorted by column, appended below the base rows: the CSR arrays are
    # stacked directly (a sparse sum of two padded matrices took 0.6 ms per call).
    indptr = np.concatenate(
        (base.indptr, base.indptr[-1] + np.cumsum(np.bincount(rows[first], minlength=k)))
    )
    indices = np.concatenate((base.indices, cols[first]))
    data = np.concatenate((base.data, w[first]))
    return sp.csr_matrix((data, indices, indptr), shape=(n + k, n + k))


def _subgraph(csr: sp.csr_matrix, nodes: np.ndarray, local: np.ndarray) -> sp.csr_matrix:
    """The CSR restricted to ``nodes`` (``local`` maps node -> position in ``nodes``, else -1)."""
    start = csr.indptr[nodes]
    counts = csr.indptr[nodes + 1] - start
    pos = np.repeat(start - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())
    col = local[csr.indices[pos]]
    keep = col >= 0
    row = np.repeat(np.arange(nodes.shape[0]), counts)[keep]
    indptr = np.concatenate(([0], np.cumsum(np.bincount(row, minlength=nodes.shape[0]))))
    m = nodes.shape[0]
    return sp.csr_matrix((csr.data[pos][keep], col[keep], indptr), shape=(m, m))


class _Cells:
    """Points binned on a square grid of ``size`` metres from the origin (x0, y0).

    ``width`` must exceed the largest row index of every grid compared, plus two.
    """

    def __init__(
        self, x: np.ndarray, y: np.ndarray, *, size: float, x0: float, y0: float, width: int
    ) -> None:
        self.ix = np.floor((x - x0) / size).astype(np.int64) + 1  # + 1: no cell has index -1
        self.iy = np.floor((y - y0) / size).astype(np.int64) + 1
        self.width = width
        key = self.ix * width + self.iy
        self.order = np.argsort(key, kind="stable")
        self.keys = key[self.order]

    def block(self, ix0: int, ix1: int, iy0: int, iy1: int) -> np.ndarray:
        """Positions of the points in the cells ``ix0..ix1`` × ``iy0..iy1`` (inclusive)."""
        iy0, iy1 = max(iy0, 0), min(iy1, self.width - 1)  # rows beyond the grid: no points
        parts = []
        for ix in range(ix0, ix1 + 1):  # one column of cells: keys ix * width + iy0..iy1
            first = np.searchsorted(self.keys, ix * self.width + iy0, side="left")
            stop = np.searchsorted(self.keys, ix * self.width + iy1, side="right")
            parts.append(self.order[first:stop])
        return np.concatenate(parts)

    def groups(self) -> Iterator[tuple[int, int, np.ndarray]]:
        """Each occupied cell (ix, iy) and the positions of the points in it."""
        for members in np.split(self.order, np.flatnonzero(np.diff(self.keys)) + 1):
            yield int(self.ix[members[0]]), int(self.iy[members[0]]), members


def _check_cutoff(cutoff_m: float | None) -> float:
    if cutoff_m is None:
        return np.inf
    if not np.isfinite(cutoff_m) or cutoff_m <= 0:
        raise InputError(
            f"cutoff_m must be a positive number of metres, not {cutoff_m!r}.",
            zh=f"cutoff_m 必须是正的米数，而不是 {cutoff_m!r}。",
        )
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
    sources: SnappedPoints, targets: SnappedPoints, *, by_target: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs on the same edge and their direct walk along it (both access legs included),
    sorted by source then target (``by_target``: by target then source)."""
    outer, inner = (targets, sources) if by_target else (sources, targets)
    if len(outer) == 0 or len(inner) == 0:
        none = np.empty(0, dtype=np.int64)
        return none, none, np.empty(0)
    # The inner points grouped by edge, found through a table over the edges: a gather per
    # outer point (searchsorted of unsorted keys costs ~50 ns a key; the gather ~1 ns).
    by_edge = np.argsort(inner.edge, kind="stable")
    per_edge = np.bincount(inner.edge, minlength=int(outer.edge.max()) + 1)
    k = per_edge[outer.edge]
    lo = (np.cumsum(per_edge) - per_edge)[outer.edge]
    i = np.repeat(np.arange(len(outer)), k)
    j = by_edge[np.repeat(lo - np.cumsum(k) + k, k) + np.arange(int(k.sum()))]
    s, t = (j, i) if by_target else (i, j)
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
        s, t, direct = _same_edge_pairs(src, tgt, by_target=True)
        if s.size:
            # Each target's shortest direct walk, from its first source on a tie.
            start = np.flatnonzero(np.concatenate(([True], t[1:] != t[:-1])))
            run = np.repeat(np.arange(start.shape[0]), np.diff(np.append(start, t.shape[0])))
            at = np.flatnonzero(direct == np.minimum.reduceat(direct, start)[run])
            first = at[np.concatenate(([True], run[at][1:] != run[at][:-1]))]
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

    A walk is never shorter than the straight line, so a source's search cannot leave the disc
    of radius ``cutoff_m`` around it. Sources are grouped on a grid of ``cutoff_m`` cells and
    each group searches only the graph within one cell of its own: the work and memory grow
    with the area each source reaches and the pairs found, never with sources × all nodes.

    Parameters
    ----------
    network
        The walking network.
    sources, targets
        Snapped points; those off the network take no part.
    cutoff_m
        The longest walk, metres (finite).
    chunk_bytes
        Memory for one block of sources × local nodes (and targets) float64 distances.

    Returns
    -------
    source_index, target_index : np.ndarray
        Positions in ``sources`` and ``targets``, sorted by source then target.
    walk_m : np.ndarray
        The walk of each pair, metres.
    """
    limit = _check_cutoff(cutoff_m)
    if not np.isfinite(limit):
        raise InputError(
            "pairs_within needs a finite cutoff_m (metres).",
            zh="pairs_within 需要有限的 cutoff_m（米）。",
        )
    tgt_on = np.flatnonzero(targets.on_network)
    src_on = np.flatnonzero(sources.on_network)
    empty = np.empty(0, dtype=np.int64)
    if tgt_on.size == 0 or src_on.size == 0:
        return empty, empty, np.empty(0)
    src = sources.subset(src_on)
    tgt = targets.subset(tgt_on)
    su, sv, from_u, from_v = _leg_to_ends(network, src)
    tu, tv, to_u, to_v = _leg_to_ends(network, tgt)

    # Two points on one edge may also walk straight along it.
    s, t, direct = _same_edge_pairs(src, tgt)
    ok = direct <= limit
    along = (s[ok], t[ok], direct[ok])

    n = network.n_nodes
    if len(src) * (n + len(src)) * 8 <= chunk_bytes:
        # Small enough for one search from every source over the whole graph.
        graph = _with_virtual_sources(network.csr, su, sv, from_u, from_v)
        dist = csgraph.dijkstra(
            graph, directed=True, indices=np.arange(n, n + len(src)), limit=limit
        )[:, :n]
        s_idx, t_idx, w_all = _expand_to_targets(dist, tu, tv, to_u, to_v, limit, along=along)
    else:
        s_idx, t_idx, w_all = _pairs_by_cells(
            network, src, tgt, su, sv, from_u, from_v, tu, tv, to_u, to_v, limit, chunk_bytes
        )
        s_idx, t_idx, w_all = _merge_along(s_idx, t_idx, w_all, along, tgt.ids.shape[0])
    # Positions in the inputs (the gathers are skipped when every point is on the network).
    if src_on.size < len(sources):
        s_idx = src_on[s_idx]
    if tgt_on.size < len(targets):
        t_idx = tgt_on[t_idx]
    return s_idx, t_idx, w_all


def _merge_along(
    s_idx: np.ndarray,
    t_idx: np.ndarray,
    w_all: np.ndarray,
    along: tuple[np.ndarray, np.ndarray, np.ndarray],
    n_t: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs sorted by (source, target) with the along-the-edge walks ``along`` merged in: the
    shorter walk where a pair is in both, the pair added where it is only in ``along``."""
    s, t, direct = along
    if not s.size:
        return s_idx, t_idx, w_all
    keys = s_idx * n_t + t_idx
    new_keys = s * n_t + t
    at = np.searchsorted(keys, new_keys)
    hit = at < keys.shape[0]
    hit[hit] = keys[at[hit]] == new_keys[hit]
    w_all[at[hit]] = np.minimum(w_all[at[hit]], direct[hit])
    if not hit.all():
        add = np.argsort(new_keys[~hit])
        where = at[~hit][add]
        s_idx = np.insert(s_idx, where, s[~hit][add])
        t_idx = np.insert(t_idx, where, t[~hit][add])
        w_all = np.insert(w_all, where, direct[~hit][add])
    return s_idx, t_idx, w_all


def _expand_to_targets(
    dist: np.ndarray,
    tu: np.ndarray,
    tv: np.ndarray,
    to_u: np.ndarray,
    to_v: np.ndarray,
    limit: float,
    *,
    along: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs (source row, target, walk) within ``limit`` from a sources × nodes distance block.

    Sorted by source, then target. Where sources reach many nodes the walk of every (source,
    target) cell is computed (`_dense_pairs`), else only those at reached nodes. ``along``:
    (source row, target, walk) of walks along a shared edge, sorted, within ``limit``, taken
    where shorter.
    """
    reached = dist <= limit
    share = np.count_nonzero(reached) / max(reached.size, 1)
    if share >= DENSE_FROM_REACHED:
        # About the share of nodes reached is the share of pairs found (DENSE_FROM_REACHED).
        expected = int(1.15 * share * dist.shape[0] * tu.shape[0])
        return _dense_pairs(dist, tu, tv, to_u, to_v, limit, along=along, expected=expected)
    n = dist.shape[1]
    n_t = tu.shape[0]
    rows, nodes = np.nonzero(reached)
    parts_s, parts_t = [], []
    for end, other_end_first in ((tu, False), (tv, True)):
        order = np.argsort(end, kind="stable")
        counts = np.bincount(end, minlength=n)
        first = np.cumsum(counts) - counts
        k = counts[nodes]
        t = order[np.repeat(first[nodes] - np.cumsum(k) + k, k) + np.arange(k.sum())]
        r = np.repeat(rows, k)
        if other_end_first:  # found through u already when u is within reach: skip
            fresh = ~reached[r, tu[t]]
            r, t = r[fresh], t[fresh]
        parts_s.append(r)
        parts_t.append(t)
    s_all = np.concatenate(parts_s)
    t_all = np.concatenate(parts_t)
    w_all = np.minimum(dist[s_all, tu[t_all]] + to_u[t_all], dist[s_all, tv[t_all]] + to_v[t_all])
    ok = w_all <= limit
    s_all, t_all, w_all = s_all[ok], t_all[ok], w_all[ok]
    order = np.argsort(s_all * n_t + t_all)
    found = s_all[order], t_all[order], w_all[order]
    return found if along is None else _merge_along(*found, along, n_t)


DENSE_FROM_REACHED: Final = 0.03
"""`_expand_to_targets` computes every (source, target) walk once sources reach this share of
the nodes: about 7 ns per cell against 140 ns per pair found through reached nodes (gathers and
a sort), and the pairs found are about the share reached; measured crossover 2-3.5 % on
Helsinki and Shanghai Jing'an (bench/RESULTS.md, 2026-12-02, "dense pairing")."""

DENSE_BLOCK_BYTES: Final = 4 * 2**20
"""`_dense_pairs` works on blocks of source rows whose two walk arrays take this much: on
Helsinki (200 × 20,000) the pairing took 55 ms in one block of all rows and 32 ms in blocks of
16 rows (5 MB), against 38 ms for the floor's pairing (bench/RESULTS.md, "dense pairing")."""


def _dense_pairs(
    dist: np.ndarray,
    tu: np.ndarray,
    tv: np.ndarray,
    to_u: np.ndarray,
    to_v: np.ndarray,
    limit: float,
    *,
    along: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    expected: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`_expand_to_targets` over every (source, target) cell, in blocks of source rows small
    enough for the CPU caches; the walks ``along`` a shared edge go into the blocks before the
    cutoff (no merge of sorted pairs afterwards).

    The blocks reuse three buffers and their pairs go straight into output arrays sized for
    ``expected`` pairs (grown when more are found). Fresh arrays per block, below the size
    numpy backs with huge pages, cost a page fault per 4 KB on every call: on Oakland's 3 M
    pairs 13,500 faults per call before, 3,700 now, and 57 -> 35 ms (bench/RESULTS.md,
    2026-12-02 13:34, "Dense pairing, page faults").
    """
    n_t = tu.shape[0]
    block = max(1, min(dist.shape[0], DENSE_BLOCK_BYTES // (16 * max(n_t, 1))))
    a_s, a_t, a_w = along if along is not None else (np.empty(0, np.int64),) * 2 + (np.empty(0),)
    walk_buf = np.empty((block, n_t))
    via_v_buf = np.empty((block, n_t))
    within_buf = np.empty((block, n_t), dtype=bool)
    out = _PairBuffer(expected)
    for start in range(0, dist.shape[0], block):
        rows = dist[start : start + block]
        m = rows.shape[0]
        walk, via_v, within = walk_buf[:m], via_v_buf[:m], within_buf[:m]
        # np.take into a C-order buffer (rows[:, tu] on a sliced block would be F order);
        # mode="clip" because take buffers ``out`` under the default mode="raise" (the ends
        # are valid node positions, so clipping changes nothing).
        np.take(rows, tu, axis=1, out=walk, mode="clip")
        walk += to_u
        np.take(rows, tv, axis=1, out=via_v, mode="clip")
        via_v += to_v
        np.minimum(walk, via_v, out=walk)
        lo, hi = np.searchsorted(a_s, (start, start + m))
        if hi > lo:
            at = (a_s[lo:hi] - start) * n_t + a_t[lo:hi]
            flat_walk = walk.reshape(-1)
            flat_walk[at] = np.minimum(flat_walk[at], a_w[lo:hi])
        np.less_equal(walk, limit, out=within)
        flat = np.flatnonzero(within)
        # Rows repeated by their counts: flat // n_t and flat % n_t would cost two integer
        # divisions per pair.
        row = np.repeat(np.arange(m), np.diff(np.searchsorted(flat, np.arange(m + 1) * n_t)))
        s_out, t_out, w_out = out.reserve(flat.shape[0])
        np.add(row, start, out=s_out)
        np.multiply(row, n_t, out=t_out)
        np.subtract(flat, t_out, out=t_out)
        np.take(walk.reshape(-1), flat, out=w_out, mode="clip")
    return out.arrays()


class _PairBuffer:
    """(source, target, walk) arrays filled block by block, grown by half when full."""

    def __init__(self, capacity: int) -> None:
        self.s = np.empty(max(capacity, 1024), dtype=np.int64)
        self.t = np.empty_like(self.s)
        self.w = np.empty(self.s.shape[0])
        self.n = 0

    def reserve(self, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Room for ``k`` more pairs: views of the arrays, to be written in place."""
        start, stop = self.n, self.n + k
        if stop > self.s.shape[0]:
            size = max(stop, self.s.shape[0] * 3 // 2)
            self.s, self.t, self.w = (_grown(a, start, size) for a in (self.s, self.t, self.w))
        self.n = stop
        return self.s[start:stop], self.t[start:stop], self.w[start:stop]

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The pairs: views, or copies when half of the room is unused."""
        s, t, w = self.s[: self.n], self.t[: self.n], self.w[: self.n]
        if self.n < self.s.shape[0] // 2:
            return s.copy(), t.copy(), w.copy()
        return s, t, w


def _grown(a: np.ndarray, used: int, size: int) -> np.ndarray:
    out = np.empty(size, dtype=a.dtype)
    out[:used] = a[:used]
    return out


_SOURCES_PER_CELL: Final = 2.0
"""Source cells are made as wide as 4 cutoffs while they still hold this many sources each on
average: each cell's subgraph is built once for all its sources, which pays off when sources
are dense and costs little when they are not (bench/RESULTS.md, 2026-11-28, "catchments by
source cell width")."""


def _source_cell_factor(x: np.ndarray, y: np.ndarray, x0: float, y0: float, size: float) -> int:
    """How many cutoff cells wide the source cells are: 1 to 4."""
    for k in (4, 3, 2):
        ix = np.floor((x - x0) / (k * size)).astype(np.int64)
        iy = np.floor((y - y0) / (k * size)).astype(np.int64)
        cells = np.unique(ix * (int(iy.max(initial=0)) + 1) + iy).shape[0]
        if x.shape[0] >= _SOURCES_PER_CELL * cells:
            return k
    return 1


def _pairs_by_cells(
    network: Network,
    src: SnappedPoints,
    tgt: SnappedPoints,
    su: np.ndarray,
    sv: np.ndarray,
    from_u: np.ndarray,
    from_v: np.ndarray,
    tu: np.ndarray,
    tv: np.ndarray,
    to_u: np.ndarray,
    to_v: np.ndarray,
    limit: float,
    chunk_bytes: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs within ``limit`` for large problems: sources grouped on a grid of cells 1-4 times
    ``limit`` wide, each group searching only the graph within ``limit`` cells of its own cell.
    Sorted by source, target."""
    empty = np.empty(0, dtype=np.int64)
    x0 = min(network.node_x.min(), src.x.min(), tgt.x.min())
    y0 = min(network.node_y.min(), src.y.min(), tgt.y.min())
    x1 = max(network.node_x.max(), src.x.max(), tgt.x.max())
    y1 = max(network.node_y.max(), src.y.max(), tgt.y.max())
    # Nodes and targets on cells at least cutoff_m wide (at most 2**20 along a side); sources on
    # cells k times as wide. A source cell searches its own cells and one ring of cells around:
    # nothing within cutoff_m of its sources lies farther out.
    size = max(limit, (x1 - x0) / 2**20, (y1 - y0) / 2**20)
    k = _source_cell_factor(src.x, src.y, x0, y0, size)
    src_cells = _Cells(
        src.x, src.y, size=k * size, x0=x0, y0=y0, width=int(np.floor((y1 - y0) / (k * size))) + 3
    )
    grid = {"size": size, "x0": x0, "y0": y0, "width": int(np.floor((y1 - y0) / size)) + 3}
    node_cells = _Cells(network.node_x, network.node_y, **grid)
    tgt_cells = _Cells(tgt.x, tgt.y, **grid)
    local = np.full(network.n_nodes + 1, -1, dtype=np.int64)  # [-1] stays -1

    # Each source's pairs come out as one run, sorted by target; runs are put in source order
    # at the end with one gather, never a sort over all pairs.
    found_t: list[np.ndarray] = [empty]
    found_w: list[np.ndarray] = [np.empty(0)]
    run_source: list[np.ndarray] = [empty]
    run_count: list[np.ndarray] = [empty]
    for ix, iy, members in src_cells.groups():
        # Fine cells of this source cell, indices shifted by one as _Cells does, plus one ring.
        span = ((ix - 1) * k, (ix - 1) * k + k + 1, (iy - 1) * k, (iy - 1) * k + k + 1)
        near_t = np.sort(tgt_cells.block(*span))
        if near_t.size == 0:
            continue
        nodes = node_cells.block(*span)
        m = nodes.shape[0]
        local[nodes] = np.arange(m)
        sub = _subgraph(network.csr, nodes, local)
        lu, lv = local[tu[near_t]], local[tv[near_t]]  # -1: outside, too far to matter
        block = max(1, int(chunk_bytes // (8 * (m + 1 + near_t.shape[0]) + 1)))
        members = np.sort(members)
        for start in range(0, members.shape[0], block):
            chunk = members[start : start + block]
            graph = _with_virtual_sources(
                sub, local[su[chunk]], local[sv[chunk]], from_u[chunk], from_v[chunk]
            )
            dist = np.full((chunk.shape[0], m + 1), np.inf)
            dist[:, :m] = csgraph.dijkstra(
                graph, directed=True, indices=np.arange(m, m + chunk.shape[0]), limit=limit
            )[:, :m]
            rows, cols, walk = _expand_to_targets(
                dist, lu % (m + 1), lv % (m + 1), to_u[near_t], to_v[near_t], limit
            )  # by source, then target; -1 (outside) maps to the all-inf column m
            found_t.append(near_t[cols])
            found_w.append(walk)
            run_source.append(chunk)
            run_count.append(np.bincount(rows, minlength=chunk.shape[0]))
        local[nodes] = -1

    runs = np.concatenate(run_source)
    counts = np.concatenate(run_count)
    starts = np.cumsum(counts) - counts
    in_order = np.argsort(runs, kind="stable")
    counts, starts = counts[in_order], starts[in_order]
    gather = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())
    s_idx = np.repeat(runs[in_order], counts)
    t_idx = np.concatenate(found_t)[gather]
    w_all = np.concatenate(found_w)[gather]
    return s_idx, t_idx, w_all


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

    Examples
    --------
    >>> import planner
    >>> network = planner.load_network("data/cn_beijing_haidian_cau_map.osm.bz2")
    >>> facilities = planner.read_facilities("data/haidian/facilities.gpkg")
    >>> residences = planner.read_residences("data/haidian/residences.gpkg")
    >>> centres = facilities[facilities["category"] == "community_service"]
    >>> nearest = planner.nearest_facilities(network, centres, residences)
    >>> nearest.iloc[0]["facility_id"], round(float(nearest.iloc[0]["walk_m"]), 1)
    ('n5672637049', 1960.8)
    """
    fac = _as_snapped(network, facilities, snap_cap_m, "facilities")
    res = _as_snapped(network, residences, snap_cap_m, "residences")
    which, walk_m = nearest(network, fac, res, cutoff_m=cutoff_m)
    index = residences.index if not isinstance(residences, SnappedPoints) else pd.Index(res.ids)
    # The columns are fresh arrays: the frame takes them as they are (copy=False).
    out = pd.DataFrame(
        {"facility_id": ids_at(fac.ids, which), "walk_m": walk_m}, index=index, copy=False
    )
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

    Examples
    --------
    >>> import planner
    >>> network = planner.load_network("data/cn_beijing_haidian_cau_map.osm.bz2")
    >>> facilities = planner.read_facilities("data/haidian/facilities.gpkg")
    >>> residences = planner.read_residences("data/haidian/residences.gpkg")
    >>> centres = facilities[facilities["category"] == "community_service"]
    >>> pairs = planner.catchments(network, centres, residences, cutoff_m=1000)
    >>> len(pairs), round(pairs["walk_m"].max()) <= 1000
    (16, True)
    """
    fac = _as_snapped(network, facilities, snap_cap_m, "facilities")
    res = _as_snapped(network, residences, snap_cap_m, "residences")
    s, t, walk_m = pairs_within(network, fac, res, cutoff_m=cutoff_m)
    # The columns are fresh arrays: copy=False lets the frame take them as they are instead of
    # copying the two id columns into one block (21 -> 7 ms for 3 M pairs on Oakland).
    out = pd.DataFrame(
        {"facility_id": fac.ids[s], "residence_id": res.ids[t], "walk_m": walk_m}, copy=False
    )
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
