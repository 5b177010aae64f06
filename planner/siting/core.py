"""The array core of siting: covering models on a coverage matrix, no geometry.

Two doors, as in PySAL spopt:

- the array core (this module), `max_cover`, `set_cover` and `size_floor_area` (from
  `planner.siting.sizing`), works on a sparse candidate × demand coverage matrix
  (``coverage[j, i]`` true when candidate site ``j`` reaches demand point ``i`` within the
  threshold) and knows nothing of geometry;
- the GeoDataFrame door, `planner.siting.proposal.propose`, snaps the layers, builds that matrix
  with the distance engine (`planner.engine.pairs_within`), calls the core, sizes the chosen
  sites and checks the plan again with `planner.checks.check` (the *after* review is the
  verification of every claim).

Solvers: scipy's MILP solver (HiGHS, below) solves both models exactly within a time limit and
reports the optimality gap when it stops early; a vectorised greedy (`planner.siting._greedy`)
handles larger problems. The greedy guarantees are the classic ones: for maximal covering the
greedy choice covers at least (1 - 1/e) ≈ 63.2 % of the optimum (Nemhauser, Wolsey and Fisher
1978); for set covering it uses at most H(d) ≤ ln(n) + 1 times the optimal number of sites,
``d`` being the most demand points one site covers and ``n`` the number of demand points
(Johnson 1974; Chvátal 1979). Each greedy run also computes a bound of its own on the instance
(see `Solution.bound`), so a gap is known for it too. See ``docs/ARCHITECTURE.md``.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp

from planner.errors import InputError
from planner.siting._greedy import (
    _as_bool_csr,
    _greedy_max_cover,
    _greedy_set_cover,
    _prune,
    _prune_set_cover,
)
from planner.siting.sizing import Sizing, size_floor_area

log = logging.getLogger(__name__)

Method = Literal["auto", "milp", "greedy"]

AUTO_MILP_MAX_NNZ = 2_000_000
"""``method="auto"`` uses the MILP when the reduced coverage matrix has at most this many
non-zeros (after merging demand points reached by the same candidates), else the greedy."""

AUTO_MILP_MAX_SITES = 50_000
"""``method="auto"`` uses the greedy above this many useful candidate sites."""

_TOL = 1e-9


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
        raise InputError(
            f"k (the number of new sites) must be a whole number >= 1, not {k!r}.",
            zh=f"k（新增设施点数）必须是 >= 1 的整数，而不是 {k!r}。",
        )
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
            "by no candidate site; drop them first (propose() lists them as uncoverable).",
            zh=f"set_cover：{bad.shape[0]} 个需求点"
            f"（列 {bad[:10].tolist()}）没有任何候选点能覆盖；请先去掉它们"
            "（propose() 会把它们列为无法覆盖）。",
        )
    if matrix.shape[1] == 0:
        return Solution(
            np.empty(0, dtype=np.int64), 0.0, 0.0, 0.0, "none", "empty", _since(started)
        )
    cost = np.zeros(matrix.shape[0]) if site_cost is None else np.asarray(site_cost, np.float64)
    if cost.shape != (matrix.shape[0],) or not np.isfinite(cost).all() or (cost < 0).any():
        raise InputError(
            f"site_cost needs one finite cost >= 0 per candidate site ({matrix.shape[0]}).",
            zh=f"site_cost 需要为每个候选点（{matrix.shape[0]} 个）给出一个 >= 0 的有限成本。",
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


def _check_core_input(
    coverage: Any, weights: Any, method: str, time_limit_s: float
) -> tuple[sp.csr_matrix, np.ndarray]:
    if method not in ("auto", "milp", "greedy"):
        raise InputError(
            f"method must be 'auto', 'milp' or 'greedy', not {method!r}.",
            zh=f"method 必须是 'auto'、'milp' 或 'greedy'，而不是 {method!r}。",
        )
    if not np.isfinite(time_limit_s) or time_limit_s <= 0:
        raise InputError(
            f"time_limit_s must be a positive number of seconds, not {time_limit_s!r}.",
            zh=f"time_limit_s 必须是正的秒数，而不是 {time_limit_s!r}。",
        )
    matrix = _as_bool_csr(coverage)
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (matrix.shape[1],):
        raise InputError(
            f"weights has shape {w.shape}; it needs one weight per demand point "
            f"({matrix.shape[1]}).",
            zh=f"weights 的形状为 {w.shape}；每个需求点（{matrix.shape[1]} 个）需要一个权重。",
        )
    if not np.isfinite(w).all() or (w < 0).any():
        raise InputError(
            "weights (households) must be finite and >= 0.",
            zh="weights（户数）必须是有限值且 >= 0。",
        )
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
    return replace(solution, **changes)


def _use_milp(method: str, reduced: _Reduced) -> bool:
    if method == "milp":
        return True
    if method == "greedy":
        return False
    return reduced.csr.nnz <= AUTO_MILP_MAX_NNZ and reduced.n_sites <= AUTO_MILP_MAX_SITES


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


__all__ = [
    "AUTO_MILP_MAX_NNZ",
    "DOMINANCE_MAX_PAIRS",
    "Method",
    "Sizing",
    "Solution",
    "coverage_matrix",
    "max_cover",
    "set_cover",
    "size_floor_area",
]
