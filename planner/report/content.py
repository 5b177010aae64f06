"""From a review folder to the report's blocks (`planner.report.doc`), in one language."""

from __future__ import annotations

import datetime as dt
from typing import Any

from planner.report._cells import (
    _fa_label,
    _label,
    _num,
    _pct,
    _per_text,
    _verdict,
    _verified_text,
    default_district,
)
from planner.report.data import Review, as_bool
from planner.report.doc import Cell, Cover, Document, Heading, PageBreak, Para, Table
from planner.report.sections_communities import (
    _communities,
    _gaps,
)
from planner.report.sections_more import (
    _figures,
    _method,
    _proposals,
)
from planner.report.text import words


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
        how = t["hh_given"]
        if hh.get("estimated"):  # say how: "estimate:buildings", "estimate:community_point"...
            kinds = [m.split(":", 1)[-1] for m in str(hh.get("method", "")).split("; ")]
            found = [t[f"hh_estimated_{k}"] for k in kinds if f"hh_estimated_{k}" in t]
            how = ("、" if lang == "zh" else ", ").join(found) or t["hh_estimated"]
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
