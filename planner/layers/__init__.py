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

The package's modules: :mod:`~planner.layers.readers` (the public readers),
:mod:`~planner.layers._sources` (files, CSV and encodings), :mod:`~planner.layers._crs` (CRS
resolution and reprojection), :mod:`~planner.layers._geometry` (points, footprints, polygons),
:mod:`~planner.layers._columns` (the validation funnel and column checks). The GCJ-02
conversions live in :mod:`planner._geo` and are re-exported here.
"""

from __future__ import annotations

from planner._geo import GCJ02, gcj02_to_wgs84, wgs84_to_gcj02
from planner.layers.readers import (
    read_communities,
    read_facilities,
    read_layer,
    read_residences,
    to_wgs84,
)

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
