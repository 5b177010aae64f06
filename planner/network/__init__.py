"""The walking network: OSM files straight into compact arrays, ready for the distance engine.

`load_network` reads an OSM file (`planner.network.from_osm`), `build_network` makes a network from
street centre lines (`planner.network.build`), `fetch_network` downloads the streets of a place or
bounding box and loads them (`planner.network.fetch`), `Network.save` / `open_network` keep a
prepared network on disk (`planner.network.store`). The `Network` itself is in
`planner.network.model`; the walk filter's tag rules in `planner.osm.tags`. See
docs/ARCHITECTURE.md.
"""

from planner.network.build import build_network
from planner.network.fetch import fetch_network
from planner.network.from_osm import load_network
from planner.network.model import (
    LoadReport,
    Network,
    Progress,
    build_csr,
    layer_ids_of,
    open_network,
)
from planner.network.store import FORMAT_VERSION
from planner.osm.overpass import OVERPASS_TIMEOUT_S, OVERPASS_URL, overpass_query, user_cache_dir
from planner.osm.tags import EXCLUDED_HIGHWAYS, FOOT_ALLOWED, TagLookup, is_walkable

__all__ = [
    "EXCLUDED_HIGHWAYS",
    "FOOT_ALLOWED",
    "FORMAT_VERSION",
    "OVERPASS_TIMEOUT_S",
    "OVERPASS_URL",
    "LoadReport",
    "Network",
    "Progress",
    "TagLookup",
    "build_csr",
    "build_network",
    "fetch_network",
    "is_walkable",
    "layer_ids_of",
    "load_network",
    "open_network",
    "overpass_query",
    "user_cache_dir",
]
