"""The map in a real browser: headless Chromium (Debian's), driven by Playwright, network blocked.

Every request that is not a ``file://`` URL is aborted, so these tests show that the page works
offline. Under CI (``CI=true``) a missing Playwright or Chromium fails the tests; locally they
are skipped. A screenshot is written to ``test-artifacts/map.png``.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from test_maps import TAGGED, XSS, make_result

from planner.maps import build_map, save_map

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
DEMO_CONFIG = REPO / "data" / "haidian" / "review.toml"
VIEWPORT = {"width": 1400, "height": 900}


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"browser tests must run under CI, but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed (pip install -e '.[test]')")
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class Opened:
    page: Any
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def settle(self) -> None:
        """Wait until the map has drawn what the last action changed (two animation frames)."""
        self.page.evaluate(
            "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"
        )


@pytest.fixture()
def open_map(browser: Any) -> Iterator[Any]:
    contexts = []

    def opener(path: Path) -> Opened:
        context = browser.new_context(viewport=VIEWPORT, service_workers="block")
        contexts.append(context)
        page = context.new_page()
        opened = Opened(page)
        page.on(
            "console",
            lambda msg: opened.console_errors.append(msg.text) if msg.type == "error" else None,
        )
        page.on("pageerror", lambda exc: opened.page_errors.append(str(exc)))

        def on_dialog(dialog: Any) -> None:
            opened.dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)

        def route(r: Any) -> None:
            if r.request.url.startswith("file://"):
                r.continue_()
            else:
                opened.blocked.append(r.request.url)
                r.abort()

        page.route("**/*", route)
        page.goto(path.resolve().as_uri())
        page.wait_for_selector(".folium-map[data-pm-ready='1']", timeout=30_000)
        return opened

    yield opener
    for context in contexts:
        context.close()


@pytest.fixture(scope="module")
def maps(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("maps")
    result = make_result()
    return {
        "zh": save_map(build_map(result, basemap="none"), folder / "zh.html"),
        "en": save_map(build_map(result, lang="en", basemap="none"), folder / "en.html"),
        "osm": save_map(build_map(result), folder / "osm.html"),
        "amap": save_map(build_map(result, basemap="amap"), folder / "amap.html"),
    }


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled Haidian demo, reviewed into a temporary folder."""
    from planner.cli import main

    out = tmp_path_factory.mktemp("demo")
    code = main(["check", "--config", str(DEMO_CONFIG), "--out", str(out), "--quiet"])
    assert code in (0, 1)  # 1: a standard fails, as it does for this district
    return out


OVERLAYS_ZH = [
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

DRAWN_JS = """() => {
  const box = document.querySelector('.folium-map');
  let ink = 0, sum = 0;
  for (const canvas of box.querySelectorAll('canvas')) {
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 3; i < data.length; i += 4) {
      if (data[i] > 0) { ink += 1; sum = (sum + data[i] * (i % 9973) + data[i - 1]) % 1000000007; }
    }
  }
  return {ink: ink, sum: sum, markers: box.querySelectorAll(
    '.leaflet-marker-icon:not(.pm-comm-label):not(.pm-sd-label)').length};
}"""


def overlays(opened: Opened) -> list[tuple[str, bool]]:
    labels = opened.page.locator(".leaflet-control-layers-overlays label")
    return [
        (labels.nth(i).inner_text().strip(), labels.nth(i).locator("input").is_checked())
        for i in range(labels.count())
    ]


def check_every_layer_toggles(opened: Opened) -> None:
    """Each overlay: uncheck/check changes what is drawn, and checking back restores it."""
    page = opened.page
    labels = page.locator(".leaflet-control-layers-overlays label")
    for i, (name, shown) in enumerate(overlays(opened)):
        box = labels.nth(i).locator("input")
        before = page.evaluate(DRAWN_JS)
        box.click()
        opened.settle()
        after = page.evaluate(DRAWN_JS)
        assert box.is_checked() is (not shown), name
        assert after != before, f"toggling {name!r} changed nothing drawn"
        box.click()
        opened.settle()
        assert box.is_checked() is shown, name
        again = page.evaluate(DRAWN_JS)
        # Leaflet redraws only the changed part of the canvas; anti-aliasing at its edge may
        # differ by a few pixels, so compare what is drawn, not the exact pixel values.
        assert again["markers"] == before["markers"], name
        assert abs(again["ink"] - before["ink"]) <= 0.002 * before["ink"], name


def check_panels(opened: Opened) -> dict[str, dict[str, float]]:
    """Legend, summary, layer control, scale and OSM credit are visible and do not overlap;
    every residence is drawn in the part of the map the panels leave free."""
    page = opened.page
    assert page.locator(".pm-legend").is_visible()
    assert page.locator(".pm-summary").is_visible()
    assert page.locator(".leaflet-control-layers").is_visible()
    assert page.locator(".leaflet-control-scale").is_visible()
    assert "© OpenStreetMap contributors" in page.inner_text(".leaflet-control-attribution")
    boxes = {
        name: page.locator(selector).bounding_box()
        for name, selector in (
            ("summary", ".pm-summary"),
            ("legend", ".pm-legend"),
            ("layers", ".leaflet-control-layers"),
            ("scale", ".leaflet-control-scale"),
        )
    }
    names = list(boxes)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            p, q = boxes[a], boxes[b]
            apart = (
                p["x"] + p["width"] <= q["x"]
                or q["x"] + q["width"] <= p["x"]
                or p["y"] + p["height"] <= q["y"]
                or q["y"] + q["height"] <= p["y"]
            )
            assert apart, f"{a} overlaps {b}"
    for name in ("summary", "legend", "layers"):
        box = boxes[name]
        assert box["y"] >= 0 and box["y"] + box["height"] <= VIEWPORT["height"], name
    points = page.evaluate(
        """() => {
          return PlannerMap.groups.residences._pmPoints.containerPoints().map(p => [p.x, p.y]);
        }"""
    )
    left = boxes["summary"]["x"] + boxes["summary"]["width"]
    right = min(boxes["legend"]["x"], boxes["layers"]["x"])
    assert points and all(left < x < right for x, _ in points), (left, right)
    return boxes


NETWORK_INK_JS = """() => {
  const pane = PlannerMap.maps[0].getPane('pmNetwork');
  let ink = 0;
  for (const canvas of pane ? pane.querySelectorAll('canvas') : []) {
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 3; i < data.length; i += 4) { if (data[i] > 0) { ink += 1; } }
  }
  return ink;
}"""


def network_ink(opened: Opened) -> int:
    """Pixels drawn by the walking network's canvas (0 when it is hidden)."""
    return int(opened.page.evaluate(NETWORK_INK_JS))


def screenshot(opened: Opened, name: str) -> Path:
    page = opened.page
    if page.locator(".leaflet-popup").count():  # wait until a popup has faded in
        page.wait_for_function(
            "getComputedStyle(document.querySelector('.leaflet-popup')).opacity === '1'"
        )
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path))
    assert path.stat().st_size > 10_000
    return path


def click_residence(opened: Opened, ident: str) -> None:
    """Click the canvas marker of residence ``ident`` where it is drawn; wait for its popup."""
    x, y = opened.page.evaluate(
        """(ident) => {
          const p = PlannerMap.groups.residences._pmPoints.containerPointOf(ident);
          const r = PlannerMap.maps[0].getContainer().getBoundingClientRect();
          return [r.left + p.x, r.top + p.y];
        }""",
        ident,
    )
    opened.page.mouse.click(x, y)
    one_popup(opened)


def one_popup(opened: Opened) -> None:
    """Wait until exactly one popup is open (a closed one fades out for 200 ms)."""
    opened.page.wait_for_function("document.querySelectorAll('.leaflet-popup').length === 1")


# ---------------------------------------------------------------------------------------------
# The synthetic review of test_maps.py
# ---------------------------------------------------------------------------------------------


def test_opens_offline_without_errors(open_map: Any, maps: dict[str, Path]) -> None:
    for lang in ("zh", "en"):
        opened = open_map(maps[lang])
        assert opened.console_errors == []
        assert opened.page_errors == []
        assert opened.blocked == []  # basemap "none": nothing at all is fetched
        assert opened.page.evaluate("PlannerMap.drawnMs") > 0
        counts = opened.page.evaluate(DRAWN_JS)
        assert counts["ink"] > 1000 and counts["markers"] == 3


@pytest.mark.parametrize(
    ("basemap", "host"),
    [("osm", "https://tile.openstreetmap.org/"), ("amap", "https://webrd0")],
)
def test_only_basemap_tiles_need_the_network(
    open_map: Any, maps: dict[str, Path], basemap: str, host: str
) -> None:
    opened = open_map(maps[basemap])
    assert opened.blocked, "the basemap asked for no tiles"
    assert all(url.startswith(host) for url in opened.blocked), opened.blocked
    assert opened.page_errors == []
    # the only console errors are the blocked tiles
    assert all("Failed to load resource" in e for e in opened.console_errors)
    counts = opened.page.evaluate(DRAWN_JS)
    assert counts["ink"] > 1000 and counts["markers"] == 3
    credit = opened.page.inner_text(".leaflet-control-attribution")
    assert "© OpenStreetMap contributors" in credit


def test_every_layer_is_listed_and_toggles(open_map: Any, maps: dict[str, Path]) -> None:
    opened = open_map(maps["zh"])
    assert overlays(opened) == OVERLAYS_ZH
    # layers that start hidden are built only when first shown
    hidden = opened.page.evaluate(
        "['residences_ratio', 'isochrones:health']"
        ".map(k => PlannerMap.groups[k].getLayers().length)"
    )
    assert hidden == [0, 0]
    check_every_layer_toggles(opened)
    assert opened.console_errors == [] and opened.page_errors == []


def test_walking_network_is_drawn_under_everything_and_toggles(
    open_map: Any, maps: dict[str, Path]
) -> None:
    opened = open_map(maps["zh"])
    page = opened.page
    drawn = network_ink(opened)
    assert drawn > 2_000
    # under the bands, communities and residences: its pane is the lowest of the canvases
    z = page.evaluate(
        """() => ['pmNetwork', 'pmPolygons', 'pmPoints'].map(
             n => Number(PlannerMap.maps[0].getPane(n).style.zIndex))"""
    )
    assert z[0] < z[1] < z[2] and z[0] > 200  # and above the basemap's tiles
    box = page.locator(".leaflet-control-layers-overlays label", has_text="步行网络").locator(
        "input"
    )
    others = page.evaluate(DRAWN_JS)
    box.click()
    opened.settle()
    assert network_ink(opened) == 0
    hidden = page.evaluate(DRAWN_JS)
    assert hidden["ink"] < others["ink"] and hidden["markers"] == others["markers"]
    box.click()
    opened.settle()
    assert network_ink(opened) == drawn
    # zoomed in and out it is redrawn for the new zoom level; far out, only main roads
    for zoom in (18, 12.5):
        page.evaluate(f"PlannerMap.maps[0].setZoom({zoom}, {{animate: false}})")
        opened.settle()
        assert network_ink(opened) > 0, zoom
    legend = page.inner_text(".pm-legend")
    assert "步行网络（OSM）" in legend and "步行道、小路" in legend
    assert opened.console_errors == [] and opened.page_errors == []


def test_popups_show_data_text_as_text(open_map: Any, maps: dict[str, Path]) -> None:
    opened = open_map(maps["zh"])
    page = opened.page
    popup = page.locator(".leaflet-popup-content")

    # A facility named like an attack: hover shows the tooltip, click the popup, as text.
    marker = page.evaluate_handle(
        """() => PlannerMap.groups['facilities:community_service'].getLayers()
                   .find(l => l._pmi === 0)._icon"""
    )
    marker.as_element().hover()
    # (the permanent name labels of communities and sub-districts are tooltips too)
    hover = page.locator(".leaflet-tooltip:not(.pm-comm-label-tip):not(.pm-sd-label-tip)")
    assert hover.inner_text() == XSS
    marker.as_element().click()
    one_popup(opened)
    assert popup.locator(".pm-pop-title").inner_text() == XSS
    rows = popup.locator("tr")
    texts = [rows.nth(i).inner_text().split("\t") for i in range(rows.count())]
    assert texts[:5] == [
        ["类别", "社区服务"],
        ["建筑面积", "60 m²"],
        ["服务范围内户数", "200"],
        ["每百户面积", "30.0 m²/百户"],
        ["面积达标", "✓ 达标"],
    ]

    # A residence (canvas marker) whose name holds markup, and that is a gap.
    click_residence(opened, "r3")
    assert popup.locator(".pm-pop-title").inner_text() == TAGGED
    body = popup.inner_text()
    assert "均不可达（缺口）" in body
    assert "✗ 1,250 米 · 18.8 分钟 (超出 250 米)" in body
    assert "0.0 m²/百户" in body

    # A community polygon named like an attack.
    x, y = page.evaluate(
        """([lat, lon]) => {
          const map = PlannerMap.maps[0];
          const p = map.latLngToContainerPoint([lat, lon]);
          const r = map.getContainer().getBoundingClientRect();
          return [r.left + p.x, r.top + p.y];
        }""",
        [39.900 - 0.0015, 116.400 + 0.0052],
    )
    page.mouse.click(x, y)
    one_popup(opened)
    assert popup.locator(".pm-pop-title").inner_text() == XSS

    time.sleep(0.3)  # an injected <img src=x onerror=...> would have failed to load by now
    assert page.locator(".folium-map img").count() == 0
    assert opened.dialogs == []
    assert opened.console_errors == [] and opened.page_errors == []


def test_legend_summary_and_credit_are_visible(open_map: Any, maps: dict[str, Path]) -> None:
    opened = open_map(maps["zh"])
    check_panels(opened)
    legend = opened.page.inner_text(".pm-legend")
    assert "所需设施均可达" in legend and "拟建设施" in legend
    summary = opened.page.inner_text(".pm-summary")
    for needle in ("未达标", "40.0 %", "16.0 m²/百户", "92 m²", "4.0 公里/小时"):
        assert needle in summary, needle
    click_residence(opened, "r3")
    screenshot(opened, "map-synthetic.png")


# ---------------------------------------------------------------------------------------------
# The bundled Haidian demo, reviewed for real
# ---------------------------------------------------------------------------------------------


def test_demo_map_works_offline(open_map: Any, demo: Path) -> None:
    opened = open_map(demo / "map.html")
    assert opened.page_errors == []
    # The demo uses the OSM basemap: its tiles are all that was asked for, and refused.
    assert all(u.startswith("https://tile.openstreetmap.org/") for u in opened.blocked)
    assert all("Failed to load resource" in e for e in opened.console_errors)
    listed = overlays(opened)
    assert listed[:3] == [
        ("居住点：覆盖状况", True),
        ("居住点：每百户设施面积", False),
        ("设施：社区服务", True),
    ]
    assert ("社区：每百户设施面积", True) not in listed  # the demo has no community polygons
    assert any(name.startswith("步行圈：") for name, _ in listed)
    assert listed[-1] == ("步行网络", True)  # the real OSM network, shown by default
    assert network_ink(opened) > 20_000  # its streets fill a good part of the view
    check_every_layer_toggles(opened)
    assert opened.page_errors == []


def test_demo_map_reads_at_a_glance(open_map: Any, demo: Path) -> None:
    summary = json.loads((demo / "summary.json").read_text(encoding="utf-8"))
    gaps = pd.read_csv(demo / "gaps.csv", dtype={"id": str})
    opened = open_map(demo / "map.html")
    check_panels(opened)
    text = opened.page.inner_text(".pm-summary")
    rate = summary["coverage"][0]["rate"]
    assert f"{100 * rate:.1f} %" in text
    assert ("未达标" if not summary["passes"] else "达标") in text
    assert f"{summary['floor_area']['shortfall_m2']:,.0f} m²" in text
    screenshot(opened, "map.png")
    # The largest gap opens with its walk and the distance it is over the limit.
    first = gaps.iloc[0]
    click_residence(opened, str(first["id"]))
    body = opened.page.inner_text(".leaflet-popup-content")
    assert f"{first['short_by_m']:,.0f} 米" in body
    assert opened.page_errors == []
    screenshot(opened, "map-popup.png")


# ---------------------------------------------------------------------------------------------
# Walking bands drawn from the reached pieces against the exact polygons
# ---------------------------------------------------------------------------------------------

BAND_ALPHA_JS = """([key, points]) => {
  const map = PlannerMap.maps[0], layer = PlannerMap.groups[key].getLayers()[0];
  const ctx = layer._canvas.getContext('2d'), ratio = layer._ratio;
  return points.map(([lat, lon]) => {
    const c = layer._canvasPoint(map.latLngToContainerPoint([lat, lon]));
    return ctx.getImageData(Math.floor(c[0] * ratio), Math.floor(c[1] * ratio), 1, 1).data[3];
  });
}"""


@pytest.fixture(scope="module")
def bands_review(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    """The demo district reviewed with bands: its map and the bands' exact polygons."""
    import planner

    network = planner.load_network(REPO / "data" / "cn_beijing_haidian_cau_map.osm.bz2")
    facilities = planner.read_facilities(REPO / "data" / "haidian" / "facilities.gpkg")
    residences = planner.read_residences(REPO / "data" / "haidian" / "residences.gpkg")
    result = planner.check(network, facilities, residences, isochrones=True)
    assert result.bands is not None and result.isochrones is None  # polygons only when asked
    polygons = result.bands.polygons(workers=1)
    path = save_map(
        build_map(result, lang="en", basemap="none"), tmp_path_factory.mktemp("b") / "b.html"
    )
    return path, polygons.to_crs(network.crs).assign(crs=str(network.crs))


def test_drawn_bands_match_the_exact_polygons(
    open_map: Any, bands_review: tuple[Path, Any]
) -> None:
    """Pixels well inside a band's polygon are shaded as that band, pixels well outside are not.

    The page strokes the reached pieces 2 x buffer_m wide; the polygons are those pieces
    buffered and unioned by planner.isochrones. Samples closer than 3 px to an outline (the
    1.2 px outline, anti-aliasing, the polygons' 0.5 m chords) are left out.
    """
    import geopandas as gpd
    import numpy as np
    import shapely

    path, polygons = bands_review
    crs = polygons["crs"].iloc[0]
    key = "isochrones:community_service"
    bands = polygons[polygons["category"] == "community_service"].sort_values("band_min")
    shapes = bands.geometry.to_numpy()
    n = len(shapes)
    alpha = [0.10 + 0.06 * (n - 1 - k) for k in range(n)]  # the page's fill per band
    opened = open_map(path)
    centre = shapely.centroid(shapes[0])
    lon, lat = gpd.GeoSeries([centre], crs=crs).to_crs(4326).iloc[0].coords[0]
    rng = np.random.default_rng(19)
    for zoom in (15, 17, 18):
        opened.page.evaluate(
            f"PlannerMap.maps[0].setView([{lat}, {lon}], {zoom}, {{animate: false}})"
        )
        opened.settle()
        view = opened.page.evaluate(
            "(() => { const b = PlannerMap.maps[0].getBounds(), m = PlannerMap.maps[0];"
            " return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth(),"
            " m.distance(m.containerPointToLatLng([0, 0]),"
            " m.containerPointToLatLng([100, 0])) / 100]; })()"
        )
        west, south, east, north, m_per_px = view
        pts = gpd.GeoSeries(
            shapely.points(rng.uniform(west, east, 3000), rng.uniform(south, north, 3000)), crs=4326
        )
        local = pts.to_crs(crs).to_numpy()
        margin = 3.0 * m_per_px
        inside = np.column_stack([shapely.contains(s, local) for s in shapes])
        near = np.column_stack(
            [shapely.distance(shapely.boundary(s), local) < margin for s in shapes]
        )
        clear = ~near.any(axis=1)
        lonlat = [[p.y, p.x] for p in pts[clear]]
        drawn = np.array(opened.page.evaluate(BAND_ALPHA_JS, [key, lonlat])) / 255.0
        expected = np.array(
            [
                1.0 - np.prod([1.0 - a for a, i in zip(alpha, row, strict=True) if i])
                for row in inside[clear]
            ]
        )
        assert (expected == 0).sum() > 50 and (expected > 0).sum() > 50, zoom
        only_largest = np.isclose(expected, alpha[-1])  # in the largest band, not the others
        assert only_largest.sum() > 20 and (expected > alpha[-1] + 0.01).sum() > 20, zoom
        wrong = np.abs(drawn - expected) > 2.5 / 255
        assert not wrong.any(), (zoom, int(wrong.sum()), drawn[wrong][:5], expected[wrong][:5])
    assert opened.page_errors == []
