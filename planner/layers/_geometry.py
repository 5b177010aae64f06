"""Geometry kinds: points (building polygons -> representative points), community polygons."""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import shapely

from planner._geo import WGS84, metric_crs
from planner.layers._columns import _Funnel, _Rows
from planner.layers._sources import _KIND_ZH

logger = logging.getLogger(__name__)


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
            zh=(
                f"{missing.sum()} 个要素没有几何：{rows.name_zh(np.flatnonzero(missing))}",
                "给这些要素补上位置，或删除它们",
            ),
        )
    if empty.any():
        funnel.add(
            f"{empty.sum()} feature(s) have an empty geometry: {rows.name(np.flatnonzero(empty))}",
            "give those features a location or delete them",
            zh=(
                f"{empty.sum()} 个要素的几何为空：{rows.name_zh(np.flatnonzero(empty))}",
                "给这些要素补上位置，或删除它们",
            ),
        )
    present: np.ndarray = ~(missing | empty)
    return present


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
            zh=(
                f"{_KIND_ZH.get(kind, kind)}必须是点或面，但{rows.name_zh(np.flatnonzero(wrong))}"
                f"是 {_type_listing(type_ids, wrong)}",
                "给这些要素一个点或建筑轮廓面，或删除它们",
            ),
        )
    if multi_point.any():
        funnel.add(
            f"{rows.name(np.flatnonzero(multi_point))} are multi-points with several points",
            "split them into one feature per point (e.g. QGIS 'Multipart to singleparts')",
            zh=(
                f"{rows.name_zh(np.flatnonzero(multi_point))}是含多个点的多点要素",
                "拆成每个点一个要素（例如 QGIS 的“多部件转单部件”）",
            ),
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
            zh=(
                f"{_KIND_ZH.get(kind, kind)}必须是面，但{rows.name_zh(np.flatnonzero(wrong))}"
                f"是 {_type_listing(type_ids, wrong)}",
                "社区边界请给（多）面",
            ),
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
