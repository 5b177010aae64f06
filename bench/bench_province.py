"""A simulated province on a local Dask cluster: one area far larger than one process holds.

For each size (walk nodes), `bench/synth_tiles.py` writes the tiled network, residences and
facilities block by block (in a child process), then a fresh child process (the client) reviews
the whole area with ``planner.distributed.check`` on a fresh local cluster of 2 worker
processes (1 thread each), reading the network tile by tile. Per size: wall and CPU seconds of
the client and of each worker, units, seconds per task (mean, median, max), the largest halo,
peak RSS (VmHWM) of each worker and of the client, and the load average.

``--verify N``: on an N-node province, the split review against ``planner.check`` on the whole
network read from the same tiles (hashes of the tables and the summary, `bench_distributed`).

Run: ``python bench/bench_province.py --sizes 1000000,3000000,10000000``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

HERE = Path(__file__).resolve().parent


def _status() -> dict[str, float]:
    """Peak RSS (VmHWM, MB) and CPU seconds (user + system) of this process."""
    peak = 0.0
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            peak = int(line.split()[1]) / 1024.0
    use = resource.getrusage(resource.RUSAGE_SELF)
    return {"peak_rss_mb": round(peak, 1), "cpu_s": round(use.ru_utime + use.ru_stime, 1)}


def _province(out: Path, walk_nodes: int, tile_m: float) -> dict[str, Any]:
    folder = out / f"province_{walk_nodes}"
    info = folder / "province.json"
    if not info.is_file():
        subprocess.run(
            [
                sys.executable,
                str(HERE / "synth_tiles.py"),
                "--walk-nodes",
                str(walk_nodes),
                "--out",
                str(folder),
                "--tile-m",
                str(tile_m),
            ],
            check=True,
        )
        child = resource.getrusage(resource.RUSAGE_CHILDREN)
        data = json.loads(info.read_text())
        data["generator_peak_rss_mb"] = round(child.ru_maxrss / 1024.0, 1)
        info.write_text(json.dumps(data, indent=2))
    return dict(json.loads(info.read_text()), folder=str(folder))


def _review(folder: Path, tile_m: float) -> dict[str, Any]:
    """One size's review on a fresh 2-worker cluster (run in a fresh process)."""
    import geopandas as gpd

    from planner import distributed
    from planner.distributed.cluster import RunStats
    from planner.distributed.runner import cluster_client
    from planner.distributed.tiles import TiledNetwork

    load_before = os.getloadavg()
    t0 = time.perf_counter()
    fac = gpd.read_parquet(folder / "facilities.parquet")
    res = gpd.read_parquet(folder / "residences.parquet")
    read_s = time.perf_counter() - t0
    with cluster_client(workers=2) as client:
        client_before = _status()
        workers_before = client.run(_status)
        stats = RunStats()
        t1 = time.perf_counter()
        result = distributed.check(
            TiledNetwork(folder / "network.tiles"),
            fac,
            res,
            client=client,
            tile_m=tile_m,
            stats=stats,
        )
        wall = time.perf_counter() - t1
        workers = client.run(_status)
    client_after = _status()
    tasks = sorted(stats.task_s.values())
    return {
        "residences": len(res),
        "facilities": len(fac),
        "read_inputs_s": round(read_s, 1),
        "wall_s": round(wall, 1),
        "client_cpu_s": round(client_after["cpu_s"] - client_before["cpu_s"], 1),
        "client_peak_rss_mb": client_after["peak_rss_mb"],
        "units": len(tasks),
        "task_s_sum": round(sum(tasks), 1),
        "task_s_mean": round(sum(tasks) / len(tasks), 3),
        "task_s_median": round(tasks[len(tasks) // 2], 3),
        "task_s_max": round(tasks[-1], 3),
        "halo_nodes_max": max(stats.halo_nodes.values()),
        "worker_cpu_s": sorted(
            round(workers[w]["cpu_s"] - workers_before[w]["cpu_s"], 1) for w in workers
        ),
        "worker_peak_rss_mb": sorted(w["peak_rss_mb"] for w in workers.values()),
        "coverage_community_service": next(
            c["rate"] for c in result.summary["coverage"] if c["key"] == "community_service"
        ),
        "load_avg_before": [round(x, 2) for x in load_before],
        "load_avg_after": [round(x, 2) for x in os.getloadavg()],
    }


def _verify(folder: Path, tile_m: float) -> dict[str, Any]:
    """The split review against `planner.check` on the whole network read from the tiles."""
    import hashlib

    import geopandas as gpd
    from bench_distributed import _hash

    import planner
    from planner import distributed
    from planner.distributed.tiles import TiledNetwork

    source = TiledNetwork(folder / "network.tiles")
    fac = gpd.read_parquet(folder / "facilities.parquet")
    res = gpd.read_parquet(folder / "residences.parquet")
    x0, y0, x1, y1 = (t * source.tile_m for t in source.tile_range or ())
    whole = source.read((x0, y0, x1 + source.tile_m, y1 + source.tile_m))
    single = planner.check(whole, fac, res, isochrones=False)
    split = distributed.check(source, fac, res, tile_m=tile_m)
    exact_to = max(single.summary["parameters"]["thresholds"].values())
    censored, gaps = distributed.censor_walks(single, exact_to)

    def summary(r: Any) -> str:
        text = json.dumps(r.summary, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    one = [_hash(censored), _hash(single.facilities), _hash(gaps), summary(single)]
    other = [_hash(split.residences), _hash(split.facilities), _hash(split.gaps), summary(split)]
    return {"nodes": whole.n_nodes, "single": one, "split": other, "identical": one == other}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000000,3000000,10000000")
    parser.add_argument("--tile-m", type=float, default=5000.0)
    parser.add_argument("--out", type=Path, default=Path("bench/out/province"))
    parser.add_argument("--verify", type=int, default=0, help="walk nodes of the check")
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one is not None:  # the child process reviewing one size
        print(json.dumps(_review(args.one, args.tile_m)))
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    if args.verify:
        info = _province(args.out, args.verify, args.tile_m)
        row = _verify(Path(info["folder"]), args.tile_m)
        print(json.dumps(row), flush=True)
        return 0 if row["identical"] else 1
    rows = []
    for n in [int(s) for s in args.sizes.split(",") if s]:
        info = _province(args.out, n, args.tile_m)
        child = subprocess.run(
            [sys.executable, __file__, "--one", info["folder"], "--tile-m", str(args.tile_m)],
            check=True,
            capture_output=True,
            text=True,
        )
        row = {**info, **json.loads(child.stdout.strip().splitlines()[-1])}
        rows.append(row)
        print(json.dumps(row), flush=True)
        (args.out / "bench_province.json").write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
