"""From a review folder to the report's blocks (`planner.report.doc`), in one language."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely

from planner._version import __version__
from planner.maps import category_label
from planner.report import figures
from planner.report.data import Review, as_bool, as_float, is_missing
from planner.report.doc import Cell, Cover, Document, Figure, Heading, PageBreak, Para, Table
from planner.report.text import words

GAP_GROUP_M = 200.0  # uncovered residences closer than this form one group
GAP_ROWS = 10


# -- formatting --------------------------------------------------------------------------------
def _num(value: Any, digits: int = 0) -> str:
    number = as_float(value)
    if number is None:
        return "—"
    return f"{number:,.{digits}f}"


def _pct(rate: Any) -> str:
    number = as_float(rate)
    return "—" if number is None else f"{100 * number:.1f} %"


def _verdict(passes: Any, t: dict[str, str]) -> Cell:
    flag = as_bool(passes)
    if flag is None:
        return Cell(t["measured"], "muted")
    return Cell(t["pass"], "pass") if flag else Cell(t["fail"], "fail")


def _yes_no(value: Any, t: dict[str, str]) -> Cell:
    flag = as_bool(value)
    if flag is None:
        return Cell("—", "muted")
    return Cell(t["yes"], "pass") if flag else Cell(t["no"], "fail")


def _label(entry: dict[str, Any], review: Review, lang: str) -> str:
    category = str(entry.get("category", entry.get("key")))
    label = entry.get(f"label_{lang}") or category_label(category, lang=lang)
    tier = entry.get("tier")
    same = [e for e in review.coverage if e.get("category", e.get("key")) == category]
    if tier and len(same) > 1:
        label = f"{label} ({tier})"
    return str(label)


def _fa_label(fa: dict[str, Any], review: Review, lang: str) -> str:
    key = str(fa.get("key", fa.get("category")))
    for entry in review.coverage:
        if str(entry.get("key")) == key or str(entry.get("category")) == key:
            return _label(entry, review, lang)
    return category_label(str(fa.get("category", key)), lang=lang)


def _labels(review: Review, lang: str) -> dict[str, str]:
    out = {}
    for cat in figures.category_order(review):
        out[cat] = category_label(cat, lang=lang)
    for entry in review.coverage:
        out.setdefault(str(entry.get("category")), _label(entry, review, lang))
    return out


def _per_text(per: Any, t: dict[str, str]) -> str:
    if is_missing(per):
        return ""
    return t.get(f"per_{per}", str(per))


def _verified_text(value: Any, t: dict[str, str]) -> tuple[str, str | None]:
    flag = as_bool(value)
    if flag is None:
        return t["verified_unknown"], "muted"
    return (t["verified_yes"], "pass") if flag else (t["verified_no"], "warn")


# -- the sections ------------------------------------------------------------------------------
def default_district(review: Review) -> str:
    """The area a review covers, from its data: its districts, else the folder's name."""
    for frame in (review.districts, review.communities):
        if frame is not None and "district" in frame:
            names = [str(v) for v in frame["district"].dropna().unique() if str(v).strip()]
            if names:
                return "、".join(names[:4]) + ("…" if len(names) > 4 else "")
    return review.folder.resolve().name


def _cover(
    doc: Document,
    review: Review,
    lang: str,
    *,
    title: str,
    district: str,
    organisation: str | None,
    date: str,
) -> None:
    t = words(lang)
    s = review.summary
    std = s.get("standard") or {}
    passes = bool(s.get("passes"))
    details = [(t["district"], district)]
    if organisation:
        details.append((t["organisation"], organisation))
    details.append((t["date"], date))
    subtitle = str(std.get(f"title_{lang}") or std.get("name") or "")
    details.append((t["standard"], str(std.get("name", "—"))))
    points: list[Cell] = []
    comms = review.communities
    if comms is not None and "compliant" in comms:
        k = int(comms["compliant"].map(as_bool).fillna(False).astype(bool).sum())
        points.append(
            Cell(
                t["cover_communities"].format(n=len(comms), k=k),
                "pass" if k == len(comms) else "fail",
            )
        )
    for entry in review.required:
        points.append(
            Cell(
                t["cover_rule"].format(
                    label=_label(entry, review, lang),
                    rate=_pct(entry.get("rate")),
                    m=_num(entry.get("max_walk_m")),
                    min=_num(entry.get("max_walk_min")),
                    verdict=_verdict(entry.get("passes"), t).text,
                ),
                _verdict(entry.get("passes"), t).tone,
            )
        )
    for fa in review.floor_area:
        points.append(
            Cell(
                t["cover_fa"].format(
                    label=_fa_label(fa, review, lang),
                    ratio=_num(fa.get("m2_per_100hh"), 1),
                    req=_num(fa.get("required_m2_per_100hh"), 0),
                    gap=_num(fa.get("shortfall_m2")),
                    verdict=_verdict(fa.get("passes"), t).text,
                ),
                _verdict(fa.get("passes"), t).tone,
            )
        )
    hh = s.get("households") or {}
    if hh:
        how = t["hh_estimated"] if hh.get("estimated") else t["hh_given"]
        points.append(
            Cell(t["cover_households"].format(hh=_num(hh.get("total")), how=how), "muted")
        )
    doc.add(
        Cover(
            title=title,
            subtitle=subtitle,
            details=details,
            verdict=f"{t['overall']}：{t['pass'] if passes else t['fail']}"
            if lang == "zh"
            else f"{t['overall']}: {t['pass'] if passes else t['fail']}",
            passes=passes,
            points=points,
        ),
        PageBreak(),
    )


def _rules(doc: Document, review: Review, lang: str) -> None:
    t = words(lang)
    doc.add(Heading(t["s_rules"], 1, "rules"))
    if review.required:
        rows = []
        for entry in review.required:
            per = _per_text(entry.get("per"), t)
            rows.append(
                [
                    Cell(
                        _label(entry, review, lang)
                        + (f"（{per}）" if per and lang == "zh" else f" ({per})" if per else "")
                    ),
                    Cell(
                        t["walk_value"].format(
                            m=_num(entry.get("max_walk_m")), min=_num(entry.get("max_walk_min"))
                        )
                    ),
                    Cell(t["speed_value"].format(v=_num(entry.get("speed_kmh"), 1))),
                    Cell(_num(entry.get("facilities"))),
                    Cell(
                        f"{_num(entry.get('households_covered'))} / "
                        f"{_num(entry.get('households_total'))}"
                    ),
                    Cell(_pct(entry.get("rate"))),
                    _verdict(entry.get("passes"), t),
                ]
            )
        doc.add(
            Heading(t["coverage_rules"], 2),
            Table(
                [
                    t["rule"],
                    t["walk"],
                    t["speed"],
                    t["facilities"],
                    t["covered_hh"],
                    t["coverage"],
                    t["verdict"],
                ],
                rows,
                [0.25, 0.15, 0.12, 0.08, 0.17, 0.11, 0.12],
                ["l", "r", "r", "r", "r", "r", "c"],
            ),
        )
    if review.floor_area:
        rows = []
        for fa in review.floor_area:
            per = str(fa.get("per") or fa.get("allocation") or "")
            rows.append(
                [
                    Cell(_fa_label(fa, review, lang)),
                    Cell(_per_text(per, t) or t.get(f"per_{per}", str(per or "—"))),
                    Cell(_num(fa.get("required_m2_per_100hh"), 0)),
                    Cell(_num(fa.get("min_floor_area_m2"))),
                    Cell(_num(fa.get("supply_m2"))),
                    Cell(_num(fa.get("m2_per_100hh"), 1)),
                    Cell(_num(fa.get("shortfall_m2"))),
                    _verdict(fa.get("passes"), t),
                ]
            )
        doc.add(
            Heading(t["floor_area_rules"], 2),
            Table(
                [
                    t["rule"],
                    t["allocation"],
                    t["required_ratio"],
                    t["min_area"],
                    t["supply"] + " m²",
                    t["ratio"],
                    t["shortfall"] + " m²",
                    t["verdict"],
                ],
                rows,
                [0.2, 0.14, 0.12, 0.11, 0.11, 0.11, 0.11, 0.1],
                ["l", "l", "r", "r", "r", "r", "r", "c"],
            ),
        )
    # Sources: one entry per distinct (source, clause) of the rules the verdict depends on.
    cited: list[tuple[str, dict[str, Any]]] = []
    for entry in review.required:
        cited.append((_label(entry, review, lang), entry))
    for fa in review.floor_area:
        cited.append((_fa_label(fa, review, lang) + " · " + t["floor_area_rules"], fa))
    if any(e.get("source") or e.get("clause") for _, e in cited):
        doc.add(Heading(t["sources"], 2))
        seen: set[tuple[str, str]] = set()
        for label, entry in cited:
            source, clause = str(entry.get("source") or ""), str(entry.get("clause") or "")
            verified, tone = _verified_text(entry.get("verified"), t)
            if (source, clause) in seen and "verified" not in entry:
                continue
            seen.add((source, clause))
            sep = "：" if lang == "zh" else ": "
            doc.add(Para(f"{label} — {verified}", "body", tone))
            if source:
                doc.add(Para(f"{t['source']}{sep}{source}", "small"))
            if clause:
                doc.add(Para(f"{t['clause']}{sep}{clause}", "small"))
    if review.measured:
        rows = [
            [
                Cell(_label(e, review, lang)),
                Cell(_num(e.get("max_walk_m"))),
                Cell(_num(e.get("facilities"))),
                Cell(_pct(e.get("rate"))),
            ]
            for e in review.measured
        ]
        doc.add(
            Heading(t["measured_rules"], 2),
            Table(
                [
                    t["category"],
                    t["walk"].split("/")[0] + (" (米)" if lang == "zh" else " (m)"),
                    t["facilities"],
                    t["coverage"],
                ],
                rows,
                [0.4, 0.2, 0.2, 0.2],
                ["l", "r", "r", "r"],
                small=True,
            ),
        )


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
    pts = gap.to_crs(crs).geometry.representative_point()
    xy = shapely.get_coordinates(pts.to_numpy())
    if len(gap) == 1:
        labels = np.array([1])
    else:
        from scipy.cluster.hierarchy import fcluster, linkage

        labels = fcluster(linkage(xy, method="single"), t=GAP_GROUP_M, criterion="distance")
    gap["_g"] = labels
    ll = shapely.get_coordinates(gap.geometry.representative_point().to_numpy())
    gap["_lon"], gap["_lat"] = ll[:, 0], ll[:, 1]
    rows = []
    for _, sub in gap.groupby("_g"):
        top = sub.sort_values("households", ascending=False, kind="stable").iloc[0]
        named = (
            sub[sub.get("name", pd.Series(index=sub.index, dtype=object)).notna()]
            if "name" in sub
            else sub.iloc[0:0]
        )
        name = (
            str(named.sort_values("households", ascending=False, kind="stable").iloc[0]["name"])
            if len(named)
            else None
        )
        short = sub["_short"]
        rows.append(
            {
                "households": float(sub["households"].sum()),
                "residences": len(sub),
                "name": name,
                "lon": float(top["_lon"]),
                "lat": float(top["_lat"]),
                "short": float(short.max()) if short.notna().any() else None,
                "unreachable": bool(short.isna().any()),
            }
        )
    return pd.DataFrame(rows).sort_values("households", ascending=False, kind="stable")


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


def _figures(doc: Document, review: Review, lang: str) -> None:
    t = words(lang)
    labels = _labels(review, lang)
    fig_words = {
        k: t[k]
        for k in (
            "community_outline",
            "res_covered",
            "res_uncovered",
            "res_off_network",
            "proposed",
        )
    }
    fig_words.update({f"v_{v}": t[f"v_{v}"] for v in figures.VERDICTS})
    blocks: list[Any] = []
    drawn = figures.overview_figure(review, lang, labels, fig_words)
    if drawn is not None:
        what = (
            t["fig_overview_comm"] if review.community_shapes is not None else t["fig_overview_res"]
        )
        blocks.append(
            Figure(drawn[0], t["fig_overview"].format(what=what), figures.FIG_W_MM, drawn[1])
        )
    n = 2
    for entry in review.required:
        drawn = figures.coverage_figure(review, entry, lang, labels, fig_words)
        if drawn is None:
            continue
        blocks.append(
            Figure(
                drawn[0],
                t["fig_coverage"].format(
                    n=n,
                    label=_label(entry, review, lang),
                    m=_num(entry.get("max_walk_m")),
                    min=_num(entry.get("max_walk_min")),
                ),
                figures.FIG_W_MM,
                drawn[1],
            )
        )
        n += 1
    if blocks:
        doc.add(PageBreak(), Heading(t["s_figures"], 1, "figures"), Para(t["fig_note"], "note"))
        doc.add(*blocks)


def _proposals(doc: Document, review: Review, lang: str) -> None:
    prop = review.proposal
    if prop is None:
        return
    t = words(lang)
    doc.add(PageBreak(), Heading(t["s_proposals"], 1, "proposals"))
    hh = prop.get("households") or {}
    fa = prop.get("floor_area") or {}
    solver = prop.get("solver") or {}
    gap = as_float(solver.get("gap"))
    doc.add(
        Para(
            t["prop_lead"].format(
                model=prop.get("model", "—"),
                n=_num(prop.get("sites_proposed")),
                cat=category_label(str(prop.get("category", "")), lang=lang),
                m2=_num(fa.get("proposed_m2")),
                new=_num(hh.get("newly_covered")),
                unc=_num(hh.get("uncoverable")),
                solver=solver.get("method", "—"),
                status=solver.get("status", "—"),
                gap="—" if gap is None else f"{100 * gap:.2f} %",
            )
        )
    )
    ver = prop.get("verification") or {}
    if ver:
        doc.add(
            Para(
                t["prop_verified"].format(v=t["yes"] if ver.get("verified") else t["no"]),
                "body",
                "pass" if ver.get("verified") else "fail",
            )
        )
    sites = review.proposals
    if sites is not None and len(sites):
        rows = []
        ll = shapely.get_coordinates(sites.geometry.representative_point().to_numpy())
        for i, (_, row) in enumerate(sites.iterrows()):
            rows.append(
                [
                    Cell(str(row.get("id", ""))),
                    Cell(str(row.get("candidate_id", "") or "")),
                    Cell(_num(row.get("floor_area_m2"))),
                    Cell(_num(row.get("households_newly_covered"))),
                    Cell(_num(row.get("households_in_catchment"))),
                    Cell(_num(row.get("m2_per_100hh"), 1)),
                    Cell(f"{ll[i, 0]:.5f}, {ll[i, 1]:.5f}"),
                ]
            )
        doc.add(
            Heading(t["prop_sites"], 2),
            Table(
                [
                    t["site"],
                    t["candidate"],
                    t["floor_area_m2"],
                    t["new_hh"],
                    t["catchment_hh"],
                    t["ratio"],
                    t["lonlat"],
                ],
                rows,
                [0.09, 0.12, 0.13, 0.14, 0.14, 0.13, 0.25],
                ["l", "l", "r", "r", "r", "r", "r"],
            ),
        )
    exp = review.expansions
    if exp is not None and len(exp):
        rows = [
            [
                Cell(str(r.get("id", ""))),
                Cell(_num(r.get("floor_area_m2"))),
                Cell(_num(r.get("households_in_catchment"))),
                Cell(_num(r.get("extra_floor_area_m2"))),
            ]
            for _, r in exp.iterrows()
        ]
        doc.add(
            Heading(t["prop_expansions"], 2),
            Table(
                [t["site"], t["floor_area_m2"], t["catchment_hh"], t["extra_m2"]],
                rows,
                [0.25] * 4,
                ["l", "r", "r", "r"],
            ),
        )
    comp = review.summary.get("comparison") or prop.get("comparison") or {}
    labels = {str(e.get("key")): _label(e, review, lang) for e in review.coverage}
    required = {str(e.get("key")) for e in review.required}
    rows = []
    for c in comp.get("coverage") or ():
        if str(c.get("key")) not in required:
            continue
        rows.append(
            [
                Cell(labels.get(str(c.get("key")), str(c.get("key")))),
                Cell(_pct(c.get("rate_before"))),
                _verdict(c.get("passes_before"), t),
                Cell(_pct(c.get("rate_after"))),
                _verdict(c.get("passes_after"), t),
            ]
        )
    cfa = comp.get("floor_area")
    for f in [cfa] if isinstance(cfa, dict) else (cfa or []):
        unit = " m²/百户" if lang == "zh" else " m²/100 hh"
        rows.append(
            [
                Cell(t["floor_area_rules"]),
                Cell(_num(f.get("m2_per_100hh_before"), 1) + unit),
                _verdict(f.get("passes_before"), t),
                Cell(_num(f.get("m2_per_100hh_after"), 1) + unit),
                _verdict(f.get("passes_after"), t),
            ]
        )
    if rows:
        doc.add(
            Heading(t["before_after"], 2),
            Table(
                [t["rule"], t["before"], t["verdict"], t["after"], t["verdict"]],
                rows,
                [0.32, 0.2, 0.14, 0.2, 0.14],
                ["l", "r", "c", "r", "c"],
            ),
        )
    # Communities before and after: #15's proposals carry the baseline's communities.
    base = (review.summary.get("baseline") or {}).get("communities")
    comms = review.communities
    if isinstance(base, list) and base and comms is not None:
        before = pd.DataFrame(base)
        if "community_id" in before and "community_id" in comms:
            merged = comms.merge(before, on="community_id", how="left", suffixes=("", "_before"))
            rows = []
            for _, r in merged.iterrows():
                rows.append(
                    [
                        Cell(_community_name(r)),
                        _yes_no(r.get("compliant_before"), t),
                        _yes_no(r.get("compliant"), t),
                        Cell(_rule_names(r.get("fails_before"), review, lang)),
                    ]
                )
            doc.add(
                Heading(t["prop_communities"], 2),
                Table(
                    [t["community"], t["before"], t["after"], t["fails"] + f" ({t['before']})"],
                    rows,
                    [0.34, 0.15, 0.15, 0.36],
                    ["l", "c", "c", "l"],
                ),
            )


def _flatten(prefix: str, value: Any) -> Iterable[tuple[str, str]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _flatten(f"{prefix}.{k}" if prefix else str(k), v)
    elif isinstance(value, list | tuple):
        yield prefix, ", ".join(str(v) for v in value)
    else:
        yield prefix, "—" if value is None else str(value)


def _method(doc: Document, review: Review, lang: str, date: str) -> None:
    t = words(lang)
    s = review.summary
    doc.add(PageBreak(), Heading(t["s_method"], 1, "method"))
    doc.add(Heading(t["m_how"], 2), Para(t["m_how_text"]))
    net = s.get("network") or {}
    if net:
        pairs = [
            (t["file"], Path(str(net.get("source", "—"))).name),
            (t["sha256"], str(net.get("sha256", "—"))),
            (t["osm_timestamp"], str(net.get("osm_timestamp") or "—")),
            (t["crs"], str(net.get("crs", "—"))),
            (t["nodes"], _num(net.get("nodes"))),
            (t["edges"], _num(net.get("edges"))),
            (t["km"], _num(net.get("km"), 2)),
            (t["walkable_ways"], _num(net.get("walkable_ways"))),
            (
                t["dropped"],
                t["dropped_value"].format(
                    c=_num(net.get("components_dropped")),
                    n=_num(net.get("nodes_dropped")),
                    km=_num(net.get("km_dropped"), 2),
                ),
            ),
            (t["ways_cut"], _num(net.get("ways_cut"))),
            (t["missing_refs"], _num(net.get("missing_node_refs"))),
        ]
        doc.add(
            Heading(t["m_network"], 2),
            Table(
                [t["parameter"], t["value"]],
                [[Cell(a), Cell(b)] for a, b in pairs],
                [0.3, 0.7],
                small=True,
            ),
        )
    inputs = s.get("inputs") or {}
    if inputs:
        rows = [
            [
                Cell(str(kind)),
                Cell(Path(str(v.get("path", ""))).name),
                Cell(str(v.get("sha256", "—"))),
            ]
            for kind, v in inputs.items()
            if isinstance(v, dict)
        ]
        doc.add(
            Heading(t["m_inputs"], 2),
            Table(["", t["file"], t["sha256"]], rows, [0.12, 0.32, 0.56], small=True),
        )
    params = s.get("parameters") or {}
    if params:
        rows = []
        for key, value in params.items():
            if key == "thresholds" and isinstance(value, dict):
                text = ", ".join(f"{k} {_num(v)}" for k, v in value.items())
                rows.append([Cell(t["thresholds"]), Cell(text)])
            else:
                for name, text in _flatten(str(key), value):
                    rows.append([Cell(name), Cell(text)])
        std = s.get("standard") or {}
        rows.insert(0, [Cell("standard"), Cell(str(std.get("name", "—")))])
        doc.add(
            Heading(t["m_parameters"], 2),
            Table([t["parameter"], t["value"]], rows, [0.3, 0.7], small=True),
        )
    hh = s.get("households") or {}
    doc.add(Heading(t["m_estimates"], 2))
    if hh:
        key = "estimates_households" if hh.get("estimated") else "estimates_given"
        doc.add(
            Para(
                t[key].format(method=hh.get("method", "—")),
                "body",
                "warn" if hh.get("estimated") else None,
            )
        )
    off = s.get("off_network") or {}
    doc.add(
        Para(
            t["off_network_line"].format(
                r=len(off.get("residences") or ()), f=len(off.get("facilities") or ())
            )
        )
    )
    doc.add(
        Heading(t["m_version"], 2),
        Para(t["version_line"].format(v=s.get("planner_version", "—"), r=__version__, date=date)),
        Para(t["reproduce"]),
    )


def build_document(
    review: Review,
    *,
    lang: str = "zh",
    title: str | None = None,
    district: str | None = None,
    organisation: str | None = None,
    date: str | None = None,
) -> Document:
    """The report's blocks for ``review`` in ``lang``; every section only when its data exists."""
    t = words(lang)
    title = title or t["title"]
    district = district or default_district(review)
    date = date or dt.date.today().isoformat()
    footer = f"{title} · {district}" if district else title
    doc = Document(lang=lang, title=title, footer=footer)
    _cover(doc, review, lang, title=title, district=district, organisation=organisation, date=date)
    _rules(doc, review, lang)
    _communities(doc, review, lang)
    _gaps(doc, review, lang)
    _figures(doc, review, lang)
    _proposals(doc, review, lang)
    _method(doc, review, lang, date)
    _number_sections(doc)
    return doc


_ZH_NUMERALS = "一二三四五六七八九十"


def _number_sections(doc: Document) -> None:
    """Number the sections that are there: 一、二、... or 1, 2, ..."""
    n = 0
    for i, block in enumerate(doc.blocks):
        if isinstance(block, Heading) and block.level == 1:
            n += 1
            mark = f"{_ZH_NUMERALS[n - 1]}、" if doc.lang == "zh" else f"{n}. "
            doc.blocks[i] = Heading(mark + block.text, 1, block.anchor)


__all__ = ["build_document", "default_district"]
