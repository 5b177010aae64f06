"""Regenerate the bundled demo review inputs: data/haidian/ and data/guixi/.

Usage (from the repository root)::

    python data/make_demo.py            # rewrites data/haidian/* and data/guixi/*
    python data/make_demo.py OUT_ROOT   # writes OUT_ROOT/haidian/* and OUT_ROOT/guixi/* instead

Each folder gets ``facilities.gpkg`` and ``residences.gpkg`` (made by
:func:`planner.outputs.write_demo_inputs` from the OSM extract next to this script) and
``review.toml``, the config of ``planner check --config``. The output is deterministic: the same
extract and the same code give byte-identical files.

Why the two demos make residences differently:

* Haidian (Beijing) has its residential compounds and buildings mapped (静淑苑, 富润家园,
  石科院生活区, ...): residences are the residential buildings, households estimated from
  footprint x levels.
* Guixi (Jiangxi) has only 36 residential buildings mapped, clustered within 500 m of 3 of its
  16 community points (place=quarter "...社区"), while the communities spread over ~4.5 x 4 km:
  buildings would leave most of the town without demand. Residences are the 16 community points
  with an assumed household count each (planner.pois.HOUSEHOLDS_PER_COMMUNITY).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import geopandas as gpd
import osmium
import shapely
import shapely.wkb
from osmium.geom import WKBFactory

from planner import load_network
from planner.outputs import write_demo_inputs, write_layer_atomic

DATA = Path(__file__).resolve().parent

DEMOS: dict[str, dict[str, str]] = {
    "haidian": {
        "osm": "cn_beijing_haidian_cau_map.osm.bz2",
        "residences": "buildings",
        "title": "Haidian, Beijing: China Agricultural University east campus and Xueqing Road",
    },
    "guixi": {
        "osm": "cn_jiangxi_guixi_mapofgx.osm.bz2",
        "residences": "communities",
        "title": "Guixi, Jiangxi: a county-level city with few mapped services",
        "communities": "yes",
    },
}

# The extract lies in 贵溪市 (OSM relation 3245897, admin_level 6), whose boundary is clipped.
_DISTRICT_RELATION = 3245897
_COMMUNITY_BASIS = (
    "approximation: the Voronoi cell of the community's OSM point (place=quarter), cut to 300 m "
    "around the mapped streets; OSM has no community boundaries here"
)


_COMMUNITIES_LINE = 'communities = "communities.gpkg"  # approximate polygons: see data/README.md\n'


class _Admin(osmium.SimpleHandler):
    """Sub-district boundaries (admin_level 8) complete in the file, and sub-district points."""

    def __init__(self) -> None:
        super().__init__()
        self.wkb = WKBFactory()
        self.polygons: list[tuple[str, object]] = []
        self.points: list[tuple[str, float, float]] = []
        self.district = ""

    def node(self, n: osmium.osm.Node) -> None:
        if n.tags.get("place:CN") == "subdistrict" and n.tags.get("name"):
            self.points.append((n.tags["name"], n.location.lon, n.location.lat))

    def relation(self, r: osmium.osm.Relation) -> None:
        if r.id == _DISTRICT_RELATION:
            self.district = r.tags.get("name", "")

    def area(self, a: osmium.osm.Area) -> None:
        if a.from_way() or a.tags.get("admin_level") != "8":
            return
        geom = shapely.wkb.loads(self.wkb.create_multipolygon(a), hex=True)
        self.polygons.append((a.tags.get("name", ""), geom))


def communities_layer(osm: Path, residences: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Approximate community polygons from the community points, with sub-district and district.

    Each community is the Voronoi cell of its point, cut to 300 m around the mapped streets.
    Its sub-district is the admin_level 8 boundary holding the point where that boundary is
    complete in the extract, else the nearest sub-district point (place:CN=subdistrict);
    ``subdistrict_basis`` says which. Every polygon is labelled an approximation.
    """
    admin = _Admin()
    admin.apply_file(str(osm), locations=True)
    network = load_network(osm)
    crs = network.crs
    pts = gpd.GeoSeries(residences.geometry.to_numpy(), crs=4326).to_crs(crs).to_numpy()
    land = shapely.union_all(shapely.buffer(network.edges_gdf().geometry.to_numpy(), 300.0))
    cells = shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=land).geoms
    by_point = [next(c for c in cells if c.contains(p)) for p in pts]
    polygons = [shapely.intersection(c, land) for c in by_point]
    wgs84 = gpd.GeoSeries(pts, crs=crs).to_crs(4326).to_numpy()
    subdistricts, bases = [], []
    for point in wgs84:
        holder = next((name for name, poly in admin.polygons if poly.contains(point)), None)
        if holder is not None:
            subdistricts.append(holder)
            bases.append("OSM admin_level 8 boundary")
            continue
        near = min(admin.points, key=lambda s: (s[1] - point.x) ** 2 + (s[2] - point.y) ** 2)
        subdistricts.append(near[0])
        bases.append("approximation: nearest sub-district point (place:CN=subdistrict)")
    frame = gpd.GeoDataFrame(
        {
            "id": residences["id"].to_numpy(),
            "name": residences["name"].to_numpy(),
            "subdistrict": subdistricts,
            "district": admin.district,
            "subdistrict_basis": bases,
            "boundary_basis": _COMMUNITY_BASIS,
        },
        geometry=gpd.GeoSeries(polygons, crs=crs).to_crs(4326).to_numpy(),
        crs=4326,
    )
    return frame


def review_toml(name: str) -> str:
    """The review config of one demo; paths are relative to the config's folder."""
    spec = DEMOS[name]
    return f"""\
# Review of the bundled {name} demo: {spec["title"]}.
# Run from the repository root:  planner check --config data/{name}/review.toml
# Paths are relative to this file's folder. Generated by data/make_demo.py; edit that instead.
# Households and floor areas in the layers are estimates (see data/README.md).
# Map data (c) OpenStreetMap contributors, ODbL.

network = "../{spec["osm"]}"
facilities = "facilities.gpkg"
residences = "residences.gpkg"
{_COMMUNITIES_LINE if spec.get("communities") else ""}standard = "community_service"
speed_kmh = 4.0
allocation = "catchment"
snap_cap_m = 500.0
buffer_m = 25.0
isochrones = true
lang = "zh"
basemap = "osm"
out = "../../maps/{name}"

[columns]
id = "id"
name = "name"
category = "category"
households = "households"
floor_area_m2 = "floor_area_m2"
"""


def make(out_root: Path = DATA) -> dict[str, dict[str, Any]]:
    """Write every demo folder under ``out_root``; return the counts per demo."""
    counts = {}
    for name, spec in DEMOS.items():
        folder = Path(out_root) / name
        counts[name] = write_demo_inputs(
            DATA / spec["osm"],
            folder,
            residences=spec["residences"],  # type: ignore[arg-type]
        )
        if spec.get("communities"):
            homes = gpd.read_file(folder / "residences.gpkg")
            write_layer_atomic(
                communities_layer(DATA / spec["osm"], homes), folder / "communities.gpkg"
            )
        (folder / "review.toml").write_text(review_toml(name), encoding="utf-8")
    return counts


if __name__ == "__main__":
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else DATA
    for demo, numbers in make(root).items():
        print(
            f"{demo}: {numbers['facilities']} facilities, {numbers['residences']} residences, "
            f"{numbers['households']:g} households (estimated); categories {numbers['categories']}"
        )
