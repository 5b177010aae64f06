"""Communities on the map: polygons coloured by verdict, names, sub-district outlines, popups.

Each community's popup gives both standards (walk coverage against its target rate, floor area
per 100 households against the minimum), what it lacks (households beyond the walk, m² short)
and its verdict; names show at readable zooms; sub-districts (街道) are drawn as outlines with
their names. Reads the table of `planner.communities.community_table`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from planner.maps.encode import _esc, _feature_collection, _flags, _js, _numbers, _texts
from planner.maps.page import VERDICT_COLOURS, PlannerMap, _new_group
from planner.maps.texts import _rules_from_coverage
from planner.schema import column

_LABEL_ZOOM_COMMUNITY = 15  # names of communities from this zoom on (a community ~ 0.5-2 km)
_LABEL_ZOOM_SUBDISTRICT = 12


def _rule_specs(
    comm: gpd.GeoDataFrame, summary: Mapping[str, Any], lang: str
) -> list[dict[str, Any]]:
    """The required rules the table has columns for, with their targets, for the popups."""
    coverage = [c for c in summary.get("coverage") or [] if c.get("required")]
    labels = {r.key: r.label for r in _rules_from_coverage(coverage, None, lang)}
    fa = summary.get("floor_area") or {}
    targets = (summary.get("communities") or {}).get("targets") or {}
    keys = [c["key"] for c in coverage]
    if fa and fa.get("rule") and fa["rule"] not in keys:
        keys.append(fa["rule"])
    specs = []
    for entry in coverage:
        key = entry["key"]
        spec: dict[str, Any] = {"label": labels.get(key, key), "key": key}
        if column("coverage_rate", key) in comm.columns:
            rate = targets.get("min_coverage_rate") or entry.get("min_coverage_rate", 1.0)
            spec["rate"] = float(rate)
        if column("m2_per_100hh", key) in comm.columns:
            spec["m2"] = fa.get("required_m2_per_100hh")
            spec["floor"] = fa.get("min_floor_area_m2")
        specs.append(spec)
    for key in {str(k).removeprefix("m2_per_100hh_") for k in comm.columns} - set(keys):
        if column("m2_per_100hh", key) in comm.columns:
            specs.append(
                {
                    "label": labels.get(key, key),
                    "key": key,
                    "m2": fa.get("required_m2_per_100hh"),
                    "floor": fa.get("min_floor_area_m2"),
                }
            )
    return specs


def add_communities(
    m: PlannerMap,
    communities: gpd.GeoDataFrame,
    *,
    summary: Mapping[str, Any] | None = None,
    show: bool = True,
) -> Any:
    """Draw communities coloured by verdict, with names, popups and sub-district outlines.

    Parameters
    ----------
    m
        A map from `build_base_map`.
    communities
        The review's community table (`CheckResult.communities`).
    summary
        The review's summary, for the rules' labels and targets.
    show
        Whether the layer is on when the page opens.

    Returns
    -------
    folium.FeatureGroup
    """
    summary = summary or {}
    comm = communities.to_crs(4326)
    specs = _rule_specs(comm, summary, m.lang)
    geoms = m.display_geometries(comm.geometry.to_numpy(), simplify=True)
    valid = ~(shapely.is_empty(geoms) | shapely.is_missing(geoms))
    if valid.any() and show:
        b = shapely.total_bounds(geoms[valid])
        m.bounds.append((float(b[0]), float(b[1]), float(b[2]), float(b[3])))
    n = len(comm)
    ids = _texts(comm["community_id"])
    names = _texts(comm["name"]) if "name" in comm else [None] * n
    subs = _texts(comm["subdistrict"]) if "subdistrict" in comm else [None] * n
    hh = _numbers(comm["households"], 1)
    off = _numbers(comm["households_off_network"], 1)
    verdicts = _texts(comm["verdict"])
    per_rule = []
    for spec in specs:
        key = spec["key"]
        cols: dict[str, list[Any] | str] = {}
        if "rate" in spec:
            cols["cov"] = _numbers(comm[column("coverage_rate", key)], 4)
            cols["cok"] = _flags(comm[column("coverage_ok", key)])
            cols["un"] = _numbers(comm[column("households_uncovered", key)], 1)
        if "m2" in spec:
            cols["fa"] = _numbers(comm[column("floor_area_m2", key)], 1)
            cols["r"] = _numbers(comm[column("m2_per_100hh", key)], 1)
            cols["fok"] = _flags(comm[column("floor_area_ok", key)])
            cols["sh"] = _numbers(comm[column("shortfall_m2", key)], 1)
        per_rule.append(cols)
    props = []
    for i in range(n):
        rules = [{k: v[i] for k, v in cols.items()} for cols in per_rule]
        props.append(
            {
                "id": ids[i],
                "name": names[i],
                "sd": subs[i],
                "hh": hh[i],
                "off": off[i],
                "v": verdicts[i],
                "rules": rules,
            }
        )
    fc = _feature_collection(geoms[valid], [p for p, ok in zip(props, valid, strict=True) if ok])
    t = m.text
    group = _new_group(m, t["layer_community_verdict"], key="communities", show=show)
    labels = _label_points(comm, names, valid)
    meta = [{k: v for k, v in s.items() if k != "key"} for s in specs]
    m.add_script(
        group,
        f"PlannerMap.communities({m.get_name()}, {group.get_name()}, {_js(m.add_data(fc))}, "
        f"{_js(meta)}, {_js(VERDICT_COLOURS)}, {_js(labels)}, {_LABEL_ZOOM_COMMUNITY});",
    )
    if "subdistrict" in comm.columns:
        _add_subdistricts(m, comm, show=show)
    _verdict_legend(m)
    return group


def _label_points(
    comm: gpd.GeoDataFrame, names: Sequence[str | None], valid: np.ndarray
) -> list[list[Any]]:
    """[lat, lon, text] of each named community, at a point inside it."""
    points = shapely.point_on_surface(comm.geometry.to_numpy())
    return [
        [round(p.y, 6), round(p.x, 6), name]
        for p, name, ok in zip(points, names, valid, strict=True)
        if ok and name
    ]


def _add_subdistricts(m: PlannerMap, comm: gpd.GeoDataFrame, *, show: bool) -> None:
    """Outlines of the sub-districts (their communities' union) and their names."""
    names, outlines = [], []
    for name, part in comm.groupby(comm["subdistrict"].astype(object).fillna(""), sort=True):
        if not name:
            continue
        names.append(str(name))
        outlines.append(shapely.union_all(part.geometry.to_numpy()))
    if not outlines:
        return
    geoms = m.display_geometries(np.asarray(outlines, dtype=object), simplify=True)
    fc = _feature_collection(geoms, [{"name": n} for n in names])
    centres = shapely.point_on_surface(np.asarray(outlines, dtype=object))
    labels = [[round(p.y, 6), round(p.x, 6), n] for p, n in zip(centres, names, strict=True)]
    group = _new_group(m, m.text["layer_subdistricts"], key="subdistricts", show=show)
    m.add_script(
        group,
        f"PlannerMap.subdistricts({m.get_name()}, {group.get_name()}, {_js(m.add_data(fc))}, "
        f"{_js(labels)}, {_LABEL_ZOOM_SUBDISTRICT});",
    )


def _verdict_legend(m: PlannerMap) -> None:
    t = m.text
    rows = "".join(
        f'<div class="pm-row"><span class="pm-sq" style="background:{colour}"></span>'
        f"{_esc(t['v_' + verdict])}</div>"
        for verdict, colour in VERDICT_COLOURS.items()
    )
    m.legend["verdict"] = f"<h4>{_esc(t['legend_verdict'])}</h4>{rows}"


__all__ = ["add_communities"]
