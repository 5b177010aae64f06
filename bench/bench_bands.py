"""Served-area bands of a whole city: our union cascade against GEOS's union_all.

Run from the repository root::

    python bench/bench_bands.py            # 100,000-node synthetic city, appends to RESULTS.md
    python bench/bench_bands.py --quick    # 10,000 nodes, 1 run each

What `planner check` draws per category when bands are on: `planner.isochrones(...,
minutes=(5, 10, 15), dissolve=True)` for 1,000 facilities (seeded random points up to 60 m off
the streets, as bench/synth_review.py places them) on the synthetic city of bench/synth_osm.py.
Two jobs, each in fresh processes (3 runs, medians; peak RSS of the whole process):

- ``GEOS union_all``: every band's pieces unioned by ``shapely.union_all`` (GEOS's cascaded
  union), as before the cascade existed (``_LARGE_UNION_VERTICES`` set out of reach);
- ``ours``: the default, large unions through `planner.isochrones._union_large` (groups of
  neighbours, closed blocks set aside between levels).

Both return the same point sets: the table gives each band's area from both jobs and the
largest relative difference.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
from typing import Any

import _harness as h
import geopandas as gpd
import numpy as np
import shapely
from synth_review import _points_near_streets

from planner.network import load_network

SCRIPT = h.BENCH / "bench_bands.py"
FACILITIES = 1000
MINUTES = (5.0, 10.0, 15.0)


def job_bands(job: dict[str, Any]) -> dict[str, Any]:
    module = importlib.import_module("planner.isochrones.build")  # the module, not the function
    if job["union"] == "geos":
        module._LARGE_UNION_VERTICES = float("inf")  # type: ignore[attr-defined]
    network = load_network(h.synthetic_city(job["nodes"]))
    points = gpd.GeoDataFrame(
        {"id": np.arange(FACILITIES)},
        geometry=_points_near_streets(network, FACILITIES, np.random.default_rng(2026)),
        crs=network.crs,
    )
    wall, cpu, out = h.timed_cpu(
        lambda: module.isochrones(network, points, minutes=MINUTES, dissolve=True)
    )
    local = out.to_crs(network.crs).geometry.to_numpy()
    parts = [shapely.get_parts(g) for g in local]
    return {
        "times": [wall],
        "cpu": [cpu],
        "areas_m2": shapely.area(local).tolist(),
        "vertices": shapely.get_num_coordinates(local).tolist(),
        "holes": [int(shapely.get_num_interior_rings(p).sum()) for p in parts],
        "valid": bool(shapely.is_valid(local).all()),
        "nodes": network.n_nodes,
        "edges": network.n_edges,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="10,000 nodes, one run each")
    parser.add_argument("--no-append", action="store_true", help="do not write RESULTS.md")
    args = parser.parse_args()
    started = dt.datetime.now().astimezone()
    nodes, repeats = (10_000, 1) if args.quick else (100_000, 3)
    h.synthetic_city(nodes)  # written once, outside the measured runs
    idle = h.idle_peak_mb(SCRIPT)
    measures = {}
    for union, label in (("geos", "GEOS union_all"), ("ours", "ours (cascade, blocks set aside)")):
        measures[union] = h.fresh_runs(
            SCRIPT, label, {"job": "bands", "union": union, "nodes": nodes}, repeats, idle
        )
    geos, ours = measures["geos"], measures["ours"]
    rows = [[m.label, *m.cells(), ", ".join(m.loads)] for m in measures.values()]
    table = h.markdown_table(["job", *h.MEASURE_COLUMNS, "load before/after, per run"], rows)
    lines = [table, ""]
    if geos.ok and ours.ok:
        a, b = np.array(geos.extra["areas_m2"]), np.array(ours.extra["areas_m2"])
        lines.append(
            f"- {ours.extra['nodes']:,} nodes, {ours.extra['edges']:,} edges; {FACILITIES:,} "
            f"facilities; bands {', '.join(f'{m:g}' for m in MINUTES)} min at 4.0 km/h, "
            "dissolved, default workers (one per core)."
        )
        lines.append(
            f"- Speed-up: {h.fmt_ratio(geos.median, ours.median)} wall, "
            f"{h.fmt_ratio(geos.median_cpu, ours.median_cpu)} CPU; peak memory "
            f"{geos.peak_mb:,.0f} -> {ours.peak_mb:,.0f} MB."
        )
        lines.append(
            f"- Same polygons: band areas {', '.join(f'{x / 1e6:,.3f}' for x in b)} km2 (ours), "
            f"largest relative difference from GEOS's {np.max(np.abs(a - b) / a):.1e}; valid: "
            f"{geos.extra['valid']} / {ours.extra['valid']}; vertices "
            f"{', '.join(f'{v:,}' for v in ours.extra['vertices'])}; holes "
            f"{', '.join(f'{v:,}' for v in ours.extra['holes'])}."
        )
    body = "\n".join(lines)
    print(body)
    if not args.no_append:
        h.append_results(
            "Served-area bands of a whole city (dissolved isochrones)", body, started=started
        )


if __name__ == "__main__":
    if h.is_child():
        h.child_main({"bands": job_bands, "idle": h.job_idle})
    else:
        main()
