"""The GeoDataFrame door of siting: `propose` new facilities, checked again afterwards.

`propose` snaps the layers, builds the candidate × demand coverage matrix with the distance
engine (`planner.engine.pairs_within`), calls the array core (`planner.siting.core`), sizes the
chosen sites (`planner.siting.sizing`) and checks the plan again with `planner.checks.check`:
the *after* review is the verification of every claim. See ``docs/ARCHITECTURE.md``.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field, replace
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp

from planner._files import jsonable
from planner.checks import CheckResult, check
from planner.communities import assign_facilities
from planner.compare import compare_summaries
from planner.engine import pairs_within
from planner.errors import InputError
from planner.floor_area import community_of
from planner.network import Network
from planner.schema import (
    DEFAULT_BUFFER_M,
    DEFAULT_CATEGORY,
    DEFAULT_SNAP_CAP_M,
    DEFAULT_STANDARD,
    column,
)
from planner.siting import communities as per_community
from planner.siting.candidates import _candidate_points, _snapped_candidates, _uncoverable
from planner.siting.core import Method, Solution, coverage_matrix, max_cover, set_cover
from planner.siting.sizing import Sizing, size_floor_area
from planner.snapping import SnappedPoints, snap_points
from planner.standards import Rule, Standard, load_standard

log = logging.getLogger(__name__)


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
        no proposed site reaches: ``id``, ``floor_area_m2``, ``extra_floor_area_m2``,
        ``purpose`` (``"catchment"``: reported only, *after* does not include them;
        ``"community_floor_area"``: part of a ``target="communities"`` plan, included in
        *after*); with communities also ``community_id``, ``community_name``, ``subdistrict``.
    summary
        JSON-ready figures: the problem, the solver, the verification and the before/after
        comparison (`planner.compare.compare_summaries`).
    solution
        The raw `Solution` of the covering model.
    communities
        With communities: a row per community, its verdict before and after, the sites and
        expansions attributed to it, the floor area they add and, for one still not compliant,
        the ``reason`` (`planner.siting.communities.community_report`); else None.
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
    communities: pd.DataFrame | None = field(default=None, repr=False)

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
    communities: gpd.GeoDataFrame | None = None,
    target: per_community.Target = "coverage",
    isochrone_polygons: bool = False,
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
    isochrone_polygons
        Also union them into polygons (``isochrones.gpkg``); see `planner.check`.
    inputs
        Provenance of the input files for the summaries.
    communities
        Community polygons (as for `check`): every site and expansion is attributed to its
        community and sub-district (``community_id``, ``community_name``, ``subdistrict``), the
        reviews before and after carry the verdict of every community, and
        `Proposal.communities` compares them.
    target
        ``"coverage"`` (default): the covering model of ``sites`` or ``cover_all``.
        ``"communities"`` (needs ``communities``; leave out ``sites`` and ``cover_all``): aim at
        every failing community: the sites bringing its coverage to the target rate and its
        floor-area shortfall placed inside it (`planner.siting.communities`).

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
    by_communities = _target(target, communities, sites=sites, cover_all=cover_all)
    std = _standard(standard, speed_kmh, sites=sites, cover_all=cover_all or by_communities)
    rule = _rule_for(std, category)
    threshold_m = float(rule.max_walk_m)

    fac = facilities.to_crs(4326).reset_index(drop=True)
    res = residences.to_crs(4326).reset_index(drop=True)
    comm = None if communities is None else per_community.communities_in(communities)
    before = check(
        network,
        fac,
        res,
        standard=std,
        communities=comm,
        speed_kmh=speed_kmh,
        allocation="catchment",
        snap_cap_m=snap_cap_m,
        inputs=inputs,
    )
    res_snap = snap_points(network, res, snap_cap_m=snap_cap_m, what="residences")
    households = res["households"].to_numpy(dtype=np.float64)
    covered_before = before.residences[column("covered", rule.key)].to_numpy(dtype=bool)

    cand_points, cand_source = _candidate_points(network, candidates, spacing_m, mask)
    cand_snap = _snapped_candidates(network, cand_points, snap_cap_m)

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

    plan = area_rule = None
    if by_communities:
        assert comm is not None
        area_rule = per_community.area_rule_for(std, rule)
        plan = per_community.plan_communities(
            network,
            rule=rule,
            area_rule=area_rule,
            rate=per_community.coverage_rate(std, rule),
            before=before,
            fac=fac,
            comm=comm,
            res_snap=res_snap,
            households=households,
            covered_before=covered_before,
            cand_points=cand_points,
            cand_snap=cand_snap,
            reach_all=reach_all,
            method=method,
            time_limit_s=time_limit_s,
            snap_cap_m=snap_cap_m,
        )
        cand_points, cand_snap, solution = plan.points, plan.snap, plan.solution
    else:
        solution = _solve(
            cover,
            reach_all,
            households,
            demand,
            coverable,
            sites=sites,
            cover_all=cover_all,
            method=method,
            time_limit_s=time_limit_s,
        )
    site_frame = _proposed_sites(
        network,
        rule,
        before,
        fac,
        cand_points,
        cand_snap,
        res_snap,
        solution.chosen,
        households,
        covered_before,
        category=category,
        module_m2=module_m2,
        sizing=sizing,
        unsized=None if plan is None else np.ones(len(plan.chosen), dtype=bool),
    )
    planned = pd.DataFrame()
    if plan is not None:
        site_frame, planned = per_community.size_for_communities(
            plan, site_frame, fac, rule=rule, area_rule=area_rule, module_m2=module_m2
        )
    after = check(
        network,
        _with_sites(per_community.with_expansions(fac, planned), site_frame),
        res,
        standard=std,
        communities=comm,
        speed_kmh=speed_kmh,
        allocation="catchment",
        snap_cap_m=snap_cap_m,
        isochrones=isochrones,
        buffer_m=buffer_m,
        isochrone_polygons=isochrone_polygons,
        inputs=inputs,
    )
    if plan is not None:
        expansions = planned
    elif rule.min_floor_area_m2_per_100_households is not None:
        expansions = _expansions(network, rule, fac, after, households, module_m2, snap_cap_m)
        expansions["purpose"] = "catchment"
    else:
        expansions = pd.DataFrame(columns=["id", "floor_area_m2", "extra_floor_area_m2"])
    report = None
    if comm is not None:
        site_frame, expansions = _attributed(site_frame, expansions, fac, comm, plan)
        report = per_community.community_report(
            before, after, site_frame, expansions, plan, rule=rule, area_rule=area_rule
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
        target=target,
        report=report,
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
        communities=report,
    )


def _target(
    target: str, communities: gpd.GeoDataFrame | None, *, sites: int | None, cover_all: bool
) -> bool:
    """Whether the plan aims at the communities, after checking ``target`` and its inputs."""
    if target not in per_community.TARGETS:
        raise InputError(
            f"target must be 'coverage' or 'communities', not {target!r}.",
            zh=f"target 必须是 'coverage' 或 'communities'，而不是 {target!r}。",
        )
    if target == "coverage":
        return False
    if communities is None:
        raise InputError(
            "target='communities' needs the community polygons: pass communities= (--communities).",
            zh="target='communities' 需要社区边界：请给出 communities=（--communities）。",
        )
    if sites is not None or cover_all:
        raise InputError(
            "target='communities' sizes the plan by the communities' verdicts: leave out "
            "sites=K and cover_all (--sites, --cover-all).",
            zh="target='communities' 按各社区的评定结果确定方案规模："
            "请不要给 sites=K 和 cover_all（--sites、--cover-all）。",
        )
    return True


def _attributed(
    sites: gpd.GeoDataFrame,
    expansions: pd.DataFrame,
    fac: gpd.GeoDataFrame,
    comm: gpd.GeoDataFrame,
    plan: per_community.CommunityPlan | None,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Sites and expansions with the community and sub-district each belongs to."""
    site_comm = community_of(sites, comm) if plan is None else plan.site_community
    out_sites = per_community.attribute(sites, comm, site_comm)
    fac_comm = dict(zip(fac["id"].tolist(), assign_facilities(fac, comm).tolist(), strict=True))
    exp = expansions.reset_index(drop=True)
    if not len(exp):
        return gpd.GeoDataFrame(out_sites, geometry="geometry", crs=4326), (
            per_community.empty_expansions()
        )
    if "_community" in exp:
        exp_comm = exp.pop("_community").to_numpy(dtype=object)
    else:
        exp_comm = np.array([fac_comm.get(i) for i in exp["id"].tolist()], dtype=object)
    out_exp = per_community.attribute(exp, comm, exp_comm)
    return gpd.GeoDataFrame(out_sites, geometry="geometry", crs=4326), out_exp


def _standard(
    standard: str | Standard, speed_kmh: float | None, *, sites: int | None, cover_all: bool
) -> Standard:
    """The standard to plan with, after checking that exactly one model is asked for."""
    if (sites is None) == (not cover_all):
        raise InputError(
            "Give exactly one of sites=K (maximal covering: the best K new sites) or "
            "cover_all=True (set covering: the fewest sites covering every household).",
            zh="sites=K（最大覆盖：最好的 K 个新增设施点）和 cover_all=True（集合覆盖："
            "覆盖全部住户的最少设施点）须给且只给一个。",
        )
    if sites is not None and (int(sites) != sites or sites < 1):
        raise InputError(
            f"sites (the number of new facilities) must be >= 1, not {sites!r}.",
            zh=f"sites（新增设施数）必须 >= 1，而不是 {sites!r}。",
        )
    if isinstance(standard, Standard):
        return standard if speed_kmh is None else standard.with_speed(speed_kmh)
    return load_standard(standard, speed_kmh=speed_kmh)


def _rule_for(std: Standard, category: str) -> Rule:
    exact = [r for r in std.rules if r.category == category]
    accepting = [r for r in std.rules if category in r.accepted_categories]
    found = exact or accepting
    if not found:
        raise InputError(
            f"The standard {std.name!r} has no rule for category {category!r} (its categories: "
            f"{', '.join(std.categories)}). Choose one of those, or a standard with that rule.",
            zh=f"标准 {std.name!r} 没有类别 {category!r} 的规则（其类别："
            f"{'、'.join(std.categories)}）。请从中选择一个，或选用有该规则的标准。",
        )
    walk = [r for r in found if r.checks_coverage]
    if not walk:
        raise InputError(
            f"The standard {std.name!r} has no walk rule for category {category!r}: new sites "
            "are placed to bring households within a walk. Choose a category with a walk rule.",
            zh=f"标准 {std.name!r} 没有类别 {category!r} 的步行规则："
            "新增设施点是为了让住户在步行范围内。请选择有步行规则的类别。",
        )
    rule = walk[0]
    area = [r for r in found if r.has_floor_area]
    if area and not rule.has_floor_area:
        # Sites are sized by the category's floor-area rule over the walk's catchments.
        need = area[0].min_floor_area_m2_per_100_households
        rule = replace(rule, min_floor_area_m2_per_100_households=need, per="catchment")
    return rule


def _solve(
    cover: sp.csr_matrix,
    reach_all: sp.csr_matrix,
    households: np.ndarray,
    demand: np.ndarray,
    coverable: np.ndarray,
    *,
    sites: int | None,
    cover_all: bool,
    method: Method,
    time_limit_s: float,
) -> Solution:
    """Set covering of the coverable demand, or maximal covering with ``sites`` sites."""
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
    log.info(
        "%s: %d sites by %s (%s, gap %s) in %.2f s",
        "set covering" if cover_all else "maximal covering",
        solution.chosen.shape[0],
        solution.method,
        solution.status,
        solution.gap,
        solution.solve_s,
    )
    return solution


def _proposed_sites(
    network: Network,
    rule: Rule,
    before: CheckResult,
    fac: gpd.GeoDataFrame,
    cand_points: gpd.GeoDataFrame,
    cand_snap: SnappedPoints,
    res_snap: SnappedPoints,
    chosen: np.ndarray,
    households: np.ndarray,
    covered_before: np.ndarray,
    *,
    category: str,
    module_m2: float,
    sizing: Sizing,
    unsized: np.ndarray | None = None,
) -> gpd.GeoDataFrame:
    """The chosen candidates as new facilities: their catchments over every residence, sized.

    Sites marked in ``unsized`` get no catchment sizing (0 m²): a ``target="communities"`` plan
    sizes its floor-area sites by their community's shortfall.
    """
    chosen_snap = cand_snap.subset(chosen)
    cs, ct, cw = pairs_within(network, chosen_snap, res_snap, cutoff_m=float(rule.max_walk_m))
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
        sized = np.ones(chosen.shape[0], dtype=bool) if unsized is None else ~unsized
        area = np.zeros(chosen.shape[0])
        area[sized] = size_floor_area(
            reach[sized],
            households,
            existing_m2_per_100hh=existing,
            required_m2_per_100hh=float(required),
            module_m2=module_m2,
            sizing=sizing,
        )
    else:
        area = np.full(chosen.shape[0], np.nan)
    return gpd.GeoDataFrame(
        {
            "id": _site_ids(fac, chosen.shape[0]),
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
    target: str = "coverage",
    report: pd.DataFrame | None = None,
) -> dict[str, Any]:
    key = rule.key
    by_communities = target == "communities"
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
    objective_ok = (
        cover_all
        or by_communities
        or math.isclose(claimed, solution.objective, rel_tol=1e-9, abs_tol=1e-6)
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
    communities = None
    if report is not None:
        communities = per_community.summary_section(report, before, after, target)
        if by_communities:
            verified = verified and communities["fixable_all_compliant"]
    fa_after = after.summary.get("floor_area")
    model = "set_covering" if cover_all else "maximal_covering"
    summary = {
        "model": "communities" if by_communities else model,
        "target": target,
        "sites_requested": None if k is None else int(k),
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
            "communities_fixed": None
            if communities is None or not by_communities
            else communities["fixable_all_compliant"],
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
        "communities": communities,
    }
    out: dict[str, Any] = jsonable(summary)
    return out


__all__ = ["Proposal", "propose"]
