"""Tiny OSM files and point layers for the network tests, in metres on EPSG:32650 (Beijing).

Coordinates are given relative to (X0, Y0), so lengths can be worked out by hand; OSM's 7 decimals
of a degree are about 1 cm.
"""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import quoteattr

import geopandas as gpd
import pyproj
import shapely

from planner.network import Network

DATA = Path(__file__).resolve().parents[2] / "data"
RECORDED = Path(__file__).resolve().parents[1] / "data" / "recorded"
UTM = pyproj.CRS.from_epsg(32650)
X0, Y0 = 440_000.0, 4_430_000.0  # metres in UTM 50N, near 116.3 E, 40.0 N
TO_LONLAT = pyproj.Transformer.from_crs(UTM, 4326, always_xy=True)


def osm_file(
    path: Path,
    nodes: dict[int, tuple[float, float]],
    ways: list[tuple[int, list[int], dict[str, str]]],
    *,
    header: str = "",
    way_timestamps: dict[int, str] | None = None,
) -> Path:
    """An OSM XML file from node positions in local metres and ways (id, refs, tags)."""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="test">']
    lines.append(header)
    for ref, (x, y) in sorted(nodes.items()):
        lon, lat = TO_LONLAT.transform(X0 + x, Y0 + y)
        lines.append(f'<node id="{ref}" lat="{lat:.7f}" lon="{lon:.7f}"/>')
    for way_id, refs, tags in ways:
        stamp = (way_timestamps or {}).get(way_id)
        meta = f' version="1" timestamp="{stamp}"' if stamp else ""
        lines.append(f'<way id="{way_id}"{meta}>')
        lines += [f'<nd ref="{ref}"/>' for ref in refs]
        lines += [f"<tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags.items()]
        lines.append("</way>")
    lines.append("</osm>")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def local_xy(network: Network) -> dict[int, tuple[float, float]]:
    """Node positions (rounded to cm) relative to the test origin, by OSM id."""
    assert network.crs == UTM
    return {
        int(osmid): (round(x - X0, 2), round(y - Y0, 2))
        for osmid, x, y in zip(network.node_osmid, network.node_x, network.node_y, strict=True)
    }


def points(xy: dict[str, tuple[float, float]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"id": list(xy)}, geometry=[shapely.Point(X0 + x, Y0 + y) for x, y in xy.values()], crs=UTM
    )
