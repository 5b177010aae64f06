"""The OSM review inputs under their old name, for ``from planner.pois import ...`` (notebooks).

The readers live in `planner.osm.pois` (facilities, floor areas) and `planner.osm.buildings`
(buildings, residences, the demo inputs); the rules are in their docstrings.
"""

from planner.osm.buildings import (
    COMPOUND_NAME_SUFFIXES,
    HOUSEHOLDS_PER_COMMUNITY,
    demo_inputs,
    read_osm_buildings,
    read_osm_residences,
)
from planner.osm.pois import (
    DEFAULT_FLOOR_AREA_M2,
    FACILITY_DEFAULT_LEVELS,
    RESIDENTIAL_BUILDING_TYPES,
    read_osm_facilities,
)

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
