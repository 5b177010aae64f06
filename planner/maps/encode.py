"""How data reach the page: safe JSON and HTML text, compact columns, geometry as drawn.

Texts from the data reach the page as JSON inside the script (`_js`: ``<``, ``>`` and ``&``
escaped) or as escaped HTML (`_esc`); numbers are rounded, flags are one character each;
polygons are simplified ring by ring and sent as GeoJSON or as delta-coded microdegrees.
"""

from __future__ import annotations

import html
import json
import math
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pandas as pd
import pyproj
import shapely

from planner._geo import wgs84_to_gcj02

_COORD_DIGITS: Final = 6  # about 0.1 m
_SIMPLIFY_DEG: Final = 1e-5  # about 1 m; isochrone outlines are buffered by ~25 m


def _js(value: Any) -> str:
    """JSON for a JavaScript literal inside ``<script>``: no ``</script>`` or comment breakout."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def _esc(value: Any) -> str:
    """HTML-escape text; braces too, as Folium passes some of its output through Jinja again."""
    return html.escape(str(value), quote=True).replace("{", "&#123;").replace("}", "&#125;")


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    try:
        return bool(isinstance(value, float) and math.isnan(value))
    except TypeError:
        return False


def _texts(values: Any) -> list[str | None]:
    """Texts for display: None for missing values, ``str`` of everything else."""
    out: list[str | None] = []
    for v in pd.Series(values).astype(object).tolist():
        out.append(None if _is_missing(v) else str(v))
    return out


def _numbers(values: Any, digits: int) -> list[float | int | None]:
    """Rounded numbers for the page: ints when whole, None for NaN."""
    arr = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan
    )
    arr = np.round(arr, digits)
    out: list[float | int | None] = []
    for v in arr.tolist():
        if math.isnan(v) or math.isinf(v):
            out.append(None)
        elif v.is_integer() and abs(v) < 2**53:
            out.append(int(v))
        else:
            out.append(v)
    return out


def _flags(values: Any) -> str:
    """One character per value: ``1`` true, ``0`` false, ``-`` missing."""
    chars = []
    for v in pd.Series(values).astype(object).tolist():
        chars.append("-" if _is_missing(v) else ("1" if bool(v) else "0"))
    return "".join(chars)


def _fmt(value: Any, digits: int = 0) -> str:
    if _is_missing(value):
        return "—"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isinf(number):
        return "∞"
    return f"{number:,.{digits}f}"


def _simplify_rings(geoms: np.ndarray, tolerance: float) -> np.ndarray:
    """Polygons with every ring simplified on its own (Douglas-Peucker), for drawing only.

    GEOS's polygon simplifiers check and repair the whole polygon (minutes for a city's served
    area with thousands of holes); ring by ring it takes a fraction of a second. A ring that
    collapses (fewer than 4 points) is dropped, and a polygon whose shell collapses with it.
    Other geometries are simplified as they are.
    """
    out = np.array(geoms, dtype=object)
    types = shapely.get_type_id(out)
    is_polygonal = np.isin(types, (3, 6)) & ~shapely.is_empty(out)
    other = ~is_polygonal & (types >= 0)
    out[other] = shapely.simplify(out[other], tolerance, preserve_topology=True)
    polygonal = np.flatnonzero(is_polygonal)
    if polygonal.size == 0:
        return out
    parts, owner = shapely.get_parts(out[polygonal], return_index=True)
    rings, part = shapely.get_rings(parts, return_index=True)
    is_shell = np.r_[True, part[1:] != part[:-1]]
    rings = shapely.simplify(rings, tolerance, preserve_topology=False)
    kept = shapely.get_num_coordinates(rings) >= 4
    keep = kept & kept[np.flatnonzero(is_shell)][np.cumsum(is_shell) - 1]  # and its shell
    kept_parts, new_part = np.unique(part[keep], return_inverse=True)
    polys = shapely.polygons(rings[keep], indices=new_part)  # a part's first ring: its shell
    drawn = np.array([shapely.MultiPolygon()] * polygonal.size, dtype=object)
    if polys.size:
        shapely.multipolygons(polys, indices=owner[kept_parts], out=drawn)
    single = (types[polygonal] == 3) & (shapely.get_num_geometries(drawn) == 1)
    drawn[single] = shapely.get_geometry(drawn[single], 0)  # polygons stay polygons
    out[polygonal] = drawn
    return out


@dataclass(frozen=True)
class _DeltaLines:
    """Lines as the page reads them: a first vertex, then each vertex's step, in microdegrees.

    ``x0``/``y0`` start, ``d`` the steps (dx, dy per vertex, all lines one after another),
    ``n`` the vertices of each line; ``lon``/``lat`` the vertices in degrees (as drawn).
    """

    x0: int
    y0: int
    d: list[int]
    n: list[int]
    lon: np.ndarray
    lat: np.ndarray

    def fields(self) -> dict[str, Any]:
        return {"x0": self.x0, "y0": self.y0, "d": self.d, "n": self.n}


def _delta_lines(lines: np.ndarray, crs: Any, *, gcj02: bool) -> _DeltaLines:
    """`_DeltaLines` of ``lines`` in ``crs``: to WGS84 (then GCJ-02 for Amap tiles)."""
    coords, index = shapely.get_coordinates(lines, return_index=True)
    to_wgs84 = pyproj.Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    lon, lat = to_wgs84.transform(coords[:, 0], coords[:, 1])
    lon, lat = np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
    if gcj02:
        lon, lat = wgs84_to_gcj02(lon, lat)
    scale = 10**_COORD_DIGITS
    ix = np.round(lon * scale).astype(np.int64)
    iy = np.round(lat * scale).astype(np.int64)
    deltas = np.empty(2 * len(ix), dtype=np.int64)
    if len(ix):
        deltas[0::2] = np.diff(ix, prepend=ix[0])
        deltas[1::2] = np.diff(iy, prepend=iy[0])
    return _DeltaLines(
        x0=int(ix[0]) if len(ix) else 0,
        y0=int(iy[0]) if len(iy) else 0,
        d=deltas.tolist(),
        n=np.bincount(index, minlength=len(lines)).tolist(),
        lon=lon,
        lat=lat,
    )


def _feature_collection(geoms: np.ndarray, props: list[dict[str, Any]]) -> str:
    """A GeoJSON FeatureCollection as text (geometry JSON from shapely, properties from us)."""
    return _collection_text(shapely.to_geojson(geoms).tolist(), props)


def _collection_text(geometries: list[str], props: list[dict[str, Any]]) -> str:
    """A FeatureCollection as text from geometry JSON texts and properties."""
    parts = []
    for geom, prop in zip(geometries, props, strict=True):
        parts.append('{"type":"Feature","geometry":' + geom + ',"properties":' + _js(prop) + "}")
    return '{"type":"FeatureCollection","features":[' + ",".join(parts) + "]}"


def _ring_collection(geoms: np.ndarray, props: list[dict[str, Any]]) -> str:
    """Like `_feature_collection`, each geometry's rings sent as delta-coded microdegrees
    (``"PMRings"``, decoded by the page): about 10 bytes a vertex instead of 22, for bands whose
    every city block is a hole."""
    coded = []
    for geom in geoms.tolist():
        rings = shapely.get_rings(shapely.get_parts(geom))
        xy, ring_of = shapely.get_coordinates(rings, return_index=True)
        counts = np.bincount(ring_of, minlength=rings.shape[0])
        ends = np.cumsum(counts) - 1
        keep = np.ones(xy.shape[0], dtype=bool)
        keep[ends[counts > 0]] = False  # the closing vertex repeats the first
        q = np.round(xy[keep] * 1e6).astype(np.int64)
        deltas = np.diff(q, axis=0, prepend=q[:1]).ravel() if q.shape[0] else q.ravel()
        first = q[0] if q.shape[0] else (0, 0)
        coded.append(
            _js(
                {
                    "type": "PMRings",
                    "x0": int(first[0]),
                    "y0": int(first[1]),
                    "n": np.maximum(counts - 1, 0).tolist(),
                    "d": deltas.tolist(),
                }
            )
        )
    return _collection_text(coded, props)
