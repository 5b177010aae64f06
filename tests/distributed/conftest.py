"""Shared inputs of the split-review tests: a small synthetic city with communities."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

import planner
from bench.synth_osm import write_synthetic_city
from bench.synth_review import write_review_inputs


@pytest.fixture(scope="session")
def synth(tmp_path_factory):
    """A 2,000-node synthetic city, 40 facilities, 1,500 residences and 3 × 3 communities."""
    folder = tmp_path_factory.mktemp("synth")
    city = folder / "city.osm.pbf"
    write_synthetic_city(city, walk_nodes=2000, seed=3)
    config = write_review_inputs(city, folder / "review", facilities=40, residences=1500, seed=3)
    network = planner.load_network(city)
    fac = planner.read_facilities(folder / "review" / "facilities.gpkg")
    res = planner.read_residences(folder / "review" / "residences.gpkg")
    x0, y0 = network.node_x.min(), network.node_y.min()
    x1, y1 = network.node_x.max(), network.node_y.max()
    xs, ys = np.linspace(x0, x1, 4), np.linspace(y0, y1, 4)
    polys, ids, sub = [], [], []
    for i in range(3):
        for j in range(3):
            polys.append(shapely.box(xs[i], ys[j], xs[i + 1], ys[j + 1]).buffer(-40))
            ids.append(f"C{i}{j}")
            sub.append(f"S{i}")
    comm = gpd.GeoDataFrame(
        {"id": ids, "name": ids, "subdistrict": sub}, geometry=polys, crs=network.crs
    ).to_crs(4326)
    return {
        "city": city,
        "config": config,
        "network": network,
        "facilities": fac,
        "residences": res,
        "communities": comm,
    }
