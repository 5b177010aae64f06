"""Geometry from tables, CRS resolution and reprojection to WGS84.

The CRS the coordinates are really in is resolved from the layer's own CRS, ``crs=`` and
``default_crs=`` (anything pyproj knows, or the offset systems GCJ-02 and BD-09); coordinates are
checked against it (longitude/latitude in range, CGCS2000 Gauss-Kruger zone prefixes) before they
are converted to EPSG:4326. A table of coordinates read from a file (CSV, XLSX) must state its
CRS: WGS84, GCJ-02 and BD-09 longitudes/latitudes cannot be told apart by looking, and reading
one as another shifts every point by some 500 m."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError

from planner._geo import BD09, GCJ02, OFFSET_SYSTEMS, WGS84, offset_geometries_to_wgs84
from planner.layers._columns import _Funnel, _listing, _numeric_values, _Rows
from planner.layers._sources import _Raw

logger = logging.getLogger(__name__)

_OFFSET_NAMES: Final = {
    **dict.fromkeys(("gcj02", "gcj-02", "gcj_02", "gcj", "amap", "gaode"), GCJ02),
    **dict.fromkeys(("bd09", "bd-09", "bd_09", "bd09ll", "baidu"), BD09),
}
_OFFSET_LABELS: Final = {GCJ02: "GCJ-02", BD09: "BD-09"}
_LON_NAMES: Final = ("lon", "lng", "long", "longitude", "x", "经度")
_LAT_NAMES: Final = ("lat", "latitude", "y", "纬度")
_CRS_HINT: Final = (
    "pass crs=... (or --crs), e.g. EPSG:4490 for CGCS2000 longitude/latitude, EPSG:4523 for "
    "CGCS2000 3-degree Gauss-Kruger zone 35, EPSG:4326 for WGS84, gcj02 for Amap/Gaode/Tencent "
    "coordinates, bd09 for Baidu coordinates"
)
_CRS_HINT_ZH: Final = (
    "用 crs=...（或 --crs）给出坐标系，例如 CGCS2000 经纬度为 EPSG:4490，CGCS2000 3 度带高斯-克吕格"
    "第 35 带为 EPSG:4523，WGS84 为 EPSG:4326，高德/腾讯坐标为 gcj02，百度坐标为 bd09"
)
_AXIS_ZH: Final = {"longitude": "经度", "latitude": "纬度"}


def _is_offset(crs: object) -> bool:
    """Whether ``crs`` is one of the offset systems (GCJ02, BD09), given by planner's name."""
    # Never compare a pyproj CRS with a string: CRS.__eq__ parses the string (slow, ~1 s).
    return isinstance(crs, str) and crs in OFFSET_SYSTEMS


def offset_system_of(crs: Any) -> str | None:
    """``"gcj02"`` or ``"bd09"`` when ``crs`` names an offset system (any spelling readers
    accept: ``"GCJ-02"``, ``"amap"``, ``"baidu"``...), else None.

    Examples
    --------
    >>> offset_system_of("GCJ-02"), offset_system_of("Baidu"), offset_system_of("EPSG:4490")
    ('gcj02', 'bd09', None)
    """
    if isinstance(crs, str):
        found = _OFFSET_NAMES.get(crs.strip().lower())
        return None if found is None else str(found)
    return None


def _crs_name(crs: CRS | str) -> str:
    if isinstance(crs, str):
        return _OFFSET_LABELS[crs]
    return f"{crs.to_string()} ({crs.name})"


def _parse_crs(crs: Any, funnel: _Funnel) -> CRS | str | None:
    """``None``, ``GCJ02``/``BD09`` or a pyproj CRS; records a problem, None when unknown."""
    if crs is None:
        return None
    if isinstance(crs, str) and crs.strip().lower() in _OFFSET_NAMES:
        return str(_OFFSET_NAMES[crs.strip().lower()])
    try:
        return CRS.from_user_input(crs)
    except CRSError as exc:
        funnel.add(
            f"crs={crs!r} is not a CRS pyproj knows ({exc})",
            _CRS_HINT,
            zh=(f"crs={crs!r} 不是 pyproj 认识的坐标系（{exc}）", _CRS_HINT_ZH),
        )
        return None


def _find_coordinate_column(
    columns: Sequence[Any], given: str | None, names: Sequence[str], axis: str, funnel: _Funnel
) -> Any | None:
    flag = "lon" if axis == "longitude" else "lat"
    axis_zh = _AXIS_ZH[axis]
    existing = _listing(list(columns), limit=30)
    if given is not None:
        if given in columns:
            return given
        funnel.add(
            f"{axis} column '{given}' is missing (columns: {existing})",
            f"pass {flag}_col=... (or --{flag}-col) naming the {axis} column",
            zh=(
                f"缺少{axis_zh}列 '{given}'（现有列：{existing}）",
                f"用 {flag}_col=...（或 --{flag}-col）指明{axis_zh}列",
            ),
        )
        return None
    found = [c for c in columns if str(c).strip().lower() in names]
    if len(found) == 1:
        return found[0]
    if not found:
        funnel.add(
            f"no {axis} column found (looked for {', '.join(names)}; columns: {existing})",
            f"pass {flag}_col=... (or --{flag}-col) naming the {axis} column",
            zh=(
                f"找不到{axis_zh}列（查找了 {'、'.join(names)}；现有列：{existing}）",
                f"用 {flag}_col=...（或 --{flag}-col）指明{axis_zh}列",
            ),
        )
    else:
        funnel.add(
            f"several columns could be the {axis}: {', '.join(map(str, found))}",
            f"pass {flag}_col=... (or --{flag}-col) to choose one",
            zh=(
                f"有多个列都可能是{axis_zh}：{'、'.join(map(str, found))}",
                f"用 {flag}_col=...（或 --{flag}-col）选择其中一个",
            ),
        )
    return None


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
            given = [repr(v) for v in frame[name].to_numpy()[bad]]
            funnel.add(
                f"{axis} column '{name}' has values that are not numbers at "
                f"{rows.name(np.flatnonzero(bad))}: {_listing(given)}",
                "write plain decimal degrees (or coordinates in the CRS given by crs=)",
                zh=(
                    f"{_AXIS_ZH[axis]}列 '{name}' 在{rows.name_zh(np.flatnonzero(bad))}"
                    f"有非数字的值：{_listing(given, zh=True)}",
                    "写十进制度数（或 crs= 所给坐标系中的坐标）",
                ),
            )
        missing = np.isnan(values) & ~bad
        if missing.any():
            ok = False
            funnel.add(
                f"{axis} column '{name}' is empty at {rows.name(np.flatnonzero(missing))}",
                "fill in the coordinates or delete those rows",
                zh=(
                    f"{_AXIS_ZH[axis]}列 '{name}' 在{rows.name_zh(np.flatnonzero(missing))}为空",
                    "填写坐标，或删除这些行",
                ),
            )
        coords.append(values)
    if not ok:
        return None
    return gpd.GeoSeries(gpd.points_from_xy(coords[0], coords[1]), index=frame.index)


_LAYER_KINDS: Final = ("facilities", "residences", "communities", "proposed", "candidates")


def _table_crs_fix(kind: str) -> str:
    """How to state the CRS of a table: the review-file key and the flags (and ``crs=``)."""
    systems = (
        '"gcj02" for Amap/Gaode/Tencent, "bd09" for Baidu, "EPSG:4326" for WGS84 (GPS), '
        '"EPSG:4490" for CGCS2000'
    )
    if kind in _LAYER_KINDS:
        return (
            f'state the CRS of its coordinates: crs = "gcj02" under [{kind}] in review.toml, or '
            f"--{kind}-crs gcj02 (a top-level crs = ... or --crs applies to every layer that "
            f"states none; the crs argument in Python); {systems}"
        )
    return f"state the CRS of its coordinates: pass crs=... (or --crs), e.g. {systems}"


def _table_crs_fix_zh(kind: str) -> str:
    """`_table_crs_fix` in Chinese."""
    systems = (
        '"gcj02" 为高德/腾讯，"bd09" 为百度，"EPSG:4326" 为 WGS84（GPS），"EPSG:4490" 为 CGCS2000'
    )
    if kind in _LAYER_KINDS:
        return (
            f'说明坐标的坐标系：在 review.toml 的 [{kind}] 下写 crs = "gcj02"，或用 --{kind}-crs '
            f"gcj02（顶层 crs = ... 或 --crs 对所有未说明坐标系的图层生效；Python 中为 crs 参数）；"
            f"{systems}"
        )
    return f"说明坐标的坐标系：用 crs=...（或 --crs），例如 {systems}"


def _resolve_crs(
    file_crs: CRS | None,
    declared: CRS | str | None,
    *,
    raw: _Raw,
    default: CRS | str | None,
    funnel: _Funnel,
) -> CRS | str | None:
    """The CRS the coordinates are really in (a pyproj CRS or an offset system), or None with a
    problem recorded. ``default`` applies only to a layer that states no CRS of its own."""
    is_table, implicit = raw.is_table, raw.crs_implicit
    if declared is None and default is not None and (is_table or file_crs is None):
        declared = default
    if _is_offset(declared):
        if (
            file_crs is None
            or is_table
            or implicit
            or file_crs.equals(WGS84, ignore_axis_order=True)
        ):
            return declared
        funnel.add(
            f"crs={declared} was given but the layer says its CRS is {file_crs.name} "
            f"({file_crs.to_string()}); {_OFFSET_LABELS[str(declared)]} data are "
            "longitude/latitude, at most labelled WGS84",
            "drop crs= if the layer's own CRS is right, or reproject the layer to EPSG:4326 first",
            zh=(
                f"给了 crs={declared}，但图层自带的坐标系是 {file_crs.name}"
                f"（{file_crs.to_string()}）；{_OFFSET_LABELS[str(declared)]} 数据是经纬度，"
                "最多标为 WGS84",
                "图层自带的坐标系正确时去掉 crs=，或先把图层重投影到 EPSG:4326",
            ),
        )
        return None
    if is_table:
        if declared is not None:
            return declared
        if raw.path is not None:
            funnel.add(
                "the table has coordinate columns but no stated coordinate reference system; "
                "WGS84 (GPS), GCJ-02 (Amap/Gaode) and BD-09 (Baidu) longitudes/latitudes look "
                "alike and reading one as another shifts every point by about 500 m",
                _table_crs_fix(raw.kind),
                zh=(
                    "表格有坐标列，但没有说明坐标系；WGS84（GPS）、GCJ-02（高德）和 BD-09（百度）"
                    "的经纬度看起来一样，读错会让每个点偏移约 500 米",
                    _table_crs_fix_zh(raw.kind),
                ),
            )
            return None
        logger.warning(
            "%s: an in-memory table without crs=: reading its coordinates as WGS84 (EPSG:4326)",
            raw.label,
        )
        return WGS84
    if file_crs is None:
        if declared is None:
            funnel.add(
                "the layer has no coordinate reference system (CRS)",
                _CRS_HINT,
                zh=("图层没有坐标系（CRS）", _CRS_HINT_ZH),
            )
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
        zh=(
            f"给了 crs={declared.to_string()}（{declared.name}），但图层自带的坐标系是 "
            f"{file_crs.to_string()}（{file_crs.name}）",
            "去掉 crs= 以使用图层自带的坐标系，或改正文件中存的坐标系（.prj）",
        ),
    )
    return None


def _coordinates_fit(geoms: np.ndarray, src: CRS | str, rows: _Rows, funnel: _Funnel) -> bool:
    """Whether longitude/latitude CRSs hold coordinates in range; records a problem if not."""
    geographic = _is_offset(src) or (isinstance(src, CRS) and src.is_geographic)
    if not geographic:
        return True
    bounds = shapely.bounds(geoms)
    present = ~np.isnan(bounds[:, 0])
    x_out = (np.abs(bounds[:, [0, 2]]) > 180.0).any(axis=1)
    y_out = (np.abs(bounds[:, [1, 3]]) > 90.0).any(axis=1)
    bad = present & (x_out | y_out)
    if not bad.any():
        return True
    name = _crs_name(src)
    first = int(np.flatnonzero(bad)[0])
    at, at_zh = rows.name(np.flatnonzero(bad)), rows.name_zh(np.flatnonzero(bad))
    example = f"x={bounds[first, 0]:.6g}, y={bounds[first, 1]:.6g}"
    swapped = bad & ~x_out & (np.abs(bounds[:, [0, 2]]) <= 90.0).all(axis=1)
    swapped &= (np.abs(bounds[:, [1, 3]]) <= 180.0).all(axis=1)
    if swapped[bad].all():
        funnel.add(
            f"coordinates at {at} have latitudes beyond 90 degrees "
            f"(e.g. {example}); longitude and latitude look swapped",
            "swap the columns (lon_col= / lat_col=, or --lon-col / --lat-col) or fix the file",
            zh=(
                f"{at_zh}的坐标纬度超过 90 度（例如 {example}）；经度和纬度似乎写反了",
                "对调两列（lon_col= / lat_col=，或 --lon-col / --lat-col），或改正文件",
            ),
        )
    else:
        funnel.add(
            f"coordinates at {at} are not longitude/latitude "
            f"(e.g. {example}) although the CRS is {name}; they look projected",
            _CRS_HINT,
            zh=(
                f"坐标系是 {name}，但{at_zh}的坐标不是经纬度（例如 {example}），像是投影坐标",
                _CRS_HINT_ZH,
            ),
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
        zh=(
            f"{rows.name_zh(np.flatnonzero(bad))}的坐标落在 {src.name} 之外"
            f"（EPSG:{code}，东经 {src.area_of_use.west:g}-{src.area_of_use.east:g} 度）",
            "请检查带号：EPSG:4513-4533 的东坐标带有带号前缀（例如第 35 带为 35500000），"
            "EPSG:4534-4554（'CM' 版本）的东坐标在 500000 左右",
        ),
    )
    return True


def _reproject(
    geoms: gpd.GeoSeries, src: CRS | str, rows: _Rows, funnel: _Funnel
) -> gpd.GeoSeries | None:
    """Geometries in WGS84, or None after recording problems."""
    values = shapely.force_2d(np.asarray(geoms.array, dtype=object))
    if not _coordinates_fit(values, src, rows, funnel):
        return None
    if _is_offset(src):
        logger.info("converting %s coordinates to WGS84", _OFFSET_LABELS[str(src)])
        converted = offset_geometries_to_wgs84(values, str(src))
        return gpd.GeoSeries(converted, index=geoms.index, crs=WGS84)
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
            zh=(
                f"{rows.name_zh(np.flatnonzero(broken))}的坐标无法从 {src.to_string()}"
                f"（{src.name}）转换到 WGS84",
                "请检查图层的坐标系是否正确；" + _CRS_HINT_ZH,
            ),
        )
        return None
    return out


def _layer_crs(raw: _Raw) -> CRS | None:
    if raw.is_table:
        return None
    crs = raw.frame.crs
    return None if crs is None else CRS.from_user_input(crs)


def _geometry_in_wgs84(
    raw: _Raw,
    *,
    crs: Any,
    default_crs: Any = None,
    lon_col: str | None,
    lat_col: str | None,
    rows: _Rows,
    funnel: _Funnel,
) -> gpd.GeoSeries | None:
    declared = _parse_crs(crs, funnel)
    default = _parse_crs(default_crs, funnel)
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
                    zh=(
                        f"给了 {name}='{value}'，但图层已有几何",
                        f"去掉 {name}=（它只适用于 CSV 文件和普通表格）",
                    ),
                )
        geoms = raw.frame.geometry
    if (crs is not None and declared is None) or (default_crs is not None and default is None):
        return None  # the unknown crs= is already reported
    src = _resolve_crs(_layer_crs(raw), declared, raw=raw, default=default, funnel=funnel)
    if geoms is None or src is None:
        return None
    return _reproject(geoms, src, rows, funnel)
