"""Proposals per community: sites attributed to communities, and plans aimed at them.

`propose(..., communities=...)` attributes every proposed site and expansion to the community
(社区) and sub-district (街道) it lies in (`attribute`). With ``target="communities"`` the plan
aims at the communities' verdicts (`plan_communities`, then `size_for_communities`):

- **coverage**: for each community below its rule's target rate, the fewest sites that bring
  its share of households within the walk to the target: set covering of its uncovered,
  coverable households when all of them are needed, else maximal covering with 1, 2, ... sites
  until the households it lacks are covered (the array core, `planner.siting.core`).
  Communities are planned in the layer's order; a site chosen for one community counts for every
  household it reaches, so a neighbour reached by it needs no site of its own.
- **floor area**: the shortfall each community has (its rule's minimum per 100 households
  times its households, at least the rule's ``min_floor_area_m2`` per community, minus the
  floor area of the rule's facilities in it), placed inside the community, in this order:

  1. a new site the coverage plan puts inside the community (the one reaching most of its
     households) is built larger: one new building instead of two;
  2. else an existing facility of the category in the community is expanded (the largest):
     no new land is needed and the services stay together;
  3. else a new site at the candidate inside the community's polygon that reaches most of its
     households;
  4. else (no candidate inside) a new site at the polygon's representative point, moved onto
     the nearest street when that point still lies in the polygon (it is assigned to the
     community explicitly either way).

  Amounts are rounded up to ``module_m2``; a new floor-area site gets at least the rule's
  ``min_facility_floor_area_m2``.

A community that cannot be made compliant is listed with the reason: households no candidate
site reaches within the walk (or off the network), no households, or failing rules of other
categories. See ``docs/ARCHITECTURE.md``, "Siting" and "Communities".
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely

from planner.checks import CheckResult
from planner.communities import assign_facilities, brief_rows, records
from planner.errors import InputError
from planner.floor_area import community_of
from planner.network import Network
from planner.schema import column
from planner.siting.core import Method, Solution, max_cover, set_cover
from planner.snapping import SnappedPoints, snap_points
from planner.standards import Rule, Standard

log = logging.getLogger(__name__)

Target = Literal["coverage", "communities"]
TARGETS: tuple[str, ...] = ("coverage", "communities")

ATTRIBUTES = ("community_id", "community_name", "subdistrict")
"""The columns `attribute` adds to proposed sites and expansions."""

_TOL = 1e-6


def communities_in(communities: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The communities layer in WGS84 with an ``id`` (as `planner.checks.check` reads it)."""
    if communities.crs is None:
        raise InputError(
            "The communities layer has no CRS: set one (e.g. EPSG:4326).",
            zh="社区图层没有坐标系：请设定一个（例如 EPSG:4326）。",
        )
    comm = communities.to_crs(4326).reset_index(drop=True)
    if "id" not in comm.columns:
        comm = comm.assign(id=comm.index.to_numpy())
    return comm


def attribute(
    frame: pd.DataFrame, comm: gpd.GeoDataFrame, community_ids: np.ndarray
) -> pd.DataFrame:
    """``frame`` with ``community_id``, ``community_name`` and ``subdistrict`` of each row."""
    ids = np.asarray(community_ids, dtype=object)
    by_id = comm.set_index("id")
    names = by_id["name"] if "name" in by_id else pd.Series(None, index=by_id.index)
    subs = by_id["subdistrict"] if "subdistrict" in by_id else pd.Series(None, index=by_id.index)
    out = frame.copy()
    for col, values in zip(
        ATTRIBUTES,
        (
            ids,
            np.array([names.get(i) if i is not None else None for i in ids], dtype=object),
            np.array([subs.get(i) if i is not None else None for i in ids], dtype=object),
        ),
        strict=True,
    ):
        out[col] = values
    return out


def empty_expansions() -> pd.DataFrame:
    return pd.DataFrame(
        columns=[
            "id",
            "floor_area_m2",
            "households_in_catchment",
            "extra_floor_area_m2",
            "purpose",
            *ATTRIBUTES,
        ]
    )


@dataclass(frozen=True)
class CommunityPlan:
    """Where a ``target="communities"`` plan puts its sites, before they are sized.

    ``points``/``snap`` are the candidates plus any representative points appended for
    communities without a candidate inside; ``chosen`` indexes them; ``site_community`` is the
    community each chosen site is attributed to; ``area_only`` marks the sites chosen for floor
    area only (sized by `size_for_communities`, not by the catchment sizing); ``places`` has a
    row per community short of floor area: where its shortfall goes.
    """

    points: gpd.GeoDataFrame
    snap: SnappedPoints
    chosen: np.ndarray
    site_community: np.ndarray
    area_only: np.ndarray
    solution: Solution
    places: pd.DataFrame
    table: pd.DataFrame = field(repr=False)


def coverage_rate(std: Standard, rule: Rule) -> float:
    """The share of a community's households the walk rule asks for (as `check` reads it)."""
    if std.targets.min_coverage_rate is not None:
        return float(std.targets.min_coverage_rate)
    return float(rule.min_coverage_rate)


def area_rule_for(std: Standard, rule: Rule) -> Rule | None:
    """The required floor-area rule of the walk rule's category, per community if there is one."""
    found = [
        r
        for r in std.rules
        if r.has_floor_area
        and (r.category == rule.category or rule.category in r.accepted_categories)
    ]
    per_community = [r for r in found if r.per == "community"]
    best = per_community or found
    return best[0] if best else None


def plan_communities(
    network: Network,
    *,
    rule: Rule,
    area_rule: Rule | None,
    rate: float,
    before: CheckResult,
    fac: gpd.GeoDataFrame,
    comm: gpd.GeoDataFrame,
    res_snap: SnappedPoints,
    households: np.ndarray,
    covered_before: np.ndarray,
    cand_points: gpd.GeoDataFrame,
    cand_snap: SnappedPoints,
    reach_all: sp.csr_matrix,
    method: Method,
    time_limit_s: float,
    snap_cap_m: float,
) -> CommunityPlan:
    """Sites bringing each community to its coverage target, and where its floor area goes."""
    table = before.communities
    assert table is not None
    res_comm = before.residences["community_id"].to_numpy(dtype=object)
    on_net = res_snap.on_network
    covered = covered_before.copy()
    chosen: list[int] = []
    parts: list[Solution] = []
    rows: list[dict[str, Any]] = []
    reach_bool = reach_all.astype(bool).tocsr()
    cand_comm = community_of(cand_points, comm)
    for cid, hh in zip(table["community_id"], table["households"], strict=True):
        row: dict[str, Any] = {"community_id": cid, "households_to_cover": 0.0}
        rows.append(row)
        if hh <= 0:
            continue
        mine = res_comm == cid
        got = float(households[mine & covered].sum())
        need = rate * float(hh) - got
        if need <= _TOL:
            continue
        members = np.flatnonzero(mine & ~covered & on_net & (households > 0))
        sub = reach_bool[:, members]
        coverable = np.asarray(sub.sum(axis=0)).ravel() > 0
        weights = households[members[coverable]]
        possible = float(weights.sum())
        row["households_to_cover"] = round(need, 3)
        row["households_coverable"] = round(possible, 3)
        if possible < need - _TOL:
            row["coverage_reachable"] = False
        if possible <= 0:
            continue
        matrix = sub[:, coverable]
        if possible <= need + _TOL:
            part = set_cover(
                matrix,
                weights=weights,
                # Among the fewest sites, those inside the community: its floor area can go there.
                site_cost=(cand_comm != cid).astype(np.float64),
                method=method,
                time_limit_s=time_limit_s,
            )
        else:
            part = _fewest_reaching(matrix, weights, need, method=method, time_limit_s=time_limit_s)
        parts.append(part)
        new = [int(j) for j in part.chosen if int(j) not in chosen]
        chosen += new
        if new:
            covered |= np.asarray(reach_bool[new].sum(axis=0)).ravel() > 0
    site_community = [cand_comm[j] for j in chosen]
    area_only = [False] * len(chosen)
    places, points, snap = _floor_area_places(
        network,
        area_rule,
        table,
        fac,
        comm,
        cand_points,
        cand_snap,
        cand_comm,
        res_comm,
        households,
        reach_bool,
        chosen,
        site_community,
        area_only,
        snap_cap_m,
    )
    plan_table = pd.DataFrame(rows)
    return CommunityPlan(
        points=points,
        snap=snap,
        chosen=np.asarray(chosen, dtype=np.int64),
        site_community=np.asarray(site_community, dtype=object),
        area_only=np.asarray(area_only, dtype=bool),
        solution=_combined(parts, chosen, float(households[covered & ~covered_before].sum())),
        places=places,
        table=plan_table,
    )


def _fewest_reaching(
    matrix: sp.csr_matrix,
    weights: np.ndarray,
    need: float,
    *,
    method: Method,
    time_limit_s: float,
) -> Solution:
    """Maximal covering with k = 1, 2, ... sites until ``need`` households are reached."""
    solution = None
    for k in range(1, matrix.shape[0] + 1):
        solution = max_cover(matrix, weights, k, method=method, time_limit_s=time_limit_s)
        if solution.objective >= need - _TOL or solution.chosen.shape[0] < k:
            break
    assert solution is not None
    return solution


def _combined(parts: list[Solution], chosen: list[int], newly: float) -> Solution:
    """One `Solution` for the per-community covering problems."""
    if not parts:
        return Solution(
            chosen=np.asarray(chosen, dtype=np.int64),
            objective=0.0,
            bound=0.0,
            gap=0.0,
            method="none",
            status="nothing to cover",
            solve_s=0.0,
            note="no community needs a site for coverage (or none can be helped)",
        )
    methods = sorted({p.method for p in parts})
    gaps = [p.gap for p in parts]
    return Solution(
        chosen=np.asarray(chosen, dtype=np.int64),
        objective=newly,
        bound=None,
        gap=None if any(g is None for g in gaps) else max(gaps),  # type: ignore[type-var]
        method=methods[0] if len(methods) == 1 else "+".join(methods),
        status=f"{len(parts)} community covering problems",
        solve_s=float(sum(p.solve_s for p in parts)),
        note="objective: households newly covered; gap: the largest of the communities' gaps",
    )


def _floor_area_places(
    network: Network,
    area_rule: Rule | None,
    table: gpd.GeoDataFrame,
    fac: gpd.GeoDataFrame,
    comm: gpd.GeoDataFrame,
    cand_points: gpd.GeoDataFrame,
    cand_snap: SnappedPoints,
    cand_comm: np.ndarray,
    res_comm: np.ndarray,
    households: np.ndarray,
    reach: sp.csr_matrix,
    chosen: list[int],
    site_community: list[Any],
    area_only: list[bool],
    snap_cap_m: float,
) -> tuple[pd.DataFrame, gpd.GeoDataFrame, SnappedPoints]:
    """Where each community short of floor area gets it (appends to ``chosen`` in place)."""
    columns = ["community_id", "shortfall_m2", "place", "site", "facility", "why"]
    if area_rule is None:
        return pd.DataFrame(columns=columns), cand_points, cand_snap
    short_col = column("shortfall_m2", area_rule.key)
    fac_comm = assign_facilities(fac, comm)
    fac_cat = fac["category"].astype(object).to_numpy()
    of_rule = np.isin(fac_cat, area_rule.accepted_categories)
    fac_area = np.nan_to_num(fac["floor_area_m2"].to_numpy(dtype=np.float64))
    comm_geom = comm.set_index("id").geometry
    extra_points: list[Any] = []
    extra_ids: list[str] = []
    places = []
    for cid, short, hh in zip(
        table["community_id"], table[short_col], table["households"], strict=True
    ):
        if not hh > 0 or not short > _TOL:
            continue
        members = np.flatnonzero(res_comm == cid)
        inside_new = [i for i, c in enumerate(site_community) if c == cid]
        place: dict[str, Any] = {"community_id": cid, "shortfall_m2": float(short)}
        if inside_new:
            best = max(
                inside_new,
                key=lambda i: (_reached(reach, chosen[i], members, households), -i),
            )
            place.update(place="new_site", site=best, why="a new site of the plan lies inside")
        elif (of_rule & (fac_comm == cid)).any():
            rows = np.flatnonzero(of_rule & (fac_comm == cid))
            biggest = int(rows[np.argmax(fac_area[rows])])
            place.update(
                place="expansion",
                facility=biggest,
                why="expand the largest existing facility of the category inside it",
            )
        else:
            inside = np.flatnonzero((cand_comm == cid) & cand_snap.on_network)
            if inside.size:
                gain = np.array([_reached(reach, int(j), members, households) for j in inside])
                total = np.asarray(reach[inside].sum(axis=1)).ravel()
                j = int(inside[np.lexsort((inside, -total, -gain))[0]])
                why = "the candidate inside it reaching most of its households"
            else:
                j = len(cand_points) + len(extra_points)
                point = _inside_point(network, comm_geom[cid], snap_cap_m)
                extra_points.append(point)
                extra_ids.append(f"community:{cid}")
                why = "no candidate inside it: its representative point, on the nearest street"
            if j in chosen:
                i = chosen.index(j)
            else:
                chosen.append(j)
                site_community.append(cid)
                area_only.append(True)
                i = len(chosen) - 1
            site_community[i] = cid
            place.update(place="candidate_site" if inside.size else "representative_point")
            place.update(site=i, why=why)
        places.append(place)
    points, snap = cand_points, cand_snap
    if extra_points:
        more = gpd.GeoDataFrame(
            {"id": np.asarray(extra_ids, dtype=object)}, geometry=extra_points, crs=4326
        )
        points = gpd.GeoDataFrame(
            pd.concat([cand_points, more], ignore_index=True), geometry="geometry", crs=4326
        )
        snap = snap_points(network, points, snap_cap_m=snap_cap_m, what="candidate sites")
    frame = pd.DataFrame(places, columns=columns)
    return frame, points, snap


def _reached(reach: sp.csr_matrix, j: int, members: np.ndarray, households: np.ndarray) -> float:
    if j >= reach.shape[0] or members.size == 0:
        return 0.0
    row = reach[j]
    hit = np.intersect1d(row.indices, members)
    return float(households[hit].sum())


def _inside_point(network: Network, polygon: Any, snap_cap_m: float) -> Any:
    """The polygon's representative point, moved onto the nearest street if still inside."""
    rep = gpd.GeoSeries([polygon], crs=4326)
    metric = rep.to_crs(network.crs)
    point = metric.representative_point().iloc[0]
    probe = gpd.GeoDataFrame({"id": ["rep"]}, geometry=[point], crs=network.crs)
    snapped = snap_points(network, probe, snap_cap_m=snap_cap_m, what="communities")
    if snapped.on_network[0]:
        on_street = shapely.line_interpolate_point(
            network.edge_geometry[snapped.edge[0]], snapped.offset_m[0]
        )
        if metric.iloc[0].covers(on_street):
            point = on_street
    return gpd.GeoSeries([point], crs=network.crs).to_crs(4326).iloc[0]


def size_for_communities(
    plan: CommunityPlan,
    sites: gpd.GeoDataFrame,
    fac: gpd.GeoDataFrame,
    *,
    rule: Rule,
    area_rule: Rule | None,
    module_m2: float,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Each community's floor-area shortfall, placed where `plan_communities` put it.

    The per-community rule is the unit of the plan, so the sites are sized by it alone (no
    catchment sizing): a community's shortfall, rounded up to ``module_m2``, goes to its site
    or to the expansion of its facility; every other site gets the smallest size a facility of
    the rules counts at (one module, at least ``min_facility_floor_area_m2``). Returns the
    sites with ``floor_area_m2``, ``m2_per_100hh`` and ``purpose``, and the expansions of
    existing facilities (``purpose`` ``"community_floor_area"``).
    """
    sites = sites.copy()
    area = np.zeros(len(sites))
    purpose = np.where(plan.area_only, "community_floor_area", "coverage").astype(object)
    expansions = []
    floors = [r.min_facility_floor_area_m2 for r in (rule, area_rule) if r is not None]
    floor = max([module_m2] + [f for f in floors if f is not None])
    floor = math.ceil(floor / module_m2 - 1e-9) * module_m2
    for place in plan.places.itertuples():
        extra = math.ceil(float(place.shortfall_m2) / module_m2 - 1e-9) * module_m2
        if place.place == "expansion":
            row = fac.iloc[int(place.facility)]
            have = float(np.nan_to_num(row["floor_area_m2"]))
            if area_rule is not None and area_rule.min_facility_floor_area_m2 is not None:
                # A facility below the rule's minimum size does not count: bring it up to it.
                extra = max(extra, math.ceil(floor - have) if have < floor else 0.0)
            expansions.append(
                {
                    "id": row["id"],
                    "floor_area_m2": have,
                    "households_in_catchment": np.nan,
                    "extra_floor_area_m2": float(extra),
                    "purpose": "community_floor_area",
                    "_community": place.community_id,
                }
            )
            continue
        i = int(place.site)
        area[i] += extra
        if not plan.area_only[i]:
            purpose[i] = "coverage+community_floor_area"
    area = np.maximum(area, floor)
    sites["floor_area_m2"] = area
    hh = sites["households_in_catchment"].to_numpy(dtype=np.float64)
    sites["m2_per_100hh"] = np.divide(
        100.0 * area, hh, out=np.full(area.shape[0], np.nan), where=hh > 0
    )
    sites["purpose"] = purpose
    return sites, pd.DataFrame(expansions)


def with_expansions(fac: gpd.GeoDataFrame, expansions: pd.DataFrame) -> gpd.GeoDataFrame:
    """The facilities with the expansions' extra floor area added."""
    if len(expansions) == 0:
        return fac
    out = fac.copy()
    extra = expansions.groupby("id")["extra_floor_area_m2"].sum()
    ids = out["id"].to_numpy()
    add = pd.Series(ids).map(extra).fillna(0.0).to_numpy(dtype=np.float64)
    out["floor_area_m2"] = np.nan_to_num(out["floor_area_m2"].to_numpy(dtype=np.float64)) + add
    return out


def community_report(
    before: CheckResult,
    after: CheckResult,
    sites: pd.DataFrame,
    expansions: pd.DataFrame,
    plan: CommunityPlan | None,
    *,
    rule: Rule,
    area_rule: Rule | None,
) -> pd.DataFrame:
    """A row per community: its verdict before and after, what the plan gives it, and why not.

    ``reason`` is empty for a community compliant after the plan; otherwise it says why the
    plan could not make it compliant (``no_households``, households beyond reach of every
    candidate, off the network, or rules of other categories).
    """
    b, a = before.communities, after.communities
    assert b is not None and a is not None
    cols = ["community_id", "name", *(c for c in ("subdistrict", "district") if c in b)]
    out = pd.DataFrame(b[cols + ["households"]]).reset_index(drop=True)
    out["compliant_before"] = b["compliant"].to_numpy(dtype=bool)
    out["fails_before"] = b["fails"].to_numpy(dtype=object)
    uncovered = column("households_uncovered", rule.key)
    if uncovered in b:
        out["households_uncovered_before"] = b[uncovered].to_numpy()
    if area_rule is not None and column("shortfall_m2", area_rule.key) in b:
        out["shortfall_m2_before"] = b[column("shortfall_m2", area_rule.key)].to_numpy()
    ids = out["community_id"].to_numpy(dtype=object)
    site_comm = sites["community_id"].to_numpy(dtype=object)
    out["sites"] = [";".join(str(s) for s in sites["id"][site_comm == c]) for c in ids]
    out["floor_area_added_m2"] = [
        float(np.nansum(sites["floor_area_m2"].to_numpy(dtype=np.float64)[site_comm == c]))
        for c in ids
    ]
    if len(expansions):
        exp_comm = expansions["community_id"].to_numpy(dtype=object)
        out["expansions"] = [";".join(str(s) for s in expansions["id"][exp_comm == c]) for c in ids]
        out["floor_area_added_m2"] += [
            float(expansions["extra_floor_area_m2"].to_numpy(dtype=np.float64)[exp_comm == c].sum())
            for c in ids
        ]
    else:
        out["expansions"] = ""
    if plan is not None:
        extra = plan.table.set_index("community_id")
        for col in ("households_to_cover", "households_coverable"):
            if col in extra:
                out[col] = [extra[col].get(c, np.nan) for c in ids]
        placed = plan.places.set_index("community_id") if len(plan.places) else None
        out["floor_area_placed"] = [
            "" if placed is None or c not in placed.index else placed.loc[c, "place"] for c in ids
        ]
    out["compliant_after"] = a["compliant"].to_numpy(dtype=bool)
    out["fails_after"] = a["fails"].to_numpy(dtype=object)
    if plan is not None:
        coverage, area = _ours(rule, area_rule)
        reachable = (
            out.get("households_coverable", pd.Series(np.nan, index=out.index)).fillna(np.inf)
            >= out.get("households_to_cover", pd.Series(0.0, index=out.index)).fillna(0.0) - _TOL
        )
        other = [
            any(f and f not in coverage | area and f != "no_households" for f in str(v).split(";"))
            for v in out["fails_before"]
        ]
        out["fixable"] = (
            (out["households"].to_numpy() > 0) & reachable.to_numpy() & ~np.array(other, dtype=bool)
        )
    out["reason"] = [
        _reason(r, rule, area_rule, after) if not r.compliant_after else ""
        for r in out.itertuples()
    ]
    return out


def _ours(rule: Rule, area_rule: Rule | None) -> tuple[set[str], set[str]]:
    """How ``fails`` names the plan's coverage and floor-area parts."""
    coverage = {rule.key, f"{rule.key}:coverage"}
    area: set[str] = set()
    if area_rule is not None:
        area = {f"{area_rule.key}:floor_area"} | ({area_rule.key} - coverage)
    return coverage, area


def summary_section(
    report: pd.DataFrame, before: CheckResult, after: CheckResult, target: str
) -> dict[str, Any]:
    """The proposal summary's ``communities``: each community before and after, and the plan."""
    fixable = report["fixable"].to_numpy(dtype=bool) if "fixable" in report else None
    compliant_after = report["compliant_after"].to_numpy(dtype=bool)
    not_fixed = report[~compliant_after]
    return {
        "target": target,
        "count": int(len(report)),
        "compliant_before": int(report["compliant_before"].sum()),
        "compliant_after": int(compliant_after.sum()),
        "fixable": None if fixable is None else int(fixable.sum()),
        "fixable_all_compliant": None if fixable is None else bool(compliant_after[fixable].all()),
        "not_compliant_after": [
            {"community_id": r.community_id, "name": r.name, "reason": r.reason}
            for r in not_fixed.itertuples()
        ],
        "before": brief_rows(before.summary.get("communities")),
        "after": brief_rows(after.summary.get("communities")),
        "plan": records(report),
    }


def _reason(row: Any, rule: Rule, area_rule: Rule | None, after: CheckResult) -> str:
    fails = [f for f in str(row.fails_after).split(";") if f]
    if "no_households" in fails:
        return "no_households: a community without households gets no verdict"
    coverage, area = _ours(rule, area_rule)
    why = []
    if coverage & set(fails):
        res = after.residences
        mine = res["community_id"].to_numpy(dtype=object) == row.community_id
        covered = res[column("covered", rule.key)].to_numpy(dtype=bool)
        off = ~res["on_network"].to_numpy(dtype=bool)
        hh = res["households"].to_numpy(dtype=np.float64)
        far = float(hh[mine & ~covered & ~off].sum())
        gone = float(hh[mine & off].sum())
        parts = []
        if far:
            parts.append(f"{far:g} households beyond the walk of every candidate site")
        if gone:
            parts.append(f"{gone:g} households off the network")
        why.append("coverage: " + (", ".join(parts) or "below the target rate"))
    if area & set(fails):
        why.append("floor area still short")
    others = [f for f in fails if f not in coverage | area]
    if others:
        why.append("rules of other categories: " + ", ".join(others))
    return "; ".join(why)


__all__ = [
    "ATTRIBUTES",
    "TARGETS",
    "CommunityPlan",
    "Target",
    "area_rule_for",
    "attribute",
    "community_report",
    "coverage_rate",
    "plan_communities",
    "size_for_communities",
    "summary_section",
    "with_expansions",
]
