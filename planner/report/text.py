"""The report's words, in Chinese and English."""

from __future__ import annotations

from typing import Final

LANGS: Final = ("zh", "en")

TEXT: Final[dict[str, dict[str, str]]] = {
    "zh": {
        "title": "15分钟社区生活圈评估报告",
        "page": "第 {n} 页，共 {m} 页",
        "district": "评估范围",
        "organisation": "编制单位",
        "date": "日期",
        "standard": "评估标准",
        "overall": "总体结论",
        "pass": "达标",
        "fail": "未达标",
        "measured": "仅测量",
        "yes": "是",
        "no": "否",
        "unknown": "未记录",
        "cover_rule": "{label}：{rate} 的住户在 {m} 米（{min} 分钟）内可达 — {verdict}",
        "cover_fa": "{label}：每百户 {ratio} m²（要求 {req}），缺口 {gap} m² — {verdict}",
        "cover_communities": "{n} 个社区中 {k} 个达标",
        "cover_households": "住户 {hh} 户（{how}）",
        "hh_estimated": "估算",
        "hh_estimated_buildings": "由建筑估算",
        "hh_estimated_community_point": "按社区点假定",
        "hh_estimated_population": "由人口格网估算",
        "hh_given": "输入数据",
        "contents": "目录",
        "s_rules": "逐条标准结论",
        "s_communities": "社区评估",
        "s_gaps": "缺口",
        "s_figures": "图",
        "s_proposals": "规划建议（planner propose）",
        "s_method": "方法与数据来源",
        "coverage_rules": "步行可达（达标要求）",
        "floor_area_rules": "每百户设施面积",
        "measured_rules": "其他设施（仅测量，不影响结论）",
        "sources": "依据与条款",
        "rule": "规则",
        "walk": "步行限值",
        "walk_value": "{m} 米 / {min} 分钟",
        "speed": "步速",
        "speed_value": "{v} 公里/小时",
        "facilities": "设施数",
        "coverage": "覆盖率",
        "covered_hh": "可达户数",
        "verdict": "结论",
        "category": "设施类别",
        "allocation": "计算单元",
        "required_ratio": "要求（m²/百户）",
        "min_area": "社区最低面积",
        "ratio": "每百户面积",
        "supply": "设施面积",
        "shortfall": "缺口面积",
        "source": "来源",
        "clause": "条款",
        "verified": "已对照原文核实",
        "verified_yes": "已核实",
        "verified_no": "未核实",
        "verified_unknown": "核实情况未记录",
        "per": "计量单元",
        "per_community": "按社区",
        "per_residence": "按住户",
        "per_catchment": "按服务范围",
        "tier": "层级",
        "communities_lead": "{n} 个社区中 {k} 个达标；住户 {hh} 户，其中 {off} 户不在步行网络上。",
        "community": "社区",
        "subdistrict": "街道",
        "district_col": "区县",
        "households": "户数",
        "off_network_hh": "网络外户数",
        "compliant": "达标",
        "fails": "未达标项",
        "t_communities": "社区结论",
        "t_community_coverage": "社区步行可达覆盖率（{rules}）",
        "t_community_floor": "社区设施面积：{label}",
        "t_subdistricts": "街道汇总",
        "t_districts": "区县汇总",
        "communities_n": "社区数",
        "compliant_n": "达标社区",
        "target": "目标",
        "meets_target": "是否达到目标",
        "no_households": "无住户",
        "v_compliant": "达标",
        "v_fails_coverage": "步行可达不达标",
        "v_fails_floor_area": "面积不达标",
        "v_fails_both": "可达与面积均不达标",
        "v_no_households": "无住户",
        "gaps_lead": (
            "{label}：{hh} 户住在 {m} 米步行范围以外（{n} 处居住点）。最大的未覆盖住户群："
        ),
        "gaps_none": "{label}：所有住户均在步行范围内。",
        "gap_where": "位置",
        "gap_residences": "居住点",
        "gap_short": "最多超出",
        "gap_unreachable": "无法到达",
        "gap_near": "{name}附近",
        "gap_at": "北纬 {lat}，东经 {lon}",
        "gap_cluster_note": (
            "未覆盖的居住点按相距不超过 {d} 米聚成一群；位置为群内户数最多的居住点及其坐标。"
        ),
        "gap_community_note": "未覆盖的户数按社区统计（社区户数 × (1 − 覆盖率)）。",
        "floor_gaps": "各社区设施面积缺口",
        "floor_gaps_lead": "{label}：{k} 个社区面积不足，合计缺 {gap} m²。",
        "floor_gaps_none": "{label}：各社区面积均达到要求。",
        "needed": "应有面积",
        "floor_overall": (
            "{label}：设施面积 {supply} m²，每百户 {ratio} m²（要求 {req}），"
            "按“{alloc}”计算缺口 {gap} m²，{below} 户低于要求。"
        ),
        "fig_overview": "图 1　总览：{what}与所需设施",
        "fig_overview_comm": "社区按结论着色",
        "fig_overview_res": "居住点按覆盖状况着色",
        "fig_coverage": "图 {n}　{label}：步行 {m} 米（{min} 分钟）的服务范围与居住点",
        "fig_note": "底图不含瓦片，仅绘评估数据；比例尺与指北针按所在 UTM 投影绘制。",
        "community_outline": "社区边界",
        "res_covered": "居住点：可达",
        "res_uncovered": "居住点：不可达（缺口）",
        "res_off_network": "居住点：不在步行网络上",
        "proposed": "深色边框：拟建设施",
        "prop_lead": (
            "模型：{model}；新增 {n} 处“{cat}”设施，新增面积 {m2} m²；"
            "新覆盖 {new} 户，仍无法覆盖 {unc} 户。求解：{solver}（{status}，差距 {gap}）。"
        ),
        "prop_verified": "复核：重新计算的新覆盖户数与模型一致（{v}）。",
        "prop_sites": "建议选址",
        "site": "编号",
        "candidate": "候选点",
        "floor_area_m2": "面积（m²）",
        "new_hh": "新覆盖户数",
        "catchment_hh": "服务范围户数",
        "lonlat": "经度，纬度",
        "prop_expansions": "现有设施扩建",
        "extra_m2": "扩建面积（m²）",
        "before_after": "建议前后对比",
        "before": "建议前",
        "after": "建议后",
        "prop_communities": "各社区建议前后",
        "m_network": "步行网络",
        "m_inputs": "输入数据",
        "m_parameters": "参数",
        "m_estimates": "估算值",
        "m_version": "版本",
        "m_how": "计算方法",
        "m_how_text": (
            "步行距离沿 OpenStreetMap 的步行网络计算：从建筑到最近街道最近点的直线接入段、沿街、"
            "网络最短路径、再沿街与接入段到设施。距街道超过吸附上限的点列为“不在网络上”，"
            "不移动、不计入可达。阈值可用米或分钟表示，按给定步速换算。"
            "每百户面积 = 设施面积 ÷ 户数 × 100，按所列计算单元分配住户。"
        ),
        "file": "文件",
        "sha256": "sha256",
        "osm_timestamp": "OSM 数据时间",
        "crs": "投影",
        "nodes": "节点",
        "edges": "路段",
        "km": "长度（公里）",
        "walkable_ways": "可步行道路",
        "dropped": "剔除（不连通部分）",
        "dropped_value": "{c} 个部分，{n} 个节点，{km} 公里",
        "ways_cut": "被截断的道路",
        "missing_refs": "缺失节点引用",
        "parameter": "参数",
        "value": "取值",
        "estimates_households": (
            "户数为估算值（{method}）：由 OSM 建筑的占地面积 × 层数 ÷ 每户面积得出，"
            "不是统计数据。覆盖率与每百户面积都随之为估算。"
        ),
        "estimates_given": "户数取自输入数据（{method}）。",
        "off_network_line": "不在步行网络上：{r} 处居住点，{f} 处设施（列于 summary.json）。",
        "version_line": "评估由 planner {v} 完成；本报告由 planner {r} 于 {date} 生成。",
        "reproduce": (
            "复核方法：用上列 sha256 相同的网络与输入、相同参数重新运行 planner check，"
            "各表逐字节相同。"
        ),
        "thresholds": "各规则步行限值（米）",
        "estimate_mark": "（估算）",
    },
    "en": {
        "title": "15-minute community life circle review",
        "page": "page {n} of {m}",
        "district": "area",
        "organisation": "prepared by",
        "date": "date",
        "standard": "standard",
        "overall": "Overall verdict",
        "pass": "pass",
        "fail": "fail",
        "measured": "measured only",
        "yes": "yes",
        "no": "no",
        "unknown": "not recorded",
        "cover_rule": "{label}: {rate} of households within {m} m ({min} min) — {verdict}",
        "cover_fa": (
            "{label}: {ratio} m² per 100 households (need {req}), short {gap} m² — {verdict}"
        ),
        "cover_communities": "{k} of {n} communities compliant",
        "cover_households": "{hh} households ({how})",
        "hh_estimated": "estimated",
        "hh_estimated_buildings": "estimated from buildings",
        "hh_estimated_community_point": "assumed per community point",
        "hh_estimated_population": "estimated from a population grid",
        "hh_given": "from the input data",
        "contents": "Contents",
        "s_rules": "The verdict per rule",
        "s_communities": "Communities",
        "s_gaps": "Gaps",
        "s_figures": "Maps",
        "s_proposals": "Proposals (planner propose)",
        "s_method": "Method and provenance",
        "coverage_rules": "Walking coverage (required)",
        "floor_area_rules": "Floor area per 100 households",
        "measured_rules": "Other facilities (measured only; not part of the verdict)",
        "sources": "Sources and clauses",
        "rule": "rule",
        "walk": "walk limit",
        "walk_value": "{m} m / {min} min",
        "speed": "speed",
        "speed_value": "{v} km/h",
        "facilities": "facilities",
        "coverage": "coverage",
        "covered_hh": "households within",
        "verdict": "verdict",
        "category": "category",
        "allocation": "measured over",
        "required_ratio": "required (m²/100 hh)",
        "min_area": "community minimum",
        "ratio": "per 100 households",
        "supply": "floor area",
        "shortfall": "shortfall",
        "source": "source",
        "clause": "clause",
        "verified": "checked against the published text",
        "verified_yes": "verified",
        "verified_no": "not verified",
        "verified_unknown": "verification not recorded",
        "per": "unit",
        "per_community": "per community",
        "per_residence": "per residence",
        "per_catchment": "per catchment",
        "tier": "tier",
        "communities_lead": (
            "{k} of {n} communities compliant; {hh} households, {off} of them off the walking "
            "network."
        ),
        "community": "community",
        "subdistrict": "sub-district",
        "district_col": "district",
        "households": "households",
        "off_network_hh": "off network",
        "compliant": "compliant",
        "fails": "fails",
        "t_communities": "Community verdicts",
        "t_community_coverage": "Community coverage ({rules})",
        "t_community_floor": "Community floor area: {label}",
        "t_subdistricts": "Sub-district roll-up",
        "t_districts": "District roll-up",
        "communities_n": "communities",
        "compliant_n": "compliant",
        "target": "target",
        "meets_target": "target met",
        "no_households": "no households",
        "v_compliant": "compliant",
        "v_fails_coverage": "fails coverage",
        "v_fails_floor_area": "fails floor area",
        "v_fails_both": "fails coverage and floor area",
        "v_no_households": "no households",
        "gaps_lead": (
            "{label}: {hh} households live beyond the {m} m walk ({n} residences). "
            "The largest uncovered groups:"
        ),
        "gaps_none": "{label}: every household is within the walk.",
        "gap_where": "where",
        "gap_residences": "residences",
        "gap_short": "over by, at most",
        "gap_unreachable": "unreachable",
        "gap_near": "near {name}",
        "gap_at": "{lat} N, {lon} E",
        "gap_cluster_note": (
            "Uncovered residences within {d} m of each other form a group; the place given is "
            "the group's largest residence and its coordinates."
        ),
        "gap_community_note": (
            "Uncovered households counted per community (households × (1 − coverage))."
        ),
        "floor_gaps": "Floor-area shortfall per community",
        "floor_gaps_lead": "{label}: {k} communities short, {gap} m² in all.",
        "floor_gaps_none": "{label}: every community has the floor area required.",
        "needed": "needed",
        "floor_overall": (
            "{label}: {supply} m² of floor area, {ratio} m² per 100 households (need {req}); "
            "shortfall {gap} m² by {alloc}; {below} households below the requirement."
        ),
        "fig_overview": "Figure 1  Overview: {what}, with the facilities the rules need",
        "fig_overview_comm": "communities coloured by verdict",
        "fig_overview_res": "residences coloured by coverage",
        "fig_coverage": (
            "Figure {n}  {label}: served area of a {m} m ({min} min) walk, and residences"
        ),
        "fig_note": (
            "No basemap tiles: the review's own data only. Scale bar and north arrow in the "
            "review's UTM projection."
        ),
        "community_outline": "community boundary",
        "res_covered": "residence within the walk",
        "res_uncovered": "residence beyond the walk (gap)",
        "res_off_network": "residence off the walking network",
        "proposed": "dark outline: proposed facility",
        "prop_lead": (
            "Model: {model}; {n} new {cat} sites, {m2} m² of new floor area; {new} households "
            "newly covered, {unc} still uncoverable. Solver: {solver} ({status}, gap {gap})."
        ),
        "prop_verified": "Check: the households newly covered, recounted, match the model ({v}).",
        "prop_sites": "Proposed sites",
        "site": "site",
        "candidate": "candidate",
        "floor_area_m2": "floor area (m²)",
        "new_hh": "newly covered",
        "catchment_hh": "in catchment",
        "lonlat": "lon, lat",
        "prop_expansions": "Expansions of existing facilities",
        "extra_m2": "extra floor area (m²)",
        "before_after": "Before and after",
        "before": "before",
        "after": "after",
        "prop_communities": "Communities before and after",
        "m_network": "Walking network",
        "m_inputs": "Inputs",
        "m_parameters": "Parameters",
        "m_estimates": "Estimates",
        "m_version": "Version",
        "m_how": "How it is measured",
        "m_how_text": (
            "Walks follow OpenStreetMap's walking network: the straight access leg from a "
            "building to the nearest point of the nearest street, along the street, the shortest "
            "network path, and along the street and the access leg to the facility. Points "
            "farther from every street than the snap cap are listed off the network, never moved, "
            "never counted as reached. Limits are metres or minutes at the stated speed. "
            "m² per 100 households = floor area / households × 100, over the unit stated."
        ),
        "file": "file",
        "sha256": "sha256",
        "osm_timestamp": "OSM timestamp",
        "crs": "projection",
        "nodes": "nodes",
        "edges": "edges",
        "km": "length (km)",
        "walkable_ways": "walkable ways",
        "dropped": "dropped (disconnected)",
        "dropped_value": "{c} components, {n} nodes, {km} km",
        "ways_cut": "ways cut",
        "missing_refs": "missing node references",
        "parameter": "parameter",
        "value": "value",
        "estimates_households": (
            "Households are estimates ({method}): OSM building footprint × levels ÷ floor area "
            "per household, not census counts. Coverage rates and m² per 100 households are "
            "estimates with them."
        ),
        "estimates_given": "Households are from the input data ({method}).",
        "off_network_line": (
            "Off the walking network: {r} residences, {f} facilities (listed in summary.json)."
        ),
        "version_line": "Reviewed with planner {v}; this report made by planner {r} on {date}.",
        "reproduce": (
            "To reproduce: run planner check on the network and inputs with the sha256 above "
            "and the same parameters; the tables come out byte-identical."
        ),
        "thresholds": "walk limit per rule (m)",
        "estimate_mark": " (estimate)",
    },
}


def words(lang: str) -> dict[str, str]:
    from planner.errors import InputError

    if lang not in TEXT:
        raise InputError(f"report language {lang!r}: use one of {', '.join(LANGS)}.")
    return TEXT[lang]


__all__ = ["LANGS", "TEXT", "words"]
