"""Greedy covering heuristics with their own bounds, and pruning of redundant sites.

Pure arrays (CSR/CSC coverage matrices, weights); `planner.siting.core` calls them and turns
their answers into a `planner.siting.core.Solution`. Also the boolean CSR form every model
starts from.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import scipy.sparse as sp


def _as_bool_csr(matrix: Any) -> sp.csr_matrix:
    out = sp.csr_matrix(matrix, dtype=bool)
    out.eliminate_zeros()
    out.sort_indices()
    return out


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
    cols: np.ndarray = csr.indices[csr.indptr[j] : csr.indptr[j + 1]]
    return cols
