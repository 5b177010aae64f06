"""Write the offline stand-ins for the Nominatim and Overpass answers used by test_network.py.

    python tests/data/recorded/make_recorded.py

Both files are built from the bundled extract data/us_west_oakland_osmnx.osm.bz2 (OSM data
© OpenStreetMap contributors, ODbL), in the formats the two services answer with:

- ``overpass_west_oakland.osm``: what the query of `planner.network.overpass_query` returns
  (``out body``): every way with a highway tag, and the nodes they use, with Overpass's header
  (note, ``meta osm_base`` set to the newest edit in the data).
- ``nominatim_west_oakland.json``: a Nominatim ``/search?format=json&polygon_geojson=1``
  answer with one result whose polygon is the extract's ``<bounds>`` box.

They are constructed from the extract, not captured from the live services.
"""

from __future__ import annotations

import bz2
import json
import re
from pathlib import Path
from xml.sax.saxutils import quoteattr

import osmium

HERE = Path(__file__).resolve().parent
SOURCE = HERE.parents[2] / "data" / "us_west_oakland_osmnx.osm.bz2"


def main() -> None:
    ways = []
    nodes: dict[int, tuple[str, str, list[tuple[str, str]], str]] = {}
    newest = ""
    for obj in osmium.FileProcessor(str(SOURCE), osmium.osm.NODE | osmium.osm.WAY):
        stamp = obj.timestamp.strftime("%Y-%m-%dT%H:%M:%SZ")
        if obj.is_node():
            tags = [(t.k, t.v) for t in obj.tags]
            nodes[obj.id] = (f"{obj.location.lat:.7f}", f"{obj.location.lon:.7f}", tags, stamp)
        elif obj.is_way() and "highway" in obj.tags:
            ways.append((obj.id, [n.ref for n in obj.nodes], [(t.k, t.v) for t in obj.tags]))
            newest = max(newest, stamp)
    used = sorted({ref for _, refs, _ in ways for ref in refs if ref in nodes})
    newest = max([newest] + [nodes[ref][3] for ref in used])
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<osm version="0.6" generator="Overpass API 0.7.62.1 084b4234">',
        "<note>The data included in this document is from www.openstreetmap.org. "
        "The data is made available under ODbL.</note>",
        f'<meta osm_base="{newest}"/>',
        "",
    ]
    for ref in used:
        lat, lon, tags, _ = nodes[ref]
        if tags:
            lines.append(f'  <node id="{ref}" lat="{lat}" lon="{lon}">')
            lines += [f"    <tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags]
            lines.append("  </node>")
        else:
            lines.append(f'  <node id="{ref}" lat="{lat}" lon="{lon}"/>')
    for way_id, refs, tags in sorted(ways):
        lines.append(f'  <way id="{way_id}">')
        lines += [f'    <nd ref="{ref}"/>' for ref in refs]
        lines += [f"    <tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags]
        lines.append("  </way>")
    lines.append("</osm>")
    (HERE / "overpass_west_oakland.osm").write_text("\n".join(lines) + "\n", encoding="utf-8")

    head = bz2.open(SOURCE, "rt", encoding="utf-8").read(2000)
    bounds = dict(re.findall(r'(min\w+|max\w+)="([-\d.]+)"', head.split("<bounds", 1)[1]))
    w, s, e, n = (float(bounds[k]) for k in ("minlon", "minlat", "maxlon", "maxlat"))
    answer = [
        {
            "licence": "Data © OpenStreetMap contributors, ODbL 1.0. http://osm.org/copyright",
            "lat": f"{(s + n) / 2:.7f}",
            "lon": f"{(w + e) / 2:.7f}",
            "class": "place",
            "type": "neighbourhood",
            "importance": 0.35,
            "name": "West Oakland",
            "display_name": "West Oakland, Oakland, Alameda County, California, United States",
            "boundingbox": [f"{s:.5f}", f"{n:.5f}", f"{w:.5f}", f"{e:.5f}"],
            "geojson": {
                "type": "Polygon",
                "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]],
            },
        }
    ]
    (HERE / "nominatim_west_oakland.json").write_text(
        json.dumps(answer, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )


if __name__ == "__main__":
    main()
