"""One streaming pass over an OSM file, and the helpers the facility and building readers share.

`scan_osm` reads an ``.osm``, ``.osm.bz2`` or ``.osm.pbf`` file once with osmium (node locations
and area assembly) and keeps the features that matter to `planner.osm.pois` and
`planner.osm.buildings`: tagged nodes, areas (closed ways and multipolygons) and open ways, in
WGS84. Transport and network ways (``highway``, ``railway``, ...) are left out.

OSM data are © OpenStreetMap contributors, available under the Open Database License (ODbL).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import osmium
import pandas as pd
import pyproj
import shapely
from osmium.geom import WKBFactory

from planner.errors import InputError

log = logging.getLogger(__name__)

WGS84 = pyproj.CRS.from_epsg(4326)

NAME_KEYS = ("name", "name:zh", "name:zh-Hans", "official_name", "name:en")
NETWORK_KEYS = (
    "highway",
    "railway",
    "route",
    "public_transport",
    "boundary",
    "waterway",
    "power",
    "aeroway",
    "barrier",
)
POI_KEYS = ("amenity", "shop", "office", "craft", "healthcare", "leisure", "tourism")
_TYPE_ORDER = {"n": 0, "w": 1, "r": 2}


@dataclass
class Feature:
    """One OSM feature: its id ("n123", "w456", "r789"), tags and WGS84 geometry."""

    id: str
    tags: dict[str, str]
    geometry: shapely.Geometry  # WGS84: Point, LineString or (Multi)Polygon


@dataclass
class OsmFeatures:
    """The features of one OSM file that matter here, in WGS84 and in a local metric CRS."""

    path: Path
    nodes: list[Feature] = field(default_factory=list)
    areas: list[Feature] = field(default_factory=list)
    lines: list[Feature] = field(default_factory=list)
    relations_without_area: dict[str, dict[str, str]] = field(default_factory=dict)
    skipped_geometries: int = 0


def _check_path(path: str | Path) -> Path:
    p = Path(path)
    if not p.is_file():
        raise InputError(
            f"OSM file '{p}' does not exist; give an .osm, .osm.bz2 or .osm.pbf file "
            "(see data/PROVENANCE.md for the bundled extracts)",
            zh=f"OSM 文件 '{p}' 不存在；请给出 .osm、.osm.bz2 或 .osm.pbf 文件"
            "（自带的数据见 data/PROVENANCE.md）",
        )
    return p


def _is_interesting_way(tags: Mapping[str, str]) -> bool:
    return any(key in tags for key in (*POI_KEYS, "building", "name"))


def scan_osm(path: str | Path) -> OsmFeatures:
    """One streaming pass over the file with node locations and area assembly."""
    p = _check_path(path)
    factory = WKBFactory()
    osm = OsmFeatures(path=p)
    relation_ids_with_area: set[str] = set()
    try:
        for obj in osmium.FileProcessor(str(p)).with_areas():
            if isinstance(obj, osmium.osm.Node):
                if len(obj.tags) == 0 or not obj.location.valid():
                    continue
                point = shapely.Point(obj.location.lon, obj.location.lat)
                osm.nodes.append(Feature(f"n{obj.id}", dict(obj.tags), point))
            elif isinstance(obj, osmium.osm.Way):
                tags = dict(obj.tags)
                if not _is_interesting_way(tags) or any(k in tags for k in NETWORK_KEYS):
                    continue
                try:
                    line = shapely.from_wkb(bytes.fromhex(factory.create_linestring(obj)))
                except (RuntimeError, osmium.InvalidLocationError):
                    osm.skipped_geometries += 1
                    continue
                osm.lines.append(Feature(f"w{obj.id}", tags, line))
            elif isinstance(obj, osmium.osm.Relation):
                tags = dict(obj.tags)
                if _is_interesting_way(tags):
                    osm.relations_without_area[f"r{obj.id}"] = tags
            elif isinstance(obj, osmium.osm.Area):
                if len(obj.tags) == 0:
                    continue
                prefix = "w" if obj.from_way() else "r"
                feature_id = f"{prefix}{obj.orig_id()}"
                try:
                    geom = shapely.from_wkb(bytes.fromhex(factory.create_multipolygon(obj)))
                except (RuntimeError, osmium.InvalidLocationError):
                    osm.skipped_geometries += 1
                    continue
                if not shapely.is_valid(geom):
                    geom = _polygonal(shapely.make_valid(geom))
                if geom is None or geom.is_empty:
                    osm.skipped_geometries += 1
                    continue
                if shapely.get_num_geometries(geom) == 1:
                    geom = shapely.get_geometry(geom, 0)
                osm.areas.append(Feature(feature_id, dict(obj.tags), geom))
                if prefix == "r":
                    relation_ids_with_area.add(feature_id)
    except RuntimeError as exc:
        raise InputError(
            f"OSM file '{p}' cannot be read ({exc}); give a valid .osm, .osm.bz2 or .osm.pbf",
            zh=f"OSM 文件 '{p}' 无法读取（{exc}）；请给出有效的 .osm、.osm.bz2 或 .osm.pbf 文件",
        ) from exc
    area_ids = {a.id for a in osm.areas}
    osm.lines = [line for line in osm.lines if line.id not in area_ids]
    for rid in relation_ids_with_area:
        osm.relations_without_area.pop(rid, None)
    if osm.skipped_geometries:
        log.warning(
            "%s: %d ways or areas have no usable geometry in this extract (nodes missing): skipped",
            p.name,
            osm.skipped_geometries,
        )
    log.info(
        "%s: %d tagged nodes, %d areas, %d open ways read",
        p.name,
        len(osm.nodes),
        len(osm.areas),
        len(osm.lines),
    )
    return osm


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry | None:
    parts = [g for g in shapely.get_parts(geom) if shapely.get_type_id(g) in (3, 6)]
    return shapely.union_all(parts) if parts else None


class Projector:
    """WGS84 to a local metric CRS and back, for arrays of geometries."""

    def __init__(self, crs: pyproj.CRS) -> None:
        self.crs = crs
        self._fwd = pyproj.Transformer.from_crs(WGS84, crs, always_xy=True)
        self._inv = pyproj.Transformer.from_crs(crs, WGS84, always_xy=True)

    def forward(self, geoms: np.ndarray) -> np.ndarray:
        out: np.ndarray = shapely.transform(
            geoms, lambda c: np.column_stack(self._fwd.transform(*c.T))
        )
        return out

    def inverse(self, geoms: np.ndarray) -> np.ndarray:
        out: np.ndarray = shapely.transform(
            geoms, lambda c: np.column_stack(self._inv.transform(*c.T))
        )
        return out


def sort_key(feature_id: str) -> tuple[int, int]:
    """Nodes, then ways, then relations, each by number."""
    return (_TYPE_ORDER.get(feature_id[0], 9), int(feature_id[1:]))


def tag_value(tags: Mapping[str, str], key: str) -> str | None:
    """The first of a tag's ``;``-separated values, stripped; None when missing or blank."""
    value = tags.get(key)
    if not isinstance(value, str):
        return None
    value = value.split(";")[0].strip()
    return value or None


def name_of(tags: Mapping[str, str]) -> str | None:
    """The first non-blank of the name tags (``name``, ``name:zh``, ...)."""
    for key in NAME_KEYS:
        value = tags.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def buildings_of(osm: OsmFeatures) -> list[Feature]:
    """The areas with a ``building`` tag other than ``no`` and ``construction``."""
    return [
        a
        for a in osm.areas
        if (tag_value(a.tags, "building") or "no").lower() not in {"no", "construction"}
    ]


def wgs84_frame(
    rows: list[dict[str, Any]], projector: Projector, columns: Mapping[str, str]
) -> gpd.GeoDataFrame:
    """A GeoDataFrame in WGS84 from rows whose geometry is in the local CRS."""
    data = {
        name: pd.Series([r[name] for r in rows], dtype=dtype) for name, dtype in columns.items()
    }
    geoms = np.array([r["geometry"] for r in rows], dtype=object)
    wgs = projector.inverse(geoms) if len(geoms) else geoms
    return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(list(wgs), crs=WGS84).array, crs=WGS84)
