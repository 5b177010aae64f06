"""Buildings and residences from an OpenStreetMap file, and the two layers of a demo review.

OpenStreetMap has the buildings a 15-minute review needs, but not the households. This module
reads an OSM file (``.osm``, ``.osm.bz2``, ``.osm.pbf``) with osmium, with every missing number
*estimated* and labelled as such:

* :func:`read_osm_buildings` -- building footprints with their type, levels, name and the land
  use / residential compound they stand in.
* :func:`read_osm_residences` -- the residential buildings as points with estimated households
  (:func:`planner.households.households_from_buildings`), or, where an extract has few mapped
  buildings, its community points (``place=quarter`` named "...社区") with an assumed household
  count per community.
* :func:`demo_inputs` -- both layers of a demo review, the facilities of
  :func:`planner.osm.pois.read_osm_facilities` and the residences, from one read of the file
  (written by :func:`planner.outputs.write_demo_inputs`).

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

import logging
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planner._geo import utm_crs_of
from planner.errors import InputError
from planner.households import BUILDING_DEFAULTS, households_from_buildings
from planner.osm.features import (
    WGS84,
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
from planner.osm.pois import RESIDENTIAL_BUILDING_TYPES, facilities_from

log = logging.getLogger(__name__)

__all__ = [
    "COMPOUND_NAME_SUFFIXES",
    "HOUSEHOLDS_PER_COMMUNITY",
    "RESIDENTIAL_BUILDING_TYPES",
    "read_osm_buildings",
    "read_osm_residences",
    "demo_inputs",
]

#: Households assumed per community point (a ``place=quarter`` named "...社区"). GB 50180-2018
#: table 3.0.4 sizes the 5-minute life circle -- the scale of one community's service station --
#: at 1,500-4,000 dwellings (5,000-12,000 residents); the lower end is used. Real communities
#: vary widely: pass ``households_per_community=`` with local figures when known.
HOUSEHOLDS_PER_COMMUNITY = 1500.0

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


def _is_compound(area: Feature) -> bool:
    """A residential compound: landuse=residential, or a named polygon with a compound suffix."""
    tags = area.tags
    if tags.get("landuse") == "residential":
        return True
    if "building" in tags or any(k in tags for k in _USE_KEYS):
        return False
    if tags.get("landuse") not in (None, "residential"):
        return False
    name = name_of(tags)
    return name is not None and name.endswith(COMPOUND_NAME_SUFFIXES)


def _buildings_from(osm: OsmFeatures) -> tuple[list[dict[str, Any]], Projector]:
    buildings = buildings_of(osm)
    landuse = [a for a in osm.areas if "landuse" in a.tags and "building" not in a.tags]
    compounds = [a for a in osm.areas if _is_compound(a)]
    projector = Projector(
        utm_crs_of([b.geometry for b in buildings] or [shapely.Point(117.0, 39.0)])
    )
    b_m = projector.forward(np.array([b.geometry for b in buildings], dtype=object))
    reps = shapely.point_on_surface(b_m) if len(b_m) else b_m

    def smallest_containing(features: list[Feature]) -> list[int | None]:
        geoms = projector.forward(np.array([f.geometry for f in features], dtype=object))
        out: list[int | None] = [None] * len(reps)
        if not len(geoms) or not len(reps):
            return out
        pts, polys = shapely.STRtree(geoms).query(reps, predicate="within")
        areas = shapely.area(geoms)
        for p, q in zip(pts.tolist(), polys.tolist(), strict=True):
            current = out[p]
            if current is None or (areas[q], sort_key(features[q].id)) < (
                areas[current],
                sort_key(features[current].id),
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
                "name": name_of(tags),
                "building": (tag_value(tags, "building") or "yes").lower(),
                "building:levels": tags.get("building:levels"),
                "use": ";".join(uses) if uses else None,
                "landuse": lu.tags.get("landuse") if lu else None,
                "landuse_id": lu.id if lu else None,
                "landuse_name": name_of(lu.tags) if lu else None,
                "residential": lu.tags.get("residential") if lu else None,
                "compound_id": cp.id if cp else None,
                "compound_name": name_of(cp.tags) if cp else None,
                "geometry": b_m[i],
            }
        )
    rows.sort(key=lambda r: sort_key(r["id"]))
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
    osm = scan_osm(path)
    rows, projector = _buildings_from(osm)
    if not residential_basis:
        return wgs84_frame(rows, projector, _BUILDING_COLUMNS)
    facility_ids = set(facilities_from(osm)["id"].tolist())
    rows = [{**row, "residential_basis": _residential_basis(row, facility_ids)} for row in rows]
    return wgs84_frame(rows, projector, {**_BUILDING_COLUMNS, "residential_basis": "string"})


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
    osm: OsmFeatures,
    *,
    m2_per_household: float | Mapping[str, float] | None,
    default_levels: float | Mapping[str, float] | None,
    facility_ids: set[str] | None = None,
) -> gpd.GeoDataFrame:
    rows, projector = _buildings_from(osm)
    if facility_ids is None:
        facility_ids = set(facilities_from(osm)["id"].tolist())
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
            "method='communities' if it has community points, or give a residences layer",
            zh=f"OSM 文件 '{osm.path}' 中没有住宅建筑（building=apartments、residential、house、"
            "dormitory 等，或 landuse=residential 内的 building=yes）；如有社区点请用 "
            "method='communities'，或给出居住点图层",
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


def _residences_from_communities(
    osm: OsmFeatures, *, households_per_community: float
) -> gpd.GeoDataFrame:
    if not (math.isfinite(households_per_community) and households_per_community > 0):
        raise InputError(
            f"households_per_community is {households_per_community!r}; give a positive number",
            zh=f"households_per_community 为 {households_per_community!r}；请给出正数",
        )
    features = [
        f
        for f in (*osm.nodes, *osm.areas)
        if f.tags.get("place") in _COMMUNITY_PLACES
        and (name_of(f.tags) or "").endswith(_COMMUNITY_NAME_SUFFIXES)
    ]
    if not features:
        raise InputError(
            f"OSM file '{osm.path}' has no community points (place=quarter or neighbourhood "
            f"named ...{'/...'.join(_COMMUNITY_NAME_SUFFIXES)}); use method='buildings' or give "
            "a residences layer",
            zh=f"OSM 文件 '{osm.path}' 中没有社区点（名称以 "
            f"{'/'.join(_COMMUNITY_NAME_SUFFIXES)} 结尾的 place=quarter 或 neighbourhood）；"
            "请用 method='buildings'，或给出居住点图层",
        )
    features.sort(key=lambda f: sort_key(f.id))
    projector = Projector(utm_crs_of([f.geometry for f in features]))
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
            "name": name_of(f.tags),
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
    out = wgs84_frame(rows, projector, columns)
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
    osm = scan_osm(path)
    if method == "buildings":
        return _residences_from_buildings(
            osm, m2_per_household=m2_per_household, default_levels=default_levels
        )
    if method == "communities":
        return _residences_from_communities(osm, households_per_community=households_per_community)
    raise InputError(
        f"method is {method!r}; give 'buildings' or 'communities'",
        zh=f"method 为 {method!r}；请给出 'buildings' 或 'communities'",
    )


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
    osm = scan_osm(osm_path)
    facilities = facilities_from(osm)
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
        raise InputError(
            f"residences is {residences!r}; give 'buildings' or 'communities'",
            zh=f"residences 为 {residences!r}；请给出 'buildings' 或 'communities'",
        )
    return facilities, homes
