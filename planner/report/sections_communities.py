"""The report's community sections: the communities, the roll-ups, the gaps."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import shapely

from planner.report import figures
from planner.report._cells import (
    _fa_label,
    _label,
    _num,
    _pct,
    _yes_no,
)
from planner.report.data import Review, as_bool, as_float, is_missing
from planner.report.doc import Cell, Document, Heading, PageBreak, Para, Table
from planner.report.text import words

GAP_GROUP_M = 200.0  # uncovered residences closer than this form one group
GAP_ROWS = 10


def _community_name(row: pd.Series) -> str:
    for col in ("name", "community_id", "id"):
        if col in row and not is_missing(row[col]):
            return str(row[col])
    return "—"


def _fails_text(row: pd.Series, review: Review, lang: str, t: dict[str, str]) -> str:
    verdict = figures.community_verdict(row, review)
    if verdict == "compliant":
        return ""
    if verdict == "no_households":
        return ""
    return _rule_names(row.get("fails"), review, lang) or t[f"v_{verdict}"]


def _rule_names(fails: Any, review: Review, lang: str) -> str:
    """``fails`` of the community table (rule keys, ';'-separated) as the rules' labels."""
    if is_missing(fails):
        return ""
    labels = {str(e.get("key")): _label(e, review, lang) for e in review.coverage}
    for fa in review.floor_area:  # the floor-area rules, by their own key
        if fa.get("rule"):
            labels.setdefault(str(fa["rule"]), _fa_label(fa, review, lang))
    none = "无住户（不评定）" if lang == "zh" else "no households (no verdict)"
    labels["no_households"] = none
    keys = [k.strip() for k in str(fails).split(";") if k.strip()]
    return ("、" if lang == "zh" else ", ").join(labels.get(k, k) for k in keys)


def _communities(doc: Document, review: Review, lang: str) -> None:
    comms = review.communities
    if comms is None or not len(comms):
        return
    t = words(lang)
    doc.add(PageBreak(), Heading(t["s_communities"], 1, "communities"))
    verdicts = [figures.community_verdict(row, review) for _, row in comms.iterrows()]
    k = sum(v == "compliant" for v in verdicts)
    hh = pd.to_numeric(comms.get("households"), errors="coerce")
    off = pd.to_numeric(comms.get("households_off_network"), errors="coerce")
    doc.add(
        Para(
            t["communities_lead"].format(
                n=len(comms),
                k=k,
                hh=_num(hh.sum() if hh is not None else None),
                off=_num(off.sum() if off is not None else 0),
            )
        )
    )
    has_sub = "subdistrict" in comms and comms["subdistrict"].notna().any()
    order = comms.assign(_v=verdicts)
    sort_cols = (["subdistrict"] if has_sub else []) + [
        "name" if "name" in comms else comms.columns[0]
    ]
    order = order.sort_values(sort_cols, kind="stable")
    rows = []
    for _, row in order.iterrows():
        verdict = row["_v"]
        cells = [Cell(_community_name(row))]
        if has_sub:
            cells.append(
                Cell("" if is_missing(row.get("subdistrict")) else str(row["subdistrict"]))
            )
        cells += [
            Cell(_num(row.get("households"))),
            Cell(_num(row.get("households_off_network"))),
            Cell(
                t[f"v_{verdict}"],
                "pass"
                if verdict == "compliant"
                else "muted"
                if verdict == "no_households"
                else "fail",
            ),
            Cell(_fails_text(row, review, lang, t)),
        ]
        rows.append(cells)
    header = (
        [t["community"]]
        + ([t["subdistrict"]] if has_sub else [])
        + [t["households"], t["off_network_hh"], t["verdict"], t["fails"]]
    )
    widths = ([0.2, 0.15] if has_sub else [0.3]) + [0.12, 0.11, 0.16, 0.26]
    widths[-1] += 1 - sum(widths)
    doc.add(
        Heading(t["t_communities"], 2),
        Table(header, rows, widths, ["l"] * (2 if has_sub else 1) + ["r", "r", "l", "l"]),
    )
    # Coverage per rule, in chunks of five rules so the columns stay readable.
    keys = [str(e.get("key")) for e in review.required if f"coverage_rate_{e.get('key')}" in comms]
    labels = {str(e.get("key")): _label(e, review, lang) for e in review.required}
    for start in range(0, len(keys), 5):
        chunk = keys[start : start + 5]
        crow = []
        for _, row in order.iterrows():
            cells = [Cell(_community_name(row))]
            for key in chunk:
                ok = as_bool(row.get(f"coverage_ok_{key}"))
                cells.append(
                    Cell(
                        _pct(row.get(f"coverage_rate_{key}")),
                        None if ok is None else "pass" if ok else "fail",
                    )
                )
            crow.append(cells)
        w = (1 - 0.3) / len(chunk)
        doc.add(
            Heading(
                t["t_community_coverage"].format(
                    rules="、".join(labels[k] for k in chunk)
                    if lang == "zh"
                    else ", ".join(labels[k] for k in chunk)
                ),
                2,
            ),
            Table(
                [t["community"]] + [labels[k] for k in chunk],
                crow,
                [0.3] + [w] * len(chunk),
                ["l"] + ["r"] * len(chunk),
            ),
        )
    for fa in review.floor_area:
        key = str(fa.get("key", fa.get("category")))
        if f"m2_per_100hh_{key}" not in comms:
            continue
        frow = []
        for _, row in order.iterrows():
            ok = as_bool(row.get(f"floor_area_ok_{key}"))
            needed = _needed_m2(row, key, fa)
            frow.append(
                [
                    Cell(_community_name(row)),
                    Cell(_num(row.get("households"))),
                    Cell(_num(row.get(f"floor_area_m2_{key}"))),
                    Cell(_num(row.get(f"m2_per_100hh_{key}"), 1)),
                    Cell(_num(needed)),
                    Cell(_num(_shortfall(row, key, fa))),
                    Cell(
                        "—" if ok is None else t["pass"] if ok else t["fail"],
                        None if ok is None else "pass" if ok else "fail",
                    ),
                ]
            )
        doc.add(
            Heading(t["t_community_floor"].format(label=_fa_label(fa, review, lang)), 2),
            Table(
                [
                    t["community"],
                    t["households"],
                    t["supply"] + " m²",
                    t["ratio"],
                    t["needed"] + " m²",
                    t["shortfall"] + " m²",
                    t["verdict"],
                ],
                frow,
                [0.26, 0.12, 0.13, 0.13, 0.13, 0.13, 0.1],
                ["l", "r", "r", "r", "r", "r", "c"],
            ),
        )
    _rollups(doc, review, lang)


def _rollup_table(frame: pd.DataFrame, first: str, t: dict[str, str]) -> Table:
    cols = [(first, t["subdistrict"] if first == "subdistrict" else t["district_col"], "l")]
    if first == "subdistrict" and "district" in frame:
        cols.append(("district", t["district_col"], "l"))
    cols += [
        (c, t[w], a)
        for c, w, a in (
            ("communities", "communities_n", "r"),
            ("compliant_communities", "compliant_n", "r"),
            ("households", "households", "r"),
            ("target", "target", "r"),
            ("meets_target", "meets_target", "c"),
        )
        if c in frame
    ]
    rows = []
    for _, row in frame.iterrows():
        cells = []
        for col, _, _ in cols:
            value = row.get(col)
            if col == "meets_target":
                cells.append(_yes_no(value, t))
            elif col in ("communities", "compliant_communities", "households"):
                cells.append(Cell(_num(value)))
            else:
                cells.append(
                    Cell(
                        "—"
                        if is_missing(value)
                        else (_num(value) if isinstance(value, int | float) else str(value))
                    )
                )
        rows.append(cells)
    n = len(cols)
    return Table([c[1] for c in cols], rows, [1 / n] * n, [c[2] for c in cols])


def _rollups(doc: Document, review: Review, lang: str) -> None:
    t = words(lang)
    if (
        review.subdistricts is not None
        and len(review.subdistricts)
        and "subdistrict" in review.subdistricts
    ):
        doc.add(
            Heading(t["t_subdistricts"], 2), _rollup_table(review.subdistricts, "subdistrict", t)
        )
    if review.districts is not None and len(review.districts) and "district" in review.districts:
        doc.add(Heading(t["t_districts"], 2), _rollup_table(review.districts, "district", t))


def _needed_m2(row: pd.Series, key: str, fa: dict[str, Any]) -> float | None:
    hh = as_float(row.get("households"))
    if hh is None:
        return None
    ratio = as_float(fa.get("required_m2_per_100hh")) or 30.0
    need = ratio * hh / 100
    floor = as_float(fa.get("min_floor_area_m2"))
    return max(need, floor) if floor is not None and hh > 0 else need


def _shortfall(row: pd.Series, key: str, fa: dict[str, Any]) -> float | None:
    need = _needed_m2(row, key, fa)
    have = as_float(row.get(f"floor_area_m2_{key}"))
    if need is None:
        return None
    return max(0.0, need - (have or 0.0))


def _gap_groups(review: Review, key: str) -> pd.DataFrame | None:
    """Uncovered residences of a rule grouped by community, or by proximity."""
    res = review.residences
    col = f"covered_{key}"
    if res is None or col not in res:
        return None
    covered = res[col].map(as_bool)
    on_net = res["on_network"].map(as_bool).fillna(True) if "on_network" in res else True
    gap = res[(covered == False) & (on_net == True)].copy()  # noqa: E712 - flags
    if not len(gap):
        return gap.assign(households=[])
    gap["households"] = pd.to_numeric(gap["households"], errors="coerce").fillna(0.0)
    walk = pd.to_numeric(gap.get(f"walk_m_{key}"), errors="coerce")
    entry = next((e for e in review.coverage if str(e.get("key")) == key), {})
    limit = as_float(entry.get("max_walk_m")) or 0.0
    gap["_short"] = walk - limit
    crs = figures._review_crs(review)
    xy = shapely.get_coordinates(gap.to_crs(crs).geometry.representative_point().to_numpy())
    gap["_g"] = _near_groups(xy, GAP_GROUP_M)
    ll = shapely.get_coordinates(gap.geometry.representative_point().to_numpy())
    gap["_lon"], gap["_lat"] = ll[:, 0], ll[:, 1]
    # Most households first (ties in row order): a group's first row is its largest residence.
    gap = gap.sort_values("households", ascending=False, kind="stable")
    by = gap.groupby("_g", sort=True)
    top = by[["_lon", "_lat"]].first()
    out = pd.DataFrame(
        {
            "households": by["households"].sum().astype(float),
            "residences": by.size(),
            "name": None,
            "lon": top["_lon"].astype(float),
            "lat": top["_lat"].astype(float),
            "short": by["_short"].max(),
            "unreachable": by["_short"].count() < by.size(),
        }
    )
    if "name" in gap:
        named = gap[gap["name"].notna()]
        out["name"] = named.groupby("_g", sort=True)["name"].first().astype(str)
        out["name"] = out["name"].astype(object).where(out["name"].notna(), None)
    return out.reset_index(drop=True).sort_values("households", ascending=False, kind="stable")


def _near_groups(xy: np.ndarray, within_m: float) -> np.ndarray:
    """Group labels of points chained by steps of at most ``within_m`` (single linkage).

    The same partition as ``fcluster(linkage(xy, "single"), within_m, "distance")`` from the
    pairs within reach (a k-d tree) and their connected components, without the n² distance
    matrix that a city's gaps would need; labels follow the points' first appearance.
    """
    from scipy.sparse import coo_array
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree

    n = xy.shape[0]
    pairs = cKDTree(xy).query_pairs(within_m, output_type="ndarray")
    graph = coo_array(
        (np.ones(pairs.shape[0], dtype=np.int8), (pairs[:, 0], pairs[:, 1])), shape=(n, n)
    )
    labels: np.ndarray = connected_components(graph, directed=False)[1]
    return labels


def _gaps(doc: Document, review: Review, lang: str) -> None:
    t = words(lang)
    blocks: list[Any] = []
    comms = review.communities
    for entry in review.required:
        key = str(entry.get("key"))
        label = _label(entry, review, lang)
        uncovered = (as_float(entry.get("households_total")) or 0) - (
            as_float(entry.get("households_covered")) or 0
        )
        if uncovered <= 1e-9:
            blocks.append(Para(t["gaps_none"].format(label=label)))
            continue
        blocks.append(
            Para(
                t["gaps_lead"].format(
                    label=label,
                    hh=_num(uncovered),
                    m=_num(entry.get("max_walk_m")),
                    n=_num(entry.get("residences_uncovered")),
                )
            )
        )
        if comms is not None and f"coverage_rate_{key}" in comms and "households" in comms:
            hh = pd.to_numeric(comms["households"], errors="coerce").fillna(0)
            rate = pd.to_numeric(comms[f"coverage_rate_{key}"], errors="coerce").fillna(0)
            beyond = (hh * (1 - rate)).round(1)
            top = comms.assign(_b=beyond).sort_values("_b", ascending=False, kind="stable")
            top = top[top["_b"] > 0].head(GAP_ROWS)
            rows = [
                [
                    Cell(_community_name(r)),
                    Cell("" if is_missing(r.get("subdistrict")) else str(r.get("subdistrict"))),
                    Cell(_num(r["_b"])),
                    Cell(_pct(r.get(f"coverage_rate_{key}"))),
                ]
                for _, r in top.iterrows()
            ]
            if rows:
                blocks.append(
                    Table(
                        [t["community"], t["subdistrict"], t["households"], t["coverage"]],
                        rows,
                        [0.34, 0.26, 0.2, 0.2],
                        ["l", "l", "r", "r"],
                    )
                )
                blocks.append(Para(t["gap_community_note"], "note"))
        groups = _gap_groups(review, key)
        if groups is not None and len(groups):
            rows = []
            for _, g in groups.head(GAP_ROWS).iterrows():
                where = t["gap_at"].format(lat=f"{g['lat']:.5f}", lon=f"{g['lon']:.5f}")
                if not is_missing(g["name"]):
                    where = (
                        t["gap_near"].format(name=g["name"])
                        + ("，" if lang == "zh" else ", ")
                        + where
                    )
                over = (
                    t["gap_unreachable"]
                    if g["unreachable"]
                    else (f"{_num(g['short'])} " + ("米" if lang == "zh" else "m"))
                )
                rows.append(
                    [
                        Cell(where),
                        Cell(_num(g["households"])),
                        Cell(_num(g["residences"])),
                        Cell(over),
                    ]
                )
            blocks.append(
                Table(
                    [t["gap_where"], t["households"], t["gap_residences"], t["gap_short"]],
                    rows,
                    [0.52, 0.16, 0.14, 0.18],
                    ["l", "r", "r", "r"],
                )
            )
            blocks.append(Para(t["gap_cluster_note"].format(d=_num(GAP_GROUP_M)), "note"))
    for fa in review.floor_area:
        label = _fa_label(fa, review, lang)
        key = str(fa.get("key", fa.get("category")))
        if comms is not None and f"floor_area_m2_{key}" in comms:
            short: list[tuple[pd.Series, float]] = []
            for _, r in comms.iterrows():
                missing = _shortfall(r, key, fa)
                if missing is not None and missing > 1e-6:
                    short.append((r, missing))
            short.sort(key=lambda p: -p[1])
            blocks.append(Heading(t["floor_gaps"], 2))
            if not short:
                blocks.append(Para(t["floor_gaps_none"].format(label=label)))
                continue
            blocks.append(
                Para(
                    t["floor_gaps_lead"].format(
                        label=label, k=len(short), gap=_num(sum(m for _, m in short))
                    )
                )
            )
            rows = [
                [
                    Cell(_community_name(r)),
                    Cell(_num(r.get("households"))),
                    Cell(_num(r.get(f"floor_area_m2_{key}"))),
                    Cell(_num(_needed_m2(r, key, fa))),
                    Cell(_num(m), "fail"),
                ]
                for r, m in short
            ]
            blocks.append(
                Table(
                    [
                        t["community"],
                        t["households"],
                        t["supply"] + " m²",
                        t["needed"] + " m²",
                        t["shortfall"] + " m²",
                    ],
                    rows,
                    [0.32, 0.17, 0.17, 0.17, 0.17],
                    ["l", "r", "r", "r", "r"],
                )
            )
        else:
            alloc = fa.get("allocation") or fa.get("per") or ""
            blocks.append(
                Para(
                    t["floor_overall"].format(
                        label=label,
                        supply=_num(fa.get("supply_m2")),
                        ratio=_num(fa.get("m2_per_100hh"), 1),
                        req=_num(fa.get("required_m2_per_100hh")),
                        gap=_num(fa.get("shortfall_m2")),
                        alloc=t.get(f"per_{alloc}", str(alloc)),
                        below=_num(fa.get("households_below")),
                    )
                )
            )
    if blocks:
        doc.add(PageBreak(), Heading(t["s_gaps"], 1, "gaps"), *blocks)
