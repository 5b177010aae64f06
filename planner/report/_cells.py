"""The report's small formatting helpers: numbers, rates, verdict cells, rule labels."""

from __future__ import annotations

from typing import Any

from planner.maps import category_label
from planner.report import figures
from planner.report.data import Review, as_bool, as_float, is_missing
from planner.report.doc import Cell


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
    if fa.get(f"label_{lang}"):  # the floor-area rule's own label
        return str(fa[f"label_{lang}"])
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
