"""A review split into units: the plan, one unit's task, and the merge into one `CheckResult`.

`plan_review` validates the inputs like `planner.check`, projects every point once and splits
the residences into units (`planner.distributed.units`). `review_unit` is one task: it reads the
unit's halo of the network (from any source with ``read(box) -> Network``), snaps the unit's
residences and the halo's facilities, and runs the nearest-facility pass of every rule and the
catchment pairs of the floor-area rule. `merge` puts the units' arrays back in residence order
and builds the same frames and summary as `planner.check`; the two-step catchment needs each
facility's demand over every unit, so the tasks return their catchment pairs and `merge` runs
both rounds over all of them (`planner.floor_area.by_catchment_pairs`, summed in the same order
as the single-process run, so the sums are bit-identical).

`merge` only puts the units' measurements together into a `planner.checks.Walks`; the frames,
the coverage pass, the floor area, the community verdicts and the summary are then built by
`planner.checks.assemble`, the very code `planner.check` runs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Protocol

import geopandas as gpd
import numpy as np

from planner import floor_area
from planner.checks import (
    CheckedRule,
    CheckResult,
    Walks,
    assemble,
    floor_area_rule,
    require_columns,
    rules_to_check,
    standard_for,
)
from planner.engine import nearest, pairs_within
from planner.errors import InputError
from planner.network import LoadReport, Network
from planner.schema import DEFAULT_BUFFER_M, DEFAULT_SNAP_CAP_M, DEFAULT_STANDARD
from planner.snapping import SnappedPoints, snap_xy
from planner.standards import Standard, Targets

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
    fac_counted: np.ndarray
    coverage: tuple[bool, ...]
    catchment_rule: int | None
    catchment_cutoff_m: float
    snap_cap_m: float


@dataclass(frozen=True)
class UnitResult:
    """What one unit's task gives back: arrays in the unit's residence and facility order.

    ``nearest[k]`` holds, for rule ``k``, the position in the review's facility table of each
    residence's nearest counted facility (-1 when none in the halo) and ``walk[k]`` the walk
    (NaN when none in the halo; empty for a rule without coverage); walks longer than the largest
    threshold are not exact until `merge` censors them.
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
    rules: list[CheckedRule]
    counted: np.ndarray
    catchment_rule: int | None
    floor_area_rule: int | None
    targets: Targets | None
    fac: gpd.GeoDataFrame
    res: gpd.GeoDataFrame
    communities: gpd.GeoDataFrame | None
    fx: np.ndarray
    fy: np.ndarray
    rx: np.ndarray
    ry: np.ndarray
    res_ids: np.ndarray
    fac_ids: np.ndarray
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
            res_ids=self.res_ids[res_rows],
            res_x=self.rx[res_rows],
            res_y=self.ry[res_rows],
            fac_rows=fac_rows,
            fac_ids=self.fac_ids[fac_rows],
            fac_x=self.fx[fac_rows],
            fac_y=self.fy[fac_rows],
            fac_counted=self.counted[:, fac_rows],
            coverage=tuple(bool(r.rule.checks_coverage) for r in self.rules),
            catchment_rule=self.catchment_rule,
            catchment_cutoff_m=(
                self.rules[self.catchment_rule].max_walk_m
                if self.catchment_rule is not None
                else 0.0
            ),
            snap_cap_m=self.snap_cap_m,
        )

    def tasks(self) -> list[UnitTask]:
        """Every unit's task, in unit order."""
        return [self.task(u) for u in self.units]


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
    targets: Targets | None = None,
    tile_m: float = DEFAULT_TILE_M,
    unit_level: str | None = None,
) -> ReviewPlan:
    """Validate a review like `planner.check` and split it into units.

    Units are square tiles of ``tile_m`` metres, or, with ``communities``, one per community
    (``unit_level`` = ``"subdistrict"`` or ``"district"``: one per value of that column of the
    communities layer); residences in no community go to tiles.
    """
    std = standard_for(standard, speed_kmh, allocation, communities)
    if allocation == "nearest":
        raise InputError(
            "allocation='nearest' assigns households to facilities at any distance, which a "
            "split review cannot do exactly; use allocation='catchment' or 'community', or "
            "review on one machine."
        )
    if not (np.isfinite(snap_cap_m) and snap_cap_m > 0):
        raise InputError(f"snap_cap_m must be a positive number of metres, not {snap_cap_m!r}.")
    speed = float(std.speed_kmh)
    for layer, what, needed in (
        (facilities, "facilities", ("id", "category")),
        (residences, "residences", ("id", "households")),
    ):
        require_columns(layer, what, needed)
        if len(layer) == 0:
            raise InputError(f"The {what} layer is empty: give at least one point.")
        if layer.crs is None:
            raise InputError(f"The {what} layer has no CRS: set one (e.g. EPSG:4326).")
    fac = facilities.to_crs(4326).reset_index(drop=True)
    res = residences.to_crs(4326).reset_index(drop=True)
    fx, fy = projected_xy(fac, network.crs)
    rx, ry = projected_xy(res, network.crs)
    rules = rules_to_check(std, fac, speed)
    fa_rule = floor_area_rule(rules)
    fa = None if fa_rule is None else rules.index(fa_rule)
    if fa_rule is not None:
        floor_area.rule_supply(fa_rule.rule, fac)  # stops on a facility without floor area
    counted = np.array([floor_area.counted(r.rule, fac) for r in rules], dtype=bool)
    counted = counted.reshape(len(rules), len(fac))
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
        counted=counted,
        catchment_rule=fa if allocation == "catchment" else None,
        floor_area_rule=fa,
        targets=targets,
        fac=fac,
        res=res,
        communities=communities,
        fx=fx,
        fy=fy,
        rx=rx,
        ry=ry,
        res_ids=res["id"].to_numpy(),  # once: a column of strings is converted on every call
        fac_ids=fac["id"].to_numpy(),
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
    for k, checks_coverage in enumerate(task.coverage):
        in_cat = task.fac_counted[k]
        rows = task.fac_rows[in_cat]
        if checks_coverage and len(res) and in_cat.any():
            which, walk = nearest(network, fac.subset(in_cat), res)
            nearest_pos.append(np.where(which >= 0, rows[np.maximum(which, 0)], -1))
            walks.append(walk)
        else:
            nearest_pos.append(np.full(len(res) if checks_coverage else 0, -1, dtype=np.int64))
            walks.append(np.full(len(res) if checks_coverage else 0, np.nan))
        if k == task.catchment_rule and len(res) and in_cat.any():
            s, t, _ = pairs_within(
                network, fac.subset(in_cat), res, cutoff_m=task.catchment_cutoff_m
            )
            pair_fac, pair_res = rows[s], task.res_rows[t]
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


def merge(
    plan: ReviewPlan,
    results: list[UnitResult],
    *,
    network: Network | None = None,
) -> CheckResult:
    """Merge the units' results into the `CheckResult` of the whole review.

    The units' measurements become one `planner.checks.Walks` (walks beyond the largest
    threshold censored to inf), and `planner.checks.assemble` builds the result as
    `planner.check` does.

    Parameters
    ----------
    plan
        The plan the units came from.
    results
        One result per unit of the plan (any order).
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
    coverage = [k for k, r in enumerate(plan.rules) if r.rule.checks_coverage]
    which = {k: np.full(n_res, -1, dtype=np.int64) for k in coverage}
    walks = {k: np.full(n_res, np.nan) for k in coverage}
    for r in results:
        res_on[r.res_rows] = r.res_edge_on
        res_access[r.res_rows] = r.res_access
        new = ~fac_seen[r.fac_rows]
        fac_on[r.fac_rows[new]] = r.fac_on[new]
        fac_access[r.fac_rows[new]] = r.fac_access[new]
        fac_seen[r.fac_rows] = True
        for k in coverage:
            which[k][r.res_rows] = r.nearest[k]
            walks[k][r.res_rows] = r.walk[k]
    if not fac_seen.all():
        raise InputError(f"{int((~fac_seen).sum())} facilities were in no unit (a bug).")
    limit = plan.max_walk_m
    for k in coverage:
        if plan.counted[k].any():  # as `planner.check`: NaN only without any such facility
            walks[k][np.isnan(walks[k])] = np.inf
        has = bool((plan.counted[k] & fac_on).any())
        beyond = res_on & has & ~(walks[k] <= limit)
        walks[k][beyond] = np.inf
        which[k][beyond] = -1
    alloc = None
    if plan.catchment_rule is not None:
        rule = plan.rules[plan.catchment_rule]
        _, in_category, supply = floor_area.rule_supply(rule.rule, plan.fac)
        alloc = floor_area.by_catchment_pairs(
            np.concatenate([r.pair_fac for r in results]),
            np.concatenate([r.pair_res for r in results]),
            supply,
            in_category,
            plan.res["households"].to_numpy(dtype=np.float64),
            required=float(rule.rule.min_floor_area_m2_per_100_households),  # type: ignore[arg-type]
        )
    measured = Walks(
        fac_on=fac_on,
        fac_access_m=fac_access,
        res_on=res_on,
        res_access_m=res_access,
        nearest={plan.rules[k].key: (which[k], walks[k]) for k in coverage},
        floor_area=alloc,
    )
    result = assemble(
        plan.standard,
        plan.rules,
        plan.fac,
        plan.res,
        measured,
        network=network if network is not None else _stand_in(plan),
        communities=plan.communities,
        allocation=plan.allocation,
        targets=plan.targets,
        snap_cap_m=plan.snap_cap_m,
        buffer_m=plan.buffer_m,
        inputs=plan.inputs,
    )
    result.residences.attrs["walks_exact_to_m"] = limit
    result.gaps.attrs["walks_exact_to_m"] = limit
    return result


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
