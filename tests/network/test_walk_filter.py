"""The walk filter (`planner.osm.tags.is_walkable`): its table of tags, and applied to a file."""

from __future__ import annotations

from pathlib import Path

import pytest
from network_helpers import osm_file

from planner.network import load_network
from planner.osm.tags import is_walkable

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
