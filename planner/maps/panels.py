"""The summary panel: verdict, coverage per rule, floor area, households, parameters, gaps.

`add_summary_panel` builds the panel's HTML from the review's summary (every text escaped with
`planner.maps.encode._esc`); `planner.maps.page.finish_map` places it top left.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from planner.maps.encode import _esc, _fmt, _is_missing, _texts
from planner.maps.page import OSM_ATTRIBUTION, PlannerMap
from planner.maps.texts import _method_text, _Rule, _rules_from_coverage


def _badge(passes: Any, t: Mapping[str, str]) -> str:
    if passes is None:
        return f'<span class="pm-badge pm-none">{_esc(t["measured"])}</span>'
    cls, word = ("pm-pass", t["pass"]) if passes else ("pm-fail", t["fail"])
    return f'<span class="pm-badge {cls}">{_esc(word)}</span>'


def _mark(passes: Any, t: Mapping[str, str]) -> str:
    if passes is None:
        return f'<span class="pm-na" title="{_esc(t["measured"])}">–</span>'
    if passes:
        return f'<span class="pm-ok" title="{_esc(t["pass"])}">✓</span>'
    return f'<span class="pm-bad" title="{_esc(t["fail"])}">✗</span>'


def _table(items: Sequence[tuple[str, str]]) -> str:
    """A two-column table of labels and values."""
    rows = [f'<tr><th>{_esc(k)}</th><td class="pm-val">{_esc(v)}</td></tr>' for k, v in items]
    return f"<table>{''.join(rows)}</table>"


def _coverage_section(
    m: PlannerMap, coverage: Sequence[Mapping[str, Any]], rules: Sequence[_Rule]
) -> list[str]:
    """The required rules (bar, mark, households and limit), then the measured ones."""
    t = m.text
    blocks, measured = [], []
    for entry, rule in zip(coverage, rules, strict=True):
        rate: Any = entry.get("rate")
        pct = 0.0 if _is_missing(rate) else max(0.0, min(100.0, 100.0 * float(rate)))
        limit = f"≤ {_fmt(entry.get('max_walk_m'))} {t['m']}"
        if not _is_missing(entry.get("max_walk_min")):
            limit += f" / {_fmt(entry.get('max_walk_min'), 0)} {t['min']}"
        households = (
            f"{_fmt(entry.get('households_covered'))} / {_fmt(entry.get('households_total'))} "
            f"{t['households']}"
        )
        dot = f'<span class="pm-dot" style="background:{m.colour(rule.category)}"></span>'
        bar = (
            f'<span class="pm-bar"><i style="width:{pct:.1f}%"></i></span>'
            f'<b class="pm-rate">{_esc(_fmt(pct, 1))} %</b>'
        )
        if rule.required:
            blocks.append(
                f'<div class="pm-rule"><div class="pm-rule-head">{dot}'
                f'<span class="pm-rule-name">{_esc(rule.label)}</span>'
                f"{_mark(entry.get('passes'), t)}</div>"
                f'<div class="pm-rule-body">{bar}'
                f'<span class="pm-na">{_esc(households)} · {_esc(limit)}</span></div></div>'
            )
        else:
            measured.append(
                f'<div class="pm-mrule" title="{_esc(households)} · {_esc(limit)}">{dot}'
                f'<span class="pm-rule-name">{_esc(rule.label)}</span>{bar}</div>'
            )
    parts = []
    if blocks:
        parts.append(f"<h4>{_esc(t['coverage'])}</h4>{''.join(blocks)}")
    if measured:
        parts.append(
            f'<details class="pm-more" open><summary><h4>{_esc(t["measured_title"])} '
            f"({len(measured)})</h4></summary>{''.join(measured)}</details>"
        )
    return parts


def _floor_area_section(m: PlannerMap, fa: Mapping[str, Any]) -> str:
    t = m.text
    unit = t["m2_per_100hh_unit"]
    items = [
        (
            t["fa_ratio"],
            f"{_fmt(fa.get('m2_per_100hh'), 1)} {unit} "
            f"(≥ {_fmt(fa.get('required_m2_per_100hh'), 0)})",
            _mark(fa.get("passes"), t),
        ),
        (t["fa_supply"], f"{_fmt(fa.get('supply_m2'))} m²", ""),
        (t["fa_required"], f"{_fmt(fa.get('required_m2'))} m²", ""),
        (t["fa_shortfall"], f"{_fmt(fa.get('shortfall_m2'))} m²", ""),
    ]
    rows = [
        f'<tr><th>{_esc(k)}</th><td class="pm-val">{_esc(v)}</td><td>{mark}</td></tr>'
        for k, v, mark in items
    ]
    title_fa = t["floor_area_title"]
    if fa.get("category"):
        title_fa = f"{title_fa} · {m.label(str(fa['category']))}"
    return f"<h4>{_esc(title_fa)} {_badge(fa.get('passes'), t)}</h4><table>{''.join(rows)}</table>"


def _communities_section(m: PlannerMap, summary: Mapping[str, Any]) -> str:
    """N of M communities compliant, then each sub-district against its target."""
    t = m.text
    comm = summary["communities"]
    lead = t["communities_line"].format(c=comm["compliant"], n=comm["count"])
    lines = [f'<div class="pm-comm-lead"><b>{_esc(lead)}</b></div>']
    if comm.get("without_households"):
        none_hh = t["communities_none_hh"].format(n=comm["without_households"])
        lines.append(f'<div class="pm-na">{_esc(none_hh)}</div>')
    if comm.get("households_outside_communities"):
        outside = _fmt(comm["households_outside_communities"])
        lines.append(
            f'<div class="pm-na">{_esc(t["communities_outside"].format(hh=outside))}</div>'
        )
    items = []
    for row in summary.get("subdistricts") or []:
        text = t["subdistrict_line"].format(
            name=row.get("subdistrict") or "—",
            c=row["compliant_communities"],
            n=row["communities"],
        )
        target = row.get("target_compliant")
        if target is not None:
            text += t["subdistrict_target"].format(t=target)
        met = row.get("meets_target")
        items.append(f"<li>{_esc(text)} {_mark(met, t) if met is not None else ''}</li>")
    if items:
        lines.append(f'<ul class="pm-sds">{"".join(items)}</ul>')
    return f"<h4>{_esc(t['communities_title'])}</h4>{''.join(lines)}"


def _households_section(hh: Mapping[str, Any], t: Mapping[str, str]) -> str:
    method = _method_text(hh.get("method", ""), t)
    if hh.get("estimated") and t["method_estimate"] not in method:
        method = f"{method} ({t['method_estimate']})"
    total = _fmt(hh.get("total"))
    if hh.get("estimated"):
        total = f"{total} ({t['estimate']})"
    items = [
        (t["hh_total"], total),
        (t["hh_residences"], _fmt(hh.get("residences"))),
        (t["hh_off_network"], _fmt(hh.get("off_network_residences"))),
        (t["hh_method"], method),
    ]
    return f"<h4>{_esc(t['households_title'])}</h4>{_table(items)}"


def _parameters_section(params: Mapping[str, Any], t: Mapping[str, str]) -> str:
    items = []
    if "speed_kmh" in params:
        items.append((t["p_speed"], f"{_fmt(params['speed_kmh'], 1)} {t['km_h']}"))
    if "snap_cap_m" in params:
        items.append((t["p_snap"], f"{_fmt(params['snap_cap_m'])} {t['m']}"))
    if "allocation" in params:
        alloc = params["allocation"]
        items.append((t["fa_allocation"], t.get(f"alloc_{alloc}", str(alloc))))
    if "buffer_m" in params:
        items.append((t["p_buffer"], f"{_fmt(params['buffer_m'])} {t['m']}"))
    return f"<h4>{_esc(t['parameters'])}</h4>{_table(items)}"


def _gaps_section(
    m: PlannerMap,
    gaps: pd.DataFrame,
    residences: pd.DataFrame | None,
    rules: Sequence[_Rule],
    max_gaps: int,
) -> str:
    """The largest gaps, residences named where the residences have names."""
    t = m.text
    label_of = {r.key: r.label for r in rules}
    name_of: dict[str, str] = {}
    if residences is not None and "id" in residences and "name" in residences:
        for rid, rname in zip(_texts(residences["id"]), _texts(residences["name"]), strict=True):
            if rid is not None and rname is not None:
                name_of[rid] = rname
    items = []
    top = gaps.head(max_gaps)
    for row in top.itertuples(index=False):
        rid = str(getattr(row, "id", ""))
        who = name_of.get(rid, rid)
        cat = str(getattr(row, "category", ""))
        short = getattr(row, "short_by_m", float("nan"))
        short_text = (
            t["gap_unreachable"]
            if _is_missing(short) or math.isinf(float(short))
            else t["gap_over"].format(m=_fmt(short))
        )
        items.append(
            "<li>"
            + _esc(
                t["gap_line"].format(
                    who=who,
                    rule=label_of.get(cat, m.label(cat)),
                    hh=_fmt(getattr(row, "households", float("nan"))),
                    short=short_text,
                )
            )
            + "</li>"
        )
    more = len(gaps) - len(top)
    if more > 0:
        items.append(f'<li class="pm-na">{_esc(t["more"].format(n=f"{more:,}"))}</li>')
    return f'<h4>{_esc(t["gaps"])}</h4><ol class="pm-gaps">{"".join(items)}</ol>'


def add_summary_panel(
    m: PlannerMap,
    summary: Mapping[str, Any],
    *,
    gaps: pd.DataFrame | None = None,
    residences: pd.DataFrame | None = None,
    title: str | None = None,
    max_gaps: int = 5,
) -> None:
    """Add the summary panel: verdict, coverage per rule, floor area, households, parameters.

    Parameters
    ----------
    m
        A map from `build_base_map`.
    summary
        The review's summary (``CheckResult.summary``, the ``summary.json`` contract).
    gaps
        The ranked gap table (``CheckResult.gaps``), for the largest gaps.
    residences
        The residences, to name the residences in the gap list.
    title
        Panel heading; default: the standard's title.
    max_gaps
        How many gaps to list.
    """
    t = m.text
    lang = m.lang
    std = summary.get("standard") or {}
    heading = title or std.get(f"title_{lang}") or m.title
    coverage = list(summary.get("coverage") or [])
    rules = _rules_from_coverage(coverage, None, lang)
    parts = [
        '<details open><summary><div class="pm-head">'
        f'<span class="pm-title">{_esc(heading)}</span>{_badge(summary.get("passes"), t)}'
        "</div></summary>"
    ]
    if title and std.get(f"title_{lang}"):
        parts.append(f'<div class="pm-sub">{_esc(std.get(f"title_{lang}"))}</div>')
    if summary.get("communities"):
        parts.append(_communities_section(m, summary))
    if coverage:
        parts.extend(_coverage_section(m, coverage, rules))
    fa = summary.get("floor_area")
    if fa:
        parts.append(_floor_area_section(m, fa))
    hh = summary.get("households")
    if hh:
        parts.append(_households_section(hh, t))
    params = summary.get("parameters") or {}
    if params:
        parts.append(_parameters_section(params, t))
    if gaps is not None and len(gaps) > 0 and max_gaps > 0:
        parts.append(_gaps_section(m, gaps, residences, rules, max_gaps))
    parts.append(f'<div class="pm-credit">{_esc(t["data_credit"])}: {OSM_ATTRIBUTION}</div>')
    parts.append("</details>")
    m.summary_markup = "".join(parts)
