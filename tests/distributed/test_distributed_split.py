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


def test_catchment_two_rounds(synth):
    """Round one sums each facility's demand over the units; round two shares it out."""
    args = (synth["network"], synth["facilities"], synth["residences"])
    plan = plan_review(InMemoryNetwork(args[0]), *args[1:], tile_m=600.0)
    results = [distributed.review_unit(InMemoryNetwork(args[0]), t) for t in plan.tasks()]
    pf = np.concatenate([r.pair_fac for r in results])
    pr = np.concatenate([r.pair_res for r in results])
    ratio, demand = distributed.catchment_ratio(plan, pf, pr)
    single = planner.catchments(
        args[0],
        args[1][args[1]["category"] == "community_service"],
        args[2],
        cutoff_m=1000.0,
    )
    hh = args[2].set_index("id")["households"]
    expected = single.groupby("facility_id")["residence_id"].apply(lambda r: hh[r].sum())
    ids = plan.fac["id"].to_numpy()
    got = dict(zip(ids[demand > 0], demand[demand > 0], strict=True))
    assert got == pytest.approx(expected.to_dict())
    shares = [
        distributed.catchment_shares(ratio, r.pair_fac, r.pair_res, r.res_rows) for r in results
    ]
    assert sum(float(np.sum(s)) for s in shares) > 0


def test_nearest_allocation_refused(synth):
    with pytest.raises(InputError, match="nearest"):
        distributed.check(
            synth["network"], synth["facilities"], synth["residences"], allocation="nearest"
        )
