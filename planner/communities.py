"""The community as the unit of review: a verdict per community and rule, and the roll-ups.

The standards planner checks are applied per community (社区): the share of its households
within each rule's walk against the rule's target rate, and the floor area of the rule's
facilities inside it per 100 of its households (plus an optional minimum per community in m²).
A community is compliant when every required rule passes; one without households gets no
verdict and is never counted compliant. Sub-districts (街道) and districts (区/县) count their
compliant communities against the programme targets. docs/ARCHITECTURE.md, "Communities".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from planner._files import jsonable
from planner.errors import InputError
from planner.floor_area import community_of, sum_by
from planner.schema import column
from planner.standards import Rule, Targets

LEVELS = ("subdistrict", "district")
"""The levels above the community, lowest first (街道, 区/县)."""

VERDICTS = ("compliant", "fails_coverage", "fails_floor_area", "fails_both", "no_households")
"""A community's verdict, as the map colours it."""

_TOL = 1e-9


@dataclass(frozen=True)
class CommunityRule:
    """What a required rule asks of a community.

    ``min_coverage_rate`` is None for a rule without a walk (floor area only);
    ``min_m2_per_100hh`` is None for a rule without floor area.
    """

    key: str
    accepted_categories: tuple[str, ...]
    min_coverage_rate: float | None
    min_m2_per_100hh: float | None
    min_floor_area_m2: float | None = None
    rule: Rule | None = None

    def part(self, kind: str) -> str:
        """How ``fails`` names a failed part: the rule key, ``key:kind`` for a two-part rule."""
        both = self.min_coverage_rate is not None and self.min_m2_per_100hh is not None
        return f"{self.key}:{kind}" if both else self.key

    def counts(self, categories: np.ndarray, floor_areas_m2: np.ndarray) -> np.ndarray:
        """Which facilities count toward the rule (category and, where set, minimum size)."""
        if self.rule is not None:
            return self.rule.accepts_facilities(categories, floor_areas_m2)
        return np.isin(categories, self.accepted_categories)


def assign_facilities(
    facilities: gpd.GeoDataFrame, communities: gpd.GeoDataFrame, *, source: str = "facilities"
) -> np.ndarray:
    """The community id of every facility: its ``community`` column, else the polygon it is in.

    A ``community`` column may hold community ids or names; empty cells fall back to the
    polygon. Values that name no community stop the review.
    """
    inside = community_of(facilities, communities)
    if "community" not in facilities.columns:
        return inside
    given = facilities["community"].astype(object).to_numpy()
    has = np.array([v is not None and not _blank(v) for v in given], dtype=bool)
    by_id = {str(v): v for v in communities["id"].tolist()}
    by_name = {}
    if "name" in communities.columns:
        by_name = {str(n): i for n, i in zip(communities["name"], communities["id"], strict=True)}
    out = inside.copy()
    unknown = []
    for row in np.flatnonzero(has):
        text = str(given[row]).strip()
        found = by_id.get(text, by_name.get(text))
        if found is None:
            unknown.append(text)
        out[row] = found
    if unknown:
        shown = ", ".join(repr(u) for u in sorted(set(unknown))[:10])
        raise InputError(
            f"{source}: column 'community' names {len(set(unknown))} communities that are not "
            f"in the communities layer ({shown}); use the communities' id or name, or leave the "
            "cell empty to place the facility by its location.",
            zh=f"{source}：'community' 列中有 {len(set(unknown))} 个社区不在社区图层中"
            f"（{shown}）；请用社区的编号或名称，或把该格留空，按设施位置归属社区。",
        )
    return out


def _blank(value: Any) -> bool:
    if isinstance(value, float) and math.isnan(value):
        return True
    return value is pd.NA or str(value).strip() == ""


def community_table(
    communities: gpd.GeoDataFrame,
    residences: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    facility_community: np.ndarray,
    rules: Sequence[CommunityRule],
) -> gpd.GeoDataFrame:
    """A row per community: households, each rule's figures and verdict, ``compliant``, ``fails``.

    Parameters
    ----------
    communities
        Polygons with ``id``, ``name`` and optional ``subdistrict``, ``district`` and other
        attributes (kept).
    residences
        The review's residence table with ``community_id``, ``households``, ``on_network`` and
        ``covered_<rule>`` for every coverage rule.
    facilities
        The review's facility table with ``category``, ``floor_area_m2`` and ``on_network``.
    facility_community
        The community id of every facility (`assign_facilities`).
    rules
        The required rules.
    """
    ids = communities["id"].to_numpy()
    res_comm = residences["community_id"].to_numpy()
    households = residences["households"].to_numpy(dtype=np.float64)
    on_network = residences["on_network"].to_numpy(dtype=bool)
    hh = sum_by(res_comm, households, ids)
    out: dict[str, Any] = {
        "community_id": ids,
        "name": communities["name"].to_numpy() if "name" in communities else None,
    }
    for level in LEVELS:
        if level in communities.columns:
            out[level] = communities[level].to_numpy()
    kept = [
        c
        for c in communities.columns
        if c not in {"id", "name", *LEVELS, communities.geometry.name}
    ]
    for name in kept:
        if name == "households":  # the layer's own counts, when it has them
            if communities[name].notna().any():
                out["households_layer"] = communities[name].to_numpy()
            continue
        out[name] = communities[name].to_numpy()
    out["residences"] = sum_by(res_comm, np.ones(len(res_comm)), ids).astype(np.int64)
    out["households"] = np.round(hh, 3)
    out["households_off_network"] = np.round(sum_by(res_comm, households * ~on_network, ids), 3)
    has_hh = hh > 0
    coverage_fail = np.zeros(len(ids), dtype=bool)
    floor_fail = np.zeros(len(ids), dtype=bool)
    fails: list[list[str]] = [[] for _ in ids]
    fac_cat = facilities["category"].astype(object).to_numpy()
    fac_area = np.nan_to_num(facilities["floor_area_m2"].to_numpy(dtype=np.float64))
    fac_off = ~facilities["on_network"].to_numpy(dtype=bool)
    for rule in rules:
        if rule.min_coverage_rate is not None:
            covered = residences[column("covered", rule.key)].to_numpy(dtype=bool)
            got = sum_by(res_comm, households * covered, ids)
            rate = np.divide(got, hh, out=np.full(len(ids), np.nan), where=has_hh)
            ok = rate >= rule.min_coverage_rate - _TOL
            out[column("coverage_rate", rule.key)] = np.round(rate, 6)
            out[column("households_uncovered", rule.key)] = np.round(hh - got, 3)
            out[column("coverage_ok", rule.key)] = _verdict(ok, has_hh)
            bad = has_hh & ~ok
            coverage_fail |= bad
            for i in np.flatnonzero(bad):
                fails[i].append(rule.part("coverage"))
        if rule.min_m2_per_100hh is not None:
            mine = rule.counts(fac_cat, facilities["floor_area_m2"].to_numpy(dtype=np.float64))
            area = sum_by(facility_community[mine], fac_area[mine], ids)
            ratio = np.divide(area * 100.0, hh, out=np.full(len(ids), np.nan), where=has_hh)
            need = rule.min_m2_per_100hh * hh / 100.0
            if rule.min_floor_area_m2 is not None:
                need = np.maximum(need, rule.min_floor_area_m2)
            ok = area >= need - _TOL
            out[column("floor_area_m2", rule.key)] = np.round(area, 3)
            out[column("m2_per_100hh", rule.key)] = np.round(ratio, 6)
            out[column("floor_area_ok", rule.key)] = _verdict(ok, has_hh)
            out[column("shortfall_m2", rule.key)] = np.round(
                np.where(has_hh, np.clip(need - area, 0.0, None), 0.0), 3
            )
            out[column("facilities_off_network", rule.key)] = sum_by(
                facility_community[mine], fac_off[mine].astype(np.float64), ids
            ).astype(np.int64)
            bad = has_hh & ~ok
            floor_fail |= bad
            for i in np.flatnonzero(bad):
                fails[i].append(rule.part("floor_area"))
    for i in np.flatnonzero(~has_hh):
        fails[i].append("no_households")
    out["compliant"] = has_hh & ~coverage_fail & ~floor_fail
    out["verdict"] = np.select(
        [~has_hh, coverage_fail & floor_fail, coverage_fail, floor_fail],
        ["no_households", "fails_both", "fails_coverage", "fails_floor_area"],
        default="compliant",
    ).astype(object)
    out["fails"] = np.array([";".join(f) for f in fails], dtype=object)
    frame = pd.DataFrame({k: v for k, v in out.items() if v is not None})
    if "name" not in frame:
        frame.insert(1, "name", None)
    return gpd.GeoDataFrame(frame, geometry=communities.geometry.to_numpy(), crs=communities.crs)


def _verdict(ok: np.ndarray, has_households: np.ndarray) -> pd.arrays.BooleanArray:
    """Pass/fail, and no verdict (NA) for a community without households."""
    values = pd.array(ok, dtype="boolean")
    values[~has_households] = pd.NA
    return values


def rollup(
    table: pd.DataFrame, rules: Sequence[CommunityRule], by: Sequence[str], targets: Targets
) -> pd.DataFrame:
    """Communities, compliant communities, households and coverage per group of ``by`` levels.

    ``by`` is ``("subdistrict", "district")`` for sub-districts, ``("district",)`` for districts,
    ``()`` for the whole review (one row). Each group meets its target when it has at least
    ``compliant_per_subdistrict`` compliant communities (sub-districts only) and a compliant
    share of at least ``compliant_share``; ``meets_target`` is NA when no target is set.
    """
    frame = table.copy()
    frame["_all"] = "all"
    keys = list(by) or ["_all"]
    for key in keys:
        frame[key] = frame[key].astype(object).where(frame[key].notna(), "")
    groups = frame.groupby(keys, sort=True, dropna=False)
    out = groups.agg(
        communities=("community_id", "size"),
        compliant_communities=("compliant", "sum"),
        communities_without_households=("verdict", lambda v: int((v == "no_households").sum())),
        households=("households", "sum"),
        households_off_network=("households_off_network", "sum"),
    ).reset_index()
    for rule in rules:
        if rule.min_coverage_rate is not None:
            uncovered = groups[column("households_uncovered", rule.key)].sum().to_numpy()
            hh = out["households"].to_numpy(dtype=np.float64)
            out[column("coverage_rate", rule.key)] = np.round(
                np.divide(hh - uncovered, hh, out=np.full(len(hh), np.nan), where=hh > 0), 6
            )
        if rule.min_m2_per_100hh is not None:
            out[column("shortfall_m2", rule.key)] = np.round(
                groups[column("shortfall_m2", rule.key)].sum().to_numpy(), 3
            )
    out["compliant_communities"] = out["compliant_communities"].astype(np.int64)
    out["compliant_share"] = np.round(out["compliant_communities"] / out["communities"], 6)
    out["households"] = np.round(out["households"], 3)
    out["households_off_network"] = np.round(out["households_off_network"], 3)
    per_subdistrict = targets.compliant_per_subdistrict if "subdistrict" in by else None
    out["target_compliant"] = per_subdistrict
    out["target_share"] = targets.compliant_share
    if per_subdistrict is None and targets.compliant_share is None:
        out["meets_target"] = pd.array([pd.NA] * len(out), dtype="boolean")
    else:
        meets = np.ones(len(out), dtype=bool)
        if per_subdistrict is not None:
            meets &= out["compliant_communities"].to_numpy() >= per_subdistrict
        if targets.compliant_share is not None:
            meets &= out["compliant_share"].to_numpy() >= targets.compliant_share - _TOL
        out["meets_target"] = pd.array(meets, dtype="boolean")
    return out.drop(columns=["_all"], errors="ignore")


def rollups(
    table: gpd.GeoDataFrame, rules: Sequence[CommunityRule], targets: Targets
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


def records(frame: pd.DataFrame | None) -> list[dict[str, Any]] | None:
    if frame is None:
        return None
    return [
        jsonable(row) for row in frame.astype(object).where(frame.notna(), None).to_dict("records")
    ]


_BRIEF_PREFIXES = (
    "coverage_rate_",
    "households_uncovered_",
    "coverage_ok_",
    "floor_area_m2_",
    "m2_per_100hh_",
    "floor_area_ok_",
    "shortfall_m2_",
)
_BRIEF_KEYS = (
    "community_id",
    "name",
    "subdistrict",
    "district",
    "households",
    "households_off_network",
)


def brief_rows(section: dict[str, Any] | None) -> list[dict[str, Any]] | None:
    """Each community of a check summary's ``communities`` section: id, name, verdict, figures.

    The rows ``summary.json``'s ``baseline.communities`` and the proposal summary carry:
    ``community_id``, ``name``, ``subdistrict``, ``district``, ``households``, the per-rule
    numbers (coverage rate, households uncovered, floor area, m² per 100 households, shortfall
    and their verdicts), ``compliant``, ``verdict``, ``fails``; kept layer attributes are left
    to ``communities.csv``.
    """
    if not section or not isinstance(section.get("table"), list):
        return None
    out = []
    for row in section["table"]:
        keep = {
            k: v
            for k, v in row.items()
            if k in _BRIEF_KEYS or k.startswith(_BRIEF_PREFIXES) or k in _VERDICT_KEYS
        }
        out.append(keep)
    return out


_VERDICT_KEYS = ("compliant", "verdict", "fails")


def summary_sections(
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
            "table": records(table),
        },
        "subdistricts": records(levels.get("subdistrict")),
        "districts": records(levels.get("district")),
        "targets_met": (all(met) if met else None) if targets.any else None,
    }


__all__ = [
    "LEVELS",
    "VERDICTS",
    "CommunityRule",
    "assign_facilities",
    "brief_rows",
    "community_table",
    "records",
    "rollup",
    "rollups",
    "summary_sections",
]
