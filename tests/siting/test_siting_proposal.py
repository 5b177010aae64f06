"""Siting: covering models against brute force, sizing worked by hand, proposals re-checked.

The verification contract of issue 7: every proposal's claimed coverage is recomputed by the
coverage check (`planner.checks.check`, the proposal's *after* review, and again here); on small
instances the exact answer equals brute force over all k-subsets; greedy never beats exact; set
covering covers everything coverable.
"""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.checks import check, column
from planner.engine import nearest
from planner.errors import InputError
from planner.network import build_network, load_network
from planner.outputs import write_proposal
from planner.siting import (
    Proposal,
    candidate_sites,
    coverage_matrix,
    max_cover,
    propose,
    set_cover,
    size_floor_area,
)
from planner.snapping import snap_points
from planner.standards import Rule, Standard

CRS = 32650
DATA = Path(__file__).resolve().parents[2] / "data"


# ------------------------------------------------------------------------------------------------
# Array core against brute force
# ------------------------------------------------------------------------------------------------


def _covered(matrix: np.ndarray, subset: tuple[int, ...]) -> np.ndarray:
    if not subset:
        return np.zeros(matrix.shape[1], dtype=bool)
    return matrix[list(subset)].any(axis=0)


def _brute_max_cover(matrix: np.ndarray, w: np.ndarray, k: int) -> float:
    n = matrix.shape[0]
    return max(
        float(w[_covered(matrix, subset)].sum())
        for size in range(0, min(k, n) + 1)
        for subset in itertools.combinations(range(n), size)
    )


def _brute_set_cover(matrix: np.ndarray, cost: np.ndarray) -> tuple[int, float]:
    """Fewest sites covering everything, and the least cost among those."""
    n = matrix.shape[0]
    for size in range(0, n + 1):
        costs = [
            float(cost[list(subset)].sum())
            for subset in itertools.combinations(range(n), size)
            if _covered(matrix, subset).all()
        ]
        if costs:
            return size, min(costs)
    raise AssertionError("not coverable")


@st.composite
def _instances(draw):
    n = draw(st.integers(1, 10))
    m = draw(st.integers(1, 14))
    density = draw(st.floats(0.05, 0.6))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    matrix = rng.random((n, m)) < density
    weights = rng.integers(0, 60, m).astype(float)
    return matrix, weights


@settings(max_examples=40, deadline=None)
@given(_instances(), st.integers(1, 4))
def test_max_cover_exact_equals_brute_force_and_greedy_never_beats_it(instance, k):
    matrix, w = instance
    best = _brute_max_cover(matrix, w, k)
    exact = max_cover(sp.csr_matrix(matrix), w, k, method="milp")
    greedy = max_cover(sp.csr_matrix(matrix), w, k, method="greedy")
    for sol in (exact, greedy):
        assert sol.chosen.shape[0] <= k
        assert len(set(sol.chosen.tolist())) == sol.chosen.shape[0]
        # The claimed objective is what the chosen sites really cover.
        assert sol.objective == pytest.approx(float(w[_covered(matrix, tuple(sol.chosen))].sum()))
        # Bounds are valid.
        assert sol.bound is not None and sol.bound >= best - 1e-6
    assert exact.objective == pytest.approx(best)
    assert exact.gap == 0.0
    assert greedy.objective <= exact.objective + 1e-9
    assert greedy.objective >= (1 - 1 / math.e) * exact.objective - 1e-9
    if best > 0:
        assert exact.status == "optimal" and exact.method == "milp"
        assert greedy.method == "greedy"
    else:
        assert exact.status == greedy.status == "empty" and exact.chosen.size == 0


@settings(max_examples=40, deadline=None)
@given(_instances(), st.integers(0, 2**32 - 1))
def test_set_cover_exact_equals_brute_force_and_covers_everything(instance, seed):
    matrix, w = instance
    matrix = matrix[:, matrix.any(axis=0)]
    if matrix.shape[1] == 0:
        return
    cost = np.random.default_rng(seed).integers(0, 5, matrix.shape[0]).astype(float)
    best, best_cost = _brute_set_cover(matrix, cost)
    exact = set_cover(sp.csr_matrix(matrix), site_cost=cost, method="milp")
    greedy = set_cover(sp.csr_matrix(matrix), site_cost=cost, method="greedy")
    for sol in (exact, greedy):
        assert _covered(matrix, tuple(sol.chosen)).all()
        assert sol.objective == sol.chosen.shape[0]
        assert sol.bound is not None and sol.bound <= best
    assert exact.objective == best and exact.gap == 0.0
    assert float(cost[exact.chosen].sum()) == pytest.approx(best_cost)
    assert greedy.objective >= exact.objective
    d = int(matrix.sum(axis=1).max())
    harmonic = sum(1 / i for i in range(1, d + 1))
    assert greedy.objective <= harmonic * best + 1e-9
    assert harmonic <= math.log(matrix.shape[1]) + 1 + 1e-9


def test_set_cover_prefers_the_cheaper_of_equal_counts():
    # Sites 0 and 1 both cover everything alone; site 1 is cheaper.
    matrix = sp.csr_matrix(np.array([[1, 1, 1], [1, 1, 1], [1, 0, 0]], dtype=bool))
    for method in ("milp", "greedy"):
        sol = set_cover(matrix, site_cost=np.array([5.0, 2.0, 0.0]), method=method)
        assert sol.chosen.tolist() == [1]


def test_greedy_known_bad_case_has_a_valid_gap():
    # The classic greedy trap: 14 points in two rows of 7 columns. Rows A and B cover all;
    # greedy takes columns 0-3 (8 points) first, then 4-5, then 6: three disjoint sites.
    top, bottom = np.arange(7), np.arange(7, 14)
    matrix = np.zeros((5, 14), dtype=bool)
    matrix[0, top] = True
    matrix[1, bottom] = True
    for row, cols in ((2, [0, 1, 2, 3]), (3, [4, 5]), (4, [6])):
        matrix[row, cols] = True
        matrix[row, np.asarray(cols) + 7] = True
    greedy = set_cover(sp.csr_matrix(matrix), method="greedy")
    exact = set_cover(sp.csr_matrix(matrix), method="milp")
    assert exact.objective == 2 and greedy.objective == 3
    assert greedy.gap == pytest.approx((3 - greedy.bound) / 3)
    assert greedy.status == "heuristic"
    assert exact.status == "optimal" and exact.gap == 0.0


def test_max_cover_drops_sites_that_add_nothing():
    matrix = sp.csr_matrix(np.array([[1, 1, 0], [1, 0, 0], [0, 0, 0]], dtype=bool))
    for method in ("milp", "greedy", "auto"):
        sol = max_cover(matrix, np.array([10.0, 5.0, 7.0]), 3, method=method)
        assert sol.chosen.tolist() == [0]
        assert sol.objective == 15.0


def test_coverage_matrix_and_input_errors():
    matrix = coverage_matrix(np.array([0, 0, 2]), np.array([1, 1, 0]), n_sites=3, n_demand=2)
    assert matrix.dtype == bool and matrix.shape == (3, 2)
    assert matrix.toarray().tolist() == [[False, True], [False, False], [True, False]]
    with pytest.raises(InputError, match="k"):
        max_cover(matrix, np.ones(2), 0)
    with pytest.raises(InputError, match="weights"):
        max_cover(matrix, np.ones(3), 1)
    with pytest.raises(InputError, match="method"):
        max_cover(matrix, np.ones(2), 1, method="simplex")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="reached by no candidate"):
        set_cover(coverage_matrix(np.array([0]), np.array([0]), n_sites=1, n_demand=2))


# ------------------------------------------------------------------------------------------------
# Sizing, worked by hand
# ------------------------------------------------------------------------------------------------


def test_sizing_hand_worked_overlap():
    # Residences A, B, C of 100 households; site 1 reaches A and B, site 2 reaches B and C.
    # Each catchment holds 200 households, so 1 m² gives 0.5 m²/100 hh to each of them.
    # A needs a1 >= 60, C needs a2 >= 60; B then has 60 already. Least total: 60 + 60.
    reach = sp.csr_matrix(np.array([[1, 1, 0], [0, 1, 1]], dtype=bool))
    hh = np.array([100.0, 100.0, 100.0])
    np.testing.assert_allclose(size_floor_area(reach, hh, module_m2=10), [60, 60])
    np.testing.assert_allclose(size_floor_area(reach, hh, module_m2=50), [100, 100])
    # Stand-alone rule: 30 m² per 100 households of each whole catchment, same here.
    np.testing.assert_allclose(
        size_floor_area(reach, hh, module_m2=10, sizing="catchment"), [60, 60]
    )
    # A already has 20 m²/100 hh from an existing facility: site 1 only owes A 10, but B needs
    # 30 = a1/2 + a2/2 with a2 >= 60: a1 = 20 (one module at least) and a2 = 60... the least
    # total is a1 = 20, a2 = 60 (B: 10 + 30 = 40 >= 30; A: 20 + 10 = 30).
    existing = np.array([20.0, 0.0, 0.0])
    np.testing.assert_allclose(
        size_floor_area(reach, hh, existing_m2_per_100hh=existing, module_m2=10), [20, 60]
    )
    # The stand-alone rule ignores what exists.
    np.testing.assert_allclose(
        size_floor_area(
            reach, hh, existing_m2_per_100hh=existing, module_m2=10, sizing="catchment"
        ),
        [60, 60],
    )


def test_sizing_shares_evenly_between_identical_catchments():
    # Two sites reaching the same 1000 households: 300 m² in all, shared 150/150, not 300/0.
    reach = sp.csr_matrix(np.ones((2, 4), dtype=bool))
    hh = np.array([250.0, 250.0, 250.0, 250.0])
    np.testing.assert_allclose(size_floor_area(reach, hh, module_m2=50), [150, 150])


def test_sizing_rounds_up_to_the_module_and_keeps_the_ratio():
    reach = sp.csr_matrix(np.array([[1, 1]], dtype=bool))
    hh = np.array([70.0, 43.0])  # 113 households: 33.9 m²
    np.testing.assert_allclose(size_floor_area(reach, hh, module_m2=50), [50])
    np.testing.assert_allclose(size_floor_area(reach, hh, module_m2=7), [35])
    # Without the one-module minimum, a facility nobody needs gets nothing.
    both = sp.csr_matrix(np.array([[1, 1], [1, 0]], dtype=bool))
    np.testing.assert_allclose(
        size_floor_area(
            both, hh, existing_m2_per_100hh=np.array([0.0, 30.0]), module_m2=1, min_modules=0
        ),
        [0, 21],  # residence 0 (70 households) from the cheaper second facility: 0.3 × 70
    )
    with pytest.raises(InputError, match="module_m2"):
        size_floor_area(reach, hh, module_m2=0)
    with pytest.raises(InputError, match="sizing"):
        size_floor_area(reach, hh, sizing="cheapest")  # type: ignore[arg-type]


@settings(max_examples=40, deadline=None)
@given(_instances(), st.sampled_from([1.0, 7.0, 50.0]), st.integers(0, 2**32 - 1))
def test_sizing_gives_every_reached_household_its_ratio(instance, module_m2, seed):
    reach, hh = instance
    rng = np.random.default_rng(seed)
    existing = np.where(rng.random(hh.shape[0]) < 0.5, rng.uniform(0, 40, hh.shape[0]), 0.0)
    demand = reach.astype(float) @ hh
    reached = reach.any(axis=0) & (hh > 0)
    for sizing in ("least_area", "catchment"):
        area = size_floor_area(
            sp.csr_matrix(reach),
            hh,
            existing_m2_per_100hh=existing,
            module_m2=module_m2,
            sizing=sizing,
        )
        assert (area >= module_m2).all()
        np.testing.assert_allclose(area / module_m2, np.round(area / module_m2))
        share = np.divide(100.0 * area, demand, out=np.zeros_like(area), where=demand > 0)
        ratio = existing + share @ reach
        assert (ratio[reached] >= 30.0 - 1e-9).all()


# ------------------------------------------------------------------------------------------------
# Candidate sites
# ------------------------------------------------------------------------------------------------


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


# ------------------------------------------------------------------------------------------------
# propose() on a hand-made grid
# ------------------------------------------------------------------------------------------------

THRESHOLD_M = 600.0


def _standard() -> Standard:
    rule = Rule.build(
        "community_service", max_walk_m=THRESHOLD_M, min_floor_area_m2_per_100_households=30
    )
    return Standard(name="grid", title_zh="grid", title_en="grid", rules=(rule,), source="test")


@pytest.fixture(scope="module")
def grid():
    """A 2 km × 2 km street grid with 500 m blocks."""
    lines = []
    for i in range(5):
        for j in range(4):
            lines.append(shapely.LineString([(j * 500, i * 500), ((j + 1) * 500, i * 500)]))
            lines.append(shapely.LineString([(i * 500, j * 500), (i * 500, (j + 1) * 500)]))
    return build_network(gpd.GeoDataFrame(geometry=lines, crs=CRS))


def _grid_residences(n: int = 30, seed: int = 7) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    return gpd.GeoDataFrame(
        {
            "id": [f"R{i}" for i in range(n)],
            "households": rng.integers(20, 300, n).astype(float),
        },
        geometry=shapely.points(rng.uniform(0, 2000, (n, 2))),
        crs=CRS,
    )


def _grid_facilities() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"id": ["F1"], "category": ["community_service"], "floor_area_m2": [120.0]},
        geometry=[shapely.Point(20, 30)],
        crs=CRS,
    )


def _grid_candidates(n: int = 12, seed: int = 3) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    return gpd.GeoDataFrame(
        {"id": [f"S{i}" for i in range(n)]},
        geometry=shapely.points(rng.uniform(0, 2000, (n, 2))),
        crs=CRS,
    )


def _assert_verified(proposal: Proposal, residences: gpd.GeoDataFrame) -> None:
    """Recompute the claimed coverage with a fresh check of facilities + proposed sites."""
    sites = proposal.sites
    assert sites.crs.to_epsg() == 4326
    assert sites["proposed"].all() and sites["id"].is_unique
    facilities = proposal.after.facilities
    rechecked = check(
        proposal.after.network,
        facilities,
        residences,
        standard=proposal.after.standard,
    )
    key = "community_service"
    before = proposal.before.residences[column("covered", key)].to_numpy(dtype=bool)
    after = rechecked.residences[column("covered", key)].to_numpy(dtype=bool)
    hh = residences["households"].to_numpy(dtype=float)
    assert not (before & ~after).any()
    assert float(hh[after & ~before].sum()) == pytest.approx(
        float(sites["households_newly_covered"].sum())
    )
    assert proposal.verified
    # Every residence a proposed site reaches has its 30 m² per 100 households.
    fac = rechecked.facilities
    assert fac["proposed"].sum() == len(sites)
    np.testing.assert_allclose(
        fac.loc[fac["proposed"], "households_in_catchment"].to_numpy(dtype=float),
        sites["households_in_catchment"].to_numpy(dtype=float),
    )
    reached = _reached_by(proposal, residences)
    ok = rechecked.residences["floor_area_ok"].to_numpy(dtype=bool)
    assert ok[reached].all()
    assert (sites["floor_area_m2"] % 50 == 0).all() and (sites["floor_area_m2"] >= 50).all()


def _reached_by(proposal: Proposal, residences: gpd.GeoDataFrame) -> np.ndarray:
    network = proposal.after.network
    src = snap_points(network, proposal.sites)
    res = snap_points(network, residences)
    _, walk = nearest(network, src, res)
    return np.nan_to_num(walk, nan=np.inf) <= THRESHOLD_M


def _brute_force_best(grid, facilities, residences, candidates, k: int) -> float:
    """Best coverage over every k-subset, each scored by the engine's nearest pass."""
    res = snap_points(grid, residences.to_crs(4326))
    fac = snap_points(grid, facilities.to_crs(4326))
    cand = snap_points(grid, candidates.to_crs(4326))
    hh = residences["households"].to_numpy(dtype=float)
    _, walk_existing = nearest(grid, fac, res)
    covered_before = np.nan_to_num(walk_existing, nan=np.inf) <= THRESHOLD_M
    best = 0.0
    for subset in itertools.combinations(range(len(cand)), k):
        _, walk = nearest(grid, cand.subset(np.array(subset)), res)
        newly = (np.nan_to_num(walk, nan=np.inf) <= THRESHOLD_M) & ~covered_before
        best = max(best, float(hh[newly].sum()))
    return best


@pytest.mark.parametrize("k", [1, 2, pytest.param(3, marks=pytest.mark.slow)])
def test_propose_max_cover_exact_equals_brute_force(grid, k):
    residences = _grid_residences()
    facilities = _grid_facilities()
    candidates = _grid_candidates()
    best = _brute_force_best(grid, facilities, residences, candidates, k)
    exact = propose(
        grid,
        facilities,
        residences,
        sites=k,
        candidates=candidates,
        standard=_standard(),
        method="milp",
    )
    greedy = propose(
        grid,
        facilities,
        residences,
        sites=k,
        candidates=candidates,
        standard=_standard(),
        method="greedy",
    )
    assert exact.method == "milp" and exact.gap == 0.0
    assert exact.summary["households"]["newly_covered"] == pytest.approx(best)
    assert greedy.method == "greedy"
    assert greedy.summary["households"]["newly_covered"] <= best + 1e-9
    assert 0 < len(exact.sites) <= k
    _assert_verified(exact, residences)
    _assert_verified(greedy, residences)


def test_propose_cover_all_covers_everything_coverable(grid):
    residences = _grid_residences()
    # An off-network residence 800 m from the grid, and candidates only in the west half so
    # that the east edge is out of reach.
    off = gpd.GeoDataFrame(
        {"id": ["far away"], "households": [55.0]},
        geometry=[shapely.Point(1000, 2800)],
        crs=CRS,
    )
    residences = gpd.GeoDataFrame(pd.concat([residences, off], ignore_index=True), crs=CRS)
    candidates = gpd.GeoDataFrame(
        {"id": [f"W{i}" for i in range(6)]},
        geometry=[shapely.Point(x, y) for x in (100, 600) for y in (200, 1000, 1800)],
        crs=CRS,
    )
    proposal = propose(
        grid,
        _grid_facilities(),
        residences,
        cover_all=True,
        candidates=candidates,
        standard=_standard(),
        method="milp",
    )
    _assert_verified(proposal, residences)
    unc = proposal.uncoverable.set_index("id")
    assert unc.loc["far away", "reason"] == "off_network"
    assert "snap cap" in unc.loc["far away", "detail"]
    # Every residence not covered after is listed as uncoverable, with a reason; every
    # residence listed really is out of reach of every candidate.
    after = proposal.after.residences.set_index("id")
    still = set(after.index[~after[column("covered", "community_service")]])
    assert still == set(unc.index)
    no_reach = unc[unc["reason"] == "no_candidate_within_reach"]
    assert len(no_reach) > 0
    assert (no_reach["nearest_candidate_walk_m"] > THRESHOLD_M).all()
    # Set covering is minimal: brute force over the 6 candidates.
    res_on = snap_points(grid, residences.to_crs(4326))
    cand = snap_points(grid, candidates.to_crs(4326))
    coverable = ~np.isin(residences["id"], list(unc.index))
    uncovered_now = ~proposal.before.residences[column("covered", "community_service")].to_numpy()
    need = coverable & uncovered_now
    for size in range(len(proposal.sites)):
        for subset in itertools.combinations(range(6), size):
            _, walk = nearest(grid, cand.subset(np.array(subset, dtype=int)), res_on)
            reached = np.nan_to_num(walk, nan=np.inf) <= THRESHOLD_M
            assert not (reached | ~need).all()
    greedy = propose(
        grid,
        _grid_facilities(),
        residences,
        cover_all=True,
        candidates=candidates,
        standard=_standard(),
        method="greedy",
    )
    assert len(greedy.sites) >= len(proposal.sites)
    _assert_verified(greedy, residences)


def test_propose_generated_candidates_and_sizing_rules(grid):
    residences = _grid_residences(seed=11)
    for sizing in ("least_area", "catchment"):
        proposal = propose(
            grid,
            _grid_facilities(),
            residences,
            sites=2,
            spacing_m=250,
            standard=_standard(),
            sizing=sizing,
        )
        _assert_verified(proposal, residences)
        assert proposal.summary["candidates"]["total"] == len(candidate_sites(grid, spacing_m=250))
        if sizing == "catchment":
            fac = proposal.after.facilities
            assert fac.loc[fac["proposed"], "floor_area_ok"].all()
    comparison = proposal.summary["comparison"]["coverage"][0]
    assert comparison["rate_after"] > comparison["rate_before"]


def test_propose_does_not_mutate_inputs_and_avoids_id_clashes(grid):
    residences = _grid_residences()
    facilities = _grid_facilities().assign(id=["P1"])
    candidates = _grid_candidates()
    copies = [frame.copy() for frame in (residences, facilities, candidates)]
    proposal = propose(
        grid, facilities, residences, sites=2, candidates=candidates, standard=_standard()
    )
    for frame, copy in zip((residences, facilities, candidates), copies, strict=True):
        assert frame.equals(copy)
    assert "P1" not in set(proposal.sites["id"])
    assert proposal.after.facilities["id"].is_unique


def test_propose_with_nothing_to_cover_proposes_nothing(street):
    residences = gpd.GeoDataFrame(
        {"id": ["R1", "R2"], "households": [100.0, 50.0]},
        geometry=[shapely.Point(100, 10), shapely.Point(400, 10)],
        crs=CRS,
    )
    facilities = gpd.GeoDataFrame(
        {"id": [1], "category": ["community_service"], "floor_area_m2": [100.0]},
        geometry=[shapely.Point(200, 10)],
        crs=CRS,
    )
    for kwargs in ({"cover_all": True}, {"sites": 2}):
        proposal = propose(street, facilities, residences, **kwargs)
        assert len(proposal.sites) == 0 and proposal.method == "none"
        assert proposal.verified
        assert proposal.after.facilities["id"].tolist() == [1]


def test_propose_input_errors(grid):
    args = (grid, _grid_facilities(), _grid_residences())
    with pytest.raises(InputError, match="exactly one"):
        propose(*args)
    with pytest.raises(InputError, match="exactly one"):
        propose(*args, sites=2, cover_all=True)
    with pytest.raises(InputError, match="no rule for category"):
        propose(*args, sites=1, category="hospital", standard=_standard())
    far = gpd.GeoDataFrame({"id": ["x"]}, geometry=[shapely.Point(9000, 9000)], crs=CRS)
    with pytest.raises(InputError, match="No candidate site"):
        propose(*args, sites=1, candidates=far, standard=_standard())


def test_write_proposal(grid, tmp_path):
    residences = _grid_residences()
    proposal = propose(
        grid,
        _grid_facilities(),
        residences,
        sites=2,
        candidates=_grid_candidates(),
        standard=_standard(),
    )
    paths = write_proposal(proposal, tmp_path / "out", map_html=False)
    out = tmp_path / "out"
    for name in (
        "proposals.gpkg",
        "proposal.json",
        "summary.json",
        "facilities.gpkg",
        "residences.gpkg",
        "uncoverable.csv",
        "expansions.csv",
    ):
        assert (out / name).is_file(), name
    assert paths["proposals"] == out / "proposals.gpkg"
    sites = gpd.read_file(out / "proposals.gpkg")
    assert sites["id"].tolist() == proposal.sites["id"].tolist()
    np.testing.assert_allclose(sites["floor_area_m2"], proposal.sites["floor_area_m2"])
    facilities = gpd.read_file(out / "facilities.gpkg")
    assert facilities["proposed"].astype(bool).sum() == len(proposal.sites)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert "comparison" in summary and "baseline" in summary
    saved = json.loads((out / "proposal.json").read_text(encoding="utf-8"))
    assert saved["verification"]["verified"] is True
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


# ------------------------------------------------------------------------------------------------
# The bundled Guixi case
# ------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_guixi_cover_all_raises_coverage_to_every_coverable_household(tmp_path):
    folder = DATA / "guixi"
    network = load_network(DATA / "cn_jiangxi_guixi_mapofgx.osm.bz2")
    facilities = gpd.read_file(folder / "facilities.gpkg")
    residences = gpd.read_file(folder / "residences.gpkg")
    proposal = propose(network, facilities, residences, cover_all=True)
    cov = proposal.summary["comparison"]["coverage"][0]
    assert cov["key"] == "community_service"
    assert cov["rate_after"] > cov["rate_before"]
    hh = proposal.summary["households"]
    assert cov["households_covered_after"] == pytest.approx(hh["covered_before"] + hh["coverable"])
    assert proposal.verified
    # The after-review feeds the map: proposed sites are flagged and their served area drawn.
    paths = write_proposal(
        propose(network, facilities, residences, cover_all=True, isochrones=True),
        tmp_path / "guixi",
    )
    html = paths["map"].read_text(encoding="utf-8")
    for site_id in proposal.sites["id"]:
        assert f'"{site_id}"' in html
    facilities_out = gpd.read_file(paths["facilities"])
    assert facilities_out["proposed"].astype(bool).sum() == len(proposal.sites)
    best_3 = propose(network, facilities, residences, sites=3)
    assert best_3.verified and best_3.gap == 0.0
    assert 0 < best_3.summary["households"]["newly_covered"] <= hh["coverable"]
