"""Unit tests of planner.maps: the HTML and the data the page draws, without a browser.

The synthetic review below is shaped like a `planner.checks.CheckResult`: 5 residences (one of
each status and a second gap), 3 facilities in 2 categories (one named like an XSS attack),
2 communities, 5/10/15-minute bands per category and a small walking network (a street grid in
UTM 50N).
tests/maps/test_browser.py opens the same map in Chromium.
"""

from __future__ import annotations

import copy
import importlib.resources
import json
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
from shapely.geometry import LineString, Point, box

import planner.maps
import planner.maps.network_layer
from planner.errors import InputError
from planner.layers import wgs84_to_gcj02
from planner.maps import (
    OSM_ATTRIBUTION,
    PlannerMap,
    add_network,
    add_residences,
    build_base_map,
    build_map,
    category_colours,
    finish_map,
    isochrones_map,
    save_map,
)

XSS = "<img src=x onerror=alert(1)>"
TAGGED = "Block <b>3</b>"
LON0, LAT0 = 116.400, 39.900  # Beijing: inside the GCJ-02 area


UTM50N = "EPSG:32650"


def make_network() -> SimpleNamespace:
    """A street grid over the review, shaped like planner.network.Network (the attributes the
    map reads): 4 east-west ways (the southern one a primary road) and 4 north-south ones,
    each cut into edges at the crossings, and a wiggly footway (0.3 m wiggles) of 40 vertices.
    One way's ``highway`` holds markup, one is missing."""
    to_utm = pyproj.Transformer.from_crs(4326, UTM50N, always_xy=True)
    x0, y0 = to_utm.transform(LON0 - 0.001, LAT0 - 0.002)
    xs = x0 + 160.0 * np.arange(4)
    ys = y0 + 160.0 * np.arange(4)
    geoms, highway, way = [], [], []
    kinds = ["primary", "residential", XSS, None]
    for j, y in enumerate(ys):  # east-west ways, an edge between each two crossings
        for a, b in zip(xs[:-1], xs[1:], strict=True):
            geoms.append(LineString([(a, y), (b, y)]))
            highway.append(kinds[j])
            way.append(100 + j)
    for i, x in enumerate(xs):
        for a, b in zip(ys[:-1], ys[1:], strict=True):
            geoms.append(LineString([(x, a), (x, b)]))
            highway.append("service" if i else "tertiary")
            way.append(200 + i)
    t = np.linspace(0.0, 1.0, 40)
    wiggle = 0.3 * np.sin(np.arange(40))
    geoms.append(LineString(np.column_stack([xs[0] + 480 * t + wiggle, ys[0] + 480 * t])))
    highway.append("footway")
    way.append(300)
    return SimpleNamespace(
        crs=pyproj.CRS.from_user_input(UTM50N),
        edge_geometry=np.array(geoms, dtype=object),
        edge_highway=np.array(highway, dtype=object),
        edge_way_id=np.array(way, dtype=np.int64),
    )


def make_result(*, estimated: bool = False, network: bool = True) -> SimpleNamespace:
    """A small review shaped like planner.checks.CheckResult (docs/ARCHITECTURE.md); with
    ``network=False`` it has no ``network`` attribute at all."""
    res = gpd.GeoDataFrame(
        {
            "id": ["r1", "r2", "r3", "r4", "r5"],
            "name": ["东区1号楼", None, TAGGED, None, "r5 name"],
            "households": [120.0, 80.0, 200.0, 40.0, 60.0],
            "households_method": ["estimate:buildings" if estimated else "column"] * 5,
            "households_estimated": [estimated] * 5,
            "on_network": [True, True, True, True, False],
            "access_m": [5.0, 10.0, 8.0, 12.0, 700.0],
            "nearest_id_community_service": ["f1", "f1", "f2", None, None],
            "walk_m_community_service": [300.0, 900.0, 1250.0, np.nan, np.nan],
            "walk_min_community_service": [4.5, 13.5, 18.75, np.nan, np.nan],
            "covered_community_service": [True, True, False, False, False],
            "nearest_id_health": ["f3", "f3", "f3", None, None],
            "walk_m_health": [400.0, 1100.0, 1300.0, np.nan, np.nan],
            "walk_min_health": [6.0, 16.5, 19.5, np.nan, np.nan],
            "covered_health": [True, False, False, False, False],
            "floor_area_m2_per_100hh": [45.0, 20.0, 0.0, 0.0, np.nan],
            "floor_area_ok": [True, False, False, False, False],
            "status": ["covered", "partly", "uncovered", "uncovered", "off_network"],
        },
        geometry=[Point(LON0 + 0.001 * i, LAT0 + 0.0005 * i) for i in range(5)],
        crs=4326,
    )
    fac = gpd.GeoDataFrame(
        {
            "id": ["f1", "f2", "f3"],
            "name": [XSS, "社区中心", "Clinic"],
            "category": ["community_service", "community_service", "health"],
            "floor_area_m2": [60.0, 20.0, np.nan],
            "on_network": [True, True, True],
            "households_in_catchment": [200.0, 200.0, np.nan],
            "m2_per_100hh": [30.0, 10.0, np.nan],
            "floor_area_ok": pd.array([True, False, pd.NA], dtype="boolean"),
            "proposed": [False, True, False],
        },
        geometry=[
            Point(LON0 + 0.0005, LAT0 + 0.0002),
            Point(LON0 + 0.003, LAT0 + 0.001),
            Point(LON0 + 0.002, LAT0 - 0.001),
        ],
        crs=4326,
    )
    comm = gpd.GeoDataFrame(
        {
            "community_id": ["c1", "c2"],
            "name": ["东社区", XSS],
            "subdistrict": ["甲街道", "甲街道"],
            "households": [400.0, 100.0],
            "households_off_network": [0.0, 100.0],
            "coverage_rate_community_service": [1.0, 0.0],
            "households_uncovered_community_service": [0.0, 100.0],
            "coverage_ok_community_service": pd.array([True, False], dtype="boolean"),
            "floor_area_m2_community_service": [80.0, 0.0],
            "m2_per_100hh_community_service": [20.0, 0.0],
            "floor_area_ok_community_service": pd.array([False, False], dtype="boolean"),
            "shortfall_m2_community_service": [40.0, 30.0],
            "compliant": [False, False],
            "verdict": ["fails_floor_area", "fails_both"],
            "fails": ["floor_area_community_service", "coverage_community_service"],
        },
        geometry=[
            box(LON0 - 0.001, LAT0 - 0.002, LON0 + 0.0025, LAT0 + 0.003),
            box(LON0 + 0.0025, LAT0 - 0.002, LON0 + 0.006, LAT0 + 0.003),
        ],
        crs=4326,
    )
    rows = []
    sources = {
        "community_service": (LON0 + 0.0005, LAT0 + 0.0002),
        "health": (LON0 + 0.002, LAT0 - 0.001),
    }
    for cat, (x, y) in sources.items():
        for band, band_m in ((5, 333.333), (10, 666.667), (15, 1000.0)):
            rows.append(
                {
                    "category": cat,
                    "band_min": band,
                    "band_m": band_m,
                    "geometry": Point(x, y).buffer(0.0004 * band / 5, quad_segs=32),
                }
            )
    iso = gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)
    gaps = pd.DataFrame(
        {
            "id": ["r3", "r3", "r2", "r4"],
            "category": ["community_service", "health", "health", "community_service"],
            "households": [200.0, 200.0, 80.0, 40.0],
            "walk_m": [1250.0, 1300.0, 1100.0, np.nan],
            "short_by_m": [250.0, 300.0, 100.0, np.nan],
        }
    )
    coverage = [
        {
            "key": "community_service",
            "category": "community_service",
            "label_zh": "社区服务",
            "label_en": "Community service",
            "tier": "15min",
            "required": True,
            "max_walk_m": 1000.0,
            "max_walk_min": 15.0,
            "households_total": 500.0,
            "households_covered": 200.0,
            "rate": 0.4,
            "passes": False,
        },
        {
            "key": "health",
            "category": "health",
            "label_zh": "医疗卫生",
            "label_en": "Health care",
            "tier": "15min",
            "required": True,
            "max_walk_m": 1000.0,
            "max_walk_min": 15.0,
            "households_total": 500.0,
            "households_covered": 120.0,
            "rate": 0.24,
            "passes": False,
        },
    ]
    summary = {
        "planner_version": "0.1.0",
        "passes": False,
        "standard": {
            "name": "community_service",
            "title_zh": "社区服务设施十五分钟生活圈",
            "title_en": "Community services within 15 minutes",
        },
        "parameters": {
            "speed_kmh": 4.0,
            "snap_cap_m": 500.0,
            "allocation": "catchment",
            "buffer_m": 25,
        },
        "households": {
            "total": 500.0,
            "method": "estimate:buildings" if estimated else "column",
            "estimated": estimated,
            "residences": 5,
            "off_network_residences": 1,
        },
        "coverage": coverage,
        "floor_area": {
            "category": "community_service",
            "allocation": "catchment",
            "supply_m2": 80.0,
            "households": 500.0,
            "m2_per_100hh": 16.0,
            "required_m2_per_100hh": 30.0,
            "required_m2": 150.0,
            "shortfall_m2": 92.0,
            "passes": False,
        },
        "off_network": {"facilities": [], "residences": ["r5"]},
        "communities": {
            "count": 2,
            "compliant": 0,
            "without_households": 0,
            "households_outside_communities": 0.0,
            "targets": {"compliant_per_subdistrict": 1},
        },
        "subdistricts": [
            {
                "subdistrict": "甲街道",
                "communities": 2,
                "compliant_communities": 0,
                "target_compliant": 1,
                "meets_target": False,
            }
        ],
    }
    review = SimpleNamespace(
        residences=res,
        facilities=fac,
        communities=comm,
        isochrones=iso,
        gaps=gaps,
        summary=summary,
    )
    if network:
        review.network = make_network()
    return review


def render(m: folium.Map) -> str:
    return m.get_root().render()


def data_blocks(page: str) -> dict[str, Any]:
    """The page's JSON data blocks (``<script type="application/json" id=...>``), parsed."""
    return {
        ident: json.loads(text)
        for ident, text in re.findall(
            r'<script type="application/json" id="([^"]+)">(.*?)</script>', page, flags=re.S
        )
    }


def call_args(page: str, func: str) -> list[list[Any]]:
    """The arguments of every ``PlannerMap.<func>(...)`` call in the page's script: JSON
    values parsed, data-block ids replaced by their data, variables as ("var", name)."""
    blocks = data_blocks(page)
    decoder = json.JSONDecoder()
    out = []
    for match in re.finditer(rf"PlannerMap\.{func}\(", page):
        pos = match.end()
        args: list[Any] = []
        while page[pos] != ")":
            if page[pos] in "{[\"'" or page[pos].isdigit():
                if page[pos] == "'":
                    end = page.index("'", pos + 1)
                    args.append(page[pos + 1 : end])
                    pos = end + 1
                else:
                    value, pos = decoder.raw_decode(page, pos)
                    args.append(blocks.get(value, value) if isinstance(value, str) else value)
            elif page[pos] in ", ":
                pos += 1
            else:
                name = re.match(r"[A-Za-z_$][\w$]*", page[pos:])
                assert name is not None, page[pos : pos + 40]
                args.append(("var", name.group(0)))
                pos += name.end()
        out.append(args)
    return out


def residence_data(page: str) -> dict[str, Any]:
    """The column data the residence layers draw (shared by both layers)."""
    calls = call_args(page, "residences")
    assert calls and all(c[2] is calls[0][2] or c[2] == calls[0][2] for c in calls)
    return calls[0][2]


@pytest.fixture(scope="module")
def result() -> SimpleNamespace:
    return make_result()


@pytest.fixture(scope="module")
def page_zh(result: SimpleNamespace) -> str:
    return render(build_map(result, basemap="none"))


# ---------------------------------------------------------------------------------------------
# Self-contained and offline
# ---------------------------------------------------------------------------------------------


def test_page_loads_no_script_or_stylesheet_from_the_network(page_zh: str) -> None:
    assert re.search(r"<script[^>]+src=", page_zh) is None
    assert re.search(r"<link[^>]+stylesheet", page_zh) is None
    assert "Leaflet 1.9.4" in page_zh  # inlined from django-js-lib-leaflet
    for cdn in ("jquery", "bootstrap", "font-awesome", "fontawesome", "awesome-markers"):
        assert cdn not in page_zh.lower(), cdn
    assert "sourceMappingURL" not in page_zh
    # the layer-control icon is inlined, not fetched
    assert "url(images/" not in page_zh and "data:image/png;base64," in page_zh


def test_page_inlines_the_package_assets(page_zh: str) -> None:
    """map.css and runtime.js are package data (planner/maps/assets), inlined whole."""
    assets = importlib.resources.files("planner.maps") / "assets"
    css = (assets / "map.css").read_text(encoding="utf-8")
    runtime = (assets / "runtime.js").read_text(encoding="utf-8")
    assert css.startswith(".leaflet-container.pm-map{") and css.endswith("}\n")
    assert runtime.startswith("(function () {") and runtime.endswith("})();\n")
    assert "\n" + css + "</style>" in page_zh
    assert "<script>\n" + runtime + "</script>" in page_zh


def test_only_urls_are_links_and_tiles(result: SimpleNamespace) -> None:
    allowed = {
        "leafletjs.com",  # Leaflet's own credit link and header comment
        "www.openstreetmap.org",  # the OSM copyright link
        "tile.openstreetmap.org",  # basemap tiles
        # inside leaflet.js: the SVG namespace string and comments citing browser bugs
        "www.w3.org",
        "bugs.chromium.org",
        "bugzilla.mozilla.org",
    }
    hosts = set(re.findall(r"https?://([\w.\-]+)", render(build_map(result))))
    assert hosts <= allowed, hosts - allowed
    plain = set(re.findall(r"https?://([\w.\-]+)", render(build_map(result, basemap="none"))))
    assert plain <= allowed - {"tile.openstreetmap.org"}


@pytest.mark.parametrize("basemap", ["osm", "amap", "tianditu", "none"])
def test_osm_credit_on_every_basemap(result: SimpleNamespace, basemap: str) -> None:
    key = "0123456789abcdef0123456789abcdef" if basemap == "tianditu" else None
    page = render(build_map(result, basemap=basemap, tianditu_key=key))
    init = call_args(page, "init")
    assert len(init) == 1
    assert init[0][1]["osm"] == OSM_ATTRIBUTION
    assert "© OpenStreetMap contributors" in OSM_ATTRIBUTION


def test_basemap_tiles(result: SimpleNamespace) -> None:
    amap = render(build_map(result, basemap="amap"))
    assert "autonavi.com/appmaptile" in amap and "tile.openstreetmap.org" not in amap
    key = "0123456789abcdef0123456789abcdef"
    tdt = render(build_map(result, basemap="tianditu", tianditu_key=key))
    assert f"tk={key}" in tdt and "LAYER=vec" in tdt and "LAYER=cva" in tdt
    tdt_en = render(build_map(result, basemap="tianditu", tianditu_key=key, lang="en"))
    assert "LAYER=eva" in tdt_en
    none = render(build_map(result, basemap="none"))
    assert "L.tileLayer" not in none


def test_bad_options_raise_input_error(result: SimpleNamespace) -> None:
    with pytest.raises(InputError, match="tianditu_key"):
        build_map(result, basemap="tianditu")
    with pytest.raises(InputError, match="letters and digits"):
        build_map(result, basemap="tianditu", tianditu_key="abc&x=<script>")
    with pytest.raises(InputError, match="basemap='google'.*osm"):
        build_map(result, basemap="google")
    with pytest.raises(InputError, match="lang='fr'"):
        build_map(result, lang="fr")


# ---------------------------------------------------------------------------------------------
# Escaping
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_data_text_never_reaches_the_page_unescaped(result: SimpleNamespace, lang: str) -> None:
    page = render(build_map(result, lang=lang, basemap="none"))
    assert XSS not in page
    assert "<img" not in page
    assert TAGGED not in page and "<b>3</b>" not in page
    # ... yet the page's data decode back to the literal texts, shown with textContent.
    facilities = [args[2] for args in call_args(page, "facilities")]
    names = [n for data in facilities for n in data["name"] or []]
    assert XSS in names
    assert TAGGED in residence_data(page)["name"]
    communities = call_args(page, "communities")[0][2]
    assert XSS in [f["properties"]["name"] for f in communities["features"]]
    # The summary panel is HTML built here: the gap list shows the name escaped.
    panels = {args[2]: args[3] for args in call_args(page, "panel")}
    assert "Block &lt;b&gt;3&lt;/b&gt;" in panels["pm-summary"]


def test_template_syntax_in_data_stays_text(result: SimpleNamespace) -> None:
    """Folium passes element output through Jinja again; data must not be evaluated there."""
    fac = result.facilities.copy()
    fac.loc[0, "name"] = "{{ 7*7 }} {% raw %}"
    fac.loc[2, "category"] = "{{cat}}"
    review = SimpleNamespace(**{**vars(result), "facilities": fac})
    page = render(build_map(review, basemap="none"))
    names = [n for args in call_args(page, "facilities") for n in args[2]["name"] or []]
    assert "{{ 7*7 }} {% raw %}" in names
    labels = [args[2]["label"] for args in call_args(page, "facilities")]
    assert "{{cat}}" in labels


def test_layer_names_are_escaped_for_the_layer_control() -> None:
    m = build_base_map(basemap="none")
    fac = gpd.GeoDataFrame(
        {"id": [1], "name": ["x"], "category": [XSS]}, geometry=[Point(LON0, LAT0)], crs=4326
    )
    from planner.maps import add_facilities

    add_facilities(m, fac)
    finish_map(m)
    page = render(m)
    assert XSS not in page
    names = [c.layer_name for c in m._children.values() if isinstance(c, folium.FeatureGroup)]
    assert names == ["设施：&lt;img src=x onerror=alert(1)&gt;"]


# ---------------------------------------------------------------------------------------------
# Layers and their data
# ---------------------------------------------------------------------------------------------


def overlay_layers(m: folium.Map) -> list[tuple[str, bool]]:
    return [
        (c.layer_name, bool(c.show))
        for c in m._children.values()
        if isinstance(c, folium.FeatureGroup)
    ]


def test_layers_zh(result: SimpleNamespace) -> None:
    m = build_map(result, basemap="none")
    assert isinstance(m, folium.Map)
    assert overlay_layers(m) == [
        ("居住点：覆盖状况", True),
        ("居住点：每百户设施面积", False),
        ("设施：社区服务", True),
        ("设施：医疗卫生", True),
        ("步行圈：社区服务", True),
        ("步行圈：医疗卫生", False),
        ("社区：达标情况", True),
        ("街道", True),
        ("步行网络", True),
    ]
    assert any(isinstance(c, folium.LayerControl) for c in m._children.values())


def test_layers_en(result: SimpleNamespace) -> None:
    names = [n for n, _ in overlay_layers(build_map(result, lang="en", basemap="none"))]
    assert names == [
        "Residences: coverage status",
        "Residences: m² per 100 households",
        "Facilities: Community service",
        "Facilities: Health care",
        "Walk bands: Community service",
        "Walk bands: Health care",
        "Communities: verdict",
        "Sub-districts",
        "Walking network",
    ]


def test_residence_data(page_zh: str) -> None:
    data = residence_data(page_zh)
    # gaps are drawn last (on top): covered, off-network, partly, uncovered
    assert data["id"] == ["r1", "r5", "r2", "r3", "r4"]
    assert data["st"] == "03122"
    assert data["hh"] == [120, 60, 80, 200, 40]
    assert data["est"] == "00000"
    rules = {r["label"]: r for r in data["rules"]}
    assert list(rules) == ["社区服务", "医疗卫生"]
    assert rules["社区服务"]["walk"] == [300, None, 900, 1250, None]
    assert rules["社区服务"]["cov"] == "10100"
    assert rules["医疗卫生"]["max"] == 1000.0
    assert data["fa"] == [45, None, 20, 0, 0]
    assert data["faok"] == "10000"
    assert data["lon"][0] == pytest.approx(LON0) and data["lat"][3] == pytest.approx(LAT0 + 0.001)


def test_facility_data(page_zh: str) -> None:
    calls = call_args(page_zh, "facilities")
    by_label = {args[2]["label"]: args[2] for args in calls}
    assert list(by_label) == ["社区服务", "医疗卫生"]
    cs = by_label["社区服务"]
    assert cs["id"] == ["f1", "f2"] and cs["name"] == [XSS, "社区中心"]
    assert cs["fa"] == [60, 20] and cs["hh"] == [200, 200] and cs["r"] == [30, 10]
    assert cs["ok"] == "10" and cs["prop"] == "01" and cs["on"] == "11"
    assert cs["glyph"] == "社"
    health = by_label["医疗卫生"]
    assert health["ok"] == "-" and health["fa"] == [None]
    assert cs["colour"] != health["colour"]


def test_isochrone_bands_per_category(page_zh: str) -> None:
    calls = call_args(page_zh, "isochrones")
    assert len(calls) == 2
    for args in calls:
        fc, colour = args[2], args[3]
        assert re.fullmatch(r"#[0-9a-f]{6}", colour)
        bands = [f["properties"]["b"] for f in fc["features"]]
        assert bands == [15, 10, 5]  # largest first, drawn underneath
        assert [f["properties"]["k"] for f in fc["features"]] == [2, 1, 0]
        assert [f["properties"]["m"] for f in fc["features"]] == [1000, 667, 333]


def unpack_rings(geometry: dict[str, Any]) -> list[np.ndarray]:
    """The rings of a "PMRings" geometry (as the page decodes them), lon/lat per vertex."""
    assert geometry["type"] == "PMRings"
    xy = np.cumsum(np.array(geometry["d"], dtype=np.int64).reshape(-1, 2), axis=0)
    xy = (xy + [geometry["x0"], geometry["y0"]]) / 1e6
    return np.split(xy, np.cumsum(geometry["n"])[:-1])


def test_band_rings_decode_to_the_drawn_polygon(page_zh: str, result: SimpleNamespace) -> None:
    source = result.isochrones.to_crs(4326)
    for args in call_args(page_zh, "isochrones"):
        for feature in args[2]["features"]:
            rings = unpack_rings(feature["geometry"])
            assert rings and all(len(r) >= 3 for r in rings)
            # Every decoded vertex lies on the outline of that band (simplified by ~1 m).
            band = source.loc[source["band_min"] == feature["properties"]["b"]].geometry
            outline = shapely.union_all(band.boundary.to_numpy())
            vertices = shapely.points(np.vstack(rings))
            assert np.max(shapely.distance(vertices, outline)) < 2e-5  # ~2 m


def test_geometry_is_simplified_and_rounded(page_zh: str, result: SimpleNamespace) -> None:
    fc = call_args(page_zh, "isochrones")[0][2]
    drawn = unpack_rings(fc["features"][0]["geometry"])[0]
    source = shapely.get_coordinates(result.isochrones.geometry.iloc[2])
    assert len(drawn) < len(source)  # simplified (~1 m tolerance)
    assert all(isinstance(v, int) for v in fc["features"][0]["geometry"]["d"])  # microdegrees
    data = residence_data(page_zh)
    assert all(len(repr(v).split(".")[1]) <= 6 for v in data["lon"] + data["lat"])


def test_amap_shifts_every_coordinate_to_gcj02(result: SimpleNamespace) -> None:
    wgs = residence_data(render(build_map(result, basemap="none")))
    gcj = residence_data(render(build_map(result, basemap="amap")))
    lon, lat = wgs84_to_gcj02(np.array(wgs["lon"]), np.array(wgs["lat"]))
    np.testing.assert_allclose(gcj["lon"], lon, atol=1.5e-6)
    np.testing.assert_allclose(gcj["lat"], lat, atol=1.5e-6)
    shift_m = (np.array(gcj["lon"]) - np.array(wgs["lon"])) * 111_320 * np.cos(np.radians(LAT0))
    assert np.all(np.abs(shift_m) > 100)  # the GCJ-02 offset in Beijing is hundreds of metres
    amap = render(build_map(result, basemap="amap"))
    fac = call_args(amap, "facilities")[0][2]
    flon, flat = wgs84_to_gcj02([LON0 + 0.0005], [LAT0 + 0.0002])
    assert fac["lon"][0] == pytest.approx(flon[0], abs=1.5e-6)
    assert fac["lat"][0] == pytest.approx(flat[0], abs=1.5e-6)
    poly = call_args(amap, "communities")[0][2]["features"][0]["geometry"]["coordinates"][0]
    corner_lon, corner_lat = wgs84_to_gcj02([LON0 - 0.001], [LAT0 - 0.002])
    assert [corner_lon[0], corner_lat[0]] in [pytest.approx(p, abs=1.5e-6) for p in poly]


def test_input_frames_are_not_mutated(result: SimpleNamespace) -> None:
    before = copy.deepcopy(result)
    build_map(result, basemap="amap")
    for name in ("residences", "facilities", "communities", "isochrones"):
        pd.testing.assert_frame_equal(getattr(result, name), getattr(before, name))
    pd.testing.assert_frame_equal(result.gaps, before.gaps)
    assert result.summary == before.summary


def test_projected_input_is_drawn_in_wgs84(result: SimpleNamespace) -> None:
    projected = result.residences.to_crs(3857)
    m = build_base_map(basemap="none")
    add_residences(m, projected, coverage=result.summary["coverage"])
    data = residence_data(render(finish_map(m)))
    assert data["lon"][0] == pytest.approx(LON0, abs=1e-6)


def test_residences_need_a_valid_status(result: SimpleNamespace) -> None:
    m = build_base_map(basemap="none")
    with pytest.raises(InputError, match="status"):
        add_residences(m, result.residences.drop(columns="status"))
    bad = result.residences.assign(status=["covered", "partly", "maybe", "uncovered", "covered"])
    with pytest.raises(InputError, match=r"'maybe'.*rows \[2\]"):
        add_residences(m, bad)


def test_rules_from_columns_when_no_coverage_summary(result: SimpleNamespace) -> None:
    m = build_base_map(basemap="none", lang="en")
    add_residences(m, result.residences)
    data = residence_data(render(finish_map(m)))
    assert [r["label"] for r in data["rules"]] == ["Community service", "Health care"]


# ---------------------------------------------------------------------------------------------
# Legend and summary
# ---------------------------------------------------------------------------------------------


def panels(page: str) -> dict[str, str]:
    return {args[2]: args[3] for args in call_args(page, "panel")}


def test_summary_panel_zh(page_zh: str) -> None:
    summary = panels(page_zh)["pm-summary"]
    for text in (
        "社区服务设施十五分钟生活圈",
        "未达标",
        "40.0 %",
        "24.0 %",
        "200 / 500",
        "≤ 1,000 米 / 15 分钟",
        "16.0 m²/百户 (≥ 30)",
        "92 m²",  # shortfall
        "150 m²",  # required
        "4.0 公里/小时",
        "500 米",  # snap cap
        "两步移动搜索",
        "25 米",
        "输入数据",
        "© OpenStreetMap contributors",
    ):
        assert text in summary, text
    assert "估算" not in summary
    # largest gaps, most households first, with the residence's name
    assert summary.index("Block &lt;b&gt;3") < summary.index("r2")
    assert "r4：社区服务，40 户，无法到达" in summary


def test_summary_panel_en_with_estimated_households() -> None:
    page = render(build_map(make_result(estimated=True), lang="en", basemap="none"))
    summary = panels(page)["pm-summary"]
    for text in ("Community services within 15 minutes", "fail", "40.0 %", "4.0 km/h"):
        assert text in summary, text
    assert "500 (estimate)" in summary
    assert "estimate (from buildings)" in summary
    assert residence_data(page)["est"] == "11111"


def test_legend_lists_what_is_drawn(page_zh: str) -> None:
    legend = panels(page_zh)["pm-legend"]
    for text in (
        "所需设施均可达",
        "部分可达",
        "均不可达（缺口）",
        "不在步行网络上",
        "要求 30",
        "&lt; 15",
        "≥ 45",
        "社区服务",
        "医疗卫生",
        "拟建设施",
        "面积未达标",
        "≤ 5 分钟（333 米）",
        "≤ 15 分钟（1000 米）",
    ):
        assert text in legend, text


def test_map_without_floor_area_communities_or_bands(result: SimpleNamespace) -> None:
    summary = dict(result.summary, floor_area=None)
    lean = SimpleNamespace(
        residences=result.residences.drop(columns=["floor_area_m2_per_100hh", "floor_area_ok"]),
        facilities=result.facilities,
        communities=None,
        isochrones=None,
        gaps=result.gaps,
        summary=summary,
    )
    m = build_map(lean, lang="en", basemap="none")
    assert [n for n, _ in overlay_layers(m)] == [
        "Residences: coverage status",
        "Facilities: Community service",
        "Facilities: Health care",
    ]
    page = render(m)
    assert "PlannerMap.network(" not in page  # no `network` attribute: no network layer
    assert "Walking network" not in panels(page)["pm-legend"]
    assert "m² per 100 households" not in panels(page)["pm-legend"]
    assert "Floor area" not in panels(page)["pm-summary"]


# ---------------------------------------------------------------------------------------------
# Isochrones map, palette, saving
# ---------------------------------------------------------------------------------------------


def test_isochrones_map_draws_bands_and_sources(result: SimpleNamespace) -> None:
    m = isochrones_map(result.isochrones, points=result.facilities, lang="en", basemap="none")
    names = [n for n, _ in overlay_layers(m)]
    assert names == [
        "Walk bands: Community service",
        "Walk bands: Health care",
        "Facilities: Community service",
        "Facilities: Health care",
    ]
    page = render(m)
    assert "PlannerMap.residences" not in page
    assert "≤ 10 min (667 m)" in panels(page)["pm-legend"]
    bare = result.isochrones.drop(columns=["category", "band_m"]).iloc[:3]
    m2 = isochrones_map(bare, basemap="none")
    assert overlay_layers(m2) == [("步行圈", True)]
    assert len(call_args(render(m2), "isochrones")[0][2]["features"]) == 3
    # Bands dissolved over points of many categories (planner isochrones --dissolve --map):
    # the one band layer opens shown, whatever the points' categories.
    many = result.facilities.assign(category=[f"c{i}" for i in range(len(result.facilities))])
    m3 = isochrones_map(bare, points=many, basemap="none")
    assert overlay_layers(m3)[0] == ("步行圈", True)


def test_category_colours_are_stable_and_distinct() -> None:
    cats = [f"c{i}" for i in range(12)]
    colours = category_colours(cats)
    assert len(set(colours.values())) == 12
    assert category_colours(reversed(cats))["c11"] == colours["c0"]
    assert category_colours(["a", "b", "a"]) == category_colours(["a", "b"])


def test_save_map_writes_atomically(tmp_path: Path, result: SimpleNamespace) -> None:
    target = tmp_path / "out" / "map.html"
    written = save_map(build_map(result, basemap="none"), target)
    assert written == target and target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    first = target.read_bytes()

    m = build_map(result, basemap="none", lang="en")

    def boom(**kwargs: Any) -> str:
        raise RuntimeError("render failed")

    m.get_root().render = boom  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        save_map(m, target)
    assert target.read_bytes() == first  # the old file is untouched
    save_map(build_map(result, basemap="none", lang="en"), target)
    assert target.read_bytes() != first
    assert sorted(p.name for p in target.parent.iterdir()) == ["map.html"]  # no temp left


def test_save_map_finishes_a_bare_map(tmp_path: Path, result: SimpleNamespace) -> None:
    m = build_base_map(basemap="none")
    add_residences(m, result.residences, coverage=result.summary["coverage"])
    assert isinstance(m, PlannerMap) and not m.finished
    page = save_map(m, tmp_path / "m.html").read_text(encoding="utf-8")
    assert m.finished and "PlannerMap.ready(" in page and "L.control.layers(" in page


def test_large_review_stays_compact(tmp_path: Path) -> None:
    """10,000 residences: a few dozen bytes each, not a GeoJSON feature each."""
    rng = np.random.default_rng(5)
    n = 10_000
    walk = rng.uniform(0, 2000, n)
    res = gpd.GeoDataFrame(
        {
            "id": [f"r{i}" for i in range(n)],
            "households": rng.integers(10, 300, n).astype(float),
            "walk_m_community_service": walk,
            "covered_community_service": walk <= 1000,
            "status": np.where(walk <= 1000, "covered", "uncovered"),
        },
        geometry=gpd.points_from_xy(LON0 + rng.uniform(0, 0.05, n), LAT0 + rng.uniform(0, 0.05, n)),
        crs=4326,
    )
    m = build_base_map(basemap="none")
    add_residences(m, res)
    path = save_map(m, tmp_path / "big.html")
    base = len(render(finish_map(build_base_map(basemap="none"))).encode("utf-8"))
    per_residence = (path.stat().st_size - base) / n
    assert per_residence < 60, per_residence


# ---------------------------------------------------------------------------------------------
# The walking network
# ---------------------------------------------------------------------------------------------


def network_data(page: str) -> dict[str, Any]:
    calls = call_args(page, "network")
    assert len(calls) == 1
    return calls[0][2]


def network_lines(data: dict[str, Any]) -> list[np.ndarray]:
    """Decode the page's network data: one (n, 2) array of lon/lat per line, in degrees."""
    deltas = np.array(data["d"], dtype=np.int64).reshape(-1, 2)
    coords = np.array([data["x0"], data["y0"]]) + np.cumsum(deltas, axis=0)
    assert sum(data["n"]) == len(coords)
    return np.split(coords / 1e6, np.cumsum(data["n"])[:-1])


def grid_ends(network: SimpleNamespace, *, amap: bool = False) -> list[tuple[float, ...]]:
    """Start and end of each way of `make_network` in WGS84 (or GCJ-02), sorted."""
    to_wgs = pyproj.Transformer.from_crs(network.crs, 4326, always_xy=True)
    ends = []
    for way in np.unique(network.edge_way_id):
        coords = shapely.get_coordinates(network.edge_geometry[network.edge_way_id == way])
        lon, lat = to_wgs.transform(coords[[0, -1], 0], coords[[0, -1], 1])
        if amap:
            lon, lat = wgs84_to_gcj02(lon, lat)
        ends.append(tuple(sorted(zip(np.round(lon, 6), np.round(lat, 6), strict=True))))
    return sorted(ends)


def test_network_layer_data(page_zh: str, result: SimpleNamespace) -> None:
    data = network_data(page_zh)
    lines = network_lines(data)
    # Edges of a way merged into one line; straight ways and the footway's 0.3 m wiggles
    # simplified (2 m) down to their two ends.
    assert len(lines) == 9 and data["n"] == [2] * 9
    assert sum(data["cells"]) == 9 and data["simplify_m"] == 2.0
    assert sorted(data["c"]) == list("011111122")  # footway; streets; main roads
    drawn = sorted(
        tuple(sorted((round(lon, 6), round(lat, 6)) for lon, lat in line)) for line in lines
    )
    expected = grid_ends(result.network)
    assert len(drawn) == len(expected)
    for got, want in zip(drawn, expected, strict=True):
        np.testing.assert_allclose(got, want, atol=1.5e-6)
    styles = call_args(page_zh, "network")[0][3]
    assert [s["minZoom"] for s in styles] == sorted(s["minZoom"] for s in styles)[::-1]
    legend = panels(page_zh)["pm-legend"]
    for text in ("步行网络（OSM）", "主要道路", "街巷", "步行道、小路"):
        assert text in legend, text
    assert "路网很大" not in legend


def test_network_layer_leaves_escaping_intact(result: SimpleNamespace) -> None:
    page = render(build_map(result, basemap="none"))
    assert XSS not in page and "<img" not in page  # one way's highway value is XSS too
    assert set(network_data(page)["c"]) <= set("012")  # the only text: class digits
    bare = render(build_map(make_result(network=False), basemap="none"))
    assert "PlannerMap.network(" not in bare
    for func in ("facilities", "communities"):
        assert [c[2:] for c in call_args(page, func)] == [c[2:] for c in call_args(bare, func)]
    assert residence_data(page)["name"] == residence_data(bare)["name"]


def test_network_is_shifted_for_amap(result: SimpleNamespace) -> None:
    lines = network_lines(network_data(render(build_map(result, basemap="amap"))))
    drawn = sorted(
        tuple(sorted((round(lon, 6), round(lat, 6)) for lon, lat in line)) for line in lines
    )
    for got, want in zip(drawn, grid_ends(result.network, amap=True), strict=True):
        np.testing.assert_allclose(got, want, atol=1.5e-6)


def test_network_in_degrees_is_simplified_in_metres(result: SimpleNamespace) -> None:
    net = result.network
    wgs = SimpleNamespace(
        crs=pyproj.CRS.from_epsg(4326),
        edge_geometry=gpd.GeoSeries(net.edge_geometry, crs=net.crs).to_crs(4326).to_numpy(),
        edge_highway=net.edge_highway,
        edge_way_id=net.edge_way_id,
    )
    m = build_base_map(basemap="none")
    add_network(m, wgs)
    data = network_data(render(finish_map(m)))
    assert data["n"] == [2] * 9  # the 0.3 m wiggles went: the tolerance was metres
    assert sorted(data["c"]) == sorted(network_data(render(build_map(result)))["c"])


def test_large_network_is_simplified_more_and_says_so(
    monkeypatch: pytest.MonkeyPatch, result: SimpleNamespace
) -> None:
    monkeypatch.setattr(planner.maps.network_layer, "NETWORK_LARGE_EDGES", 10)
    page = render(build_map(result, basemap="none", lang="en"))
    assert network_data(page)["simplify_m"] == 10.0
    legend = panels(page)["pm-legend"]
    assert "a large network (25 edges): lines simplified to 10 m" in legend


def test_network_without_edges_or_geometry() -> None:
    m = build_base_map(basemap="none")
    empty = SimpleNamespace(crs=pyproj.CRS.from_user_input(UTM50N), edge_geometry=np.array([]))
    assert add_network(m, empty) is None
    assert overlay_layers(m) == []
    with pytest.raises(InputError, match="edge_geometry"):
        add_network(m, SimpleNamespace(crs=UTM50N))


def test_isochrones_map_can_draw_the_network(result: SimpleNamespace) -> None:
    m = isochrones_map(result.isochrones, network=result.network, lang="en", basemap="none")
    assert overlay_layers(m)[-1] == ("Walking network", True)
    assert len(network_lines(network_data(render(m)))) == 9


def test_network_data_is_compact() -> None:
    """A 60 x 60 grid of ways with a 10 m bend in every edge: about 10 bytes per vertex."""
    geoms, way = [], []
    x0, y0 = 440_000.0, 4_416_000.0  # UTM 50N, in Beijing
    for i in range(60):
        for j in range(59):
            a, b = x0 + 100 * j, y0 + 100 * i  # east-west way i, edge j
            geoms.append(LineString([(a, b), (a + 50, b + 10), (a + 100, b)]))
            way.append(i)
            a, b = x0 + 100 * i, y0 + 100 * j  # north-south way 1000 + i, edge j
            geoms.append(LineString([(a, b), (a + 10, b + 50), (a, b + 100)]))
            way.append(1000 + i)
    net = SimpleNamespace(
        crs=pyproj.CRS.from_user_input(UTM50N),
        edge_geometry=np.array(geoms, dtype=object),
        edge_highway=np.full(len(geoms), "residential", dtype=object),
        edge_way_id=np.array(way),
    )
    m = build_base_map(basemap="none")
    add_network(m, net)
    data_text = json.dumps(network_data(render(finish_map(m))), separators=(",", ":"))
    vertices = sum(json.loads(data_text)["n"])
    assert vertices == 120 * (2 * 59 + 1)  # every bend kept, shared crossings once per way
    assert len(data_text) / vertices < 11, len(data_text) / vertices


def test_served_area_outlines_are_simplified_ring_by_ring() -> None:
    from planner.maps.encode import _simplify_rings

    hole = [(4, 4), (6, 4), (6, 6), (4, 6)]
    speck = [(2, 2), (2.0001, 2), (2.0001, 2.0001), (2, 2.0001)]
    shell = [(0, 0), (5, 0.0001), (10, 0), (10, 10), (0, 10)]
    polygon = shapely.Polygon(shell, [speck, hole])
    parts = shapely.MultiPolygon([polygon, shapely.box(30, 30, 30.0001, 30.0001)])
    line = shapely.LineString([(0, 0), (1, 0.0001), (2, 0)])
    out = _simplify_rings(np.array([polygon, parts, line, None], dtype=object), 1e-3)
    expected = shapely.Polygon([(0, 0), (10, 0), (10, 10), (0, 10)], [hole])
    assert out[0].geom_type == "Polygon" and out[0].normalize().equals(expected.normalize())
    # The speck of a part collapses and goes; the hole stays a hole.
    assert out[1].geom_type == "MultiPolygon" and len(out[1].geoms) == 1
    assert out[1].geoms[0].normalize().equals(expected.normalize())
    assert out[2].equals(shapely.LineString([(0, 0), (2, 0)]))
    assert out[3] is None


def test_communities_by_verdict(page_zh: str) -> None:
    args = call_args(page_zh, "communities")[0]
    feats = args[2]["features"]
    assert [f["properties"]["v"] for f in feats] == ["fails_floor_area", "fails_both"]
    first = feats[0]["properties"]["rules"][0]
    assert first == {
        "cov": 1.0,
        "cok": "1",
        "un": 0.0,
        "fa": 80.0,
        "r": 20.0,
        "fok": "0",
        "sh": 40.0,
    }
    assert args[3][0]["m2"] == 30.0 and args[3][0]["rate"] == 1.0
    assert args[4]["compliant"] == "#1a9850"  # the verdict colours
    assert [label[2] for label in args[5]] == ["东社区", XSS]  # names, escaped on the page
    (outline,) = call_args(page_zh, "subdistricts")
    assert [f["properties"]["name"] for f in outline[2]["features"]] == ["甲街道"]
    assert "0 / 2 个社区达标" in page_zh
    assert "甲街道：0 / 2 个达标（目标 1）" in page_zh


# ---------------------------------------------------------------------------------------------
# A review's bands drawn from the reached pieces ("PMLines")
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def served_review() -> Any:
    import planner

    data = Path(__file__).resolve().parents[2] / "data"
    network = planner.load_network(data / "cn_beijing_haidian_cau_map.osm.bz2")
    facilities = planner.read_facilities(data / "haidian" / "facilities.gpkg")
    residences = planner.read_residences(data / "haidian" / "residences.gpkg")
    return planner.check(network, facilities, residences, isochrones=True)


def unpack_lines(data: dict[str, Any]) -> list[np.ndarray]:
    """The lines of a "PMLines" block (as the page decodes them), lon/lat per vertex."""
    assert data["type"] == "PMLines"
    xy = np.cumsum(np.array(data["d"], dtype=np.int64).reshape(-1, 2), axis=0)
    xy = (xy + [data["x0"], data["y0"]]) / 1e6
    return np.split(xy, np.cumsum(data["n"])[:-1])


@pytest.mark.parametrize("basemap", ["none", "amap"])
def test_review_bands_are_the_reached_pieces(served_review: Any, basemap: str) -> None:
    page = render(build_map(served_review, lang="en", basemap=basemap))
    assert not call_args(page, "isochrones")  # no polygons: strokes of the pieces
    calls = call_args(page, "bands")
    bands = served_review.bands
    assert len(calls) == len(set(bands.table["category"]))
    assert calls[0][2]["cat"] == "community_service"  # the required category, shown first
    for args in calls:
        data = args[2]
        assert all(isinstance(v, int) for v in data["d"][:1000])  # microdegrees
        assert data["b"] == [5.0, 10.0, 15.0] and data["m"] == [333, 667, 1000]
        assert data["buffer_m"] == 25.0
        assert data["w"] == sorted(data["w"])  # bands nest: a prefix of the whole edges each
    to_map = pyproj.Transformer.from_crs(bands.network.crs, 4326, always_xy=True)
    first = calls[0][2]
    rows = bands.table.index[bands.table["category"] == first["cat"]].tolist()
    lines = unpack_lines(first)
    for k, row in enumerate(rows):
        drawn = lines[: first["w"][k]] + lines[first["e"][k][0] : first["e"][k][1]]
        pieces = shapely.transform(
            bands.pieces(row), lambda c: np.column_stack(to_map.transform(c[:, 0], c[:, 1]))
        )
        assert len(drawn) == len(pieces)
        if basemap == "amap":
            continue  # shifted to GCJ-02: hundreds of metres off WGS84
        vertices = shapely.points(np.vstack(drawn))
        # Every drawn vertex lies on a reached piece (lines simplified by 0.5 m, ~1e-5 deg).
        assert np.max(shapely.distance(vertices, shapely.union_all(pieces))) < 1e-5
        ends = shapely.points(np.vstack([p[[0, -1]] for p in drawn]))
        piece_ends = shapely.boundary(pieces)
        assert np.max(shapely.distance(ends, shapely.union_all(piece_ends))) < 2e-6
