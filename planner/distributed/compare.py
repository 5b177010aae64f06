"""The single-process result in the form a split review gives it (for equality tests)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from planner.checks import CheckResult
from planner.schema import column


def censor_walks(result: CheckResult, exact_to_m: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Residences and gaps of ``result``, walks beyond ``exact_to_m`` as a split review gives them.

    A split review knows a walk exactly up to the largest threshold; beyond it (or when no
    facility is reachable in the unit's halo although one is on the network) it reports
    ``inf`` ("more than ``exact_to_m`` m") and no nearest facility. Returns copies.
    """
    res = result.residences.copy()
    gaps = result.gaps.copy()
    on = res["on_network"].to_numpy(dtype=bool)
    fac = result.facilities
    fac_on = fac["on_network"].to_numpy(dtype=bool)
    categories = fac["category"].astype(object).to_numpy()
    for c in result.summary["coverage"]:
        key = c["key"]
        has = bool((np.isin(categories, c["accepted_categories"]) & fac_on).any())
        walk = res[column("walk_m", key)].to_numpy(dtype=np.float64)
        beyond = on & has & ~(walk <= exact_to_m)
        if not beyond.any():
            continue
        res.loc[beyond, column("walk_m", key)] = np.inf
        res.loc[beyond, column("walk_min", key)] = np.inf
        ids_col = column("nearest_id", key)
        if not isinstance(res[ids_col].dtype, pd.Int64Dtype):
            # rebuilt as the merge builds it: pandas infers str, or object when all are missing
            values = res[ids_col].to_numpy(dtype=object, copy=True)
            values[beyond | pd.isna(values)] = None
            res[ids_col] = pd.DataFrame({ids_col: values}, index=res.index)[ids_col]
        else:
            res.loc[beyond, ids_col] = pd.NA
        ids = set(res["id"].to_numpy()[beyond].tolist())
        hit = (gaps["category"] == key).to_numpy() & gaps["id"].isin(ids).to_numpy()
        gaps.loc[hit, "walk_m"] = np.inf
        gaps.loc[hit, "short_by_m"] = np.inf
    return res, gaps
