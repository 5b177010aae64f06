"""Floor area of new facilities: the least area that gives every reached household its ratio.

Array code, no geometry: a facility × residence reach matrix and the households; the ratio is
the one `planner.checks.check` computes with the ``catchment`` allocation.
"""

from __future__ import annotations

import logging
from typing import Literal

import numpy as np
import scipy.sparse as sp

from planner.errors import InputError
from planner.siting._greedy import _as_bool_csr

log = logging.getLogger(__name__)

Sizing = Literal["least_area", "catchment"]


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
            f"size_floor_area: reach has {matrix.shape[1]} columns but {hh.shape[0]} households.",
            zh=f"size_floor_area：reach 有 {matrix.shape[1]} 列，但有 {hh.shape[0]} 个住户点。",
        )
    if not np.isfinite(module_m2) or module_m2 <= 0:
        raise InputError(
            f"module_m2 must be a positive number of m², not {module_m2!r}.",
            zh=f"module_m2 必须是正的 m² 数，而不是 {module_m2!r}。",
        )
    if sizing not in ("least_area", "catchment"):
        raise InputError(
            f"sizing must be 'least_area' or 'catchment', not {sizing!r}.",
            zh=f"sizing 必须是 'least_area' 或 'catchment'，而不是 {sizing!r}。",
        )
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
        raise InputError(
            f"floor-area sizing: the linear program failed ({first.message}).",
            zh=f"建筑面积配置：线性规划求解失败（{first.message}）。",
        )
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


__all__ = ["Sizing", "size_floor_area"]
