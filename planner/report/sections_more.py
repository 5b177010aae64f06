"""The report's figures, proposals and method sections."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd
import shapely

from planner._version import __version__
from planner.maps import category_label
from planner.report import figures
from planner.report._cells import (
    _label,
    _labels,
    _num,
    _pct,
    _verdict,
    _yes_no,
)
from planner.report.data import Review, as_float
from planner.report.doc import Cell, Document, Figure, Heading, PageBreak, Para, Table
from planner.report.sections_communities import _community_name, _rule_names
from planner.report.text import words


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
