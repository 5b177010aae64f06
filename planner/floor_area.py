"""Floor area per 100 households: one function per way of allocating households to supply.

Each allocation takes the supply of the rule's facilities (m², 0 outside the category) and the
households of the residences, and returns an `Allocation`: the m² per 100 households each
residence gets, the households each facility serves, and the shortfall in m². docs/ARCHITECTURE.md
("Floor area") states the three ways.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from planner.engine import nearest, pairs_within
from planner.network import Network
from planner.snapping import SnappedPoints


@dataclass(frozen=True)
class Allocation:
    """Households allocated to floor area.

    Attributes
    ----------
    per_residence_m2_per_100hh
        Floor area per 100 households each residence gets (NaN where it has none assigned).
    households_served
        Households each facility serves (0 for facilities outside the category).
    facility_m2_per_100hh
        Each facility of the category's m² per 100 of the households it serves (NaN: none).
    shortfall_m2
        Floor area that, added where households fall short, brings each to the minimum.
    """

    per_residence_m2_per_100hh: np.ndarray
    households_served: np.ndarray
    facility_m2_per_100hh: np.ndarray
    shortfall_m2: float


def _ratio(supply: np.ndarray, demand: np.ndarray) -> np.ndarray:
    return np.divide(supply, demand, out=np.full(len(demand), np.nan), where=demand > 0)


def by_catchment(
    network: Network,
    sources: SnappedPoints,
    rows: np.ndarray,
    supply: np.ndarray,
    res_snap: SnappedPoints,
    households: np.ndarray,
    *,
    cutoff_m: float,
    required: float,
) -> Allocation:
    """Two-step floating catchment: a facility's area is shared by the households reaching it.

    ``sources`` are the category's facilities (rows ``rows`` of the facility table), ``supply``
    the floor area of every facility. A household's ratio sums the facilities it reaches.
    """
    s, t, _ = pairs_within(network, sources, res_snap, cutoff_m=cutoff_m)
    demand = np.bincount(s, weights=households[t], minlength=len(sources))
    served = np.zeros(len(supply))
    served[rows] = demand
    ratio = _ratio(supply[rows], demand)
    per_res = np.bincount(t, weights=np.nan_to_num(ratio[s]), minlength=len(households)) * 100.0
    shortfall = float(np.sum(np.clip(required - per_res, 0.0, None) * households / 100.0))
    return Allocation(per_res, served, ratio * 100.0, shortfall)


def by_nearest(
    network: Network,
    sources: SnappedPoints,
    rows: np.ndarray,
    supply: np.ndarray,
    res_snap: SnappedPoints,
    households: np.ndarray,
    *,
    required: float,
) -> Allocation:
    """Each residence to its nearest facility of the category; a facility's area is shared."""
    which, _ = nearest(network, sources, res_snap)
    reached = which >= 0
    demand = np.bincount(which[reached], weights=households[reached], minlength=len(sources))
    served = np.zeros(len(supply))
    served[rows] = demand
    ratio = _ratio(supply[rows], demand)
    per_res = np.where(reached, ratio[np.where(reached, which, 0)] * 100.0, 0.0)
    shortfall = float(np.sum(np.clip(required - per_res, 0.0, None) * households / 100.0))
    return Allocation(per_res, served, ratio * 100.0, shortfall)


def community_of(points: gpd.GeoDataFrame, communities: gpd.GeoDataFrame) -> np.ndarray:
    """The id of the community polygon each point lies in (the first when several), else None."""
    inside = gpd.sjoin(
        points[["geometry"]].assign(_row=np.arange(len(points))),
        communities[["id", "geometry"]],
        how="inner",
        predicate="within",
    ).drop_duplicates("_row")
    community = np.full(len(points), None, dtype=object)
    community[inside["_row"].to_numpy()] = inside["id"].to_numpy()
    return community


def by_community(
    rows: np.ndarray,
    supply: np.ndarray,
    facility_community: np.ndarray,
    residence_community: np.ndarray,
    comm_out: gpd.GeoDataFrame,
    *,
    required: float,
) -> Allocation:
    """Per community polygon: its facilities' area over its households.

    ``rows`` are the category's facilities. Fills ``comm_out``'s ``supply_m2``,
    ``m2_per_100hh``, ``floor_area_ok`` and ``shortfall_m2``.
    A facility serves its community's households; a residence gets its community's ratio.
    """
    comm_supply = pd.Series(supply).groupby(facility_community, dropna=True).sum()
    comm_out["supply_m2"] = comm_supply.reindex(comm_out["id"]).fillna(0.0).to_numpy()
    comm_hh = comm_out["households"].to_numpy(dtype=np.float64)
    comm_ratio = np.divide(
        comm_out["supply_m2"].to_numpy() * 100.0,
        comm_hh,
        out=np.full(len(comm_out), np.nan),
        where=comm_hh > 0,
    )
    comm_out["m2_per_100hh"] = comm_ratio
    comm_out["floor_area_ok"] = np.nan_to_num(comm_ratio, nan=np.inf) >= required
    comm_out["shortfall_m2"] = np.clip(
        required * comm_hh / 100.0 - comm_out["supply_m2"].to_numpy(), 0.0, None
    )
    shortfall = float(comm_out["shortfall_m2"].sum())
    per_res = np.full(len(residence_community), np.nan)
    ratio_of = pd.Series(comm_ratio, index=comm_out["id"].to_numpy())
    has = pd.notna(residence_community)
    per_res[has] = ratio_of.reindex(residence_community[has]).to_numpy()
    served = np.zeros(len(supply))
    hh_of = pd.Series(comm_hh, index=comm_out["id"].to_numpy())
    assigned = pd.notna(facility_community)
    served[assigned] = hh_of.reindex(facility_community[assigned]).to_numpy()
    fac_ratio = np.divide(
        supply * 100.0, served, out=np.full(len(supply), np.nan), where=served > 0
    )
    return Allocation(per_res, served, fac_ratio[rows], shortfall)


__all__ = ["Allocation", "by_catchment", "by_community", "by_nearest", "community_of"]
