"""Reading a layer's source: a (Geo)DataFrame, a CSV, or a file GDAL reads, with its encoding.

CSV files are read as UTF-8, then GBK (GB18030); a Shapefile honours its ``.cpg`` file, else
UTF-8 then GBK is tried. The result is a :class:`_Raw` frame, not yet checked or reprojected."""

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
_GEOJSON_SUFFIXES: Final = frozenset({".geojson", ".json"})
_GBK_CODEC: Final = "gb18030"  # superset of GBK: decodes every GBK byte sequence identically


@dataclass
class _Raw:
    frame: pd.DataFrame  # a GeoDataFrame unless is_table
    label: str
    path: Path | None
    is_table: bool  # no geometry: points come from longitude/latitude columns
    crs_implicit: bool  # GeoJSON without a "crs" member: EPSG:4326 only by convention


def _is_path(source: Any) -> bool:
    return isinstance(source, str | Path)


def _label_for(source: Any, kind: str, layer: str | None) -> str:
    if _is_path(source):
        text = f"{kind} file '{source}'"
        return f"{text} (layer '{layer}')" if layer is not None else text
    return f"{kind} layer"


def _read_source(
    source: Any,
    *,
    kind: str,
    layer: str | None,
    encoding: str | None,
    text_cols: Sequence[str] = (),
) -> _Raw:
    """Read ``source`` into a new frame; raise InputError at once when it cannot be read."""
    label = _label_for(source, kind, layer)
    if isinstance(source, pd.DataFrame):
        funnel = _Funnel(label)
        if layer is not None:
            funnel.add(f"layer='{layer}' was given for an in-memory table", "drop layer=")
        if encoding is not None:
            funnel.add(f"encoding='{encoding}' was given for an in-memory table", "drop encoding=")
        funnel.raise_if_any()
        frame = source.copy(deep=True)
        is_table = not isinstance(frame, gpd.GeoDataFrame) or frame.active_geometry_name is None
        if is_table and isinstance(frame, gpd.GeoDataFrame):
            frame = pd.DataFrame(frame)
        return _Raw(frame, label, None, is_table, crs_implicit=False)
    if not _is_path(source):
        raise TypeError(
            f"{kind}: expected a path (str or pathlib.Path) or a GeoDataFrame, "
            f"got {type(source).__name__}"
        )
    path = Path(source)
    funnel = _Funnel(label)
    if not path.exists():
        raise funnel.fail_now("the file does not exist", "check the path")
    if path.suffix.lower() in _CSV_SUFFIXES:
        if layer is not None:
            raise funnel.fail_now(f"layer='{layer}' was given for a CSV file", "drop layer=")
        frame = _read_csv(path, encoding=encoding, text_cols=text_cols, funnel=funnel)
        return _Raw(frame, label, path, True, crs_implicit=False)
    frame = _read_ogr(path, layer=layer, encoding=encoding, text_cols=text_cols, funnel=funnel)
    implicit = path.suffix.lower() in _GEOJSON_SUFFIXES and not _geojson_has_crs_member(path)
    return _Raw(frame, label, path, frame.__class__ is pd.DataFrame, crs_implicit=implicit)


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
                f"unknown encoding '{enc}' ({exc})", "pass a valid encoding=, e.g. utf-8 or gbk"
            ) from exc
        except pd.errors.EmptyDataError as exc:
            raise funnel.fail_now("the file is empty", "export the layer again") from exc
        except (pd.errors.ParserError, ValueError, OSError) as exc:
            raise funnel.fail_now(
                f"cannot be read as CSV ({exc})", "save it as comma-separated UTF-8 CSV"
            ) from exc
        if encoding is None and enc == _GBK_CODEC:
            logger.info("%s is not valid UTF-8; read it as GBK (GB18030)", path)
        else:
            logger.debug("read %s with encoding %s", path, enc)
        return frame
    raise funnel.fail_now(
        f"cannot be decoded as {' or '.join(candidates)} ({last_error})",
        "pass encoding=... (or --encoding) with the file's text encoding",
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
        ) from exc
    names = [str(row[0]) for row in layers]
    if layer is None and len(names) > 1:
        raise funnel.fail_now(
            f"holds {len(names)} layers ({_listing(names)})",
            "pass layer=... (or --layer) to choose one",
        )
    if layer is not None and layer not in names:
        raise funnel.fail_now(
            f"has no layer '{layer}' (layers: {_listing(names)})", "pass one of those as layer="
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
                f"unknown encoding '{enc}' ({exc})", "pass a valid encoding=, e.g. utf-8 or gbk"
            ) from exc
        except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, OSError) as exc:
            raise funnel.fail_now(
                f"cannot be read ({exc})", "check that the file is complete and not corrupt"
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
    )


def _find_cpg(path: Path) -> Path | None:
    for suffix in (".cpg", ".CPG"):
        candidate = path.with_suffix(suffix)
        if candidate.exists():
            return candidate
    return None
