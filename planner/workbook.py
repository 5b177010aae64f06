"""``review.xlsx``: the review's tables in one Excel workbook, in the review's language.

One sheet per table (communities, sub-districts, districts, facilities, gaps, residences, and the
parameters from the summary), headers in Chinese by default (English with ``lang="en"``), numbers
written as numbers (rates as percentages), column widths set for the text (CJK characters count
double), the header row frozen with a filter, and the verdict cells coloured: green pass, red fail,
grey no verdict, orange partly covered (`planner.maps.STATUS_COLOURS`). Written atomically, and
byte-identical run to run (the document's dates are pinned; XlsxWriter dates the archive's entries
itself).
See docs/ARCHITECTURE.md, "Output contract".
"""

from __future__ import annotations

import datetime as dt
import io
import math
import os
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd

from planner._files import replace_atomically
from planner._geo import OFFSET_SYSTEMS, wgs84_to_offset
from planner.errors import InputError
from planner.maps import STATUS_COLOURS

if TYPE_CHECKING:
    from planner.checks import CheckResult

LANGS: Final = ("zh", "en")

_PASS, _FAIL, _NONE = (
    STATUS_COLOURS["covered"],
    STATUS_COLOURS["uncovered"],
    STATUS_COLOURS["off_network"],
)
_PARTLY = STATUS_COLOURS["partly"]
_HEADER_FILL: Final = "#d9d9d9"
_FIXED_CREATED: Final = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)  # docProps/core.xml's dates
_MAX_WIDTH: Final = 60

SHEETS: Final = {
    "communities": ("社区", "communities"),
    "subdistricts": ("街道", "sub-districts"),
    "districts": ("区县", "districts"),
    "facilities": ("设施", "facilities"),
    "gaps": ("缺口", "gaps"),
    "residences": ("居住点", "residences"),
    "parameters": ("参数", "parameters"),
}
"""Sheet key -> (Chinese name, English name), in workbook order."""

HEADERS: Final = {
    "id": ("编号", "id"),
    "name": ("名称", "name"),
    "category": ("类别", "category"),
    "community_id": ("社区编号", "community id"),
    "subdistrict": ("街道", "sub-district"),
    "district": ("区县", "district"),
    "lon": ("经度（WGS84）", "longitude (WGS84)"),
    "lat": ("纬度（WGS84）", "latitude (WGS84)"),
    "lon_gcj02": ("经度（GCJ-02）", "longitude (GCJ-02)"),
    "lat_gcj02": ("纬度（GCJ-02）", "latitude (GCJ-02)"),
    "lon_bd09": ("经度（BD-09）", "longitude (BD-09)"),
    "lat_bd09": ("纬度（BD-09）", "latitude (BD-09)"),
    "households": ("户数", "households"),
    "households_method": ("户数来源", "households from"),
    "households_estimated": ("户数为估算", "households estimated"),
    "households_source": ("户数来源", "households from"),
    "households_off_network": ("不在路网的户数", "households off the network"),
    "households_in_catchment": ("服务范围内户数", "households in catchment"),
    "on_network": ("在步行网络上", "on the network"),
    "access_m": ("接入距离（米）", "access (m)"),
    "floor_area_m2": ("建筑面积（平方米）", "floor area (m²)"),
    "supply_m2": ("设施面积（平方米）", "supply (m²)"),
    "m2_per_100hh": ("每百户面积（平方米）", "m² per 100 households"),
    "floor_area_m2_per_100hh": ("每百户面积（平方米）", "m² per 100 households"),
    "floor_area_ok": ("面积达标", "floor area met"),
    "proposed": ("规划新增", "proposed"),
    "status": ("覆盖状况", "coverage status"),
    "walk_m": ("步行距离（米）", "walk (m)"),
    "short_by_m": ("超出距离（米）", "short by (m)"),
    "compliant": ("达标", "compliant"),
    "verdict": ("结论", "verdict"),
    "fails": ("未达标项", "fails"),
    "communities": ("社区数", "communities"),
    "compliant_communities": ("达标社区数", "compliant communities"),
    "communities_without_households": ("无住户社区数", "communities without households"),
    "residences": ("居住点数", "residences"),
    "households_layer": ("图层户数", "households in the layer"),
    "compliant_share": ("达标社区比例", "compliant share"),
    "target_compliant": ("目标达标社区数", "target compliant communities"),
    "target_share": ("目标达标比例", "target share"),
    "meets_target": ("达到目标", "meets target"),
    "parameter": ("参数", "parameter"),
    "value": ("值", "value"),
    "key": ("summary.json 键", "summary.json key"),
}
"""Column -> (Chinese header, English header) for every fixed column of the review's tables."""

RULE_PREFIXES: Final = {
    "nearest_id": ("最近设施", "nearest"),
    "walk_m": ("步行距离（米）", "walk (m)"),
    "walk_min": ("步行时间（分钟）", "walk (min)"),
    "covered": ("覆盖", "covered"),
    "coverage_rate": ("覆盖率", "coverage rate"),
    "coverage_ok": ("覆盖达标", "coverage met"),
    "floor_area_m2": ("设施面积（平方米）", "floor area (m²)"),
    "m2_per_100hh": ("每百户面积（平方米）", "m² per 100 households"),
    "floor_area_ok": ("面积达标", "floor area met"),
    "shortfall_m2": ("面积缺口（平方米）", "shortfall (m²)"),
    "households_uncovered": ("超出步行范围户数", "households beyond the walk"),
    "facilities_off_network": ("不在路网的设施数", "facilities off the network"),
}
"""Per-rule column prefix -> (Chinese, English); the header is the prefix's text and the rule key
(``walk_m_health`` -> ``步行距离（米）·health``)."""

_VALUES: Final = {
    "covered": ("全部覆盖", "covered"),
    "partly": ("部分覆盖", "partly"),
    "uncovered": ("未覆盖", "uncovered"),
    "off_network": ("不在路网", "off the network"),
    "compliant": ("达标", "compliant"),
    "fails_coverage": ("覆盖不达标", "fails coverage"),
    "fails_floor_area": ("面积不达标", "fails floor area"),
    "fails_both": ("覆盖与面积均不达标", "fails both"),
    "no_households": ("无住户", "no households"),
}
"""Status and verdict codes as written in the cells (the codes of `planner.schema.STATUSES` and
the communities' verdicts)."""

_CELL_COLOURS: Final = {
    "covered": _PASS,
    "compliant": _PASS,
    "partly": _PARTLY,
    "uncovered": _FAIL,
    "fails_coverage": _FAIL,
    "fails_floor_area": _FAIL,
    "fails_both": _FAIL,
    "off_network": _NONE,
    "no_households": _NONE,
}
_VERDICT_COLUMNS: Final = frozenset({"status", "verdict"})
_PASS_FAIL_COLUMNS: Final = frozenset(
    {"floor_area_ok", "compliant", "meets_target", "covered", "coverage_ok"}
)
_PERCENT_COLUMNS: Final = frozenset({"coverage_rate", "compliant_share", "target_share"})

_PARAMETERS: Final = {
    "planner_version": ("planner 版本", "planner version"),
    "passes": ("结论：全部达标", "verdict: every standard passes"),
    "standard.name": ("标准", "standard"),
    "standard.title_zh": ("标准名称", "standard title (zh)"),
    "standard.title_en": ("标准名称（英文）", "standard title (en)"),
    "parameters.speed_kmh": ("步行速度（千米/小时）", "walking speed (km/h)"),
    "parameters.snap_cap_m": ("接入距离上限（米）", "snap cap (m)"),
    "parameters.allocation": ("面积分配方法", "allocation"),
    "parameters.buffer_m": ("服务范围缓冲（米）", "served-area buffer (m)"),
    "households.total": ("总户数", "households"),
    "households.method": ("户数来源", "households from"),
    "households.estimated": ("户数为估算", "households estimated"),
    "households.residences": ("居住点数", "residences"),
    "households.off_network_residences": ("不在路网的居住点", "residences off the network"),
}


def header(column: str, lang: str = "zh") -> str:
    """The workbook header of a column: fixed names from `HEADERS`, per-rule columns from
    `RULE_PREFIXES` and the rule key, any other column (kept input attributes) unchanged.

    Examples
    --------
    >>> header("walk_m_health"), header("households", "en"), header("面积")
    ('步行距离（米）·health', 'households', '面积')
    """
    index = LANGS.index(_check_lang(lang))
    if column in HEADERS:
        return HEADERS[column][index]
    prefix = _rule_prefix(column)
    if prefix is not None:
        key = column[len(prefix) + 1 :]
        return f"{RULE_PREFIXES[prefix][index]}·{key}"
    return str(column)


def _rule_prefix(column: str) -> str | None:
    found = [p for p in RULE_PREFIXES if column.startswith(p + "_") and len(column) > len(p) + 1]
    return max(found, key=len) if found else None


def _check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise InputError(f"lang must be one of {', '.join(LANGS)}, not {lang!r}.")
    return lang


def _check_offset(offset_system: str | None) -> None:
    if offset_system is not None and offset_system not in OFFSET_SYSTEMS:
        raise InputError(
            f"offset_system must be one of {', '.join(OFFSET_SYSTEMS)} or None, "
            f"not {offset_system!r}."
        )


def point_table(frame: gpd.GeoDataFrame, offset_system: str | None = None) -> pd.DataFrame:
    """A point layer as a plain table: ``lon``/``lat`` (WGS84, 7 decimals) after the first
    column, then ``lon_<system>``/``lat_<system>`` when ``offset_system`` is gcj02 or bd09."""
    _check_offset(offset_system)
    table = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    lon = frame.geometry.x.to_numpy()
    lat = frame.geometry.y.to_numpy()
    table.insert(1, "lon", np.round(lon, 7))
    table.insert(2, "lat", np.round(lat, 7))
    if offset_system is not None:
        o_lon, o_lat = wgs84_to_offset(lon, lat, offset_system)
        table.insert(3, f"lon_{offset_system}", np.round(o_lon, 7))
        table.insert(4, f"lat_{offset_system}", np.round(o_lat, 7))
    return table


def _tables(result: CheckResult, offset_system: str | None) -> list[tuple[str, pd.DataFrame]]:
    tables: list[tuple[str, pd.DataFrame]] = []
    if result.communities is not None:
        comm = result.communities
        tables.append(("communities", pd.DataFrame(comm.drop(columns=comm.geometry.name))))
    for key in ("subdistricts", "districts"):
        frame = getattr(result, key, None)
        if frame is not None:
            tables.append((key, pd.DataFrame(frame)))
    tables.append(("facilities", point_table(result.facilities, offset_system)))
    tables.append(("gaps", pd.DataFrame(result.gaps)))
    tables.append(("residences", point_table(result.residences, offset_system)))
    return tables


def _flatten(value: Any, path: str) -> Iterable[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _flatten(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list | tuple) and value and all(isinstance(v, dict) for v in value):
        for i, item in enumerate(value):
            name = item.get("key", item.get("category", i)) if isinstance(item, dict) else i
            yield from _flatten(item, f"{path}.{name}")
    elif isinstance(value, list | tuple):
        yield path, "; ".join(str(v) for v in value)
    else:
        yield path, value


def parameters_table(summary: dict[str, Any], lang: str = "zh") -> pd.DataFrame:
    """The summary as a table: ``parameter`` (the main ones named in the review's language),
    ``value`` and ``key`` (the dotted path in summary.json, e.g. ``coverage.health.rate``), one
    row per scalar; the lists of off-network ids and the comparison with a baseline are left to
    ``summary.json``."""
    index = LANGS.index(_check_lang(lang))
    skip = ("off_network", "baseline", "comparison")
    rows = []
    for key, value in summary.items():
        if key in skip:
            continue
        for path, item in _flatten(value, key):
            name = _PARAMETERS.get(path, (path, path))[index]
            rows.append({"parameter": name, "value": item, "key": path})
    return pd.DataFrame(rows, columns=["parameter", "value", "key"])


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _cell_value(value: Any) -> Any:
    """A value written as its own type: numbers as numbers, NaN/NA as empty."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    return str(value)


def _column_values(values: pd.Series) -> list[Any]:
    """A column's cells as `_cell_value` makes them, without a call per cell for plain dtypes."""
    plain = not isinstance(values.dtype, pd.api.extensions.ExtensionDtype)
    if plain and values.dtype.kind in "iub":
        return list(values.to_numpy().tolist())
    if plain and values.dtype.kind == "f":
        return [v if math.isfinite(v) else None for v in values.to_numpy().tolist()]
    return [_cell_value(v) for v in values.astype(object).to_numpy()]


def _text_width(cells: list[Any]) -> int:
    """The widest cell's display width (Chinese characters count two)."""
    texts = {"" if v is None else str(v) for v in cells}
    return max((len(t) if t.isascii() else _display_width(t) for t in texts), default=0)


def _colours(column: str, cells: list[Any], keys: list[Any]) -> list[str | None] | None:
    """The fills of a column's verdict cells (status, verdict, pass/fail columns, the summary's
    ``passes`` rows), or None when the column has none; decided once per column."""
    if column in _VERDICT_COLUMNS:
        return [_NONE if v is None else _CELL_COLOURS.get(str(v)) for v in cells]
    if (_rule_prefix(column) or column) in _PASS_FAIL_COLUMNS:
        return [(_PASS if v else _FAIL) if isinstance(v, bool) else _NONE for v in cells]
    if column == "value":
        passes = [str(k).split(".")[-1] == "passes" for k in keys]
        if any(passes):
            return [
                ((_PASS if v else _FAIL) if isinstance(v, bool) else _NONE) if row else None
                for v, row in zip(cells, passes, strict=True)
            ]
    return None


class _Formats:
    """The workbook's cell formats, each made once (XlsxWriter formats are workbook-wide)."""

    def __init__(self, book: Any) -> None:
        self.header = book.add_format({"bold": True, "bg_color": _HEADER_FILL, "valign": "vcenter"})
        self.percent = book.add_format({"num_format": "0.0%"})
        self.datetime = book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        self._fills: dict[str, Any] = {}
        self._book = book

    def fill(self, colour: str) -> Any:
        """White bold text on ``colour``."""
        found = self._fills.get(colour)
        if found is None:
            found = self._fills[colour] = self._book.add_format(
                {"bg_color": colour, "font_color": "#FFFFFF", "bold": True}
            )
        return found


ROWS_PER_BLOCK: Final = 10_000
"""Rows turned into cell values at a time: a city's 200,000 residences never exist as one
Python object per cell at once."""


def _write_sheet(book: Any, formats: _Formats, title: str, table: pd.DataFrame, lang: str) -> None:
    """One table as a sheet, rows streamed to disk as they are made (XlsxWriter's constant
    memory mode): the header bold on grey and frozen, a filter on every column, verdict cells
    coloured, rates as percentages, each column as wide as its widest cell (at most 60)."""
    sheet = book.add_worksheet(title)
    columns = [str(c) for c in table.columns]
    heads = [header(c, lang) for c in columns]
    sheet.freeze_panes(1, 0)
    if len(table):
        sheet.autofilter(0, 0, len(table), len(columns) - 1)
    sheet.write_row(0, 0, heads, formats.header)
    widths = [_display_width(h) for h in heads]
    for start in range(0, len(table), ROWS_PER_BLOCK):
        block = table.iloc[start : start + ROWS_PER_BLOCK]
        shown, styles = _block_cells(block, columns, formats, lang)
        for c, col in enumerate(shown):
            widths[c] = max(widths[c], _text_width(col))
        rows = zip(zip(*shown, strict=True), zip(*styles, strict=True), strict=True)
        for r, (row, fmts) in enumerate(rows, start=start + 1):
            for c, (value, fmt) in enumerate(zip(row, fmts, strict=True)):
                _write_cell(sheet, formats, r, c, value, fmt)
    for c, width in enumerate(widths):  # XlsxWriter writes the columns' widths at close
        sheet.set_column(c, c, min(width, _MAX_WIDTH) + 2)


def _block_cells(
    block: pd.DataFrame, columns: list[str], formats: _Formats, lang: str
) -> tuple[list[list[Any]], list[list[Any]]]:
    """A block of rows as cells, column by column: the values shown (verdicts in ``lang``) and
    each cell's format (None: plain)."""
    index = LANGS.index(lang)
    cells = [_column_values(block[c]) for c in block.columns]
    keys = cells[columns.index("key")] if "key" in columns else [None] * len(block)
    shown, styles = [], []
    for column, col in zip(columns, cells, strict=True):
        if column in _VERDICT_COLUMNS:
            shown.append(
                [_VALUES[v][index] if isinstance(v, str) and v in _VALUES else v for v in col]
            )
        else:
            shown.append(col)
        coloured = _colours(column, col, keys)
        if coloured is not None:
            styles.append([None if c is None else formats.fill(c) for c in coloured])
        elif (_rule_prefix(column) or column) in _PERCENT_COLUMNS:
            styles.append([formats.percent] * len(col))
        else:
            styles.append([None] * len(col))
    return shown, styles


def _write_cell(sheet: Any, formats: _Formats, r: int, c: int, value: Any, fmt: Any) -> None:
    """One cell by its type, in row order (the sheet streams to disk); an empty cell keeps its
    fill. Text is written as text: never a formula or a link."""
    if value is None:
        if fmt is not None:
            sheet.write_blank(r, c, None, fmt)
    elif isinstance(value, bool):
        sheet.write_boolean(r, c, value, fmt)
    elif isinstance(value, int | float):
        sheet.write_number(r, c, value, fmt)
    elif isinstance(value, str):
        sheet.write_string(r, c, value, fmt)
    else:
        sheet.write_datetime(r, c, value, fmt or formats.datetime)


def _new_book(buffer: IO[bytes]) -> Any:
    """An XlsxWriter workbook writing into ``buffer``, each sheet streamed to disk row by row
    (openpyxl kept every cell object: a city's residences took minutes and gigabytes; see
    bench/RESULTS.md, "review.xlsx")."""
    import xlsxwriter

    return xlsxwriter.Workbook(buffer, {"constant_memory": True})


def _write_book(
    result: CheckResult, target: IO[bytes], lang: str, offset_system: str | None
) -> None:
    """The workbook of ``result`` written into ``target``, the same bytes whenever and wherever
    it is written: the document's dates are pinned, and XlsxWriter dates the archive's entries
    1980-01-31 in local time, which the archive stores as local time (no time zone). ``lang``
    and ``offset_system`` are checked by the callers."""
    index = LANGS.index(lang)
    tables = _tables(result, offset_system)
    tables.append(("parameters", parameters_table(result.summary, lang)))
    book = _new_book(target)
    formats = _Formats(book)
    for key, table in tables:
        _write_sheet(book, formats, SHEETS[key][index], table, lang)
    _close(book)


def _close(book: Any) -> None:
    """Pin the document's dates and close ``book`` (its archive is written then)."""
    book.set_properties({"author": "planner", "created": _FIXED_CREATED})
    book.close()


def workbook_bytes(
    result: CheckResult, *, lang: str = "zh", offset_system: str | None = None
) -> bytes:
    """The bytes of ``review.xlsx`` for ``result``, built in memory (`write_workbook` writes
    the file directly)."""
    _check_lang(lang)
    _check_offset(offset_system)
    buffer = io.BytesIO()
    _write_book(result, buffer, lang, offset_system)
    return buffer.getvalue()


def write_workbook(
    result: CheckResult,
    path: str | os.PathLike[str],
    *,
    lang: str = "zh",
    offset_system: str | None = None,
) -> Path:
    """Write the review's tables to an Excel workbook (``review.xlsx``).

    Parameters
    ----------
    result
        The review (`planner.check`).
    path
        The ``.xlsx`` file to write; replaced atomically (never a half-written file).
    lang
        ``"zh"`` (default) or ``"en"``: sheet names, headers and the status/verdict texts.
    offset_system
        ``"gcj02"`` or ``"bd09"``: facilities and residences also carry their coordinates in
        that system (``lon_gcj02``/``lat_gcj02``...), as the inputs had them.

    Returns
    -------
    Path
        The file written. The same review gives the same bytes.

    Raises
    ------
    InputError
        An unknown ``lang`` or ``offset_system``.
    """
    _check_lang(lang)  # before anything is staged on disk
    _check_offset(offset_system)

    def write(tmp: Path) -> None:
        # Straight into the hidden file `replace_atomically` gives: the archive is never held
        # in memory (at 200,000 residences it was the review's peak; bench/RESULTS.md, 07:58).
        with tmp.open("wb") as target:
            _write_book(result, target, lang, offset_system)

    return replace_atomically(path, write)


__all__ = [
    "HEADERS",
    "LANGS",
    "RULE_PREFIXES",
    "SHEETS",
    "header",
    "parameters_table",
    "point_table",
    "workbook_bytes",
    "write_workbook",
]
