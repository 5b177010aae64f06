"""Snapping's k-d tree: pykdtree against scipy's cKDTree on the same index, and its threads.

Run from the repository root::

    python bench/bench_snapping.py              # appends to bench/RESULTS.md
    python bench/bench_snapping.py --rounds 5 --no-results

Per real network in data/ (bench_engine's side-by-side cases, 20,000 residences within 200 m of
the edges), interleaved round by round in one process, CPU medians: the floor's nearest-node
query (cKDTree, and pykdtree for comparison), the snapping index's first query (k = 3 in 3-d,
points in spatial order) on cKDTree and on pykdtree, and the whole `SegmentIndex.nearest`. Then
pykdtree's OpenMP threads: the same query of 2,000, 20,000 and 200,000 points on one thread and
on every thread (wall and CPU), which is where `planner.snapping.THREADS_FROM_POINTS` comes from.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import statistics
import time
from collections.abc import Callable
from typing import Any

import _harness as h
import numpy as np
from bench_engine import DATA, SIDE_CASES, _layer
from pykdtree.kdtree import KDTree
from scipy.spatial import cKDTree

import planner
from planner import snapping


def _rounds(ways: dict[str, Callable[[], Any]], rounds: int) -> dict[str, dict[str, float]]:
    """Median wall and CPU (ms) of each way, the ways interleaved round by round."""
    wall: dict[str, list[float]] = collections.defaultdict(list)
    cpu: dict[str, list[float]] = collections.defaultdict(list)
    for _ in range(rounds):
        for name, fn in ways.items():
            w, c = time.perf_counter(), time.process_time()
            fn()
            wall[name].append(time.perf_counter() - w)
            cpu[name].append(time.process_time() - c)
    return {
        name: {
            "wall": statistics.median(wall[name]) * 1e3,
            "cpu": statistics.median(cpu[name]) * 1e3,
        }
        for name in ways
    }


def _sorted_query(index: snapping.SegmentIndex, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The 3-d query points of `SegmentIndex._candidates`, in the spatial order it uses."""
    cell = np.floor((np.column_stack((x, y)) - index._origin) / 100.0).astype(np.int64)
    order = np.argsort(cell[:, 0] * 2**32 + cell[:, 1])
    xs, ys = x[order] - index._origin[0], y[order] - index._origin[1]
    return np.column_stack((xs, ys, np.zeros_like(xs)))


def network_rows(rounds: int) -> list[list[str]]:
    rows = []
    for case, (file, _n_fac, n_res) in SIDE_CASES.items():
        if case != "district":  # the district is jingan's network again
            rows.append(_network_row(case, file, n_res, rounds))
            print(" | ".join(rows[-1]), flush=True)
    return rows


def _network_row(case: str, file: str, n_res: int, rounds: int) -> list[str]:
    network = planner.load_network(DATA / file)
    res = _layer(network, n_res, seed=2)
    x, y = res.geometry.x.to_numpy(), res.geometry.y.to_numpy()
    index = snapping.segment_index(network)
    entries = index._entries
    query = _sorted_query(index, x, y)
    xy = np.column_stack((x, y))
    nodes_xy = np.column_stack((network.node_x, network.node_y))
    node_ck, node_pk, seg_ck = cKDTree(nodes_xy), KDTree(nodes_xy), cKDTree(entries)
    k = snapping.K_FIRST
    with snapping._openmp_threads(1):
        got = _rounds(
            {
                "node cKDTree": lambda: node_ck.query(xy, workers=1),
                "node pykdtree": lambda: node_pk.query(xy),
                "index cKDTree": lambda: seg_ck.query(query, k=k, workers=1),
                "index pykdtree": lambda: index._tree.query(query, k=k, sqr_dists=True),
                "nearest": lambda: index.nearest(x, y),
            },
            rounds,
        )
    c = {name: v["cpu"] for name, v in got.items()}
    return [
        case,
        f"{network.n_nodes:,}",
        f"{entries.shape[0]:,}",
        f"{c['node cKDTree']:.1f} ms",
        f"{c['node pykdtree']:.1f} ms",
        f"{c['index cKDTree']:.1f} ms",
        f"{c['index pykdtree']:.1f} ms ({c['index cKDTree'] / c['index pykdtree']:.2f}×)",
        f"{c['nearest']:.1f} ms ({c['nearest'] / c['node cKDTree']:.2f}×)",
    ]


def thread_rows(rounds: int) -> list[list[str]]:
    network = planner.load_network(DATA / SIDE_CASES["helsinki"][0])
    index = snapping.segment_index(network)
    rows = []
    for n in (2_000, 20_000, 200_000):
        x, y = h.points_near_edges(network, n, max_m=200.0, seed=3)
        query = _sorted_query(index, x, y)

        def on(threads: int | None, q: np.ndarray = query) -> Callable[[], Any]:
            def run() -> Any:
                with snapping._openmp_threads(threads):
                    return index._tree.query(q, k=snapping.K_FIRST, sqr_dists=True)

            return run

        got = _rounds({"one": on(1), "every": on(None)}, rounds)
        one, every = got["one"], got["every"]
        rows.append(
            [
                f"{n:,}",
                f"{one['wall']:.2f} / {one['cpu']:.2f} ms",
                f"{every['wall']:.2f} / {every['cpu']:.2f} ms",
                f"{one['wall'] / every['wall']:.2f}×",
            ]
        )
        print(" | ".join(rows[-1]), flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15, help="interleaved rounds per way")
    parser.add_argument(
        "--no-results", action="store_true", help="do not append to bench/RESULTS.md"
    )
    args = parser.parse_args(argv)
    started = dt.datetime.now().astimezone()
    print(f"bench_snapping; {h.machine_line()}", flush=True)
    nets = network_rows(args.rounds)
    load_before = h.load1()
    threads = thread_rows(args.rounds)
    body = "\n\n".join(
        [
            "20,000 residences within 200 m of the edges, CPU medians of "
            f"{args.rounds} interleaved rounds in one process, one thread. Index: the snapping "
            "index's entries (segments of at most 20 m and vertices); its query reads "
            f"k = {snapping.K_FIRST} entries in 3-d with the points in spatial order. "
            "× after pykdtree: cKDTree / pykdtree; × after `nearest`: the whole "
            "`SegmentIndex.nearest` against the floor's node query (cKDTree).",
            h.markdown_table(
                [
                    "network",
                    "nodes",
                    "index entries",
                    "node query, cKDTree (the floor's)",
                    "node query, pykdtree",
                    "index query, cKDTree",
                    "index query, pykdtree",
                    "`SegmentIndex.nearest`",
                ],
                nets,
            ),
            "pykdtree's OpenMP threads, Helsinki's index (2 cores; 1-minute load "
            f"{load_before:.2f} before): wall / CPU, medians of {args.rounds} interleaved rounds.",
            h.markdown_table(
                ["points", "one thread", "every thread", "one / every (wall)"], threads
            ),
        ]
    )
    print(body)
    if not args.no_results:
        path = h.append_results(
            "bench_snapping: the snapping index's k-d tree", body, started=started
        )
        print(f"\nResults appended to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
