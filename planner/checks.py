"""The two checks: 15-minute coverage per category, and floor area per 100 households.

`check` snaps every facility and residence once, then for each rule of the standard runs one
multi-source nearest pass (coverage) and, for the floor-area rule, one catchment pass. Results per
residence, per facility, per community, a gap list and a JSON-ready summary.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from planner import floor_area
from planner._files import jsonable
from planner._version import __version__
from planner.communities import (
    LEVELS,
    CommunityRule,
    Targets,
    assign_facilities,
    community_table,
    rollup,
    sum_by,
)
from planner.engine import ids_at, nearest
from planner.errors import InputError
from planner.isochrones.served import ServedBands, served_bands
from planner.network import Network
from planner.schema import (
    ALLOCATIONS,
    DEFAULT_BUFFER_M,
    DEFAULT_SNAP_CAP_M,
    DEFAULT_STANDARD,
    column,
)
from planner.snapping import SnappedPoints, snap_points
from planner.standards import Rule, Standard, load_standard, m_to_minutes

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
        return head + self.table().to_html(index=False, escape=True)

    def map(self, **kwargs: Any) -> Any:
        """The interactive Folium map of this review (see `planner.maps.build_map`)."""
        from planner.maps import build_map

        return build_map(self, **kwargs)

    explore = map


def _escape(text: Any) -> str:
    import html

    return html.escape(str(text))


def _rules_to_check(
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


def _standard_for(
    standard: str | Standard,
    speed_kmh: float | None,
    allocation: str,
    communities: gpd.GeoDataFrame | None,
) -> Standard:
    """The standard to apply at the given speed, after checking the review's options."""
    if allocation not in ALLOCATIONS:
        raise InputError(f"allocation must be one of {', '.join(ALLOCATIONS)}, not {allocation!r}.")
    if allocation == "community" and communities is None:
        raise InputError(
            "allocation='community' needs community polygons: pass communities= (--communities)."
        )
    if speed_kmh is not None and (not np.isfinite(speed_kmh) or speed_kmh <= 0):
        raise InputError(f"speed_kmh must be a positive number, not {speed_kmh!r}.")
    if isinstance(standard, Standard):
        return standard if speed_kmh is None else standard.with_speed(speed_kmh)
    return load_standard(standard, speed_kmh=speed_kmh)


def _require_columns(layer: gpd.GeoDataFrame, what: str, needed: tuple[str, ...]) -> None:
    missing = [c for c in needed if c not in layer.columns]
    if missing:
        raise InputError(
            f"The {what} layer has no column {', '.join(map(repr, missing))} "
            f"(columns: {', '.join(map(str, layer.columns))}). Read it with "
            f"planner.read_{what}() or name the column with the matching option."
        )


def _coverage(
    network: Network,
    rules: list[CheckedRule],
    fac: gpd.GeoDataFrame,
    fac_snap: SnappedPoints,
    res: gpd.GeoDataFrame,
    res_snap: SnappedPoints,
    speed_kmh: float,
) -> tuple[gpd.GeoDataFrame, list[dict[str, Any]], list[pd.DataFrame], list[np.ndarray]]:
    """One nearest pass per rule: the residence table, coverage summaries, gaps, covered masks."""
    households = res["households"].to_numpy(dtype=np.float64)
    categories = fac["category"].astype(object).to_numpy()
    res_out = _residence_frame(res, res_snap)
    coverage: list[dict[str, Any]] = []
    gaps: list[pd.DataFrame] = []
    required_covered = []
    per_rule: dict[str, Any] = {}
    for cr in rules:
        in_category = np.isin(categories, cr.rule.accepted_categories)
        if cr.required and not in_category.any():
            log.warning(
                "No facility of category %s (rule %s): nobody is covered. Categories present: %s",
                " or ".join(cr.rule.accepted_categories),
                cr.key,
                ", ".join(sorted(set(categories.astype(str)))),
            )
        src = fac_snap.subset(in_category)
        which, walk_m = nearest(network, src, res_snap)
        covered = walk_m <= cr.max_walk_m
        per_rule[column("nearest_id", cr.key)] = ids_at(src.ids, which)
        per_rule[column("walk_m", cr.key)] = walk_m
        per_rule[column("walk_min", cr.key)] = m_to_minutes(walk_m, speed_kmh)
        per_rule[column("covered", cr.key)] = covered
        coverage.append(
            _coverage_summary(cr, covered, households, res_snap.on_network, speed_kmh, in_category)
        )
        if cr.required:
            required_covered.append(covered)
            gaps.append(_gap_rows(res_out, cr, walk_m, covered, res_snap.on_network))
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
        Programme targets (`planner.communities.Targets`); None: the standard's own, if any.

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
    <CheckResult community_service: FAIL, 103 residences, 74 facilities, 87 gaps>
    >>> result.summary["coverage"][0]["rate"], result.summary["floor_area"]["shortfall_m2"]
    (0.215973, 1295.55)
    """
    std = _standard_for(standard, speed_kmh, allocation, communities)
    speed_kmh = float(std.speed_kmh)
    _require_columns(facilities, "facilities", ("id", "category"))
    _require_columns(residences, "residences", ("id", "households"))
    fac = facilities.to_crs(4326).reset_index(drop=True)
    res = residences.to_crs(4326).reset_index(drop=True)
    fac_snap = snap_points(network, fac, snap_cap_m=snap_cap_m, what="facilities")
    res_snap = snap_points(network, res, snap_cap_m=snap_cap_m, what="residences")
    households = res["households"].to_numpy(dtype=np.float64)
    res_on = res_snap.on_network

    rules = _rules_to_check(std, fac, speed_kmh)
    fac_out = _facility_frame(fac, fac_snap)
    res_out, coverage, gaps, required_covered = _coverage(
        network, rules, fac, fac_snap, res, res_snap, speed_kmh
    )

    if float(households.sum()) <= 0:
        raise InputError(
            f"The residences have no households (all {len(res):,} have 0 or none in column "
            "'households'): no verdict can rest on them. Give the household counts "
            "(households column, --households-col) or estimate them with `planner households`."
        )
    fa_rule = next((cr for cr in rules if cr.required and cr.rule.has_floor_area), None)
    fac_out["households_in_catchment"] = np.nan
    fac_out["m2_per_100hh"] = np.nan
    fac_out["floor_area_ok"] = pd.array([pd.NA] * len(fac_out), dtype="boolean")
    comm_in = None if communities is None else _communities_in(communities)
    fac_comm = None
    if comm_in is not None:
        res_out["community_id"] = floor_area.community_of(res_out, comm_in)
        fac_comm = assign_facilities(fac, comm_in)
    floor_area_summary = None
    if fa_rule is not None:
        floor_area_summary = _floor_area(
            network,
            fa_rule,
            allocation,
            fac,
            fac_snap,
            res_snap,
            households,
            res_out,
            fac_out,
            comm_in,
            fac_comm,
        )
    review_targets = targets if targets is not None else _standard_targets(std)
    comm_out, levels = None, {}
    if comm_in is not None:
        assert fac_comm is not None
        comm_rules = _community_rules(rules, review_targets)
        comm_out = community_table(comm_in, res_out, fac_out, fac_comm, comm_rules)
        levels = _rollups(comm_out, comm_rules, review_targets)
        if floor_area_summary is not None and fa_rule is not None:
            _floor_area_per_community(floor_area_summary, comm_out, fa_rule)

    res_out["status"] = _status(required_covered, res_on)
    gap_table = _gap_table(gaps)

    summary = _summary(
        std,
        rules,
        coverage,
        floor_area_summary,
        res,
        households,
        res_snap,
        fac_snap,
        network,
        speed_kmh=speed_kmh,
        snap_cap_m=snap_cap_m,
        allocation=allocation,
        buffer_m=buffer_m,
        inputs=inputs or {},
        communities=_communities_summary(comm_out, levels, res_out, households, review_targets),
    )
    bands = None
    if isochrones:
        bands = _served_areas(fac, fac_snap, rules, network, speed_kmh, buffer_m)
    iso = None
    if bands is not None and isochrone_polygons:
        log.info("Unioning the served areas into polygons (isochrones.gpkg) ...")
        iso = bands.polygons()
    return CheckResult(
        residences=res_out,
        facilities=fac_out,
        communities=comm_out,
        subdistricts=levels.get("subdistrict"),
        districts=levels.get("district"),
        gaps=gap_table,
        summary=summary,
        network=network,
        standard=std,
        isochrones=iso,
        bands=bands,
    )


def _communities_in(communities: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The communities layer in WGS84 with an ``id`` (the row number when it has none)."""
    comm = communities.to_crs(4326).reset_index(drop=True)
    if "id" not in comm.columns:
        comm = comm.assign(id=comm.index.to_numpy())
    return comm


def _standard_targets(std: Standard) -> Targets:
    """The standard's default programme targets (none unless the standard sets them)."""
    found = getattr(std, "targets", None)
    return found if isinstance(found, Targets) else Targets()


def _community_rules(rules: list[CheckedRule], targets: Targets) -> list[CommunityRule]:
    out = []
    for cr in rules:
        if not cr.required:
            continue
        rate = getattr(cr.rule, "min_coverage_rate", 1.0)
        if targets.min_coverage_rate is not None:
            rate = targets.min_coverage_rate
        out.append(
            CommunityRule(
                key=cr.key,
                accepted_categories=tuple(cr.rule.accepted_categories),
                min_coverage_rate=rate if getattr(cr.rule, "checks_coverage", True) else None,
                min_m2_per_100hh=cr.rule.min_floor_area_m2_per_100_households,
                min_floor_area_m2=getattr(cr.rule, "min_floor_area_m2", None),
            )
        )
    return out


def _rollups(
    table: gpd.GeoDataFrame, rules: list[CommunityRule], targets: Targets
) -> dict[str, pd.DataFrame]:
    """Sub-district, district and whole-review roll-ups (the levels the layer has)."""
    frame = pd.DataFrame(table.drop(columns=table.geometry.name))
    out = {"review": rollup(frame, rules, (), targets)}
    if "subdistrict" in frame.columns:
        by = ("subdistrict", "district") if "district" in frame.columns else ("subdistrict",)
        out["subdistrict"] = rollup(frame, rules, by, targets)
    if "district" in frame.columns:
        out["district"] = rollup(frame, rules, ("district",), targets)
    return out


def _floor_area_per_community(
    summary: dict[str, Any], comm_out: gpd.GeoDataFrame, cr: CheckedRule
) -> None:
    """With communities, the floor-area verdict is per community (the sources' unit)."""
    ok = comm_out[column("floor_area_ok", cr.key)]
    summary["catchment_view"] = {
        "allocation": summary["allocation"],
        "shortfall_m2": summary["shortfall_m2"],
        "passes": summary["passes"],
    }
    summary["per"] = "community"
    summary["communities"] = int(ok.notna().sum())
    summary["communities_failing"] = int((ok == False).sum())  # noqa: E712 (NA stays NA)
    summary["shortfall_m2"] = round(float(comm_out[column("shortfall_m2", cr.key)].sum()), 3)
    summary["min_floor_area_m2"] = getattr(cr.rule, "min_floor_area_m2", None)
    summary["passes"] = bool(summary["communities_failing"] == 0)


def _floor_area_note(cr: CheckedRule, has_communities: bool) -> str:
    if has_communities:
        return (
            "verdict per community (the floor area of its facilities per 100 of its households); "
            "the catchment figures are the per-residence and per-facility view"
        )
    if getattr(cr.rule, "per", "catchment") == "community":
        return (
            "no communities layer: checked over each facility's walking catchment instead; "
            "the sources define this rule per community (give --communities)"
        )
    return "checked over each facility's walking catchment (two-step floating catchment)"


def _records(frame: pd.DataFrame | None) -> list[dict[str, Any]] | None:
    if frame is None:
        return None
    return [
        jsonable(row) for row in frame.astype(object).where(frame.notna(), None).to_dict("records")
    ]


def _communities_summary(
    comm_out: gpd.GeoDataFrame | None,
    levels: dict[str, pd.DataFrame],
    res_out: gpd.GeoDataFrame,
    households: np.ndarray,
    targets: Targets,
) -> dict[str, Any] | None:
    """The ``communities``, ``subdistricts`` and ``districts`` sections of summary.json."""
    if comm_out is None:
        return None
    outside = pd.isna(res_out["community_id"].to_numpy())
    review = levels["review"].iloc[0]
    met = [
        bool(v)
        for lv in ("subdistrict", "district")
        if lv in levels
        for v in levels[lv]["meets_target"].dropna()
    ]
    if targets.compliant_share is not None and "district" not in levels:
        met.append(bool(review["compliant_share"] >= targets.compliant_share - 1e-9))
    table = pd.DataFrame(comm_out.drop(columns=comm_out.geometry.name))
    return {
        "communities": {
            "count": int(len(comm_out)),
            "compliant": int(comm_out["compliant"].sum()),
            "without_households": int((comm_out["verdict"] == "no_households").sum()),
            "households": round(float(review["households"]), 3),
            "households_outside_communities": round(float(households[outside].sum()), 3),
            "residences_outside_communities": int(outside.sum()),
            "levels": [lv for lv in LEVELS if lv in comm_out.columns],
            "targets": targets.to_dict(),
            "table": _records(table),
        },
        "subdistricts": _records(levels.get("subdistrict")),
        "districts": _records(levels.get("district")),
        "targets_met": (all(met) if met else None) if targets.any else None,
    }


def _residence_frame(res: gpd.GeoDataFrame, snap: SnappedPoints) -> gpd.GeoDataFrame:
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
    out["on_network"] = snap.on_network
    out["access_m"] = np.round(snap.access_m, 3)
    return out


def _facility_frame(fac: gpd.GeoDataFrame, snap: SnappedPoints) -> gpd.GeoDataFrame:
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
    out["on_network"] = snap.on_network
    out["access_m"] = np.round(snap.access_m, 3)
    return out


def _coverage_summary(
    cr: CheckedRule,
    covered: np.ndarray,
    households: np.ndarray,
    on_network: np.ndarray,
    speed_kmh: float,
    in_category: np.ndarray,
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
        "passes": bool(rate >= 1.0 - 1e-12) if cr.required else None,
        "source": cr.rule.source,
        "clause": cr.rule.clause,
    }


def _gap_rows(
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


def _gap_table(gaps: list[pd.DataFrame]) -> pd.DataFrame:
    """Every rule's gaps in one table, most households first."""
    table = (
        pd.concat(gaps, ignore_index=True)
        if gaps
        else pd.DataFrame(columns=["id", "category", "households", "walk_m", "short_by_m"])
    )
    return table.sort_values(
        ["households", "category", "id"], ascending=[False, True, True], kind="stable"
    ).reset_index(drop=True)


def _status(required_covered: list[np.ndarray], on_network: np.ndarray) -> np.ndarray:
    if required_covered:
        stack = np.vstack(required_covered)
        status = np.where(
            stack.all(axis=0), "covered", np.where(stack.any(axis=0), "partly", "uncovered")
        )
    else:
        status = np.full(on_network.shape[0], "covered")
    return np.where(on_network, status, "off_network").astype(object)


def _floor_area(
    network: Network,
    cr: CheckedRule,
    allocation: str,
    fac: gpd.GeoDataFrame,
    fac_snap: SnappedPoints,
    res_snap: SnappedPoints,
    households: np.ndarray,
    res_out: gpd.GeoDataFrame,
    fac_out: gpd.GeoDataFrame,
    comm_in: gpd.GeoDataFrame | None,
    fac_comm: np.ndarray | None,
) -> dict[str, Any]:
    """Allocate floor area of the rule's category to households; fill frames; return summary."""
    required = float(cr.rule.min_floor_area_m2_per_100_households)  # type: ignore[arg-type]
    in_category = np.isin(fac["category"].astype(object).to_numpy(), cr.rule.accepted_categories)
    area = fac["floor_area_m2"].to_numpy(dtype=np.float64) if "floor_area_m2" in fac else None
    if area is None:
        area = np.full(len(fac), np.nan)
    if np.isnan(area[in_category]).any():
        bad = fac["id"].to_numpy()[in_category & np.isnan(area)]
        raise InputError(
            f"The floor-area rule needs floor_area_m2 for every {cr.category!r} facility; "
            f"missing for ids {bad[:10].tolist()}. Add the column (or --floor-area-col)."
        )
    supply = np.where(in_category, area, 0.0)
    total_supply = float(supply.sum())
    total_hh = float(households.sum())
    rows = np.flatnonzero(in_category)
    if allocation == "catchment":
        alloc = floor_area.by_catchment(
            network,
            fac_snap.subset(in_category),
            rows,
            supply,
            res_snap,
            households,
            cutoff_m=cr.max_walk_m,
            required=required,
        )
    elif allocation == "nearest":
        alloc = floor_area.by_nearest(
            network,
            fac_snap.subset(in_category),
            rows,
            supply,
            res_snap,
            households,
            required=required,
        )
    else:
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
        alloc = floor_area.by_community(
            rows, supply, fac_comm, res_comm, scratch, required=required
        )
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
    unreached = in_category & ~fac_snap.on_network
    if unreached.any():
        log.warning(
            "%d %s facilit%s off the network (no household reaches %s): %s. Their floor area "
            "gets no verdict; with communities it still counts toward its community.",
            int(unreached.sum()),
            cr.category,
            "y is" if unreached.sum() == 1 else "ies are",
            "it" if unreached.sum() == 1 else "them",
            ", ".join(map(str, fac["id"].to_numpy()[unreached][:10])),
        )
    res_out["floor_area_m2_per_100hh"] = np.round(per_res, 6)
    res_out["floor_area_ok"] = np.nan_to_num(per_res, nan=0.0) >= required - 1e-9
    overall = 100.0 * total_supply / total_hh if total_hh > 0 else float("inf")
    shortfall = round(shortfall, 3)
    return {
        "category": cr.category,
        "allocation": allocation,
        "max_walk_m": round(cr.max_walk_m, 3),
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
        "facilities_off_network": int(unreached.sum()),
        "note": _floor_area_note(cr, comm_in is not None),
        "source": cr.rule.source,
        "clause": cr.rule.clause,
    }


def _summary(
    std: Standard,
    rules: list[CheckedRule],
    coverage: list[dict[str, Any]],
    floor_area: dict[str, Any] | None,
    res: gpd.GeoDataFrame,
    households: np.ndarray,
    res_snap: SnappedPoints,
    fac_snap: SnappedPoints,
    network: Network,
    *,
    speed_kmh: float,
    snap_cap_m: float,
    allocation: str,
    buffer_m: float,
    inputs: dict[str, Any],
    communities: dict[str, Any] | None,
) -> dict[str, Any]:
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
        "standard": {"name": std.name, "title_zh": std.title_zh, "title_en": std.title_en},
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
            "off_network_residences": int((~res_snap.on_network).sum()),
        },
        "coverage": coverage,
        "floor_area": floor_area,
        "off_network": {
            "facilities": jsonable(fac_snap.ids[~fac_snap.on_network]),
            "residences": jsonable(res_snap.ids[~res_snap.on_network]),
        },
        "network": network.report.to_dict(),
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


def compare_summaries(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Before/after figures of a proposed plan, side by side."""
    rows = []
    after_cov = {c["key"]: c for c in after["coverage"]}
    for c in before["coverage"]:
        a = after_cov.get(c["key"])
        if a is None:
            continue
        rows.append(
            {
                "key": c["key"],
                "rate_before": c["rate"],
                "rate_after": a["rate"],
                "households_covered_before": c["households_covered"],
                "households_covered_after": a["households_covered"],
                "passes_before": c["passes"],
                "passes_after": a["passes"],
            }
        )
    fa_b, fa_a = before.get("floor_area"), after.get("floor_area")
    floor = None
    if fa_b is not None and fa_a is not None:
        floor = {
            "m2_per_100hh_before": fa_b["m2_per_100hh"],
            "m2_per_100hh_after": fa_a["m2_per_100hh"],
            "shortfall_m2_before": fa_b["shortfall_m2"],
            "shortfall_m2_after": fa_a["shortfall_m2"],
            "passes_before": fa_b["passes"],
            "passes_after": fa_a["passes"],
        }
    return {
        "passes_before": before["passes"],
        "passes_after": after["passes"],
        "coverage": rows,
        "floor_area": floor,
    }


def compare(results: Mapping[str, CheckResult]) -> pd.DataFrame:
    """Figures of several reviews side by side (e.g. today, with a new centre, at 3.6 km/h).

    Parameters
    ----------
    results
        Scenario name to its `CheckResult`.

    Returns
    -------
    pandas.DataFrame
        One row per scenario and check: ``scenario``, ``check`` (a rule key, or
        ``floor_area_<category>``), ``required``, ``speed_kmh``, ``max_walk_m``, ``households``,
        ``households_covered``, ``rate``, ``m2_per_100hh``, ``shortfall_m2``, ``passes``.

    Examples
    --------
    >>> import planner
    >>> network = planner.load_network("data/cn_beijing_haidian_cau_map.osm.bz2")
    >>> facilities = planner.read_facilities("data/haidian/facilities.gpkg")
    >>> residences = planner.read_residences("data/haidian/residences.gpkg")
    >>> today = planner.check(network, facilities, residences)
    >>> elderly = planner.check(network, facilities, residences, speed_kmh=3.6)
    >>> table = planner.compare({"4.0 km/h": today, "3.6 km/h": elderly})
    >>> table.loc[table["check"] == "community_service", ["scenario", "max_walk_m"]].values.tolist()
    [['4.0 km/h', 1000.0], ['3.6 km/h', 900.0]]
    """
    rows = []
    for scenario, result in results.items():
        speed = result.summary["parameters"]["speed_kmh"]
        for c in result.summary["coverage"]:
            rows.append(
                {
                    "scenario": scenario,
                    "check": c["key"],
                    "required": c["required"],
                    "speed_kmh": speed,
                    "max_walk_m": c["max_walk_m"],
                    "households": c["households_total"],
                    "households_covered": c["households_covered"],
                    "rate": c["rate"],
                    "m2_per_100hh": np.nan,
                    "shortfall_m2": np.nan,
                    "passes": c["passes"],
                }
            )
        fa = result.summary["floor_area"]
        if fa is not None:
            rows.append(
                {
                    "scenario": scenario,
                    "check": f"floor_area_{fa['category']}",
                    "required": True,
                    "speed_kmh": speed,
                    "max_walk_m": fa["max_walk_m"],
                    "households": fa["households"],
                    "households_covered": np.nan,
                    "rate": np.nan,
                    "m2_per_100hh": fa["m2_per_100hh"],
                    "shortfall_m2": fa["shortfall_m2"],
                    "passes": fa["passes"],
                }
            )
    return pd.DataFrame(rows)
