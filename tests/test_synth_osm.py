"""Tests of bench/synth_osm.py, the synthetic city generator for the city-scale benchmarks.

Each tiny city (~2,000 walk nodes) is read back with osmium and checked against the statistics
the generator returns, and its walk graph is recounted independently with networkx.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import networkx as nx
import osmium
import pytest

from bench import synth_osm as synth

REPO = Path(__file__).resolve().parents[1]
WALK_NODES = 2000
FORMATS = (".osm", ".osm.bz2", ".osm.pbf")


def _read(path: Path) -> dict[str, Any]:
    """Everything the tests look at, read back with osmium in file order."""
    order: list[tuple[str, int]] = []
    nodes: dict[int, tuple[float, float]] = {}
    tagged_nodes = 0
    ways: list[tuple[int, list[int], dict[str, str]]] = []
    timestamps = set()
    for obj in osmium.FileProcessor(str(path)):
        if obj.is_node():
            order.append(("n", obj.id))
            nodes[obj.id] = (obj.location.lon, obj.location.lat)
            tagged_nodes += len(obj.tags) > 0
        elif obj.is_way():
            order.append(("w", obj.id))
            ways.append((obj.id, [n.ref for n in obj.nodes], dict(obj.tags)))
        timestamps.add(obj.timestamp)
    reader = osmium.io.Reader(str(path), osmium.osm.osm_entity_bits.NOTHING)
    header = reader.header()
    box = header.box()
    reader.close()
    return {
        "order": order,
        "nodes": nodes,
        "tagged_nodes": tagged_nodes,
        "ways": ways,
        "timestamps": timestamps,
        "box": (box.bottom_left.lon, box.bottom_left.lat, box.top_right.lon, box.top_right.lat),
        "replication": header.get("osmosis_replication_timestamp"),
    }


@pytest.fixture(scope="module")
def cities(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The same city (same seed and size) written once in each format and read back."""
    folder = tmp_path_factory.mktemp("synth")
    out = {}
    for suffix in FORMATS:
        path = folder / f"city{suffix}"
        stats = synth.write_synthetic_city(path, walk_nodes=WALK_NODES, seed=7)
        out[suffix] = (path, stats, _read(path))
    return out


@pytest.fixture(params=FORMATS)
def city(request: pytest.FixtureRequest, cities: dict[str, Any]) -> Any:
    return cities[request.param]


@pytest.fixture
def pbf_city(cities: dict[str, Any]) -> Any:
    return cities[".osm.pbf"]


# An independent statement of the walk filter in docs/ARCHITECTURE.md, for the recount.
def _walkable(tags: dict[str, str]) -> bool:
    if "highway" not in tags or tags.get("area") == "yes":
        return False
    if tags["highway"] in {"motorway", "motorway_link", "construction", "proposed", "platform"}:
        return False
    foot = tags.get("foot")
    foot_ok = foot in {"yes", "designated", "permissive"}
    if foot == "no" or (tags.get("access") in {"private", "no"} and not foot_ok):
        return False
    return not (tags["highway"] == "cycleway" and not foot_ok)


def _great_circle_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    lon1, lat1, lon2, lat2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6_371_009.0 * math.asin(math.sqrt(min(h, 1.0)))


def test_counts_match_the_returned_stats(city: Any) -> None:
    path, stats, data = city
    assert path.exists()
    assert stats["osm_nodes"] == len(data["nodes"])
    assert stats["osm_ways"] == len(data["ways"])
    assert stats["path"] == str(path)
    assert 5 * WALK_NODES < stats["osm_nodes"] < 12 * WALK_NODES  # shape nodes, buildings
    buildings = sum("building" in tags for _, _, tags in data["ways"])
    assert buildings == stats["building_ways"] > 0
    assert data["tagged_nodes"] > 0  # signals, crossings, POIs


def test_objects_are_sorted_nodes_first_like_an_extract(city: Any) -> None:
    _, _, data = city
    kinds = [kind for kind, _ in data["order"]]
    n_nodes = kinds.count("n")
    assert kinds == ["n"] * n_nodes + ["w"] * (len(kinds) - n_nodes)
    node_ids = [i for kind, i in data["order"] if kind == "n"]
    way_ids = [i for kind, i in data["order"] if kind == "w"]
    assert all(a < b for a, b in zip(node_ids, node_ids[1:], strict=False))
    assert all(a < b for a, b in zip(way_ids, way_ids[1:], strict=False))
    # ids beyond 32 bits, like current OSM data
    assert node_ids[0] < 2**31 < 2**33 < node_ids[-1]


def test_clipped_ways_reference_missing_nodes(city: Any) -> None:
    _, stats, data = city
    nodes = data["nodes"]
    clipped = [refs for _, refs, _ in data["ways"] if any(r not in nodes for r in refs)]
    missing = sum(r not in nodes for _, refs, _ in data["ways"] for r in refs)
    assert len(clipped) == stats["clipped_ways"] > 20
    assert missing == stats["missing_node_refs"]
    # every written way still has a node inside the file
    assert all(any(r in nodes for r in refs) for _, refs, _ in data["ways"])
    # and every written node lies inside the header's bounding box
    lo_lon, lo_lat, hi_lon, hi_lat = data["box"]
    assert all(lo_lon <= x <= hi_lon and lo_lat <= y <= hi_lat for x, y in nodes.values())
    assert tuple(stats["bbox"]) == pytest.approx(data["box"], abs=1e-7)
    assert abs((lo_lon + hi_lon) / 2 - synth.CENTRE_LON) < 1e-3
    assert abs((lo_lat + hi_lat) / 2 - synth.CENTRE_LAT) < 1e-3


def test_the_walk_filter_has_work_to_do(pbf_city: Any) -> None:
    _, stats, data = pbf_city
    tag_sets = [tags for _, _, tags in data["ways"]]

    def has(**want: str) -> bool:
        return any(all(t.get(k) == v for k, v in want.items()) for t in tag_sets)

    assert has(highway="motorway")
    assert has(foot="no")
    assert has(highway="construction")
    assert any(t.get("access") == "private" and "foot" not in t for t in tag_sets)
    assert has(access="private", foot="yes")
    assert any(t.get("highway") == "cycleway" and "foot" not in t for t in tag_sets)
    assert has(oneway="yes")
    for highway in ("residential", "tertiary", "secondary", "primary", "footway", "service"):
        assert has(highway=highway)
    named = [t["name"] for t in tag_sets if t.get("highway") == "residential" and "name" in t]
    assert named and all(n.endswith(("街", "段")) or "号" in n for n in named)
    non_walkable = [t for t in tag_sets if "highway" in t and not _walkable(t)]
    assert len(non_walkable) == stats["non_walkable_highway_ways"] > 0
    # buildings are closed polygons
    rings = [refs for _, refs, t in data["ways"] if "building" in t]
    assert all(len(refs) == 5 and refs[0] == refs[-1] for refs in rings)


def test_streets_have_shape_nodes(pbf_city: Any) -> None:
    _, _, data = pbf_city
    nodes = data["nodes"]
    streets = [refs for _, refs, t in data["ways"] if t.get("highway") == "residential"]
    assert sum(len(refs) for refs in streets) / len(streets) > 4
    # a shape node is off the straight line between its neighbours (curved geometry)
    offsets = []
    for refs in streets:
        for a, b, c in zip(refs, refs[1:], refs[2:], strict=False):
            if a in nodes and b in nodes and c in nodes:
                (ax, ay), (bx, by), (cx, cy) = nodes[a], nodes[b], nodes[c]
                cross = (cx - ax) * (by - ay) - (cy - ay) * (bx - ax)
                offsets.append(abs(cross) / max(math.hypot(cx - ax, cy - ay), 1e-12))
    assert max(offsets) * 111_000 > 2.0  # metres


def test_walk_graph_recount_matches_expected(pbf_city: Any) -> None:
    """Cut walkable ways at missing nodes, keep the largest component, count like OSMnx."""
    _, stats, data = pbf_city
    nodes = data["nodes"]
    graph = nx.Graph()
    for _, refs, tags in data["ways"]:
        if not _walkable(tags):
            continue
        for u, v in zip(refs, refs[1:], strict=False):
            if u in nodes and v in nodes and u != v:
                graph.add_edge(u, v)
    largest = graph.subgraph(max(nx.connected_components(graph), key=len))
    walk_nodes = sum(1 for n in largest if largest.degree(n) != 2)
    dead_ends = sum(1 for n in largest if largest.degree(n) == 1)
    length_m = sum(_great_circle_m(nodes[u], nodes[v]) for u, v in largest.edges)
    assert walk_nodes == stats["walk_nodes_expected"]
    assert dead_ends == stats["walk_dead_ends_expected"] > 0
    assert length_m == pytest.approx(stats["walk_length_m_expected"], abs=1.0)
    assert nx.number_connected_components(graph) == stats["walk_components"] > 1
    assert abs(walk_nodes / WALK_NODES - 1) <= 0.15


def test_timestamps_and_header(pbf_city: Any) -> None:
    _, _, data = pbf_city
    assert len(data["timestamps"]) > 50
    assert all(ts.year >= 2012 for ts in data["timestamps"])
    newest = max(data["timestamps"]).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert data["replication"] == newest  # only PBF headers have a place for it


def test_the_three_formats_hold_the_same_city(cities: dict[str, Any]) -> None:
    reference = cities[".osm.pbf"]
    for suffix in (".osm", ".osm.bz2"):
        _, stats, data = cities[suffix]
        assert data["nodes"] == reference[2]["nodes"]
        assert data["ways"] == reference[2]["ways"]
        assert data["timestamps"] == reference[2]["timestamps"]
        assert stats["walk_nodes_expected"] == reference[1]["walk_nodes_expected"]


def test_same_seed_same_bytes_other_seed_other_city(tmp_path: Path) -> None:
    first = synth.write_synthetic_city(tmp_path / "a.osm", walk_nodes=800, seed=3)
    second = synth.write_synthetic_city(tmp_path / "b.osm", walk_nodes=800, seed=3)
    other = synth.write_synthetic_city(tmp_path / "c.osm", walk_nodes=800, seed=4)
    assert (tmp_path / "a.osm").read_bytes() == (tmp_path / "b.osm").read_bytes()
    assert (tmp_path / "a.osm").read_bytes() != (tmp_path / "c.osm").read_bytes()
    drop = ("path",)
    assert {k: v for k, v in first.items() if k not in drop and not k.endswith("_s")} == {
        k: v for k, v in second.items() if k not in drop and not k.endswith("_s")
    }
    assert other["walk_nodes_expected"] != first["walk_nodes_expected"] or (
        other["osm_nodes"] != first["osm_nodes"]
    )


def test_without_clipping_every_reference_is_in_the_file(tmp_path: Path) -> None:
    path = tmp_path / "complete.osm.pbf"
    stats = synth.write_synthetic_city(path, walk_nodes=800, seed=1, clip=False)
    data = _read(path)
    nodes = data["nodes"]
    assert stats["clipped_ways"] == stats["missing_node_refs"] == 0
    assert all(r in nodes for _, refs, _ in data["ways"] for r in refs)
    assert abs(stats["walk_nodes_expected"] / 800 - 1) <= 0.15


def test_bad_arguments_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"city\.geojson.*\.osm\.pbf"):
        synth.write_synthetic_city(tmp_path / "city.geojson", walk_nodes=1000)
    with pytest.raises(ValueError, match="walk_nodes=10"):
        synth.write_synthetic_city(tmp_path / "city.osm", walk_nodes=10)
    assert not list(tmp_path.iterdir())


def test_cli_writes_the_file_and_prints_stats(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "sub" / "cli.osm.pbf"
    code = synth.main(["--walk-nodes", "500", "--out", str(out), "--seed", "2", "--quiet"])
    assert code == 0
    assert out.exists()
    printed = capsys.readouterr().out
    assert '"walk_nodes_expected"' in printed
    assert not list(out.parent.glob(".tmp-*"))
    assert synth.main(["--walk-nodes", "500", "--out", str(tmp_path / "x.txt")]) == 2
