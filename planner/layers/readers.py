"""The public readers: :func:`read_layer`, :func:`read_facilities`, :func:`read_residences`,
:func:`read_communities` and :func:`to_wgs84` (see :mod:`planner.layers`)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from planner._geo import WGS84
from planner.errors import InputError
from planner.layers._columns import (
    _category_code,
    _Col,
    _find_column,
    _Funnel,
    _ids,
    _missing_column,
    _numeric_column,
    _Rows,
)
from planner.layers._crs import _geometry_in_wgs84
from planner.layers._geometry import _points_and_footprints, _polygons
from planner.layers._sources import _KIND_ZH, _Raw, _read_source

logger = logging.getLogger(__name__)


def _no_features(funnel: _Funnel) -> InputError:
    return funnel.fail_now(
        "the layer has no features",
        "give a layer with at least one feature",
        zh=("图层没有要素", "请提供至少有一个要素的图层"),
    )


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
    funnel = _Funnel("layer", "图层")
    raw = _Raw(gdf.copy(deep=True), "layer", None, is_table=False, crs_implicit=False)
    rows = _Rows(from_file=False, index=raw.frame.index)
    geoms = _geometry_in_wgs84(
        raw, crs=source_crs, lon_col=None, lat_col=None, rows=rows, funnel=funnel
    )
    funnel.raise_if_any()
    assert geoms is not None
    out = raw.frame
    return out.set_geometry(geoms.rename(out.geometry.name), crs=WGS84)


def read_layer(
    source: str | Path | pd.DataFrame,
    *,
    layer: str | None = None,
    crs: Any = None,
    encoding: str | None = None,
    lon_col: str | None = None,
    lat_col: str | None = None,
    sheet: str | int | None = None,
    default_crs: Any = None,
    kind: str = "input",
) -> gpd.GeoDataFrame:
    """Read any supported layer into WGS84, without checking columns or geometry types.

    Parameters
    ----------
    source
        A GeoPackage, GeoJSON, Shapefile, CSV or Excel (``.xlsx``) path, or a (Geo)DataFrame
        (copied, never modified). A plain DataFrame is treated like a CSV.
    layer
        Layer name inside a multi-layer file (GeoPackage). Required when there are several.
    crs
        The CRS of the coordinates: anything pyproj knows (``"EPSG:4490"``), or ``"gcj02"``
        (Amap/Gaode/Tencent) or ``"bd09"`` (Baidu) longitude/latitude. Required for a CSV or
        XLSX file (WGS84 and GCJ-02 cannot be told apart by looking); an in-memory table without
        it is read as WGS84 (logged). Contradicting the file's own CRS is an error; the offset
        systems may only relabel a layer that says WGS84.
    encoding
        Text encoding of the attribute table. By default a Shapefile's ``.cpg`` is honoured;
        without one UTF-8 is tried, then GBK. CSV: UTF-8, then GBK. Not used for ``.xlsx``.
    lon_col, lat_col
        CSV / table columns holding the coordinates. Detected by default from common names
        (lon, lng, longitude, x, 经度 / lat, latitude, y, 纬度).
    sheet
        Sheet of an ``.xlsx`` workbook: its name or 0-based number. By default the only sheet
        that holds data.
    default_crs
        The CRS for a layer that states none (a table, a Shapefile without ``.prj``), when
        ``crs`` is not given; never contradicts a layer's own CRS (the review file's top-level
        ``crs``, applied to every layer).
    kind
        What the layer is (``facilities``, ``residences``, ``communities``, ``proposed``,
        ``candidates``): names the layer, the review-file table and the flags in messages.

    Returns
    -------
    geopandas.GeoDataFrame
        A new frame in EPSG:4326 with a fresh RangeIndex.

    Raises
    ------
    InputError
        Missing, empty or unreadable file, unknown or missing CRS, unusable coordinates.
    """
    raw = _read_source(source, kind=kind, layer=layer, encoding=encoding, sheet=sheet)
    funnel = _Funnel(raw.label, raw.label_zh)
    if len(raw.frame) == 0:
        raise _no_features(funnel)
    rows = _Rows(from_file=raw.path is not None, index=raw.frame.index)
    geoms = _geometry_in_wgs84(
        raw,
        crs=crs,
        default_crs=default_crs,
        lon_col=lon_col,
        lat_col=lat_col,
        rows=rows,
        funnel=funnel,
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
    sheet: str | int | None = None,
    default_crs: Any = None,
    allow_table: bool = True,
    id_aliases: tuple[str, ...] = (),
    name_aliases: tuple[str, ...] = (),
) -> _Prepared:
    """Read a layer and check what every layer shares: rows, ids, geometry (to WGS84), names."""
    raw = _read_source(
        source,
        kind=kind,
        layer=layer,
        encoding=encoding,
        text_cols=(id_col, *id_aliases),
        sheet=sheet,
    )
    note = "rows count features from 1 in file order" if raw.path is not None else ""
    funnel = _Funnel(raw.label, raw.label_zh, row_note=note)
    if raw.is_table and not allow_table:
        raise funnel.fail_now(
            f"{kind} must be polygons, but the input is a table without geometries",
            "give the boundaries as a GeoPackage, GeoJSON or Shapefile of polygons",
            zh=(
                f"{_KIND_ZH.get(kind, kind)}必须是面，但输入是没有几何的表格",
                "请以 GeoPackage、GeoJSON 或 Shapefile 面图层给出边界",
            ),
        )
    if len(raw.frame) == 0:
        raise _no_features(funnel)
    rows = _Rows(from_file=raw.path is not None, index=raw.frame.index)
    id_spec = _Col("id", id_col, "id", "id_col", "unique feature ids", id_aliases)
    id_source, ids = _ids(raw.frame, id_spec, rows=rows, funnel=funnel)
    if ids is not None:
        rows.ids = ids
    geoms = _geometry_in_wgs84(
        raw,
        crs=crs,
        default_crs=default_crs,
        lon_col=lon_col,
        lat_col=lat_col,
        rows=rows,
        funnel=funnel,
    )
    prep = _Prepared(raw, funnel, rows, geoms, id_source, ids)
    if id_source is not None:
        prep.used.append(id_source)
    name_spec = _Col("name", name_col, "name", "name_col", "names", name_aliases)
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
    sheet: str | int | None = None,
    default_crs: Any = None,
    kind: str = "facilities",
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
    layer, crs, encoding, lon_col, lat_col, sheet, default_crs
        As for :func:`read_layer`.
    kind
        ``"facilities"``, or ``"proposed"`` for planned facilities (names the review-file table
        and the flags in messages).

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
        kind=kind,
        id_col=id_col,
        name_col=name_col,
        layer=layer,
        crs=crs,
        encoding=encoding,
        lon_col=lon_col,
        lat_col=lat_col,
        sheet=sheet,
        default_crs=default_crs,
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
            zh=(
                f"列 '{name}'（设施类别）在{prep.rows.name_zh(np.flatnonzero(blank))}为空",
                "给每处设施一个类别（例如 community_service、health、elderly_care 或 社区服务）",
            ),
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
    sheet: str | int | None = None,
    default_crs: Any = None,
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
    layer, crs, encoding, lon_col, lat_col, sheet, default_crs
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
        sheet=sheet,
        default_crs=default_crs,
    )
    hh_spec = _Col("households", households_col, "households", "households_col", "household counts")
    households = _optional_number(
        prep, hh_spec, prep.used, required=require_households, values_required=require_households
    )
    return _point_layer(prep, "residences", {"households": households})


COMMUNITY_COLUMNS: dict[str, tuple[str, ...]] = {
    "id": ("社区代码", "社区编号", "社区编码", "社区id"),
    "name": ("社区名称", "社区名", "社区", "名称"),
    "subdistrict": ("subdistrict", "街道", "街道名称", "街道办", "街道办事处", "所属街道", "街镇"),
    "district": ("district", "区县", "区", "县", "区县名称", "区/县", "所属区县"),
}
"""Column names :func:`read_communities` recognises when the default names are not in the layer
(and the column is not named explicitly), first match wins."""


def read_communities(
    source: str | Path | pd.DataFrame,
    *,
    id_col: str = "id",
    name_col: str = "name",
    subdistrict_col: str = "subdistrict",
    district_col: str = "district",
    households_col: str = "households",
    layer: str | None = None,
    crs: Any = None,
    encoding: str | None = None,
    default_crs: Any = None,
) -> gpd.GeoDataFrame:
    """Read and validate the community boundaries (polygons), with their sub-district/district.

    Parameters
    ----------
    source
        A GeoPackage, GeoJSON or Shapefile path, or a GeoDataFrame (copied, never modified).
    id_col
        Column of unique community ids. Left at ``"id"`` and absent: 社区代码, 社区编号 or
        社区编码 when present, else feature ids or the index.
    name_col
        Column of community names. Left at ``"name"`` and absent: 社区名称, 社区名, 社区 or
        名称 when present (else no names). Optional.
    subdistrict_col, district_col
        Columns of the sub-district (街道) and district (区/县) each community belongs to. Left
        at the defaults and absent: 街道, 街道名称, 街道办, 街道办事处, 所属街道, 街镇 /
        区县, 区, 县, 区县名称, 区/县, 所属区县 when present. Optional; a name given
        explicitly must exist.
    households_col
        Column of household counts. Optional when left at the default (then NaN: households
        are counted from the residences inside each community); values present must be
        numbers >= 0. A community layer needs no households column.
    layer, crs, encoding, default_crs
        As for :func:`read_layer`.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``id``, ``name``, ``subdistrict`` and ``district`` (text; each only when the
        layer has it), ``households`` (float), the other input columns, (multi)polygon geometry
        in EPSG:4326. Invalid polygons are repaired (logged).

    Raises
    ------
    InputError
        Every problem of the layer at once: file, CRS, geometry, columns, values.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> frame = gpd.GeoDataFrame(
    ...     {"社区名称": ["燕园"], "街道": ["燕园街道"], "面积": [1.5]},
    ...     geometry=[shapely.box(116.30, 39.98, 116.32, 40.00)], crs=4490)
    >>> list(read_communities(frame).columns)
    ['id', 'name', 'subdistrict', 'households', '面积', 'geometry']
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
        default_crs=default_crs,
        allow_table=False,
        id_aliases=COMMUNITY_COLUMNS["id"],
        name_aliases=COMMUNITY_COLUMNS["name"],
    )
    leading: dict[str, Any] = {"id": prep.ids, "name": prep.name}
    for canonical, given, flag, meaning in (
        ("subdistrict", subdistrict_col, "subdistrict_col", "sub-districts (街道)"),
        ("district", district_col, "district_col", "districts (区/县)"),
    ):
        spec = _Col(canonical, given, canonical, flag, meaning, COMMUNITY_COLUMNS[canonical])
        if _find_column(prep.raw.frame, spec) is not None or given != canonical:
            leading[canonical] = _optional_text(prep, spec, prep.used).str.strip()
    hh_spec = _Col("households", households_col, "households", "households_col", "household counts")
    leading["households"] = _optional_number(
        prep, hh_spec, prep.used, required=False, values_required=False
    )
    polygons = (
        None
        if prep.geoms is None
        else _polygons(prep.geoms, kind="communities", rows=prep.rows, funnel=prep.funnel)
    )
    prep.funnel.raise_if_any()
    assert polygons is not None
    return _assemble(prep.raw.frame, polygons, leading=leading, drop=prep.used)
