"""The validation funnel and the column checks every layer shares.

A :class:`_Funnel` collects every problem of one layer and raises them as one
:class:`~planner.errors.InputError`; :class:`_Rows` names rows in messages. The column helpers
find a column (exact name, else a unique case-insensitive match), report it missing, and check
ids, numbers and category values."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import pandas as pd

from planner.errors import InputError
from planner.standards import normalise_category

logger = logging.getLogger(__name__)

_MAX_LISTED: Final = 10
_MEANING_ZH: Final = {
    "unique feature ids": "唯一的要素编号",
    "names": "名称",
    "facility categories": "设施类别",
    "floor areas in m²": "建筑面积（m²）",
    "household counts": "户数",
    "sub-districts (街道)": "街道",
    "districts (区/县)": "区/县",
}


@dataclass
class _Funnel:
    """Collects every problem of one layer, then raises them as one InputError."""

    label: str  # "file 'x.gpkg'" or "facilities layer"
    label_zh: str  # the same in Chinese: "设施文件 'x.gpkg'", "设施图层"
    row_note: str = ""
    problems: list[str] = field(default_factory=list)
    problems_zh: list[str | None] = field(default_factory=list)

    def add(self, what: str, fix: str, *, zh: tuple[str, str] | None = None) -> None:
        """A problem and its fix; ``zh``: the two in Chinese, where written."""
        self.problems.append(f"{self.label}: {what}. Fix: {fix}")
        self.problems_zh.append(None if zh is None else f"{self.label_zh}：{zh[0]}。修正：{zh[1]}")

    def fail_now(self, what: str, fix: str, *, zh: tuple[str, str] | None = None) -> InputError:
        self.add(what, fix, zh=zh)
        return self.error()

    def error(self) -> InputError:
        n = len(self.problems)
        head = f"{self.label} cannot be used ({n} problem{'s' if n != 1 else ''}"
        head += f"; {self.row_note})" if self.row_note else ")"
        body = "\n".join(f"  {i}. {p}" for i, p in enumerate(self.problems, start=1))
        zh = None
        if all(p is not None for p in self.problems_zh):  # every problem written in Chinese
            lines = "\n".join(f"  {i}. {p}" for i, p in enumerate(self.problems_zh, start=1))
            note = "；行号按文件中要素的顺序从 1 起算" if self.row_note else ""
            zh = f"{self.label_zh} 无法使用（{n} 个问题{note}）：\n{lines}"
        return InputError(f"{head}:\n{body}", zh=zh)

    def raise_if_any(self) -> None:
        if self.problems:
            raise self.error()


def _listing(items: Sequence[Any], *, limit: int = _MAX_LISTED, zh: bool = False) -> str:
    shown = ("、" if zh else ", ").join(str(i) for i in items[:limit])
    if len(items) > limit:
        shown += (
            f" 等（另有 {len(items) - limit} 个）" if zh else f" ... and {len(items) - limit} more"
        )
    return shown


@dataclass
class _Rows:
    """Names rows for messages: file rows count features from 1, frames use index labels."""

    from_file: bool
    index: pd.Index
    ids: np.ndarray | None = None  # set once ids are known and usable

    def name(self, positions: np.ndarray) -> str:
        positions = np.asarray(positions)
        word = "row" if self.from_file else "index"
        if self.from_file:
            labels = [int(p) + 1 for p in positions]
        else:
            labels = [self.index[int(p)] for p in positions]
        text = f"{word}{'s' if len(labels) != 1 and self.from_file else ''} {_listing(labels)}"
        if self.ids is not None:
            text += f" (id {_listing([self.ids[int(p)] for p in positions])})"
        return text

    def name_zh(self, positions: np.ndarray) -> str:
        """The same rows in Chinese: ``第 3、5 行（id a、b）``, ``索引 x``."""
        positions = np.asarray(positions)
        if self.from_file:
            text = f"第 {_listing([int(p) + 1 for p in positions], zh=True)} 行"
        else:
            text = f"索引 {_listing([self.index[int(p)] for p in positions], zh=True)}"
        if self.ids is not None:
            text += f"（id {_listing([self.ids[int(p)] for p in positions], zh=True)}）"
        return text


def _numeric_values(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Float values and a mask of entries that are present but not numbers."""
    raw = series
    if raw.dtype == object or isinstance(raw.dtype, pd.StringDtype):
        raw = raw.astype("string").str.strip().replace("", pd.NA)
    num = pd.to_numeric(raw, errors="coerce")
    values = np.array(pd.Series(num).astype("Float64").to_numpy(dtype=float, na_value=np.nan))
    present = np.asarray(raw.notna())
    return values, present & np.isnan(values)


@dataclass(frozen=True)
class _Col:
    canonical: str
    given: str
    default: str
    flag: str
    meaning: str
    aliases: tuple[str, ...] = ()  # other names looked for when ``given`` is the default

    @property
    def meaning_zh(self) -> str:
        """``meaning`` in Chinese."""
        return _MEANING_ZH.get(self.meaning, self.meaning)


def _find_column(frame: pd.DataFrame, col: _Col) -> Any | None:
    """The frame's column for ``col``: exact name, else a unique case-insensitive match, else
    (when the default name was left) the first of ``col.aliases`` the frame has."""
    if col.given in frame.columns:
        return col.given
    folded = [c for c in frame.columns if str(c).strip().lower() == col.given.strip().lower()]
    if len(folded) == 1:
        logger.info("using column '%s' for %s='%s'", folded[0], col.flag, col.given)
        return folded[0]
    if col.given == col.default:
        stripped = {str(c).strip().lower(): c for c in frame.columns}
        for alias in col.aliases:
            if alias.lower() in stripped:
                found = stripped[alias.lower()]
                logger.info("using column '%s' for %s (%s)", found, col.canonical, col.meaning)
                return found
    return None


def _missing_column(frame: pd.DataFrame, col: _Col, funnel: _Funnel) -> None:
    geometry_name = getattr(frame, "active_geometry_name", None)
    existing = _listing([str(c) for c in frame.columns if c != geometry_name], limit=30)
    funnel.add(
        f"column '{col.given}' ({col.meaning}) is missing (columns: {existing})",
        f"pass {col.flag.replace('-', '_')}=... (or --{col.flag.replace('_', '-')}) naming the "
        f"column that holds {col.meaning}",
        zh=(
            f"缺少列 '{col.given}'（{col.meaning_zh}）（现有列：{existing}）",
            f"用 {col.flag.replace('-', '_')}=...（或 --{col.flag.replace('_', '-')}）指明"
            f"存放{col.meaning_zh}的列",
        ),
    )


def _numeric_column(
    frame: pd.DataFrame,
    source_name: Any,
    col: _Col,
    *,
    values_required: bool,
    rows: _Rows,
    funnel: _Funnel,
) -> np.ndarray:
    values, not_number = _numeric_values(frame[source_name])
    raw = frame[source_name].to_numpy()
    where = f"column '{source_name}' ({col.meaning})"
    where_zh = f"列 '{source_name}'（{col.meaning_zh}）"
    if not_number.any():
        at = np.flatnonzero(not_number)
        shown = [repr(v) for v in raw[not_number]]
        funnel.add(
            f"{where} has values that are not numbers at {rows.name(at)}: {_listing(shown)}",
            "write plain numbers (no units or text) in that column",
            zh=(
                f"{where_zh}在{rows.name_zh(at)}有非数字的值：{_listing(shown, zh=True)}",
                "在该列只写数字（不带单位或文字）",
            ),
        )
    infinite = np.isinf(values)
    if infinite.any():
        funnel.add(
            f"{where} has infinite values at {rows.name(np.flatnonzero(infinite))}",
            "write finite numbers in that column",
            zh=(
                f"{where_zh}在{rows.name_zh(np.flatnonzero(infinite))}有无穷大的值",
                "在该列写有限的数字",
            ),
        )
    negative = values < 0
    if negative.any():
        funnel.add(
            f"{where} has negative values at {rows.name(np.flatnonzero(negative))}: "
            f"{_listing(values[negative].tolist())}",
            "counts and areas cannot be negative; correct those values",
            zh=(
                f"{where_zh}在{rows.name_zh(np.flatnonzero(negative))}有负值："
                f"{_listing(values[negative].tolist(), zh=True)}",
                "户数和面积不能为负，请改正这些值",
            ),
        )
    missing = np.isnan(values) & ~not_number
    if values_required and missing.any():
        funnel.add(
            f"{where} is empty at {rows.name(np.flatnonzero(missing))}",
            "fill in those values or delete the rows",
            zh=(
                f"{where_zh}在{rows.name_zh(np.flatnonzero(missing))}为空",
                "填写这些值，或删除这些行",
            ),
        )
    return values


def _category_code(value: Any) -> str:
    """The vocabulary's code of a category value (``"社区服务"`` -> ``"community_service"``);
    ``""`` when it holds no usable text (reported as blank by the caller)."""
    try:
        return normalise_category(str(value))
    except InputError:
        return ""


def _ids(
    frame: pd.DataFrame, col: _Col, *, rows: _Rows, funnel: _Funnel
) -> tuple[Any | None, np.ndarray | None]:
    """(source column name or None, id values) with problems recorded."""
    name = _find_column(frame, col)
    if name is None:
        if col.given != col.default:
            _missing_column(frame, col, funnel)
            return None, None
        logger.info("no '%s' column: ids are taken from the feature ids / index", col.given)
        values = frame.index.to_numpy(copy=True)
    else:
        values = frame[name].to_numpy(copy=True)
    missing = np.asarray(pd.isna(pd.Series(values)))
    if missing.any():
        funnel.add(
            f"ids in column '{name}' are empty at {rows.name(np.flatnonzero(missing))}",
            "give every feature a unique id",
            zh=(
                f"列 '{name}' 的编号在{rows.name_zh(np.flatnonzero(missing))}为空",
                "给每个要素一个唯一的编号",
            ),
        )
        return name, None
    series = pd.Series(values)
    dup = series.duplicated(keep=False).to_numpy()
    if dup.any():
        counts = series[dup].value_counts(sort=False)
        shown = [f"{k!s} ({v}x)" for k, v in counts.items()]
        source = f"column '{name}'" if name is not None else "the index"
        source_zh = f"列 '{name}' " if name is not None else "索引"
        at = np.flatnonzero(dup)
        funnel.add(
            f"duplicate ids in {source}: {_listing(shown)} at {rows.name(at)}",
            "make the ids unique"
            + (", or pass id_col=... (or --id-col) naming a unique column" if name else ""),
            zh=(
                f"{source_zh}中有重复的编号：{_listing(shown, zh=True)}，位于{rows.name_zh(at)}",
                "让编号互不重复"
                + ("，或用 id_col=...（或 --id-col）指明一个编号唯一的列" if name else ""),
            ),
        )
        return name, None
    return name, values
