"""Siting's array core: covering models against brute force, floor-area sizing worked by hand.

On small instances the exact answer equals brute force over all k-subsets; greedy never beats
exact; set covering covers everything coverable.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.errors import InputError
from planner.siting import coverage_matrix, max_cover, set_cover, size_floor_area

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
