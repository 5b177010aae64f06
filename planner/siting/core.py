"""Proposing new facilities: where they should go (covering models) and how large (floor area).

Two doors, as in PySAL spopt (STYLE.md):

- the array core, `max_cover`, `set_cover` and `size_floor_area`, works on a sparse
  candidate × demand coverage matrix (``coverage[j, i]`` true when candidate site ``j`` reaches
  demand point ``i`` within the threshold) and knows nothing of geometry;
- the GeoDataFrame door, `propose`, snaps the layers, builds that matrix with the distance engine
  (`planner.engine.pairs_within`), calls the core, sizes the chosen sites and checks the plan again
  with `planner.checks.check` (the *after* review is the verification of every claim).

Solvers: scipy's MILP solver (HiGHS) solves both models exactly within a time limit and reports
the optimality gap when it stops early; a vectorised greedy handles larger problems. The greedy
guarantees are the classic ones: for maximal covering the greedy choice covers at least
(1 - 1/e) ≈ 63.2 % of the optimum (Nemhauser, Wolsey and Fisher 1978); for set covering it uses
at most H(d) ≤ ln(n) + 1 times the optimal number of sites, ``d`` being the most demand points one
site covers and ``n`` the number of demand points (Johnson 1974; Chvátal 1979). Each greedy run
also computes a bound of its own on the instance (see `Solution.bound`), so a gap is known for it
too.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely

from planner._files import jsonable
from planner.checks import CheckResult, check, compare_summaries
from planner.engine import nearest, pairs_within
from planner.errors import InputError
from planner.network import Network
from planner.schema import (
    DEFAULT_BUFFER_M,
    DEFAULT_CATEGORY,
    DEFAULT_SNAP_CAP_M,
    DEFAULT_STANDARD,
    column,
)
from planner.snapping import SnappedPoints, snap_points
from planner.standards import Rule, Standard, load_standard

log = logging.getLogger(__name__)

Method = Literal["auto", "milp", "greedy"]
Sizing = Literal["least_area", "catchment"]

AUTO_MILP_MAX_NNZ = 2_000_000
"""``method="auto"`` uses the MILP when the reduced coverage matrix has at most this many
non-zeros (after merging demand points reached by the same candidates), else the greedy."""

AUTO_MILP_MAX_SITES = 50_000
"""``method="auto"`` uses the greedy above this many useful candidate sites."""

_TOL = 1e-9


# ------------------------------------------------------------------------------------------------
# Array core
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Solution:
    """A solved covering problem.

    Attributes
    ----------
    chosen
        Indices of the chosen candidate sites (rows of the coverage matrix): greedy in order of
        choice; MILP maximal covering by the weight each covers alone; MILP set covering in
        candidate order.
    objective
        Maximal covering: the demand weight covered. Set covering: the number of sites.
    bound
        The best proven bound on the optimum: an upper bound on the coverable weight (maximal
        covering) or a lower bound on the number of sites (set covering). For the MILP it is
        HiGHS's dual bound; for the greedy, the bound it proves along the way (maximal covering:
        the covered weight plus the ``k`` largest marginal gains, at the best step; set
        covering: the largest of the sites forced by demand points only one candidate reaches,
        and ⌈uncovered / largest gain⌉ at every step). None when unknown.
    gap
        ``|objective - bound| / objective`` (HiGHS's definition), 0.0 when proven optimal,
        None when no bound is known.
    method
        ``"milp"`` or ``"greedy"``: what produced ``chosen``; ``"none"`` when there was nothing
        to cover.
    status
        ``"optimal"``, ``"time_limit"`` (MILP stopped at the time limit with a feasible
        solution), ``"heuristic"`` (greedy), or ``"empty"`` (nothing to cover).
    solve_s
        Wall time of the solve, seconds.
    note
        Anything the user should know about how the answer was reached.
    """

    chosen: np.ndarray
    objective: float
    bound: float | None
    gap: float | None
    method: str
    status: str
    solve_s: float
    note: str = ""


def coverage_matrix(
    site_index: np.ndarray,
    demand_index: np.ndarray,
    *,
    n_sites: int,
    n_demand: int,
) -> sp.csr_matrix:
    """A boolean candidate × demand coverage matrix from pairs (e.g. from `pairs_within`).

    Parameters
    ----------
    site_index, demand_index
        Positions of the pairs within reach of each other.
    n_sites, n_demand
        Shape of the matrix.

    Returns
    -------
    scipy.sparse.csr_matrix
        ``bool`` matrix, true where site ``j`` reaches demand ``i``.
    """
    data = np.ones(np.asarray(site_index).shape[0], dtype=bool)
    matrix = sp.csr_matrix((data, (site_index, demand_index)), shape=(n_sites, n_demand))
    matrix.sum_duplicates()
    matrix.sort_indices()
    return matrix


def max_cover(
    coverage: sp.spmatrix,
    weights: np.ndarray,
    k: int,
    *,
    method: Method = "auto",
    time_limit_s: float = 60.0,
) -> Solution:
    """Maximal covering: choose at most ``k`` sites covering the largest total weight.

    Sites that add nothing to the cover are not chosen, so fewer than ``k`` may come back.

    Parameters
    ----------
    coverage
        Candidate × demand matrix, non-zero where the site reaches the demand point.
    weights
        Demand weight (households) of each demand point, >= 0.
    k
        Largest number of sites to choose, >= 1.
    method
        ``"milp"`` solves exactly with scipy's MILP solver (HiGHS) within ``time_limit_s``;
        ``"greedy"`` repeatedly takes the site adding the most weight, which covers at least
        (1 - 1/e) ≈ 63.2 % of the optimum; ``"auto"`` runs the greedy, keeps it when its own
        bound proves it optimal, else takes the MILP when the reduced problem has at most
        `AUTO_MILP_MAX_NNZ` non-zeros and `AUTO_MILP_MAX_SITES` useful sites.
    time_limit_s
        Time limit of the MILP, seconds. If it stops with a solution worse than the greedy one,
        the greedy one is returned (with the MILP's bound); if it stops without any, the greedy.

    Returns
    -------
    Solution

    Raises
    ------
    InputError
        Bad ``k``, weights of the wrong length or negative, or an unknown method.
    """
    started = time.perf_counter()
    matrix, w = _check_core_input(coverage, weights, method, time_limit_s)
    if int(k) != k or k < 1:
        raise InputError(f"k (the number of new sites) must be a whole number >= 1, not {k!r}.")
    k = int(k)
    reduced = _Reduced.build(matrix, w, drop_zero_weight=True)
    if reduced.n_sites == 0 or reduced.weights.sum() <= 0:
        return Solution(
            np.empty(0, dtype=np.int64), 0.0, 0.0, 0.0, "none", "empty", _since(started)
        )
    chosen, value, bound = _greedy_max_cover(reduced.csr, reduced.csc, reduced.weights, k)
    solution = Solution(
        chosen=chosen,
        objective=value,
        bound=bound,
        gap=_gap(value, bound),
        method="greedy",
        status="heuristic" if bound is None or bound - value > _TOL * max(value, 1) else "optimal",
        solve_s=0.0,
        note="greedy maximal covering: covers at least (1 - 1/e) of the optimum",
    )
    if method == "milp" or (_use_milp(method, reduced) and solution.status != "optimal"):
        solution = _milp_max_cover(reduced, k, time_limit_s, greedy=solution)
    elif solution.status == "optimal" and method == "auto":
        solution = _replace(solution, note="greedy answer proven optimal by its own bound")
    pruned = _prune(reduced.csr, reduced.weights, solution.chosen)
    return _replace(solution, chosen=reduced.site_of[pruned], solve_s=_since(started))


def set_cover(
    coverage: sp.spmatrix,
    *,
    weights: np.ndarray | None = None,
    site_cost: np.ndarray | None = None,
    method: Method = "auto",
    time_limit_s: float = 60.0,
) -> Solution:
    """Set covering: the fewest sites that together reach every demand point.

    Among the solutions with the fewest sites, the MILP takes one of least total ``site_cost``
    (lexicographic: the cost term is scaled below one site); the greedy breaks ties with it.

    Parameters
    ----------
    coverage
        Candidate × demand matrix. Every demand point must be reached by at least one candidate
        (drop the others first; `propose` lists them as uncoverable).
    weights
        Optional demand weights, used only to break ties in the greedy (more households first).
    site_cost
        Optional cost of each candidate, >= 0, the second objective (`propose` passes the
        households in each candidate's catchment, a proxy of the floor area it will need, so
        that overlapping catchments are avoided).
    method
        ``"milp"`` solves exactly with scipy's MILP solver (HiGHS) within ``time_limit_s``;
        ``"greedy"`` repeatedly takes the site reaching the most uncovered demand points, which
        uses at most H(d) ≤ ln(n) + 1 times the optimal number of sites; ``"auto"`` as in
        `max_cover`.
    time_limit_s
        Time limit of the MILP, seconds (as in `max_cover`).

    Returns
    -------
    Solution
        ``objective`` is the number of sites.

    Raises
    ------
    InputError
        A demand point no candidate reaches, bad weights, or an unknown method.
    """
    started = time.perf_counter()
    matrix = _as_bool_csr(coverage)
    w = np.ones(matrix.shape[1]) if weights is None else weights
    matrix, w = _check_core_input(matrix, w, method, time_limit_s)
    reach = np.asarray(matrix.sum(axis=0)).ravel()
    if (reach == 0).any():
        bad = np.flatnonzero(reach == 0)
        raise InputError(
            f"set_cover: {bad.shape[0]} demand points (columns {bad[:10].tolist()}) are reached "
            "by no candidate site; drop them first (propose() lists them as uncoverable)."
        )
    if matrix.shape[1] == 0:
        return Solution(
            np.empty(0, dtype=np.int64), 0.0, 0.0, 0.0, "none", "empty", _since(started)
        )
    cost = np.zeros(matrix.shape[0]) if site_cost is None else np.asarray(site_cost, np.float64)
    if cost.shape != (matrix.shape[0],) or not np.isfinite(cost).all() or (cost < 0).any():
        raise InputError(
            f"site_cost needs one finite cost >= 0 per candidate site ({matrix.shape[0]})."
        )
    reduced = _Reduced.build(matrix, w, cost=cost)
    cost = reduced.cost
    chosen, lower = _greedy_set_cover(
        reduced.csr, reduced.csc, reduced.weights, reduced.count, cost
    )
    chosen = _prune_set_cover(reduced.csr, reduced.n_demand, chosen)
    value = float(chosen.shape[0])
    solution = Solution(
        chosen=chosen,
        objective=value,
        bound=float(lower),
        gap=_gap(value, float(lower)),
        method="greedy",
        status="optimal" if lower >= value else "heuristic",
        solve_s=0.0,
        note="greedy set covering: at most H(d) <= ln(n) + 1 times the optimal number of sites",
    )
    if method == "milp" or (_use_milp(method, reduced) and solution.status != "optimal"):
        solution = _milp_set_cover(reduced, cost, time_limit_s, greedy=solution)
    elif solution.status == "optimal" and method == "auto":
        solution = _replace(solution, note="greedy answer proven optimal by its own bound")
    return _replace(solution, chosen=reduced.site_of[solution.chosen], solve_s=_since(started))


def size_floor_area(
    reach: sp.spmatrix,
    households: np.ndarray,
    *,
    existing_m2_per_100hh: np.ndarray | None = None,
    required_m2_per_100hh: float = 30.0,
    module_m2: float = 50.0,
    sizing: Sizing = "least_area",
    min_modules: int = 1,
) -> np.ndarray:
    """Floor area of new facilities so that every household they reach has the required ratio.

    The ratio is the one the check computes with the ``catchment`` allocation (two-step floating
    catchment): a facility of floor area ``a`` whose catchment holds ``D`` households gives each
    of them ``100 a / D`` m² per 100 households, and a household's ratio is the sum over the
    facilities that reach it. New facilities leave the catchment demand of existing ones
    unchanged, so a household's ratio after the plan is what it had before plus what the new
    facilities give it.

    Two rules:

    - ``"least_area"`` (shared with the existing facilities): the least total floor area such that
      every household reached by a new facility ends with at least ``required_m2_per_100hh``,
      counting what existing facilities already give it; among those, the one with the smallest
      largest per-facility ratio (load shared evenly between overlapping new facilities). Two
      linear programs (scipy.optimize.linprog, HiGHS).
    - ``"catchment"`` (stand-alone): each new facility alone gives ``required_m2_per_100hh`` to
      every household of its catchment: ``required × D / 100``. Simple, and its own ratio passes,
      but it ignores what overlapping facilities already provide.

    Either way the area is rounded up to a multiple of ``module_m2``, then (if rounding a shared
    load left a household a hair short) raised module by module until every reached household
    has its ratio.

    Parameters
    ----------
    reach
        New facility × residence matrix, non-zero where the facility reaches the residence within
        the threshold (its catchment).
    households
        Households of every residence.
    existing_m2_per_100hh
        Each residence's ratio from the existing facilities (NaN or None read as 0).
    required_m2_per_100hh
        The standard's minimum (30 m² per 100 households).
    module_m2
        Floor areas are multiples of this, > 0.
    sizing
        ``"least_area"`` or ``"catchment"``.
    min_modules
        Every facility gets at least this many modules (1: a new facility has a size; 0 for
        the extra area of existing facilities).

    Returns
    -------
    numpy.ndarray
        Floor area of each new facility, m².

    Raises
    ------
    InputError
        Bad module, rule, or array lengths.
    """
    matrix = _as_bool_csr(reach)
    hh = np.asarray(households, dtype=np.float64)
    if matrix.shape[1] != hh.shape[0]:
        raise InputError(
            f"size_floor_area: reach has {matrix.shape[1]} columns but {hh.shape[0]} households."
        )
    if not np.isfinite(module_m2) or module_m2 <= 0:
        raise InputError(f"module_m2 must be a positive number of m², not {module_m2!r}.")
    if sizing not in ("least_area", "catchment"):
        raise InputError(f"sizing must be 'least_area' or 'catchment', not {sizing!r}.")
    n = matrix.shape[0]
    if n == 0:
        return np.empty(0)
    existing = (
        np.zeros(hh.shape[0])
        if existing_m2_per_100hh is None
        else np.nan_to_num(np.asarray(existing_m2_per_100hh, dtype=np.float64), nan=0.0)
    )
    demand = matrix.astype(np.float64) @ hh  # households in each new catchment
    give = sp.diags(np.divide(100.0, demand, out=np.zeros(n), where=demand > 0)) @ matrix.astype(
        np.float64
    )  # m² per 100 hh each residence gets per m² of each facility
    deficit = np.clip(required_m2_per_100hh - existing, 0.0, None)
    rows = np.flatnonzero((np.asarray(matrix.sum(axis=0)).ravel() > 0) & (deficit > 0) & (hh > 0))
    floor_m2 = max(int(min_modules), 0) * module_m2
    if sizing == "catchment":
        area = required_m2_per_100hh * demand / 100.0
    else:
        area = _least_area(give.T.tocsr()[rows], deficit[rows], demand, floor_m2)
    # Solver noise (up to a thousandth of a module) is rounded away; `_repair` then restores
    # any household the rounding left short, so the ratio holds whatever the LP's tolerances.
    area = np.maximum(np.ceil(area / module_m2 - 1e-3) * module_m2, floor_m2)
    return _repair(give.T.tocsr()[rows], deficit[rows], area, module_m2)


def _least_area(
    give_t: sp.csr_matrix, deficit: np.ndarray, demand: np.ndarray, floor_m2: float
) -> np.ndarray:
    from scipy.optimize import linprog

    n = give_t.shape[1]
    lower = np.full(n, floor_m2)
    if give_t.shape[0] == 0:
        return lower
    bounds = list(zip(lower, [None] * n, strict=True))
    first = linprog(np.ones(n), A_ub=-give_t, b_ub=-deficit, bounds=bounds, method="highs")
    if first.status != 0:
        raise InputError(f"floor-area sizing: the linear program failed ({first.message}).")
    total = float(first.fun)
    # Second stage: the same least total, with the largest per-facility ratio as small as it goes.
    ratio = sp.diags(np.divide(100.0, demand, out=np.zeros(n), where=demand > 0))
    a_ub = sp.vstack(
        [
            sp.hstack([-give_t, sp.csr_matrix((give_t.shape[0], 1))]),
            sp.hstack([sp.csr_matrix(np.ones((1, n))), sp.csr_matrix((1, 1))]),
            sp.hstack([ratio, sp.csr_matrix(-np.ones((n, 1)))]),
        ]
    ).tocsr()
    b_ub = np.concatenate((-deficit, [total * (1 + 1e-9) + 1e-6], np.zeros(n)))
    c = np.zeros(n + 1)
    c[-1] = 1.0
    second = linprog(c, A_ub=a_ub, b_ub=b_ub, bounds=[*bounds, (0, None)], method="highs")
    if second.status != 0:
        log.info(
            "Floor-area sizing: even-sharing stage failed (%s); kept the least total",
            second.message,
        )
        return np.asarray(first.x, dtype=np.float64)
    return np.asarray(second.x[:n], dtype=np.float64)


def _repair(
    give_t: sp.csr_matrix, deficit: np.ndarray, area: np.ndarray, module_m2: float
) -> np.ndarray:
    """Raise areas module by module until every reached household has its ratio."""
    area = area.copy()
    for _ in range(10_000):
        short = give_t @ area - deficit < -1e-9
        if not short.any():
            return area
        row = int(np.flatnonzero(short)[0])
        start, stop = give_t.indptr[row], give_t.indptr[row + 1]
        best = give_t.indices[start:stop][int(np.argmax(give_t.data[start:stop]))]
        area[best] += module_m2
    raise AssertionError("floor-area rounding repair did not converge")  # pragma: no cover


# --- core internals ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Reduced:
    """The coverage problem made smaller without changing its optimum.

    Demand points reached by the same candidates are merged (weights added); for maximal
    covering, demand points of zero weight are dropped; candidates reaching nothing are dropped,
    and so are dominated candidates: ``j`` is dominated by ``i`` when ``i`` reaches every demand
    point ``j`` reaches at no higher cost (of two identical candidates the first is kept). Any
    solution using ``j`` stays feasible and no worse with ``i`` instead, so the optimum is kept.
    """

    csr: sp.csr_matrix  # kept sites × merged demand points
    csc: sp.csc_matrix
    weights: np.ndarray  # merged weights
    count: np.ndarray  # how many original demand points each merged one stands for
    site_of: np.ndarray  # original site index of each row
    cost: np.ndarray  # site cost of each row
    dominated: int  # candidates dropped as dominated
    dominance_checked: bool  # False when the problem was too large to look for them

    @property
    def n_sites(self) -> int:
        return int(self.csr.shape[0])

    @property
    def n_demand(self) -> int:
        return int(self.csr.shape[1])

    @classmethod
    def build(
        cls,
        matrix: sp.csr_matrix,
        weights: np.ndarray,
        *,
        cost: np.ndarray | None = None,
        drop_zero_weight: bool = False,
    ) -> _Reduced:
        cost = np.zeros(matrix.shape[0]) if cost is None else cost
        by_demand = matrix.T.tocsr()
        by_demand.sort_indices()
        keep_demand = np.diff(by_demand.indptr) > 0
        if drop_zero_weight:
            keep_demand &= weights > 0
        demand = np.flatnonzero(keep_demand)
        keys = [
            by_demand.indices[by_demand.indptr[i] : by_demand.indptr[i + 1]].tobytes()
            for i in demand
        ]
        codes, _ = pd.factorize(pd.Series(keys, dtype=object))
        _, first, inverse = np.unique(codes, return_index=True, return_inverse=True)
        merged_w = np.bincount(inverse, weights=weights[demand], minlength=first.shape[0])
        merged_count = np.bincount(inverse, minlength=first.shape[0]).astype(np.float64)
        merged = matrix[:, demand[first]].tocsr()
        useful = np.flatnonzero(np.diff(merged.indptr) > 0)
        merged = merged[useful]
        kept, checked = _undominated(merged, cost[useful])
        csr = merged[kept].tocsr()
        csr.sort_indices()
        return cls(
            csr=csr,
            csc=csr.tocsc(),
            weights=merged_w,
            count=merged_count,
            site_of=useful[kept].astype(np.int64),
            cost=cost[useful][kept],
            dominated=int(kept.shape[0] - np.count_nonzero(kept)),
            dominance_checked=checked,
        )


DOMINANCE_MAX_PAIRS = 50_000_000
"""Dominated candidates are looked for only when the candidate × candidate overlap matrix has at
most this many entries before summing (memory); beyond, HiGHS's presolve does it."""


def _undominated(csr: sp.csr_matrix, cost: np.ndarray) -> tuple[np.ndarray, bool]:
    """Mask of the candidates no other candidate dominates (see `_Reduced`), and whether the
    search ran (it is skipped above `DOMINANCE_MAX_PAIRS`)."""
    n = csr.shape[0]
    per_demand = np.diff(csr.tocsc().indptr).astype(np.int64)
    if int((per_demand**2).sum()) > DOMINANCE_MAX_PAIRS:
        log.info("Too many overlapping candidates to look for dominated ones; left to HiGHS")
        return np.ones(n, dtype=bool), False
    ones = csr.astype(np.int32)
    size = np.diff(csr.indptr)
    overlap = (ones @ ones.T).tocoo()
    i, j, shared = overlap.row, overlap.col, overlap.data
    covers = (i != j) & (shared == size[j]) & (cost[i] <= cost[j])
    twin = (size[i] == size[j]) & (cost[i] == cost[j])
    dominated = covers & (~twin | (i < j))
    keep = np.ones(n, dtype=bool)
    keep[j[dominated]] = False
    return keep, True


def _as_bool_csr(matrix: Any) -> sp.csr_matrix:
    out = sp.csr_matrix(matrix, dtype=bool)
    out.eliminate_zeros()
    out.sort_indices()
    return out


def _check_core_input(
    coverage: Any, weights: Any, method: str, time_limit_s: float
) -> tuple[sp.csr_matrix, np.ndarray]:
    if method not in ("auto", "milp", "greedy"):
        raise InputError(f"method must be 'auto', 'milp' or 'greedy', not {method!r}.")
    if not np.isfinite(time_limit_s) or time_limit_s <= 0:
        raise InputError(
            f"time_limit_s must be a positive number of seconds, not {time_limit_s!r}."
        )
    matrix = _as_bool_csr(coverage)
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (matrix.shape[1],):
        raise InputError(
            f"weights has shape {w.shape}; it needs one weight per demand point "
            f"({matrix.shape[1]})."
        )
    if not np.isfinite(w).all() or (w < 0).any():
        raise InputError("weights (households) must be finite and >= 0.")
    return matrix, w


def _since(started: float) -> float:
    return round(time.perf_counter() - started, 6)


def _gap(value: float, bound: float | None) -> float | None:
    if bound is None:
        return None
    diff = abs(bound - value)
    if diff <= _TOL * max(abs(value), 1.0):
        return 0.0
    return diff / abs(value) if value != 0 else math.inf


def _replace(solution: Solution, **changes: Any) -> Solution:
    from dataclasses import replace

    return replace(solution, **changes)


def _use_milp(method: str, reduced: _Reduced) -> bool:
    if method == "milp":
        return True
    if method == "greedy":
        return False
    return reduced.csr.nnz <= AUTO_MILP_MAX_NNZ and reduced.n_sites <= AUTO_MILP_MAX_SITES


def _drop_gains(
    gains: np.ndarray, csc: sp.csc_matrix, newly: np.ndarray, weights: np.ndarray
) -> None:
    """Subtract the weight of newly covered demand points from every site reaching them."""
    if newly.size == 0:
        return
    starts, stops = csc.indptr[newly], csc.indptr[newly + 1]
    lengths = stops - starts
    rows = csc.indices[
        np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(lengths.sum())
    ]
    gains -= np.bincount(rows, weights=np.repeat(weights[newly], lengths), minlength=gains.shape[0])


def _greedy_max_cover(
    csr: sp.csr_matrix, csc: sp.csc_matrix, weights: np.ndarray, k: int
) -> tuple[np.ndarray, float, float]:
    """Greedy maximal covering with the online upper bound (value + k largest gains)."""
    n = csr.shape[0]
    gains = csr.astype(np.float64) @ weights
    covered = np.zeros(csr.shape[1], dtype=bool)
    chosen: list[int] = []
    value = 0.0
    bound = math.inf
    while True:
        top = gains if n <= k else np.partition(gains, n - k)[n - k :]
        bound = min(bound, value + float(np.clip(top, 0.0, None).sum()))
        if len(chosen) == k:
            break
        while True:  # exact gain of the best site (guards against rounding drift)
            j = int(np.argmax(gains))
            cols = csr.indices[csr.indptr[j] : csr.indptr[j + 1]]
            newly = cols[~covered[cols]]
            exact = float(weights[newly].sum())
            if abs(exact - gains[j]) <= 1e-9 * max(1.0, exact):
                break
            gains[j] = exact
        if exact <= 0:
            break
        covered[newly] = True
        value += exact
        chosen.append(j)
        _drop_gains(gains, csc, newly, weights)
        gains[j] = 0.0
    return np.asarray(chosen, dtype=np.int64), value, max(bound, value)


def _greedy_set_cover(
    csr: sp.csr_matrix,
    csc: sp.csc_matrix,
    weights: np.ndarray,
    count: np.ndarray,
    cost: np.ndarray,
) -> tuple[np.ndarray, int]:
    """Greedy set covering with a lower bound.

    Takes the site reaching the most uncovered demand points; ties go to the most uncovered
    weight, then the least cost.
    """
    m = csr.shape[1]
    gains = csr.astype(np.float64) @ count  # original demand points reached and still uncovered
    wgains = csr.astype(np.float64) @ weights
    covered = np.zeros(m, dtype=bool)
    left = float(count.sum())
    # Sites forced by demand points only one candidate reaches.
    only = np.flatnonzero(np.diff(csc.indptr) == 1)
    lower = int(np.unique(csc.indices[csc.indptr[only]]).shape[0])
    chosen: list[int] = []
    while left > 0.5:
        best_gain = float(gains.max())
        if best_gain <= 0:
            raise AssertionError("set covering: a demand point is reached by no site")
        # Whatever is chosen, covering what is left takes at least left / best_gain sites.
        lower = max(lower, math.ceil(left / best_gain - 1e-9))
        ties = np.flatnonzero(gains >= best_gain - 1e-9)
        ties = ties[wgains[ties] >= wgains[ties].max() - 1e-9]
        j = int(ties[np.argmin(cost[ties])])
        cols = csr.indices[csr.indptr[j] : csr.indptr[j + 1]]
        newly = cols[~covered[cols]]
        covered[newly] = True
        left -= float(count[newly].sum())
        chosen.append(j)
        _drop_gains(gains, csc, newly, count)
        _drop_gains(wgains, csc, newly, weights)
        gains[j] = wgains[j] = 0.0
    return np.asarray(chosen, dtype=np.int64), lower


def _prune(csr: sp.csr_matrix, weights: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """Drop chosen sites whose demand points (of positive weight) others also cover."""
    if chosen.size == 0:
        return chosen
    times = np.bincount(csr[chosen].indices, minlength=csr.shape[1])
    keep = np.ones(chosen.shape[0], dtype=bool)
    alone = np.array([weights[_cols(csr, j)].sum() for j in chosen])
    for pos in np.argsort(alone, kind="stable"):
        cols = _cols(csr, chosen[pos])
        cols = cols[weights[cols] > 0]
        if (times[cols] >= 2).all():
            keep[pos] = False
            times[cols] -= 1
    return chosen[keep]


def _prune_set_cover(csr: sp.csr_matrix, m: int, chosen: np.ndarray) -> np.ndarray:
    """Drop chosen sites (last chosen first) whose demand points others also cover."""
    times = np.bincount(csr[chosen].indices, minlength=m)
    keep = np.ones(chosen.shape[0], dtype=bool)
    for pos in range(chosen.shape[0] - 1, -1, -1):
        cols = _cols(csr, chosen[pos])
        if (times[cols] >= 2).all():
            keep[pos] = False
            times[cols] -= 1
    return chosen[keep]


def _cols(csr: sp.csr_matrix, j: int) -> np.ndarray:
    return csr.indices[csr.indptr[j] : csr.indptr[j + 1]]


def _milp_options(reduced: _Reduced, time_limit_s: float) -> dict[str, Any]:
    # HiGHS's presolve spends most of its time on dominated columns; when `_Reduced` has
    # removed them already, skipping it is several times faster on covering models.
    options: dict[str, Any] = {"time_limit": float(time_limit_s), "mip_rel_gap": 0.0}
    if reduced.dominance_checked:
        options["presolve"] = False
    return options


def _milp_status(res: Any) -> str:
    return "optimal" if res.status == 0 else "time_limit"


def _milp_max_cover(
    reduced: _Reduced, k: int, time_limit_s: float, *, greedy: Solution
) -> Solution:
    from scipy.optimize import Bounds, LinearConstraint, milp

    started = time.perf_counter()
    n, m = reduced.n_sites, reduced.n_demand
    w = reduced.weights
    by_demand = reduced.csr.T.tocsr().astype(np.float64)
    cover_rows = sp.hstack([-by_demand, sp.identity(m, format="csr")]).tocsr()
    budget = sp.csr_matrix(np.concatenate((np.ones(n), np.zeros(m)))[None, :])
    res = milp(
        np.concatenate((np.zeros(n), -w)),
        constraints=[LinearConstraint(cover_rows, -np.inf, 0.0), LinearConstraint(budget, 0, k)],
        integrality=np.concatenate((np.ones(n), np.zeros(m))),
        bounds=Bounds(0.0, 1.0),
        options=_milp_options(reduced, time_limit_s),
    )
    elapsed = time.perf_counter() - started
    dual = res.mip_dual_bound
    bound = max(-float(dual), 0.0) if dual is not None and np.isfinite(dual) else None
    if greedy.bound is not None:
        bound = greedy.bound if bound is None else min(bound, greedy.bound)
    if res.x is None:
        log.warning(
            "MILP found no solution within %.0f s (%s); using the greedy", elapsed, res.message
        )
        return _replace(
            greedy,
            bound=bound,
            gap=_gap(greedy.objective, bound),
            note=f"MILP found no solution within {time_limit_s:g} s; greedy answer, MILP bound",
        )
    picked = np.flatnonzero(res.x[:n] > 0.5)
    value = _covered_weight(reduced.csr, w, picked)
    picked = picked[np.argsort(-(reduced.csr[picked].astype(np.float64) @ w), kind="stable")]
    if value < greedy.objective - _TOL * max(greedy.objective, 1.0):
        log.warning("MILP stopped at the time limit below the greedy; using the greedy")
        return _replace(
            greedy,
            bound=bound,
            gap=_gap(greedy.objective, bound),
            note=f"MILP stopped at {time_limit_s:g} s below the greedy; greedy answer, MILP bound",
        )
    status = _milp_status(res)
    if status == "optimal":
        bound = value
    return Solution(
        chosen=picked,
        objective=value,
        bound=bound,
        gap=_gap(value, bound),
        method="milp",
        status=status,
        solve_s=elapsed,
        note=f"scipy.optimize.milp (HiGHS): {res.message}",
    )


def _milp_set_cover(
    reduced: _Reduced, cost: np.ndarray, time_limit_s: float, *, greedy: Solution
) -> Solution:
    from scipy.optimize import Bounds, LinearConstraint, milp

    started = time.perf_counter()
    n = reduced.n_sites
    # One site costs 1; all the secondary costs together stay below 1 (lexicographic).
    secondary = cost / (float(cost.sum()) + 1.0)
    res = milp(
        np.ones(n) + secondary,
        constraints=[LinearConstraint(reduced.csr.T.tocsr().astype(np.float64), 1.0, np.inf)],
        integrality=np.ones(n),
        bounds=Bounds(0.0, 1.0),
        options=_milp_options(reduced, time_limit_s),
    )
    elapsed = time.perf_counter() - started
    lower = greedy.bound
    if res.mip_dual_bound is not None and np.isfinite(res.mip_dual_bound):
        # count + secondary >= dual with 0 <= secondary < 1, so count >= floor(dual).
        milp_lower = float(math.floor(float(res.mip_dual_bound) + 1e-6))
        lower = milp_lower if lower is None else max(lower, milp_lower)
    if res.x is None:
        log.warning(
            "MILP found no solution within %.0f s (%s); using the greedy", elapsed, res.message
        )
        return _replace(
            greedy,
            bound=lower,
            gap=_gap(greedy.objective, lower),
            note=f"MILP found no solution within {time_limit_s:g} s; greedy answer, MILP bound",
        )
    picked = _prune_set_cover(reduced.csr, reduced.n_demand, np.flatnonzero(res.x > 0.5))
    if picked.shape[0] > greedy.objective:
        log.warning("MILP stopped at the time limit above the greedy; using the greedy")
        return _replace(
            greedy,
            bound=lower,
            gap=_gap(greedy.objective, lower),
            note=f"MILP stopped at {time_limit_s:g} s above the greedy; greedy answer, MILP bound",
        )
    value = float(picked.shape[0])
    status = _milp_status(res)
    if status == "optimal":
        lower = value
    return Solution(
        chosen=picked,
        objective=value,
        bound=lower,
        gap=_gap(value, lower),
        method="milp",
        status=status,
        solve_s=elapsed,
        note=f"scipy.optimize.milp (HiGHS): {res.message}",
    )


def _covered_weight(csr: sp.csr_matrix, weights: np.ndarray, chosen: np.ndarray) -> float:
    if chosen.size == 0:
        return 0.0
    cols = np.unique(csr[chosen].indices)
    return float(weights[cols].sum())


# ------------------------------------------------------------------------------------------------
# Candidate sites
# ------------------------------------------------------------------------------------------------


def candidate_sites(
    network: Network,
    *,
    spacing_m: float = 100.0,
    mask: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
) -> gpd.GeoDataFrame:
    """Candidate sites along the walking network, at most ``spacing_m`` apart along every edge.

    Each edge of length ``L`` gets ``ceil(L / spacing_m)`` points, evenly spaced and centred (the
    first at half a step from its start), so short edges get their midpoint and no point falls on
    a junction shared by several edges.

    Parameters
    ----------
    network
        The walking network.
    spacing_m
        Largest distance between consecutive candidates along an edge, metres.
    mask
        Polygons (any CRS) where no facility may go (water, parks, industrial land...);
        candidates inside or on them are dropped.

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326 points with ``id`` (``"C1"``, ``"C2"``...), ``edge`` and ``offset_m`` (where on
        the network it lies).

    Raises
    ------
    InputError
        A spacing that is not a positive number, or a mask without a CRS.
    """
    if not np.isfinite(spacing_m) or spacing_m <= 0:
        raise InputError(f"spacing_m must be a positive number of metres, not {spacing_m!r}.")
    length = network.edge_length_m
    per_edge = np.maximum(np.ceil(length / spacing_m - 1e-9), 1).astype(np.int64)
    edge = np.repeat(np.arange(network.n_edges), per_edge)
    rank = np.arange(edge.shape[0]) - np.repeat(np.cumsum(per_edge) - per_edge, per_edge)
    offset = (rank + 0.5) * length[edge] / per_edge[edge]
    points = shapely.line_interpolate_point(network.edge_geometry[edge], offset)
    if mask is not None:
        if mask.crs is None:
            raise InputError("The mask layer has no CRS; set one (e.g. EPSG:4326).")
        shapes = np.asarray(gpd.GeoSeries(mask.geometry).to_crs(network.crs).to_numpy())
        shapes = shapes[~(shapely.is_empty(shapes) | shapely.is_missing(shapes))]
        if shapes.size:
            hit, _ = shapely.STRtree(shapes).query(points, predicate="intersects")
            keep = np.ones(points.shape[0], dtype=bool)
            keep[hit] = False
            log.info("Mask removed %d of %d candidate sites", int((~keep).sum()), keep.shape[0])
            edge, offset, points = edge[keep], offset[keep], points[keep]
    sites = gpd.GeoDataFrame(
        {
            "id": [f"C{i}" for i in range(1, edge.shape[0] + 1)],
            "edge": edge,
            "offset_m": np.round(offset, 3),
        },
        geometry=points,
        crs=network.crs,
    )
    return sites.to_crs(4326)


# ------------------------------------------------------------------------------------------------
# GeoDataFrame door
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Proposal:
    """New facilities proposed for a category, and the review before and after them.

    Attributes
    ----------
    sites
        EPSG:4326 points, one per proposed facility: ``id`` (``"P1"``...), ``candidate_id``,
        ``category``, ``floor_area_m2``, ``households_newly_covered`` (households uncovered before
        that this site reaches, each counted once, at its nearest proposed site),
        ``households_in_catchment`` (all households within the threshold), ``m2_per_100hh``,
        ``proposed`` (True).
    before, after
        The coverage and floor-area review without and with the proposed facilities; *after* is
        `planner.checks.check` run again with the sites added, which verifies every claim.
    method
        ``"milp"`` or ``"greedy"`` (``"none"`` when every coverable household is covered already).
    gap
        Relative optimality gap of the siting (0.0 proven optimal), None when unknown.
    uncoverable
        Residences no candidate site can bring within the threshold: ``id``, ``households``,
        ``reason`` (``"off_network"`` or ``"no_candidate_within_reach"``), ``detail``.
    expansions
        Existing facilities of the category that still need more floor area for the households
        no proposed site reaches: ``id``, ``floor_area_m2``, ``extra_floor_area_m2``. Reported
        only; *after* does not include these expansions.
    summary
        JSON-ready figures: the problem, the solver, the verification and the before/after
        comparison (`planner.checks.compare_summaries`).
    solution
        The raw `Solution` of the covering model.
    """

    sites: gpd.GeoDataFrame
    before: CheckResult = field(repr=False)
    after: CheckResult = field(repr=False)
    method: str
    gap: float | None
    uncoverable: pd.DataFrame
    expansions: pd.DataFrame
    summary: dict[str, Any]
    solution: Solution = field(repr=False)

    @property
    def verified(self) -> bool:
        """Whether the after-review confirms the households the proposal claims to cover."""
        return bool(self.summary["verification"]["verified"])


def propose(
    network: Network,
    facilities: gpd.GeoDataFrame,
    residences: gpd.GeoDataFrame,
    *,
    category: str = DEFAULT_CATEGORY,
    sites: int | None = None,
    cover_all: bool = False,
    candidates: gpd.GeoDataFrame | None = None,
    spacing_m: float = 100.0,
    mask: gpd.GeoDataFrame | None = None,
    standard: str | Standard = DEFAULT_STANDARD,
    speed_kmh: float | None = None,
    module_m2: float = 50.0,
    sizing: Sizing = "least_area",
    time_limit_s: float = 60.0,
    method: Method = "auto",
    snap_cap_m: float = DEFAULT_SNAP_CAP_M,
    isochrones: bool = False,
    buffer_m: float = DEFAULT_BUFFER_M,
    inputs: dict[str, Any] | None = None,
) -> Proposal:
    """Propose sites and floor areas of new facilities of one category.

    Existing facilities are kept. Households already within the threshold of an existing
    facility of the category count as covered; the model covers the others.

    Parameters
    ----------
    network
        The walking network.
    facilities
        Existing facilities: ``id``, ``category``, ``floor_area_m2`` (as for `check`).
    residences
        Residences: ``id``, ``households``.
    category
        The category to add facilities of; the standard needs a rule accepting it.
    sites
        Maximal covering: the number ``k`` of new sites; they cover as many currently uncovered
        households as possible. Give this or ``cover_all``.
    cover_all
        Set covering: the fewest new sites covering every household that can be covered at all.
    candidates
        Candidate sites (points, or polygons such as parcels: their representative point), any
        CRS, ids from an ``id`` column else the index. None: `candidate_sites` generates them.
    spacing_m, mask
        For generated candidates: the spacing along the network and the areas to leave out.
    standard, speed_kmh
        The standard (name, TOML path or `Standard`) and the walking speed (None: the
        standard's own, 4.0 km/h unless a user file sets another).
    module_m2
        Floor areas are rounded up to multiples of this, m².
    sizing
        ``"least_area"`` (default) or ``"catchment"``; see `size_floor_area`.
    time_limit_s
        Time limit of the MILP solver, seconds.
    method
        ``"auto"``, ``"milp"`` or ``"greedy"``; see `max_cover`.
    snap_cap_m
        Points farther than this from the network are off it.
    isochrones, buffer_m
        Compute the served areas (5/10/15-minute bands) of the *after* review, so that the map
        shows the catchments of the proposed sites.
    inputs
        Provenance of the input files for the summaries.

    Returns
    -------
    Proposal

    Raises
    ------
    InputError
        Neither or both of ``sites`` and ``cover_all``, a category the standard has no rule for,
        bad parameters, no usable candidate site.

    Examples
    --------
    >>> import planner
    >>> network = planner.load_network("data/cn_beijing_haidian_cau_map.osm.bz2")
    >>> facilities = planner.read_facilities("data/haidian/facilities.gpkg")
    >>> residences = planner.read_residences("data/haidian/residences.gpkg")
    >>> proposal = planner.propose(network, facilities, residences, sites=2)
    >>> proposal.sites["floor_area_m2"].tolist(), proposal.method, proposal.after.passes
    ([1150.0, 500.0], 'milp', True)
    """
    if (sites is None) == (not cover_all):
        raise InputError(
            "Give exactly one of sites=K (maximal covering: the best K new sites) or "
            "cover_all=True (set covering: the fewest sites covering every household)."
        )
    if sites is not None and (int(sites) != sites or sites < 1):
        raise InputError(f"sites (the number of new facilities) must be >= 1, not {sites!r}.")
    if isinstance(standard, Standard):
        std = standard if speed_kmh is None else standard.with_speed(speed_kmh)
    else:
        std = load_standard(standard, speed_kmh=speed_kmh)
    rule = _rule_for(std, category)
    threshold_m = float(rule.max_walk_m)

    fac = facilities.to_crs(4326).reset_index(drop=True)
    res = residences.to_crs(4326).reset_index(drop=True)
    before = check(
        network,
        fac,
        res,
        standard=std,
        speed_kmh=speed_kmh,
        allocation="catchment",
        snap_cap_m=snap_cap_m,
        inputs=inputs,
    )
    res_snap = snap_points(network, res, snap_cap_m=snap_cap_m, what="residences")
    households = res["households"].to_numpy(dtype=np.float64)
    covered_before = before.residences[column("covered", rule.key)].to_numpy(dtype=bool)

    cand_points, cand_source = _candidate_points(network, candidates, spacing_m, mask)
    cand_snap = snap_points(network, cand_points, snap_cap_m=snap_cap_m, what="candidate sites")
    cand_on = cand_snap.on_network
    if not cand_on.any():
        raise InputError(
            f"No candidate site lies within {snap_cap_m:g} m of the walking network; give "
            "candidates near the streets (or raise snap_cap_m)."
        )

    # Demand: residences not covered yet, on the network, with households.
    demand = np.flatnonzero(~covered_before & res_snap.on_network & (households > 0))
    s, t, _ = pairs_within(network, cand_snap, res_snap, cutoff_m=threshold_m)
    reach_all = coverage_matrix(s, t, n_sites=len(cand_snap), n_demand=len(res_snap))
    cover = reach_all[:, demand]
    coverable = np.asarray(cover.sum(axis=0)).ravel() > 0
    uncoverable = _uncoverable(
        network,
        res,
        res_snap,
        households,
        covered_before,
        demand,
        coverable,
        cand_snap,
        threshold_m,
    )

    if cover_all:
        solution = set_cover(
            cover[:, coverable],
            weights=households[demand[coverable]],
            site_cost=reach_all.astype(np.float64) @ households,
            method=method,
            time_limit_s=time_limit_s,
        )
    else:
        solution = max_cover(
            cover,
            households[demand],
            int(sites),  # type: ignore[arg-type]
            method=method,
            time_limit_s=time_limit_s,
        )
    chosen = solution.chosen
    log.info(
        "%s: %d sites by %s (%s, gap %s) in %.2f s",
        "set covering" if cover_all else "maximal covering",
        chosen.shape[0],
        solution.method,
        solution.status,
        solution.gap,
        solution.solve_s,
    )

    # Catchments of the chosen sites over every residence, and sizing.
    chosen_snap = cand_snap.subset(chosen)
    cs, ct, cw = pairs_within(network, chosen_snap, res_snap, cutoff_m=threshold_m)
    reach = coverage_matrix(cs, ct, n_sites=chosen.shape[0], n_demand=len(res_snap))
    in_catchment = reach.astype(np.float64) @ households
    newly = _newly_covered(cs, ct, cw, covered_before, households, chosen.shape[0])
    required = rule.min_floor_area_m2_per_100_households
    if required is not None:
        existing = (
            before.residences["floor_area_m2_per_100hh"].to_numpy(dtype=np.float64)
            if "floor_area_m2_per_100hh" in before.residences
            else None
        )
        area = size_floor_area(
            reach,
            households,
            existing_m2_per_100hh=existing,
            required_m2_per_100hh=float(required),
            module_m2=module_m2,
            sizing=sizing,
        )
    else:
        area = np.full(chosen.shape[0], np.nan)

    site_ids = _site_ids(fac, chosen.shape[0])
    site_frame = gpd.GeoDataFrame(
        {
            "id": site_ids,
            "candidate_id": cand_points["id"].to_numpy()[chosen].astype(object),
            "category": category,
            "floor_area_m2": area,
            "households_newly_covered": newly,
            "households_in_catchment": in_catchment,
            "m2_per_100hh": np.divide(
                100.0 * area,
                in_catchment,
                out=np.full(area.shape[0], np.nan),
                where=in_catchment > 0,
            ),
            "proposed": np.ones(chosen.shape[0], dtype=bool),
        },
        geometry=cand_points.geometry.to_numpy()[chosen],
        crs=4326,
    )
    after = check(
        network,
        _with_sites(fac, site_frame),
        res,
        standard=std,
        speed_kmh=speed_kmh,
        allocation="catchment",
        snap_cap_m=snap_cap_m,
        isochrones=isochrones,
        buffer_m=buffer_m,
        inputs=inputs,
    )
    expansions = (
        _expansions(network, rule, fac, after, households, module_m2, snap_cap_m)
        if required is not None
        else pd.DataFrame(columns=["id", "floor_area_m2", "extra_floor_area_m2"])
    )
    summary = _proposal_summary(
        rule=rule,
        cover_all=cover_all,
        k=sites,
        solution=solution,
        cand_snap=cand_snap,
        cand_source=cand_source,
        households=households,
        covered_before=covered_before,
        demand=demand,
        coverable=coverable,
        sites=site_frame,
        before=before,
        after=after,
        uncoverable=uncoverable,
        expansions=expansions,
        module_m2=module_m2,
        sizing=sizing,
        spacing_m=spacing_m if candidates is None else None,
    )
    if not summary["verification"]["verified"]:
        log.warning("The after-review does not confirm the proposal: %s", summary["verification"])
    return Proposal(
        sites=site_frame,
        before=before,
        after=after,
        method=solution.method,
        gap=solution.gap,
        uncoverable=uncoverable,
        expansions=expansions,
        summary=summary,
        solution=solution,
    )


def _rule_for(std: Standard, category: str) -> Rule:
    exact = [r for r in std.rules if r.category == category]
    accepting = [r for r in std.rules if category in r.accepted_categories]
    found = exact or accepting
    if not found:
        raise InputError(
            f"The standard {std.name!r} has no rule for category {category!r} (its categories: "
            f"{', '.join(std.categories)}). Choose one of those, or a standard with that rule."
        )
    with_area = [r for r in found if r.has_floor_area]
    return with_area[0] if with_area else found[0]


def _candidate_points(
    network: Network,
    candidates: gpd.GeoDataFrame | None,
    spacing_m: float,
    mask: gpd.GeoDataFrame | None,
) -> tuple[gpd.GeoDataFrame, str]:
    """Candidate points in EPSG:4326 with an ``id`` column, and where they come from."""
    if candidates is None:
        generated = candidate_sites(network, spacing_m=spacing_m, mask=mask)
        return generated[["id", "geometry"]], f"generated every {spacing_m:g} m along the network"
    if len(candidates) == 0:
        raise InputError("The candidate sites layer is empty: give at least one point or polygon.")
    if candidates.crs is None:
        raise InputError("The candidate sites layer has no CRS: set one (e.g. EPSG:4326).")
    cand = candidates.to_crs(4326).reset_index(drop=False)
    ids = candidates["id"].to_numpy() if "id" in candidates else candidates.index.to_numpy()
    if pd.Series(ids).duplicated().any():
        dup = pd.Series(ids)[pd.Series(ids).duplicated()].unique()[:10].tolist()
        raise InputError(f"The candidate sites layer repeats ids {dup}; ids must be unique.")
    geoms = cand.geometry.to_numpy()
    bad = shapely.is_empty(geoms) | shapely.is_missing(geoms)
    if bad.any():
        rows = np.flatnonzero(bad)[:10].tolist()
        raise InputError(f"The candidate sites layer has empty geometries (rows {rows}).")
    not_point = shapely.get_type_id(geoms) != 0
    if not_point.any():
        geoms = geoms.copy()
        geoms[not_point] = shapely.point_on_surface(geoms[not_point])
    if mask is not None:
        log.info("mask is used for generated candidates only; the given candidates are kept")
    points = gpd.GeoDataFrame({"id": np.asarray(ids, dtype=object)}, geometry=geoms, crs=4326)
    return points, "user layer"


def _uncoverable(
    network: Network,
    res: gpd.GeoDataFrame,
    res_snap: SnappedPoints,
    households: np.ndarray,
    covered_before: np.ndarray,
    demand: np.ndarray,
    coverable: np.ndarray,
    cand_snap: SnappedPoints,
    threshold_m: float,
) -> pd.DataFrame:
    """Residences uncovered now that no candidate can cover, with the reason."""
    off = np.flatnonzero(~res_snap.on_network & (households > 0))
    far = demand[~coverable]
    _, walk_m = nearest(network, cand_snap, res_snap.subset(far))
    ids = res["id"].to_numpy() if "id" in res else res.index.to_numpy()
    rows = [
        {
            "id": ids[i],
            "households": households[i],
            "reason": "off_network",
            "detail": f"{res_snap.access_m[i]:.0f} m from the nearest walkable street, beyond "
            f"the snap cap of {res_snap.snap_cap_m:g} m",
            "distance_to_network_m": round(float(res_snap.access_m[i]), 3),
            "nearest_candidate_walk_m": np.nan,
        }
        for i in off
    ]
    for i, walk in zip(far, walk_m, strict=True):
        detail = (
            f"nearest candidate site is {walk:.0f} m away on foot (threshold {threshold_m:.0f} m)"
            if np.isfinite(walk)
            else "no candidate site is reachable on the walking network"
        )
        rows.append(
            {
                "id": ids[i],
                "households": households[i],
                "reason": "no_candidate_within_reach",
                "detail": detail,
                "distance_to_network_m": round(float(res_snap.access_m[i]), 3),
                "nearest_candidate_walk_m": round(float(walk), 3),
            }
        )
    columns = [
        "id",
        "households",
        "reason",
        "detail",
        "distance_to_network_m",
        "nearest_candidate_walk_m",
    ]
    table = pd.DataFrame(rows, columns=columns)
    return table.sort_values(["households", "reason"], ascending=[False, True], kind="stable")


def _newly_covered(
    cs: np.ndarray,
    ct: np.ndarray,
    cw: np.ndarray,
    covered_before: np.ndarray,
    households: np.ndarray,
    n_sites: int,
) -> np.ndarray:
    """Households uncovered before, each counted at its nearest proposed site."""
    new = ~covered_before[ct]
    s, t, w = cs[new], ct[new], cw[new]
    order = np.lexsort((s, w, t))
    s, t = s[order], t[order]
    first = np.concatenate(([True], t[1:] != t[:-1])) if t.size else np.empty(0, dtype=bool)
    return np.bincount(s[first], weights=households[t[first]], minlength=n_sites)


def _site_ids(fac: gpd.GeoDataFrame, n: int) -> list[str]:
    taken = {str(v) for v in fac["id"].to_numpy()} if "id" in fac else set()
    prefix = "P"
    while any(f"{prefix}{i}" in taken for i in range(1, n + 1)):
        prefix = f"{prefix}_"
    return [f"{prefix}{i}" for i in range(1, n + 1)]


def _with_sites(fac: gpd.GeoDataFrame, sites: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Existing facilities (``proposed`` False) followed by the proposed sites."""
    existing = fac.rename_geometry("geometry") if fac.geometry.name != "geometry" else fac.copy()
    existing["proposed"] = (
        existing["proposed"].astype(bool).to_numpy() if "proposed" in fac else False
    )
    if len(sites) == 0:
        return existing
    new = pd.DataFrame(sites[["id", "category", "floor_area_m2", "proposed", "geometry"]])
    combined = pd.concat([pd.DataFrame(existing), new], ignore_index=True)
    combined["id"] = combined["id"].astype(object)
    return gpd.GeoDataFrame(combined, geometry="geometry", crs=4326)


def _expansions(
    network: Network,
    rule: Rule,
    fac: gpd.GeoDataFrame,
    after: CheckResult,
    households: np.ndarray,
    module_m2: float,
    snap_cap_m: float,
) -> pd.DataFrame:
    """Extra floor area existing facilities need for the households still below the ratio."""
    columns = ["id", "floor_area_m2", "households_in_catchment", "extra_floor_area_m2"]
    required = float(rule.min_floor_area_m2_per_100_households)  # type: ignore[arg-type]
    ratio = after.residences["floor_area_m2_per_100hh"].to_numpy(dtype=np.float64)
    short = np.clip(required - np.nan_to_num(ratio, nan=0.0), 0.0, None)
    short[short < 1e-9] = 0.0
    in_category = np.isin(fac["category"].astype(object).to_numpy(), rule.accepted_categories)
    if not in_category.any() or not (short > 0).any():
        return pd.DataFrame(columns=columns)
    existing = fac[in_category].reset_index(drop=True)
    fac_snap = snap_points(network, existing, snap_cap_m=snap_cap_m, what="facilities")
    res_snap = snap_points(network, after.residences, snap_cap_m=snap_cap_m, what="residences")
    s, t, _ = pairs_within(network, fac_snap, res_snap, cutoff_m=float(rule.max_walk_m))
    reach = coverage_matrix(s, t, n_sites=len(existing), n_demand=len(res_snap))
    reached = np.asarray(reach.sum(axis=0)).ravel() > 0
    need = np.where(reached, short, 0.0)
    if not (need > 0).any():
        return pd.DataFrame(columns=columns)
    # What each household already has counts as "existing"; only the remainder is sized.
    extra = size_floor_area(
        reach,
        households,
        existing_m2_per_100hh=required - need,
        required_m2_per_100hh=required,
        module_m2=module_m2,
        sizing="least_area",
        min_modules=0,
    )
    table = pd.DataFrame(
        {
            "id": existing["id"].to_numpy(),
            "floor_area_m2": existing["floor_area_m2"].to_numpy(dtype=np.float64),
            "households_in_catchment": reach.astype(np.float64) @ households,
            "extra_floor_area_m2": extra,
        }
    )
    return table[table["extra_floor_area_m2"] > 0].reset_index(drop=True)


def _proposal_summary(
    *,
    rule: Rule,
    cover_all: bool,
    k: int | None,
    solution: Solution,
    cand_snap: SnappedPoints,
    cand_source: str,
    households: np.ndarray,
    covered_before: np.ndarray,
    demand: np.ndarray,
    coverable: np.ndarray,
    sites: gpd.GeoDataFrame,
    before: CheckResult,
    after: CheckResult,
    uncoverable: pd.DataFrame,
    expansions: pd.DataFrame,
    module_m2: float,
    sizing: str,
    spacing_m: float | None,
) -> dict[str, Any]:
    key = rule.key
    covered_after = after.residences[column("covered", key)].to_numpy(dtype=bool)
    n_before = len(covered_before)
    claimed = float(sites["households_newly_covered"].sum())
    recomputed = float(households[covered_after[:n_before] & ~covered_before].sum())
    lost = float(households[covered_before & ~covered_after[:n_before]].sum())
    proposed_rows = after.facilities["proposed"].to_numpy(dtype=bool)
    after_fac = after.facilities[proposed_rows]
    catchment_ok = (
        np.allclose(
            after_fac["households_in_catchment"].to_numpy(dtype=np.float64),
            sites["households_in_catchment"].to_numpy(dtype=np.float64),
            rtol=0,
            atol=1e-6,
        )
        if "households_in_catchment" in after_fac and rule.has_floor_area
        else True
    )
    objective_ok = cover_all or math.isclose(
        claimed, solution.objective, rel_tol=1e-9, abs_tol=1e-6
    )
    verified = (
        math.isclose(claimed, recomputed, rel_tol=1e-9, abs_tol=1e-6)
        and lost == 0
        and catchment_ok
        and objective_ok
    )
    if cover_all:
        coverable_hh = float(households[demand[coverable]].sum())
        verified = verified and math.isclose(recomputed, coverable_hh, rel_tol=1e-9, abs_tol=1e-6)
    fa_after = after.summary.get("floor_area")
    summary = {
        "model": "set_covering" if cover_all else "maximal_covering",
        "sites_requested": None if cover_all else int(k),  # type: ignore[arg-type]
        "sites_proposed": int(len(sites)),
        "category": rule.category,
        "rule": key,
        "max_walk_m": round(float(rule.max_walk_m), 3),
        "max_walk_min": round(float(rule.max_walk_min), 3),
        "speed_kmh": rule.speed_kmh,
        "candidates": {
            "source": cand_source,
            "spacing_m": spacing_m,
            "total": int(len(cand_snap)),
            "off_network": int((~cand_snap.on_network).sum()),
        },
        "solver": {
            "method": solution.method,
            "status": solution.status,
            "objective": solution.objective,
            "bound": solution.bound,
            "gap": solution.gap,
            "solve_s": solution.solve_s,
            "note": solution.note,
        },
        "households": {
            "total": float(households.sum()),
            "covered_before": float(households[covered_before].sum()),
            "uncovered_before": float(households[~covered_before].sum()),
            "coverable": float(households[demand[coverable]].sum()),
            "uncoverable": float(uncoverable["households"].sum()),
            "newly_covered": claimed,
        },
        "floor_area": {
            "sizing": sizing,
            "module_m2": module_m2,
            "required_m2_per_100hh": rule.min_floor_area_m2_per_100_households,
            "proposed_m2": float(np.nansum(sites["floor_area_m2"].to_numpy(dtype=np.float64))),
            "existing_extra_m2": float(expansions["extra_floor_area_m2"].sum())
            if len(expansions)
            else 0.0,
            "shortfall_m2_after": None if fa_after is None else fa_after["shortfall_m2"],
        },
        "verification": {
            "households_newly_covered_claimed": claimed,
            "households_newly_covered_by_check": recomputed,
            "households_lost": lost,
            "catchments_match": bool(catchment_ok),
            "verified": bool(verified),
        },
        "uncoverable": {
            "residences": int(len(uncoverable)),
            "off_network": int((uncoverable["reason"] == "off_network").sum()),
            "no_candidate_within_reach": int(
                (uncoverable["reason"] == "no_candidate_within_reach").sum()
            ),
        },
        "comparison": compare_summaries(before.summary, after.summary),
    }
    return jsonable(summary)


__all__ = [
    "AUTO_MILP_MAX_NNZ",
    "Proposal",
    "Solution",
    "candidate_sites",
    "coverage_matrix",
    "max_cover",
    "propose",
    "set_cover",
    "size_floor_area",
]
