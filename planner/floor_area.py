"""Floor area per 100 households: one function per way of allocating households to supply.

Each allocation takes the supply of the rule's facilities (m², 0 outside the category) and the
households of the residences, and returns an `Allocation`: the m² per 100 households each
residence gets, the households each facility serves, and the shortfall in m². docs/ARCHITECTURE.md
("Floor area") states the three ways.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from planner.engine import nearest, pairs_within
from planner.errors import InputError
from planner.network import Network
from planner.schema import column
from planner.snapping import SnappedPoints
from planner.standards import Rule

log = logging.getLogger(__name__)


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
    out: np.ndarray = np.divide(supply, demand, out=np.full(len(demand), np.nan), where=demand > 0)
    return out


def catchment_ratio(
    pair_fac: np.ndarray,
    pair_res: np.ndarray,
    supply: np.ndarray,
    in_category: np.ndarray,
    households: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Round one of the two-step catchment: each facility's m² per household reaching it.

    ``pair_fac`` / ``pair_res`` are the (facility row, residence row) pairs within the walk, in
    any order: they are summed by facility then residence, so a review split into units gives
    the same bits. Returns the ratio (NaN outside the category or without demand) and the demand
    (households) of every facility.
    """
    order = np.lexsort((pair_res, pair_fac))
    s, t = pair_fac[order], pair_res[order]
    demand = np.bincount(s, weights=households[t], minlength=len(supply))
    ratio = np.full(len(supply), np.nan)
    np.divide(supply, demand, out=ratio, where=(demand > 0) & in_category)
    return ratio, demand


def catchment_shares(
    ratio: np.ndarray, pair_fac: np.ndarray, pair_res: np.ndarray, res_rows: np.ndarray
) -> np.ndarray:
    """Round two: m² per 100 households of each of ``res_rows`` (sorted residence rows).

    Sums each residence's facilities in facility order; ``res_rows`` may be a unit's residences
    (its pairs only) or all of them.
    """
    local = np.searchsorted(res_rows, pair_res)
    order = np.lexsort((local, pair_fac))
    s, t = pair_fac[order], local[order]
    return np.bincount(t, weights=np.nan_to_num(ratio[s]), minlength=len(res_rows)) * 100.0


def by_catchment_pairs(
    pair_fac: np.ndarray,
    pair_res: np.ndarray,
    supply: np.ndarray,
    in_category: np.ndarray,
    households: np.ndarray,
    *,
    required: float,
) -> Allocation:
    """Two-step floating catchment from precomputed pairs (facility row, residence row)."""
    ratio, demand = catchment_ratio(pair_fac, pair_res, supply, in_category, households)
    rows = np.arange(len(households))
    per_residence = catchment_shares(ratio, pair_fac, pair_res, rows)
    served = np.where(in_category, demand, 0.0)
    shortfall = float(np.sum(np.clip(required - per_residence, 0.0, None) * households / 100.0))
    return Allocation(per_residence, served, ratio[in_category] * 100.0, shortfall)


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
    in_category = np.zeros(len(supply), dtype=bool)
    in_category[rows] = True
    return by_catchment_pairs(rows[s], t, supply, in_category, households, required=required)


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


def sum_by(keys: np.ndarray, values: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Sum of ``values`` per key, in the order of ``ids`` (0 where a key has none)."""
    keys = np.asarray(keys, dtype=object)
    has = pd.notna(keys)
    sums = pd.Series(np.asarray(values, dtype=np.float64)[has]).groupby(keys[has]).sum()
    out: np.ndarray = sums.reindex(ids).fillna(0.0).to_numpy(dtype=np.float64)
    return out


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


def counted(rule: Rule, fac: gpd.GeoDataFrame) -> np.ndarray:
    """Which facilities count toward the rule (category and, where set, minimum size)."""
    areas = (
        fac["floor_area_m2"].to_numpy(dtype=np.float64)
        if "floor_area_m2" in fac
        else np.full(len(fac), np.nan)
    )
    return np.asarray(rule.accepts_facilities(fac["category"].astype(object).to_numpy(), areas))


def rule_supply(rule: Rule, fac: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The rule's facilities: of its category, counted (and big enough), and their m² (else 0).

    Raises
    ------
    InputError
        A facility of the category without floor area.
    """
    area = fac["floor_area_m2"].to_numpy(dtype=np.float64) if "floor_area_m2" in fac else None
    if area is None:
        area = np.full(len(fac), np.nan)
    categories = fac["category"].astype(object).to_numpy()
    of_category = np.isin(categories, rule.accepted_categories)
    if np.isnan(area[of_category]).any():
        bad = fac["id"].to_numpy()[of_category & np.isnan(area)]
        raise InputError(
            f"The floor-area rule needs floor_area_m2 for every {rule.category!r} facility; "
            f"missing for ids {bad[:10].tolist()}. Add the column (or --floor-area-col).",
            zh=f"建筑面积规则需要每处 {rule.category!r} 设施的 floor_area_m2；"
            f"id 为 {bad[:10].tolist()} 的设施缺少该值。请补上该列（或用 --floor-area-col 指明）。",
        )
    in_category = rule.accepts_facilities(categories, area)  # and, where set, big enough
    return of_category, in_category, np.where(in_category, area, 0.0)


def allocate(
    network: Network,
    rule: Rule,
    allocation: str,
    fac: gpd.GeoDataFrame,
    fac_snap: SnappedPoints,
    res_snap: SnappedPoints,
    households: np.ndarray,
) -> Allocation | None:
    """The walking allocations (``catchment``, ``nearest``) on the network; None: ``community``."""
    if allocation == "community":
        return None
    _, in_category, supply = rule_supply(rule, fac)
    rows = np.flatnonzero(in_category)
    required = float(rule.min_floor_area_m2_per_100_households)  # type: ignore[arg-type]
    src = fac_snap.subset(in_category)
    if allocation == "catchment":
        return by_catchment(
            network,
            src,
            rows,
            supply,
            res_snap,
            households,
            cutoff_m=rule.max_walk_m,
            required=required,
        )
    return by_nearest(network, src, rows, supply, res_snap, households, required=required)


def check_floor_area(
    rule: Rule,
    allocation: str,
    alloc: Allocation | None,
    fac: gpd.GeoDataFrame,
    fac_on: np.ndarray,
    households: np.ndarray,
    res_out: gpd.GeoDataFrame,
    fac_out: gpd.GeoDataFrame,
    comm_in: gpd.GeoDataFrame | None,
    fac_comm: np.ndarray | None,
) -> dict[str, Any]:
    """Fill the frames with an allocation of the rule's floor area; return the summary section.

    ``alloc`` comes from `allocate` (or `by_catchment_pairs`); None with ``community``
    allocation, which is computed here from the communities.
    """
    required = float(rule.min_floor_area_m2_per_100_households)  # type: ignore[arg-type]
    of_category, in_category, supply = rule_supply(rule, fac)
    total_supply = float(supply.sum())
    total_hh = float(households.sum())
    rows = np.flatnonzero(in_category)
    if alloc is None:
        assert comm_in is not None and fac_comm is not None
        res_comm = res_out["community_id"].to_numpy()
        scratch = gpd.GeoDataFrame(
            {
                "id": comm_in["id"].to_numpy(),
                "households": sum_by(res_comm, households, comm_in["id"].to_numpy()),
            },
            geometry=comm_in.geometry.to_numpy(),
            crs=comm_in.crs,
        )
        alloc = by_community(rows, supply, fac_comm, res_comm, scratch, required=required)
    per_res, fac_hh, shortfall = (
        alloc.per_residence_m2_per_100hh,
        alloc.households_served,
        alloc.shortfall_m2,
    )
    fac_out.loc[in_category, "m2_per_100hh"] = alloc.facility_m2_per_100hh
    fac_out.loc[in_category, "households_in_catchment"] = fac_hh[in_category]
    ratio = fac_out.loc[in_category, "m2_per_100hh"].to_numpy(dtype=np.float64)
    ok = pd.array(ratio >= required - 1e-9, dtype="boolean")
    # No verdict for a facility no household reaches (off the network, or nobody within walk).
    ok[np.isnan(ratio)] = pd.NA
    fac_out.loc[in_category, "floor_area_ok"] = ok
    unreached = in_category & ~fac_on
    if unreached.any():
        log.warning(
            "%d %s facilit%s off the network (no household reaches %s): %s. Their floor area "
            "gets no verdict; with communities it still counts toward its community.",
            int(unreached.sum()),
            rule.category,
            "y is" if unreached.sum() == 1 else "ies are",
            "it" if unreached.sum() == 1 else "them",
            ", ".join(map(str, fac["id"].to_numpy()[unreached][:10])),
        )
    res_out["floor_area_m2_per_100hh"] = np.round(per_res, 6)
    res_out["floor_area_ok"] = np.nan_to_num(per_res, nan=0.0) >= required - 1e-9
    overall = 100.0 * total_supply / total_hh if total_hh > 0 else float("inf")
    shortfall = round(shortfall, 3)
    return {
        "rule": rule.key,
        "category": rule.category,
        "label_zh": rule.label_zh,
        "label_en": rule.label_en,
        "allocation": allocation,
        "max_walk_m": round(rule.max_walk_m, 3),
        "facilities": int(in_category.sum()),
        "supply_m2": round(total_supply, 3),
        "households": round(total_hh, 3),
        "m2_per_100hh": round(overall, 6),
        "required_m2_per_100hh": required,
        "required_m2": round(required * total_hh / 100.0, 3),
        "total_gap_m2": round(max(0.0, required * total_hh / 100.0 - total_supply), 3),
        "shortfall_m2": shortfall,
        "households_below": round(float(households[~res_out["floor_area_ok"].to_numpy()].sum()), 3),
        "passes": bool(shortfall <= 1e-6),
        "per": allocation,
        "rule_per": rule.per,
        "min_floor_area_m2": rule.min_floor_area_m2,
        "target_m2_per_100_households": rule.target_m2_per_100_households,
        "min_facility_floor_area_m2": rule.min_facility_floor_area_m2,
        "facilities_too_small": int((of_category & ~in_category).sum()),
        "facilities_off_network": int(unreached.sum()),
        "note": floor_area_note(rule, comm_in is not None),
        "source": rule.source,
        "clause": rule.clause,
        "verified": rule.verified,
        "quote": rule.quote,
    }


def per_community(summary: dict[str, Any], comm_out: gpd.GeoDataFrame, rule: Rule) -> None:
    """With communities, the floor-area verdict is per community (the sources' unit)."""
    ok = comm_out[column("floor_area_ok", rule.key)]
    # The allocation's figures stay as the per-residence and per-facility view.
    summary["allocation_shortfall_m2"] = summary["shortfall_m2"]
    summary["allocation_passes"] = summary["passes"]
    summary["per"] = "community"
    summary["communities"] = int(ok.notna().sum())
    summary["communities_failing"] = int((ok == False).sum())  # noqa: E712 (NA stays NA)
    summary["shortfall_m2"] = round(float(comm_out[column("shortfall_m2", rule.key)].sum()), 3)
    summary["passes"] = bool(summary["communities_failing"] == 0)


def floor_area_note(rule: Rule, has_communities: bool) -> str:
    if has_communities:
        return (
            "verdict per community (the floor area of its facilities per 100 of its households); "
            "the catchment figures are the per-residence and per-facility view"
        )
    if rule.per == "community":
        return (
            "no communities layer: checked over each facility's walking catchment instead; "
            "the sources define this rule per community (give --communities)"
        )
    return "checked over each facility's walking catchment (two-step floating catchment)"


__all__ = [
    "Allocation",
    "allocate",
    "by_catchment",
    "by_catchment_pairs",
    "by_community",
    "by_nearest",
    "catchment_ratio",
    "catchment_shares",
    "check_floor_area",
    "counted",
    "community_of",
    "floor_area_note",
    "per_community",
    "rule_supply",
    "sum_by",
]
