"""Read and validate the user's input layers: facilities, residences, communities.

Every reader accepts a path (GeoPackage, GeoJSON, Shapefile -- including GBK-encoded attribute
tables --, or a CSV with longitude/latitude columns) or an in-memory (Geo)DataFrame, and returns a
new GeoDataFrame in WGS84 (EPSG:4326) with normalised column names:

- facilities: ``id``, ``name``, ``category`` (snake_case), ``floor_area_m2`` (float, NaN when
  unknown), point geometry;
- residences: ``id``, ``name``, ``households`` (float), point geometry;
- communities: ``id``, ``name``, ``households`` (float, NaN when unknown), (multi)polygon geometry.

Polygons given as facilities or residences (building footprints) are replaced by a representative
point computed in a projected CRS, and their footprint area is kept in ``footprint_m2``. Every other
column of the input is kept. The output index is a fresh ``RangeIndex``.

Coordinate reference systems: anything pyproj knows (CGCS2000 EPSG:4490 and its Gauss-Kruger
zones EPSG:4513-4554 included), plus GCJ-02 (``crs="gcj02"``), the offset coordinates of Amap /
Gaode, converted here with the published formula (:func:`gcj02_to_wgs84`, :func:`wgs84_to_gcj02`).

All problems found in a layer are collected and raised together as one :class:`InputError` whose
message names the file (or layer), the column or rows, and the fix. Inputs are never modified.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyogrio.errors
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError

from planner._geo import (
    GCJ02,
    WGS84,
    gcj02_geometries_to_wgs84,
    gcj02_to_wgs84,
    metric_crs,
    wgs84_to_gcj02,
)
from planner.errors import InputError
from planner.standards import normalise_category

__all__ = [
    "GCJ02",
    "gcj02_to_wgs84",
    "read_communities",
    "read_facilities",
    "read_layer",
    "read_residences",
    "to_wgs84",
    "wgs84_to_gcj02",
]

logger = logging.getLogger(__name__)


_GCJ02_NAMES: Final = frozenset({"gcj02", "gcj-02", "gcj_02", "gcj"})
_CSV_SUFFIXES: Final = frozenset({".csv", ".tsv", ".txt"})
_GEOJSON_SUFFIXES: Final = frozenset({".geojson", ".json"})
_LON_NAMES: Final = ("lon", "lng", "long", "longitude", "x", "经度")
_LAT_NAMES: Final = ("lat", "latitude", "y", "纬度")
_GBK_CODEC: Final = "gb18030"  # superset of GBK: decodes every GBK byte sequence identically
_MAX_LISTED: Final = 10
_CRS_HINT: Final = (
    "pass crs=... (or --crs), e.g. EPSG:4490 for CGCS2000 longitude/latitude, EPSG:4523 for "
    "CGCS2000 3-degree Gauss-Kruger zone 35, EPSG:4326 for WGS84, gcj02 for Amap/Gaode coordinates"
)

# ---------------------------------------------------------------------------------------------
# The validation funnel
# ---------------------------------------------------------------------------------------------


@dataclass
class _Funnel:
    """Collects every problem of one layer, then raises them as one InputError."""

    label: str  # "file 'x.gpkg'" or "facilities layer"
    row_note: str = ""
    problems: list[str] = field(default_factory=list)

    def add(self, what: str, fix: str) -> None:
        self.problems.append(f"{self.label}: {what}. Fix: {fix}")

    def fail_now(self, what: str, fix: str) -> InputError:
        self.add(what, fix)
        return self.error()

    def error(self) -> InputError:
        n = len(self.problems)
        head = f"{self.label} cannot be used ({n} problem{'s' if n != 1 else ''}"
        head += f"; {self.row_note})" if self.row_note else ")"
        body = "\n".join(f"  {i}. {p}" for i, p in enumerate(self.problems, start=1))
        return InputError(f"{head}:\n{body}")

    def raise_if_any(self) -> None:
        if self.problems:
            raise self.error()


def _listing(items: Sequence[Any], *, limit: int = _MAX_LISTED) -> str:
    shown = ", ".join(str(i) for i in items[:limit])
    if len(items) > limit:
        shown += f" ... and {len(items) - limit} more"
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


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------


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
            frame = pd.read_csv(path, sep=sep, encoding=enc, dtype=dtypes)  # type: ignore[arg-type]
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


# ---------------------------------------------------------------------------------------------
# Geometry from tables, CRS resolution and reprojection
# ---------------------------------------------------------------------------------------------


def _is_gcj02(crs: object) -> bool:
    # Never compare a pyproj CRS with a string: CRS.__eq__ parses the string (slow, ~1 s).
    return isinstance(crs, str) and crs == GCJ02


def _parse_crs(crs: Any, funnel: _Funnel) -> CRS | str | None:
    """``None``, ``GCJ02`` or a pyproj CRS; records a problem and returns None when unknown."""
    if crs is None:
        return None
    if isinstance(crs, str) and crs.strip().lower() in _GCJ02_NAMES:
        return GCJ02
    try:
        return CRS.from_user_input(crs)
    except CRSError as exc:
        funnel.add(f"crs={crs!r} is not a CRS pyproj knows ({exc})", _CRS_HINT)
        return None


def _find_coordinate_column(
    columns: Sequence[Any], given: str | None, names: Sequence[str], axis: str, funnel: _Funnel
) -> Any | None:
    flag = "lon" if axis == "longitude" else "lat"
    if given is not None:
        if given in columns:
            return given
        funnel.add(
            f"{axis} column '{given}' is missing (columns: {_listing(list(columns), limit=30)})",
            f"pass {flag}_col=... (or --{flag}-col) naming the {axis} column",
        )
        return None
    found = [c for c in columns if str(c).strip().lower() in names]
    if len(found) == 1:
        return found[0]
    if not found:
        funnel.add(
            f"no {axis} column found (looked for {', '.join(names)}; columns: "
            f"{_listing(list(columns), limit=30)})",
            f"pass {flag}_col=... (or --{flag}-col) naming the {axis} column",
        )
    else:
        funnel.add(
            f"several columns could be the {axis}: {', '.join(map(str, found))}",
            f"pass {flag}_col=... (or --{flag}-col) to choose one",
        )
    return None


def _numeric_values(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Float values and a mask of entries that are present but not numbers."""
    raw = series
    if raw.dtype == object or isinstance(raw.dtype, pd.StringDtype):
        raw = raw.astype("string").str.strip().replace("", pd.NA)
    num = pd.to_numeric(raw, errors="coerce")
    values = np.array(pd.Series(num).astype("Float64").to_numpy(dtype=float, na_value=np.nan))
    present = np.asarray(raw.notna())
    return values, present & np.isnan(values)


def _points_from_table(
    frame: pd.DataFrame,
    *,
    lon_col: str | None,
    lat_col: str | None,
    rows: _Rows,
    funnel: _Funnel,
) -> gpd.GeoSeries | None:
    columns = list(frame.columns)
    lon_name = _find_coordinate_column(columns, lon_col, _LON_NAMES, "longitude", funnel)
    lat_name = _find_coordinate_column(columns, lat_col, _LAT_NAMES, "latitude", funnel)
    if lon_name is None or lat_name is None:
        return None
    ok = True
    coords = []
    for name, axis in ((lon_name, "longitude"), (lat_name, "latitude")):
        values, bad = _numeric_values(frame[name])
        if bad.any():
            ok = False
            shown = _listing([repr(v) for v in frame[name].to_numpy()[bad]])
            funnel.add(
                f"{axis} column '{name}' has values that are not numbers at "
                f"{rows.name(np.flatnonzero(bad))}: {shown}",
                "write plain decimal degrees (or coordinates in the CRS given by crs=)",
            )
        missing = np.isnan(values) & ~bad
        if missing.any():
            ok = False
            funnel.add(
                f"{axis} column '{name}' is empty at {rows.name(np.flatnonzero(missing))}",
                "fill in the coordinates or delete those rows",
            )
        coords.append(values)
    if not ok:
        return None
    return gpd.GeoSeries(gpd.points_from_xy(coords[0], coords[1]), index=frame.index)


def _resolve_crs(
    file_crs: CRS | None,
    declared: CRS | str | None,
    *,
    is_table: bool,
    implicit: bool,
    funnel: _Funnel,
) -> CRS | str | None:
    """The CRS the coordinates are really in (a pyproj CRS or GCJ02), or None with a problem."""
    if _is_gcj02(declared):
        if (
            file_crs is None
            or is_table
            or implicit
            or file_crs.equals(WGS84, ignore_axis_order=True)
        ):
            return GCJ02
        funnel.add(
            f"crs=gcj02 was given but the layer says its CRS is {file_crs.name} "
            f"({file_crs.to_string()}); GCJ-02 data are longitude/latitude labelled WGS84",
            "drop crs= if the layer's own CRS is right, or reproject the layer to EPSG:4326 first",
        )
        return None
    if is_table:
        if declared is None:
            logger.info("table without a CRS: reading its coordinates as WGS84 (EPSG:4326)")
            return WGS84
        return declared
    if file_crs is None:
        if declared is None:
            funnel.add("the layer has no coordinate reference system (CRS)", _CRS_HINT)
        return declared
    if declared is None:
        return file_crs
    assert isinstance(declared, CRS)
    if file_crs.equals(declared, ignore_axis_order=True):
        return file_crs
    if implicit:
        logger.warning(
            "GeoJSON without a 'crs' member is WGS84 by convention; using the given %s instead",
            declared.to_string(),
        )
        return declared
    funnel.add(
        f"crs={declared.to_string()} ({declared.name}) was given but the layer says its CRS is "
        f"{file_crs.to_string()} ({file_crs.name})",
        "drop crs= to use the layer's own CRS, or fix the CRS stored in the file (.prj)",
    )
    return None


def _coordinates_fit(geoms: np.ndarray, src: CRS | str, rows: _Rows, funnel: _Funnel) -> bool:
    """Whether longitude/latitude CRSs hold coordinates in range; records a problem if not."""
    geographic = _is_gcj02(src) or (isinstance(src, CRS) and src.is_geographic)
    if not geographic:
        return True
    bounds = shapely.bounds(geoms)
    present = ~np.isnan(bounds[:, 0])
    x_out = (np.abs(bounds[:, [0, 2]]) > 180.0).any(axis=1)
    y_out = (np.abs(bounds[:, [1, 3]]) > 90.0).any(axis=1)
    bad = present & (x_out | y_out)
    if not bad.any():
        return True
    name = "GCJ-02" if isinstance(src, str) else f"{src.to_string()} ({src.name})"
    first = int(np.flatnonzero(bad)[0])
    example = f"x={bounds[first, 0]:.6g}, y={bounds[first, 1]:.6g}"
    swapped = bad & ~x_out & (np.abs(bounds[:, [0, 2]]) <= 90.0).all(axis=1)
    swapped &= (np.abs(bounds[:, [1, 3]]) <= 180.0).all(axis=1)
    if swapped[bad].all():
        funnel.add(
            f"coordinates at {rows.name(np.flatnonzero(bad))} have latitudes beyond 90 degrees "
            f"(e.g. {example}); longitude and latitude look swapped",
            "swap the columns (lon_col= / lat_col=, or --lon-col / --lat-col) or fix the file",
        )
    else:
        funnel.add(
            f"coordinates at {rows.name(np.flatnonzero(bad))} are not longitude/latitude "
            f"(e.g. {example}) although the CRS is {name}; they look projected",
            _CRS_HINT,
        )
    return False


def _gauss_kruger_problem(src: CRS, lon: np.ndarray, rows: _Rows, funnel: _Funnel) -> bool:
    """CGCS2000 Gauss-Kruger (EPSG:4513-4554): eastings with/without the zone prefix mixed up."""
    code = src.to_epsg()
    if code is None or not 4513 <= code <= 4554 or src.area_of_use is None:
        return False
    west, east = src.area_of_use.west - 1.5, src.area_of_use.east + 1.5
    bad = np.isfinite(lon) & ((lon < west) | (lon > east))
    bad |= ~np.isfinite(lon)
    if not bad.any():
        return False
    funnel.add(
        f"coordinates at {rows.name(np.flatnonzero(bad))} fall outside {src.name} "
        f"(EPSG:{code}, longitudes {src.area_of_use.west:g}-{src.area_of_use.east:g} E)",
        "check the zone: EPSG:4513-4533 expect eastings prefixed with the zone number "
        "(e.g. 35500000 for zone 35), EPSG:4534-4554 ('CM' variants) expect eastings near 500000",
    )
    return True


def _reproject(
    geoms: gpd.GeoSeries, src: CRS | str, rows: _Rows, funnel: _Funnel
) -> gpd.GeoSeries | None:
    """Geometries in WGS84, or None after recording problems."""
    values = shapely.force_2d(np.asarray(geoms.array, dtype=object))
    if not _coordinates_fit(values, src, rows, funnel):
        return None
    if _is_gcj02(src):
        logger.info("converting GCJ-02 coordinates to WGS84")
        out = gpd.GeoSeries(gcj02_geometries_to_wgs84(values), index=geoms.index, crs=WGS84)
        return out
    assert isinstance(src, CRS)
    series = gpd.GeoSeries(values, index=geoms.index, crs=src)
    if src.equals(WGS84, ignore_axis_order=True):
        return series.set_crs(WGS84, allow_override=True)
    logger.info("reprojecting from %s (%s) to WGS84", src.to_string(), src.name)
    out = series.to_crs(WGS84)
    out_bounds = shapely.bounds(np.asarray(out.array, dtype=object))
    present = ~shapely.is_missing(values) & ~shapely.is_empty(values)
    if _gauss_kruger_problem(src, np.where(present, out_bounds[:, 0], 0.0), rows, funnel):
        return None
    broken = present & ~np.isfinite(out_bounds).all(axis=1)
    if broken.any():
        funnel.add(
            f"coordinates at {rows.name(np.flatnonzero(broken))} cannot be converted from "
            f"{src.to_string()} ({src.name}) to WGS84",
            "check that the layer's CRS is right; " + _CRS_HINT,
        )
        return None
    return out


def _layer_crs(raw: _Raw) -> CRS | None:
    if raw.is_table:
        return None
    crs = raw.frame.crs  # type: ignore[attr-defined]
    return None if crs is None else CRS.from_user_input(crs)


def _geometry_in_wgs84(
    raw: _Raw,
    *,
    crs: Any,
    lon_col: str | None,
    lat_col: str | None,
    rows: _Rows,
    funnel: _Funnel,
) -> gpd.GeoSeries | None:
    declared = _parse_crs(crs, funnel)
    if raw.is_table:
        geoms = _points_from_table(
            raw.frame, lon_col=lon_col, lat_col=lat_col, rows=rows, funnel=funnel
        )
    else:
        for name, value in (("lon_col", lon_col), ("lat_col", lat_col)):
            if value is not None:
                funnel.add(
                    f"{name}='{value}' was given but the layer already has geometries",
                    f"drop {name}= (it applies to CSV files and plain tables only)",
                )
        geoms = raw.frame.geometry  # type: ignore[attr-defined]
    if crs is not None and declared is None:
        return None  # the unknown crs= is already reported
    src = _resolve_crs(
        _layer_crs(raw), declared, is_table=raw.is_table, implicit=raw.crs_implicit, funnel=funnel
    )
    if geoms is None or src is None:
        return None
    return _reproject(geoms, src, rows, funnel)


# ---------------------------------------------------------------------------------------------
# Geometry kinds
# ---------------------------------------------------------------------------------------------

_POINT, _MULTIPOINT = 0, 4
_POLYGONAL = (3, 6)
_TYPE_NAMES = {
    0: "Point",
    1: "LineString",
    2: "LinearRing",
    3: "Polygon",
    4: "MultiPoint",
    5: "MultiLineString",
    6: "MultiPolygon",
    7: "GeometryCollection",
}


def _check_present(geoms: np.ndarray, rows: _Rows, funnel: _Funnel) -> np.ndarray:
    missing = shapely.is_missing(geoms)
    empty = ~missing & shapely.is_empty(geoms)
    if missing.any():
        funnel.add(
            f"{missing.sum()} feature(s) have no geometry: {rows.name(np.flatnonzero(missing))}",
            "give those features a location or delete them",
        )
    if empty.any():
        funnel.add(
            f"{empty.sum()} feature(s) have an empty geometry: {rows.name(np.flatnonzero(empty))}",
            "give those features a location or delete them",
        )
    return ~(missing | empty)


def _type_listing(type_ids: np.ndarray, bad: np.ndarray) -> str:
    kinds = sorted({_TYPE_NAMES.get(int(t), str(t)) for t in type_ids[bad]})
    return ", ".join(kinds)


def _points_and_footprints(
    geoms: gpd.GeoSeries, *, kind: str, rows: _Rows, funnel: _Funnel
) -> tuple[gpd.GeoSeries, np.ndarray | None] | None:
    """Point geometries (polygons -> representative points) and footprint areas in m²."""
    values = np.asarray(geoms.array, dtype=object)
    present = _check_present(values, rows, funnel)
    type_ids = np.where(present, shapely.get_type_id(values), -1)
    n_parts = shapely.get_num_geometries(values)
    multi_point = (type_ids == _MULTIPOINT) & (n_parts > 1)
    allowed = np.isin(type_ids, (_POINT, _MULTIPOINT, *_POLYGONAL))
    bad = present & (~allowed | multi_point)
    if (present & ~allowed).any():
        wrong = present & ~allowed
        funnel.add(
            f"{kind} must be points or polygons, but {rows.name(np.flatnonzero(wrong))} are "
            f"{_type_listing(type_ids, wrong)}",
            "give those features a point or building polygon, or delete them",
        )
    if multi_point.any():
        funnel.add(
            f"{rows.name(np.flatnonzero(multi_point))} are multi-points with several points",
            "split them into one feature per point (e.g. QGIS 'Multipart to singleparts')",
        )
    if funnel.problems or bad.any():
        return None
    single = np.where(type_ids == _MULTIPOINT, shapely.get_geometry(values, 0), values)
    polygonal = np.isin(type_ids, _POLYGONAL)
    if not polygonal.any():
        return gpd.GeoSeries(single, index=geoms.index, crs=WGS84), None
    poly = gpd.GeoSeries(single[polygonal], crs=WGS84)
    utm = metric_crs(poly)
    projected = poly.to_crs(utm)
    areas = np.full(len(values), np.nan)
    areas[polygonal] = projected.area.to_numpy()
    reps = projected.representative_point().to_crs(WGS84)
    out = single.copy()
    out[polygonal] = np.asarray(reps.array, dtype=object)
    logger.info(
        "%d %s polygon(s) replaced by representative points (computed in %s)",
        int(polygonal.sum()),
        kind,
        utm.name,
    )
    return gpd.GeoSeries(out, index=geoms.index, crs=WGS84), areas


def _polygons(
    geoms: gpd.GeoSeries, *, kind: str, rows: _Rows, funnel: _Funnel
) -> gpd.GeoSeries | None:
    values = np.asarray(geoms.array, dtype=object)
    present = _check_present(values, rows, funnel)
    type_ids = np.where(present, shapely.get_type_id(values), -1)
    wrong = present & ~np.isin(type_ids, _POLYGONAL)
    if wrong.any():
        funnel.add(
            f"{kind} must be polygons, but {rows.name(np.flatnonzero(wrong))} are "
            f"{_type_listing(type_ids, wrong)}",
            "give community boundaries as (multi)polygons",
        )
    if funnel.problems:
        return None
    invalid = ~shapely.is_valid(values)
    if invalid.any():
        repaired = shapely.make_valid(values[invalid])
        polys = [_polygonal_part(g) for g in repaired]
        values = values.copy()
        values[invalid] = polys
        logger.warning(
            "repaired invalid %s polygon(s) at %s (self-intersections etc.)",
            kind,
            rows.name(np.flatnonzero(invalid)),
        )
    return gpd.GeoSeries(values, index=geoms.index, crs=WGS84)


def _polygonal_part(geom: shapely.Geometry) -> shapely.Geometry:
    if shapely.get_type_id(geom) in _POLYGONAL:
        return geom
    parts = shapely.get_parts(geom)
    polys = [p for p in parts if shapely.get_type_id(p) in _POLYGONAL]
    return shapely.union_all(polys)


# ---------------------------------------------------------------------------------------------
# Columns
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Col:
    canonical: str
    given: str
    default: str
    flag: str
    meaning: str


def _find_column(frame: pd.DataFrame, col: _Col) -> Any | None:
    """The frame's column for ``col``: exact name, else a unique case-insensitive match."""
    if col.given in frame.columns:
        return col.given
    folded = [c for c in frame.columns if str(c).strip().lower() == col.given.strip().lower()]
    if len(folded) == 1:
        logger.info("using column '%s' for %s='%s'", folded[0], col.flag, col.given)
        return folded[0]
    return None


def _missing_column(frame: pd.DataFrame, col: _Col, funnel: _Funnel) -> None:
    geometry_name = getattr(frame, "active_geometry_name", None)
    existing = _listing([str(c) for c in frame.columns if c != geometry_name], limit=30)
    funnel.add(
        f"column '{col.given}' ({col.meaning}) is missing (columns: {existing})",
        f"pass {col.flag.replace('-', '_')}=... (or --{col.flag.replace('_', '-')}) naming the "
        f"column that holds {col.meaning}",
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
    if not_number.any():
        funnel.add(
            f"{where} has values that are not numbers at {rows.name(np.flatnonzero(not_number))}: "
            f"{_listing([repr(v) for v in raw[not_number]])}",
            "write plain numbers (no units or text) in that column",
        )
    infinite = np.isinf(values)
    if infinite.any():
        funnel.add(
            f"{where} has infinite values at {rows.name(np.flatnonzero(infinite))}",
            "write finite numbers in that column",
        )
    negative = values < 0
    if negative.any():
        funnel.add(
            f"{where} has negative values at {rows.name(np.flatnonzero(negative))}: "
            f"{_listing(values[negative].tolist())}",
            "counts and areas cannot be negative; correct those values",
        )
    missing = np.isnan(values) & ~not_number
    if values_required and missing.any():
        funnel.add(
            f"{where} is empty at {rows.name(np.flatnonzero(missing))}",
            "fill in those values or delete the rows",
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
        )
        return name, None
    series = pd.Series(values)
    dup = series.duplicated(keep=False).to_numpy()
    if dup.any():
        counts = series[dup].value_counts(sort=False)
        shown = [f"{k!s} ({v}x)" for k, v in counts.items()]
        source = f"column '{name}'" if name is not None else "the index"
        funnel.add(
            f"duplicate ids in {source}: {_listing(shown)} at {rows.name(np.flatnonzero(dup))}",
            "make the ids unique"
            + (", or pass id_col=... (or --id-col) naming a unique column" if name else ""),
        )
        return name, None
    return name, values


# ---------------------------------------------------------------------------------------------
# Public readers
# ---------------------------------------------------------------------------------------------


def to_wgs84(gdf: gpd.GeoDataFrame, *, source_crs: Any = None) -> gpd.GeoDataFrame:
    """Return a copy of ``gdf`` in WGS84 (EPSG:4326).

    Parameters
    ----------
    gdf
        Layer to convert; never modified.
    source_crs
        The CRS the coordinates are in, when ``gdf`` has none, or ``"gcj02"`` for Amap/Gaode
        longitude/latitude (allowed when ``gdf`` has no CRS or says EPSG:4326). Anything
        :meth:`pyproj.CRS.from_user_input` accepts. When ``gdf`` has a CRS, a different
        ``source_crs`` is an error.

    Returns
    -------
    geopandas.GeoDataFrame
        A new frame, geometries in EPSG:4326 (Z dropped).

    Raises
    ------
    InputError
        The CRS is missing, unknown or contradicts ``source_crs``, or the coordinates do not
        fit it.
    """
    funnel = _Funnel("layer")
    raw = _Raw(gdf.copy(deep=True), "layer", None, is_table=False, crs_implicit=False)
    rows = _Rows(from_file=False, index=raw.frame.index)
    geoms = _geometry_in_wgs84(
        raw, crs=source_crs, lon_col=None, lat_col=None, rows=rows, funnel=funnel
    )
    funnel.raise_if_any()
    assert geoms is not None
    out = raw.frame
    return out.set_geometry(geoms.rename(out.geometry.name), crs=WGS84)  # type: ignore[attr-defined]


def read_layer(
    source: str | Path | pd.DataFrame,
    *,
    layer: str | None = None,
    crs: Any = None,
    encoding: str | None = None,
    lon_col: str | None = None,
    lat_col: str | None = None,
) -> gpd.GeoDataFrame:
    """Read any supported layer into WGS84, without checking columns or geometry types.

    Parameters
    ----------
    source
        A GeoPackage, GeoJSON, Shapefile or CSV path, or a (Geo)DataFrame (copied, never
        modified). A plain DataFrame is treated like a CSV.
    layer
        Layer name inside a multi-layer file (GeoPackage). Required when there are several.
    crs
        The CRS of the coordinates when the file has none (CSV: default EPSG:4326), or
        ``"gcj02"`` for Amap/Gaode longitude/latitude. Contradicting the file's CRS is an error.
    encoding
        Text encoding of the attribute table. By default a Shapefile's ``.cpg`` is honoured;
        without one UTF-8 is tried, then GBK. CSV: UTF-8, then GBK.
    lon_col, lat_col
        CSV / table columns holding the coordinates. Detected by default from common names
        (lon, lng, longitude, x, 经度 / lat, latitude, y, 纬度).

    Returns
    -------
    geopandas.GeoDataFrame
        A new frame in EPSG:4326 with a fresh RangeIndex.

    Raises
    ------
    InputError
        Missing, empty or unreadable file, unknown or missing CRS, unusable coordinates.
    """
    raw = _read_source(source, kind="input", layer=layer, encoding=encoding)
    funnel = _Funnel(raw.label)
    if len(raw.frame) == 0:
        raise funnel.fail_now("the layer has no features", "give a layer with at least one feature")
    rows = _Rows(from_file=raw.path is not None, index=raw.frame.index)
    geoms = _geometry_in_wgs84(
        raw, crs=crs, lon_col=lon_col, lat_col=lat_col, rows=rows, funnel=funnel
    )
    funnel.raise_if_any()
    assert geoms is not None
    return _assemble(raw.frame, geoms, leading={}, drop=())


def _assemble(
    frame: pd.DataFrame,
    geoms: gpd.GeoSeries,
    *,
    leading: dict[str, Any],
    drop: Sequence[Any],
) -> gpd.GeoDataFrame:
    """New GeoDataFrame: ``leading`` columns first, then the frame's others, then geometry."""
    geometry_name = getattr(frame, "active_geometry_name", None)
    others = pd.DataFrame(frame).drop(
        columns=[c for c in (*drop, geometry_name) if c is not None and c in frame.columns]
    )
    for name in leading:
        if name in others.columns:
            logger.warning(
                "column '%s' is replaced by the normalised one; kept as '%s_original'", name, name
            )
            others = others.rename(columns={name: f"{name}_original"})
    if "geometry" in others.columns:
        others = others.rename(columns={"geometry": "geometry_original"})
    others = others.reset_index(drop=True)
    data = {name: _reset(value) for name, value in leading.items()}
    out = pd.concat([pd.DataFrame(data, index=others.index), others], axis=1)
    return gpd.GeoDataFrame(out, geometry=np.asarray(geoms.array, dtype=object), crs=WGS84)


def _reset(value: Any) -> Any:
    if isinstance(value, pd.Series):
        return value.reset_index(drop=True)
    return value


@dataclass
class _Prepared:
    raw: _Raw
    funnel: _Funnel
    rows: _Rows
    geoms: gpd.GeoSeries | None
    id_source: Any
    ids: np.ndarray | None
    name: pd.Series | None = None
    used: list[Any] = field(default_factory=list)  # input columns replaced by normalised ones


def _prepare(
    source: Any,
    *,
    kind: str,
    id_col: str,
    name_col: str,
    layer: str | None,
    crs: Any,
    encoding: str | None,
    lon_col: str | None,
    lat_col: str | None,
    allow_table: bool = True,
) -> _Prepared:
    """Read a layer and check what every layer shares: rows, ids, geometry (to WGS84), names."""
    raw = _read_source(source, kind=kind, layer=layer, encoding=encoding, text_cols=(id_col,))
    note = "rows count features from 1 in file order" if raw.path is not None else ""
    funnel = _Funnel(raw.label, row_note=note)
    if raw.is_table and not allow_table:
        raise funnel.fail_now(
            f"{kind} must be polygons, but the input is a table without geometries",
            "give the boundaries as a GeoPackage, GeoJSON or Shapefile of polygons",
        )
    if len(raw.frame) == 0:
        raise funnel.fail_now("the layer has no features", "give a layer with at least one feature")
    rows = _Rows(from_file=raw.path is not None, index=raw.frame.index)
    id_spec = _Col("id", id_col, "id", "id_col", "unique feature ids")
    id_source, ids = _ids(raw.frame, id_spec, rows=rows, funnel=funnel)
    if ids is not None:
        rows.ids = ids
    geoms = _geometry_in_wgs84(
        raw, crs=crs, lon_col=lon_col, lat_col=lat_col, rows=rows, funnel=funnel
    )
    prep = _Prepared(raw, funnel, rows, geoms, id_source, ids)
    if id_source is not None:
        prep.used.append(id_source)
    name_spec = _Col("name", name_col, "name", "name_col", "names")
    prep.name = _optional_text(prep, name_spec, prep.used)
    return prep


def _optional_text(prep: _Prepared, col: _Col, used: list[Any]) -> pd.Series:
    frame = prep.raw.frame
    name = _find_column(frame, col)
    if name is None:
        if col.given != col.default:
            _missing_column(frame, col, prep.funnel)
        return pd.Series(pd.NA, index=frame.index, dtype="string")
    used.append(name)
    return frame[name].astype("string")


def _optional_number(
    prep: _Prepared, col: _Col, used: list[Any], *, required: bool, values_required: bool
) -> np.ndarray:
    frame = prep.raw.frame
    name = _find_column(frame, col)
    if name is None:
        if required or col.given != col.default:
            _missing_column(frame, col, prep.funnel)
        return np.full(len(frame), np.nan)
    used.append(name)
    return _numeric_column(
        frame, name, col, values_required=values_required, rows=prep.rows, funnel=prep.funnel
    )


def read_facilities(
    source: str | Path | pd.DataFrame,
    *,
    id_col: str = "id",
    name_col: str = "name",
    category_col: str = "category",
    floor_area_col: str = "floor_area_m2",
    require_floor_area: bool = False,
    layer: str | None = None,
    crs: Any = None,
    encoding: str | None = None,
    lon_col: str | None = None,
    lat_col: str | None = None,
) -> gpd.GeoDataFrame:
    """Read and validate the facilities layer.

    Parameters
    ----------
    source
        A GeoPackage, GeoJSON, Shapefile or CSV path, or a (Geo)DataFrame (copied, never
        modified).
    id_col
        Column of unique facility ids. When the default ``"id"`` is absent, the feature ids
        (file) or the index (frame) are used.
    name_col
        Column of display names (optional when left at the default).
    category_col
        Column of facility categories (required); values are normalised to snake_case.
    floor_area_col
        Column of floor areas in m².
    require_floor_area
        When True the floor-area column must exist and have a value on every row; otherwise a
        missing column gives NaN.
    layer, crs, encoding, lon_col, lat_col
        As for :func:`read_layer`.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``id``, ``name``, ``category``, ``floor_area_m2`` (float), ``footprint_m2``
        (only when polygons were given), the other input columns, point geometry in EPSG:4326.

    Raises
    ------
    InputError
        Every problem of the layer at once: file, CRS, geometry, columns, values.
    """
    prep = _prepare(
        source,
        kind="facilities",
        id_col=id_col,
        name_col=name_col,
        layer=layer,
        crs=crs,
        encoding=encoding,
        lon_col=lon_col,
        lat_col=lat_col,
    )
    cat_spec = _Col("category", category_col, "category", "category_col", "facility categories")
    category = _categories(prep, cat_spec, prep.used)
    floor_spec = _Col(
        "floor_area_m2", floor_area_col, "floor_area_m2", "floor_area_col", "floor areas in m²"
    )
    floor_area = _optional_number(
        prep, floor_spec, prep.used, required=require_floor_area, values_required=require_floor_area
    )
    return _point_layer(prep, "facilities", {"category": category, "floor_area_m2": floor_area})


def _categories(prep: _Prepared, col: _Col, used: list[Any]) -> pd.Series | None:
    frame = prep.raw.frame
    name = _find_column(frame, col)
    if name is None:
        _missing_column(frame, col, prep.funnel)
        return None
    used.append(name)
    raw = frame[name]
    snake = pd.Series(
        [None if pd.isna(v) else _category_code(v) for v in raw.to_numpy()],
        index=frame.index,
        dtype="string",
    )
    blank = np.asarray(snake.isna() | (snake == ""), dtype=bool)
    if blank.any():
        prep.funnel.add(
            f"column '{name}' (facility categories) is empty at "
            f"{prep.rows.name(np.flatnonzero(blank))}",
            "give every facility a category (e.g. community_service, health, elderly_care)",
        )
    return snake


def _point_layer(prep: _Prepared, kind: str, columns: dict[str, Any]) -> gpd.GeoDataFrame:
    """The layer as points: ``id``, ``name``, ``columns``, ``footprint_m2`` (from polygons)."""
    points = (
        None
        if prep.geoms is None
        else _points_and_footprints(prep.geoms, kind=kind, rows=prep.rows, funnel=prep.funnel)
    )
    prep.funnel.raise_if_any()
    assert points is not None
    geoms, footprints = points
    leading: dict[str, Any] = {"id": prep.ids, "name": prep.name, **columns}
    if footprints is not None:
        leading["footprint_m2"] = footprints
    return _assemble(prep.raw.frame, geoms, leading=leading, drop=prep.used)


def read_residences(
    source: str | Path | pd.DataFrame,
    *,
    id_col: str = "id",
    households_col: str = "households",
    name_col: str = "name",
    layer: str | None = None,
    crs: Any = None,
    encoding: str | None = None,
    lon_col: str | None = None,
    lat_col: str | None = None,
    require_households: bool = True,
) -> gpd.GeoDataFrame:
    """Read and validate the residences layer (points or building polygons).

    Parameters
    ----------
    source
        A GeoPackage, GeoJSON, Shapefile or CSV path, or a (Geo)DataFrame (copied, never
        modified).
    id_col
        Column of unique residence ids; when the default ``"id"`` is absent, feature ids or the
        index are used.
    households_col
        Column of household counts (numbers >= 0; fractional estimates are allowed).
    name_col
        Column of display names (optional when left at the default).
    require_households
        When True (default) the household column must exist and have a value on every row.
        When False a missing column gives NaN (to be estimated, e.g. from buildings).
    layer, crs, encoding, lon_col, lat_col
        As for :func:`read_layer`.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``id``, ``name``, ``households`` (float), ``footprint_m2`` (only when polygons
        were given), the other input columns, point geometry in EPSG:4326.

    Raises
    ------
    InputError
        Every problem of the layer at once: file, CRS, geometry, columns, values.
    """
    prep = _prepare(
        source,
        kind="residences",
        id_col=id_col,
        name_col=name_col,
        layer=layer,
        crs=crs,
        encoding=encoding,
        lon_col=lon_col,
        lat_col=lat_col,
    )
    hh_spec = _Col("households", households_col, "households", "households_col", "household counts")
    households = _optional_number(
        prep, hh_spec, prep.used, required=require_households, values_required=require_households
    )
    return _point_layer(prep, "residences", {"households": households})


def read_communities(
    source: str | Path | pd.DataFrame,
    *,
    id_col: str = "id",
    name_col: str = "name",
    households_col: str = "households",
    layer: str | None = None,
    crs: Any = None,
    encoding: str | None = None,
) -> gpd.GeoDataFrame:
    """Read and validate the community boundaries (polygons).

    Parameters
    ----------
    source
        A GeoPackage, GeoJSON or Shapefile path, or a GeoDataFrame (copied, never modified).
    id_col
        Column of unique community ids; when the default ``"id"`` is absent, feature ids or the
        index are used.
    name_col
        Column of community names (optional when left at the default).
    households_col
        Column of household counts. Optional when left at the default (then NaN: households
        are counted from the residences inside each community); values present must be
        numbers >= 0.
    layer, crs, encoding
        As for :func:`read_layer`.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``id``, ``name``, ``households`` (float), the other input columns,
        (multi)polygon geometry in EPSG:4326. Invalid polygons are repaired (logged).

    Raises
    ------
    InputError
        Every problem of the layer at once: file, CRS, geometry, columns, values.
    """
    prep = _prepare(
        source,
        kind="communities",
        id_col=id_col,
        name_col=name_col,
        layer=layer,
        crs=crs,
        encoding=encoding,
        lon_col=None,
        lat_col=None,
        allow_table=False,
    )
    hh_spec = _Col("households", households_col, "households", "households_col", "household counts")
    households = _optional_number(prep, hh_spec, prep.used, required=False, values_required=False)
    polygons = (
        None
        if prep.geoms is None
        else _polygons(prep.geoms, kind="communities", rows=prep.rows, funnel=prep.funnel)
    )
    prep.funnel.raise_if_any()
    assert polygons is not None
    leading = {"id": prep.ids, "name": prep.name, "households": households}
    return _assemble(prep.raw.frame, polygons, leading=leading, drop=prep.used)
