"""Shared inputs of the split-review tests: a small synthetic city with communities."""

from __future__ import annotations

import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import planner
from planner.distributed import censor_walks

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def synth(tmp_path_factory):
    """A 2,000-node synthetic city, 40 facilities, 1,500 residences and 3 × 3 communities."""
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from synth_osm import write_synthetic_city
        from synth_review import write_review_inputs
    finally:
        sys.path.remove(str(ROOT / "bench"))
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


def assert_same(single, split) -> None:
    """The split review equals the single-process one, walks beyond the largest threshold
    given as "more than X m" (inf); frames compared exactly."""
    exact_to = split.residences.attrs["walks_exact_to_m"]
    assert exact_to == max(split.summary["parameters"]["thresholds"].values())
    res, gaps = censor_walks(single, exact_to)
    pd.testing.assert_frame_equal(
        pd.DataFrame(res), pd.DataFrame(split.residences), check_exact=True
    )
    pd.testing.assert_frame_equal(gaps, split.gaps, check_exact=True)
    pd.testing.assert_frame_equal(
        pd.DataFrame(single.facilities), pd.DataFrame(split.facilities), check_exact=True
    )
    if single.communities is not None:
        pd.testing.assert_frame_equal(
            pd.DataFrame(single.communities), pd.DataFrame(split.communities), check_exact=True
        )
    for level in ("subdistricts", "districts"):
        one, other = getattr(single, level), getattr(split, level)
        assert (one is None) == (other is None)
        if one is not None:
            pd.testing.assert_frame_equal(one, other, check_exact=True)
    assert single.summary == split.summary
