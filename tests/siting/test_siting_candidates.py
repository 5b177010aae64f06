"""Candidate sites generated along the streets: spacing, centring, mask."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from planner.errors import InputError
from planner.network import build_network
from planner.siting import candidate_sites

CRS = 32650


@pytest.fixture(scope="module")
def street():
    lines = [shapely.LineString([(x, 0), (x + 1000, 0)]) for x in (0, 1000, 2000)]
    return build_network(gpd.GeoDataFrame(geometry=lines, crs=CRS))


def test_candidate_sites_spacing_and_mask(street):
    sites = candidate_sites(street, spacing_m=100)
    assert sites.crs.to_epsg() == 4326 and len(sites) == 30
    xs = np.sort(sites.to_crs(CRS).geometry.x.to_numpy())
    np.testing.assert_allclose(xs, np.arange(50, 3000, 100), atol=1e-6)
    assert sites["id"].tolist()[:2] == ["C1", "C2"] and sites["id"].is_unique
    # A spacing that does not divide the edge: 3 points per 1000 m edge, centred.
    xs = np.sort(candidate_sites(street, spacing_m=400).to_crs(CRS).geometry.x.to_numpy())
    np.testing.assert_allclose(xs[:3], [1000 / 6, 500, 5000 / 6], atol=1e-6)
    mask = gpd.GeoDataFrame(geometry=[shapely.box(900, -50, 2100, 50)], crs=CRS)
    kept = candidate_sites(street, spacing_m=100, mask=mask).to_crs(CRS).geometry.x.to_numpy()
    assert len(kept) == 18 and not ((kept > 900) & (kept < 2100)).any()
    with pytest.raises(InputError, match="spacing_m"):
        candidate_sites(street, spacing_m=0)
