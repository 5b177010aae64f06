"""Reading a layer's source: a (Geo)DataFrame, a CSV, an Excel workbook, or a file GDAL reads.

CSV files are read as UTF-8, then GBK (GB18030); a Shapefile honours its ``.cpg`` file, else
UTF-8 then GBK is tried. Excel workbooks (``.xlsx``) are read with openpyxl, one sheet (``sheet=``
by name or 0-based index; by default the only sheet that holds data). The result is a
:class:`_Raw` frame, not yet checked or reprojected."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import geopandas as gpd
import pandas as pd
import pyogrio
import pyogrio.errors

from planner.layers._columns import _Funnel, _listing

logger = logging.getLogger(__name__)

_CSV_SUFFIXES: Final = frozenset({".csv", ".tsv", ".txt"})
_EXCEL_SUFFIXES: Final = frozenset({".xlsx", ".xlsm"})
_OLD_EXCEL_SUFFIXES: Final = frozenset({".xls", ".et"})
_GEOJSON_SUFFIXES: Final = frozenset({".geojson", ".json"})
_GBK_CODEC: Final = "gb18030"  # superset of GBK: decodes every GBK byte sequence identically
_KIND_ZH: Final = {
    "facilities": "设施",
    "residences": "居住点",
    "communities": "社区",
    "proposed": "拟建设施",
    "candidates": "候选点",
    "input": "输入",
}


@dataclass
class _Raw:
    frame: pd.DataFrame  # a GeoDataFrame unless is_table
    label: str
    path: Path | None
    is_table: bool  # no geometry: points come from longitude/latitude columns
    crs_implicit: bool  # GeoJSON without a "crs" member: EPSG:4326 only by convention
    kind: str = "input"  # facilities, residences, communities, proposed, candidates, input
    label_zh: str = "输入图层"  # ``label`` in Chinese


def _is_path(source: Any) -> bool:
    return isinstance(source, str | Path)


def _label_for(source: Any, kind: str, layer: str | None) -> tuple[str, str]:
    """How messages name the layer, in English and in Chinese."""
    kind_zh = _KIND_ZH.get(kind, kind)
    if _is_path(source):
        text, zh = f"{kind} file '{source}'", f"{kind_zh}文件 '{source}'"
        if layer is not None:
            return f"{text} (layer '{layer}')", f"{zh}（图层 '{layer}'）"
        return text, zh
    return f"{kind} layer", f"{kind_zh}图层"


def _read_source(
    source: Any,
    *,
    kind: str,
    layer: str | None,
    encoding: str | None,
    text_cols: Sequence[str] = (),
    sheet: str | int | None = None,
) -> _Raw:
    """Read ``source`` into a new frame; raise InputError at once when it cannot be read."""
    label, label_zh = _label_for(source, kind, layer if sheet is None else None)
    if sheet is not None and _is_path(source):
        label += f" (sheet '{sheet}')"
        label_zh += f"（工作表 '{sheet}'）"
    if isinstance(source, pd.DataFrame):
        funnel = _Funnel(label, label_zh)
        for given, shown in (("layer", layer), ("encoding", encoding), ("sheet", sheet)):
            if shown is not None:
                funnel.add(
                    f"{given}={shown!r} was given for an in-memory table",
                    f"drop {given}=",
                    zh=(f"对内存中的表给了 {given}={shown!r}", f"去掉 {given}="),
                )
        funnel.raise_if_any()
        frame = source.copy(deep=True)
        is_table = not isinstance(frame, gpd.GeoDataFrame) or frame.active_geometry_name is None
        if is_table and isinstance(frame, gpd.GeoDataFrame):
            frame = pd.DataFrame(frame)
        return _Raw(frame, label, None, is_table, False, kind, label_zh)
    if not _is_path(source):
        raise TypeError(
            f"{kind}: expected a path (str or pathlib.Path) or a GeoDataFrame, "
            f"got {type(source).__name__}"
        )
    path = Path(source)
    funnel = _Funnel(label, label_zh)
    if not path.exists():
        raise funnel.fail_now(
            "the file does not exist", "check the path", zh=("文件不存在", "请检查路径")
        )
    suffix = path.suffix.lower()
    if suffix in _OLD_EXCEL_SUFFIXES:
        raise funnel.fail_now(
            f"is an old-format workbook ({suffix})",
            "save it from Excel or WPS as .xlsx (Excel Workbook) or as CSV",
            zh=(
                f"是旧格式的工作簿（{suffix}）",
                "用 Excel 或 WPS 另存为 .xlsx（Excel 工作簿）或 CSV",
            ),
        )
    if sheet is not None and suffix not in _EXCEL_SUFFIXES:
        raise funnel.fail_now(
            f"sheet={sheet!r} was given but the file is not an Excel workbook (.xlsx)",
            "drop sheet= (it applies to .xlsx files only; use layer= for GeoPackages)",
            zh=(
                f"给了 sheet={sheet!r}，但该文件不是 Excel 工作簿（.xlsx）",
                "去掉 sheet=（它只适用于 .xlsx 文件；GeoPackage 请用 layer=）",
            ),
        )
    if suffix in _EXCEL_SUFFIXES:
        if layer is not None:
            raise funnel.fail_now(
                f"layer='{layer}' was given for an Excel workbook",
                f"name the sheet with sheet='{layer}' instead of layer=",
                zh=(
                    f"对 Excel 工作簿给了 layer='{layer}'",
                    f"改用 sheet='{layer}' 指明工作表，不用 layer=",
                ),
            )
        if encoding is not None:
            logger.debug("%s: an .xlsx file stores Unicode text; encoding= is not used", path)
        frame = _read_excel(path, sheet=sheet, text_cols=text_cols, funnel=funnel)
        return _Raw(frame, label, path, True, False, kind, label_zh)
    if suffix in _CSV_SUFFIXES:
        if layer is not None:
            raise funnel.fail_now(
                f"layer='{layer}' was given for a CSV file",
                "drop layer=",
                zh=(f"对 CSV 文件给了 layer='{layer}'", "去掉 layer="),
            )
        frame = _read_csv(path, encoding=encoding, text_cols=text_cols, funnel=funnel)
        return _Raw(frame, label, path, True, False, kind, label_zh)
    frame = _read_ogr(path, layer=layer, encoding=encoding, text_cols=text_cols, funnel=funnel)
    implicit = suffix in _GEOJSON_SUFFIXES and not _geojson_has_crs_member(path)
    is_table = frame.__class__ is pd.DataFrame
    return _Raw(frame, label, path, is_table, implicit, kind, label_zh)


def excel_sheets(path: Path) -> list[str]:
    """The sheet names of an ``.xlsx`` workbook, in order (raises what openpyxl raises)."""
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        return list(book.sheetnames)
    finally:
        book.close()


def _read_excel(
    path: Path, *, sheet: str | int | None, text_cols: Sequence[str], funnel: _Funnel
) -> pd.DataFrame:
    import zipfile

    try:
        book = pd.ExcelFile(path, engine="openpyxl")
    except (zipfile.BadZipFile, ValueError, KeyError, OSError) as exc:
        raise funnel.fail_now(
            f"cannot be read as an Excel workbook ({exc})",
            "save it from Excel as .xlsx or CSV",
            zh=(f"无法作为 Excel 工作簿读取（{exc}）", "用 Excel 另存为 .xlsx 或 CSV"),
        ) from exc
    with book:
        names = [str(n) for n in book.sheet_names]
        if sheet is None:
            frames = {name: _sheet(book, name) for name in names}
            filled = [name for name in names if len(frames[name].columns)]
            if len(filled) > 1:
                raise funnel.fail_now(
                    f"holds {len(filled)} sheets with data ({_listing(filled)})",
                    'pass sheet=... (sheet = "..." under the layer\'s table in review.toml) '
                    "with the sheet's name or its 0-based number",
                    zh=(
                        f"有 {len(filled)} 个含数据的工作表（{_listing(filled, zh=True)}）",
                        '用 sheet=...（review.toml 中该图层的表下写 sheet = "..."）'
                        "给出工作表的名称或从 0 起的序号",
                    ),
                )
            chosen = filled[0] if filled else names[0]
            frame = frames[chosen]
        else:
            chosen = _sheet_name(sheet, names, funnel)
            frame = _sheet(book, chosen)
    frame = frame.dropna(how="all").reset_index(drop=True)  # rows Excel keeps after a delete
    others = [c for c in frame.columns if c not in text_cols]
    frame[others] = frame[others].infer_objects()  # cells' own types; text is never parsed
    unnamed = [c for c in frame.columns if str(c).startswith("Unnamed:")]
    frame = frame.drop(columns=[c for c in unnamed if frame[c].isna().all()])
    frame.columns = [str(c).strip() if isinstance(c, str) else c for c in frame.columns]
    for col in text_cols:
        if col in frame.columns:
            frame[col] = pd.Series(
                [_excel_text(v) for v in frame[col].to_numpy()], index=frame.index, dtype="string"
            )
    logger.debug("read %s, sheet %s", path, chosen)
    return frame


def _sheet(book: pd.ExcelFile, name: str) -> pd.DataFrame:
    """One sheet with every cell as openpyxl gives it (text such as "007" stays text)."""
    return pd.read_excel(book, sheet_name=name, dtype=object)


def _sheet_name(sheet: str | int, names: list[str], funnel: _Funnel) -> str:
    if isinstance(sheet, str) and sheet in names:
        return sheet
    text = str(sheet).strip()
    if text.lstrip("-").isdigit() and not isinstance(sheet, bool):
        number = int(text)
        if 0 <= number < len(names):
            return names[number]
    raise funnel.fail_now(
        f"has no sheet {sheet!r} (sheets: {_listing(names)})",
        "pass one of those names as sheet=, or its 0-based number",
        zh=(
            f"没有工作表 {sheet!r}（现有工作表：{_listing(names, zh=True)}）",
            "用 sheet= 给出其中一个名称，或其从 0 起的序号",
        ),
    )


def _excel_text(value: Any) -> Any:
    """An Excel cell as text: whole numbers without ``.0``, empty cells missing."""
    if value is None or (isinstance(value, float) and value != value):
        return pd.NA
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _geojson_has_crs_member(path: Path) -> bool:
    with path.open("rb") as fh:
        head = fh.read(1 << 16)
    return re.search(rb'"crs"\s*:', head) is not None


def _read_csv(
    path: Path, *, encoding: str | None, text_cols: Sequence[str], funnel: _Funnel
) -> pd.DataFrame:
    sep = "\t" if path.suffix.lower() == ".tsv" else ","
    candidates = [encoding] if encoding is not None else ["utf-8-sig", _GBK_CODEC]
    last_error: Exception | None = None
    for enc in candidates:
        try:
            header = pd.read_csv(path, sep=sep, encoding=enc, nrows=0)
            dtypes = {c: "string" for c in text_cols if c in header.columns}
            frame = pd.read_csv(path, sep=sep, encoding=enc, dtype=dtypes)
        except UnicodeDecodeError as exc:
            last_error = exc
            continue
        except LookupError as exc:
            raise funnel.fail_now(
                f"unknown encoding '{enc}' ({exc})",
                "pass a valid encoding=, e.g. utf-8 or gbk",
                zh=(
                    f"未知的编码 '{enc}'（{exc}）",
                    "用 encoding= 给出有效的编码，例如 utf-8 或 gbk",
                ),
            ) from exc
        except pd.errors.EmptyDataError as exc:
            raise funnel.fail_now(
                "the file is empty", "export the layer again", zh=("文件是空的", "请重新导出该图层")
            ) from exc
        except (pd.errors.ParserError, ValueError, OSError) as exc:
            raise funnel.fail_now(
                f"cannot be read as CSV ({exc})",
                "save it as comma-separated UTF-8 CSV",
                zh=(f"无法作为 CSV 读取（{exc}）", "另存为逗号分隔的 UTF-8 CSV"),
            ) from exc
        if encoding is None and enc == _GBK_CODEC:
            logger.info("%s is not valid UTF-8; read it as GBK (GB18030)", path)
        else:
            logger.debug("read %s with encoding %s", path, enc)
        return frame
    raise funnel.fail_now(
        f"cannot be decoded as {' or '.join(candidates)} ({last_error})",
        "pass encoding=... (or --encoding) with the file's text encoding",
        zh=(
            f"无法按 {' 或 '.join(candidates)} 编码解码（{last_error}）",
            "用 encoding=...（或 --encoding）给出文件的文本编码",
        ),
    )


def _read_ogr(
    path: Path,
    *,
    layer: str | None,
    encoding: str | None,
    text_cols: Sequence[str],
    funnel: _Funnel,
) -> pd.DataFrame:
    try:
        layers = pyogrio.list_layers(path)
    except (pyogrio.errors.DataSourceError, OSError) as exc:
        raise funnel.fail_now(
            f"cannot be read ({exc})",
            "give a GeoPackage, GeoJSON, Shapefile or CSV with lon/lat columns",
            zh=(f"无法读取（{exc}）", "请提供 GeoPackage、GeoJSON、Shapefile 或带经纬度列的 CSV"),
        ) from exc
    names = [str(row[0]) for row in layers]
    if layer is None and len(names) > 1:
        raise funnel.fail_now(
            f"holds {len(names)} layers ({_listing(names)})",
            "pass layer=... (or --layer) to choose one",
            zh=(
                f"有 {len(names)} 个图层（{_listing(names, zh=True)}）",
                "用 layer=...（或 --layer）选择其中一个",
            ),
        )
    if layer is not None and layer not in names:
        raise funnel.fail_now(
            f"has no layer '{layer}' (layers: {_listing(names)})",
            "pass one of those as layer=",
            zh=(
                f"没有图层 '{layer}'（现有图层：{_listing(names, zh=True)}）",
                "用 layer= 给出其中一个",
            ),
        )
    is_shapefile = path.suffix.lower() in {".shp", ".dbf"}
    attempts: list[str | None]
    if encoding is not None:
        attempts = [encoding]
        logger.info("reading %s with the given encoding %s", path, encoding)
    elif is_shapefile and _find_cpg(path) is not None:
        attempts = [None]  # GDAL honours the .cpg file
        logger.info("reading %s with the encoding named in %s", path, _find_cpg(path))
    elif is_shapefile:
        attempts = ["UTF-8", _GBK_CODEC]
    else:
        attempts = [None]
    last_error: Exception | None = None
    for enc in attempts:
        try:
            frame = pyogrio.read_dataframe(path, layer=layer, encoding=enc, fid_as_index=True)
        except UnicodeDecodeError as exc:
            last_error = exc
            continue
        except LookupError as exc:
            raise funnel.fail_now(
                f"unknown encoding '{enc}' ({exc})",
                "pass a valid encoding=, e.g. utf-8 or gbk",
                zh=(
                    f"未知的编码 '{enc}'（{exc}）",
                    "用 encoding= 给出有效的编码，例如 utf-8 或 gbk",
                ),
            ) from exc
        except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, OSError) as exc:
            raise funnel.fail_now(
                f"cannot be read ({exc})",
                "check that the file is complete and not corrupt",
                zh=(f"无法读取（{exc}）", "请检查文件是否完整、未损坏"),
            ) from exc
        if is_shapefile and encoding is None and enc is not None:
            if enc == _GBK_CODEC:
                logger.info(
                    "%s has no .cpg file and is not valid UTF-8; read it as GBK (GB18030)", path
                )
            else:
                logger.info("%s has no .cpg file; read it as UTF-8", path)
        for col in text_cols:
            if col in frame.columns and frame[col].dtype == object:
                frame[col] = frame[col].astype("string")
        return frame
    raise funnel.fail_now(
        f"the attribute table cannot be decoded as UTF-8 or GBK ({last_error})",
        "pass encoding=... (or --encoding) with the table's encoding, or add a .cpg file",
        zh=(
            f"属性表无法按 UTF-8 或 GBK 编码解码（{last_error}）",
            "用 encoding=...（或 --encoding）给出属性表的编码，或补上 .cpg 文件",
        ),
    )


def _find_cpg(path: Path) -> Path | None:
    for suffix in (".cpg", ".CPG"):
        candidate = path.with_suffix(suffix)
        if candidate.exists():
            return candidate
    return None
