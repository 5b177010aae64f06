"""Facilities and residences from an OpenStreetMap file: the review inputs of the bundled demo.

OpenStreetMap has the points of interest and the buildings a 15-minute review needs, but not the
numbers: no floor areas and no households. This module reads an OSM file (``.osm``,
``.osm.bz2``, ``.osm.pbf``) with osmium and turns it into the two layers ``planner check`` reads,
with every missing number *estimated* and labelled as such:

* :func:`read_osm_facilities` -- every node, way or multipolygon whose tags map to a facility
  category (:func:`planner.standards.category_from_osm_tags`), as a point, with an estimated
  ``floor_area_m2`` and the method that made it (``floor_area_method``).
* :func:`read_osm_buildings` -- building footprints with their type, levels, name and the land
  use / residential compound they stand in.
* :func:`read_osm_residences` -- the residential buildings as points with estimated households
  (:func:`planner.households.households_from_buildings`), or, where an extract has few mapped
  buildings, its community points (``place=quarter`` named "...社区") with an assumed household
  count per community.
* :func:`demo_inputs` -- both layers of a demo review (written by
  :func:`planner.outputs.write_demo_inputs`).

Which features are facilities
-----------------------------
A feature is a facility when :func:`~planner.standards.category_from_osm_tags` gives it a
category, except:

* transport and network features (``highway``, ``railway``, ``route``, ``public_transport``,
  ``boundary``, ``waterway``, ``power``, ``aeroway``, ``barrier`` tags, and relations of type
  route / route_master / public_transport / boundary): a bus route named "...体育场" is not a
  sports ground, a community's boundary is not its service station;
* things not built yet (``landuse=construction``, ``building=construction``, a ``construction``
  or ``proposed`` tag): "0803-633规划幼儿园" is a planned kindergarten;
* a category read only from the name (``category_basis="name"``) on a land-use, place or natural
  feature (a residential compound named after a hospital is housing, not a hospital);
* a category read only from the building type (``category_basis="building"``, e.g.
  ``building=school`` with no ``amenity``) when the feature has some other ``amenity`` (an
  ``amenity=college`` teaching building) or stands inside a university, college or research
  campus (``amenity=university|college|research_institute``): Chinese campuses tag their
  teaching buildings ``building=school``.

A feature whose representative point lies inside a larger facility polygon of the same category
is merged into it (the polygon keeps its id; ``merged_ids`` lists the others): a kindergarten node
inside its kindergarten grounds, the buildings of a school inside the school site.

Floor area (m², always an estimate)
-----------------------------------
Levels are ``building:levels`` when tagged, else :data:`FACILITY_DEFAULT_LEVELS` by building
type. In order:

1. ``building``: the facility *is* a building polygon: footprint × levels.
2. ``open_air``: a park, pitch, track, stadium, playground, garden or fitness station that is not
   a building: 0 m² (open ground has no building floor area; ``site_area_m2`` gives its land).
3. ``site_buildings``: a site polygon (school grounds, hospital campus) with buildings whose
   representative points lie inside it: the sum of their footprint × levels.
4. ``in_building``: a node (or line) standing in a building polygon. If the building type maps to
   the facility's own category (``building=hospital`` for a health node) the facility gets the
   building's whole floor area; otherwise it gets one storey (the footprint), for example the
   ground floor of a residential block. Either is shared equally among the POIs standing in that
   building (nodes with an ``amenity``, ``shop``, ``office``, ``craft``, ``healthcare``,
   ``leisure`` or ``tourism`` tag other than street furniture such as benches and ATMs).
5. ``default``: no building mapped: :data:`DEFAULT_FLOOR_AREA_M2` for the category, whose table
   says where each number comes from.

Households
----------
From buildings: the residential buildings are those of a residential type (``apartments``,
``residential``, ``house``, ``dormitory``, ``detached``, ``semidetached_house``, ``terrace``,
``bungalow``, ``farm``), and ``building=yes`` (or an unknown type) with no other use tag that
stands in ``landuse=residential`` or in a named residential compound (a polygon whose name ends
with one of :data:`COMPOUND_NAME_SUFFIXES`, e.g. 小区, 家园, 里, 苑, 号院). Households are
footprint × levels ÷ floor area per household with the defaults of :mod:`planner.households`.

From community points: each ``place=quarter|neighbourhood`` feature named "...社区" or
"...居委会" gets :data:`HOUSEHOLDS_PER_COMMUNITY` households (an assumption; see there).

OSM data are © OpenStreetMap contributors, available under the Open Database License (ODbL).
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import osmium
import pandas as pd
import pyproj
import shapely
from osmium.geom import WKBFactory

from planner._geo import utm_crs_of
from planner.errors import InputError
from planner.households import BUILDING_DEFAULTS, households_from_buildings
from planner.standards import category_from_osm_tags, parent_category

log = logging.getLogger(__name__)

__all__ = [
    "COMPOUND_NAME_SUFFIXES",
    "DEFAULT_FLOOR_AREA_M2",
    "FACILITY_DEFAULT_LEVELS",
    "HOUSEHOLDS_PER_COMMUNITY",
    "RESIDENTIAL_BUILDING_TYPES",
    "read_osm_buildings",
    "read_osm_facilities",
    "read_osm_residences",
    "demo_inputs",
]

WGS84 = pyproj.CRS.from_epsg(4326)

#: Floor area (m²) given to a facility of each category when no building is mapped for it,
#: with the reason; a sub-category not listed takes its generic category's
#: (:data:`planner.standards.CATEGORY_PARENTS`). "GB 50180-2018 appendix C" ranges are the
#: building-area (建筑面积) ranges the standard's appendix C tables give for the facility named,
#: as read for this project; check the published table before quoting them. Entries marked
#: "assumption" are our own round numbers.
DEFAULT_FLOOR_AREA_M2: dict[str, tuple[float, str]] = {
    "community_service": (
        600.0,
        "lower end of 600-1000 m2 for 社区服务站 (5-minute tier), GB 50180-2018 appendix C; "
        "the sub-district 社区服务中心 is given 700-1500 m2",
    ),
    "health": (120.0, "lower end of 120-270 m2 for 社区卫生服务站, GB 50180-2018 appendix C"),
    "elderly_care": (
        350.0,
        "lower end of 350-750 m2 for 老年人日间照料中心（托老所）, GB 50180-2018 appendix C",
    ),
    "daycare": (300.0, "assumption: a small nursery (托儿所) of a few rooms"),
    "kindergarten": (
        2000.0,
        "assumption: a 6-class kindergarten (about 330 m2 of building per class)",
    ),
    "primary_school": (8000.0, "assumption: a 24-class primary school"),
    "middle_school": (10000.0, "assumption: a 24-class middle school"),
    "market": (
        750.0,
        "lower end of 750-1500 m2 for 菜市场或生鲜超市, GB 50180-2018 appendix C",
    ),
    "supermarket": (
        750.0,
        "lower end of 750-1500 m2 for 菜市场或生鲜超市, GB 50180-2018 appendix C",
    ),
    "convenience": (100.0, "assumption: a neighbourhood convenience shop"),
    "mall": (5000.0, "assumption: a small shopping centre"),
    "culture": (
        250.0,
        "lower end of 250-1200 m2 for 文化活动站, GB 50180-2018 appendix C",
    ),
    "sports": (600.0, "assumption: an indoor gym or sports hall"),
    "sports_ground": (0.0, "open-air ground: no building floor area"),
    "pitch": (0.0, "open-air ground: no building floor area"),
    "community_complex": (
        600.0,
        "the 2024 embedded-services guideline's minimum for a complex (一般不应小于600平方米)",
    ),
    "outdoor_fitness": (0.0, "open-air ground: no building floor area"),
    "park": (0.0, "open-air ground: no building floor area"),
    "pharmacy": (100.0, "assumption: a neighbourhood pharmacy"),
    "post": (150.0, "assumption: a post office counter or parcel station"),
    "bank": (300.0, "assumption: a bank branch"),
    "police": (
        1000.0,
        "lower end of 1000-1600 m2 for 派出所, GB 50180-2018 appendix C",
    ),
}


def _default_floor_area(category: str) -> tuple[float, str]:
    """The category's default floor area, else its generic category's (sub-categories)."""
    if category in DEFAULT_FLOOR_AREA_M2:
        return DEFAULT_FLOOR_AREA_M2[category]
    parent = parent_category(category)
    if parent is not None and parent in DEFAULT_FLOOR_AREA_M2:
        area, why = DEFAULT_FLOOR_AREA_M2[parent]
        return area, f"the default of its generic category {parent}: {why}"
    return math.nan, "no default"


#: Levels assumed for a facility's building when ``building:levels`` is missing. Residential
#: types use :data:`planner.households.BUILDING_DEFAULTS`; the others are below, and any type not
#: listed (``yes``, ``commercial``, ``office``, ...) gets ``"*"``.
FACILITY_DEFAULT_LEVELS: dict[str, tuple[float, str]] = {
    "kindergarten": (3.0, "JGJ 39-2016 keeps children's rooms on at most 3 storeys"),
    "school": (4.0, "GB 50099-2011 keeps primary teaching rooms at most 4 storeys up"),
    "hospital": (4.0, "assumption"),
    "*": (3.0, "assumption for other non-residential buildings"),
}

#: Households assumed per community point (a ``place=quarter`` named "...社区"). GB 50180-2018
#: table 3.0.4 sizes the 5-minute life circle -- the scale of one community's service station --
#: at 1,500-4,000 dwellings (5,000-12,000 residents); the lower end is used. Real communities
#: vary widely: pass ``households_per_community=`` with local figures when known.
HOUSEHOLDS_PER_COMMUNITY = 1500.0

#: Building types that are residential whatever their surroundings (the residential types of
#: :data:`planner.households.BUILDING_DEFAULTS` except ``yes``).
RESIDENTIAL_BUILDING_TYPES: frozenset[str] = frozenset(BUILDING_DEFAULTS) - {"yes"}

#: Name endings of residential compounds (小区 estate, 家园 "home", 里 lane estate, 苑 garden
#: estate, 号院 numbered compound, 公寓 apartments, 新村 new village, 花园 garden estate,
#: 生活区 staff living quarters).
COMPOUND_NAME_SUFFIXES: tuple[str, ...] = (
    "小区",
    "家园",
    "里",
    "苑",
    "号院",
    "公寓",
    "新村",
    "花园",
    "生活区",
)

#: A named ``building=yes`` in a residential area is a home only when its name reads like one:
#: a numbered block (3号楼, 5栋, 2单元, 甲1号), a dormitory, apartments or a dwelling.
_RESIDENTIAL_NAME = re.compile(
    r"(\d+|[一二三四五六七八九十百]+)\s*(号楼|号|栋|幢|座|单元)$|宿舍|公寓|住宅|居民楼"
)

_COMMUNITY_NAME_SUFFIXES = ("社区", "居委会", "居民委员会")
_COMMUNITY_PLACES = frozenset({"quarter", "neighbourhood"})

_NAME_KEYS = ("name", "name:zh", "name:zh-Hans", "official_name", "name:en")
_NETWORK_KEYS = (
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
_NETWORK_RELATION_TYPES = frozenset({"route", "route_master", "public_transport", "boundary"})
_LAND_KEYS = ("landuse", "place", "natural")
_USE_KEYS = (
    "amenity",
    "shop",
    "office",
    "craft",
    "healthcare",
    "leisure",
    "tourism",
    "man_made",
    "public_transport",
    "railway",
    "aeroway",
    "power",
)
_POI_KEYS = ("amenity", "shop", "office", "craft", "healthcare", "leisure", "tourism")
_FURNITURE_AMENITIES = frozenset(
    {
        "atm",
        "bench",
        "bicycle_parking",
        "bicycle_rental",
        "charging_station",
        "clock",
        "drinking_water",
        "fountain",
        "motorcycle_parking",
        "parking",
        "parking_entrance",
        "parking_space",
        "post_box",
        "recycling",
        "shelter",
        "telephone",
        "toilets",
        "vending_machine",
        "waste_basket",
        "waste_disposal",
    }
)
_CAMPUS_AMENITIES = frozenset({"university", "college", "research_institute"})
_OPEN_AIR_LEISURE = frozenset(
    {"park", "pitch", "track", "stadium", "playground", "garden", "fitness_station"}
)
_TAGS_KEPT = (
    "amenity",
    "shop",
    "leisure",
    "healthcare",
    "social_facility",
    "social_facility:for",
    "community_centre",
    "community_centre:for",
    "isced:level",
    "building",
    "building:levels",
    "landuse",
    "name",
    "name:zh",
    "name:en",
    "official_name",
    "operator",
)
_LEVELS_NUMBER = re.compile(r"^\s*(\d+(?:\.\d+)?)")
_MAX_LEVELS = 200.0
_TYPE_ORDER = {"n": 0, "w": 1, "r": 2}


# --------------------------------------------------------------------------------------------
# Reading the file
# --------------------------------------------------------------------------------------------


@dataclass
class _Feature:
    id: str
    tags: dict[str, str]
    geometry: shapely.Geometry  # WGS84: Point, LineString or (Multi)Polygon


@dataclass
class _Osm:
    """The features of one OSM file that matter here, in WGS84 and in a local metric CRS."""

    path: Path
    nodes: list[_Feature] = field(default_factory=list)
    areas: list[_Feature] = field(default_factory=list)
    lines: list[_Feature] = field(default_factory=list)
    relations_without_area: dict[str, dict[str, str]] = field(default_factory=dict)
    skipped_geometries: int = 0


def _check_path(path: str | Path) -> Path:
    p = Path(path)
    if not p.is_file():
        raise InputError(
            f"OSM file '{p}' does not exist; give an .osm, .osm.bz2 or .osm.pbf file "
            "(see data/PROVENANCE.md for the bundled extracts)"
        )
    return p


def _is_interesting_way(tags: Mapping[str, str]) -> bool:
    return any(key in tags for key in (*_POI_KEYS, "building", "name"))


def _scan(path: str | Path) -> _Osm:
    """One streaming pass over the file with node locations and area assembly."""
    p = _check_path(path)
    factory = WKBFactory()
    osm = _Osm(path=p)
    relation_ids_with_area: set[str] = set()
    try:
        for obj in osmium.FileProcessor(str(p)).with_areas():
            if isinstance(obj, osmium.osm.Node):
                if len(obj.tags) == 0 or not obj.location.valid():
                    continue
                point = shapely.Point(obj.location.lon, obj.location.lat)
                osm.nodes.append(_Feature(f"n{obj.id}", dict(obj.tags), point))
            elif isinstance(obj, osmium.osm.Way):
                tags = dict(obj.tags)
                if not _is_interesting_way(tags) or any(k in tags for k in _NETWORK_KEYS):
                    continue
                try:
                    line = shapely.from_wkb(bytes.fromhex(factory.create_linestring(obj)))
                except (RuntimeError, osmium.InvalidLocationError):
                    osm.skipped_geometries += 1
                    continue
                osm.lines.append(_Feature(f"w{obj.id}", tags, line))
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
                osm.areas.append(_Feature(feature_id, dict(obj.tags), geom))
                if prefix == "r":
                    relation_ids_with_area.add(feature_id)
    except RuntimeError as exc:
        raise InputError(
            f"OSM file '{p}' cannot be read ({exc}); give a valid .osm, .osm.bz2 or .osm.pbf"
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


class _Projector:
    def __init__(self, crs: pyproj.CRS) -> None:
        self.crs = crs
        self._fwd = pyproj.Transformer.from_crs(WGS84, crs, always_xy=True)
        self._inv = pyproj.Transformer.from_crs(crs, WGS84, always_xy=True)

    def forward(self, geoms: np.ndarray) -> np.ndarray:
        return shapely.transform(geoms, lambda c: np.column_stack(self._fwd.transform(*c.T)))

    def inverse(self, geoms: np.ndarray) -> np.ndarray:
        return shapely.transform(geoms, lambda c: np.column_stack(self._inv.transform(*c.T)))


def _sort_key(feature_id: str) -> tuple[int, int]:
    return (_TYPE_ORDER.get(feature_id[0], 9), int(feature_id[1:]))


def _tag(tags: Mapping[str, str], key: str) -> str | None:
    value = tags.get(key)
    if not isinstance(value, str):
        return None
    value = value.split(";")[0].strip()
    return value or None


def _name(tags: Mapping[str, str]) -> str | None:
    for key in _NAME_KEYS:
        value = tags.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _levels(value: object) -> float | None:
    """The first number of a ``building:levels`` value when it is a plausible level count."""
    if not isinstance(value, str):
        return None
    match = _LEVELS_NUMBER.match(value)
    if match is None:
        return None
    number = float(match.group(1))
    return number if 0 < number <= _MAX_LEVELS else None


def _building_levels(tags: Mapping[str, str]) -> tuple[float, str]:
    """(levels, "tag"|"default") of a building for floor-area purposes."""
    tagged = _levels(tags.get("building:levels"))
    if tagged is not None:
        return tagged, "tag"
    building = (_tag(tags, "building") or "yes").lower()
    if building in RESIDENTIAL_BUILDING_TYPES:
        return BUILDING_DEFAULTS[building].levels, "default"
    return FACILITY_DEFAULT_LEVELS.get(building, FACILITY_DEFAULT_LEVELS["*"])[0], "default"


def _compact_tags(tags: Mapping[str, str]) -> str:
    kept = {k: tags[k] for k in _TAGS_KEPT if k in tags}
    return json.dumps(kept, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


# --------------------------------------------------------------------------------------------
# Facilities
# --------------------------------------------------------------------------------------------


def _without(tags: Mapping[str, str], keys: Iterable[str]) -> dict[str, str]:
    drop = set(keys)
    return {k: v for k, v in tags.items() if k not in drop}


def _category_basis(tags: Mapping[str, str]) -> str:
    """Which tags gave the category: "tags" (amenity/shop/...), "building" or "name"."""
    no_names = _without(tags, _NAME_KEYS)
    if category_from_osm_tags(_without(no_names, ("building",))) is not None:
        return "tags"
    if category_from_osm_tags(no_names) is not None:
        return "building"
    return "name"


def _exclusion(feature: _Feature, basis: str) -> str | None:
    """Why a categorised feature is not a facility, or None when it is one."""
    tags = feature.tags
    if any(key in tags for key in _NETWORK_KEYS) or tags.get("type") in _NETWORK_RELATION_TYPES:
        return "transport or boundary feature"
    if (
        tags.get("landuse") == "construction"
        or tags.get("building") == "construction"
        or "construction" in tags
        or "proposed" in tags
    ):
        return "not built yet"
    if basis == "name" and any(key in tags for key in _LAND_KEYS):
        return "land use or place named after a facility"
    if basis == "building" and _tag(tags, "amenity") is not None:
        return "building type only, with another amenity"
    return None


@dataclass
class _Candidate:
    feature: _Feature
    category: str
    basis: str
    kind: Literal["node", "line", "area"]
    point_m: Any = None  # representative point, local CRS
    geom_m: Any = None  # local CRS
    merged: list[str] = field(default_factory=list)


def _buildings_of(osm: _Osm) -> list[_Feature]:
    return [
        a
        for a in osm.areas
        if (_tag(a.tags, "building") or "no").lower() not in {"no", "construction"}
    ]


def _facilities_from(osm: _Osm) -> gpd.GeoDataFrame:
    excluded: Counter[str] = Counter()
    candidates: list[_Candidate] = []
    for kind, features in (("node", osm.nodes), ("area", osm.areas), ("line", osm.lines)):
        for feature in features:
            category = category_from_osm_tags(feature.tags)
            if category is None:
                continue
            basis = _category_basis(feature.tags)
            reason = _exclusion(feature, basis)
            if reason is not None:
                excluded[reason] += 1
                log.debug("%s (%s) is not a facility: %s", feature.id, category, reason)
                continue
            candidates.append(_Candidate(feature, category, basis, kind))  # type: ignore[arg-type]
    for rid, tags in sorted(osm.relations_without_area.items(), key=lambda kv: _sort_key(kv[0])):
        category = category_from_osm_tags(tags)
        if category is None:
            continue
        if _exclusion(_Feature(rid, tags, shapely.Point()), _category_basis(tags)) is not None:
            continue
        excluded["relation without area geometry in this extract"] += 1
        log.info(
            "%s (%s, %s) has no area geometry in this extract: skipped", rid, _name(tags), category
        )

    buildings = _buildings_of(osm)
    all_geoms = [c.feature.geometry for c in candidates] + [b.geometry for b in buildings]
    projector = _Projector(utm_crs_of(all_geoms or [shapely.Point(117.0, 39.0)]))

    if candidates:
        geoms_m = projector.forward(
            np.array([c.feature.geometry for c in candidates], dtype=object)
        )
        for cand, geom_m in zip(candidates, geoms_m, strict=True):
            cand.geom_m = geom_m
            if cand.kind == "area":
                cand.point_m = shapely.point_on_surface(geom_m)
            elif cand.kind == "line":
                cand.point_m = shapely.line_interpolate_point(geom_m, 0.5, normalized=True)
            else:
                cand.point_m = geom_m

    # Campus sites and building footprints, in the local CRS.
    campus_m = projector.forward(
        np.array(
            [a.geometry for a in osm.areas if _tag(a.tags, "amenity") in _CAMPUS_AMENITIES],
            dtype=object,
        )
    )
    campus_tree = shapely.STRtree(campus_m)
    kept: list[_Candidate] = []
    for cand in candidates:
        if cand.basis == "building" and len(campus_tree.query(cand.point_m, predicate="within")):
            excluded["campus building (building type only)"] += 1
            continue
        kept.append(cand)
    candidates = kept

    # Merge features into the largest same-category facility polygon containing them.
    areas = sorted(
        (c for c in candidates if c.kind == "area"),
        key=lambda c: (-float(c.geom_m.area), _sort_key(c.feature.id)),
    )
    absorbed: set[str] = set()
    for cand in sorted(candidates, key=lambda c: _sort_key(c.feature.id)):
        for outer in areas:
            if outer is cand or outer.feature.id in absorbed or outer.category != cand.category:
                continue
            if cand.kind == "area" and float(outer.geom_m.area) <= float(cand.geom_m.area):
                break  # areas are sorted by size: no larger polygon is left
            if outer.geom_m.contains(cand.point_m):
                outer.merged.append(cand.feature.id)
                absorbed.add(cand.feature.id)
                break
    facilities = [c for c in candidates if c.feature.id not in absorbed]
    by_id = {c.feature.id: c for c in candidates}
    for fac in facilities:
        if _name(fac.feature.tags) is None:
            for member in sorted(fac.merged, key=_sort_key):
                name = _name(by_id[member].feature.tags)
                if name is not None:
                    fac.feature.tags = {**fac.feature.tags, "name": name}
                    break

    floor = _FloorAreas(osm, buildings, projector)
    rows = []
    for fac in sorted(facilities, key=lambda c: _sort_key(c.feature.id)):
        area_m2, method = floor.estimate(fac)
        rows.append(
            {
                "id": fac.feature.id,
                "name": _name(fac.feature.tags),
                "category": fac.category,
                "category_basis": fac.basis,
                "osm_tags": _compact_tags(fac.feature.tags),
                "floor_area_m2": round(area_m2, 1),
                "floor_area_estimated": True,
                "floor_area_method": method,
                "site_area_m2": round(float(fac.geom_m.area), 1) if fac.kind == "area" else np.nan,
                "merged_ids": ";".join(sorted(fac.merged, key=_sort_key)),
                "geometry": fac.point_m,
            }
        )
    if excluded:
        log.info(
            "%s: features with a category but not facilities: %s", osm.path.name, dict(excluded)
        )
    log.info(
        "%s: %d facilities (%s)",
        osm.path.name,
        len(rows),
        dict(sorted(Counter(r["category"] for r in rows).items())),
    )
    return _frame(rows, projector, _FACILITY_COLUMNS)


_FACILITY_COLUMNS = {
    "id": "string",
    "name": "string",
    "category": "string",
    "category_basis": "string",
    "osm_tags": "string",
    "floor_area_m2": "float64",
    "floor_area_estimated": "bool",
    "floor_area_method": "string",
    "site_area_m2": "float64",
    "merged_ids": "string",
}


def _frame(
    rows: list[dict[str, Any]], projector: _Projector, columns: Mapping[str, str]
) -> gpd.GeoDataFrame:
    """A GeoDataFrame in WGS84 from rows whose geometry is in the local CRS."""
    data = {
        name: pd.Series([r[name] for r in rows], dtype=dtype) for name, dtype in columns.items()
    }
    geoms = np.array([r["geometry"] for r in rows], dtype=object)
    wgs = projector.inverse(geoms) if len(geoms) else geoms
    return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(list(wgs), crs=WGS84).array, crs=WGS84)


class _FloorAreas:
    """Floor-area estimates for facilities from the building footprints of the same file."""

    def __init__(self, osm: _Osm, buildings: list[_Feature], projector: _Projector) -> None:
        self.buildings = buildings
        geoms = np.array([b.geometry for b in buildings], dtype=object)
        self.geoms_m = projector.forward(geoms) if len(geoms) else geoms
        self.tree = shapely.STRtree(self.geoms_m)
        self.footprint = shapely.area(self.geoms_m) if len(geoms) else np.zeros(0)
        levels = [_building_levels(b.tags) for b in buildings]
        self.levels = np.array([lv for lv, _ in levels], dtype=float)
        self.levels_source = [src for _, src in levels]
        self.reps = shapely.point_on_surface(self.geoms_m) if len(geoms) else geoms
        self.rep_tree = shapely.STRtree(self.reps)
        # POI nodes standing in each building (the sharers of its floor area).
        poi_nodes = [n for n in osm.nodes if _is_poi_node(n.tags)]
        self.poi_ids = [n.id for n in poi_nodes]
        self.poi_categories = [category_from_osm_tags(n.tags) for n in poi_nodes]
        poi_m = projector.forward(np.array([n.geometry for n in poi_nodes], dtype=object))
        self.sharers: dict[int, list[int]] = {}
        if len(poi_m) and len(geoms):
            pts, blds = self.tree.query(poi_m, predicate="within")
            for p, b in zip(pts.tolist(), blds.tolist(), strict=True):
                self.sharers.setdefault(b, []).append(p)

    def _containing_building(self, point: shapely.Geometry) -> int | None:
        hits = self.tree.query(point, predicate="within")
        if not len(hits):
            return None
        # the smallest building around the point (a building inside a courtyard building)
        return int(min(hits.tolist(), key=lambda i: (self.footprint[i], i)))

    def _describe(self, i: int) -> str:
        tags = self.buildings[i].tags
        return (
            f"{self.buildings[i].id} building={_tag(tags, 'building') or 'yes'}: "
            f"{self.footprint[i]:.1f} m2 footprint x {self.levels[i]:g} levels "
            f"({self.levels_source[i]})"
        )

    def estimate(self, fac: _Candidate) -> tuple[float, str]:
        tags = fac.feature.tags
        building = _tag(tags, "building")
        if fac.kind == "area" and building is not None and building.lower() != "no":
            levels, source = _building_levels(tags)
            footprint = float(fac.geom_m.area)
            return footprint * levels, (
                f"estimate:building({footprint:.1f} m2 footprint x {levels:g} levels ({source}))"
            )
        leisure = _tag(tags, "leisure")
        if leisure in _OPEN_AIR_LEISURE:
            return 0.0, f"open_air(leisure={leisure}: open ground, no building floor area)"
        if fac.kind == "area":
            inside = self.rep_tree.query(fac.geom_m, predicate="contains")
            if len(inside):
                idx = sorted(inside.tolist(), key=lambda i: _sort_key(self.buildings[i].id))
                total = float(np.sum(self.footprint[idx] * self.levels[idx]))
                tagged = sum(self.levels_source[i] == "tag" for i in idx)
                return total, (
                    f"estimate:site_buildings({len(idx)} buildings inside the site, "
                    f"footprint x levels ({tagged} with levels tagged) = {total:.1f} m2)"
                )
        else:
            b = self._containing_building(fac.point_m)
            if b is not None:
                return self._in_building(fac, b)
        area, why = _default_floor_area(fac.category)
        return area, f"default:{fac.category}({area:g} m2: {why}; no building mapped for it)"

    def _in_building(self, fac: _Candidate, b: int) -> tuple[float, str]:
        btype = _tag(self.buildings[b].tags, "building") or "yes"
        dedicated = category_from_osm_tags({"building": btype}) == fac.category
        sharers = self.sharers.get(b, [])
        if dedicated:
            n = max(1, sum(self.poi_categories[p] == fac.category for p in sharers))
            total = float(self.footprint[b] * self.levels[b])
            return total / n, (
                f"estimate:in_building({self._describe(b)} = {total:.1f} m2, "
                f"shared by {n} {fac.category} POIs standing in it)"
            )
        own_use = _is_poi_node(self.buildings[b].tags)
        n = max(1, len(sharers) + int(own_use))
        users = f"{n} POIs standing in it" + (
            " (the building's own use included)" if own_use else ""
        )
        return float(self.footprint[b]) / n, (
            f"estimate:in_building(one storey of {self.buildings[b].id} building={btype}: "
            f"{self.footprint[b]:.1f} m2 footprint shared by {users})"
        )


def _is_poi_node(tags: Mapping[str, str]) -> bool:
    if category_from_osm_tags(tags) is not None:
        return True
    amenity = _tag(tags, "amenity")
    if amenity is not None:
        return amenity not in _FURNITURE_AMENITIES
    return any(_tag(tags, key) is not None for key in _POI_KEYS if key != "amenity")


def read_osm_facilities(path: str | Path) -> gpd.GeoDataFrame:
    """Read the facilities of an OSM file, with estimated floor areas.

    Parameters
    ----------
    path
        An ``.osm``, ``.osm.bz2`` or ``.osm.pbf`` file.

    Returns
    -------
    geopandas.GeoDataFrame
        One point per facility (EPSG:4326; polygons give their representative point), sorted by
        id (nodes, then ways, then relations, by number), with columns ``id`` ("n123",
        "w456", "r789"), ``name``, ``category`` (the vocabulary of
        :data:`planner.standards.CATEGORIES`), ``category_basis`` ("tags", "building" or
        "name": what gave the category), ``osm_tags`` (the relevant tags as compact JSON),
        ``floor_area_m2`` (m², estimated), ``floor_area_estimated`` (always True),
        ``floor_area_method`` (how the number was made), ``site_area_m2`` (area of the
        facility's own polygon, NaN for points) and ``merged_ids`` (features merged into this
        one, ";"-separated). See the module docstring for the rules.

    Raises
    ------
    InputError
        If the file does not exist or osmium cannot read it.
    """
    return _facilities_from(_scan(path))


# --------------------------------------------------------------------------------------------
# Buildings and residences
# --------------------------------------------------------------------------------------------

_BUILDING_COLUMNS = {
    "id": "string",
    "name": "string",
    "building": "string",
    "building:levels": "string",
    "use": "string",
    "landuse": "string",
    "landuse_id": "string",
    "landuse_name": "string",
    "residential": "string",
    "compound_id": "string",
    "compound_name": "string",
}


def _is_compound(area: _Feature) -> bool:
    """A residential compound: landuse=residential, or a named polygon with a compound suffix."""
    tags = area.tags
    if tags.get("landuse") == "residential":
        return True
    if "building" in tags or any(k in tags for k in _USE_KEYS):
        return False
    if tags.get("landuse") not in (None, "residential"):
        return False
    name = _name(tags)
    return name is not None and name.endswith(COMPOUND_NAME_SUFFIXES)


def _buildings_from(osm: _Osm) -> tuple[list[dict[str, Any]], _Projector]:
    buildings = _buildings_of(osm)
    landuse = [a for a in osm.areas if "landuse" in a.tags and "building" not in a.tags]
    compounds = [a for a in osm.areas if _is_compound(a)]
    projector = _Projector(
        utm_crs_of([b.geometry for b in buildings] or [shapely.Point(117.0, 39.0)])
    )
    b_m = projector.forward(np.array([b.geometry for b in buildings], dtype=object))
    reps = shapely.point_on_surface(b_m) if len(b_m) else b_m

    def smallest_containing(features: list[_Feature]) -> list[int | None]:
        geoms = projector.forward(np.array([f.geometry for f in features], dtype=object))
        out: list[int | None] = [None] * len(reps)
        if not len(geoms) or not len(reps):
            return out
        pts, polys = shapely.STRtree(geoms).query(reps, predicate="within")
        areas = shapely.area(geoms)
        for p, q in zip(pts.tolist(), polys.tolist(), strict=True):
            current = out[p]
            if current is None or (areas[q], _sort_key(features[q].id)) < (
                areas[current],
                _sort_key(features[current].id),
            ):
                out[p] = q
        return out

    in_landuse = smallest_containing(landuse)
    in_compound = smallest_containing(compounds)
    rows = []
    for i, b in enumerate(buildings):
        tags = b.tags
        lu = landuse[in_landuse[i]] if in_landuse[i] is not None else None  # type: ignore[index]
        cp = compounds[in_compound[i]] if in_compound[i] is not None else None  # type: ignore[index]
        uses = [f"{k}={tags[k]}" for k in _USE_KEYS if k in tags]
        rows.append(
            {
                "id": b.id,
                "name": _name(tags),
                "building": (_tag(tags, "building") or "yes").lower(),
                "building:levels": tags.get("building:levels"),
                "use": ";".join(uses) if uses else None,
                "landuse": lu.tags.get("landuse") if lu else None,
                "landuse_id": lu.id if lu else None,
                "landuse_name": _name(lu.tags) if lu else None,
                "residential": lu.tags.get("residential") if lu else None,
                "compound_id": cp.id if cp else None,
                "compound_name": _name(cp.tags) if cp else None,
                "geometry": b_m[i],
            }
        )
    rows.sort(key=lambda r: _sort_key(r["id"]))
    return rows, projector


def read_osm_buildings(path: str | Path, *, residential_basis: bool = False) -> gpd.GeoDataFrame:
    """Read the building footprints of an OSM file with their context.

    Parameters
    ----------
    path
        An ``.osm``, ``.osm.bz2`` or ``.osm.pbf`` file.
    residential_basis
        Also give each building the ``residential_basis`` column of `read_osm_residences`: why
        it counts as a home, missing when it does not (the same rules, the same file read once).

    Returns
    -------
    geopandas.GeoDataFrame
        Polygons (EPSG:4326) of every ``building=*`` way or multipolygon (except ``no`` and
        ``construction``), sorted by id, with ``id``, ``name``, ``building`` (type, lower case,
        ``yes`` when blank), ``building:levels`` (the raw tag), ``use`` (other use tags such as
        ``amenity=library``), ``landuse``/``landuse_id``/``landuse_name``/``residential`` (the
        smallest land-use polygon around the building's representative point, and its
        ``residential=*`` tag), ``compound_id``/``compound_name`` (the smallest residential
        compound around it: ``landuse=residential`` or a named polygon ending in one of
        :data:`COMPOUND_NAME_SUFFIXES`).

    Raises
    ------
    InputError
        If the file does not exist or osmium cannot read it.
    """
    osm = _scan(path)
    rows, projector = _buildings_from(osm)
    if not residential_basis:
        return _frame(rows, projector, _BUILDING_COLUMNS)
    facility_ids = set(_facilities_from(osm)["id"].tolist())
    rows = [{**row, "residential_basis": _residential_basis(row, facility_ids)} for row in rows]
    return _frame(rows, projector, {**_BUILDING_COLUMNS, "residential_basis": "string"})


def _residential_basis(row: Mapping[str, Any], facility_ids: set[str]) -> str | None:
    """Why a building is residential, or None when it is not."""
    building = row["building"]
    if building in RESIDENTIAL_BUILDING_TYPES:
        return f"building={building}"
    if row["id"] in facility_ids or row["use"] is not None:
        return None
    name = row["name"]
    if name is not None and _RESIDENTIAL_NAME.search(name) is None:
        return None  # a named building=yes: 食堂, 招待所, 动力楼 are not homes
    if building in BUILDING_DEFAULTS or building == "yes":
        if row["landuse"] == "residential":
            return f"building={building} in landuse=residential {row['landuse_id']}"
        if row["compound_id"] is not None:
            return f"building={building} in residential compound {row['compound_id']}"
    return None


def _residences_from_buildings(
    osm: _Osm,
    *,
    m2_per_household: float | Mapping[str, float] | None,
    default_levels: float | Mapping[str, float] | None,
    facility_ids: set[str] | None = None,
) -> gpd.GeoDataFrame:
    rows, projector = _buildings_from(osm)
    if facility_ids is None:
        facility_ids = set(_facilities_from(osm)["id"].tolist())
    chosen = []
    for row in rows:
        basis = _residential_basis(row, facility_ids)
        if basis is not None:
            chosen.append({**row, "residential_basis": basis})
    columns = {**_BUILDING_COLUMNS, "residential_basis": "string"}
    frame = gpd.GeoDataFrame(
        {
            name: pd.Series([r[name] for r in chosen], dtype=dtype)
            for name, dtype in columns.items()
        },
        geometry=gpd.GeoSeries([r["geometry"] for r in chosen], crs=projector.crs).array,
        crs=projector.crs,
    )
    if frame.empty:
        raise InputError(
            f"OSM file '{osm.path}' has no residential buildings (building=apartments, "
            "residential, house, dormitory, ... or building=yes in landuse=residential); use "
            "method='communities' if it has community points, or give a residences layer"
        )
    estimated = households_from_buildings(
        frame,
        m2_per_household=m2_per_household,
        default_levels=default_levels,
        type_col="building",
        levels_col="building:levels",
    )
    estimated = estimated.set_geometry(
        gpd.GeoSeries(shapely.point_on_surface(estimated.geometry.array), crs=projector.crs)
    ).to_crs(WGS84)
    estimated = (
        estimated.rename_geometry("geometry")
        if estimated.geometry.name != "geometry"
        else estimated
    )
    lead = ["id", "name", "households", "households_estimated", "households_method"]
    rest = [c for c in estimated.columns if c not in lead and c != "geometry"]
    out = estimated[[*lead, *rest, "geometry"]].reset_index(drop=True)
    log.info(
        "%s: %d residential buildings, %.1f households (estimated)",
        osm.path.name,
        len(out),
        float(out["households"].sum()),
    )
    return out


def _residences_from_communities(osm: _Osm, *, households_per_community: float) -> gpd.GeoDataFrame:
    if not (math.isfinite(households_per_community) and households_per_community > 0):
        raise InputError(
            f"households_per_community is {households_per_community!r}; give a positive number"
        )
    features = [
        f
        for f in (*osm.nodes, *osm.areas)
        if f.tags.get("place") in _COMMUNITY_PLACES
        and (_name(f.tags) or "").endswith(_COMMUNITY_NAME_SUFFIXES)
    ]
    if not features:
        raise InputError(
            f"OSM file '{osm.path}' has no community points (place=quarter or neighbourhood "
            f"named ...{'/...'.join(_COMMUNITY_NAME_SUFFIXES)}); use method='buildings' or give "
            "a residences layer"
        )
    features.sort(key=lambda f: _sort_key(f.id))
    projector = _Projector(utm_crs_of([f.geometry for f in features]))
    geoms_m = projector.forward(np.array([f.geometry for f in features], dtype=object))
    points = [g if shapely.get_type_id(g) == 0 else shapely.point_on_surface(g) for g in geoms_m]
    method = (
        f"estimate:community_point(assumed {households_per_community:g} households per "
        "community; GB 50180-2018 table 3.0.4 gives 1500-4000 dwellings for the 5-minute life "
        "circle, the scale of one community)"
    )
    rows = [
        {
            "id": f.id,
            "name": _name(f.tags),
            "households": float(households_per_community),
            "households_estimated": True,
            "households_method": method,
            "place": f.tags.get("place"),
            "geometry": p,
        }
        for f, p in zip(features, points, strict=True)
    ]
    columns = {
        "id": "string",
        "name": "string",
        "households": "float64",
        "households_estimated": "bool",
        "households_method": "string",
        "place": "string",
    }
    out = _frame(rows, projector, columns)
    log.info(
        "%s: %d community points x %g households (assumed)",
        osm.path.name,
        len(out),
        households_per_community,
    )
    return out


def read_osm_residences(
    path: str | Path,
    *,
    method: Literal["buildings", "communities"] = "buildings",
    m2_per_household: float | Mapping[str, float] | None = None,
    default_levels: float | Mapping[str, float] | None = None,
    households_per_community: float = HOUSEHOLDS_PER_COMMUNITY,
) -> gpd.GeoDataFrame:
    """Read residences with estimated households from an OSM file.

    Parameters
    ----------
    path
        An ``.osm``, ``.osm.bz2`` or ``.osm.pbf`` file.
    method
        ``"buildings"``: the residential buildings (see the module docstring) with households
        = footprint × levels ÷ m² per household
        (:func:`planner.households.households_from_buildings`).
        ``"communities"``: one residence per community point (``place=quarter|neighbourhood``
        named "...社区"/"...居委会") with ``households_per_community`` households each; for
        extracts where few residential buildings are mapped.
    m2_per_household, default_levels
        Overrides of the building defaults, as in
        :func:`~planner.households.households_from_buildings` (``method="buildings"``).
    households_per_community
        Households assumed per community point (``method="communities"``); default
        :data:`HOUSEHOLDS_PER_COMMUNITY`.

    Returns
    -------
    geopandas.GeoDataFrame
        Points (EPSG:4326), sorted by id, with ``id``, ``name``, ``households`` (estimated),
        ``households_estimated`` (True), ``households_method``; from buildings also
        ``footprint_m2``, ``levels``, ``levels_source``, ``gross_floor_area_m2``, the building's
        context (see :func:`read_osm_buildings`) and ``residential_basis``; from communities
        ``place``.

    Raises
    ------
    InputError
        If the file cannot be read, has no residences of the chosen kind, or an override is
        not positive.
    """
    osm = _scan(path)
    if method == "buildings":
        return _residences_from_buildings(
            osm, m2_per_household=m2_per_household, default_levels=default_levels
        )
    if method == "communities":
        return _residences_from_communities(osm, households_per_community=households_per_community)
    raise InputError(f"method is {method!r}; give 'buildings' or 'communities'")


# --------------------------------------------------------------------------------------------
# Demo inputs
# --------------------------------------------------------------------------------------------


def demo_inputs(
    osm_path: str | Path,
    *,
    residences: Literal["buildings", "communities"] = "buildings",
    m2_per_household: float | Mapping[str, float] | None = None,
    default_levels: float | Mapping[str, float] | None = None,
    households_per_community: float = HOUSEHOLDS_PER_COMMUNITY,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The facilities and residences of a demo review of an OSM extract, as GeoDataFrames.

    `planner.outputs.write_demo_inputs` writes them.

    Parameters
    ----------
    osm_path
        An ``.osm``, ``.osm.bz2`` or ``.osm.pbf`` file.
    residences
        How residences are made: ``"buildings"`` or ``"communities"`` (see
        :func:`read_osm_residences`).
    m2_per_household, default_levels, households_per_community
        As for :func:`read_osm_residences`.

    Returns
    -------
    tuple of GeoDataFrame
        ``(facilities, residences)``.

    Raises
    ------
    InputError
        As for :func:`read_osm_facilities` and :func:`read_osm_residences`.
    """
    osm = _scan(osm_path)
    facilities = _facilities_from(osm)
    if residences == "buildings":
        homes = _residences_from_buildings(
            osm,
            m2_per_household=m2_per_household,
            default_levels=default_levels,
            facility_ids=set(facilities["id"].tolist()),
        )
    elif residences == "communities":
        homes = _residences_from_communities(osm, households_per_community=households_per_community)
    else:
        raise InputError(f"residences is {residences!r}; give 'buildings' or 'communities'")
    return facilities, homes
