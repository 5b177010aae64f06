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
Last, the first query by the order of the query points, and the second query's k on the points
the first did not prove (`planner.snapping.K_WIDE`). ``--numba-grid`` measures instead the
compiled grid kernel that was not adopted (bench/snapping_numba_grid.py; needs numba).
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import statistics
import sys
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


def _sorted_query(
    index: snapping.SegmentIndex, x: np.ndarray, y: np.ndarray, order: np.ndarray | None = None
) -> np.ndarray:
    """The 3-d query points of `SegmentIndex._candidates`, in the spatial order it uses (or
    in ``order``)."""
    if order is None:
        order = np.argsort(snapping._z_order(x, y, cell_m=10.0))
    xs, ys = x[order] - index._origin[0], y[order] - index._origin[1]
    return np.column_stack((xs, ys, np.zeros_like(xs)))


def _strips(index: snapping.SegmentIndex, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The order used before the Z-order: strips of 100 m cells."""
    cell = np.floor((np.column_stack((x, y)) - index._origin) / 100.0).astype(np.int64)
    return np.argsort(cell[:, 0] * 2**32 + cell[:, 1])


def order_and_second_rows(rounds: int) -> tuple[list[list[str]], list[list[str]]]:
    """Per network: the first query's time by query order, and the second query's time and
    the points it leaves unproven by its k (on the points the first did not prove)."""
    orders, seconds = [], []
    for case, (file, _n_fac, n_res) in SIDE_CASES.items():
        if case != "district":
            order_row, second_row = _order_and_second_row(case, file, n_res, rounds)
            orders.append(order_row)
            seconds.append(second_row)
            print(" | ".join(order_row), "||", " | ".join(second_row), flush=True)
    return orders, seconds


SECOND_KS = (4, 6, 8, 12, 16)


def _order_and_second_row(
    case: str, file: str, n_res: int, rounds: int
) -> tuple[list[str], list[str]]:
    network = planner.load_network(DATA / file)
    res = _layer(network, n_res, seed=2)
    x, y = res.geometry.x.to_numpy(), res.geometry.y.to_numpy()
    index = snapping.segment_index(network)
    k = snapping.K_FIRST
    queries = {
        "input order": _sorted_query(index, x, y, np.arange(x.shape[0])),
        "strips of 100 m": _sorted_query(index, x, y, _strips(index, x, y)),
        "Z-order, 10 m": _sorted_query(index, x, y),
    }
    order = np.argsort(snapping._z_order(x, y, cell_m=10.0))
    xs, ys = x[order], y[order]
    wide = np.flatnonzero(~index._candidates(xs, ys, k)[3])
    wx, wy = xs[wide], ys[wide]

    def first(q: np.ndarray) -> Callable[[], Any]:
        return lambda: index._tree.query(q, k=k, sqr_dists=True)

    def second(kk: int) -> Callable[[], Any]:
        return lambda: index._candidates(wx, wy, kk)

    ways = {name: first(q) for name, q in queries.items()}
    ways |= {f"k{kk}": second(kk) for kk in SECOND_KS}
    with snapping._openmp_threads(1):
        got = _rounds(ways, rounds)
    left = {kk: int((~index._candidates(wx, wy, kk)[3]).sum()) for kk in SECOND_KS}
    return (
        [case] + [f"{got[name]['cpu']:.2f} ms" for name in queries],
        [case, f"{wide.size:,}"]
        + [f"{got[f'k{kk}']['cpu']:.2f} ms ({left[kk]})" for kk in SECOND_KS],
    )


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
    parser.add_argument(
        "--numba-grid",
        action="store_true",
        help="instead, the compiled grid kernel measured and not adopted (needs numba; "
        "bench/snapping_numba_grid.py)",
    )
    args = parser.parse_args(argv)
    started = dt.datetime.now().astimezone()
    if args.numba_grid:
        return _numba_grid(args.rounds, not args.no_results, started)
    print(f"bench_snapping; {h.machine_line()}", flush=True)
    nets = network_rows(args.rounds)
    load_before = h.load1()
    threads = thread_rows(args.rounds)
    orders, seconds = order_and_second_rows(args.rounds)
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
            f"The first query (k = {snapping.K_FIRST}, pykdtree, one thread) by the order of "
            "the query points, CPU medians:",
            h.markdown_table(
                ["network", "input order", "strips of 100 m", "Z-order, 10 m"], orders
            ),
            "Snapping: second query. On the points the first query did not prove, the second "
            "query and its candidate arithmetic by the entries it reads (`K_WIDE`), CPU "
            "medians; in brackets the points still unproven, left to shapely's STRtree:",
            h.markdown_table(
                ["network", "points unproven by the first"] + [f"k = {k}" for k in SECOND_KS],
                seconds,
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


def _numba_grid(rounds: int, append: bool, started: dt.datetime) -> int:
    try:
        import numba  # noqa: F401
    except ImportError:
        print(
            "bench_snapping --numba-grid needs numba, which planner does not depend on: "
            "pip install numba",
            file=sys.stderr,
        )
        return 2
    import snapping_numba_grid

    print(f"bench_snapping --numba-grid; {h.machine_line()}", flush=True)
    body = snapping_numba_grid.section(rounds)
    print(body)
    if append:
        title = "bench_snapping --numba-grid: a compiled grid kernel, measured and not adopted"
        print(f"\nResults appended to {h.append_results(title, body, started=started)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
