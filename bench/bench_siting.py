"""Benchmark: planner.siting's maximal covering against PySAL spopt's MCLP, same cost matrices.

Both solve the same problem: choose ``k`` sites among candidates every ``spacing`` metres along the
walking network to cover the most demand-point weight within a 1000 m walk (15 min at 4 km/h).
The cost matrix is built once by the planner's distance engine (`pairs_within`); spopt gets it
dense (demand × candidates, metres; pairs beyond the cutoff get a large value), planner.siting
gets the sparse coverage matrix made from the same pairs. Reported: covered weight, wall time of
the solve (model building included for both), and spopt's time over ours.

Instances
- ``guixi``: the bundled Guixi review (16 real community points, households estimated by the
  demo maker), candidates every 100 m.
- ``andorra-N``: the Andorra walking network (the largest real extract here) with N synthetic
  demand points, seeded: placed along edges in proportion to length, 0-40 m off the street,
  20-300 households each. Synthetic demand, real network.

spopt is not a project dependency. Install it in a throw-away virtual environment that sees the
system packages, and run the bench with that Python:

    python -m venv --system-site-packages /tmp/spopt-venv
    /tmp/spopt-venv/bin/pip install spopt
    /tmp/spopt-venv/bin/python bench/bench_siting.py --append

Without spopt the bench prints a note and times planner.siting alone.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from planner.engine import pairs_within  # noqa: E402
from planner.network import Network, load_network  # noqa: E402
from planner.siting import candidate_sites, coverage_matrix, max_cover  # noqa: E402
from planner.snapping import snap_points  # noqa: E402

CUTOFF_M = 1000.0
FAR_M = 1e7  # cost given to pairs beyond the cutoff in spopt's dense matrix


def _synthetic_demand(network: Network, n: int, seed: int) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    length = network.edge_length_m
    edge = rng.choice(network.n_edges, size=n, p=length / length.sum())
    along = rng.uniform(0, 1, n) * length[edge]
    on = shapely.line_interpolate_point(network.edge_geometry[edge], along)
    angle = rng.uniform(0, 2 * np.pi, n)
    off = rng.uniform(0, 40, n)
    x = shapely.get_x(on) + off * np.cos(angle)
    y = shapely.get_y(on) + off * np.sin(angle)
    return gpd.GeoDataFrame(
        {"id": [f"D{i}" for i in range(n)], "households": rng.integers(20, 301, n).astype(float)},
        geometry=shapely.points(x, y),
        crs=network.crs,
    ).to_crs(4326)


def _instance(network: Network, demand: gpd.GeoDataFrame, spacing_m: float) -> dict:
    started = time.perf_counter()
    cand = snap_points(network, candidate_sites(network, spacing_m=spacing_m), what="candidates")
    dem = snap_points(network, demand, what="demand")
    s, t, w = pairs_within(network, cand, dem, cutoff_m=CUTOFF_M)
    matrix_s = time.perf_counter() - started
    return {
        "s": s,
        "t": t,
        "walk_m": w,
        "n_sites": len(cand),
        "n_demand": len(dem),
        "weights": demand["households"].to_numpy(dtype=float),
        "matrix_s": matrix_s,
    }


def _covered(inst: dict, chosen: np.ndarray) -> float:
    cover = coverage_matrix(
        inst["s"], inst["t"], n_sites=inst["n_sites"], n_demand=inst["n_demand"]
    )
    if len(chosen) == 0:
        return 0.0
    hit = np.unique(cover[np.asarray(chosen)].indices)
    return float(inst["weights"][hit].sum())


def _run_planner(inst: dict, k: int, method: str, time_limit_s: float) -> dict:
    started = time.perf_counter()
    cover = coverage_matrix(
        inst["s"], inst["t"], n_sites=inst["n_sites"], n_demand=inst["n_demand"]
    )
    sol = max_cover(cover, inst["weights"], k, method=method, time_limit_s=time_limit_s)
    elapsed = time.perf_counter() - started
    return {
        "covered": _covered(inst, sol.chosen),
        "s": elapsed,
        "status": sol.status,
        "gap": sol.gap,
        "method": sol.method,
    }


def _run_spopt(inst: dict, k: int, time_limit_s: float) -> dict | None:
    try:
        import pulp
        from spopt.locate import MCLP
    except ImportError:
        return None
    started = time.perf_counter()
    cost = np.full((inst["n_demand"], inst["n_sites"]), FAR_M)
    cost[inst["t"], inst["s"]] = inst["walk_m"]
    model = MCLP.from_cost_matrix(cost, inst["weights"], service_radius=CUTOFF_M, p_facilities=k)
    built = time.perf_counter()
    model = model.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit_s), results=False)
    elapsed = time.perf_counter() - started
    chosen = np.flatnonzero([(v.value() or 0) > 0.5 for v in model.fac_vars])
    status = pulp.LpStatus[model.problem.status]
    return {
        "covered": _covered(inst, chosen),
        "s": elapsed,
        "build_s": built - started,
        "solve_s": elapsed - (built - started),
        "status": status,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--append", action="store_true", help="append results to RESULTS.md")
    parser.add_argument("--quick", action="store_true", help="small instances only")
    parser.add_argument("--time-limit", type=float, default=120.0, help="per solve, seconds")
    parser.add_argument(
        "--spopt-max-cells",
        type=float,
        default=5e6,
        help="run spopt only when demand × candidates is at most this (its model building "
        "is slow on large dense matrices)",
    )
    args = parser.parse_args(argv)

    try:
        import spopt

        spopt_note = f"spopt {spopt.__version__} (MCLP, PuLP + CBC)"
    except ImportError:
        spopt_note = (
            "spopt is not installed: planner.siting timed alone "
            "(see the docstring to install it for the bench)"
        )
        print(f"NOTE: {spopt_note}")

    cases: list[tuple[str, Network, gpd.GeoDataFrame, float, list[int]]] = []
    guixi = load_network(ROOT / "data" / "cn_jiangxi_guixi_mapofgx.osm.bz2")
    residences = ROOT / "data" / "guixi" / "residences.gpkg"
    if residences.is_file():
        cases.append(("guixi", guixi, gpd.read_file(residences), 100.0, [1, 3, 5]))
    andorra = load_network(ROOT / "data" / "ad_andorra_graphhopper.osm.pbf")
    sizes = (
        [(1000, 250.0, [5])] if args.quick else [(1000, 250.0, [5, 20]), (3000, 100.0, [5, 20, 50])]
    )
    for n, spacing, ks in sizes:
        demand = _synthetic_demand(andorra, n, seed=2026)
        cases.append((f"andorra-{n}", andorra, demand, spacing, ks))

    load_start = os.getloadavg()
    rows = []
    for name, network, demand, spacing, ks in cases:
        inst = _instance(network, demand, spacing)
        nnz = inst["s"].shape[0]
        print(
            f"{name}: {inst['n_sites']} candidates × {inst['n_demand']} demand points, "
            f"{nnz} pairs within {CUTOFF_M:.0f} m (matrix {inst['matrix_s']:.2f} s)"
        )
        for k in ks:
            exact = _run_planner(inst, k, "milp", args.time_limit)
            greedy = _run_planner(inst, k, "greedy", args.time_limit)
            cells = inst["n_sites"] * inst["n_demand"]
            other = _run_spopt(inst, k, args.time_limit) if cells <= args.spopt_max_cells else None
            row = {
                "case": name,
                "sites": inst["n_sites"],
                "demand": inst["n_demand"],
                "pairs": nnz,
                "k": k,
                "milp": exact,
                "greedy": greedy,
                "spopt": other,
            }
            rows.append(row)
            print("  " + _line(row))
    load = (load_start[0], os.getloadavg()[0])
    print(f"load average (1 min) at start / end: {load[0]:.1f} / {load[1]:.1f}")
    if args.append:
        _append(rows, spopt_note, args, load)
    return 0


def _fmt_gap(gap: float | None) -> str:
    return "unknown" if gap is None else f"{100 * gap:.2f} %"


def _line(row: dict) -> str:
    m, g, o = row["milp"], row["greedy"], row["spopt"]
    text = (
        f"k={row['k']}: milp {m['covered']:.0f} hh in {m['s']:.3f} s ({m['status']}, gap "
        f"{_fmt_gap(m['gap'])}); greedy {g['covered']:.0f} hh in {g['s']:.3f} s (gap "
        f"{_fmt_gap(g['gap'])})"
    )
    if o is not None:
        text += (
            f"; spopt {o['covered']:.0f} hh in {o['s']:.3f} s (build {o['build_s']:.3f} s, "
            f"solve {o['solve_s']:.3f} s, {o['status']}), "
            f"spopt/milp time {o['s'] / m['s']:.1f}x"
        )
    return text


def _append(
    rows: list[dict], spopt_note: str, args: argparse.Namespace, load: tuple[float, float]
) -> None:
    import scipy

    path = ROOT / "bench" / "RESULTS.md"
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    command = "python bench/bench_siting.py --append" + (" --quick" if args.quick else "")
    if "spopt" in spopt_note and "not installed" not in spopt_note:
        command = "/tmp/spopt-venv/bin/" + command
    lines = [
        "",
        f"## Siting: maximal covering vs spopt MCLP ({stamp})",
        "",
        f"Command: `{command}` (time limit {args.time_limit:g} s per solve).",
        f"Machine: {platform.machine()}, Python {platform.python_version()}, scipy "
        f"{scipy.__version__}; {spopt_note}. {os.cpu_count()} cores; load average (1 min) "
        f"{load[0]:.1f} at start, {load[1]:.1f} at end (other jobs shared the machine: times "
        "are indicative, the ratios less affected).",
        f"Problem: choose k sites, cover the most households within a {CUTOFF_M:.0f} m walk; "
        "same pairs for every solver (planner.engine.pairs_within). Times include building the "
        "model (spopt: also the dense cost matrix); the distance matrix itself is shared and "
        "not counted. Gaps are proven bounds (greedy: its own online bound). spopt is not run "
        f"when demand × candidates > {args.spopt_max_cells:.0e} (its model building is slow).",
        "",
        "| case | candidates | demand | pairs | k | milp hh | milp s | milp gap | greedy hh "
        "| greedy s | greedy gap | spopt hh | spopt s (build + solve) | spopt/milp time |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        m, g, o = r["milp"], r["greedy"], r["spopt"]
        spopt_cells = (
            ["not run", "not run", "n/a"]
            if o is None
            else [
                f"{o['covered']:.0f}",
                f"{o['s']:.3f} ({o['build_s']:.3f} + {o['solve_s']:.3f})",
                f"{o['s'] / m['s']:.1f}x",
            ]
        )
        lines.append(
            "| "
            + " | ".join(
                [
                    r["case"],
                    str(r["sites"]),
                    str(r["demand"]),
                    str(r["pairs"]),
                    str(r["k"]),
                    f"{m['covered']:.0f}",
                    f"{m['s']:.3f}",
                    _fmt_gap(m["gap"]),
                    f"{g['covered']:.0f}",
                    f"{g['s']:.3f}",
                    _fmt_gap(g["gap"]),
                    *spopt_cells,
                ]
            )
            + " |"
        )
    with path.open("a", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    print(f"appended to {path}")


if __name__ == "__main__":
    raise SystemExit(main())
