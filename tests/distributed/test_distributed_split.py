"""The review split into units equals the single-process review (planner.check)."""

from __future__ import annotations

import numpy as np
import pytest
from split_helpers import ROOT, assert_same, read_review

import planner
from planner import distributed
from planner.distributed import InMemoryNetwork, plan_review
from planner.errors import InputError


@pytest.mark.parametrize("demo", ["haidian", "guixi"])
@pytest.mark.parametrize("tile_m", [5000.0, 300.0])
def test_demo_split_equals_single(demo, tile_m):
    _, path, facilities, residences, options = read_review(ROOT / "data" / demo / "review.toml")
    network = planner.load_network(path)
    single = planner.check(network, facilities, residences, **options)
    split = distributed.check(network, facilities, residences, tile_m=tile_m, **options)
    assert_same(single, split)
    if tile_m == 300.0:  # really split: several units, each with part of the network
        plan = plan_review(InMemoryNetwork(network), facilities, residences, tile_m=tile_m)
        assert len(plan.units) > 3


@pytest.mark.parametrize("tile_m", [600.0, 1500.0])
def test_synthetic_city_tiles(synth, tile_m):
    args = (synth["network"], synth["facilities"], synth["residences"])
    single = planner.check(*args)
    stats = distributed.cluster.RunStats()
    split = distributed.check(*args, tile_m=tile_m, stats=stats)
    assert_same(single, split)
    # every unit read less than the whole network
    assert max(stats.halo_nodes.values()) < synth["network"].n_nodes
    # walks up to the largest threshold are all there: the exact ones
    walk = split.residences["walk_m_community_service"].to_numpy()
    assert np.isfinite(walk).any() and np.isinf(walk).any()


@pytest.mark.parametrize("allocation", ["catchment", "community"])
@pytest.mark.parametrize("level", [None, "subdistrict"])
def test_synthetic_city_communities(synth, allocation, level):
    args = (synth["network"], synth["facilities"], synth["residences"])
    options = {"communities": synth["communities"], "allocation": allocation}
    single = planner.check(*args, **options)
    split = distributed.check(*args, unit_level=level, **options)
    assert_same(single, split)
    names = [
        u.name
        for u in plan_review(InMemoryNetwork(args[0]), *args[1:], unit_level=level, **options).units
    ]
    assert ("subdistrict S0" if level else "community C00") in names


def test_units_give_the_catchment_pairs_of_the_whole_network(synth):
    """Each (facility, residence) pair within the walk is found by exactly one unit, so the
    merge's two rounds over all units' pairs are the single-process rounds."""
    args = (synth["network"], synth["facilities"], synth["residences"])
    plan = plan_review(InMemoryNetwork(args[0]), *args[1:], tile_m=600.0)
    assert len(plan.units) > 4
    results = [distributed.review_unit(InMemoryNetwork(args[0]), t) for t in plan.tasks()]
    fac_ids, res_ids = plan.fac["id"].to_numpy(), plan.res["id"].to_numpy()
    got = [
        (f, r)
        for u in results
        for f, r in zip(fac_ids[u.pair_fac], res_ids[u.pair_res], strict=True)
    ]
    single = planner.catchments(
        args[0],
        args[1][args[1]["category"] == "community_service"],
        args[2],
        cutoff_m=1000.0,
    )
    expected = list(zip(single["facility_id"], single["residence_id"], strict=True))
    assert len(got) == len(set(got)) and set(got) == set(expected)


def test_nearest_allocation_refused(synth):
    with pytest.raises(InputError, match="nearest"):
        distributed.check(
            synth["network"], synth["facilities"], synth["residences"], allocation="nearest"
        )
