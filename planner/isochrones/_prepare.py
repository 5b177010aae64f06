"""Per-network preparation of the isochrones, cached while the network object lives.

Every edge's vertices in one flat array (`_EdgeCoords`), the edges at every node, the k-d order
of the edges and the union trees (`planner.isochrones._union._UnionTree`) per buffer; cutting edge
pieces along the real geometry (`_substrings`).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field

import numpy as np
import shapely

from planner.isochrones._union import _UnionTree
from planner.network import Network


@dataclass(eq=False)
class _EdgeCoords:
    """Every edge's vertices in one flat array, with the distance along the edge at each vertex."""

    xy: np.ndarray  # (n_vertices, 2)
    start: np.ndarray  # (n_edges + 1,) first vertex of each edge
    along: np.ndarray  # (n_vertices,) metres along its edge
    key: np.ndarray  # (n_vertices,) globally non-decreasing: along + base of its edge
    base: np.ndarray  # (n_edges,)
    length: np.ndarray  # (n_edges,) geometric length, metres


@dataclass(eq=False)
class _Prepared:
    coords: _EdgeCoords
    order: np.ndarray
    incident: tuple[np.ndarray, np.ndarray]  # (start per node, edges): the edges at each node
    trees: dict[tuple[float, int], _UnionTree] = field(default_factory=dict)


_PREPARED: weakref.WeakKeyDictionary[Network, _Prepared] = weakref.WeakKeyDictionary()


def _prepared(network: Network) -> _Prepared:
    found = _PREPARED.get(network)
    if found is None:
        found = _Prepared(
            coords=_edge_coords(network), order=_kd_order(network), incident=_incidence(network)
        )
        _PREPARED[network] = found
    return found


def _forget(network: Network | None = None) -> None:
    """Drop the cached preparation of one network (or of all): the next call starts cold."""
    if network is None:
        _PREPARED.clear()
    else:
        _PREPARED.pop(network, None)


def _union_tree(network: Network, buffer_m: float, quad_segs: int) -> _UnionTree:
    prep = _prepared(network)
    key = (float(buffer_m), int(quad_segs))
    tree = prep.trees.get(key)
    if tree is None:
        tree = _UnionTree(
            order=prep.order,
            rank=np.argsort(prep.order),
            geometry=network.edge_geometry,
            buffer_m=float(buffer_m),
            quad_segs=int(quad_segs),
            leaves=np.full(network.n_edges, None, dtype=object),
        )
        prep.trees[key] = tree
    return tree


def _incidence(network: Network) -> tuple[np.ndarray, np.ndarray]:
    """The edges at every node, as (start per node, edge ids) of a compressed list."""
    ends = np.concatenate((network.edge_u, network.edge_v))
    order = np.argsort(ends, kind="stable")
    start = np.searchsorted(ends[order], np.arange(network.n_nodes + 1))
    return start, np.concatenate((np.arange(network.n_edges),) * 2)[order]


def _edge_coords(network: Network) -> _EdgeCoords:
    xy, owner = shapely.get_coordinates(network.edge_geometry, return_index=True)
    n_edges = network.n_edges
    counts = np.bincount(owner, minlength=n_edges)
    start = np.concatenate(([0], np.cumsum(counts)))
    step = np.hypot(np.diff(xy[:, 0], prepend=xy[0, 0]), np.diff(xy[:, 1], prepend=xy[0, 1]))
    step[start[:-1]] = 0.0
    cum = np.cumsum(step)
    along = cum - np.repeat(cum[start[:-1]], counts)
    length = along[start[1:] - 1]
    # A key that grows along each edge and from one edge to the next (1 m gap between edges).
    base = np.concatenate(([0.0], np.cumsum(length[:-1] + 1.0)))
    key = along + np.repeat(base, counts)
    return _EdgeCoords(xy=xy, start=start, along=along, key=key, base=base, length=length)


def _kd_order(network: Network) -> np.ndarray:
    """Edges ordered so that every range ``[lo, hi)`` of the tree's binary split is a k-d cell.

    Each range is sorted along the wider side of its edges' bounding-box centres and split at its
    middle, level by level: subtrees are spatially compact, so their unions overlap little.
    """
    bounds = shapely.bounds(network.edge_geometry)
    cx = (bounds[:, 0] + bounds[:, 2]) / 2.0
    cy = (bounds[:, 1] + bounds[:, 3]) / 2.0
    n = cx.shape[0]
    order = np.arange(n)
    starts = np.array([0])  # start of every range at this level
    while True:
        sizes = np.diff(np.append(starts, n))
        if sizes.max() <= 1:
            return order
        seg = np.repeat(np.arange(starts.shape[0]), sizes)
        x, y = cx[order], cy[order]
        wide_x = (np.maximum.reduceat(x, starts) - np.minimum.reduceat(x, starts)) >= (
            np.maximum.reduceat(y, starts) - np.minimum.reduceat(y, starts)
        )
        key = np.where(wide_x[seg], x, y)
        order = order[np.lexsort((key, seg))]
        mids = starts + sizes // 2
        split = sizes > 1
        starts = np.sort(np.concatenate((starts, mids[split])))


def _substrings(ec: _EdgeCoords, edge: np.ndarray, s0: np.ndarray, s1: np.ndarray) -> np.ndarray:
    """LineStrings of edge pieces ``[s0, s1]`` (metres along each edge), along the real geometry."""
    if edge.shape[0] == 0:
        return np.empty(0, dtype=object)
    length = ec.length[edge]
    s0 = np.clip(s0, 0.0, length)
    s1 = np.clip(s1, s0, length)
    base = ec.base[edge]
    first = ec.start[edge]
    last = ec.start[edge + 1] - 1
    # Vertices strictly inside (s0, s1), and the segments holding the two cut points.
    i0 = np.searchsorted(ec.key, base + s0, side="right")
    i1 = np.searchsorted(ec.key, base + s1, side="left")
    i0 = np.clip(i0, first + 1, last)
    i1 = np.clip(i1, i0, last)
    p0 = _point_along(ec, i0, s0)
    p1 = _point_along(ec, np.maximum(i1, first + 1), s1)
    inner = np.maximum(i1 - i0, 0)
    n_coords = inner + 2
    piece = np.repeat(np.arange(edge.shape[0]), n_coords)
    pos = np.arange(piece.shape[0]) - np.repeat(np.cumsum(n_coords) - n_coords, n_coords)
    xy = np.empty((piece.shape[0], 2))
    is_first = pos == 0
    is_last = pos == n_coords[piece] - 1
    mid = ~(is_first | is_last)
    xy[is_first] = p0
    xy[is_last] = p1
    xy[mid] = ec.xy[i0[piece[mid]] + pos[mid] - 1]
    lines: np.ndarray = shapely.linestrings(xy, indices=piece)
    return lines


def _point_along(ec: _EdgeCoords, i: np.ndarray, s: np.ndarray) -> np.ndarray:
    """The point at ``s`` metres along the segment ending at vertex ``i`` (of the same edge)."""
    a = ec.along[i - 1]
    b = ec.along[i]
    span = b - a
    t = np.where(span > 0, (s - a) / np.where(span > 0, span, 1.0), 0.0)
    t = np.clip(t, 0.0, 1.0)[:, None]
    point: np.ndarray = ec.xy[i - 1] * (1.0 - t) + ec.xy[i] * t
    return point
