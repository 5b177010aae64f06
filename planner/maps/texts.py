"""The map's words in Chinese and English, and the labels built from them.

Every text the page shows (layer names, legend, popups, summary panel) comes from `_TEXT`,
one dictionary per language of `LANGS`; the page's runtime receives the language's dictionary
whole. Category labels come from `planner.standards.CATEGORIES`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import pandas as pd

from planner.errors import InputError
from planner.maps.encode import _is_missing
from planner.schema import column
from planner.standards import CATEGORIES

LANGS: Final = ("zh", "en")
"""Languages of the map's labels."""


_TEXT: Final[dict[str, dict[str, str]]] = {
    "zh": {
        "title": "15分钟社区生活圈评估",
        "locale": "zh-CN",
        "pass": "达标",
        "fail": "未达标",
        "measured": "仅测量",
        "not_checked": "不检查",
        "covered": "所需设施均可达",
        "partly": "部分可达",
        "uncovered": "均不可达（缺口）",
        "off_network": "不在步行网络上",
        "id": "编号",
        "name": "名称",
        "households": "户数",
        "estimate": "估算",
        "status": "覆盖状况",
        "unreachable": "无法到达",
        "m": "米",
        "min": "分钟",
        "km_h": "公里/小时",
        "short_by": "超出",
        "category": "类别",
        "floor_area": "建筑面积",
        "m2": "m²",
        "hh_in_catchment": "服务范围内户数",
        "m2_per_100hh": "每百户面积",
        "m2_per_100hh_unit": "m²/百户",
        "floor_area_check": "面积达标",
        "proposed": "拟建设施",
        "facility_off_network": "不在步行网络上（未参与计算）",
        "supply": "设施面积",
        "coverage_rate": "覆盖率",
        "layer_status": "居住点：覆盖状况",
        "layer_ratio": "居住点：每百户设施面积",
        "layer_facilities": "设施：{label}",
        "layer_isochrones": "步行圈：{label}",
        "layer_bands": "步行圈",
        "layer_network": "步行网络",
        "facilities": "设施",
        "legend": "图例",
        "legend_status": "居住点（按覆盖状况）",
        "legend_gaps": "缺口画得更大并带深色描边；可达＝步行距离不超过该设施的限值",
        "legend_ratio": "每百户设施面积（m²/百户，要求 {req}）",
        "legend_no_data": "无分配",
        "legend_facilities": "设施（按类别）",
        "legend_proposed": "虚线边框：拟建设施",
        "legend_fac_fail": "红色外圈：面积未达标",
        "legend_bands": "步行圈（步行时间）",
        "legend_network": "步行网络（OSM）",
        "network_major": "主要道路",
        "network_street": "街巷",
        "network_path": "步行道、小路",
        "network_large": (
            "路网很大（{edges} 条路段）：线形按 {m} 米简化；地图缩小时先隐去小路，再隐去街巷"
        ),
        "band": "≤ {min} 分钟（{m} 米）",
        "summary": "评估摘要",
        "verdict": "结论",
        "coverage": "步行可达覆盖（达标要求）",
        "measured_title": "其他设施的覆盖（仅测量）",
        "floor_area_title": "每百户设施面积",
        "fa_supply": "设施面积合计",
        "fa_ratio": "每百户面积",
        "fa_required": "要求面积",
        "fa_shortfall": "缺口面积",
        "fa_allocation": "分配方式",
        "households_title": "住户",
        "hh_total": "户数合计",
        "hh_residences": "居住点",
        "hh_off_network": "不在网络上的居住点",
        "hh_method": "户数来源",
        "parameters": "参数",
        "p_speed": "步行速度",
        "p_snap": "吸附距离上限",
        "p_buffer": "步行圈缓冲宽度",
        "gaps": "最大缺口（按户数）",
        "gap_line": "{who}：{rule}，{hh} 户，{short}",
        "gap_unreachable": "无法到达",
        "gap_over": "超出 {m} 米",
        "more": "另有 {n} 项",
        "data_credit": "数据",
        "required_tag": "",
        "tier": "{tier}",
        "alloc_catchment": "两步移动搜索（服务范围内共享）",
        "alloc_nearest": "最近设施",
        "alloc_community": "按社区",
        "method_column": "输入数据",
        "method_estimate": "估算",
        "method_buildings": "按建筑",
        "method_population": "按人口格网",
        "method_community_point": "按社区",
        "yes": "是",
        "no": "否",
        "layer_community_verdict": "社区：达标情况",
        "layer_subdistricts": "街道",
        "legend_verdict": "社区（按达标情况）",
        "v_compliant": "达标",
        "v_fails_coverage": "步行可达未达标",
        "v_fails_floor_area": "每百户面积未达标",
        "v_fails_both": "两项均未达标",
        "v_no_households": "无住户（不评定）",
        "communities_title": "社区",
        "communities_line": "{c} / {n} 个社区达标",
        "communities_none_hh": "{n} 个社区无住户，不评定",
        "communities_outside": "{hh} 户不在任何社区内",
        "subdistrict_line": "{name}：{c} / {n} 个达标",
        "subdistrict_target": "（目标 {t}）",
        "target_met": "目标达成",
        "target_missed": "目标未达成",
        "subdistrict": "街道",
        "district": "区县",
        "walk_coverage": "步行可达",
        "households_beyond": "超出步行范围的户数",
        "fa_in_community": "社区内设施面积",
        "fa_short": "缺口面积",
        "fa_min_community": "每社区不少于 {m} m²",
        "target_rate": "目标 {r} %",
        "hh_off_network_comm": "不在网络上的户数",
        "fails": "未达标项",
        "compliant": "达标",
    },
    "en": {
        "title": "15-minute community life circle review",
        "locale": "en-GB",
        "pass": "pass",
        "fail": "fail",
        "measured": "measured only",
        "not_checked": "not checked",
        "covered": "reaches every required facility",
        "partly": "reaches some",
        "uncovered": "reaches none (gap)",
        "off_network": "off the walking network",
        "id": "id",
        "name": "name",
        "households": "households",
        "estimate": "estimate",
        "status": "coverage",
        "unreachable": "unreachable",
        "m": "m",
        "min": "min",
        "km_h": "km/h",
        "short_by": "over by",
        "category": "category",
        "floor_area": "floor area",
        "m2": "m²",
        "hh_in_catchment": "households in catchment",
        "m2_per_100hh": "per 100 households",
        "m2_per_100hh_unit": "m²/100 hh",
        "floor_area_check": "floor area",
        "proposed": "proposed facility",
        "facility_off_network": "off the walking network (not used)",
        "supply": "facility floor area",
        "coverage_rate": "coverage",
        "layer_status": "Residences: coverage status",
        "layer_ratio": "Residences: m² per 100 households",
        "layer_facilities": "Facilities: {label}",
        "layer_isochrones": "Walk bands: {label}",
        "layer_bands": "Walk bands",
        "layer_network": "Walking network",
        "facilities": "Facilities",
        "legend": "Legend",
        "legend_status": "Residences by coverage",
        "legend_gaps": "gaps are drawn larger, with a dark outline; reach = within the limit",
        "legend_ratio": "m² per 100 households (required {req})",
        "legend_no_data": "not allocated",
        "legend_facilities": "Facilities by category",
        "legend_proposed": "dashed outline: proposed facility",
        "legend_fac_fail": "red ring: floor area below requirement",
        "legend_bands": "Walk bands (walking time)",
        "legend_network": "Walking network (OSM)",
        "network_major": "main roads",
        "network_street": "streets",
        "network_path": "footways and paths",
        "network_large": (
            "a large network ({edges} edges): lines simplified to {m} m; zoomed out, paths "
            "and then streets are hidden"
        ),
        "band": "≤ {min} min ({m} m)",
        "summary": "Review summary",
        "verdict": "verdict",
        "coverage": "Walking coverage (required)",
        "measured_title": "Other facilities (measured only)",
        "floor_area_title": "Floor area per 100 households",
        "fa_supply": "floor area, total",
        "fa_ratio": "per 100 households",
        "fa_required": "floor area required",
        "fa_shortfall": "shortfall",
        "fa_allocation": "allocation",
        "households_title": "Households",
        "hh_total": "households, total",
        "hh_residences": "residences",
        "hh_off_network": "residences off the network",
        "hh_method": "households from",
        "parameters": "Parameters",
        "p_speed": "walking speed",
        "p_snap": "snap cap",
        "p_buffer": "band buffer width",
        "gaps": "Largest gaps (by households)",
        "gap_line": "{who}: {rule}, {hh} households, {short}",
        "gap_unreachable": "unreachable",
        "gap_over": "{m} m over",
        "more": "{n} more",
        "data_credit": "data",
        "required_tag": "",
        "tier": "{tier}",
        "alloc_catchment": "two-step catchment (shared within reach)",
        "alloc_nearest": "nearest facility",
        "alloc_community": "by community",
        "method_column": "input data",
        "method_estimate": "estimate",
        "method_buildings": "from buildings",
        "method_population": "from a population grid",
        "method_community_point": "per community",
        "yes": "yes",
        "no": "no",
        "layer_community_verdict": "Communities: verdict",
        "layer_subdistricts": "Sub-districts",
        "legend_verdict": "Communities (verdict)",
        "v_compliant": "compliant",
        "v_fails_coverage": "fails walk coverage",
        "v_fails_floor_area": "fails floor area",
        "v_fails_both": "fails both",
        "v_no_households": "no households (no verdict)",
        "communities_title": "Communities",
        "communities_line": "{c} of {n} communities compliant",
        "communities_none_hh": "{n} communities without households, no verdict",
        "communities_outside": "{hh} households in no community",
        "subdistrict_line": "{name}: {c} of {n} compliant",
        "subdistrict_target": " (target {t})",
        "target_met": "target met",
        "target_missed": "target missed",
        "subdistrict": "Sub-district",
        "district": "District",
        "walk_coverage": "Walk coverage",
        "households_beyond": "Households beyond the walk",
        "fa_in_community": "Floor area in the community",
        "fa_short": "Short by",
        "fa_min_community": "at least {m} m² per community",
        "target_rate": "target {r} %",
        "hh_off_network_comm": "Households off the network",
        "fails": "Fails",
        "compliant": "Compliant",
    },
}


def _check_lang(lang: str) -> dict[str, str]:
    if lang not in _TEXT:
        raise InputError(f"lang={lang!r} is not supported; use one of {', '.join(LANGS)}")
    return _TEXT[lang]


def category_label(category: str, *, lang: str = "zh") -> str:
    """Display label of a facility category code (``"kindergarten"`` -> ``"幼儿园"``).

    Parameters
    ----------
    category
        A category code of `planner.standards.CATEGORIES`, or any text (returned as is).
    lang
        ``"zh"`` or ``"en"``.

    Returns
    -------
    str
        The label; unknown codes are returned unchanged.
    """
    pair = CATEGORIES.get(str(category))
    if pair is None:
        return str(category)
    return pair[0] if lang == "zh" else pair[1]


def _glyph(label: str, lang: str) -> str:
    """One or two characters for a category's badge: the first Chinese character, or initials."""
    text = label.strip()
    if not text:
        return "?"
    if lang == "zh" and not text[0].isascii():
        return text[0]
    words = [w for w in re.split(r"[\s/_\-]+", text) if w]
    return "".join(w[0] for w in words[:2]).upper() or text[0]


def _tier_text(tier: str, lang: str) -> str:
    match = re.fullmatch(r"(\d+)min", tier)
    if match:
        return f"{match.group(1)}分钟" if lang == "zh" else f"{match.group(1)} min"
    return tier


@dataclass(frozen=True)
class _Rule:
    key: str
    category: str
    label: str
    max_walk_m: float | None
    required: bool


def _rules_from_coverage(
    coverage: Sequence[Mapping[str, Any]] | None, residences: pd.DataFrame | None, lang: str
) -> list[_Rule]:
    """The checked rules as the map shows them: from summary["coverage"], else from columns."""
    rules: list[_Rule] = []
    keys: list[str] = []
    for entry in coverage or ():
        key = str(entry.get("key", entry.get("category")))
        category = str(entry.get("category", key))
        label = entry.get(f"label_{lang}") or category_label(category, lang=lang)
        tier = entry.get("tier")
        same_category = [e for e in coverage or () if e.get("category", e.get("key")) == category]
        if tier and len(same_category) > 1:
            label = f"{label} ({_tier_text(str(tier), lang)})"
        max_m = entry.get("max_walk_m")
        rules.append(
            _Rule(
                key=key,
                category=category,
                label=str(label),
                max_walk_m=None if max_m is None or _is_missing(max_m) else float(max_m),
                required=bool(entry.get("required", True)),
            )
        )
        keys.append(key)
    if not rules and residences is not None:
        prefix = column("covered", "")
        for col in residences.columns:
            if isinstance(col, str) and col.startswith(prefix) and col[len(prefix) :]:
                key = col[len(prefix) :]
                rules.append(_Rule(key, key, category_label(key, lang=lang), None, True))
    return rules


def _method_text(method: Any, t: Mapping[str, str]) -> str:
    """``"column; estimate:buildings(...)"`` -> ``"input data; estimate (buildings)"``."""
    kinds: list[str] = []
    for part in str(method).split(";"):
        part = part.strip()
        if not part:
            continue
        if part == "column":
            kind = t["method_column"]
        elif part.startswith("estimate"):
            detail = part.split(":", 1)[1] if ":" in part else ""
            detail = detail.split("(", 1)[0].strip()
            kind = t["method_estimate"]
            if detail:
                kind += f" ({t.get(f'method_{detail}', detail)})"
        else:
            kind = part.split("(", 1)[0].strip()
        if kind not in kinds:
            kinds.append(kind)
    return "; ".join(kinds)
