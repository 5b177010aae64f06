"""The terminal's words in Chinese: the log lines a review prints, by their English template.

`planner.cli._terminal` formats a log record through `translate` when the review's language is
``zh``: the record's template (``record.msg``, e.g. ``"Checking %d facilities for %d
residences"``) is looked up here and its arguments put into the Chinese sentence (positional
``{0}``, ``{1}``...; English words among the arguments, such as ``"facilities"``, are translated
by `WORDS`). A template not listed here is printed in English.
"""

from __future__ import annotations

from typing import Any, Final

from planner.standards import CATEGORIES

LOG: Final[dict[str, str]] = {
    "Loading the walking network from %s": "正在读取步行网络：{0}",
    "Opening the walking network %s": "正在打开步行网络：{0}",
    "Checking %d facilities for %d residences": "正在评估 {0} 处设施、{1} 个居住点",
    "Checking the current facilities (baseline)": "正在评估现状设施（基准）",
    "Served-area bands are not drawn on a cluster; review on one machine for them": (
        "集群评估不绘制步行圈；需要步行圈时请在单机上评估"
    ),
    "Reaching the %s-minute bands of %s (%d %s) ...": "正在计算 {1} 的 {0} 分钟步行圈（{2} 处）…",
    "Writing the map, tables%s into %s ...": "正在写入地图、表格{0}：{1} …",
    "Wrote %s into %s (%.1f s)": "已写入 {0}，位于 {1}（{2:.1f} 秒）",
    "wrote map %s (%.1f MB)": "已写入地图 {0}（{1:.1f} MB）",
    "walking bands: %d categories drawn from %d vertices": "步行圈：{0} 类设施，{1} 个顶点",
    "walking network: %d edges drawn as %d lines, %d vertices (simplified %g m)": (
        "步行网络：{0} 条路段绘为 {1} 条线、{2} 个顶点（按 {3:g} 米简化）"
    ),
    "No facility of category %s (rule %s): nobody is covered. Categories present: %s": (
        "没有类别为 {0} 的设施（规则 {1}）：无人可达。现有类别：{2}"
    ),
    "%d %s are farther than %.0f m from the walking network and are left off it: %s": (
        "{0} 个{1}距步行网络超过 {2:.0f} 米，不参与计算：{3}"
    ),
    (
        "%d %s facilit%s off the network (no household reaches %s): %s. Their floor area "
        "gets no verdict; with communities it still counts toward its community."
    ): "{0} 处{1}设施不在步行网络上（无住户可达）：{4}。其面积不单独评定；有社区时仍计入所在社区。",
    (
        "Facility category labels planner does not know (measured only, no rule counts "
        "them): %s; map them in the review file's [categories] table or with --map-category "
        "LABEL=CATEGORY."
    ): (
        "未识别的设施类别标签（仅测量，不计入任何规则）：{0}；请在评估文件的 [categories] 表中"
        "映射，或使用 --map-category 标签=类别。"
    ),
    "Kept the largest component; dropped %d components, %d nodes, %.2f km": (
        "保留最大连通分量；去掉 {0} 个分量、{1} 个节点、{2:.2f} 公里"
    ),
    "%d ways cut at %d node refs missing from %s": "{0} 条道路在 {2} 缺失的 {1} 个节点处截断",
    "%s is not valid UTF-8; read it as GBK (GB18030)": (
        "{0} 不是有效的 UTF-8，按 GBK（GB18030）读取"
    ),
    "%s has no .cpg file and is not valid UTF-8; read it as GBK (GB18030)": (
        "{0} 没有 .cpg 文件且不是有效的 UTF-8，按 GBK（GB18030）读取"
    ),
    "converting %s coordinates to WGS84": "正在把 {0} 坐标转换为 WGS84",
    "reprojecting from %s (%s) to WGS84": "正在从 {0}（{1}）转换为 WGS84",
    "%d %s polygon(s) replaced by representative points (computed in %s)": (
        "{0} 个{1}面要素以其内部代表点代替（在 {2} 中计算）"
    ),
    "Proposing %s sites": "正在选址：{0}",
    "%s: %d sites by %s (%s, gap %s) in %.2f s": "{0}：{1} 处，{2}（{3}，差距 {4}），{5:.2f} 秒",
    "The after-review does not confirm the proposal: %s": "复核与方案不一致：{0}",
    "Starting a local Dask cluster of %d workers": "正在启动本地 Dask 集群（{0} 个工作进程）",
    "Connecting to the Dask scheduler at %s": "正在连接 Dask 调度器：{0}",
    "  unit %s reviewed (%d done, %.1f s)": "  单元 {0} 已完成（已完成 {1} 个，{2:.1f} 秒）",
    "Area %s (%s)": "区域 {0}（{1}）",
    "Batch done (%.1f s)": "批量评估完成（{0:.1f} 秒）",
    "Done in %.1f s": "完成，用时 {0:.1f} 秒",
}
"""English log template -> its Chinese sentence."""

WORDS: Final[dict[str, str]] = {
    "facility": "",
    "facilities": "设施",
    "residences": "居住点",
    " and report": "和报告",
    "": "",
    "the fewest": "覆盖全部住户所需最少的站点",
    "each community's": "各社区所缺的站点",
    "set covering": "集合覆盖",
    "maximal covering": "最大覆盖",
}
"""English words the log lines pass as arguments, in Chinese."""


def _word(text: str) -> str:
    """An English word of a log line in Chinese: `WORDS`, or a category's Chinese label."""
    if text in WORDS:
        return WORDS[text]
    label = CATEGORIES.get(text)
    return label[0] if label else text


def translate(template: str, args: tuple[Any, ...]) -> str | None:
    """The Chinese line of a log record, or None when its template has no translation."""
    sentence = LOG.get(template)
    if sentence is None:
        return None
    shown = [_word(a) if isinstance(a, str) else a for a in args]
    try:
        return sentence.format(*shown)
    except (IndexError, ValueError):  # arguments of another shape than the template's
        return None


__all__ = ["LOG", "WORDS", "translate"]
