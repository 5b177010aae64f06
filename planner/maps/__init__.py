"""The interactive HTML map of a review: where the 15-minute circle holds, and where it breaks.

`build_map` draws a `planner.checks.CheckResult` on a Folium map: facilities per category,
walking bands (5/10/15 min) per category, residences coloured by coverage status and by floor
area per 100 households, community polygons as a choropleth, the walking network under them
all (so that streets show with the basemap off or offline), a layer control, a legend, a scale
bar and a summary panel, in Chinese (default) or English. `isochrones_map` draws walking bands
(and optionally the network). `save_map` writes the map as one self-contained HTML file.

Design points
-------------
- **Offline.** The saved page loads nothing from the internet except basemap tiles: Leaflet's
  JavaScript and CSS are read from the ``django-js-lib-leaflet`` package (Leaflet 1.9.4, no
  dependencies) and inlined; Folium's CDN links (jQuery, Bootstrap, Font Awesome...) are
  dropped. Icons, legend and panels are plain HTML/CSS of this package.
- **Large.** Residences are compact column arrays (one list per field, coordinates rounded to
  6 decimals, about 0.1 m), not one GeoJSON feature each, and are drawn on their own canvas with
  one path per colour (100,000 points redraw in tens of milliseconds); clicks are hit-tested in
  pixels. Bands and communities are simplified (about 1 m) and drawn on a canvas from one cached
  ``Path2D`` per feature and zoom level; communities are rounded GeoJSON, bands (a city's has
  every block as a hole) delta-coded integer microdegree rings (a 100,000-node city's review
  map: 74 -> 32 MB). The walking network is merged per
  OSM way, simplified (2 m; 10 m beyond `NETWORK_LARGE_EDGES` edges, said in the legend) and
  sent as delta-coded integer microdegrees (about 10 bytes a vertex), drawn from one cached
  ``Path2D`` per 1 km cell, line class and zoom level. Data sit in JSON blocks parsed with
  ``JSON.parse``; layers that start hidden are parsed and built when first shown; popups are
  built on click.
- **Safe.** Every text from the data reaches the page as JSON data inside the script (with
  ``<``, ``>`` and ``&`` escaped) and is put into the page with ``textContent``, or is escaped
  with `html.escape` where this package writes HTML (legend, summary panel, layer names).
- **Basemaps.** ``"osm"`` (default), ``"amap"`` (Gaode tiles in GCJ-02: every drawn coordinate is
  shifted with `planner.layers.wgs84_to_gcj02` so that WGS84 data lines up with the streets),
  ``"tianditu"`` (CGCS2000, which matches WGS84 at map scale; needs a key), ``"none"``.
  "© OpenStreetMap contributors" is always shown: the network and usually the facilities are
  OSM data.

Modules
-------
- `planner.maps.page`: `PlannerMap`, `build_base_map` (basemaps, colours), `finish_map`,
  `save_map`.
- `planner.maps.layers`: `add_residences`, `add_facilities`, `add_isochrones`,
  `add_communities`.
- `planner.maps.network_layer`: `add_network`.
- `planner.maps.panels`: `add_summary_panel`.
- `planner.maps.build`: `build_map`, `isochrones_map`.
- `planner.maps.texts`: the Chinese and English texts, `category_label`.
- `planner.maps.encode`: JSON, HTML and geometry as the page receives them.
- `planner.maps.assets`: Leaflet, and our ``assets/map.css`` and ``assets/runtime.js``.

See ``docs/ARCHITECTURE.md`` for how the map fits in the package.
"""

from planner.maps.build import build_map, isochrones_map
from planner.maps.community_layer import add_communities
from planner.maps.layers import add_facilities, add_isochrones, add_residences
from planner.maps.network_layer import NETWORK_LARGE_EDGES, add_network
from planner.maps.page import (
    BASEMAPS,
    NO_DATA_COLOUR,
    OSM_ATTRIBUTION,
    RATIO_BREAKS,
    RATIO_COLOURS,
    STATUS_COLOURS,
    PlannerMap,
    build_base_map,
    category_colours,
    finish_map,
    save_map,
)
from planner.maps.panels import add_summary_panel
from planner.maps.texts import LANGS, category_label

__all__ = [
    "BASEMAPS",
    "LANGS",
    "NETWORK_LARGE_EDGES",
    "NO_DATA_COLOUR",
    "OSM_ATTRIBUTION",
    "RATIO_BREAKS",
    "RATIO_COLOURS",
    "STATUS_COLOURS",
    "PlannerMap",
    "add_communities",
    "add_facilities",
    "add_isochrones",
    "add_network",
    "add_residences",
    "add_summary_panel",
    "build_base_map",
    "build_map",
    "category_colours",
    "category_label",
    "finish_map",
    "isochrones_map",
    "save_map",
]
