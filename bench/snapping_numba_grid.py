"""The snapping alternative measured and not adopted: a numba kernel over a grid of cells.

Run from the repository root (numba is not a planner dependency: ``pip install numba`` first)::

    python bench/bench_snapping.py --numba-grid              # appends to bench/RESULTS.md
    python bench/bench_snapping.py --numba-grid --no-results

Not a ``bench_*.py`` script, so `run_all.py` leaves it out (like bench_engine's peers, it needs a
package planner does not install).

Issue 19 asks for exact snapping at about the cost of the floor's nearest-node query. The
snapping index's k-d tree query cannot get there (bench_snapping.py). A compiled loop can: the
index's segments are registered in every grid cell their bounding box touches, and each point
visits the rings of cells around its own, nearest first, testing every segment registered there,
until the distance to the outside of the rings visited is at least the best distance found.
The answer is exact: a nearer segment would have a point inside the rings, so it would be
registered in a cell already visited.

Per real network (bench_engine's cases, 20,000 residences within 200 m of the edges), CPU
medians of interleaved rounds: the floor's node query, `SegmentIndex.nearest`, and the kernel at
several cell sizes, with the share of points snapped to the same edge at the same distance.
Then what the kernel costs each process before its first answer: importing numba and loading
the compiled kernel from numba's cache, and compiling it when the cache is empty (fresh
processes).
"""

from __future__ import annotations

import functools
import json
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import _harness as h
import numpy as np
from bench_engine import DATA, SIDE_CASES, _layer
from bench_snapping import _rounds
from scipy.spatial import cKDTree

import planner
from planner import snapping

CELLS_M = (20.0, 30.0, 50.0, 80.0)
"""Cell sizes tried on every network."""


@functools.cache
def _kernel() -> Any:
    """The kernel, compiled (or loaded from numba's cache) on first use."""
    import numba

    @numba.njit(cache=True, nogil=True)  # type: ignore[misc]
    def nearest_in_grid(
        px: np.ndarray,
        py: np.ndarray,
        data: np.ndarray,
        seg_of: np.ndarray,
        start: np.ndarray,
        gx0: float,
        gy0: float,
        size: float,
        nx: int,
        ny: int,
        max_ring: int,
        out_seg: np.ndarray,
    ) -> None:
        for i in range(px.shape[0]):
            x, y = px[i], py[i]
            ix, iy = int(math.floor((x - gx0) / size)), int(math.floor((y - gy0) / size))
            best, best_s = np.inf, -1
            for r in range(max_ring + 1):
                for cx in range(max(ix - r, 0), min(ix + r, nx - 1) + 1):
                    left = gx0 + cx * size
                    gx = max(left - x, 0.0, x - left - size)
                    if gx * gx >= best:
                        continue
                    full = cx == ix - r or cx == ix + r
                    cy = iy - r
                    while cy <= iy + r:
                        if 0 <= cy < ny:
                            low = gy0 + cy * size
                            gy = max(low - y, 0.0, y - low - size)
                            if gx * gx + gy * gy < best:
                                c = cx * ny + cy
                                for j in range(start[c], start[c + 1]):
                                    ax, ay = x - data[j, 0], y - data[j, 1]
                                    t = (ax * data[j, 2] + ay * data[j, 3]) * data[j, 4]
                                    t = min(max(t, 0.0), 1.0)
                                    ex, ey = ax - t * data[j, 2], ay - t * data[j, 3]
                                    d2 = ex * ex + ey * ey
                                    if d2 < best or (d2 == best and seg_of[j] < best_s):
                                        best, best_s = d2, seg_of[j]
                        cy += 1 if full or r == 0 else 2 * r
                bound = min(
                    x - (gx0 + (ix - r) * size),
                    gx0 + (ix + r + 1) * size - x,
                    y - (gy0 + (iy - r) * size),
                    gy0 + (iy + r + 1) * size - y,
                )
                if best <= bound * bound:
                    break
            out_seg[i] = best_s

    return nearest_in_grid


class GridSnap:
    """The index's segments registered in square cells of ``size`` metres."""

    def __init__(self, index: snapping.SegmentIndex, size: float) -> None:
        x0, y0, dx, dy = index._x0, index._y0, index._dx, index._dy
        xa, xb = np.minimum(x0, x0 + dx), np.maximum(x0, x0 + dx)
        ya, yb = np.minimum(y0, y0 + dy), np.maximum(y0, y0 + dy)
        self.gx0, self.gy0, self.size = float(xa.min()), float(ya.min()), float(size)
        self.nx = int((xb.max() - self.gx0) // size) + 1
        self.ny = int((yb.max() - self.gy0) // size) + 1
        cx0, cx1 = ((xa - self.gx0) // size).astype(np.int64), ((xb - self.gx0) // size)
        cy0, cy1 = ((ya - self.gy0) // size).astype(np.int64), ((yb - self.gy0) // size)
        wy = cy1.astype(np.int64) - cy0 + 1
        count = (cx1.astype(np.int64) - cx0 + 1) * wy
        seg = np.repeat(np.arange(x0.shape[0]), count)
        k = np.arange(seg.shape[0]) - np.repeat(np.cumsum(count) - count, count)
        cell = (cx0[seg] + k // wy[seg]) * self.ny + cy0[seg] + k % wy[seg]
        order = np.lexsort((seg, cell))
        self.seg_of = seg[order]
        self.data = np.column_stack((x0, y0, dx, dy, index._inv_len2))[
            self.seg_of
        ]  # one row per registration, in cell order
        self.start = np.zeros(self.nx * self.ny + 1, dtype=np.int64)
        np.cumsum(np.bincount(cell, minlength=self.nx * self.ny), out=self.start[1:])
        self.index = index
        self.kernel = _kernel()

    def nearest(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Segment and distance (m, computed as the index does) of each point."""
        seg = np.empty(x.shape[0], dtype=np.int64)
        rings = max(self.nx, self.ny)
        self.kernel(
            x, y, self.data, self.seg_of, self.start, self.gx0, self.gy0, self.size,
            self.nx, self.ny, rings, seg,
        )  # fmt: skip
        _, access = self.index._on_segment(seg, x - self.index._x0[seg], y - self.index._y0[seg])
        return seg, access


def network_row(case: str, file: str, n_res: int, rounds: int) -> list[str]:
    network = planner.load_network(DATA / file)
    res = _layer(network, n_res, seed=2)
    x, y = res.geometry.x.to_numpy(), res.geometry.y.to_numpy()
    index = snapping.segment_index(network)
    edge, _, access = index.nearest(x, y)
    nodes = cKDTree(np.column_stack((network.node_x, network.node_y)))
    xy = np.column_stack((x, y))
    grids = {size: GridSnap(index, size) for size in CELLS_M}
    same = {}
    for size, grid in grids.items():
        seg, dist = grid.nearest(x, y)
        same[size] = np.mean((index._edge[seg] == edge) & (np.abs(dist - access) <= 1e-9))
    ways = {"node query": lambda: nodes.query(xy, workers=1), "index": lambda: index.nearest(x, y)}
    ways |= {f"grid {size:g}": (lambda g=grid: g.nearest(x, y)) for size, grid in grids.items()}
    with snapping._openmp_threads(1):
        got = _rounds(ways, rounds)
    c = {name: v["cpu"] for name, v in got.items()}
    best = min(CELLS_M, key=lambda size: c[f"grid {size:g}"])
    return [
        case,
        f"{c['node query']:.2f} ms",
        f"{c['index']:.2f} ms ({c['index'] / c['node query']:.2f}×)",
    ] + [
        f"{c[f'grid {size:g}']:.2f} ms{' **best**' if size == best else ''} "
        f"({same[size] * 100:.2f} %)"
        for size in CELLS_M
    ]


_START_UP = """
import json, time
import numpy as np
import snapping_numba_grid as b  # planner and the bench's modules: not counted
t0 = time.perf_counter()
import numba
t1 = time.perf_counter()
k = b._kernel()
seg = np.empty(1, dtype=np.int64)
k(np.zeros(1), np.zeros(1), np.zeros((1, 5)), np.zeros(1, np.int64), np.array([0, 1]),
  0.0, 0.0, 1.0, 1, 1, 1, seg)
t2 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "first_call_s": t2 - t1}))
"""


def start_up_rows(runs: int = 3) -> list[list[str]]:
    """numba's import and the kernel's first call in fresh processes: cold cache, then warm."""
    rows = []
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        bench = str(Path(__file__).resolve().parent)
        for label in ["empty cache (compiles)"] + ["numba's cache filled"] * runs:
            out = subprocess.run(
                [sys.executable, "-c", _START_UP], cwd=bench, env=env, check=True,
                capture_output=True, text=True,
            ).stdout  # fmt: skip
            got = json.loads(out.strip().splitlines()[-1])
            rows.append(
                [
                    label,
                    f"{got['import_s'] * 1e3:.0f} ms",
                    f"{got['first_call_s'] * 1e3:.0f} ms",
                    f"{(got['import_s'] + got['first_call_s']) * 1e3:.0f} ms",
                ]
            )
            print(" | ".join(rows[-1]), flush=True)
    return rows


def section(rounds: int) -> str:
    """The tables of `python bench/bench_snapping.py --numba-grid`, as one RESULTS.md body."""
    rows = []
    for case, (file, _n_fac, n_res) in SIDE_CASES.items():
        if case != "district":  # the district is jingan's network again
            rows.append(network_row(case, file, n_res, rounds))
            print(" | ".join(rows[-1]), flush=True)
    start_up = start_up_rows()
    return "\n\n".join(
        [
            f"20,000 residences within 200 m of the edges, CPU medians of {rounds} "
            "interleaved rounds in one process, one thread. Node query: the floor's (cKDTree, "
            "k = 1). Index: `SegmentIndex.nearest` (pykdtree, what planner runs). Grid: the "
            "numba kernel by cell size; in brackets the points snapped to the same edge at "
            "the same distance (to 1e-9 m) as the index, the rest being ties where edges meet.",
            h.markdown_table(
                ["network", "node query", "index"] + [f"grid, {s:g} m cells" for s in CELLS_M],
                rows,
            ),
            "What the kernel costs a process before its first answer (fresh processes, wall):",
            h.markdown_table(["numba's cache", "import numba", "first call", "together"], start_up),
        ]
    )
