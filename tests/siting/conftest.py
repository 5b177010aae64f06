"""Fixtures shared by the siting tests."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

from planner.network import Network, build_network

CRS = 32650


@pytest.fixture(scope="module")
def street() -> Network:
    """Three 1 km edges end to end along the x axis (EPSG:32650)."""
    lines = [shapely.LineString([(x, 0), (x + 1000, 0)]) for x in (0, 1000, 2000)]
    return build_network(gpd.GeoDataFrame(geometry=lines, crs=CRS))
