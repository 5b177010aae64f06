"""A city review with the served-area bands on the map against the same review without them.

Run from the repository root::

    python bench/bench_city_bands.py --nodes 400000     # appends to RESULTS.md
    python bench/bench_city_bands.py --nodes 100000 --repeats 1 --no-append

The city and its review inputs come from bench/synth_osm.py and bench/synth_review.py
(``bench/out/city_<n>k``, written when missing: 2,000 facilities, 200,000 residences). Each run
is ``python -m planner.cli check --config ... --quiet`` in a fresh process under
``/usr/bin/time`` (wall, CPU, peak RSS), alternating: without bands (``isochrones = false``),
with bands (drawn from the reached pieces), and, with ``--gpkg``, with bands and
``isochrones_gpkg = true`` (the polygons unioned too). Then each map is opened in headless
Chromium (bench/bench_map.py's harness: network blocked, time until the layers are drawn).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import _harness as h
from bench_map import open_in_chromium

REPO = h.REPO
OUT = REPO / "bench" / "out"


def inputs(nodes: int) -> Path:
    """The review.toml of the synthetic city of ``nodes`` walk nodes, written when missing."""
    name = f"city_{nodes // 1000}k"
    city, folder = OUT / f"{name}.osm.pbf", OUT / name
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    if not city.exists():
        subprocess.run(
            [sys.executable, "bench/synth_osm.py", "--walk-nodes", str(nodes), "--out", str(city)],
            cwd=REPO,
            check=True,
            env=env,
        )
    if not (folder / "review.toml").exists():
        subprocess.run(
            [sys.executable, "bench/synth_review.py", str(city), "--out", str(folder)],
            cwd=REPO,
            check=True,
            env=env,
        )
    return folder / "review.toml"


def variant(config: Path, name: str, extra: str) -> Path:
    text = config.read_text(encoding="utf-8").replace("isochrones = false", extra)
    path = config.with_name(f"{name}.toml")
    path.write_text(text, encoding="utf-8")
    return path


def run(config: Path, out: Path) -> dict[str, float]:
    """One review in a fresh process: wall, CPU, peak RSS (MB), map size (MB)."""
    cmd = [
        "/usr/bin/time",
        "-f",
        "TIME %e %U %S %M",
        sys.executable,
        "-m",
        "planner.cli",
        "check",
        "--config",
        str(config),
        "--out",
        str(out),
        "--quiet",
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    load = os.getloadavg()[0]
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    if done.returncode not in (0, 1):
        raise RuntimeError(done.stderr[-2000:])
    wall, user, system, rss = map(
        float, re.findall(r"TIME (\S+) (\S+) (\S+) (\S+)", done.stderr)[-1]
    )
    return {
        "wall": wall,
        "cpu": user + system,
        "rss_mb": rss / 1024.0,
        "map_mb": (out / "map.html").stat().st_size / 1e6,
        "gpkg_mb": (out / "isochrones.gpkg").stat().st_size / 1e6
        if (out / "isochrones.gpkg").exists()
        else 0.0,
        "load": load,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nodes", type=int, default=400_000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--gpkg", action="store_true", help="also time isochrones_gpkg = true")
    parser.add_argument("--opens", type=int, default=3, help="Chromium opens per map")
    parser.add_argument("--no-append", action="store_true")
    args = parser.parse_args()
    started = dt.datetime.now().astimezone()
    config = inputs(args.nodes)
    jobs = {
        "without bands (isochrones = false)": config,
        "bands on the map (reached pieces)": variant(config, "bands", "isochrones = true"),
    }
    if args.gpkg:
        jobs["bands + isochrones_gpkg (polygons too)"] = variant(
            config, "gpkg", "isochrones = true\nisochrones_gpkg = true"
        )
    results: dict[str, list[dict[str, float]]] = {label: [] for label in jobs}
    opened: dict[str, list[dict[str, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="bench_city_bands_") as tmp:
        for r in range(args.repeats):
            for k, (label, cfg) in enumerate(jobs.items()):
                out = Path(tmp) / f"{k}_{r}"
                results[label].append(run(cfg, out))
                print(label, results[label][-1], flush=True)
                if r == args.repeats - 1 and args.opens and k < 2:
                    opened[label] = open_in_chromium(out / "map.html", args.opens)
                    print(label, opened[label], flush=True)
    base = statistics.median(x["wall"] for x in results[next(iter(jobs))])
    base_cpu = statistics.median(x["cpu"] for x in results[next(iter(jobs))])
    rows = []
    for label, runs in results.items():
        wall = statistics.median(x["wall"] for x in runs)
        cpu = statistics.median(x["cpu"] for x in runs)
        opens = opened.get(label)
        rows.append(
            [
                label,
                f"{wall:.1f} s (" + ", ".join(f"{x['wall']:.1f}" for x in runs) + ")",
                f"{wall / base:.2f}x",
                f"{cpu:.1f} s",
                f"{cpu / base_cpu:.2f}x",
                f"{max(x['rss_mb'] for x in runs):,.0f}",
                f"{runs[-1]['map_mb']:.1f}",
                f"{runs[-1]['gpkg_mb']:.1f}" if runs[-1]["gpkg_mb"] else "-",
                f"{statistics.median(o['drawn_s'] for o in opens):.2f} s" if opens else "-",
                ", ".join(f"{x['load']:.1f}" for x in runs),
            ]
        )
    table = h.markdown_table(
        [
            "review",
            "wall (median; runs)",
            "vs without",
            "CPU",
            "vs without",
            "peak RSS MB",
            "map.html MB",
            "isochrones.gpkg MB",
            "map drawn in Chromium",
            "load at start",
        ],
        rows,
    )
    body = (
        f"{table}\n\n- Synthetic city of {args.nodes:,} walk nodes target (bench/synth_osm.py), "
        "2,000 facilities, 200,000 residences (bench/synth_review.py); `planner check --config` "
        f"in fresh processes, alternating, {args.repeats} run(s) each; Chromium: "
        f"{args.opens} open(s), 1400x900, time until the layers are drawn (median).\n"
    )
    print(body)
    if not args.no_append:
        h.append_results(
            "A city review with bands on the map against without", body, started=started
        )


if __name__ == "__main__":
    main()
