"""The map page: `PlannerMap`, its basemap, colours and panels' placement, and the saved file.

`build_base_map` makes an empty `PlannerMap` (Leaflet inlined, see `planner.maps.assets`);
the layer functions (`planner.maps.layers`, `planner.maps.network_layer`) and the summary
panel (`planner.maps.panels`) add to it; `finish_map` adds the legend and the layer control
and fits the view; `save_map` writes one self-contained HTML file.
"""

from __future__ import annotations

import logging
import math
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Final

import folium
import numpy as np
import shapely
from branca.element import Element, Figure
from jinja2 import Template

from planner._files import write_text_atomic
from planner._geo import wgs84_to_gcj02
from planner.errors import InputError
from planner.maps.assets import _head_markup
from planner.maps.encode import _COORD_DIGITS, _SIMPLIFY_DEG, _esc, _js, _simplify_rings
from planner.maps.texts import _TEXT, _check_lang, category_label
from planner.schema import DEFAULT_SPEED_KMH, STATUSES

log = logging.getLogger(__name__)


BASEMAPS: Final = ("osm", "amap", "tianditu", "none")
"""Basemaps: OpenStreetMap, Amap/Gaode (GCJ-02), Tianditu (needs a key), plain background."""

OSM_ATTRIBUTION: Final = (
    '<a href="https://www.openstreetmap.org/copyright">© OpenStreetMap contributors</a>'
)
"""The credit the OSM data needs (ODbL); always shown on the map."""

STATUS_COLOURS: Final = {
    "covered": "#1a9850",
    "partly": "#f39c12",
    "uncovered": "#d7191c",
    "off_network": "#8c8c8c",
}
"""The colour of each residence status (`planner.schema.STATUSES`)."""

#: Classes of m² per 100 households, as fractions of the requirement: below half, below the
#: requirement, up to 1.5 times, above. Red means short, blue means enough.
RATIO_BREAKS: Final = (0.5, 1.0, 1.5)
RATIO_COLOURS: Final = ("#b2182b", "#f4a582", "#92c5de", "#2166ac")
NO_DATA_COLOUR: Final = "#bdbdbd"

VERDICT_COLOURS: Final = {
    "compliant": "#1a9850",
    "fails_coverage": "#f46d43",
    "fails_floor_area": "#fdd835",
    "fails_both": "#a50026",
    "no_households": NO_DATA_COLOUR,
}
"""The colour of each community verdict (`planner.communities.VERDICTS`): map and report."""

_PALETTE: Final = (
    "#1f78b4",  # blue
    "#6a3d9a",  # purple
    "#b15928",  # brown
    "#d01c8b",  # magenta
    "#01857a",  # teal
    "#253494",  # navy
    "#8c6d31",  # ochre
    "#e08214",  # orange
    "#4d4d4d",  # charcoal
    "#7fbc41",  # leaf
    "#c51b7d",  # berry
    "#35978f",  # sea
)

_DEFAULT_REQUIRED_M2: Final = 30.0
_TIANDITU_KEY = re.compile(r"[0-9A-Za-z]{8,64}")


def category_colours(categories: Iterable[str]) -> dict[str, str]:
    """The colour of each category: one palette for facilities, bands and legend.

    Colours are given in the order the categories first appear, so the same list gives the
    same colours. Beyond 12 categories the palette repeats.

    Parameters
    ----------
    categories
        Category codes, in the order they should take colours.

    Returns
    -------
    dict
        Category -> ``"#rrggbb"``.
    """
    out: dict[str, str] = {}
    for cat in categories:
        key = str(cat)
        if key not in out:
            out[key] = _PALETTE[len(out) % len(_PALETTE)]
    return out


# --------------------------------------------------------------------------------------------
# The map object
# --------------------------------------------------------------------------------------------


class _Raw(Element):
    """Text placed in the page as it is: a value of the template, never compiled as one.

    Folium wraps what its elements render in new Jinja templates; data text holding ``{{`` or
    ``{%`` would then be evaluated. Our scripts and assets bypass that.
    """

    _template = Template("{{ this.content }}")

    def __init__(self, content: str) -> None:
        super().__init__()
        self._name = "PlannerRaw"
        self.content = content


def _figure(element: Element) -> Figure:
    root = element.get_root()
    if not isinstance(root, Figure):
        raise TypeError(f"{type(element).__name__} is not inside a folium Figure")
    return root


class _Script(Element):
    """A piece of our own JavaScript, placed in the map's script after its parent's."""

    def __init__(self, code: str) -> None:
        super().__init__()
        self._name = "PlannerScript"
        self.code = code

    def render(self, **kwargs: Any) -> str:
        _figure(self).script.add_child(_Raw(self.code), name=self.get_name())
        return ""


class PlannerMap(folium.Map):
    """A `folium.Map` that loads nothing from the internet but basemap tiles.

    Leaflet is inlined from the ``django-js-lib-leaflet`` package; Folium's default CDN links
    (jQuery, Bootstrap, Font Awesome, awesome-markers) are not used. Build one with
    `build_base_map`; it remembers the language, the basemap and the categories' colours so that
    the ``add_*`` functions agree with each other.
    """

    default_js: list[tuple[str, str]] = []
    default_css: list[tuple[str, str]] = []

    def __init__(self, *, lang: str, basemap: str, title: str) -> None:
        super().__init__(
            location=None,
            tiles=None,
            prefer_canvas=True,
            control_scale=False,
            zoom_start=2,
            zoom_snap=0.25,  # fit the data closely; tiles are scaled between zoom levels
        )
        self.lang = lang
        self.text = _TEXT[lang]
        self.basemap = basemap
        self.gcj02 = basemap == "amap"
        self.title = title
        self.colours: dict[str, str] = {}
        self.labels: dict[str, str] = {}
        self.bounds: list[tuple[float, float, float, float]] = []
        self.legend: dict[str, str] = {}
        self.summary_markup: str | None = None
        self.init_script_name = ""
        self.data_blocks = 0
        self.finished = False
        root = _figure(self)
        root.title = _esc(title)
        root.header.add_child(
            _Raw(_head_markup()),
            name="planner_assets",
        )

    # -- categories -------------------------------------------------------------------------
    def register_categories(
        self, categories: Iterable[str], labels: Mapping[str, str] | None = None
    ) -> None:
        """Give categories their colours (first come, first served) and display labels."""
        for cat in categories:
            key = str(cat)
            if key not in self.colours:
                self.colours[key] = _PALETTE[len(self.colours) % len(_PALETTE)]
            if labels is not None and key in labels and key not in self.labels:
                self.labels[key] = str(labels[key])
            elif key not in self.labels:
                self.labels[key] = category_label(key, lang=self.lang)

    def colour(self, category: str) -> str:
        self.register_categories([category])
        return self.colours[str(category)]

    def label(self, category: str) -> str:
        self.register_categories([category])
        return self.labels[str(category)]

    # -- coordinates ------------------------------------------------------------------------
    def display_geometries(self, geoms: Any, *, simplify: bool = False) -> np.ndarray:
        """Geometries as drawn: GCJ-02 shifted for Amap, optionally simplified, rounded."""
        arr = np.asarray(geoms, dtype=object)
        if self.gcj02:

            def shift(coords: np.ndarray) -> np.ndarray:
                lon, lat = wgs84_to_gcj02(coords[:, 0], coords[:, 1])
                return np.column_stack([lon, lat])

            arr = shapely.transform(arr, shift)
        if simplify:
            arr = _simplify_rings(arr, _SIMPLIFY_DEG)
        rounded: np.ndarray = shapely.transform(arr, lambda c: np.round(c, _COORD_DIGITS))
        return rounded

    def display_points(self, geoms: Any, *, fit: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """Longitude and latitude of points as drawn (shifted for Amap, rounded).

        With ``fit``, the view that opens will contain them.
        """
        arr = np.asarray(geoms, dtype=object)
        types = shapely.get_type_id(arr)
        if not np.all(types == 0):
            arr = np.where(types == 0, arr, shapely.point_on_surface(arr))
        lon = shapely.get_x(arr)
        lat = shapely.get_y(arr)
        if self.gcj02:
            lon, lat = wgs84_to_gcj02(lon, lat)
        lon = np.round(lon, _COORD_DIGITS)
        lat = np.round(lat, _COORD_DIGITS)
        if fit and lon.size:
            self.bounds.append(
                (float(np.min(lon)), float(np.min(lat)), float(np.max(lon)), float(np.max(lat)))
            )
        return lon, lat

    def add_data(self, json_text: str) -> str:
        """Put JSON (already escaped by `_js`) in a data block of the page; return its id."""
        self.data_blocks += 1
        ident = f"{self.get_name()}-data-{self.data_blocks}"
        block = f'<script type="application/json" id="{ident}">{json_text}</script>'
        _figure(self).html.add_child(_Raw(block), name=ident)
        return ident

    def add_script(self, parent: Any, code: str) -> None:
        parent.add_child(_Script(code))


# --------------------------------------------------------------------------------------------
# Base map
# --------------------------------------------------------------------------------------------


def build_base_map(
    *,
    lang: str = "zh",
    basemap: str = "osm",
    tianditu_key: str | None = None,
    title: str | None = None,
) -> PlannerMap:
    """A new, empty map with its basemap, the OSM credit, a scale bar and the inlined Leaflet.

    Parameters
    ----------
    lang
        ``"zh"`` (default) or ``"en"``: the language of every label.
    basemap
        ``"osm"`` (default), ``"amap"`` (Gaode; data are shifted to GCJ-02 to line up),
        ``"tianditu"`` (needs ``tianditu_key``) or ``"none"`` (plain background).
    tianditu_key
        Tianditu API key (``tk``), required for ``basemap="tianditu"``.
    title
        Page title; defaults to the review's name in ``lang``.

    Returns
    -------
    PlannerMap

    Raises
    ------
    InputError
        Unknown ``lang`` or ``basemap``, or ``basemap="tianditu"`` without a valid key.
    """
    text = _check_lang(lang)
    if basemap not in BASEMAPS:
        raise InputError(f"basemap={basemap!r} is not supported; use one of {', '.join(BASEMAPS)}")
    if basemap == "tianditu":
        if not tianditu_key:
            raise InputError(
                "basemap='tianditu' needs a Tianditu key: pass tianditu_key=... "
                "(--tianditu-key; get one at console.tianditu.gov.cn), or use basemap='osm', "
                "'amap' or 'none'"
            )
        if not _TIANDITU_KEY.fullmatch(tianditu_key):
            raise InputError(
                "tianditu_key must be the key's letters and digits only (8-64 characters); "
                "check that it was copied whole"
            )
    m = PlannerMap(lang=lang, basemap=basemap, title=title or text["title"])
    if basemap == "osm":
        folium.TileLayer(
            "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
            attr=OSM_ATTRIBUTION,
            name="OpenStreetMap",
            max_zoom=19,
            control=False,
        ).add_to(m)
    elif basemap == "amap":
        folium.TileLayer(
            "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8"
            "&x={x}&y={y}&z={z}",
            attr="© 高德地图 AutoNavi (GCJ-02)",
            name="Amap",
            subdomains="1234",
            max_zoom=18,
            control=False,
        ).add_to(m)
    elif basemap == "tianditu":
        assert tianditu_key is not None
        for layer, overlay in (("vec", False), ("cva" if lang == "zh" else "eva", True)):
            folium.TileLayer(
                f"https://t{{s}}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile"
                f"&VERSION=1.0.0&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
                f"&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={tianditu_key}",
                attr="© 天地图 Tianditu",
                name=f"Tianditu {layer}",
                subdomains="01234567",
                max_zoom=18,
                overlay=overlay,
                control=False,
            ).add_to(m)
    cfg = {
        "lang": lang,
        "locale": text["locale"],
        "t": text,
        "osm": OSM_ATTRIBUTION,
        "plain": basemap == "none",
        "statuses": list(STATUSES),
        "statusColours": [STATUS_COLOURS[s] for s in STATUSES],
        "ratioBreaks": list(RATIO_BREAKS),
        "ratioColours": list(RATIO_COLOURS),
        "noData": NO_DATA_COLOUR,
        "required": _DEFAULT_REQUIRED_M2,
        "mPerMin": DEFAULT_SPEED_KMH * 1000.0 / 60.0,
    }
    init = _Script(f"PlannerMap.init({m.get_name()}, {_js(cfg)});")
    m.add_child(init)
    m.init_script_name = init.get_name()
    return m


def _set_cfg(m: PlannerMap, **values: Any) -> None:
    assigns = "".join(f"{m.get_name()}._pm.cfg.{k} = {_js(v)};" for k, v in values.items())
    m.add_script(m, assigns)


def _new_group(m: PlannerMap, name: str, *, key: str, show: bool) -> Any:
    group = folium.FeatureGroup(name=_esc(name), show=show, overlay=True, control=True)
    group.add_to(m)
    m.add_script(
        group,
        f"PlannerMap.group({m.get_name()}, {group.get_name()}, {_js(key)});"
        + (f"{group.get_name()}._pmShow = true;" if show else ""),
    )
    return group


# --------------------------------------------------------------------------------------------
# Finishing and saving
# --------------------------------------------------------------------------------------------


def _legend_markup(m: PlannerMap) -> str | None:
    if not m.legend:
        return None
    order = ("verdict", "status", "ratio", "facilities", "bands", "network")
    body = "".join(m.legend[k] for k in order if k in m.legend)
    body += "".join(v for k, v in m.legend.items() if k not in order)
    return (
        f'<details open><summary><h4 class="pm-legend-title">{_esc(m.text["legend"])}</h4>'
        f"</summary>{body}</details>"
    )


def finish_map(m: PlannerMap) -> PlannerMap:
    """Add the legend, the layer control, fit the view to the data, and mark the map ready.

    Call once, after the ``add_*`` functions. Returns ``m`` (finishing twice does nothing).
    """
    if m.finished:
        return m
    name = m.get_name()
    early = []  # runs right after PlannerMap.init, before any layer is drawn
    if m.summary_markup is not None:
        early.append(f"PlannerMap.panel({name}, 'topleft', 'pm-summary', {_js(m.summary_markup)});")
    legend = _legend_markup(m)
    if legend is not None:
        early.append(f"PlannerMap.panel({name}, 'topright', 'pm-legend', {_js(legend)});")
    if m.bounds:
        b = np.array(m.bounds, dtype=float)
        west, south = float(np.nanmin(b[:, 0])), float(np.nanmin(b[:, 1]))
        east, north = float(np.nanmax(b[:, 2])), float(np.nanmax(b[:, 3]))
        if all(math.isfinite(v) for v in (west, south, east, north)):
            early.append(f"PlannerMap.fit({name}, {_js([[south, west], [north, east]])});")
    if early:
        after_init = list(m._children).index(m.init_script_name) + 1
        m.add_child(_Script("".join(early)), index=after_init)
    folium.LayerControl(position="topright", collapsed=False).add_to(m)
    m.add_script(m, f"PlannerMap.ready({m.get_name()});")
    m.finished = True
    return m


def save_map(m: folium.Map, path: str | os.PathLike[str]) -> Path:
    """Write the map as one HTML file, atomically (`planner._files.write_text_atomic`).

    Parameters
    ----------
    m
        The map (from `build_map`, `isochrones_map` or `build_base_map` + `finish_map`).
    path
        Where to write; the folder is created if needed. An existing file is replaced whole,
        never left half-written.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    target = Path(path)
    if isinstance(m, PlannerMap) and not m.finished:
        finish_map(m)
    page = m.get_root().render()
    target.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(target, page)
    log.info("wrote map %s (%.1f MB)", target.name, target.stat().st_size / 1e6)
    return target
