"""A review split into units: the plan, one unit's task, and the merge into one `CheckResult`.

`plan_review` validates the inputs like `planner.check`, projects every point once and splits
the residences into units (`planner.distributed.units`). `review_unit` is one task: it reads the
unit's halo of the network (from any source with ``read(box) -> Network``), snaps the unit's
residences and the halo's facilities, and runs the nearest-facility pass of every rule and the
catchment pairs of the floor-area rule. `merge` puts the units' arrays back in residence order
and builds the same frames and summary as `planner.check`; the two-step catchment runs in two
rounds: `catchment_ratio` sums each facility's demand over every unit's pairs (in the same order
as the single-process run, so the sums are bit-identical), `catchment_shares` gives each
household its share, unit by unit.

The frames and the summary are built here with the same arithmetic as `planner.checks`; when
`planner.checks` exposes its table builders (see the package docstring), this module should
call them instead.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Protocol

import geopandas as gpd
import numpy as np
import pandas as pd

from planner._files import jsonable
from planner._version import __version__
from planner.checks import CheckResult
from planner.engine import ids_at, nearest, pairs_within
from planner.errors import InputError
from planner.network import LoadReport, Network
from planner.schema import ALLOCATIONS, DEFAULT_BUFFER_M, DEFAULT_SNAP_CAP_M, DEFAULT_STANDARD
from planner.schema import column as col
from planner.snapping import SnappedPoints, snap_xy
from planner.standards import Rule, Standard, load_standard, m_to_minutes

from .units import (
    DEFAULT_TILE_M,
    Box,
    Unit,
    community_units,
    facility_owners,
    in_box,
    projected_xy,
    tile_units,
)

log = logging.getLogger(__name__)


class NetworkSource(Protocol):
    """Where a task reads its halo of the network from."""

    crs: Any
    report: LoadReport

    def read(self, box: Box) -> Network: ...


@dataclass(frozen=True)
class RuleSpec:
    """A rule as the tasks need it (plain data, cheap to send)."""

    key: str
    category: str
    accepted: tuple[str, ...]
    max_walk_m: float
    required: bool
    rule: Rule = field(repr=False)


@dataclass(frozen=True)
class UnitTask:
    """Everything one unit's task needs, apart from the network source."""

    name: str
    halo: Box
    res_rows: np.ndarray
    res_ids: np.ndarray
    res_x: np.ndarray
    res_y: np.ndarray
    fac_rows: np.ndarray
    fac_ids: np.ndarray
    fac_x: np.ndarray
    fac_y: np.ndarray
    fac_category: np.ndarray
    rules: tuple[RuleSpec, ...]
    catchment_rule: int | None
    snap_cap_m: float


@dataclass(frozen=True)
class UnitResult:
    """What one unit's task gives back: arrays in the unit's residence and facility order.

    ``nearest[k]`` holds, for rule ``k``, the position in the review's facility table of each
    residence's nearest facility (-1 when none in the halo) and ``walk[k]`` the walk (NaN when
    none); walks longer than the largest threshold are not exact until `merge` censors them.
    ``pair_fac`` / ``pair_res`` are the catchment pairs (review positions), sorted.
    """

    name: str
    res_rows: np.ndarray
    res_edge_on: np.ndarray
    res_access: np.ndarray
    fac_rows: np.ndarray
    fac_on: np.ndarray
    fac_access: np.ndarray
    nearest: list[np.ndarray]
    walk: list[np.ndarray]
    pair_fac: np.ndarray
    pair_res: np.ndarray
    nodes: int
    edges: int


@dataclass
class ReviewPlan:
    """A review ready to be split: validated inputs, rules, projected points and units."""

    standard: Standard
    speed_kmh: float
    allocation: str
    snap_cap_m: float
    buffer_m: float
    rules: list[RuleSpec]
    catchment_rule: int | None
    floor_area_rule: int | None
    fac: gpd.GeoDataFrame
    res: gpd.GeoDataFrame
    communities: gpd.GeoDataFrame | None
    fx: np.ndarray
    fy: np.ndarray
    rx: np.ndarray
    ry: np.ndarray
    units: list[Unit]
    inputs: dict[str, Any]
    crs: Any
    report: LoadReport

    @property
    def max_walk_m(self) -> float:
        """The largest walk threshold: walks up to it are exact in the merged tables."""
        return max((r.max_walk_m for r in self.rules), default=0.0)

    @property
    def halo_m(self) -> float:
        """How far around a unit's residences its network is read: threshold + snap cap."""
        return self.max_walk_m + self.snap_cap_m

    def task(self, unit: Unit) -> UnitTask:
        """The task of one unit: its residences and the facilities within its halo."""
        fac_rows = np.flatnonzero(in_box(self.fx, self.fy, unit.halo(self.max_walk_m)))
        if unit.facilities.size:
            fac_rows = np.union1d(fac_rows, unit.facilities)
        res_rows = unit.residences
        return UnitTask(
            name=unit.name,
            halo=unit.halo(self.halo_m),
            res_rows=res_rows,
            res_ids=self.res["id"].to_numpy()[res_rows],
            res_x=self.rx[res_rows],
            res_y=self.ry[res_rows],
            fac_rows=fac_rows,
            fac_ids=self.fac["id"].to_numpy()[fac_rows],
            fac_x=self.fx[fac_rows],
            fac_y=self.fy[fac_rows],
            fac_category=self.fac["category"].astype(object).to_numpy()[fac_rows],
            rules=tuple(self.rules),
            catchment_rule=self.catchment_rule,
            snap_cap_m=self.snap_cap_m,
        )

    def tasks(self) -> list[UnitTask]:
        """Every unit's task, in unit order."""
        return [self.task(u) for u in self.units]


def _rules(standard: Standard, facilities: gpd.GeoDataFrame, speed_kmh: float) -> list[RuleSpec]:
    """The standard's rules plus every other category present (as `planner.check` measures)."""
    rules = [(r, True) for r in standard.rules]
    served = {c for r in standard.rules for c in r.accepted_categories}
    measured_m = max((r.max_walk_m for r in standard.rules), default=1000.0)
    for category in sorted(set(facilities["category"].dropna().astype(str)) - served):
        rule = Rule.build(
            category,
            max_walk_m=measured_m,
            speed_kmh=speed_kmh,
            source="measured only: not a rule of the standard",
            key=category,
        )
        rules.append((rule, False))
    return [
        RuleSpec(
            key=str(r.key),
            category=str(r.category),
            accepted=tuple(r.accepted_categories),
            max_walk_m=float(r.max_walk_m),
            required=req,
            rule=r,
        )
        for r, req in rules
    ]


def plan_review(
    network: NetworkSource,
    facilities: gpd.GeoDataFrame,
    residences: gpd.GeoDataFrame,
    *,
    standard: str | Standard = DEFAULT_STANDARD,
    communities: gpd.GeoDataFrame | None = None,
    speed_kmh: float | None = None,
    allocation: str = "catchment",
    snap_cap_m: float = DEFAULT_SNAP_CAP_M,
    buffer_m: float = DEFAULT_BUFFER_M,
    inputs: dict[str, Any] | None = None,
    tile_m: float = DEFAULT_TILE_M,
    unit_level: str | None = None,
) -> ReviewPlan:
    """Validate a review like `planner.check` and split it into units.

    Units are square tiles of ``tile_m`` metres, or, with ``communities``, one per community
    (``unit_level`` = ``"subdistrict"`` or ``"district"``: one per value of that column of the
    communities layer); residences in no community go to tiles.
    """
    if allocation not in ALLOCATIONS:
        raise InputError(f"allocation must be one of {', '.join(ALLOCATIONS)}, not {allocation!r}.")
    if allocation == "nearest":
        raise InputError(
            "allocation='nearest' assigns households to facilities at any distance, which a "
            "split review cannot do exactly; use allocation='catchment' or 'community', or "
            "review on one machine."
        )
    if allocation == "community" and communities is None:
        raise InputError(
            "allocation='community' needs community polygons: pass communities= (--communities)."
        )
    if speed_kmh is not None and (not np.isfinite(speed_kmh) or speed_kmh <= 0):
        raise InputError(f"speed_kmh must be a positive number, not {speed_kmh!r}.")
    if not (np.isfinite(snap_cap_m) and snap_cap_m > 0):
        raise InputError(f"snap_cap_m must be a positive number of metres, not {snap_cap_m!r}.")
    if isinstance(standard, Standard):
        std = standard if speed_kmh is None else standard.with_speed(speed_kmh)
    else:
        std = load_standard(standard, speed_kmh=speed_kmh)
    speed = float(std.speed_kmh)
    for layer, what, needed in (
        (facilities, "facilities", ("id", "category")),
        (residences, "residences", ("id", "households")),
    ):
        missing = [c for c in needed if c not in layer.columns]
        if missing:
            raise InputError(
                f"The {what} layer has no column {', '.join(map(repr, missing))} "
                f"(columns: {', '.join(map(str, layer.columns))})."
            )
        if len(layer) == 0:
            raise InputError(f"The {what} layer is empty: give at least one point.")
        if layer.crs is None:
            raise InputError(f"The {what} layer has no CRS: set one (e.g. EPSG:4326).")
    fac = facilities.to_crs(4326).reset_index(drop=True)
    res = residences.to_crs(4326).reset_index(drop=True)
    fx, fy = projected_xy(fac, network.crs)
    rx, ry = projected_xy(res, network.crs)
    rules = _rules(std, fac, speed)
    categories = fac["category"].astype(object).to_numpy()
    for r in rules:
        if r.required and not np.isin(categories, r.accepted).any():
            log.warning(
                "No facility of category %s (rule %s): nobody is covered. Categories present: %s",
                " or ".join(r.accepted),
                r.key,
                ", ".join(sorted(set(categories.astype(str)))),
            )
    fa = next(
        (i for i, r in enumerate(rules) if r.required and r.rule.has_floor_area),
        None,
    )
    if fa is not None:
        in_cat = np.isin(fac["category"].astype(object).to_numpy(), rules[fa].accepted)
        area = (
            fac["floor_area_m2"].to_numpy(dtype=np.float64)
            if "floor_area_m2" in fac
            else np.full(len(fac), np.nan)
        )
        if np.isnan(area[in_cat]).any():
            bad = fac["id"].to_numpy()[in_cat & np.isnan(area)]
            raise InputError(
                f"The floor-area rule needs floor_area_m2 for every {rules[fa].category!r} "
                f"facility; missing for ids {bad[:10].tolist()}. Add the column."
            )
    if communities is not None:
        units = community_units(rx, ry, res, communities, level=unit_level, tile_m=tile_m)
    else:
        units = tile_units(rx, ry, tile_m=tile_m)
    max_walk = max((r.max_walk_m for r in rules), default=0.0)
    units += facility_owners(units, fx, fy, max_walk, tile_m)
    return ReviewPlan(
        standard=std,
        speed_kmh=speed,
        allocation=allocation,
        snap_cap_m=float(snap_cap_m),
        buffer_m=float(buffer_m),
        rules=rules,
        catchment_rule=fa if allocation == "catchment" else None,
        floor_area_rule=fa,
        fac=fac,
        res=res,
        communities=communities,
        fx=fx,
        fy=fy,
        rx=rx,
        ry=ry,
        units=units,
        inputs=inputs or {},
        crs=network.crs,
        report=network.report,
    )


class UnitError(InputError):
    """A unit's task failed; the message names the unit."""


def review_unit(source: NetworkSource, task: UnitTask) -> UnitResult:
    """Review one unit: snap its points on its halo's network, walk to its facilities.

    Raises
    ------
    UnitError
        Anything going wrong in the task, with the unit's name.
    """
    try:
        return _review_unit(source, task)
    except UnitError:
        raise
    except Exception as exc:
        raise UnitError(f"unit {task.name!r} failed: {type(exc).__name__}: {exc}") from exc


def _review_unit(source: NetworkSource, task: UnitTask) -> UnitResult:
    network = source.read(task.halo)
    cap = task.snap_cap_m
    res = _snap(network, task.res_x, task.res_y, task.res_ids, cap, f"residences of {task.name}")
    fac = _snap(network, task.fac_x, task.fac_y, task.fac_ids, cap, f"facilities of {task.name}")
    nearest_pos: list[np.ndarray] = []
    walks: list[np.ndarray] = []
    pair_fac = pair_res = np.empty(0, dtype=np.int64)
    for k, rule in enumerate(task.rules):
        in_cat = np.isin(task.fac_category, rule.accepted)
        rows = task.fac_rows[in_cat]
        if len(res) and in_cat.any():
            src = fac.subset(in_cat)
            which, walk = nearest(network, src, res)
            nearest_pos.append(np.where(which >= 0, rows[np.maximum(which, 0)], -1))
            walks.append(walk)
            if k == task.catchment_rule:
                s, t, _ = pairs_within(network, src, res, cutoff_m=rule.max_walk_m)
                pair_fac, pair_res = rows[s], task.res_rows[t]
        else:
            nearest_pos.append(np.full(len(res), -1, dtype=np.int64))
            walks.append(np.full(len(res), np.nan))
    return UnitResult(
        name=task.name,
        res_rows=task.res_rows,
        res_edge_on=res.on_network,
        res_access=res.access_m,
        fac_rows=task.fac_rows,
        fac_on=fac.on_network,
        fac_access=fac.access_m,
        nearest=nearest_pos,
        walk=walks,
        pair_fac=pair_fac,
        pair_res=pair_res,
        nodes=network.n_nodes,
        edges=network.n_edges,
    )


def _snap(
    network: Network, x: np.ndarray, y: np.ndarray, ids: np.ndarray, cap: float, what: str
) -> SnappedPoints:
    if len(ids) == 0:
        none = np.empty(0)
        return SnappedPoints(ids, np.empty(0, dtype=np.int64), none, none, x, y, cap)
    return snap_xy(network, x, y, ids=ids, snap_cap_m=cap, what=what)


def catchment_ratio(
    plan: ReviewPlan, pair_fac: np.ndarray, pair_res: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Round one of the two-step catchment: each facility's floor area per household.

    ``pair_fac`` / ``pair_res`` are every unit's pairs (review positions). They are put in the
    order of the single-process run (by facility, then residence) before the demand is summed,
    so the figures are bit-identical to it. Returns the ratio (m² per household) and the demand
    (households) per facility of the review; the ratio is NaN outside the category or without
    demand.
    """
    assert plan.floor_area_rule is not None
    rule = plan.rules[plan.floor_area_rule]
    in_cat = np.isin(plan.fac["category"].astype(object).to_numpy(), rule.accepted)
    supply = np.where(in_cat, _area(plan), 0.0)
    households = plan.res["households"].to_numpy(dtype=np.float64)
    order = np.lexsort((pair_res, pair_fac))
    s, t = pair_fac[order], pair_res[order]
    demand = np.bincount(s, weights=households[t], minlength=len(plan.fac))
    ratio = np.full(len(plan.fac), np.nan)
    np.divide(supply, demand, out=ratio, where=(demand > 0) & in_cat)
    return ratio, demand


def catchment_shares(
    ratio: np.ndarray, pair_fac: np.ndarray, pair_res: np.ndarray, res_rows: np.ndarray
) -> np.ndarray:
    """Round two: m² per 100 households of each of ``res_rows`` (one unit's residences).

    Sums each residence's facilities in facility order, as the single-process run does.
    """
    local = np.searchsorted(res_rows, pair_res)
    order = np.lexsort((local, pair_fac))
    s, t = pair_fac[order], local[order]
    return np.bincount(t, weights=np.nan_to_num(ratio[s]), minlength=len(res_rows)) * 100.0


def _area(plan: ReviewPlan) -> np.ndarray:
    if "floor_area_m2" in plan.fac:
        return plan.fac["floor_area_m2"].to_numpy(dtype=np.float64)
    return np.full(len(plan.fac), np.nan)


def merge(
    plan: ReviewPlan,
    results: list[UnitResult],
    *,
    shares: list[np.ndarray] | None = None,
    network: Network | None = None,
) -> CheckResult:
    """Merge the units' results into the `CheckResult` of the whole review.

    Parameters
    ----------
    plan
        The plan the units came from.
    results
        One result per unit of the plan (any order).
    shares
        Round two of the catchment already computed per unit (same order as ``results``);
        None: computed here.
    network
        The network to attach to the result (for the map); None: a stand-in holding only the
        source's CRS and load report.
    """
    n_res, n_fac = len(plan.res), len(plan.fac)
    res_on = np.zeros(n_res, dtype=bool)
    res_access = np.full(n_res, np.nan)
    fac_on = np.zeros(n_fac, dtype=bool)
    fac_access = np.full(n_fac, np.nan)
    fac_seen = np.zeros(n_fac, dtype=bool)
    which = [np.full(n_res, -1, dtype=np.int64) for _ in plan.rules]
    walks = [np.full(n_res, np.nan) for _ in plan.rules]
    for r in results:
        res_on[r.res_rows] = r.res_edge_on
        res_access[r.res_rows] = r.res_access
        new = ~fac_seen[r.fac_rows]
        fac_on[r.fac_rows[new]] = r.fac_on[new]
        fac_access[r.fac_rows[new]] = r.fac_access[new]
        fac_seen[r.fac_rows] = True
        for k in range(len(plan.rules)):
            which[k][r.res_rows] = r.nearest[k]
            walks[k][r.res_rows] = r.walk[k]
    if not fac_seen.all():
        raise InputError(f"{int((~fac_seen).sum())} facilities were in no unit (a bug).")
    limit = plan.max_walk_m
    categories = plan.fac["category"].astype(object).to_numpy()
    fac_ids = plan.fac["id"].to_numpy()
    for k, rule in enumerate(plan.rules):
        has = bool((np.isin(categories, rule.accepted) & fac_on).any())
        beyond = res_on & has & ~(walks[k] <= limit)
        walks[k][beyond] = np.inf
        which[k][beyond] = -1
    households = plan.res["households"].to_numpy(dtype=np.float64)

    res_out = _residence_frame(plan.res, res_on, res_access)
    fac_out = _facility_frame(plan.fac, fac_on, fac_access)
    coverage: list[dict[str, Any]] = []
    gaps: list[pd.DataFrame] = []
    required_covered = []
    per_rule: dict[str, Any] = {}
    for k, rule in enumerate(plan.rules):
        in_cat = np.isin(categories, rule.accepted)
        cat_ids = fac_ids[in_cat]
        cat_pos = np.cumsum(in_cat) - 1  # review position -> position among the category
        local = np.where(which[k] >= 0, cat_pos[np.maximum(which[k], 0)], -1)
        walk = walks[k]
        covered = walk <= rule.max_walk_m
        per_rule[col("nearest_id", rule.key)] = ids_at(cat_ids, local)
        per_rule[col("walk_m", rule.key)] = walk
        per_rule[col("walk_min", rule.key)] = m_to_minutes(walk, plan.speed_kmh)
        per_rule[col("covered", rule.key)] = covered
        coverage.append(_coverage(rule, covered, households, res_on, plan.speed_kmh, in_cat))
        if rule.required:
            required_covered.append(covered)
            gaps.append(_gap_rows(res_out, rule, walk, covered, res_on))
    res_out = gpd.GeoDataFrame(
        pd.concat([res_out, pd.DataFrame(per_rule, index=res_out.index)], axis=1),
        geometry=res_out.geometry.name,
        crs=res_out.crs,
    )
    fac_out["households_in_catchment"] = np.nan
    fac_out["m2_per_100hh"] = np.nan
    fac_out["floor_area_ok"] = pd.array([pd.NA] * len(fac_out), dtype="boolean")
    comm_out = None
    if plan.communities is not None:
        comm_out = _community_frame(plan.communities, res_out, households)
    floor_area = None
    if plan.floor_area_rule is not None:
        floor_area = _floor_area(plan, results, shares, res_out, fac_out, comm_out, households)
    if comm_out is not None:
        for rule in plan.rules:
            comm_out[col("coverage_rate", rule.key)] = (
                _rate_by_community(
                    res_out, households, res_out[col("covered", rule.key)].to_numpy()
                )
                .reindex(comm_out["id"])
                .to_numpy()
            )
    res_out["status"] = _status(required_covered, res_on)
    gap_table = (
        pd.concat(gaps, ignore_index=True)
        if gaps
        else pd.DataFrame(columns=["id", "category", "households", "walk_m", "short_by_m"])
    )
    gap_table = gap_table.sort_values(
        ["households", "category", "id"], ascending=[False, True, True], kind="stable"
    ).reset_index(drop=True)
    res_out.attrs["walks_exact_to_m"] = limit
    gap_table.attrs["walks_exact_to_m"] = limit
    summary = _summary(
        plan, coverage, floor_area, households, res_on, fac_on, res_out, fac_out, network
    )
    return CheckResult(
        residences=res_out,
        facilities=fac_out,
        communities=comm_out,
        gaps=gap_table,
        summary=summary,
        network=network if network is not None else _stand_in(plan),
        standard=plan.standard,
        isochrones=None,
    )


def _stand_in(plan: ReviewPlan) -> Network:
    """A one-edge network carrying the whole network's CRS and load report (no streets)."""
    import shapely

    return Network(
        crs=plan.crs,
        node_x=np.zeros(2),
        node_y=np.array([0.0, 1.0]),
        node_osmid=np.zeros(2, dtype=np.int64),
        edge_u=np.array([0]),
        edge_v=np.array([1]),
        edge_length_m=np.ones(1),
        edge_geometry=np.array([shapely.LineString([(0, 0), (0, 1)])]),
        edge_way_id=np.zeros(1, dtype=np.int64),
        edge_highway=np.array(["none"], dtype=object),
        report=plan.report,
    )


def _residence_frame(res: gpd.GeoDataFrame, on: np.ndarray, access: np.ndarray) -> gpd.GeoDataFrame:
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
    out["on_network"] = on
    out["access_m"] = np.round(access, 3)
    return out


def _facility_frame(fac: gpd.GeoDataFrame, on: np.ndarray, access: np.ndarray) -> gpd.GeoDataFrame:
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
    out["on_network"] = on
    out["access_m"] = np.round(access, 3)
    return out


def _coverage(
    rule: RuleSpec,
    covered: np.ndarray,
    households: np.ndarray,
    on_network: np.ndarray,
    speed_kmh: float,
    in_category: np.ndarray,
) -> dict[str, Any]:
    total = float(households.sum())
    got = float(households[covered].sum())
    rate = got / total if total > 0 else 1.0
    r = rule.rule
    return {
        "key": rule.key,
        "category": rule.category,
        "label_zh": r.label_zh,
        "label_en": r.label_en,
        "accepted_categories": list(r.accepted_categories),
        "tier": r.tier,
        "required": rule.required,
        "max_walk_m": round(rule.max_walk_m, 3),
        "max_walk_min": round(float(m_to_minutes(rule.max_walk_m, speed_kmh)), 3),
        "speed_kmh": speed_kmh,
        "facilities": int(in_category.sum()),
        "households_total": round(total, 3),
        "households_covered": round(got, 3),
        "rate": round(rate, 6),
        "residences_uncovered": int((~covered).sum()),
        "residences_off_network": int((~on_network).sum()),
        "passes": bool(rate >= 1.0 - 1e-12) if rule.required else None,
        "source": r.source,
        "clause": r.clause,
    }


def _gap_rows(
    res_out: gpd.GeoDataFrame,
    rule: RuleSpec,
    walk_m: np.ndarray,
    covered: np.ndarray,
    on_network: np.ndarray,
) -> pd.DataFrame:
    gap = ~covered
    return pd.DataFrame(
        {
            "id": res_out["id"].to_numpy()[gap],
            "category": rule.key,
            "households": res_out["households"].to_numpy(dtype=np.float64)[gap],
            "walk_m": np.round(walk_m[gap], 3),
            "short_by_m": np.round(walk_m[gap] - rule.max_walk_m, 3),
            "on_network": on_network[gap],
        }
    )


def _status(required_covered: list[np.ndarray], on_network: np.ndarray) -> np.ndarray:
    if required_covered:
        stack = np.vstack(required_covered)
        status = np.where(
            stack.all(axis=0), "covered", np.where(stack.any(axis=0), "partly", "uncovered")
        )
    else:
        status = np.full(on_network.shape[0], "covered")
    return np.where(on_network, status, "off_network").astype(object)


def _community_of(points: gpd.GeoDataFrame, communities: gpd.GeoDataFrame) -> np.ndarray:
    inside = gpd.sjoin(
        points[["geometry"]].assign(_row=np.arange(len(points))),
        communities[["id", "geometry"]],
        how="inner",
        predicate="within",
    ).drop_duplicates("_row")
    community = np.full(len(points), None, dtype=object)
    community[inside["_row"].to_numpy()] = inside["id"].to_numpy()
    return community


def _community_frame(
    communities: gpd.GeoDataFrame, res_out: gpd.GeoDataFrame, households: np.ndarray
) -> gpd.GeoDataFrame:
    comm = communities.to_crs(4326).reset_index(drop=True)
    if "id" not in comm.columns:
        comm = comm.assign(id=comm.index.to_numpy())
    keep = [c for c in ("id", "name", "households") if c in comm.columns]
    out = gpd.GeoDataFrame(comm[keep].copy(), geometry=comm.geometry.to_numpy(), crs=4326)
    community_of = _community_of(res_out, out)
    res_out["community_id"] = community_of
    inside = pd.Series(households).groupby(community_of, dropna=True).sum()
    from_residences = inside.reindex(out["id"]).fillna(0.0).to_numpy()
    given = (
        out["households"].to_numpy(dtype=np.float64)
        if "households" in out.columns
        else np.full(len(out), np.nan)
    )
    out["households"] = np.where(np.isnan(given), from_residences, given)
    out["households_source"] = np.where(np.isnan(given), "residences inside", "column")
    return out


def _rate_by_community(
    res_out: gpd.GeoDataFrame, households: np.ndarray, covered: np.ndarray
) -> pd.Series:
    community = res_out["community_id"].to_numpy()
    frame = pd.DataFrame({"c": community, "h": households, "hc": households * covered})
    grouped = frame.dropna(subset=["c"]).groupby("c")[["h", "hc"]].sum()
    return grouped["hc"] / grouped["h"].where(grouped["h"] > 0)


def _floor_area(
    plan: ReviewPlan,
    results: list[UnitResult],
    shares: list[np.ndarray] | None,
    res_out: gpd.GeoDataFrame,
    fac_out: gpd.GeoDataFrame,
    comm_out: gpd.GeoDataFrame | None,
    households: np.ndarray,
) -> dict[str, Any]:
    assert plan.floor_area_rule is not None
    rule = plan.rules[plan.floor_area_rule]
    required = float(rule.rule.min_floor_area_m2_per_100_households)  # type: ignore[arg-type]
    in_category = np.isin(plan.fac["category"].astype(object).to_numpy(), rule.accepted)
    supply = np.where(in_category, _area(plan), 0.0)
    total_supply = float(supply.sum())
    total_hh = float(households.sum())
    per_res = np.full(len(res_out), np.nan)
    fac_hh = np.zeros(len(fac_out))
    shortfall = 0.0
    if plan.allocation == "catchment":
        pair_fac = np.concatenate([r.pair_fac for r in results])
        pair_res = np.concatenate([r.pair_res for r in results])
        ratio, demand = catchment_ratio(plan, pair_fac, pair_res)
        fac_hh[in_category] = demand[in_category]
        per_res = np.zeros(len(res_out))
        if shares is None:
            shares = [catchment_shares(ratio, r.pair_fac, r.pair_res, r.res_rows) for r in results]
        for r, share in zip(results, shares, strict=True):
            per_res[r.res_rows] = share
        fac_out.loc[in_category, "m2_per_100hh"] = ratio[in_category] * 100.0
        shortfall = float(np.sum(np.clip(required - per_res, 0.0, None) * households / 100.0))
    else:
        assert comm_out is not None
        fac_comm = _community_of(fac_out, comm_out)
        comm_supply = pd.Series(supply).groupby(fac_comm, dropna=True).sum()
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
        ratio_of = pd.Series(comm_ratio, index=comm_out["id"].to_numpy())
        res_comm = res_out["community_id"].to_numpy()
        has = pd.notna(res_comm)
        per_res[has] = ratio_of.reindex(res_comm[has]).to_numpy()
        hh_of = pd.Series(comm_hh, index=comm_out["id"].to_numpy())
        fac_hh[pd.notna(fac_comm)] = hh_of.reindex(fac_comm[pd.notna(fac_comm)]).to_numpy()
        fac_ratio = np.divide(
            supply * 100.0, fac_hh, out=np.full(len(fac_out), np.nan), where=fac_hh > 0
        )
        fac_out.loc[in_category, "m2_per_100hh"] = fac_ratio[in_category]
    fac_out.loc[in_category, "households_in_catchment"] = fac_hh[in_category]
    ok = fac_out.loc[in_category, "m2_per_100hh"].to_numpy(dtype=np.float64)
    fac_out.loc[in_category, "floor_area_ok"] = pd.array(
        np.nan_to_num(ok, nan=np.inf) >= required, dtype="boolean"
    )
    res_out["floor_area_m2_per_100hh"] = np.round(per_res, 6)
    res_out["floor_area_ok"] = np.nan_to_num(per_res, nan=0.0) >= required - 1e-9
    if comm_out is not None and plan.allocation != "community":
        comm_out["supply_m2"] = np.nan
    overall = 100.0 * total_supply / total_hh if total_hh > 0 else float("inf")
    shortfall = round(shortfall, 3)
    return {
        "category": rule.category,
        "allocation": plan.allocation,
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
        "source": rule.rule.source,
        "clause": rule.rule.clause,
    }


def _summary(
    plan: ReviewPlan,
    coverage: list[dict[str, Any]],
    floor_area: dict[str, Any] | None,
    households: np.ndarray,
    res_on: np.ndarray,
    fac_on: np.ndarray,
    res_out: gpd.GeoDataFrame,
    fac_out: gpd.GeoDataFrame,
    network: Network | None,
) -> dict[str, Any]:
    res = plan.res
    methods = ["column"]
    if "households_method" in res:
        methods = sorted({m.split("(")[0] for m in res["households_method"].astype(str)})
    estimated = bool(res["households_estimated"].any()) if "households_estimated" in res else False
    required = [c["passes"] for c in coverage if c["required"]]
    if floor_area is not None:
        required.append(floor_area["passes"])
    std = plan.standard
    report = network.report if network is not None else plan.report
    return {
        "planner_version": __version__,
        "passes": bool(all(required)),
        "standard": {"name": std.name, "title_zh": std.title_zh, "title_en": std.title_en},
        "parameters": {
            "speed_kmh": plan.speed_kmh,
            "snap_cap_m": plan.snap_cap_m,
            "allocation": plan.allocation,
            "buffer_m": plan.buffer_m,
            "thresholds": {r.key: round(r.max_walk_m, 3) for r in plan.rules},
        },
        "inputs": plan.inputs,
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
            "facilities": jsonable(fac_out["id"].to_numpy()[~fac_on]),
            "residences": jsonable(res_out["id"].to_numpy()[~res_on]),
        },
        "network": report.to_dict(),
    }
