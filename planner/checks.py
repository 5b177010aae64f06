"""The two checks: 15-minute coverage per category, and floor area per 100 households.

`check` snaps every facility and residence once, then for each rule of the standard runs one
multi-source nearest pass (coverage) and, for the floor-area rule, one catchment pass. Results per
residence, per facility, per community, a gap list and a JSON-ready summary.
"""

from __future__ import annotations

import dataclasses
import html
import logging
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from planner import floor_area
from planner._files import jsonable
from planner._version import __version__
from planner.communities import (
    CommunityRule,
    assign_facilities,
    community_table,
    rollups,
    summary_sections,
)
from planner.engine import ids_at, nearest
from planner.errors import InputError
from planner.isochrones.served import ServedBands, served_bands
from planner.network import Network, layer_ids_of
from planner.schema import (
    ALLOCATIONS,
    DEFAULT_BUFFER_M,
    DEFAULT_SNAP_CAP_M,
    DEFAULT_STANDARD,
    column,
)
from planner.snapping import SnappedPoints, snap_points, what_zh
from planner.standards import Rule, Standard, Targets, load_standard, m_to_minutes

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CheckedRule:
    """A rule as checked, and whether the standard requires it (else it is only measured)."""

    rule: Rule
    required: bool

    @property
    def key(self) -> str:
        return str(self.rule.key)

    @property
    def category(self) -> str:
        return str(self.rule.category)

    @property
    def max_walk_m(self) -> float:
        return float(self.rule.max_walk_m)


@dataclass(frozen=True, eq=False)
class CheckResult:
    """Results of a review; see `check`.

    Attributes
    ----------
    residences, facilities
        GeoDataFrames (EPSG:4326) with per-category walks and floor-area ratios.
    communities
        A row per community: households, each required rule's coverage and floor area against
        its minimum, ``compliant``, ``fails`` (`planner.communities.community_table`), or None.
    subdistricts, districts
        Roll-ups of the communities per sub-district (街道) and district (区/县) against the
        targets, or None without communities or without that column.
    gaps
        Uncovered residences per required category, most households first.
    summary
        JSON-ready figures of the review (the ``summary.json`` of the output contract).
    network, standard
        What was used.
    isochrones
        Served area per category and band as polygons (EPSG:4326), or None when not asked for
        (``check(..., isochrone_polygons=True)``).
    bands
        Served area per category and band as the reached street pieces
        (`planner.isochrones.served.ServedBands`: what the map draws), or None.
    """

    residences: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    communities: gpd.GeoDataFrame | None
    gaps: pd.DataFrame
    summary: dict[str, Any]
    network: Network = field(repr=False)
    standard: Standard = field(repr=False)
    isochrones: gpd.GeoDataFrame | None = None
    subdistricts: pd.DataFrame | None = None
    districts: pd.DataFrame | None = None
    bands: ServedBands | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        verdict = "PASS" if self.passes else "FAIL"
        return (
            f"<CheckResult {self.standard.name}: {verdict}, {len(self.residences):,} residences, "
            f"{len(self.facilities):,} facilities, {len(self.gaps):,} gaps>"
        )

    @property
    def passes(self) -> bool:
        """Whether every required standard passes."""
        return bool(self.summary["passes"])

    def table(self) -> pd.DataFrame:
        """The coverage and floor-area figures as one small table."""
        rows = [
            {
                "check": f"coverage {c['key']} "
                f"({c['max_walk_min']:.0f} min / {c['max_walk_m']:.0f} m)",
                "households": c["households_total"],
                "value": f"{100 * c['rate']:.1f} % covered",
                "passes": c["passes"],
            }
            for c in self.summary["coverage"]
        ]
        fa = self.summary["floor_area"]
        if fa is not None:
            rows.append(
                {
                    "check": f"floor area {fa['category']} ({fa['allocation']})",
                    "households": fa["households"],
                    "value": f"{fa['m2_per_100hh']:.1f} m²/100 hh, "
                    f"short {fa['shortfall_m2']:.0f} m²",
                    "passes": fa["passes"],
                }
            )
        return pd.DataFrame(rows)

    def _repr_html_(self) -> str:
        verdict = "PASS" if self.passes else "FAIL"
        head = (
            f"<p><b>{_escape(self.standard.title_en)}</b>: <b>{verdict}</b> — "
            f"{self.summary['households']['total']:,.0f} households "
            f"({_escape(self.summary['households']['method'])})</p>"
        )
        parts = [head, str(self.table().to_html(index=False, escape=True))]
        if self.communities is not None:  # the communities' verdict, then each sub-district
            c = self.summary["communities"]
            parts.append(f"<p><b>{c['compliant']} of {c['count']} communities compliant</b></p>")
            if self.subdistricts is not None:
                parts.append(str(self.subdistricts.to_html(index=False, escape=True)))
        return "".join(parts)

    def map(self, **kwargs: Any) -> Any:
        """The interactive Folium map of this review (see `planner.maps.build_map`)."""
        from planner.maps import build_map

        return build_map(self, **kwargs)

    explore = map


def _escape(text: Any) -> str:
    return html.escape(str(text))


@dataclass(frozen=True)
class Walks:
    """What the network says about a review, per row of its facility and residence tables.

    `measure` computes it on one network; a review split into units merges it from its units
    (`planner.distributed`). `assemble` turns it into the `CheckResult`, the same way for both.

    Attributes
    ----------
    fac_on, fac_access_m, res_on, res_access_m
        Snapped on the network or not, and the straight distance to it (m).
    nearest
        Rule key to (row of the nearest counted facility, -1 when none; walk in m, inf when
        none) for every rule that checks coverage.
    floor_area
        The floor-area rule's walking allocation (`planner.floor_area.allocate`); None without
        a floor-area rule or with ``community`` allocation.
    """

    fac_on: np.ndarray
    fac_access_m: np.ndarray
    res_on: np.ndarray
    res_access_m: np.ndarray
    nearest: dict[str, tuple[np.ndarray, np.ndarray]]
    floor_area: floor_area.Allocation | None = None


def rules_to_check(
    standard: Standard, facilities: gpd.GeoDataFrame, speed_kmh: float
) -> list[CheckedRule]:
    """The standard's rules (required) plus every other category present (measured only)."""
    checked = [CheckedRule(rule=r, required=True) for r in standard.rules]
    served = {c for r in standard.rules for c in r.accepted_categories}
    measured_m = max((r.max_walk_m for r in standard.rules), default=1000.0)
    present = sorted(set(facilities["category"].dropna().astype(str)) - served)
    for category in present:
        rule = Rule.build(
            category,
            max_walk_m=measured_m,
            speed_kmh=speed_kmh,
            source="measured only: not a rule of the standard",
            key=category,
        )
        checked.append(CheckedRule(rule=rule, required=False))
    return checked


def floor_area_rule(rules: list[CheckedRule]) -> CheckedRule | None:
    """The required rule with a floor area per 100 households, if any."""
    return next((cr for cr in rules if cr.required and cr.rule.has_floor_area), None)


def standard_for(
    standard: str | Standard,
    speed_kmh: float | None,
    allocation: str,
    communities: gpd.GeoDataFrame | None,
) -> Standard:
    """The standard to apply at the given speed, after checking the review's options."""
    if allocation not in ALLOCATIONS:
        raise InputError(
            f"allocation must be one of {', '.join(ALLOCATIONS)}, not {allocation!r}.",
            zh=f"allocation 必须是 {'、'.join(ALLOCATIONS)} 之一，而不是 {allocation!r}。",
        )
    if allocation == "community" and communities is None:
        raise InputError(
            "allocation='community' needs community polygons: pass communities= (--communities).",
            zh="allocation='community' 需要社区边界：请给出 communities=（--communities）。",
        )
    if speed_kmh is not None and (not np.isfinite(speed_kmh) or speed_kmh <= 0):
        raise InputError(
            f"speed_kmh must be a positive number, not {speed_kmh!r}.",
            zh=f"speed_kmh 必须是正数，而不是 {speed_kmh!r}。",
        )
    if isinstance(standard, Standard):
        return standard if speed_kmh is None else standard.with_speed(speed_kmh)
    return load_standard(standard, speed_kmh=speed_kmh)


def require_columns(layer: gpd.GeoDataFrame, what: str, needed: tuple[str, ...]) -> None:
    """Stop the review when the layer lacks a column it needs."""
    missing = [c for c in needed if c not in layer.columns]
    if missing:
        raise InputError(
            f"The {what} layer has no column {', '.join(map(repr, missing))} "
            f"(columns: {', '.join(map(str, layer.columns))}). Read it with "
            f"planner.read_{what}() or name the column with the matching option.",
            zh=f"{what_zh(what)}图层没有列 {'、'.join(map(repr, missing))}（现有列："
            f"{'、'.join(map(str, layer.columns))}）。请用 planner.read_{what}() 读取，"
            "或用相应的选项指明该列。",
        )


def measure(
    network: Network,
    rules: list[CheckedRule],
    fac: gpd.GeoDataFrame,
    res: gpd.GeoDataFrame,
    fac_snap: SnappedPoints,
    res_snap: SnappedPoints,
    allocation: str,
) -> Walks:
    """On one network: each coverage rule's nearest pass, and the floor-area allocation."""
    found: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for cr in rules:
        if not cr.rule.checks_coverage:
            continue
        in_category = floor_area.counted(cr.rule, fac)
        rows = np.flatnonzero(in_category)
        which, walk_m = nearest(network, fac_snap.subset(in_category), res_snap)
        pos = rows[np.maximum(which, 0)] if rows.size else np.zeros(len(which), dtype=np.int64)
        found[cr.key] = (np.where(which >= 0, pos, -1), walk_m)
    fa = floor_area_rule(rules)
    alloc = None
    if fa is not None:
        households = res["households"].to_numpy(dtype=np.float64)
        alloc = floor_area.allocate(
            network, fa.rule, allocation, fac, fac_snap, res_snap, households
        )
    return Walks(
        fac_on=fac_snap.on_network,
        fac_access_m=fac_snap.access_m,
        res_on=res_snap.on_network,
        res_access_m=res_snap.access_m,
        nearest=found,
        floor_area=alloc,
    )


def coverage_pass(
    rules: list[CheckedRule],
    fac: gpd.GeoDataFrame,
    res_out: gpd.GeoDataFrame,
    walks: Walks,
    speed_kmh: float,
    min_rate: float | None,
) -> tuple[gpd.GeoDataFrame, list[dict[str, Any]], list[pd.DataFrame], list[np.ndarray]]:
    """Each coverage rule's columns, summary, gaps and covered mask, from its nearest pass."""
    households = res_out["households"].to_numpy(dtype=np.float64)
    categories = fac["category"].astype(object).to_numpy()
    fac_ids = layer_ids_of(fac)
    coverage: list[dict[str, Any]] = []
    gaps: list[pd.DataFrame] = []
    required_covered = []
    per_rule: dict[str, Any] = {}
    for cr in rules:
        if not cr.rule.checks_coverage:
            continue
        in_category = floor_area.counted(cr.rule, fac)
        if cr.required and not in_category.any():
            log.warning(
                "No facility of category %s (rule %s): nobody is covered. Categories present: %s",
                " or ".join(cr.rule.accepted_categories),
                cr.key,
                ", ".join(sorted(set(categories.astype(str)))),
            )
        row, walk_m = walks.nearest[cr.key]
        covered = walk_m <= cr.max_walk_m
        per_rule[column("nearest_id", cr.key)] = ids_at(fac_ids, row)
        per_rule[column("walk_m", cr.key)] = walk_m
        per_rule[column("walk_min", cr.key)] = m_to_minutes(walk_m, speed_kmh)
        per_rule[column("covered", cr.key)] = covered
        coverage.append(
            coverage_summary(
                cr,
                covered,
                households,
                walks.res_on,
                speed_kmh,
                in_category,
                cr.rule.min_coverage_rate if min_rate is None else min_rate,
            )
        )
        if cr.required:
            required_covered.append(covered)
            gaps.append(gap_rows(res_out, cr, walk_m, covered, walks.res_on))
    res_out = gpd.GeoDataFrame(
        pd.concat([res_out, pd.DataFrame(per_rule, index=res_out.index)], axis=1),
        geometry=res_out.geometry.name,
        crs=res_out.crs,
    )
    return res_out, coverage, gaps, required_covered


def check(
    network: Network,
    facilities: gpd.GeoDataFrame,
    residences: gpd.GeoDataFrame,
    *,
    standard: str | Standard = DEFAULT_STANDARD,
    communities: gpd.GeoDataFrame | None = None,
    speed_kmh: float | None = None,
    allocation: str = "catchment",
    snap_cap_m: float = DEFAULT_SNAP_CAP_M,
    isochrones: bool = False,
    buffer_m: float = DEFAULT_BUFFER_M,
    isochrone_polygons: bool = False,
    inputs: dict[str, Any] | None = None,
    targets: Targets | None = None,
) -> CheckResult:
    """Check coverage and floor area of a set of facilities for a set of residences.

    Parameters
    ----------
    network
        The walking network.
    facilities
        Points with ``id``, ``category`` and (for floor-area rules) ``floor_area_m2``, as read by
        `planner.read_facilities`.
    residences
        Points with ``id`` and ``households``, as read by `planner.read_residences`.
    standard
        A built-in standard name, a TOML file, or a `Standard`.
    communities
        Optional polygons with ``id``, ``name`` and optional ``subdistrict``/``district`` (as
        read by `planner.read_communities`): the review gets a verdict per community and rule
        (`CheckResult.communities`) and roll-ups per sub-district and district.
    speed_kmh
        Walking speed that converts minutes and metres; None: the standard's own (4.0 km/h
        unless a user standard file sets another).
    allocation
        ``catchment`` (two-step floating catchment), ``nearest`` or ``community``.
    snap_cap_m
        Points farther than this from the network are off it (reported).
    isochrones
        Also find the served area of each category (5/10/15-minute bands) as the reached
        street pieces (`CheckResult.bands`, what the map draws).
    buffer_m
        Width around reached streets for the served area, metres.
    isochrone_polygons
        With ``isochrones``, also union those pieces into polygons (`CheckResult.isochrones`,
        what ``isochrones.gpkg`` holds; in parallel processes). Slow on a whole city.
    inputs
        Provenance of the input files (paths and hashes) for the summary.
    targets
        Programme targets (`planner.standards.Targets`); None: the standard's own.

    Returns
    -------
    CheckResult

    Raises
    ------
    InputError
        Bad parameters, missing columns, facilities without floor area where a rule needs it.

    Examples
    --------
    >>> import planner
    >>> network = planner.load_network("data/cn_beijing_haidian_cau_map.osm.bz2")
    >>> facilities = planner.read_facilities("data/haidian/facilities.gpkg")
    >>> residences = planner.read_residences("data/haidian/residences.gpkg")
    >>> result = planner.check(network, facilities, residences)
    >>> result
    <CheckResult community_service: FAIL, 103 residences, 77 facilities, 87 gaps>
    >>> result.summary["coverage"][0]["rate"], result.summary["floor_area"]["shortfall_m2"]
    (0.215973, 1295.55)
    """
    std = standard_for(standard, speed_kmh, allocation, communities)
    speed_kmh = float(std.speed_kmh)
    require_columns(facilities, "facilities", ("id", "category"))
    require_columns(residences, "residences", ("id", "households"))
    fac = facilities.to_crs(4326).reset_index(drop=True)
    res = residences.to_crs(4326).reset_index(drop=True)
    fac_snap = snap_points(network, fac, snap_cap_m=snap_cap_m, what="facilities")
    res_snap = snap_points(network, res, snap_cap_m=snap_cap_m, what="residences")
    rules = rules_to_check(std, fac, speed_kmh)
    walks = measure(network, rules, fac, res, fac_snap, res_snap, allocation)
    result = assemble(
        std,
        rules,
        fac,
        res,
        walks,
        network=network,
        communities=communities,
        allocation=allocation,
        targets=targets,
        snap_cap_m=snap_cap_m,
        buffer_m=buffer_m,
        inputs=inputs,
    )
    if not isochrones:
        return result
    bands = _served_areas(fac, fac_snap, rules, network, speed_kmh, buffer_m)
    iso = None
    if isochrone_polygons:
        log.info("Unioning the served areas into polygons (isochrones.gpkg) ...")
        iso = bands.polygons()
    return dataclasses.replace(result, isochrones=iso, bands=bands)


def assemble(
    std: Standard,
    rules: list[CheckedRule],
    fac: gpd.GeoDataFrame,
    res: gpd.GeoDataFrame,
    walks: Walks,
    *,
    network: Network,
    communities: gpd.GeoDataFrame | None = None,
    allocation: str = "catchment",
    targets: Targets | None = None,
    snap_cap_m: float = DEFAULT_SNAP_CAP_M,
    buffer_m: float = DEFAULT_BUFFER_M,
    inputs: dict[str, Any] | None = None,
) -> CheckResult:
    """The review's tables, community verdicts and summary from what the network gave (`Walks`).

    ``fac`` and ``res`` are the facility and residence layers in EPSG:4326 with a fresh index,
    ``rules`` from `rules_to_check`; the rest as in `check`. ``network`` is attached to the
    result and gives the summary its load report.
    """
    speed_kmh = float(std.speed_kmh)
    households = res["households"].to_numpy(dtype=np.float64)
    res_out = residence_frame(res, walks.res_on, walks.res_access_m)
    fac_out = facility_frame(fac, walks.fac_on, walks.fac_access_m)
    review_targets = targets if targets is not None else std.targets
    res_out, coverage, gaps, required_covered = coverage_pass(
        rules, fac, res_out, walks, speed_kmh, review_targets.min_coverage_rate
    )
    if float(households.sum()) <= 0:
        raise InputError(
            f"The residences have no households (all {len(res):,} have 0 or none in column "
            "'households'): no verdict can rest on them. Give the household counts "
            "(households column, --households-col) or estimate them with `planner households`.",
            zh=f"居住点没有户数（全部 {len(res):,} 个在 'households' 列中为 0 或空）："
            "无法据此评定。请给出户数（households 列，--households-col），"
            "或用 `planner households` 估算。",
        )
    fa_rule = floor_area_rule(rules)
    fac_out["households_in_catchment"] = np.nan
    fac_out["m2_per_100hh"] = np.nan
    fac_out["floor_area_ok"] = pd.array([pd.NA] * len(fac_out), dtype="boolean")
    comm_in = None if communities is None else communities_in(communities)
    fac_comm = None
    if comm_in is not None:
        res_out["community_id"] = floor_area.community_of(res_out, comm_in)
        fac_comm = assign_facilities(fac, comm_in)
    floor_area_summary = None
    if fa_rule is not None:
        floor_area_summary = floor_area.check_floor_area(
            fa_rule.rule,
            allocation,
            walks.floor_area,
            fac,
            walks.fac_on,
            households,
            res_out,
            fac_out,
            comm_in,
            fac_comm,
        )
    comm_out, levels = None, {}
    if comm_in is not None:
        assert fac_comm is not None
        comm_rules = community_rules(rules, review_targets)
        comm_out = community_table(comm_in, res_out, fac_out, fac_comm, comm_rules)
        levels = rollups(comm_out, comm_rules, review_targets)
        if floor_area_summary is not None and fa_rule is not None:
            floor_area.per_community(floor_area_summary, comm_out, fa_rule.rule)
    res_out["status"] = status(required_covered, walks.res_on)
    summary = review_summary(
        std,
        rules,
        coverage,
        floor_area_summary,
        res,
        walks,
        layer_ids_of(fac),
        network.report.to_dict(),
        snap_cap_m=snap_cap_m,
        allocation=allocation,
        buffer_m=buffer_m,
        inputs=inputs or {},
        communities=summary_sections(comm_out, levels, res_out, households, review_targets),
    )
    return CheckResult(
        residences=res_out,
        facilities=fac_out,
        communities=comm_out,
        subdistricts=levels.get("subdistrict"),
        districts=levels.get("district"),
        gaps=gap_table(gaps),
        summary=summary,
        network=network,
        standard=std,
    )


def communities_in(communities: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The communities layer in WGS84 with an ``id`` (the row number when it has none)."""
    comm = communities.to_crs(4326).reset_index(drop=True)
    if "id" not in comm.columns:
        comm = comm.assign(id=comm.index.to_numpy())
    return comm


def community_rules(rules: list[CheckedRule], targets: Targets) -> list[CommunityRule]:
    out = []
    for cr in rules:
        if not cr.required:
            continue
        rate = cr.rule.min_coverage_rate
        if targets.min_coverage_rate is not None:
            rate = targets.min_coverage_rate
        out.append(
            CommunityRule(
                key=cr.key,
                accepted_categories=tuple(cr.rule.accepted_categories),
                min_coverage_rate=rate if cr.rule.checks_coverage else None,
                min_m2_per_100hh=cr.rule.min_floor_area_m2_per_100_households,
                min_floor_area_m2=cr.rule.min_floor_area_m2,
                rule=cr.rule,
            )
        )
    return out


def residence_frame(
    res: gpd.GeoDataFrame, on_network: np.ndarray, access_m: np.ndarray
) -> gpd.GeoDataFrame:
    """The residence table's first columns: id, name, households and how they were counted."""
    keep = [c for c in ("id", "name", "households") if c in res.columns]
    out = gpd.GeoDataFrame(res[keep].copy(), geometry=res.geometry.to_numpy(), crs=4326)
    if "name" not in out.columns:
        out.insert(1, "name", None)
    out["households_method"] = (
        res["households_method"].astype(object).to_numpy()
        if "households_method" in res.columns
        else "column"
    )
    out["households_estimated"] = (
        res["households_estimated"].astype(bool).to_numpy()
        if "households_estimated" in res.columns
        else False
    )
    out["on_network"] = on_network
    out["access_m"] = np.round(access_m, 3)
    return out


def facility_frame(
    fac: gpd.GeoDataFrame, on_network: np.ndarray, access_m: np.ndarray
) -> gpd.GeoDataFrame:
    """The facility table's first columns: id, name, category, floor area, proposed."""
    keep = [c for c in ("id", "name", "category", "floor_area_m2") if c in fac.columns]
    out = gpd.GeoDataFrame(fac[keep].copy(), geometry=fac.geometry.to_numpy(), crs=4326)
    if "name" not in out.columns:
        out.insert(1, "name", None)
    if "floor_area_m2" not in out.columns:
        out["floor_area_m2"] = np.nan
    out["proposed"] = (
        fac["proposed"].astype("boolean").fillna(False).to_numpy(dtype=bool)
        if "proposed" in fac
        else False
    )
    out["on_network"] = on_network
    out["access_m"] = np.round(access_m, 3)
    return out


def coverage_summary(
    cr: CheckedRule,
    covered: np.ndarray,
    households: np.ndarray,
    on_network: np.ndarray,
    speed_kmh: float,
    in_category: np.ndarray,
    min_rate: float,
) -> dict[str, Any]:
    total = float(households.sum())
    got = float(households[covered].sum())
    rate = got / total if total > 0 else 1.0
    return {
        "key": cr.key,
        "category": cr.category,
        "label_zh": cr.rule.label_zh,
        "label_en": cr.rule.label_en,
        "accepted_categories": list(cr.rule.accepted_categories),
        "tier": cr.rule.tier,
        "required": cr.required,
        "max_walk_m": round(cr.max_walk_m, 3),
        "max_walk_min": round(float(m_to_minutes(cr.max_walk_m, speed_kmh)), 3),
        "speed_kmh": speed_kmh,
        "facilities": int(in_category.sum()),
        "households_total": round(total, 3),
        "households_covered": round(got, 3),
        "rate": round(rate, 6),
        "residences_uncovered": int((~covered).sum()),
        "residences_off_network": int((~on_network).sum()),
        "min_coverage_rate": min_rate,
        "passes": bool(rate >= min_rate - 1e-12) if cr.required else None,
        "per": cr.rule.per,
        "source": cr.rule.source,
        "clause": cr.rule.clause,
        "verified": cr.rule.verified,
        "quote": cr.rule.quote,
    }


def gap_rows(
    res_out: gpd.GeoDataFrame,
    cr: CheckedRule,
    walk_m: np.ndarray,
    covered: np.ndarray,
    on_network: np.ndarray,
) -> pd.DataFrame:
    gap = ~covered
    return pd.DataFrame(
        {
            "id": res_out["id"].to_numpy()[gap],
            "category": cr.key,
            "households": res_out["households"].to_numpy(dtype=np.float64)[gap],
            "walk_m": np.round(walk_m[gap], 3),
            "short_by_m": np.round(walk_m[gap] - cr.max_walk_m, 3),
            "on_network": on_network[gap],
        }
    )


def gap_table(gaps: list[pd.DataFrame]) -> pd.DataFrame:
    """Every rule's gaps in one table, most households first."""
    table = (
        pd.concat(gaps, ignore_index=True)
        if gaps
        else pd.DataFrame(columns=["id", "category", "households", "walk_m", "short_by_m"])
    )
    return table.sort_values(
        ["households", "category", "id"], ascending=[False, True, True], kind="stable"
    ).reset_index(drop=True)


def status(required_covered: list[np.ndarray], on_network: np.ndarray) -> np.ndarray:
    if required_covered:
        stack = np.vstack(required_covered)
        status = np.where(
            stack.all(axis=0), "covered", np.where(stack.any(axis=0), "partly", "uncovered")
        )
    else:
        status = np.full(on_network.shape[0], "covered")
    return np.where(on_network, status, "off_network").astype(object)


def review_summary(
    std: Standard,
    rules: list[CheckedRule],
    coverage: list[dict[str, Any]],
    floor_area: dict[str, Any] | None,
    res: gpd.GeoDataFrame,
    walks: Walks,
    fac_ids: np.ndarray,
    network_report: dict[str, Any],
    *,
    snap_cap_m: float,
    allocation: str,
    buffer_m: float,
    inputs: dict[str, Any],
    communities: dict[str, Any] | None,
) -> dict[str, Any]:
    """The JSON-ready ``summary.json`` of the review."""
    speed_kmh = float(std.speed_kmh)
    households = res["households"].to_numpy(dtype=np.float64)
    res_on = walks.res_on
    methods = ["column"]
    if "households_method" in res:
        # Per-row methods carry their numbers ("estimate:buildings(600 m2 x 6 ...)"): keep kinds.
        methods = sorted({m.split("(")[0] for m in res["households_method"].astype(str)})
    estimated = bool(res["households_estimated"].any()) if "households_estimated" in res else False
    required = [c["passes"] for c in coverage if c["required"]]
    if floor_area is not None:
        required.append(floor_area["passes"])
    if communities is not None and communities["targets_met"] is not None:
        required.append(communities["targets_met"])
    return {
        "planner_version": __version__,
        "passes": bool(all(required)),
        "standard": {
            "name": std.name,
            "title_zh": std.title_zh,
            "title_en": std.title_en,
            "source": std.source,
            "rules": [rule.to_dict() for rule in std.rules],
            "targets": std.targets.to_dict(),
        },
        "parameters": {
            "speed_kmh": speed_kmh,
            "snap_cap_m": snap_cap_m,
            "allocation": allocation,
            "buffer_m": buffer_m,
            "thresholds": {cr.key: round(cr.max_walk_m, 3) for cr in rules},
        },
        "inputs": inputs,
        "households": {
            "total": round(float(households.sum()), 3),
            "method": "; ".join(methods),
            "estimated": estimated,
            "residences": int(len(res)),
            "off_network_residences": int((~res_on).sum()),
        },
        "coverage": coverage,
        "floor_area": floor_area,
        "off_network": {
            "facilities": jsonable(fac_ids[~walks.fac_on]),
            "residences": jsonable(layer_ids_of(res)[~res_on]),
        },
        "network": network_report,
        **(communities or {}),
    }


def _served_areas(
    fac: gpd.GeoDataFrame,
    fac_snap: SnappedPoints,
    rules: list[CheckedRule],
    network: Network,
    speed_kmh: float,
    buffer_m: float,
) -> ServedBands:
    """The 5/10/15-minute bands of every category a rule accepts, as reached pieces."""
    wanted = sorted({c for cr in rules for c in cr.rule.accepted_categories})
    categories = fac["category"].astype(object).to_numpy()
    return served_bands(
        network,
        fac_snap,
        categories,
        speed_kmh=speed_kmh,
        minutes=(5, 10, 15),
        buffer_m=buffer_m,
        only=wanted,
    )
