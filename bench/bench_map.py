"""Map benchmark (issue 5): a review of 100,000 residences, written and opened in Chromium.

Run from the repository root::

    python bench/bench_map.py                    # 100,000 residences, appends to RESULTS.md
    python bench/bench_map.py --residences 20000 --repeats 1 --no-append   # a smoke test

The review is synthetic but shaped like `planner.checks.CheckResult` (RESULT_CONTRACT.md): a
12 km x 12 km district in Beijing (so the Amap variant is shifted to GCJ-02) with a street grid
every ~120 m; residences at seeded random points; facilities of three categories
(``community_service`` with floor areas and ``health``, both required; ``kindergarten``,
measured only); walks = 1.25 x the straight line to the nearest facility; the floor-area ratio
from a two-step catchment within 1000 m; walking bands 5/10/15 min per category drawn as the
street pieces within reach buffered by 25 m (holes for the blocks, like the real ones); a
20 x 20 grid of community polygons.

Jobs
----
- ``build`` (fresh subprocess, peak RSS reaped): `planner.maps.build_map` and
  `planner.maps.save_map`, timed apart from making the synthetic review; the HTML size.
- ``open`` (headless Chromium, Debian's, every non-file request aborted, fresh page each time):
  time from navigation until the map has drawn its layers (``PlannerMap.drawnMs``: two animation
  frames after the last layer was added, measured with ``performance.now()`` from navigation
  start), and the wall time until the page says so; then in the open page: showing the hidden
  "m² per 100 households" layer (built on first show: 100,000 more markers), a 200 px pan
  (canvas redraw), and a click on a residence until its popup is in the page.
- ``folium`` (reference, fresh subprocess): the straightforward Folium map of the same
  residences, as ``GeoDataFrame.explore`` makes it (every residence a GeoJSON feature with all
  its columns in a tooltip, circle markers on a canvas); its HTML size and build time. It loads
  Leaflet, jQuery and Bootstrap from CDNs, so it cannot open offline at all: no open time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import _harness as h
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

LON0, LAT0 = 116.30, 39.90
M_PER_DEG_LAT = 110_574.0
M_PER_DEG_LON = 111_320.0 * np.cos(np.radians(LAT0))
DETOUR = 1.25
SPEED_KMH = 4.0
BANDS = ((5, 333.333), (10, 666.667), (15, 1000.0))
CATEGORIES = {  # category: (facilities, required, floor area range m²)
    "community_service": (200, True, (150.0, 1500.0)),
    "health": (80, True, None),
    "kindergarten": (150, False, None),
}
LABELS = {
    "community_service": ("社区服务", "Community service"),
    "health": ("医疗卫生", "Health care"),
    "kindergarten": ("幼儿园", "Kindergarten"),
}
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def _to_lonlat(coords: np.ndarray) -> np.ndarray:
    return np.column_stack(
        [LON0 + coords[:, 0] / M_PER_DEG_LON, LAT0 + coords[:, 1] / M_PER_DEG_LAT]
    )


def synthetic_review(n_residences: int, *, size_m: float = 12_000.0, seed: int = 0) -> Any:
    """A review of ``n_residences`` residences shaped like `planner.checks.CheckResult`."""
    from planner.checks import STATUSES, column

    rng = np.random.default_rng(seed)
    xy = rng.uniform(0.0, size_m, (n_residences, 2))
    households = rng.integers(10, 300, n_residences).astype(float)
    res = pd.DataFrame(
        {
            "id": [f"r{i}" for i in range(n_residences)],
            "name": [f"住宅楼 {i}号" if i % 3 == 0 else None for i in range(n_residences)],
            "households": households,
            "households_method": "column",
            "households_estimated": False,
            "on_network": rng.random(n_residences) > 0.002,
            "access_m": rng.uniform(0.0, 60.0, n_residences).round(3),
        }
    )
    fac_frames = []
    coverage = []
    required_covered = []
    walk_of: dict[str, np.ndarray] = {}
    fac_xy_of: dict[str, np.ndarray] = {}
    for cat, (count, required, area_range) in CATEGORIES.items():
        fxy = rng.uniform(0.0, size_m, (count, 2))
        fac_xy_of[cat] = fxy
        dist, which = cKDTree(fxy).query(xy)
        walk = np.where(res["on_network"], dist * DETOUR, np.nan)
        walk_of[cat] = walk
        covered = walk <= 1000.0
        res[column("nearest_id", cat)] = np.array([f"{cat}-{k}" for k in which], dtype=object)
        res[column("walk_m", cat)] = walk.round(3)
        res[column("walk_min", cat)] = (walk / (SPEED_KMH * 1000 / 60)).round(3)
        res[column("covered", cat)] = covered
        if required:
            required_covered.append(covered)
        fac_frames.append(
            pd.DataFrame(
                {
                    "id": [f"{cat}-{k}" for k in range(count)],
                    "name": [f"{LABELS[cat][0]} {k}" for k in range(count)],
                    "category": cat,
                    "floor_area_m2": rng.uniform(*area_range, count).round(0)
                    if area_range
                    else np.nan,
                    "x": fxy[:, 0],
                    "y": fxy[:, 1],
                }
            )
        )
        total = households.sum()
        got = households[covered].sum()
        coverage.append(
            {
                "key": cat,
                "category": cat,
                "label_zh": LABELS[cat][0],
                "label_en": LABELS[cat][1],
                "tier": "15min",
                "required": required,
                "max_walk_m": 1000.0,
                "max_walk_min": 15.0,
                "households_total": float(total),
                "households_covered": float(got),
                "rate": float(got / total),
                "passes": bool(got >= total) if required else None,
            }
        )
    stack = np.vstack(required_covered)
    status = np.where(
        stack.all(axis=0), "covered", np.where(stack.any(axis=0), "partly", "uncovered")
    )
    res["status"] = np.where(res["on_network"], status, "off_network")
    assert set(res["status"]) <= set(STATUSES)

    # Floor area: two-step catchment within 1000 m of walk (straight line x detour).
    fac = pd.concat(fac_frames, ignore_index=True)
    cs = fac["category"].to_numpy() == "community_service"
    supply = fac.loc[cs, "floor_area_m2"].to_numpy()
    reach = cKDTree(fac_xy_of["community_service"]).query_ball_point(xy, r=1000.0 / DETOUR)
    src = np.concatenate([np.asarray(r, dtype=np.int64) for r in reach])
    tgt = np.repeat(np.arange(n_residences), [len(r) for r in reach])
    demand = np.bincount(src, weights=households[tgt], minlength=supply.size)
    ratio = np.divide(supply, demand, out=np.full(supply.size, np.nan), where=demand > 0)
    per_res = np.bincount(tgt, weights=np.nan_to_num(ratio[src]), minlength=n_residences) * 100
    res["floor_area_m2_per_100hh"] = per_res.round(6)
    res["floor_area_ok"] = per_res >= 30.0
    fac["on_network"] = True
    fac["households_in_catchment"] = np.nan
    fac["m2_per_100hh"] = np.nan
    fac.loc[cs, "households_in_catchment"] = demand
    fac.loc[cs, "m2_per_100hh"] = ratio * 100
    fac["floor_area_ok"] = pd.array([pd.NA] * len(fac), dtype="boolean")
    fac.loc[cs, "floor_area_ok"] = np.nan_to_num(ratio * 100, nan=np.inf) >= 30.0
    fac["proposed"] = False

    residences = gpd.GeoDataFrame(res, geometry=gpd.points_from_xy(*_to_lonlat(xy).T), crs=4326)
    facilities = gpd.GeoDataFrame(
        fac.drop(columns=["x", "y"]),
        geometry=gpd.points_from_xy(*_to_lonlat(fac[["x", "y"]].to_numpy()).T),
        crs=4326,
    )

    # Walking bands: the streets within reach, 25 m wide (blocks stay holes, as in the real
    # ones). The street area of a grid is the district minus its blocks shrunk by 25 m.
    spacing, half_width = 120.0, 25.0
    edges = np.arange(0.0, size_m + spacing, spacing)
    xs = np.clip(edges + rng.normal(0.0, 8.0, edges.size), 0.0, size_m)
    ys = np.clip(edges + rng.normal(0.0, 8.0, edges.size), 0.0, size_m)
    blocks = [
        [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
        for a, b in zip(xs[:-1], xs[1:], strict=True)
        for c, e in zip(ys[:-1], ys[1:], strict=True)
        for x0, x1, y0, y1 in [(a + half_width, b - half_width, c + half_width, e - half_width)]
        if x1 > x0 and y1 > y0
    ]
    streets = shapely.Polygon(
        [(0.0, 0.0), (size_m, 0.0), (size_m, size_m), (0.0, size_m)], holes=blocks
    )
    rows = []
    for cat, fxy in fac_xy_of.items():
        for band_min, band_m in BANDS:
            disks = shapely.union_all(shapely.buffer(shapely.points(fxy), band_m / DETOUR))
            rows.append(
                {
                    "category": cat,
                    "band_min": band_min,
                    "band_m": band_m,
                    "geometry": shapely.transform(shapely.intersection(streets, disks), _to_lonlat),
                }
            )
    isochrones = gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)

    # Communities: a 20 x 20 grid with their households, supply and coverage.
    cells = 20
    edge = size_m / cells
    cell_of = np.minimum((xy // edge).astype(int), cells - 1)
    cell_id = cell_of[:, 0] * cells + cell_of[:, 1]
    comm_hh = np.bincount(cell_id, weights=households, minlength=cells * cells)
    fac_cell = np.minimum((fac[["x", "y"]].to_numpy() // edge).astype(int), cells - 1)
    fac_cell_id = fac_cell[:, 0] * cells + fac_cell[:, 1]
    comm_supply = np.bincount(fac_cell_id[cs], weights=supply, minlength=cells * cells)
    comm = pd.DataFrame(
        {
            "id": [f"c{i}" for i in range(cells * cells)],
            "name": [f"社区 {i}" for i in range(cells * cells)],
            "households": comm_hh,
            "supply_m2": comm_supply,
            "m2_per_100hh": np.divide(
                comm_supply * 100, comm_hh, out=np.full(comm_hh.size, np.nan), where=comm_hh > 0
            ),
        }
    )
    comm["floor_area_ok"] = np.nan_to_num(comm["m2_per_100hh"], nan=np.inf) >= 30.0
    for cat in CATEGORIES:
        cov = res[column("covered", cat)].to_numpy()
        got = np.bincount(cell_id, weights=households * cov, minlength=cells * cells)
        comm[column("coverage_rate", cat)] = np.divide(
            got, comm_hh, out=np.full(comm_hh.size, np.nan), where=comm_hh > 0
        )
    boxes = [
        shapely.box(i * edge, j * edge, (i + 1) * edge, (j + 1) * edge)
        for i in range(cells)
        for j in range(cells)
    ]
    communities = gpd.GeoDataFrame(
        comm, geometry=shapely.transform(np.array(boxes), _to_lonlat), crs=4326
    )

    gap_rows = []
    for entry in coverage:
        if not entry["required"]:
            continue
        cat = entry["key"]
        gap = ~res[column("covered", cat)].to_numpy()
        walk = walk_of[cat][gap]
        gap_rows.append(
            pd.DataFrame(
                {
                    "id": res["id"].to_numpy()[gap],
                    "category": cat,
                    "households": households[gap],
                    "walk_m": walk,
                    "short_by_m": walk - 1000.0,
                }
            )
        )
    gaps = (
        pd.concat(gap_rows, ignore_index=True)
        .sort_values("households", ascending=False, kind="stable")
        .reset_index(drop=True)
    )
    total_hh = float(households.sum())
    total_supply = float(supply.sum())
    shortfall = float(np.sum(np.clip(30.0 - per_res, 0.0, None) * households / 100.0))
    summary = {
        "planner_version": "bench",
        "passes": False,
        "standard": {
            "name": "bench",
            "title_zh": "合成评估（基准测试）",
            "title_en": "Synthetic review (benchmark)",
        },
        "parameters": {
            "speed_kmh": SPEED_KMH,
            "snap_cap_m": 500.0,
            "allocation": "catchment",
            "buffer_m": 25.0,
        },
        "households": {
            "total": total_hh,
            "method": "column",
            "estimated": False,
            "residences": n_residences,
            "off_network_residences": int((~res["on_network"]).sum()),
        },
        "coverage": coverage,
        "floor_area": {
            "category": "community_service",
            "allocation": "catchment",
            "supply_m2": total_supply,
            "households": total_hh,
            "m2_per_100hh": 100 * total_supply / total_hh,
            "required_m2_per_100hh": 30.0,
            "required_m2": 0.3 * total_hh,
            "shortfall_m2": shortfall,
            "passes": shortfall <= 1e-6,
        },
    }
    return SimpleNamespace(
        residences=residences,
        facilities=facilities,
        communities=communities,
        isochrones=isochrones,
        gaps=gaps,
        summary=summary,
    )


# --------------------------------------------------------------------------- child jobs


def job_build(job: dict[str, Any]) -> dict[str, Any]:
    from planner.maps import build_map, save_map

    setup_s, review = h.timed(lambda: synthetic_review(job["residences"]))
    vertices = int(shapely.get_num_coordinates(review.isochrones.geometry.to_numpy()).sum())
    build_s, m = h.timed(lambda: build_map(review, lang=job["lang"], basemap=job["basemap"]))
    path = Path(job["path"])
    save_s, _ = h.timed(lambda: save_map(m, path))
    return {
        "setup_s": setup_s,
        "build_s": build_s,
        "save_s": save_s,
        "bytes": path.stat().st_size,
        "band_vertices": vertices,
    }


def job_folium(job: dict[str, Any]) -> dict[str, Any]:
    """The straightforward Folium map: every residence a GeoJSON feature with all its columns
    in a tooltip, drawn as circle markers on a canvas (what ``GeoDataFrame.explore`` does)."""
    import folium

    setup_s, review = h.timed(lambda: synthetic_review(job["residences"]))
    residences = review.residences

    def build() -> str:
        m = folium.Map(prefer_canvas=True)
        fields = [c for c in residences.columns if c != "geometry"]
        folium.GeoJson(
            residences.to_json(),
            marker=folium.CircleMarker(radius=4),
            tooltip=folium.GeoJsonTooltip(fields=fields),
        ).add_to(m)
        return m.get_root().render()

    build_s, page = h.timed(build)
    return {"setup_s": setup_s, "build_s": build_s, "bytes": len(page.encode("utf-8"))}


JOBS = {"build": job_build, "folium": job_folium}


# --------------------------------------------------------------------------- browser


def open_in_chromium(path: Path, repeats: int) -> list[dict[str, float]]:
    """Open ``path`` ``repeats`` times, each in a fresh page, network blocked; time it."""
    from playwright.sync_api import sync_playwright

    runs = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for _ in range(repeats):
                context = browser.new_context(viewport={"width": 1400, "height": 900})
                page = context.new_page()
                errors: list[str] = []
                page.on("pageerror", lambda exc, errors=errors: errors.append(str(exc)))
                page.route(
                    "**/*",
                    lambda r: r.continue_() if r.request.url.startswith("file://") else r.abort(),
                )
                start = time.perf_counter()
                page.goto(path.resolve().as_uri(), timeout=300_000)
                page.wait_for_selector(".folium-map[data-pm-ready='1']", timeout=300_000)
                wall = time.perf_counter() - start
                drawn_ms = page.evaluate("PlannerMap.drawnMs")
                heap_mb = page.evaluate(
                    "performance.memory ? performance.memory.usedJSHeapSize / 1048576 : null"
                )
                pan_js_ms, pan_ms = page.evaluate(
                    """() => new Promise(resolve => {
                      const map = PlannerMap.maps[0];
                      const t0 = performance.now();
                      map.panBy([200, 0], {animate: false});  // redraws every canvas layer
                      const js = performance.now() - t0;
                      requestAnimationFrame(() => requestAnimationFrame(
                        () => resolve([js, performance.now() - t0])));
                    })"""
                )
                ratio_ms = page.evaluate(
                    """() => new Promise(resolve => {
                      const group = PlannerMap.groups.residences_ratio;
                      const map = PlannerMap.maps[0];
                      const t0 = performance.now();
                      map.addLayer(group);
                      requestAnimationFrame(() => requestAnimationFrame(
                        () => resolve(performance.now() - t0)));
                    })"""
                )
                x, y = page.evaluate(
                    """() => {
                      const map = PlannerMap.maps[0];
                      map.removeLayer(PlannerMap.groups.residences_ratio);
                      const size = map.getSize();
                      const points = PlannerMap.groups.residences._pmPoints.containerPoints();
                      const r = map.getContainer().getBoundingClientRect();
                      const mid = [size.x / 2, size.y / 2];
                      let best = null, dist = Infinity;
                      for (const p of points) {
                        const d = Math.hypot(p.x - mid[0], p.y - mid[1]);
                        if (d < dist) { dist = d; best = p; }
                      }
                      return [r.left + best.x, r.top + best.y];
                    }"""
                )
                click_start = time.perf_counter()
                page.mouse.click(x, y)
                page.wait_for_selector(".leaflet-popup-content .pm-pop-title", timeout=60_000)
                click_ms = (time.perf_counter() - click_start) * 1000
                runs.append(
                    {
                        "wall_s": wall,
                        "drawn_s": drawn_ms / 1000.0,
                        "heap_mb": heap_mb,
                        "ratio_ms": ratio_ms,
                        "pan_js_ms": pan_js_ms,
                        "pan_ms": pan_ms,
                        "click_ms": click_ms,
                        "errors": len(errors),
                    }
                )
                context.close()
        finally:
            browser.close()
    return runs


def main() -> None:
    if h.is_child():
        h.child_main(JOBS)
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residences", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3, help="browser opens (median)")
    parser.add_argument(
        "--basemap",
        default="none",
        choices=("osm", "amap", "none"),
        help="default none: with a tile basemap, every blocked tile request goes through "
        "Playwright's request interception, which the page's own time would then include",
    )
    parser.add_argument(
        "--no-reference", action="store_true", help="skip the plain Folium reference"
    )
    parser.add_argument("--no-append", action="store_true", help="do not write RESULTS.md")
    args = parser.parse_args()
    started = dt.datetime.now().astimezone()
    script = Path(__file__).resolve()
    h.OUT.mkdir(parents=True, exist_ok=True)
    path = h.OUT / f"bench_map_{args.residences}_{args.basemap}.html"

    print(f"build: {args.residences:,} residences -> {path.relative_to(h.REPO)}", flush=True)
    build = h.run_child(
        script,
        {
            "job": "build",
            "residences": args.residences,
            "lang": "zh",
            "basemap": args.basemap,
            "path": str(path),
        },
    )
    if not build.ok:
        sys.exit(f"build failed: {build.error}")
    b = build.payload
    print(
        f"  review {b['setup_s']:.1f} s, build_map {b['build_s']:.1f} s, save_map "
        f"{b['save_s']:.1f} s, {b['bytes'] / 1e6:.1f} MB, peak {build.peak_mb:,.0f} MB",
        flush=True,
    )
    print(f"open in Chromium x{args.repeats} ...", flush=True)
    runs = open_in_chromium(path, args.repeats)
    for run in runs:
        print("  " + ", ".join(f"{k} {v:.2f}" for k, v in run.items() if v is not None))

    explore = None
    if not args.no_reference:
        print("reference: plain folium.GeoJson of the same residences ...", flush=True)
        explore = h.run_child(script, {"job": "folium", "residences": args.residences})
        if explore.ok:
            e = explore.payload
            print(f"  {e['build_s']:.1f} s, {e['bytes'] / 1e6:.1f} MB, peak {explore.peak_mb:,.0f}")

    def med(key: str) -> float:
        return statistics.median(r[key] for r in runs)

    rows = [
        [
            "planner.maps (build_map + save_map)",
            f"{b['bytes'] / 1e6:.1f} MB",
            f"{b['build_s'] + b['save_s']:.1f} s",
            f"{build.peak_mb:,.0f} MB",
            f"{med('drawn_s'):.2f} s (wall {med('wall_s'):.2f} s)",
            "yes",
        ]
    ]
    if explore is not None and explore.ok:
        e = explore.payload
        rows.append(
            [
                "plain folium.GeoJson, all columns (reference)",
                f"{e['bytes'] / 1e6:.1f} MB",
                f"{e['build_s']:.1f} s",
                f"{explore.peak_mb:,.0f} MB",
                "-",
                "no (Leaflet, jQuery, Bootstrap from CDNs)",
            ]
        )
    table = h.markdown_table(
        ["map", "HTML size", "build + write", "peak RSS", "open until drawn (median)", "offline"],
        rows,
    )
    heap = [r["heap_mb"] for r in runs if r["heap_mb"] is not None]
    interactions = h.markdown_table(
        ["in the open page (median)", "time"],
        [
            [
                "show the hidden m²/100 households layer (first time: built, then drawn)",
                f"{med('ratio_ms'):.0f} ms",
            ],
            [
                "pan 200 px: redraw of every layer (JS) / until painted (2 frames)",
                f"{med('pan_js_ms'):.0f} ms / {med('pan_ms'):.0f} ms",
            ],
            ["click a residence until its popup is in the page", f"{med('click_ms'):.0f} ms"],
            ["JS heap after opening", f"{statistics.median(heap):.0f} MB" if heap else "-"],
            ["page errors", str(sum(r["errors"] for r in runs))],
        ],
    )
    body = (
        f"Synthetic review: {args.residences:,} residences, "
        f"{sum(c[0] for c in CATEGORIES.values())} facilities in 3 categories, walking bands "
        f"5/10/15 min per category ({b['band_vertices']:,} vertices before simplification), "
        f"400 community polygons; basemap `{args.basemap}`, language zh. Headless Chromium "
        f"{_chromium_version()} (Debian), 1400x900, every non-file request aborted, "
        f'{args.repeats} fresh page(s). "Open until drawn" is `performance.now()` from '
        "navigation start to two animation frames after the last layer was added.\n\n"
        f"{table}\n\n{interactions}\n"
    )
    print()
    print(body)
    if not args.no_append:
        where = h.append_results(f"Map: {args.residences:,} residences", body, started=started)
        print(f"appended to {where.relative_to(h.REPO)}")


def _chromium_version() -> str:
    import subprocess

    try:
        out = subprocess.run(
            [CHROMIUM, "--version"], capture_output=True, text=True, timeout=30
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return "?"
    words = [w for w in out.split() if w[:1].isdigit()]
    return words[0] if words else "?"


if __name__ == "__main__":
    main()
