"""`build_network`: networks from street centre lines."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely
from network_helpers import UTM

from planner.errors import InputError
from planner.network import build_network


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
