"""Large unions of buffers: our cascade with holes set aside, and the memoised k-d union tree.

`_union_large` unions many polygons in groups of neighbours, setting aside the holes each group
closes (city blocks) and cutting them out again at the end by building rings. `_UnionTree` holds
lazily memoised unions of edge buffers over a binary k-d tree of the edges: an isochrone's wholly
reached edges are covered by its largest wholly reached subtrees. Geometry only: no network, no
walking. See ``docs/ARCHITECTURE.md``.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import shapely

_CASCADE_FAN: Final = 32
_NO_HOLES: Final = np.empty(0, dtype=object)
_LEAF_BLOCK: Final = 256  # edge buffers are drawn in k-d blocks of this many, when first needed


def _union_large(polys: np.ndarray) -> Any:
    """``union_all(polys)`` for large inputs (``polys`` in a spatially coherent order).

    GEOS's cascaded union hands every vertex to every level of its cascade, holes included. Here
    the cascade is ours, in groups of `_CASCADE_FAN` neighbours: after each group's union, the
    holes it closed (city blocks, mostly) are set aside -- they stay holes unless a later
    neighbour reaches into them, when they are put back before that union -- and all are cut out
    again at the end by building rings, not by another overlay. The point set is the same.
    One category's dissolved 5/10/15-minute bands on a 100,000-node city: 86 -> 56 s CPU
    (``bench/bench_bands.py``); below `planner.isochrones.build._LARGE_UNION_VERTICES` GEOS's own
    cascade is faster.
    """
    items = [(p, _NO_HOLES) for p in polys]
    while len(items) > 1:
        items = [
            _union_group(items[i : i + _CASCADE_FAN]) for i in range(0, len(items), _CASCADE_FAN)
        ]
    polygon, holes = items[0]
    return _with_holes(polygon, holes) if holes.shape[0] else polygon


def _union_group(items: list[tuple[Any, np.ndarray]]) -> tuple[Any, np.ndarray]:
    """Union of ``(polygon, set-aside holes)`` items, with the holes of the result set aside."""
    polys = np.array([p for p, _ in items], dtype=object)
    held = [h for _, h in items]
    kept = _NO_HOLES
    if any(h.shape[0] for h in held):
        holes = np.concatenate(held)
        owner = np.repeat(np.arange(len(items)), [h.shape[0] for h in held])
        shapely.prepare(polys)
        by, hole = shapely.STRtree(holes).query(polys, predicate="intersects")
        meets = np.zeros(holes.shape[0], dtype=bool)
        meets[hole[by != owner[hole]]] = True  # another polygon reaches in: put it back
        kept = holes[~meets]
        for i in np.unique(owner[meets]).tolist():
            polys[i] = _with_holes(polys[i], holes[meets & (owner == i)])
    filled, closed = _set_holes_aside(shapely.union_all(polys))
    return filled, np.concatenate((kept, closed))


def _set_holes_aside(polygon: Any) -> tuple[Any, np.ndarray]:
    """``polygon`` with its holes filled, and those holes; a hole holding an island stays."""
    parts = shapely.get_parts(polygon)
    rings, of_part = _interior_rings(parts)
    if rings.shape[0] == 0:
        return polygon, _NO_HOLES
    holes = shapely.polygons(rings)
    stays = np.zeros(holes.shape[0], dtype=bool)
    if parts.shape[0] > 1:
        shapely.prepare(holes)
        holding, _ = shapely.STRtree(shapely.point_on_surface(parts)).query(
            holes, predicate="contains"
        )
        stays[holding] = True
    filled = _polygons_from_rings(
        shapely.get_exterior_ring(parts), rings[stays], of_part[stays], parts.shape[0]
    )
    return (filled[0] if filled.shape[0] == 1 else shapely.multipolygons(filled)), holes[~stays]


def _interior_rings(parts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every hole ring of the polygons ``parts``, and the index of the part holding each."""
    n_rings = shapely.get_num_interior_rings(parts)
    of_part = np.repeat(np.arange(parts.shape[0]), n_rings)
    ranks = np.arange(of_part.shape[0]) - np.repeat(np.cumsum(n_rings) - n_rings, n_rings)
    return shapely.get_interior_ring(parts[of_part], ranks), of_part


def _polygons_from_rings(
    shells: np.ndarray, holes: np.ndarray, hole_of: np.ndarray, n: int
) -> np.ndarray:
    """``n`` polygons: shell ``i`` with the hole rings whose ``hole_of`` is ``i``."""
    of = np.concatenate((np.arange(n), hole_of))
    order = np.lexsort((np.arange(of.shape[0]), of))  # by polygon, its shell first
    out: np.ndarray = shapely.polygons(np.concatenate((shells, holes))[order], indices=of[order])
    return out


def _with_holes(polygon: Any, holes: np.ndarray) -> Any:
    """``polygon`` with ``holes`` cut out, each lying inside one of its parts clear of its holes."""
    parts = shapely.get_parts(polygon)
    if parts.shape[0] == 1:
        which = np.zeros(holes.shape[0], dtype=np.int64)
    else:
        shapely.prepare(parts)
        part, hole = shapely.STRtree(shapely.point_on_surface(holes)).query(
            parts, predicate="contains"
        )
        which = np.full(holes.shape[0], -1, dtype=np.int64)
        which[hole] = part
        if np.any(which < 0):  # a hole not found inside a part: let GEOS cut them all (exact too)
            return shapely.difference(polygon, shapely.union_all(holes))
    rings, of_part = _interior_rings(parts)
    out = _polygons_from_rings(
        shapely.get_exterior_ring(parts),
        np.concatenate((rings, shapely.get_exterior_ring(holes))),
        np.concatenate((of_part, which)),
        parts.shape[0],
    )
    return out[0] if out.shape[0] == 1 else shapely.multipolygons(out)


@dataclass(eq=False)
class _UnionTree:
    """Lazily memoised unions of edge buffers over a binary k-d tree of the edges."""

    order: np.ndarray  # edges in k-d order; tree nodes are ranges [lo, hi) of it
    rank: np.ndarray  # position of every edge in ``order``
    geometry: np.ndarray  # every edge's LineString (by edge index)
    buffer_m: float
    quad_segs: int
    leaves: np.ndarray  # buffer polygon of every edge (by edge index), None until needed
    memo: dict[tuple[int, int], Any] = field(default_factory=dict)

    def leaf(self, pos: int) -> Any:
        """The buffer of edge ``order[pos]``, drawn with its k-d neighbours on first use."""
        found = self.leaves[self.order[pos]]
        if found is None:
            block = self.order[pos - pos % _LEAF_BLOCK : pos - pos % _LEAF_BLOCK + _LEAF_BLOCK]
            self.leaves[block] = shapely.buffer(
                self.geometry[block], self.buffer_m, quad_segs=self.quad_segs
            )
            found = self.leaves[self.order[pos]]
        return found

    def polygon(self, lo: int, hi: int) -> Any:
        """Union of the buffers of ``order[lo:hi]`` (memoised, with all its subtrees)."""
        if hi - lo == 1:
            return self.leaf(lo)
        found = self.memo.get((lo, hi))
        if found is None:
            mid = (lo + hi) // 2
            found = shapely.union(self.polygon(lo, mid), self.polygon(mid, hi))
            self.memo[(lo, hi)] = found
        return found

    def cover(self, whole: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Polygons of the largest subtrees whose edges are all in ``whole`` (edge ids), and the
        k-d position where each starts."""
        ranks = np.sort(self.rank[whole]).tolist()
        out: list[Any] = []
        starts: list[int] = []
        stack = [(0, int(self.order.shape[0]))]
        while stack:
            lo, hi = stack.pop()
            k = bisect.bisect_left(ranks, hi) - bisect.bisect_left(ranks, lo)
            if k == 0:
                continue
            if k == hi - lo:
                out.append(self.polygon(lo, hi))
                starts.append(lo)
                continue
            mid = (lo + hi) // 2
            stack.append((lo, mid))
            stack.append((mid, hi))
        return np.asarray(out, dtype=object), np.asarray(starts, dtype=np.int64)
