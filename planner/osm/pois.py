"""Facilities from an OpenStreetMap file, with estimated floor areas.

OpenStreetMap has the points of interest a 15-minute review needs, but not the numbers: no floor
areas. :func:`read_osm_facilities` reads an OSM file (``.osm``, ``.osm.bz2``, ``.osm.pbf``) with
osmium and gives every node, way or multipolygon whose tags map to a facility category
(:func:`planner.standards.category_from_osm_tags`) as a point, with an estimated
``floor_area_m2`` and the method that made it (``floor_area_method``). The residences (buildings
with estimated households) are read by `planner.osm.buildings`.

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
import shapely

from planner._geo import utm_crs_of
from planner.households import BUILDING_DEFAULTS
from planner.osm.features import (
    NAME_KEYS,
    NETWORK_KEYS,
    POI_KEYS,
    Feature,
    OsmFeatures,
    Projector,
    buildings_of,
    name_of,
    scan_osm,
    sort_key,
    tag_value,
    wgs84_frame,
)
from planner.standards import category_from_osm_tags, parent_category

log = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_FLOOR_AREA_M2",
    "FACILITY_DEFAULT_LEVELS",
    "RESIDENTIAL_BUILDING_TYPES",
    "read_osm_facilities",
]

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

#: Levels assumed for a facility's building when ``building:levels`` is missing. Residential
#: types use :data:`planner.households.BUILDING_DEFAULTS`; the others are below, and any type not
#: listed (``yes``, ``commercial``, ``office``, ...) gets ``"*"``.
FACILITY_DEFAULT_LEVELS: dict[str, tuple[float, str]] = {
    "kindergarten": (3.0, "JGJ 39-2016 keeps children's rooms on at most 3 storeys"),
    "school": (4.0, "GB 50099-2011 keeps primary teaching rooms at most 4 storeys up"),
    "hospital": (4.0, "assumption"),
    "*": (3.0, "assumption for other non-residential buildings"),
}

#: Building types that are residential whatever their surroundings (the residential types of
#: :data:`planner.households.BUILDING_DEFAULTS` except ``yes``).
RESIDENTIAL_BUILDING_TYPES: frozenset[str] = frozenset(BUILDING_DEFAULTS) - {"yes"}

_NETWORK_RELATION_TYPES = frozenset({"route", "route_master", "public_transport", "boundary"})
_LAND_KEYS = ("landuse", "place", "natural")
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


def _default_floor_area(category: str) -> tuple[float, str]:
    """The category's default floor area, else its generic category's (sub-categories)."""
    if category in DEFAULT_FLOOR_AREA_M2:
        return DEFAULT_FLOOR_AREA_M2[category]
    parent = parent_category(category)
    if parent is not None and parent in DEFAULT_FLOOR_AREA_M2:
        area, why = DEFAULT_FLOOR_AREA_M2[parent]
        return area, f"the default of its generic category {parent}: {why}"
    return math.nan, "no default"


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
    building = (tag_value(tags, "building") or "yes").lower()
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
    no_names = _without(tags, NAME_KEYS)
    if category_from_osm_tags(_without(no_names, ("building",))) is not None:
        return "tags"
    if category_from_osm_tags(no_names) is not None:
        return "building"
    return "name"


def _exclusion(feature: Feature, basis: str) -> str | None:
    """Why a categorised feature is not a facility, or None when it is one."""
    tags = feature.tags
    if any(key in tags for key in NETWORK_KEYS) or tags.get("type") in _NETWORK_RELATION_TYPES:
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
    if basis == "building" and tag_value(tags, "amenity") is not None:
        return "building type only, with another amenity"
    return None


@dataclass
class _Candidate:
    feature: Feature
    category: str
    basis: str
    kind: Literal["node", "line", "area"]
    point_m: Any = None  # representative point, local CRS
    geom_m: Any = None  # local CRS
    merged: list[str] = field(default_factory=list)


def facilities_from(osm: OsmFeatures) -> gpd.GeoDataFrame:
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
    for rid, tags in sorted(osm.relations_without_area.items(), key=lambda kv: sort_key(kv[0])):
        category = category_from_osm_tags(tags)
        if category is None:
            continue
        if _exclusion(Feature(rid, tags, shapely.Point()), _category_basis(tags)) is not None:
            continue
        excluded["relation without area geometry in this extract"] += 1
        log.info(
            "%s (%s, %s) has no area geometry in this extract: skipped",
            rid,
            name_of(tags),
            category,
        )

    buildings = buildings_of(osm)
    all_geoms = [c.feature.geometry for c in candidates] + [b.geometry for b in buildings]
    projector = Projector(utm_crs_of(all_geoms or [shapely.Point(117.0, 39.0)]))

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
            [a.geometry for a in osm.areas if tag_value(a.tags, "amenity") in _CAMPUS_AMENITIES],
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
        key=lambda c: (-float(c.geom_m.area), sort_key(c.feature.id)),
    )
    absorbed: set[str] = set()
    for cand in sorted(candidates, key=lambda c: sort_key(c.feature.id)):
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
        if name_of(fac.feature.tags) is None:
            for member in sorted(fac.merged, key=sort_key):
                name = name_of(by_id[member].feature.tags)
                if name is not None:
                    fac.feature.tags = {**fac.feature.tags, "name": name}
                    break

    floor = _FloorAreas(osm, buildings, projector)
    rows = []
    for fac in sorted(facilities, key=lambda c: sort_key(c.feature.id)):
        area_m2, method = floor.estimate(fac)
        rows.append(
            {
                "id": fac.feature.id,
                "name": name_of(fac.feature.tags),
                "category": fac.category,
                "category_basis": fac.basis,
                "osm_tags": _compact_tags(fac.feature.tags),
                "floor_area_m2": round(area_m2, 1),
                "floor_area_estimated": True,
                "floor_area_method": method,
                "site_area_m2": round(float(fac.geom_m.area), 1) if fac.kind == "area" else np.nan,
                "merged_ids": ";".join(sorted(fac.merged, key=sort_key)),
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
    return wgs84_frame(rows, projector, _FACILITY_COLUMNS)


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


class _FloorAreas:
    """Floor-area estimates for facilities from the building footprints of the same file."""

    def __init__(self, osm: OsmFeatures, buildings: list[Feature], projector: Projector) -> None:
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
            f"{self.buildings[i].id} building={tag_value(tags, 'building') or 'yes'}: "
            f"{self.footprint[i]:.1f} m2 footprint x {self.levels[i]:g} levels "
            f"({self.levels_source[i]})"
        )

    def estimate(self, fac: _Candidate) -> tuple[float, str]:
        tags = fac.feature.tags
        building = tag_value(tags, "building")
        if fac.kind == "area" and building is not None and building.lower() != "no":
            levels, source = _building_levels(tags)
            footprint = float(fac.geom_m.area)
            return footprint * levels, (
                f"estimate:building({footprint:.1f} m2 footprint x {levels:g} levels ({source}))"
            )
        leisure = tag_value(tags, "leisure")
        if leisure in _OPEN_AIR_LEISURE:
            return 0.0, f"open_air(leisure={leisure}: open ground, no building floor area)"
        if fac.kind == "area":
            inside = self.rep_tree.query(fac.geom_m, predicate="contains")
            if len(inside):
                idx = sorted(inside.tolist(), key=lambda i: sort_key(self.buildings[i].id))
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
        btype = tag_value(self.buildings[b].tags, "building") or "yes"
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
    amenity = tag_value(tags, "amenity")
    if amenity is not None:
        return amenity not in _FURNITURE_AMENITIES
    return any(tag_value(tags, key) is not None for key in POI_KEYS if key != "amenity")


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
    return facilities_from(scan_osm(path))


# --------------------------------------------------------------------------------------------
# Buildings and residences
