"""A split review on a local Dask cluster against the single-process review.

1. One synthetic city (bench/synth_osm.py + synth_review.py): ``planner.check`` in this process,
   then ``planner.distributed.check`` on a local cluster of 2 worker processes reading a tiled
   network. Hashes of the residence, facility and gap tables (the single-process ones in the form
   a split review gives them, `censor_walks`) and of the summary; wall times; peak RSS of each
   worker and of this process.
2. Growing areas in tiles: cities of 1x, 2x, 4x ... the base size, each saved as tiles and
   reviewed on the 2 workers: peak RSS per worker and seconds per unit (per 1,000 residences)
   as the area grows.

3. ``--batch 2,4,8``: a simulated province, ``planner batch`` of 2, 4, 8 ... synthetic cities
   (``--batch-nodes`` walk nodes each, seeds 1, 2, ...; each its own review.toml), run by the
   CLI itself (``planner.cli.main(["batch", ..., "--scheduler", ADDRESS])``) on a fresh local
   cluster of 2 workers per batch size: wall time per city and per 1,000 residences, peak RSS
   of each worker and of this process (the client). Only this part runs when given.

Run: ``python bench/bench_distributed.py --walk-nodes 100000 --grow 25000,50000,100000``, or
``python bench/bench_distributed.py --batch 2,4,8 --batch-nodes 100000``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

import planner  # noqa: E402
from planner import distributed  # noqa: E402
from planner.distributed.cluster import RunStats  # noqa: E402
from planner.distributed.runner import cluster_client  # noqa: E402
from planner.distributed.tiles import TiledNetwork, save_tiles  # noqa: E402


def _hash(frame: pd.DataFrame) -> str:
    table = pd.DataFrame(frame).drop(columns=["geometry"], errors="ignore")
    return hashlib.sha256(table.to_csv(index=False).encode()).hexdigest()[:16]


def _peak_mb() -> float:
    """Peak RSS of this process, MB: VmHWM (ru_maxrss survives exec, so a spawned worker would
    report its parent's peak)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _worker_peaks(client: Any) -> list[float]:
    return sorted(round(v, 1) for v in client.run(_peak_mb).values())


def _city(folder: Path, walk_nodes: int, residences: int, facilities: int) -> Path:
    from synth_osm import write_synthetic_city
    from synth_review import write_review_inputs

    city = folder / f"city_{walk_nodes}.osm.pbf"
    review = folder / f"city_{walk_nodes}"
    if not (review / "review.toml").is_file():
        write_synthetic_city(city, walk_nodes=walk_nodes, seed=0)
        write_review_inputs(city, review, facilities=facilities, residences=residences, seed=0)
    return city


def _layers(folder: Path, walk_nodes: int) -> tuple[Any, Any]:
    review = folder / f"city_{walk_nodes}"
    return (
        planner.read_facilities(review / "facilities.gpkg"),
        planner.read_residences(review / "residences.gpkg"),
    )


def _batch(args: argparse.Namespace) -> int:
    """``planner batch`` of growing numbers of cities on a fresh 2-worker cluster each time."""
    from synth_osm import write_synthetic_city
    from synth_review import write_review_inputs

    from planner.cli import main as planner_main

    sizes = [int(k) for k in args.batch.split(",") if k]
    n = args.batch_nodes
    residences, facilities = int(n * args.residences_per_node), max(40, n // 100)
    configs: list[Path] = []
    for seed in range(1, max(sizes) + 1):
        city = args.out / f"city_{n}_s{seed}.osm.pbf"
        config = args.out / f"city_{n}_s{seed}" / "review.toml"
        if not config.is_file():
            write_synthetic_city(city, walk_nodes=n, seed=seed)
            write_review_inputs(
                city, config.parent, facilities=facilities, residences=residences, seed=seed
            )
        configs.append(config)
    rows = []
    for k in sizes:
        with cluster_client(workers=2) as client:
            argv = [
                "batch",
                *[str(c) for c in configs[:k]],
                "--scheduler",
                str(client.scheduler.address),
                "--tile-m",
                str(args.tile_m),
                "--out",
                str(args.out / f"batch_{k}"),
                "--quiet",
            ]
            t0 = time.perf_counter()
            code = planner_main(argv)
            wall = time.perf_counter() - t0
            rollup = pd.read_csv(args.out / f"batch_{k}" / "rollup.csv")
            row = {
                "cities": k,
                "exit": code,
                "residences": int(rollup.loc[rollup["level"] == "area", "residences"].sum()),
                "wall_s": round(wall, 1),
                "wall_s_per_city": round(wall / k, 1),
                "wall_s_per_1000_residences": round(1000 * wall / (k * residences), 3),
                "worker_peak_rss_mb": _worker_peaks(client),
                "client_peak_rss_mb": round(_peak_mb(), 1),
            }
        rows.append(row)
        print(json.dumps(row), flush=True)
    (args.out / "bench_batch.json").write_text(json.dumps(rows, indent=2))
    return 0 if all(r["exit"] in (0, 1) for r in rows) else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--walk-nodes", type=int, default=100_000)
    parser.add_argument("--grow", default="25000,50000,100000")
    parser.add_argument("--residences-per-node", type=float, default=0.5)
    parser.add_argument("--tile-m", type=float, default=3000.0)
    parser.add_argument("--out", type=Path, default=Path("bench/out/distributed"))
    parser.add_argument("--batch", default="", help="city counts, e.g. 2,4,8 (only this part)")
    parser.add_argument("--batch-nodes", type=int, default=100_000)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.batch:
        return _batch(args)

    def sizes(n: int) -> tuple[int, int]:
        return int(n * args.residences_per_node), max(40, n // 100)

    report: dict[str, Any] = {"walk_nodes": args.walk_nodes, "tile_m": args.tile_m}
    city = _city(args.out, args.walk_nodes, *sizes(args.walk_nodes))
    fac, res = _layers(args.out, args.walk_nodes)
    t0 = time.perf_counter()
    network = planner.load_network(city)
    t1 = time.perf_counter()
    single = planner.check(network, fac, res)
    t2 = time.perf_counter()
    tiles = save_tiles(network, args.out / f"city_{args.walk_nodes}.tiles", tile_m=args.tile_m)
    exact_to = max(single.summary["parameters"]["thresholds"].values())
    censored, gaps = distributed.censor_walks(single, exact_to)
    report["single"] = {
        "load_s": round(t1 - t0, 2),
        "check_s": round(t2 - t1, 2),
        "peak_rss_mb": round(_peak_mb(), 1),
        "nodes": network.n_nodes,
        "residences": len(res),
        "facilities": len(fac),
        "hash_residences": _hash(censored),
        "hash_facilities": _hash(single.facilities),
        "hash_gaps": _hash(gaps),
        "hash_summary": hashlib.sha256(
            json.dumps(single.summary, sort_keys=True, default=str).encode()
        ).hexdigest()[:16],
    }
    del network
    print(json.dumps(report, indent=2), flush=True)
    grow = [int(g) for g in args.grow.split(",") if g]
    with cluster_client(workers=2) as client:
        stats = RunStats()
        t3 = time.perf_counter()
        split = distributed.check(
            TiledNetwork(tiles), fac, res, client=client, tile_m=args.tile_m, stats=stats
        )
        t4 = time.perf_counter()
        report["cluster_2_workers"] = {
            "wall_s": round(t4 - t3, 2),
            "units": len(stats.task_s),
            "task_s_mean": round(sum(stats.task_s.values()) / len(stats.task_s), 3),
            "task_s_max": round(max(stats.task_s.values()), 3),
            "halo_nodes_max": max(stats.halo_nodes.values()),
            "worker_peak_rss_mb": _worker_peaks(client),
            "hash_residences": _hash(split.residences),
            "hash_facilities": _hash(split.facilities),
            "hash_gaps": _hash(split.gaps),
            "hash_summary": hashlib.sha256(
                json.dumps(split.summary, sort_keys=True, default=str).encode()
            ).hexdigest()[:16],
        }
        same = all(
            report["single"][k] == report["cluster_2_workers"][k]
            for k in ("hash_residences", "hash_facilities", "hash_gaps", "hash_summary")
        )
        report["identical"] = same
        print(json.dumps(report["cluster_2_workers"], indent=2), "identical:", same, flush=True)
        report["grow"] = []
    for n in grow:
        path = _city(args.out, n, *sizes(n))
        g_fac, g_res = _layers(args.out, n)
        g_tiles = args.out / f"city_{n}.tiles"
        if not (g_tiles / "tiles.json").is_file():
            save_tiles(planner.load_network(path), g_tiles, tile_m=args.tile_m)
        # fresh workers for each size, so each peak is that size's own
        with cluster_client(workers=2) as client:
            stats = RunStats()
            t5 = time.perf_counter()
            distributed.check(
                TiledNetwork(g_tiles), g_fac, g_res, client=client, tile_m=args.tile_m, stats=stats
            )
            t6 = time.perf_counter()
            row = {
                "walk_nodes": n,
                "residences": len(g_res),
                "units": len(stats.task_s),
                "wall_s": round(t6 - t5, 2),
                "task_s_per_1000_residences": round(
                    1000 * sum(stats.task_s.values()) / max(1, len(g_res)), 3
                ),
                "halo_nodes_max": max(stats.halo_nodes.values()),
                "worker_peak_rss_mb": _worker_peaks(client),
            }
        report["grow"].append(row)
        print(json.dumps(row), flush=True)
    (args.out / "bench_distributed.json").write_text(json.dumps(report, indent=2))
    return 0 if report["identical"] else 1


if __name__ == "__main__":
    sys.exit(main())
