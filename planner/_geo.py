"""Geometry helpers: the local metric CRS, GCJ-02, representative points.

A leaf module (imports nothing of planner). One way to choose a projected CRS in metres
(`utm_crs` / `metric_crs`), one GCJ-02 conversion (the published formula, Krasovsky ellipsoid),
one way to turn polygons into representative points.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pyproj
import shapely

WGS84: Final = pyproj.CRS.from_epsg(4326)

GCJ02: Final = "gcj02"
"""The value of ``crs=`` that declares GCJ-02 ("Mars") longitude/latitude, as used by Amap."""

_POLYGONAL: Final = (3, 6)  # shapely type ids of Polygon and MultiPolygon


def utm_crs(lon: float, lat: float) -> pyproj.CRS:
    """The WGS84 UTM zone CRS containing a point (longitude/latitude in degrees)."""
    zone = int((lon + 180.0) // 6.0) % 60 + 1
    return pyproj.CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def utm_crs_of(
    geoms: Iterable[Any], *, fallback: tuple[float, float] = (117.0, 30.0)
) -> pyproj.CRS:
    """The UTM zone of the centre of WGS84 geometries' bounds (deterministic for a file).

    ``fallback`` (lon, lat) is used when there is nothing to measure (no finite bounds).
    """
    bounds = shapely.total_bounds(np.asarray(list(geoms), dtype=object))
    if not np.all(np.isfinite(bounds)):
        return utm_crs(*fallback)
    return utm_crs((bounds[0] + bounds[2]) / 2.0, (bounds[1] + bounds[3]) / 2.0)


def is_metric(crs: Any) -> bool:
    """Whether ``crs`` is projected with every axis in metres."""
    crs = pyproj.CRS.from_user_input(crs)
    return bool(crs.is_projected) and all(
        (axis.unit_name or "").lower() in {"metre", "meter"} for axis in crs.axis_info
    )


def metric_crs(gdf: gpd.GeoDataFrame | gpd.GeoSeries) -> pyproj.CRS:
    """A projected CRS in metres for measuring ``gdf``: its own when metric, else local UTM."""
    if gdf.crs is not None and is_metric(gdf.crs):
        return pyproj.CRS.from_user_input(gdf.crs)
    return gdf.estimate_utm_crs()


def representative_points(geoms: np.ndarray, crs: Any) -> np.ndarray:
    """``geoms`` with every (multi)polygon replaced by its representative point.

    The points are found in `metric_crs` (a point inside the polygon, computed where shapes are
    true) and returned in ``crs``; other geometries are returned unchanged. A new array.
    """
    out = np.asarray(geoms, dtype=object).copy()
    polygonal = np.isin(shapely.get_type_id(out), _POLYGONAL)
    if polygonal.any():
        polys = gpd.GeoSeries(out[polygonal], crs=crs)
        reps = polys.to_crs(metric_crs(polys)).representative_point().to_crs(crs)
        out[polygonal] = np.asarray(reps.array, dtype=object)
    return out


# ---------------------------------------------------------------------------------------------
# GCJ-02
# ---------------------------------------------------------------------------------------------

# Krasovsky 1940 ellipsoid, as used by the published GCJ-02 formula.
_GCJ_A_M: Final = 6378245.0
_GCJ_EE: Final = 0.00669342162296594323
# The rectangle commonly used to decide "inside China" (no offset is applied outside it).
_CHINA_LON: Final = (72.004, 137.8347)
_CHINA_LAT: Final = (0.8293, 55.8271)


def _gcj_offset_deg(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 offset ``(dlon, dlat)`` in degrees at WGS84 ``lon``/``lat``; zero outside China."""
    x = lon - 105.0
    y = lat - 35.0
    pi = math.pi
    periodic = (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    dlat = dlat + periodic
    dlat = dlat + (20.0 * np.sin(y * pi) + 40.0 * np.sin(y / 3.0 * pi)) * 2.0 / 3.0
    dlat = dlat + (160.0 * np.sin(y / 12.0 * pi) + 320.0 * np.sin(y * pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    dlon = dlon + periodic
    dlon = dlon + (20.0 * np.sin(x * pi) + 40.0 * np.sin(x / 3.0 * pi)) * 2.0 / 3.0
    dlon = dlon + (150.0 * np.sin(x / 12.0 * pi) + 300.0 * np.sin(x / 30.0 * pi)) * 2.0 / 3.0
    rad_lat = np.radians(lat)
    magic = 1.0 - _GCJ_EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = dlat * 180.0 / ((_GCJ_A_M * (1.0 - _GCJ_EE)) / (magic * sqrt_magic) * pi)
    dlon = dlon * 180.0 / (_GCJ_A_M / sqrt_magic * np.cos(rad_lat) * pi)
    inside = (
        (lon >= _CHINA_LON[0])
        & (lon <= _CHINA_LON[1])
        & (lat >= _CHINA_LAT[0])
        & (lat <= _CHINA_LAT[1])
    )
    return np.where(inside, dlon, 0.0), np.where(inside, dlat, 0.0)


def _as_float_arrays(lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
    lon_a = np.array(lon, dtype=float)  # a copy: callers' arrays are never touched
    lat_a = np.array(lat, dtype=float)
    if lon_a.shape != lat_a.shape:
        raise ValueError(
            f"lon and lat must have the same shape, got {lon_a.shape} and {lat_a.shape}"
        )
    return lon_a, lat_a


def wgs84_to_gcj02(lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
    """Convert WGS84 longitude/latitude to GCJ-02 (the offset coordinates of Amap/Gaode).

    Uses the published forward formula (Krasovsky ellipsoid). Points outside the rectangle
    commonly taken as China (72.004-137.8347 E, 0.8293-55.8271 N) are returned unchanged.

    Parameters
    ----------
    lon, lat
        WGS84 longitude and latitude in degrees: scalars or array-likes of the same shape.

    Returns
    -------
    tuple of numpy.ndarray
        GCJ-02 ``(lon, lat)`` in degrees, new float arrays of the input shape.

    Examples
    --------
    >>> lon, lat = wgs84_to_gcj02([116.404], [39.915])
    >>> bool(0.005 < lon[0] - 116.404 < 0.007)
    True
    """
    lon_a, lat_a = _as_float_arrays(lon, lat)
    dlon, dlat = _gcj_offset_deg(lon_a, lat_a)
    return lon_a + dlon, lat_a + dlat


def gcj02_to_wgs84(
    lon: Any, lat: Any, *, tol_deg: float = 1e-10, max_iter: int = 50
) -> tuple[np.ndarray, np.ndarray]:
    """Convert GCJ-02 longitude/latitude (Amap/Gaode) back to WGS84.

    Inverts :func:`wgs84_to_gcj02` by fixed-point iteration ``w <- g - offset(w)``, which
    converges fast because the offset changes slowly with position. The default tolerance
    (1e-10 degrees, about 0.01 mm) is far below the required 0.01 m.

    Parameters
    ----------
    lon, lat
        GCJ-02 longitude and latitude in degrees: scalars or array-likes of the same shape.
    tol_deg
        Stop when no coordinate moved more than this between iterations, in degrees.
    max_iter
        Upper bound on the number of iterations.

    Returns
    -------
    tuple of numpy.ndarray
        WGS84 ``(lon, lat)`` in degrees, new float arrays of the input shape. NaN stays NaN.

    Examples
    --------
    >>> g_lon, g_lat = wgs84_to_gcj02([116.404], [39.915])
    >>> w_lon, w_lat = gcj02_to_wgs84(g_lon, g_lat)
    >>> bool(abs(w_lon[0] - 116.404) < 1e-9 and abs(w_lat[0] - 39.915) < 1e-9)
    True
    """
    g_lon, g_lat = _as_float_arrays(lon, lat)
    dlon, dlat = _gcj_offset_deg(g_lon, g_lat)
    w_lon, w_lat = g_lon - dlon, g_lat - dlat
    for _ in range(max_iter):
        dlon, dlat = _gcj_offset_deg(w_lon, w_lat)
        n_lon, n_lat = g_lon - dlon, g_lat - dlat
        step = np.fmax(np.abs(n_lon - w_lon), np.abs(n_lat - w_lat))
        w_lon, w_lat = n_lon, n_lat
        if not np.any(step > tol_deg):  # NaN compares False, so NaN inputs do not block
            break
    return w_lon, w_lat


def gcj02_geometries_to_wgs84(geoms: np.ndarray) -> np.ndarray:
    """Geometries in GCJ-02 longitude/latitude, converted to WGS84 (a new array)."""
    return offset_geometries_to_wgs84(geoms, GCJ02)


# ---------------------------------------------------------------------------------------------
# BD-09 (Baidu): a further offset of GCJ-02
# ---------------------------------------------------------------------------------------------

BD09: Final = "bd09"
"""The value of ``crs=`` that declares BD-09 (Baidu) longitude/latitude."""

OFFSET_SYSTEMS: Final = (GCJ02, BD09)
"""The offset coordinate systems of Chinese map services, by the names planner accepts."""

_BD_X_PI: Final = math.pi * 3000.0 / 180.0


def gcj02_to_bd09(lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
    """Convert GCJ-02 longitude/latitude to BD-09 (Baidu), by Baidu's published formula.

    Examples
    --------
    >>> lon, lat = gcj02_to_bd09([116.404], [39.915])
    >>> round(float(lon[0]), 4), round(float(lat[0]), 4)
    (116.4104, 39.9213)
    """
    x, y = _as_float_arrays(lon, lat)
    z = np.hypot(x, y) + 0.00002 * np.sin(y * _BD_X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _BD_X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(
    lon: Any, lat: Any, *, tol_deg: float = 1e-10, max_iter: int = 50
) -> tuple[np.ndarray, np.ndarray]:
    """Convert BD-09 longitude/latitude to GCJ-02, inverting `gcj02_to_bd09` exactly.

    The usual closed-form inverse is off by up to ~1e-6 degrees; fixed-point iteration on the
    forward formula brings it below ``tol_deg``.

    Examples
    --------
    >>> b_lon, b_lat = gcj02_to_bd09([116.404], [39.915])
    >>> g_lon, g_lat = bd09_to_gcj02(b_lon, b_lat)
    >>> bool(abs(g_lon[0] - 116.404) < 1e-9 and abs(g_lat[0] - 39.915) < 1e-9)
    True
    """
    b_lon, b_lat = _as_float_arrays(lon, lat)
    g_lon, g_lat = b_lon - 0.0065, b_lat - 0.006
    for _ in range(max_iter):
        f_lon, f_lat = gcj02_to_bd09(g_lon, g_lat)
        d_lon, d_lat = b_lon - f_lon, b_lat - f_lat
        g_lon, g_lat = g_lon + d_lon, g_lat + d_lat
        if not np.any(np.fmax(np.abs(d_lon), np.abs(d_lat)) > tol_deg):
            break
    return g_lon, g_lat


def offset_to_wgs84(lon: Any, lat: Any, system: str) -> tuple[np.ndarray, np.ndarray]:
    """Longitude/latitude in GCJ-02 or BD-09 (``system``) to WGS84."""
    if system == BD09:
        lon, lat = bd09_to_gcj02(lon, lat)
    elif system != GCJ02:
        raise ValueError(f"unknown offset system {system!r}; use one of {OFFSET_SYSTEMS}")
    return gcj02_to_wgs84(lon, lat)


def wgs84_to_offset(lon: Any, lat: Any, system: str) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 longitude/latitude to GCJ-02 or BD-09 (``system``)."""
    g_lon, g_lat = wgs84_to_gcj02(lon, lat)
    if system == BD09:
        return gcj02_to_bd09(g_lon, g_lat)
    if system != GCJ02:
        raise ValueError(f"unknown offset system {system!r}; use one of {OFFSET_SYSTEMS}")
    return g_lon, g_lat


def offset_geometries_to_wgs84(geoms: np.ndarray, system: str) -> np.ndarray:
    """Geometries in GCJ-02 or BD-09 longitude/latitude, converted to WGS84 (a new array)."""

    def convert(coords: np.ndarray) -> np.ndarray:
        lon, lat = offset_to_wgs84(coords[:, 0], coords[:, 1], system)
        return np.column_stack([lon, lat])

    return shapely.transform(geoms, convert)


__all__ = [
    "BD09",
    "GCJ02",
    "OFFSET_SYSTEMS",
    "bd09_to_gcj02",
    "gcj02_to_bd09",
    "offset_geometries_to_wgs84",
    "offset_to_wgs84",
    "wgs84_to_offset",
    "WGS84",
    "gcj02_geometries_to_wgs84",
    "gcj02_to_wgs84",
    "is_metric",
    "metric_crs",
    "representative_points",
    "utm_crs",
    "utm_crs_of",
    "wgs84_to_gcj02",
]
