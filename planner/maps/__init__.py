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
  dropped. Icons, legend and panels are plain HTML/CSS written here.
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
  with `html.escape` where this module writes HTML (legend, summary panel, layer names).
- **Basemaps.** ``"osm"`` (default), ``"amap"`` (Gaode tiles in GCJ-02: every drawn coordinate is
  shifted with `planner.layers.wgs84_to_gcj02` so that WGS84 data lines up with the streets),
  ``"tianditu"`` (CGCS2000, which matches WGS84 at map scale; needs a key), ``"none"``.
  "© OpenStreetMap contributors" is always shown: the network and usually the facilities are
  OSM data.
"""

from __future__ import annotations

import base64
import html
import importlib.resources
import json
import logging
import math
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from branca.element import Element, Figure
from jinja2 import Template

from planner._files import write_text_atomic
from planner._geo import metric_crs, wgs84_to_gcj02
from planner.errors import InputError
from planner.schema import DEFAULT_SPEED_KMH, STATUSES, column

log = logging.getLogger(__name__)

__all__ = [
    "BASEMAPS",
    "LANGS",
    "NETWORK_LARGE_EDGES",
    "OSM_ATTRIBUTION",
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

LANGS: Final = ("zh", "en")
"""Languages of the map's labels."""

BASEMAPS: Final = ("osm", "amap", "tianditu", "none")
"""Basemaps: OpenStreetMap, Amap/Gaode (GCJ-02), Tianditu (needs a key), plain background."""

OSM_ATTRIBUTION: Final = (
    '<a href="https://www.openstreetmap.org/copyright">© OpenStreetMap contributors</a>'
)
"""The credit the OSM data needs (ODbL); always shown on the map."""

"""Residence statuses, in the order of their one-character codes in the page data."""

STATUS_COLOURS: Final = {
    "covered": "#1a9850",
    "partly": "#f39c12",
    "uncovered": "#d7191c",
    "off_network": "#8c8c8c",
}

#: Classes of m² per 100 households, as fractions of the requirement: below half, below the
#: requirement, up to 1.5 times, above. Red means short, blue means enough.
RATIO_BREAKS: Final = (0.5, 1.0, 1.5)
RATIO_COLOURS: Final = ("#b2182b", "#f4a582", "#92c5de", "#2166ac")
NO_DATA_COLOUR: Final = "#bdbdbd"

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

_COORD_DIGITS: Final = 6  # about 0.1 m
_SIMPLIFY_DEG: Final = 1e-5  # about 1 m; isochrone outlines are buffered by ~25 m
_DEFAULT_REQUIRED_M2: Final = 30.0
_TIANDITU_KEY = re.compile(r"[0-9A-Za-z]{8,64}")

# --------------------------------------------------------------------------------------------
# Words
# --------------------------------------------------------------------------------------------

_TEXT: Final[dict[str, dict[str, str]]] = {
    "zh": {
        "title": "15分钟社区生活圈评估",
        "locale": "zh-CN",
        "pass": "达标",
        "fail": "未达标",
        "measured": "仅测量",
        "not_checked": "不检查",
        "covered": "所需设施均可达",
        "partly": "部分可达",
        "uncovered": "均不可达（缺口）",
        "off_network": "不在步行网络上",
        "id": "编号",
        "name": "名称",
        "households": "户数",
        "estimate": "估算",
        "status": "覆盖状况",
        "unreachable": "无法到达",
        "m": "米",
        "min": "分钟",
        "km_h": "公里/小时",
        "short_by": "超出",
        "category": "类别",
        "floor_area": "建筑面积",
        "m2": "m²",
        "hh_in_catchment": "服务范围内户数",
        "m2_per_100hh": "每百户面积",
        "m2_per_100hh_unit": "m²/百户",
        "floor_area_check": "面积达标",
        "proposed": "拟建设施",
        "facility_off_network": "不在步行网络上（未参与计算）",
        "supply": "设施面积",
        "coverage_rate": "覆盖率",
        "layer_status": "居住点：覆盖状况",
        "layer_ratio": "居住点：每百户设施面积",
        "layer_facilities": "设施：{label}",
        "layer_isochrones": "步行圈：{label}",
        "layer_bands": "步行圈",
        "layer_communities": "社区：每百户设施面积",
        "layer_network": "步行网络",
        "facilities": "设施",
        "legend": "图例",
        "legend_status": "居住点（按覆盖状况）",
        "legend_gaps": "缺口画得更大并带深色描边；可达＝步行距离不超过该设施的限值",
        "legend_ratio": "每百户设施面积（m²/百户，要求 {req}）",
        "legend_no_data": "无分配",
        "legend_facilities": "设施（按类别）",
        "legend_proposed": "虚线边框：拟建设施",
        "legend_fac_fail": "红色外圈：面积未达标",
        "legend_bands": "步行圈（步行时间）",
        "legend_network": "步行网络（OSM）",
        "network_major": "主要道路",
        "network_street": "街巷",
        "network_path": "步行道、小路",
        "network_large": (
            "路网很大（{edges} 条路段）：线形按 {m} 米简化；地图缩小时先隐去小路，再隐去街巷"
        ),
        "band": "≤ {min} 分钟（{m} 米）",
        "summary": "评估摘要",
        "verdict": "结论",
        "coverage": "步行可达覆盖（达标要求）",
        "measured_title": "其他设施的覆盖（仅测量）",
        "floor_area_title": "每百户设施面积",
        "fa_supply": "设施面积合计",
        "fa_ratio": "每百户面积",
        "fa_required": "要求面积",
        "fa_shortfall": "缺口面积",
        "fa_allocation": "分配方式",
        "households_title": "住户",
        "hh_total": "户数合计",
        "hh_residences": "居住点",
        "hh_off_network": "不在网络上的居住点",
        "hh_method": "户数来源",
        "parameters": "参数",
        "p_speed": "步行速度",
        "p_snap": "吸附距离上限",
        "p_buffer": "步行圈缓冲宽度",
        "gaps": "最大缺口（按户数）",
        "gap_line": "{who}：{rule}，{hh} 户，{short}",
        "gap_unreachable": "无法到达",
        "gap_over": "超出 {m} 米",
        "more": "另有 {n} 项",
        "data_credit": "数据",
        "required_tag": "",
        "tier": "{tier}",
        "alloc_catchment": "两步移动搜索（服务范围内共享）",
        "alloc_nearest": "最近设施",
        "alloc_community": "按社区",
        "method_column": "输入数据",
        "method_estimate": "估算",
        "method_buildings": "按建筑",
        "method_population": "按人口格网",
        "method_community_point": "按社区",
        "yes": "是",
        "no": "否",
    },
    "en": {
        "title": "15-minute community life circle review",
        "locale": "en-GB",
        "pass": "pass",
        "fail": "fail",
        "measured": "measured only",
        "not_checked": "not checked",
        "covered": "reaches every required facility",
        "partly": "reaches some",
        "uncovered": "reaches none (gap)",
        "off_network": "off the walking network",
        "id": "id",
        "name": "name",
        "households": "households",
        "estimate": "estimate",
        "status": "coverage",
        "unreachable": "unreachable",
        "m": "m",
        "min": "min",
        "km_h": "km/h",
        "short_by": "over by",
        "category": "category",
        "floor_area": "floor area",
        "m2": "m²",
        "hh_in_catchment": "households in catchment",
        "m2_per_100hh": "per 100 households",
        "m2_per_100hh_unit": "m²/100 hh",
        "floor_area_check": "floor area",
        "proposed": "proposed facility",
        "facility_off_network": "off the walking network (not used)",
        "supply": "facility floor area",
        "coverage_rate": "coverage",
        "layer_status": "Residences: coverage status",
        "layer_ratio": "Residences: m² per 100 households",
        "layer_facilities": "Facilities: {label}",
        "layer_isochrones": "Walk bands: {label}",
        "layer_bands": "Walk bands",
        "layer_communities": "Communities: m² per 100 households",
        "layer_network": "Walking network",
        "facilities": "Facilities",
        "legend": "Legend",
        "legend_status": "Residences by coverage",
        "legend_gaps": "gaps are drawn larger, with a dark outline; reach = within the limit",
        "legend_ratio": "m² per 100 households (required {req})",
        "legend_no_data": "not allocated",
        "legend_facilities": "Facilities by category",
        "legend_proposed": "dashed outline: proposed facility",
        "legend_fac_fail": "red ring: floor area below requirement",
        "legend_bands": "Walk bands (walking time)",
        "legend_network": "Walking network (OSM)",
        "network_major": "main roads",
        "network_street": "streets",
        "network_path": "footways and paths",
        "network_large": (
            "a large network ({edges} edges): lines simplified to {m} m; zoomed out, paths "
            "and then streets are hidden"
        ),
        "band": "≤ {min} min ({m} m)",
        "summary": "Review summary",
        "verdict": "verdict",
        "coverage": "Walking coverage (required)",
        "measured_title": "Other facilities (measured only)",
        "floor_area_title": "Floor area per 100 households",
        "fa_supply": "floor area, total",
        "fa_ratio": "per 100 households",
        "fa_required": "floor area required",
        "fa_shortfall": "shortfall",
        "fa_allocation": "allocation",
        "households_title": "Households",
        "hh_total": "households, total",
        "hh_residences": "residences",
        "hh_off_network": "residences off the network",
        "hh_method": "households from",
        "parameters": "Parameters",
        "p_speed": "walking speed",
        "p_snap": "snap cap",
        "p_buffer": "band buffer width",
        "gaps": "Largest gaps (by households)",
        "gap_line": "{who}: {rule}, {hh} households, {short}",
        "gap_unreachable": "unreachable",
        "gap_over": "{m} m over",
        "more": "{n} more",
        "data_credit": "data",
        "required_tag": "",
        "tier": "{tier}",
        "alloc_catchment": "two-step catchment (shared within reach)",
        "alloc_nearest": "nearest facility",
        "alloc_community": "by community",
        "method_column": "input data",
        "method_estimate": "estimate",
        "method_buildings": "from buildings",
        "method_population": "from a population grid",
        "method_community_point": "per community",
        "yes": "yes",
        "no": "no",
    },
}

# --------------------------------------------------------------------------------------------
# Assets: Leaflet from the django-js-lib-leaflet package, our CSS and runtime
# --------------------------------------------------------------------------------------------

_LEAFLET_PACKAGE: Final = "js_lib_leaflet"
_LEAFLET_PIP_NAME: Final = "django-js-lib-leaflet"

_CSS: Final = r"""
.leaflet-container.pm-map{background:#f2f1ec;font:13px/1.35 system-ui,-apple-system,"Segoe UI",
 "PingFang SC","Microsoft YaHei","Noto Sans CJK SC","WenQuanYi Micro Hei",Roboto,Arial,sans-serif}
.pm-map.pm-plain{background:#f7f7f4}
.pm-panel{background:rgba(255,255,255,.96);border-radius:6px;box-shadow:0 1px 6px rgba(0,0,0,.3);
 padding:8px 10px;color:#222;overflow:auto}
.pm-summary{max-height:calc(100vh - 110px)}
.pm-legend{max-height:calc(58vh - 90px)}
.pm-summary{width:340px;max-width:calc(100vw - 80px)}
.pm-summary summary{cursor:pointer;list-style:none}
.pm-summary summary::-webkit-details-marker{display:none}
.pm-head{display:flex;align-items:center;gap:8px}
.pm-title{font-weight:600;font-size:14px;flex:1}
.pm-badge{display:inline-block;padding:2px 8px;border-radius:10px;color:#fff;font-weight:700;
 font-size:12px;white-space:nowrap}
.pm-badge.pm-pass{background:#1a9850}.pm-badge.pm-fail{background:#d7191c}
.pm-badge.pm-none{background:#8c8c8c}
.pm-sub{color:#555;font-size:11.5px;margin:2px 0 4px}
.pm-panel h4{margin:9px 0 3px;font-size:12.5px;color:#333;border-bottom:1px solid #e3e3e3;
 padding-bottom:2px}
.pm-panel table{border-collapse:collapse;width:100%;font-size:12px}
.pm-panel td,.pm-panel th{padding:1px 3px;vertical-align:top;text-align:left}
.pm-panel th{color:#555;font-weight:500;white-space:nowrap}
.pm-rule{margin:3px 0 5px}
.pm-rule-head{display:flex;align-items:baseline;gap:2px}
.pm-rule-name{flex:1}
.pm-rule-body{padding-left:16px;font-size:11.5px;display:flex;align-items:center;gap:6px;
 flex-wrap:wrap}
.pm-rate{font-variant-numeric:tabular-nums;min-width:44px}
.pm-mrule{display:flex;align-items:center;gap:4px;font-size:11.5px;margin:1px 0}
.pm-mrule .pm-bar{width:56px;height:6px}
.pm-mrule .pm-rate{min-width:40px;text-align:right;font-weight:500}
.pm-more>summary{list-style:none;cursor:pointer}
.pm-more>summary::-webkit-details-marker{display:none}
.pm-more>summary h4::after{content:" \25BE";color:#888}
.pm-more:not([open])>summary h4::after{content:" \25B8"}
.pm-panel td.pm-val{text-align:right;font-variant-numeric:tabular-nums;width:100%}
.pm-ok{color:#1a7f37;font-weight:700}.pm-bad{color:#c81e1e;font-weight:700}
.pm-na{color:#777}
.pm-bar{display:inline-block;width:80px;height:8px;background:#f3c4c4;border-radius:3px;
 vertical-align:middle;overflow:hidden}
.pm-bar i{display:block;height:100%;background:#1a9850}
.pm-dot{display:inline-block;width:10px;height:10px;border-radius:50%;margin-right:5px;
 vertical-align:-1px;border:1px solid rgba(0,0,0,.25)}
.pm-sq{display:inline-block;width:14px;height:10px;margin-right:5px;vertical-align:-1px;
 border:1px solid rgba(0,0,0,.25)}
.pm-legend{max-width:250px;font-size:12px}
.pm-legend .pm-row{margin:2px 0;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.pm-legend .pm-note{color:#555;font-size:11px;white-space:normal}
.pm-legend h4:first-child,.pm-summary h4:first-child{margin-top:0}
.pm-legend>details>summary{list-style:none;cursor:pointer}
.pm-legend>details>summary::-webkit-details-marker{display:none}
.pm-legend h4.pm-legend-title{margin:0 0 2px;border:0}
.pm-credit{color:#666;font-size:11px;margin-top:6px}
.pm-gaps{margin:2px 0 0 18px;padding:0;font-size:11.5px}
.pm-fac{display:flex;align-items:center;justify-content:center;border-radius:50%;color:#fff;
 font-weight:700;font-size:11px;border:2px solid #fff;box-shadow:0 0 0 1px rgba(0,0,0,.45);
 box-sizing:border-box;line-height:1}
.pm-fac.pm-proposed{border-style:dashed;border-color:#111}
.pm-fac.pm-facfail{box-shadow:0 0 0 3px #d7191c}
.pm-fac.pm-off{opacity:.55}
.pm-legend .pm-fac{display:inline-flex;width:18px;height:18px;margin-right:5px;font-size:10px;
 vertical-align:middle}
.pm-pop{font-size:12.5px;min-width:190px}
.pm-pop-title{font-weight:700;font-size:13.5px;margin-bottom:3px;word-break:break-word}
.pm-pop table{border-collapse:collapse}
.pm-pop th{color:#555;font-weight:500;text-align:left;padding:1px 8px 1px 0;vertical-align:top}
.pm-pop td{padding:1px 0;word-break:break-word}
.pm-pop th.pm-sec{color:#333;font-weight:600;padding-top:5px;border-bottom:1px solid #e3e3e3}
.pm-warn{color:#b35806}
.pm-line{display:inline-block;width:18px;height:0;margin-right:5px;vertical-align:middle}
.leaflet-control-layers-expanded{font-size:12.5px;max-height:38vh;overflow:auto}
"""

# The runtime: plain ES5 so that older office browsers run it. Data arrive as JSON literals;
# every data text is written with textContent; the only innerHTML is the panels' HTML, which
# Python built from escaped text.
_RUNTIME_JS: Final = r"""
(function () {
"use strict";
var PM = window.PlannerMap = {maps: [], groups: {}, drawnMs: null, marks: []};
function mark(what) { if (window.performance) { PM.marks.push([what, performance.now()]); } }
function el(tag, cls, text) {
  var e = document.createElement(tag);
  if (cls) { e.className = cls; }
  if (text !== undefined && text !== null) { e.textContent = String(text); }
  return e;
}
function fmt(cfg, x, digits) {
  if (x === null || x === undefined || isNaN(x)) { return "\u2014"; }
  digits = digits || 0;
  return Number(x).toLocaleString(cfg.locale,
    {minimumFractionDigits: digits, maximumFractionDigits: digits});
}
function card(title, rows) {
  var d = el("div", "pm-pop");
  d.appendChild(el("div", "pm-pop-title", title));
  var t = el("table");
  for (var k = 0; k < rows.length; k++) {
    var tr = el("tr");
    if (rows[k].length === 1) {  // a section heading
      var th = el("th", "pm-sec", rows[k][0]);
      th.colSpan = 2;
      tr.appendChild(th);
    } else {
      tr.appendChild(el("th", null, rows[k][0]));
      tr.appendChild(el("td", rows[k][2] || null, rows[k][1]));
    }
    t.appendChild(tr);
  }
  d.appendChild(t);
  return d;
}
function verdict(cfg, flag) {
  if (flag === "1") { return ["\u2713 " + cfg.t.pass, "pm-ok"]; }
  if (flag === "0") { return ["\u2717 " + cfg.t.fail, "pm-bad"]; }
  return [cfg.t.not_checked, "pm-na"];
}
function ratioClass(cfg, r) {
  if (r === null || r === undefined || isNaN(r)) { return -1; }
  var b = cfg.ratioBreaks;
  for (var k = 0; k < b.length; k++) { if (r < b[k] * cfg.required) { return k; } }
  return b.length;
}
function ratioColour(cfg, r) {
  var c = ratioClass(cfg, r);
  return c < 0 ? cfg.noData : cfg.ratioColours[c];
}
PM.init = function (map, cfg) {
  mark("init");
  map._pm = {cfg: cfg, pickers: []};
  PM.maps.push(map);
  var box = map.getContainer();
  box.classList.add("pm-map");
  if (cfg.plain) { box.classList.add("pm-plain"); }
  map.attributionControl.addAttribution(cfg.osm);
  L.control.scale({imperial: false, maxWidth: 160, position: "bottomright"}).addTo(map);
  // One dispatcher for the canvas layers: the click goes to the topmost layer with something
  // under the pointer (residences before communities); else on to Leaflet as usual.
  box.addEventListener("click", function (e) { PM.pick(map, e); }, true);
  box.addEventListener("mousemove", function (e) { PM.hover(map, e); }, true);
};
function skipEvent(map, e) {
  if (map.dragging && map.dragging.moved()) { return true; }
  var t = e.target;
  return !!(t && t.closest &&
    t.closest(".leaflet-control, .leaflet-popup, .leaflet-marker-icon, .leaflet-tooltip"));
}
function pickAt(map, point) {
  var pickers = map._pm.pickers.slice().sort(function (a, b) {
    return b.options.prio - a.options.prio;
  });
  for (var k = 0; k < pickers.length; k++) {
    var hit = pickers[k].hit(point);
    if (hit >= 0) { return [pickers[k], hit]; }
  }
  return null;
}
PM.pick = function (map, e) {
  if (skipEvent(map, e)) { return; }
  var point = map.mouseEventToContainerPoint(e);
  var found = pickAt(map, point);
  if (!found) { return; }
  e.stopImmediatePropagation();
  e.preventDefault();
  found[0].pick(found[1], map.containerPointToLatLng(point));
};
PM.hover = function (map, e) {
  var pm = map._pm;
  if (pm.pending || skipEvent(map, e)) { return; }
  pm.pending = true;
  var point = map.mouseEventToContainerPoint(e);
  L.Util.requestAnimFrame(function () {
    pm.pending = false;
    var over = pickAt(map, point) !== null;
    if (over !== !!pm.hovering) {
      pm.hovering = over;
      map.getContainer().style.cursor = over ? "pointer" : "";
    }
  });
};
PM.group = function (map, group, key) {
  PM.groups[key] = group;
  group._pmKey = key;
};
PM.lazy = function (group, build) {
  var built = false;
  function run() { if (!built) { built = true; build(); } }
  group.on("add", run);
  group._pmBuild = run;
};
// Large data sit in <script type="application/json"> blocks: JSON.parse is fast, and a layer
// that starts hidden parses its data only when first shown.
var cache = {};
PM.data = function (id) {
  if (!(id in cache)) {
    cache[id] = JSON.parse(document.getElementById(id).textContent);
    mark("parsed " + id);
  }
  return cache[id];
};

// Residences: one canvas, all points of a style drawn as one path (100,000 points stay fast),
// hit-tested on click by distance in pixels. Styles are drawn in order, so gaps lie on top.
var TAU = 2 * Math.PI;
var MAX_LAT = 85.0511287798;
function mercX(lon) { return (lon + 180) / 360; }
function mercY(lat) {
  var s = Math.sin(Math.max(Math.min(lat, MAX_LAT), -MAX_LAT) * Math.PI / 180);
  return 0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI);
}
function mercator(d) {
  if (d._mx) { return; }
  var n = d.lat.length;
  d._mx = new Float64Array(n);
  d._my = new Float64Array(n);
  for (var i = 0; i < n; i++) { d._mx[i] = mercX(d.lon[i]); d._my[i] = mercY(d.lat[i]); }
}
// A layer drawn on its own canvas, redrawn after every move or zoom (and scaled during a zoom
// animation as Leaflet's renderers are). Canvases of a pane are kept in rank order.
var CanvasLayer = L.Layer.extend({
  options: {pane: "pmPoints", zIndex: 450, padding: 0.3, rank: 0, prio: 0},
  onAdd: function (map) {
    this._prepare();
    var pane = map.getPane(this.options.pane);
    if (!pane) {
      pane = map.createPane(this.options.pane);
      pane.style.zIndex = this.options.zIndex;
      pane.style.pointerEvents = "none";
    }
    this._canvas = L.DomUtil.create("canvas", "pm-canvas");
    this._canvas.setAttribute("data-rank", this.options.rank);
    if (map.options.zoomAnimation && L.Browser.any3d) {
      L.DomUtil.addClass(this._canvas, "leaflet-zoom-animated");
    }
    var before = null;
    for (var c = pane.firstChild; c; c = c.nextSibling) {
      if (Number(c.getAttribute("data-rank")) > this.options.rank) { before = c; break; }
    }
    pane.insertBefore(this._canvas, before);
    this._ctx = this._canvas.getContext("2d");
    if (this.pick) { map._pm.pickers.push(this); }
    this._reset();
  },
  onRemove: function (map) {
    L.DomUtil.remove(this._canvas);
    var pickers = map._pm.pickers, at = pickers.indexOf(this);
    if (at >= 0) { pickers.splice(at, 1); }
  },
  getEvents: function () {
    return {viewreset: this._reset, moveend: this._reset, resize: this._reset,
      zoomanim: this._onAnimZoom, zoom: this._onZoom};
  },
  _onAnimZoom: function (e) { this._transform(e.center, e.zoom); },
  _onZoom: function () { this._transform(this._map.getCenter(), this._map.getZoom()); },
  _transform: function (center, zoom) {
    var map = this._map;
    var scale = map.getZoomScale(zoom, this._zoom);
    var half = map.getSize().multiplyBy(0.5 + this.options.padding);
    var offset = half.multiplyBy(-scale).add(map.project(this._center, zoom))
      .subtract(map._getNewPixelOrigin(center, zoom));
    L.DomUtil.setTransform(this._canvas, offset, scale);
  },
  _reset: function () {
    var map = this._map, p = this.options.padding, size = map.getSize();
    var min = map.containerPointToLayerPoint(size.multiplyBy(-p)).round();
    var w = Math.round(size.x * (1 + 2 * p)), h = Math.round(size.y * (1 + 2 * p));
    var ratio = L.Browser.retina ? 2 : 1;
    this._min = min;
    this._w = w;
    this._h = h;
    this._center = map.getCenter();
    this._zoom = map.getZoom();
    L.DomUtil.setPosition(this._canvas, min);
    this._canvas.width = w * ratio;
    this._canvas.height = h * ratio;
    this._canvas.style.width = w + "px";
    this._canvas.style.height = h + "px";
    var origin = map.getPixelOrigin();
    // canvas pixel = mercator * scale - (ox, oy)
    this._scale = map.options.crs.scale(this._zoom);
    this._ox = origin.x + min.x;
    this._oy = origin.y + min.y;
    this._ratio = ratio;
    this._draw(this._ctx);
  },
  _canvasPoint: function (point) {  // a container point in canvas pixels
    var lp = this._map.containerPointToLayerPoint(point);
    return [lp.x - this._min.x, lp.y - this._min.y];
  }
});

// Residences: all points of a style are one path (100,000 points stay fast); styles are
// drawn in order, so gaps lie on top. A click is hit-tested by distance in pixels.
var PointLayer = CanvasLayer.extend({
  options: {pane: "pmPoints", zIndex: 450, prio: 10},
  initialize: function (d, styles, styleOf, order, onPick) {
    this._d = d;
    this._styles = styles;
    this._styleOf = styleOf;
    this._order = order;
    this._onPick = onPick;
    this._byStyle = null;
  },
  _prepare: function () {
    if (this._byStyle) { return; }
    var d = this._d, n = d.lat.length, counts = [], k, s;
    mercator(d);
    for (k = 0; k < this._styles.length; k++) { counts.push(0); }
    for (k = 0; k < n; k++) { counts[this._styleOf(k)] += 1; }
    this._byStyle = counts.map(function (c) { return new Int32Array(c); });
    var fill = counts.map(function () { return 0; });
    for (k = 0; k < n; k++) { s = this._styleOf(k); this._byStyle[s][fill[s]++] = k; }
    this._px = new Float32Array(n);
    this._py = new Float32Array(n);
  },
  // One small pre-drawn bitmap per style, stamped at every point: far cheaper to paint than
  // 100,000 anti-aliased arcs (a canvas records its paths and paints them at the next frame).
  // Zoomed out, points shrink so that dense districts stay readable.
  _sizeFactor: function () { return this._zoom >= 16 ? 1 : (this._zoom >= 14 ? 0.8 : 0.6); },
  _sprite: function (st, ratio, factor) {
    var radius = st.radius * factor, weight = st.weight * (factor < 1 ? 0.7 : 1);
    var half = Math.ceil(radius + weight) + 1, size = 2 * half;
    var c = document.createElement("canvas");
    c.width = size * ratio;
    c.height = size * ratio;
    var g = c.getContext("2d");
    g.scale(ratio, ratio);
    g.beginPath();
    g.arc(half, half, radius, 0, TAU);
    g.globalAlpha = st.fillOpacity;
    g.fillStyle = st.fillColor;
    g.fill();
    if (weight > 0) {
      g.globalAlpha = st.opacity;
      g.lineWidth = weight;
      g.strokeStyle = st.color;
      g.stroke();
    }
    return {canvas: c, half: half, size: size};
  },
  _draw: function (ctx) {
    var d = this._d, n = d.lat.length, w = this._w, h = this._h, ratio = this._ratio;
    for (var i = 0; i < n; i++) {
      this._px[i] = d._mx[i] * this._scale - this._ox;
      this._py[i] = d._my[i] * this._scale - this._oy;
    }
    var factor = this._sizeFactor();
    if (!this._sprites || this._spriteKey !== ratio + "/" + factor) {
      this._sprites = this._styles.map(function (st) {
        return this._sprite(st, ratio, factor);
      }, this);
      this._spriteKey = ratio + "/" + factor;
    }
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, w, h);
    for (var o = 0; o < this._order.length; o++) {
      var sp = this._sprites[this._order[o]], idx = this._byStyle[this._order[o]];
      var half = sp.half, size = sp.size, img = sp.canvas;
      for (var k = 0; k < idx.length; k++) {
        var x = this._px[idx[k]], y = this._py[idx[k]];
        if (x < -half || y < -half || x > w + half || y > h + half) { continue; }
        ctx.drawImage(img, Math.round(x) - half, Math.round(y) - half, size, size);
      }
    }
  },
  hit: function (point) {  // the point drawn on top under a container point, or -1
    var c = this._canvasPoint(point), x = c[0], y = c[1];
    for (var o = this._order.length - 1; o >= 0; o--) {
      var idx = this._byStyle[this._order[o]];
      var r = this._styles[this._order[o]].radius * this._sizeFactor() + 2;
      for (var k = idx.length - 1; k >= 0; k--) {
        var dx = this._px[idx[k]] - x, dy = this._py[idx[k]] - y;
        if (dx <= r && dx >= -r && dy <= r && dy >= -r && dx * dx + dy * dy <= r * r) {
          return idx[k];
        }
      }
    }
    return -1;
  },
  pick: function (i) { this._onPick(i); },
  // For tests and tools: container points of a residence id, or of every residence.
  containerPointOf: function (ident) {
    var i = this._d.id.indexOf(ident);
    return i < 0 ? null : this._map.latLngToContainerPoint([this._d.lat[i], this._d.lon[i]]);
  },
  containerPoints: function () {
    var out = [], d = this._d;
    for (var i = 0; i < d.lat.length; i++) {
      out.push(this._map.latLngToContainerPoint([d.lat[i], d.lon[i]]));
    }
    return out;
  }
});

// Rings sent as delta-coded integer microdegrees ("PMRings": first vertex x0/y0, a (dx, dy) pair
// per vertex, the first (0, 0); n = vertices per ring, the closing vertex left out).
function unpackRings(g) {
  var rings = [], x = g.x0, y = g.y0, k = 0;
  for (var r = 0; r < g.n.length; r++) {
    var ring = [];
    for (var v = 0; v < g.n[r]; v++, k++) {
      x += g.d[2 * k];
      y += g.d[2 * k + 1];
      ring.push([x / 1e6, y / 1e6]);
    }
    rings.push(ring);
  }
  return rings;
}

// Polygons (walking bands, communities) from GeoJSON: each feature one Path2D per zoom level
// (vertices closer than half a pixel merged), filled even-odd so holes stay holes.
var PolygonLayer = CanvasLayer.extend({
  options: {pane: "pmPolygons", zIndex: 420, prio: 0},
  initialize: function (fc, styleOf, onPick, options) {
    L.setOptions(this, options);
    this._fc = fc;
    this._styleOf = styleOf;
    this._onPick = onPick;
    if (!onPick) { this.pick = null; }
    this._feats = null;
  },
  _prepare: function () {
    if (this._feats) { return; }
    var feats = [], x0 = Infinity, y0 = Infinity;
    var fs = this._fc.features;
    for (var f = 0; f < fs.length; f++) {
      var g = fs[f].geometry;
      if (!g) { continue; }
      var polys = g.type === "Polygon" ? [g.coordinates] :
        (g.type === "MultiPolygon" ? g.coordinates :
          (g.type === "PMRings" ? [unpackRings(g)] : []));
      var rings = [], box = [Infinity, Infinity, -Infinity, -Infinity];
      for (var p = 0; p < polys.length; p++) {
        for (var r = 0; r < polys[p].length; r++) {
          var ring = polys[p][r], flat = new Float64Array(ring.length * 2);
          for (var v = 0; v < ring.length; v++) {
            var mx = mercX(ring[v][0]), my = mercY(ring[v][1]);
            flat[2 * v] = mx;
            flat[2 * v + 1] = my;
            if (mx < box[0]) { box[0] = mx; }
            if (my < box[1]) { box[1] = my; }
            if (mx > box[2]) { box[2] = mx; }
            if (my > box[3]) { box[3] = my; }
          }
          rings.push(flat);
        }
      }
      x0 = Math.min(x0, box[0]);
      y0 = Math.min(y0, box[1]);
      feats.push({rings: rings, box: box, props: fs[f].properties, style: this._styleOf(fs[f])});
    }
    this._feats = feats;
    this._anchorM = [x0, y0];
    this._pathZoom = null;
  },
  _paths: function () {  // Path2D per feature in pixels from an anchor, for this zoom
    if (this._pathZoom === this._zoom) { return; }
    var scale = this._scale;
    var ax = Math.floor(this._anchorM[0] * scale), ay = Math.floor(this._anchorM[1] * scale);
    for (var f = 0; f < this._feats.length; f++) {
      // An SVG path string parsed once is faster than a lineTo call per vertex.
      var parts = [], rings = this._feats[f].rings;
      for (var r = 0; r < rings.length; r++) {
        var flat = rings[r], n = flat.length / 2, lx = 0, ly = 0;
        for (var v = 0; v < n; v++) {
          var x = flat[2 * v] * scale - ax, y = flat[2 * v + 1] * scale - ay;
          if (v > 0 && v < n - 1 && Math.abs(x - lx) < 0.5 && Math.abs(y - ly) < 0.5) { continue; }
          parts.push((v === 0 ? "M" : "L") + x.toFixed(1) + " " + y.toFixed(1));
          lx = x;
          ly = y;
        }
        parts.push("Z");
      }
      this._feats[f].path = new Path2D(parts.join(""));
    }
    this._anchor = [ax, ay];
    this._pathZoom = this._zoom;
  },
  _draw: function (ctx) {
    this._paths();
    var ratio = this._ratio, w = this._w, h = this._h, scale = this._scale;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, w, h);
    ctx.setTransform(ratio, 0, 0, ratio, (this._anchor[0] - this._ox) * ratio,
      (this._anchor[1] - this._oy) * ratio);
    for (var f = 0; f < this._feats.length; f++) {
      var ft = this._feats[f], st = ft.style, b = ft.box;
      if (b[2] * scale - this._ox < 0 || b[0] * scale - this._ox > w ||
          b[3] * scale - this._oy < 0 || b[1] * scale - this._oy > h) { continue; }
      ctx.globalAlpha = st.fillOpacity;
      ctx.fillStyle = st.fillColor;
      ctx.fill(ft.path, "evenodd");
      ctx.globalAlpha = st.opacity;
      ctx.lineWidth = st.weight;
      ctx.strokeStyle = st.color;
      ctx.setLineDash(st.dash || []);
      ctx.stroke(ft.path);
    }
    ctx.setLineDash([]);
    ctx.globalAlpha = 1;
  },
  hit: function (point) {  // the feature drawn on top under a container point, or -1
    var c = this._canvasPoint(point);
    var x = c[0] + this._ox - this._anchor[0], y = c[1] + this._oy - this._anchor[1];
    var ctx = this._ctx;
    ctx.save();
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    var found = -1;
    for (var f = this._feats.length - 1; f >= 0; f--) {
      if (ctx.isPointInPath(this._feats[f].path, x, y, "evenodd")) { found = f; break; }
    }
    ctx.restore();
    return found;
  },
  pick: function (f, latlng) { this._onPick(this._feats[f].props, latlng); }
});
// The walking network: polylines as delta-coded microdegrees, grouped by 1 km cells and, in a
// cell, by class (paths, streets, main roads). A cell has one Path2D per class, built for an
// integer zoom level when first drawn (vertices closer than half a pixel merged) and scaled for
// the fractional zoom levels below it; a class is hidden below its minZoom.
var NetworkLayer = CanvasLayer.extend({
  options: {pane: "pmNetwork", zIndex: 410, prio: 0},
  initialize: function (d, styles) {
    this._d = d;
    this._styles = styles;
    this._cells = null;
  },
  _prepare: function () {
    if (this._cells) { return; }
    var d = this._d, nv = d.d.length / 2, x = d.x0, y = d.y0, i;
    var mx = new Float64Array(nv), my = new Float64Array(nv);
    for (i = 0; i < nv; i++) {
      x += d.d[2 * i];
      y += d.d[2 * i + 1];
      mx[i] = mercX(x / 1e6);
      my[i] = mercY(y / 1e6);
    }
    var nl = d.n.length, start = new Int32Array(nl + 1);
    for (i = 0; i < nl; i++) { start[i + 1] = start[i] + d.n[i]; }
    var cells = [], line = 0, nc = this._styles.length;
    for (var c = 0; c < d.cells.length; c++) {
      var end = line + d.cells[c], box = [Infinity, Infinity, -Infinity, -Infinity];
      var ranges = [];
      for (var k = 0; k < nc; k++) { ranges.push([0, 0]); }
      for (var l = line; l < end; l++) {
        var cls = d.c.charCodeAt(l) - 48;
        if (ranges[cls][1] === 0) { ranges[cls][0] = l; }
        ranges[cls][1] = l + 1;
        for (var v = start[l]; v < start[l + 1]; v++) {
          if (mx[v] < box[0]) { box[0] = mx[v]; }
          if (my[v] < box[1]) { box[1] = my[v]; }
          if (mx[v] > box[2]) { box[2] = mx[v]; }
          if (my[v] > box[3]) { box[3] = my[v]; }
        }
      }
      cells.push({box: box, ranges: ranges, z: null, paths: [], anchor: null});
      line = end;
    }
    this._mx = mx;
    this._my = my;
    this._start = start;
    this._cells = cells;
  },
  _cellPath: function (cell, k, z) {  // Path2D of class k in pixels of zoom z, from an anchor
    var scale = this._map.options.crs.scale(z);
    if (cell.z !== z) {
      cell.z = z;
      cell.paths = [];
      cell.anchor = [Math.floor(cell.box[0] * scale), Math.floor(cell.box[1] * scale)];
    }
    if (cell.paths[k] === undefined) {
      var mx = this._mx, my = this._my, st = this._start, ax = cell.anchor[0], ay = cell.anchor[1];
      var parts = [], r = cell.ranges[k];
      for (var l = r[0]; l < r[1]; l++) {
        var a = st[l], b = st[l + 1], lx = 0, ly = 0;
        for (var v = a; v < b; v++) {
          var px = mx[v] * scale - ax, py = my[v] * scale - ay;
          if (v > a && v < b - 1 && Math.abs(px - lx) < 0.5 && Math.abs(py - ly) < 0.5) {
            continue;
          }
          parts.push((v === a ? "M" : "L") + px.toFixed(1) + " " + py.toFixed(1));
          lx = px;
          ly = py;
        }
      }
      cell.paths[k] = parts.length ? new Path2D(parts.join("")) : null;
    }
    return cell.paths[k];
  },
  _widthFactor: function () { return this._zoom >= 16 ? 1 : (this._zoom >= 14 ? 0.75 : 0.5); },
  _draw: function (ctx) {
    var ratio = this._ratio, w = this._w, h = this._h, scale = this._scale;
    var z = Math.min(Math.ceil(this._zoom - 1e-6), 22);
    var f = scale / this._map.options.crs.scale(z), wf = this._widthFactor(), m = 4;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, w, h);
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    for (var k = 0; k < this._styles.length; k++) {
      var s = this._styles[k];
      if (this._zoom < s.minZoom) { continue; }
      ctx.strokeStyle = s.color;
      ctx.lineWidth = s.weight * wf / f;
      for (var c = 0; c < this._cells.length; c++) {
        var cell = this._cells[c], b = cell.box;
        if (cell.ranges[k][1] === 0 ||
            b[2] * scale - this._ox < -m || b[0] * scale - this._ox > w + m ||
            b[3] * scale - this._oy < -m || b[1] * scale - this._oy > h + m) { continue; }
        var path = this._cellPath(cell, k, z);
        if (!path) { continue; }
        ctx.setTransform(ratio * f, 0, 0, ratio * f, (cell.anchor[0] * f - this._ox) * ratio,
          (cell.anchor[1] * f - this._oy) * ratio);
        ctx.stroke(path);
      }
    }
    ctx.setTransform(1, 0, 0, 1, 0, 0);
  }
});
PM.PointLayer = PointLayer;
PM.PolygonLayer = PolygonLayer;
PM.NetworkLayer = NetworkLayer;
var STATUS_RADIUS = [3.5, 5, 6.5, 3.5];
var STATUS_ORDER = [0, 3, 1, 2];  // covered, off network, partly, uncovered (gaps on top)
PM.residences = function (map, group, dataId, mode) {
  var cfg = map._pm.cfg;
  var styles = [], order = [], styleOf, d = null;
  if (mode === "status") {
    for (var s = 0; s < cfg.statusColours.length; s++) {
      var gap = s === 1 || s === 2;
      styles.push({radius: STATUS_RADIUS[s], fillColor: cfg.statusColours[s], fillOpacity: 0.9,
        color: gap ? (s === 2 ? "#4a0000" : "#6b3d00") : "#ffffff",
        weight: gap ? 1.4 : 0.6, opacity: 0.9});
    }
    order = STATUS_ORDER;
    styleOf = function (i) { return d.st.charCodeAt(i) - 48; };
  } else {
    var colours = cfg.ratioColours.concat([cfg.noData]);
    for (var c = 0; c < colours.length; c++) {
      styles.push({radius: 4, fillColor: colours[c], fillOpacity: 0.9, color: "#ffffff",
        weight: 0.6, opacity: 0.9});
      order.unshift(c);  // "not allocated" at the bottom, the shortest supply on top
    }
    styleOf = function (i) {
      var cl = ratioClass(cfg, d.fa ? d.fa[i] : null);
      return cl < 0 ? styles.length - 1 : cl;
    };
  }
  function popup(i) {
    var t = cfg.t;
    var rows = [];
    var title = (d.name && d.name[i] !== null) ? d.name[i] : d.id[i];
    rows.push([t.id, d.id[i]]);
    if (d.hh) {
      var hh = fmt(cfg, d.hh[i], d.hh[i] % 1 === 0 ? 0 : 1);
      if (d.est && d.est.charAt(i) === "1") { hh += " (" + t.estimate + ")"; }
      rows.push([t.households, hh]);
    }
    var st = d.st.charCodeAt(i) - 48;
    var stCls = st === 0 ? "pm-ok" : (st === 3 ? "pm-na" : "pm-bad");
    rows.push([t.status, t[cfg.statuses[st]], stCls]);
    var measured = [];
    for (var k = 0; k < d.rules.length; k++) {
      var rule = d.rules[k];
      var into = rule.req ? rows : measured;
      var w = rule.walk[i];
      var cov = rule.cov.charAt(i);
      var text;
      if (w === null) { text = t.unreachable; }
      else {
        text = fmt(cfg, w, 0) + " " + t.m + " \u00b7 " + fmt(cfg, w / cfg.mPerMin, 1) + " " + t.min;
        if (cov === "0" && rule.max !== null) {
          text += " (" + t.short_by + " " + fmt(cfg, w - rule.max, 0) + " " + t.m + ")";
        }
      }
      var mark = cov === "1" ? "\u2713 " : (cov === "0" ? "\u2717 " : "");
      var cls = cov === "1" ? null : (cov === "0" ? (rule.req ? "pm-bad" : "pm-warn") : "pm-na");
      into.push([rule.label, mark + text, cls]);
    }
    if (d.fa) {
      var v = verdict(cfg, d.faok ? d.faok.charAt(i) : "-");
      var r = d.fa[i];
      rows.push([t.m2_per_100hh, r === null ? t.not_checked :
        fmt(cfg, r, 1) + " " + t.m2_per_100hh_unit + "  " + v[0], r === null ? "pm-na" : v[1]]);
    }
    if (measured.length) { rows.push([t.measured_title]); rows = rows.concat(measured); }
    return card(title, rows);
  }
  function open(i) {
    L.popup({maxWidth: 360}).setLatLng([d.lat[i], d.lon[i]]).setContent(popup(i)).openOn(map);
  }
  function build() {
    d = PM.data(dataId);
    var layer = new PointLayer(d, styles, styleOf, order, open);
    group._pmPoints = layer;
    group.addLayer(layer);
    mark("residences " + mode);
  }
  if (group._pmShow) { build(); } else { PM.lazy(group, build); }
};
PM.facilities = function (map, group, d) {
  var cfg = map._pm.cfg;
  var t = cfg.t;
  function popup(i) {
    var rows = [];
    rows.push([t.category, d.label]);
    if (d.fa) {
      rows.push([t.floor_area, d.fa[i] === null ? "\u2014" : fmt(cfg, d.fa[i], 0) + " " + t.m2]);
    }
    if (d.hh) { rows.push([t.hh_in_catchment, fmt(cfg, d.hh[i], 0)]); }
    if (d.r) {
      rows.push([t.m2_per_100hh,
        d.r[i] === null ? "\u2014" : fmt(cfg, d.r[i], 1) + " " + t.m2_per_100hh_unit]);
    }
    if (d.ok) { var v = verdict(cfg, d.ok.charAt(i)); rows.push([t.floor_area_check, v[0], v[1]]); }
    if (d.prop && d.prop.charAt(i) === "1") { rows.push(["", t.proposed, "pm-na"]); }
    if (d.on && d.on.charAt(i) === "0") { rows.push(["", t.facility_off_network, "pm-bad"]); }
    rows.push([t.id, d.id[i]]);
    var title = (d.name && d.name[i] !== null) ? d.name[i] : d.id[i];
    return card(title, rows);
  }
  var size = 22;
  for (var i = 0; i < d.lat.length; i++) {
    var box = el("div", "pm-fac", d.glyph);
    box.style.background = d.colour;
    box.style.width = size + "px";
    box.style.height = size + "px";
    if (d.prop && d.prop.charAt(i) === "1") { box.className += " pm-proposed"; }
    if (d.ok && d.ok.charAt(i) === "0") { box.className += " pm-facfail"; }
    if (d.on && d.on.charAt(i) === "0") { box.className += " pm-off"; }
    var icon = L.divIcon({html: box, className: "pm-fac-icon", iconSize: [size, size]});
    var mk = L.marker([d.lat[i], d.lon[i]], {icon: icon, riseOnHover: true});
    mk._pmi = i;
    var title = (d.name && d.name[i] !== null) ? d.name[i] : d.id[i];
    mk.bindTooltip(el("span", null, title), {direction: "top", offset: [0, -10]});
    mk.bindPopup((function (k) { return function () { return popup(k); }; })(i), {maxWidth: 360});
    group.addLayer(mk);
  }
};
PM.isochrones = function (map, group, dataId, colour) {
  function build() {
    var fc = PM.data(dataId);
    var n = fc.features.length;
    group.addLayer(new PolygonLayer(fc, function (f) {
      var k = f.properties.k;
      return {color: colour, weight: 1.2, opacity: 0.75, fillColor: colour,
        fillOpacity: 0.10 + 0.06 * (n - 1 - k), dash: k === n - 1 ? [4, 3] : null};
    }, null, {rank: 1}));
  }
  if (group._pmShow) { build(); } else { PM.lazy(group, build); }
};
PM.communities = function (map, group, dataId, rules) {
  var cfg = map._pm.cfg;
  var t = cfg.t;
  function popup(p) {
    var rows = [[t.id, p.id]];
    if (p.hh !== undefined) { rows.push([t.households, fmt(cfg, p.hh, 0)]); }
    if (p.sup !== undefined && p.sup !== null) {
      rows.push([t.supply, fmt(cfg, p.sup, 0) + " " + t.m2]);
    }
    if (p.r !== undefined) {
      var v = verdict(cfg, p.ok);
      rows.push([t.m2_per_100hh,
        p.r === null ? "\u2014" : fmt(cfg, p.r, 1) + " " + t.m2_per_100hh_unit + "  " + v[0],
        p.r === null ? "pm-na" : v[1]]);
    }
    for (var k = 0; k < rules.length; k++) {
      var rate = p.cov ? p.cov[k] : null;
      rows.push([rules[k] + " \u00b7 " + t.coverage_rate,
        rate === null ? "\u2014" : fmt(cfg, rate * 100, 1) + " %"]);
    }
    return card(p.name !== null && p.name !== undefined ? p.name : p.id, rows);
  }
  function build() {
    group.addLayer(new PolygonLayer(PM.data(dataId), function (f) {
      return {color: "#444", weight: 1.2, opacity: 0.8, fillColor: ratioColour(cfg, f.properties.r),
        fillOpacity: 0.3};
    }, function (props, latlng) {
      L.popup({maxWidth: 360}).setLatLng(latlng).setContent(popup(props)).openOn(map);
    }, {rank: 0}));
  }
  if (group._pmShow) { build(); } else { PM.lazy(group, build); }
};
PM.network = function (map, group, dataId, styles) {
  function build() {
    var layer = new NetworkLayer(PM.data(dataId), styles);
    group._pmNetwork = layer;
    group.addLayer(layer);
    mark("network");
  }
  if (group._pmShow) { build(); } else { PM.lazy(group, build); }
};
PM.panel = function (map, position, cls, markup) {
  var Panel = L.Control.extend({
    options: {position: position},
    onAdd: function () {
      var box = L.DomUtil.create("div", "pm-panel " + cls);
      box.innerHTML = markup;
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      return box;
    }
  });
  new Panel().addTo(map);
};
// Fit the data into the part of the map the panels leave free (left: summary; right: legend
// and layer control), unless that part would be too narrow.
PM.fit = function (map, bounds) {
  var box = map.getContainer();
  var width = box.clientWidth;
  var left = 20, right = 20;
  var summary = box.querySelector(".pm-summary");
  var legend = box.querySelector(".pm-legend");
  if (summary) { left = summary.offsetWidth + 30; }
  right = Math.max(legend ? legend.offsetWidth : 0, 230) + 30;
  if (width - left - right < 0.35 * width) { left = 20; right = 20; }
  map.fitBounds(bounds, {paddingTopLeft: [left, 20], paddingBottomRight: [right, 20],
    maxZoom: 17, animate: false});
};
PM.ready = function (map) {
  mark("scripts done");
  var box = map.getContainer();
  var legend = box.querySelector(".pm-legend");
  var layers = box.querySelector(".leaflet-control-layers");
  if (legend && layers && legend.parentNode === layers.parentNode) {
    legend.parentNode.appendChild(legend);  // the legend goes under the layer control
  }
  // The legend takes the height the layer control leaves, above the scale bar and credit.
  function sizeLegend() {
    if (!legend) { return; }
    var top = legend.getBoundingClientRect().top - box.getBoundingClientRect().top;
    legend.style.maxHeight = Math.max(120, box.clientHeight - top - 70) + "px";
  }
  sizeLegend();
  map.on("resize", sizeLegend);
  var raf = window.requestAnimationFrame || function (f) { return setTimeout(f, 16); };
  raf(function () { raf(function () {
    PM.drawnMs = (window.performance && performance.now) ? performance.now() : null;
    mark("drawn");
    map.getContainer().setAttribute("data-pm-ready", "1");
  }); });
};
})();
"""


@dataclass(frozen=True)
class _Assets:
    leaflet_js: str
    leaflet_css: str


_ASSETS: _Assets | None = None


def _read_leaflet() -> _Assets:
    """Read Leaflet's dist files from the installed ``django-js-lib-leaflet`` package."""
    global _ASSETS
    if _ASSETS is not None:
        return _ASSETS
    try:
        root = importlib.resources.files(_LEAFLET_PACKAGE) / "static" / _LEAFLET_PACKAGE
        js = (root / "leaflet.js").read_text(encoding="utf-8")
        css = (root / "leaflet.css").read_text(encoding="utf-8")
        images = {
            name: (root / "images" / name).read_bytes()
            for name in ("layers.png", "layers-2x.png", "marker-icon.png")
        }
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise ImportError(
            f"planner.maps needs Leaflet's files from the {_LEAFLET_PIP_NAME!r} package "
            f"({exc}); install it with: pip install {_LEAFLET_PIP_NAME}"
        ) from exc
    # No source-map request, and the layer-control icon inlined so nothing is fetched.
    js = re.sub(r"//# sourceMappingURL=\S*\s*$", "", js)
    for name, data in images.items():
        uri = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
        css = css.replace(f"url(images/{name})", f"url({uri})")
    for text, what in ((js, "leaflet.js"), (css, "leaflet.css")):
        if re.search(r"</(script|style)", text, flags=re.IGNORECASE):
            raise ImportError(f"{_LEAFLET_PIP_NAME}'s {what} cannot be inlined safely")
    _ASSETS = _Assets(leaflet_js=js, leaflet_css=css)
    return _ASSETS


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def _js(value: Any) -> str:
    """JSON for a JavaScript literal inside ``<script>``: no ``</script>`` or comment breakout."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def _esc(value: Any) -> str:
    """HTML-escape text; braces too, as Folium passes some of its output through Jinja again."""
    return html.escape(str(value), quote=True).replace("{", "&#123;").replace("}", "&#125;")


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    try:
        return bool(isinstance(value, float) and math.isnan(value))
    except TypeError:
        return False


def _texts(values: Any) -> list[str | None]:
    """Texts for display: None for missing values, ``str`` of everything else."""
    out: list[str | None] = []
    for v in pd.Series(values).astype(object).tolist():
        out.append(None if _is_missing(v) else str(v))
    return out


def _numbers(values: Any, digits: int) -> list[float | int | None]:
    """Rounded numbers for the page: ints when whole, None for NaN."""
    arr = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan
    )
    arr = np.round(arr, digits)
    out: list[float | int | None] = []
    for v in arr.tolist():
        if math.isnan(v) or math.isinf(v):
            out.append(None)
        elif v.is_integer() and abs(v) < 2**53:
            out.append(int(v))
        else:
            out.append(v)
    return out


def _flags(values: Any) -> str:
    """One character per value: ``1`` true, ``0`` false, ``-`` missing."""
    chars = []
    for v in pd.Series(values).astype(object).tolist():
        chars.append("-" if _is_missing(v) else ("1" if bool(v) else "0"))
    return "".join(chars)


def _fmt(value: Any, digits: int = 0) -> str:
    if _is_missing(value):
        return "—"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isinf(number):
        return "∞"
    return f"{number:,.{digits}f}"


def category_label(category: str, *, lang: str = "zh") -> str:
    """Display label of a facility category code (``"kindergarten"`` -> ``"幼儿园"``).

    Parameters
    ----------
    category
        A category code of `planner.standards.CATEGORIES`, or any text (returned as is).
    lang
        ``"zh"`` or ``"en"``.

    Returns
    -------
    str
        The label; unknown codes are returned unchanged.
    """
    from planner.standards import CATEGORIES

    pair = CATEGORIES.get(str(category))
    if pair is None:
        return str(category)
    return pair[0] if lang == "zh" else pair[1]


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


def _glyph(label: str, lang: str) -> str:
    """One or two characters for a category's badge: the first Chinese character, or initials."""
    text = label.strip()
    if not text:
        return "?"
    if lang == "zh" and not text[0].isascii():
        return text[0]
    words = [w for w in re.split(r"[\s/_\-]+", text) if w]
    return "".join(w[0] for w in words[:2]).upper() or text[0]


def _check_lang(lang: str) -> dict[str, str]:
    if lang not in _TEXT:
        raise InputError(f"lang={lang!r} is not supported; use one of {', '.join(LANGS)}")
    return _TEXT[lang]


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


def _simplify_rings(geoms: np.ndarray, tolerance: float) -> np.ndarray:
    """Polygons with every ring simplified on its own (Douglas-Peucker), for drawing only.

    GEOS's polygon simplifiers check and repair the whole polygon (minutes for a city's served
    area with thousands of holes); ring by ring it takes a fraction of a second. A ring that
    collapses (fewer than 4 points) is dropped, and a polygon whose shell collapses with it.
    Other geometries are simplified as they are.
    """
    out = np.array(geoms, dtype=object)
    types = shapely.get_type_id(out)
    is_polygonal = np.isin(types, (3, 6)) & ~shapely.is_empty(out)
    other = ~is_polygonal & (types >= 0)
    out[other] = shapely.simplify(out[other], tolerance, preserve_topology=True)
    polygonal = np.flatnonzero(is_polygonal)
    if polygonal.size == 0:
        return out
    parts, owner = shapely.get_parts(out[polygonal], return_index=True)
    rings, part = shapely.get_rings(parts, return_index=True)
    is_shell = np.r_[True, part[1:] != part[:-1]]
    rings = shapely.simplify(rings, tolerance, preserve_topology=False)
    kept = shapely.get_num_coordinates(rings) >= 4
    keep = kept & kept[np.flatnonzero(is_shell)][np.cumsum(is_shell) - 1]  # and its shell
    kept_parts, new_part = np.unique(part[keep], return_inverse=True)
    polys = shapely.polygons(rings[keep], indices=new_part)  # a part's first ring: its shell
    drawn = np.array([shapely.MultiPolygon()] * polygonal.size, dtype=object)
    if polys.size:
        shapely.multipolygons(polys, indices=owner[kept_parts], out=drawn)
    single = (types[polygonal] == 3) & (shapely.get_num_geometries(drawn) == 1)
    drawn[single] = shapely.get_geometry(drawn[single], 0)  # polygons stay polygons
    out[polygonal] = drawn
    return out


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
        assets = _read_leaflet()
        root = _figure(self)
        root.title = _esc(title)
        root.header.add_child(
            _Raw(
                "<style>"
                + assets.leaflet_css
                + _CSS
                + "</style>\n<script>"
                + assets.leaflet_js
                + "</script>\n<script>"
                + _RUNTIME_JS
                + "</script>"
            ),
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
        arr = shapely.transform(arr, lambda c: np.round(c, _COORD_DIGITS))
        return arr

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


def _frame_in_wgs84(gdf: Any, what: str) -> gpd.GeoDataFrame:
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise InputError(f"{what} must be a GeoDataFrame, got {type(gdf).__name__}")
    if gdf.crs is not None and not gdf.crs.equals("EPSG:4326"):
        gdf = gdf.to_crs(4326)
    missing = gdf.geometry.isna() | gdf.geometry.is_empty
    if bool(missing.any()):
        log.warning("%s: %d rows without geometry are not drawn", what, int(missing.sum()))
        gdf = gdf.loc[~missing.to_numpy()]
    return gdf.reset_index(drop=True)


def _require(gdf: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in gdf.columns]
    if missing:
        raise InputError(
            f"{what} lacks column(s) {', '.join(missing)} "
            f"(has: {', '.join(map(str, gdf.columns))}); "
            "pass the residences/facilities of a planner.checks.CheckResult"
        )


# --------------------------------------------------------------------------------------------
# Layers
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Rule:
    key: str
    category: str
    label: str
    max_walk_m: float | None
    required: bool


def _rules_from_coverage(
    coverage: Sequence[Mapping[str, Any]] | None, residences: pd.DataFrame | None, lang: str
) -> list[_Rule]:
    """The checked rules as the map shows them: from summary["coverage"], else from columns."""
    rules: list[_Rule] = []
    keys: list[str] = []
    for entry in coverage or ():
        key = str(entry.get("key", entry.get("category")))
        category = str(entry.get("category", key))
        label = entry.get(f"label_{lang}") or category_label(category, lang=lang)
        tier = entry.get("tier")
        same_category = [e for e in coverage or () if e.get("category", e.get("key")) == category]
        if tier and len(same_category) > 1:
            label = f"{label} ({_tier_text(str(tier), lang)})"
        max_m = entry.get("max_walk_m")
        rules.append(
            _Rule(
                key=key,
                category=category,
                label=str(label),
                max_walk_m=None if max_m is None or _is_missing(max_m) else float(max_m),
                required=bool(entry.get("required", True)),
            )
        )
        keys.append(key)
    if not rules and residences is not None:
        prefix = column("covered", "")
        for col in residences.columns:
            if isinstance(col, str) and col.startswith(prefix) and col[len(prefix) :]:
                key = col[len(prefix) :]
                rules.append(_Rule(key, key, category_label(key, lang=lang), None, True))
    return rules


def _tier_text(tier: str, lang: str) -> str:
    match = re.fullmatch(r"(\d+)min", tier)
    if match:
        return f"{match.group(1)}分钟" if lang == "zh" else f"{match.group(1)} min"
    return tier


def add_residences(
    m: PlannerMap,
    residences: gpd.GeoDataFrame,
    *,
    coverage: Sequence[Mapping[str, Any]] | None = None,
    speed_kmh: float = DEFAULT_SPEED_KMH,
    required_m2_per_100hh: float | None = None,
) -> list[Any]:
    """Draw residences coloured by coverage status, and (hidden) by m² per 100 households.

    Parameters
    ----------
    m
        A map from `build_base_map`.
    residences
        Points with ``status`` (one of `STATUSES`) and optionally ``id``, ``name``,
        ``households``, ``households_estimated``, per rule ``walk_m_<key>`` and
        ``covered_<key>``, ``floor_area_m2_per_100hh`` and ``floor_area_ok``.
    coverage
        ``summary["coverage"]`` entries (key, category, labels, max_walk_m); when None the
        rules are read from the ``covered_<key>`` columns.
    speed_kmh
        Walking speed, to show minutes next to metres.
    required_m2_per_100hh
        The floor-area requirement that sets the colour classes; None when not checked
        (then no floor-area layer is drawn).

    Returns
    -------
    list of folium.FeatureGroup
        The status layer and, when floor-area figures exist, the m² per 100 households layer.
    """
    res = _frame_in_wgs84(residences, "residences")
    _require(res, ["status"], "residences")
    status = res["status"].astype(object).to_numpy()
    code_of = {s: i for i, s in enumerate(STATUSES)}
    bad = [i for i, s in enumerate(status.tolist()) if s not in code_of]
    if bad:
        raise InputError(
            f"residences column 'status' has values {sorted({str(status[i]) for i in bad})} "
            f"in rows {bad[:10]}; allowed: {', '.join(STATUSES)}"
        )
    codes = np.array([code_of[s] for s in status.tolist()], dtype=np.int8)
    # Gaps last, so they are drawn on top: covered, off-network, partly, uncovered.
    draw_rank = np.array([0, 2, 3, 1], dtype=np.int8)[codes]
    order = np.argsort(draw_rank, kind="stable")
    res = res.iloc[order].reset_index(drop=True)
    codes = codes[order]
    lon, lat = m.display_points(res.geometry.to_numpy())
    t = m.text
    rules = _rules_from_coverage(coverage, res, m.lang)
    data: dict[str, Any] = {
        "lat": lat.tolist(),
        "lon": lon.tolist(),
        "id": _texts(res["id"]) if "id" in res else [str(i) for i in range(len(res))],
        "name": _texts(res["name"]) if "name" in res and res["name"].notna().any() else None,
        "hh": _numbers(res["households"], 1) if "households" in res else None,
        "est": _flags(res["households_estimated"]) if "households_estimated" in res else None,
        "st": "".join(str(int(c)) for c in codes.tolist()),
        "rules": [],
        "fa": None,
        "faok": None,
    }
    for rule in rules:
        walk_col, cov_col = column("walk_m", rule.key), column("covered", rule.key)
        if walk_col not in res.columns and cov_col not in res.columns:
            continue
        data["rules"].append(
            {
                "label": rule.label,
                "req": rule.required,
                "max": rule.max_walk_m,
                "walk": _numbers(res[walk_col], 0) if walk_col in res else [None] * len(res),
                "cov": _flags(res[cov_col]) if cov_col in res else "-" * len(res),
            }
        )
    has_ratio = "floor_area_m2_per_100hh" in res.columns and required_m2_per_100hh is not None
    if has_ratio:
        data["fa"] = _numbers(res["floor_area_m2_per_100hh"], 1)
        data["faok"] = _flags(res["floor_area_ok"]) if "floor_area_ok" in res else None
    _set_cfg(
        m,
        mPerMin=float(speed_kmh) * 1000.0 / 60.0,
        required=float(required_m2_per_100hh or _DEFAULT_REQUIRED_M2),
    )
    data_id = m.add_data(_js(data))
    groups = []
    # Residences are drawn on their own canvas, above the polygons' (bands, communities).
    status_group = _new_group(m, t["layer_status"], key="residences", show=True)
    m.add_script(
        status_group,
        f"PlannerMap.residences({m.get_name()}, {status_group.get_name()}, {_js(data_id)}, "
        "'status');",
    )
    groups.append(status_group)
    counts = np.bincount(codes, minlength=len(STATUSES))
    rows = "".join(
        f'<div class="pm-row"><span class="pm-dot" style="background:{STATUS_COLOURS[s]}"></span>'
        f'{_esc(t[s])} <span class="pm-na">({counts[i]:,})</span></div>'
        for i, s in enumerate(STATUSES)
    )
    m.legend["status"] = (
        f"<h4>{_esc(t['legend_status'])}</h4>{rows}"
        f'<div class="pm-note">{_esc(t["legend_gaps"])}</div>'
    )
    if has_ratio:
        ratio_group = _new_group(m, t["layer_ratio"], key="residences_ratio", show=False)
        m.add_script(
            ratio_group,
            f"PlannerMap.residences({m.get_name()}, {ratio_group.get_name()}, {_js(data_id)}, "
            "'ratio');",
        )
        groups.append(ratio_group)
        _ratio_legend(m, float(required_m2_per_100hh))  # type: ignore[arg-type]
    return groups


def _ratio_legend(m: PlannerMap, required: float) -> None:
    t = m.text
    edges = [b * required for b in RATIO_BREAKS]
    labels = [f"< {edges[0]:g}", f"{edges[0]:g} – {edges[1]:g}", f"{edges[1]:g} – {edges[2]:g}"]
    labels.append(f"≥ {edges[2]:g}")
    rows = "".join(
        f'<div class="pm-row"><span class="pm-sq" style="background:{c}"></span>{_esc(lab)}</div>'
        for c, lab in zip(RATIO_COLOURS, labels, strict=True)
    )
    rows += (
        f'<div class="pm-row"><span class="pm-sq" style="background:{NO_DATA_COLOUR}"></span>'
        f"{_esc(t['legend_no_data'])}</div>"
    )
    m.legend["ratio"] = f"<h4>{_esc(t['legend_ratio'].format(req=f'{required:g}'))}</h4>{rows}"


def add_facilities(
    m: PlannerMap,
    facilities: gpd.GeoDataFrame,
    *,
    show: Iterable[str] | None = None,
) -> list[Any]:
    """Draw facilities, one toggleable layer per category, each with its colour and badge.

    Parameters
    ----------
    m
        A map from `build_base_map`.
    facilities
        Points; optional columns ``id``, ``name``, ``category``, ``floor_area_m2``,
        ``households_in_catchment``, ``m2_per_100hh``, ``floor_area_ok``, ``proposed``,
        ``on_network``. The popup shows the ones present.
    show
        Categories shown when the page opens (the others are listed in the layer control,
        unchecked); default: all.

    Returns
    -------
    list of folium.FeatureGroup
        One layer per category, in the map's category order.
    """
    fac = _frame_in_wgs84(facilities, "facilities")
    t = m.text
    cats = (
        np.array([str(c) for c in fac["category"].astype(object).tolist()], dtype=object)
        if "category" in fac
        else np.full(len(fac), "", dtype=object)
    )
    present = list(dict.fromkeys(cats.tolist()))
    known = [c for c in m.colours if c in present]
    ordered = known + sorted(c for c in present if c not in m.colours)
    m.register_categories(ordered)
    shown = set(ordered) if show is None else {str(c) for c in show}
    groups = []
    legend_rows = []
    any_proposed = False
    any_fail = False
    for cat in ordered:
        sub = fac.loc[cats == cat].reset_index(drop=True)
        label = m.label(cat) if cat else t["facilities"]
        colour = m.colour(cat)
        glyph = _glyph(label, m.lang)
        lon, lat = m.display_points(sub.geometry.to_numpy(), fit=cat in shown)
        data: dict[str, Any] = {
            "label": label,
            "colour": colour,
            "glyph": glyph,
            "lat": lat.tolist(),
            "lon": lon.tolist(),
            "id": _texts(sub["id"]) if "id" in sub else [str(i) for i in range(len(sub))],
            "name": _texts(sub["name"]) if "name" in sub and sub["name"].notna().any() else None,
            "fa": _numbers(sub["floor_area_m2"], 1) if "floor_area_m2" in sub else None,
            "hh": _numbers(sub["households_in_catchment"], 1)
            if "households_in_catchment" in sub
            else None,
            "r": _numbers(sub["m2_per_100hh"], 1) if "m2_per_100hh" in sub else None,
            "ok": _flags(sub["floor_area_ok"]) if "floor_area_ok" in sub else None,
            "prop": _flags(sub["proposed"]) if "proposed" in sub else None,
            "on": _flags(sub["on_network"]) if "on_network" in sub else None,
        }
        if data["ok"] is not None and "0" in data["ok"]:
            any_fail = True
        if data["prop"] is not None and "1" in data["prop"]:
            any_proposed = True
        name = t["layer_facilities"].format(label=label) if cat else t["facilities"]
        group = _new_group(m, name, key=f"facilities:{cat}", show=cat in shown)
        m.add_script(
            group, f"PlannerMap.facilities({m.get_name()}, {group.get_name()}, {_js(data)});"
        )
        groups.append(group)
        legend_rows.append(
            f'<div class="pm-row"><span class="pm-fac" style="background:{colour}">'
            f'{_esc(glyph)}</span>{_esc(label)} <span class="pm-na">({len(sub):,})</span></div>'
        )
    notes = ""
    if any_proposed:
        notes += f'<div class="pm-note">{_esc(t["legend_proposed"])}</div>'
    if any_fail:
        notes += f'<div class="pm-note">{_esc(t["legend_fac_fail"])}</div>'
    if legend_rows:
        m.legend["facilities"] = (
            f"<h4>{_esc(t['legend_facilities'])}</h4>{''.join(legend_rows)}{notes}"
        )
    return groups


def _feature_collection(geoms: np.ndarray, props: list[dict[str, Any]]) -> str:
    """A GeoJSON FeatureCollection as text (geometry JSON from shapely, properties from us)."""
    return _collection_text(shapely.to_geojson(geoms).tolist(), props)


def _collection_text(geometries: list[str], props: list[dict[str, Any]]) -> str:
    """A FeatureCollection as text from geometry JSON texts and properties."""
    parts = []
    for geom, prop in zip(geometries, props, strict=True):
        parts.append('{"type":"Feature","geometry":' + geom + ',"properties":' + _js(prop) + "}")
    return '{"type":"FeatureCollection","features":[' + ",".join(parts) + "]}"


def _ring_collection(geoms: np.ndarray, props: list[dict[str, Any]]) -> str:
    """Like `_feature_collection`, each geometry's rings sent as delta-coded microdegrees
    (``"PMRings"``, decoded by the page): about 10 bytes a vertex instead of 22, for bands whose
    every city block is a hole."""
    coded = []
    for geom in geoms.tolist():
        rings = shapely.get_rings(shapely.get_parts(geom))
        xy, ring_of = shapely.get_coordinates(rings, return_index=True)
        counts = np.bincount(ring_of, minlength=rings.shape[0])
        ends = np.cumsum(counts) - 1
        keep = np.ones(xy.shape[0], dtype=bool)
        keep[ends[counts > 0]] = False  # the closing vertex repeats the first
        q = np.round(xy[keep] * 1e6).astype(np.int64)
        deltas = np.diff(q, axis=0, prepend=q[:1]).ravel() if q.shape[0] else q.ravel()
        first = q[0] if q.shape[0] else (0, 0)
        coded.append(
            _js(
                {
                    "type": "PMRings",
                    "x0": int(first[0]),
                    "y0": int(first[1]),
                    "n": np.maximum(counts - 1, 0).tolist(),
                    "d": deltas.tolist(),
                }
            )
        )
    return _collection_text(coded, props)


def add_isochrones(
    m: PlannerMap,
    isochrones: gpd.GeoDataFrame,
    *,
    show: Sequence[str] | None = None,
) -> list[Any]:
    """Draw walking bands (5/10/15 min) per category, one toggleable layer per category.

    Parameters
    ----------
    m
        A map from `build_base_map`.
    isochrones
        Polygons with ``band_min`` and optionally ``band_m`` and ``category``.
    show
        Categories whose bands are shown when the page opens; default: the first one only
        (the others are one click away in the layer control).

    Returns
    -------
    list of folium.FeatureGroup
    """
    iso = _frame_in_wgs84(isochrones, "isochrones")
    _require(iso, ["band_min"], "isochrones")
    t = m.text
    cats = (
        np.array([str(c) for c in iso["category"].astype(object).tolist()], dtype=object)
        if "category" in iso
        else np.full(len(iso), "", dtype=object)
    )
    present = list(dict.fromkeys(cats.tolist()))
    ordered = [c for c in m.colours if c in present] + sorted(
        c for c in present if c not in m.colours
    )
    m.register_categories(ordered)
    shown = set(ordered[:1] if show is None else show)
    groups = []
    all_bands: set[tuple[float, float | None]] = set()
    for cat in ordered:
        sub = iso.loc[cats == cat].copy()
        sub["_band"] = pd.to_numeric(sub["band_min"], errors="coerce")
        sub = sub.sort_values("_band", ascending=False, kind="stable").reset_index(drop=True)
        geoms = m.display_geometries(sub.geometry.to_numpy(), simplify=True)
        valid = ~(shapely.is_empty(geoms) | shapely.is_missing(geoms))
        if valid.any() and cat in shown:
            b = shapely.total_bounds(geoms[valid])
            m.bounds.append((float(b[0]), float(b[1]), float(b[2]), float(b[3])))
        bands = sub["_band"].to_numpy()
        band_m = (
            pd.to_numeric(sub["band_m"], errors="coerce").to_numpy()
            if "band_m" in sub
            else np.full(len(sub), np.nan)
        )
        # k = rank from the smallest band (0) up, so the largest band is drawn lightest.
        uniq = sorted(set(bands[~np.isnan(bands)].tolist()))
        props = []
        for band, bm in zip(bands.tolist(), band_m.tolist(), strict=True):
            k = uniq.index(band) if band in uniq else len(uniq)
            props.append({"b": band, "m": None if math.isnan(bm) else round(bm), "k": k})
            all_bands.add((band, None if math.isnan(bm) else round(bm)))
        fc = _ring_collection(geoms[valid], [p for p, v in zip(props, valid, strict=True) if v])
        label = m.label(cat) if cat else t["layer_bands"]
        name = t["layer_isochrones"].format(label=label) if cat else t["layer_bands"]
        group = _new_group(m, name, key=f"isochrones:{cat}", show=cat in shown)
        m.add_script(
            group,
            f"PlannerMap.isochrones({m.get_name()}, {group.get_name()}, {_js(m.add_data(fc))}, "
            f"{_js(m.colour(cat))});",
        )
        groups.append(group)
    bands_sorted = sorted(b for b in all_bands if not math.isnan(b[0]))
    if bands_sorted:
        n = len({b for b, _ in bands_sorted})
        uniq_b = sorted({b for b, _ in bands_sorted})
        rows = []
        for band, bm in bands_sorted:
            k = uniq_b.index(band)
            # Drawn bands overlap: the shade a band shows is its own plus the larger ones'.
            shade = 1.0 - math.prod(1.0 - (0.10 + 0.06 * (n - 1 - j)) for j in range(k, n))
            text = t["band"].format(min=f"{band:g}", m="—" if bm is None else bm)
            rows.append(
                '<div class="pm-row"><span class="pm-sq" style="background:'
                f'rgba(60,60,60,{shade:.2f})"></span>{_esc(text)}</div>'
            )
        m.legend["bands"] = f"<h4>{_esc(t['legend_bands'])}</h4>{''.join(rows)}"
    return groups


def add_communities(
    m: PlannerMap,
    communities: gpd.GeoDataFrame,
    *,
    coverage: Sequence[Mapping[str, Any]] | None = None,
    required_m2_per_100hh: float | None = None,
    show: bool = True,
) -> Any:
    """Draw community polygons as a choropleth of m² per 100 households.

    Parameters
    ----------
    m
        A map from `build_base_map`.
    communities
        Polygons with optional ``id``, ``name``, ``households``, ``supply_m2``,
        ``m2_per_100hh``, ``floor_area_ok`` and per rule ``coverage_rate_<key>``.
    coverage
        ``summary["coverage"]`` entries, for the coverage rates in the popup.
    required_m2_per_100hh
        The requirement that sets the colour classes (default 30).
    show
        Whether the layer is on when the page opens.

    Returns
    -------
    folium.FeatureGroup
    """
    comm = _frame_in_wgs84(communities, "communities")
    t = m.text
    rules = _rules_from_coverage(coverage, None, m.lang)
    rate_cols = [(r, column("coverage_rate", r.key)) for r in rules]
    rate_cols = [(r, c) for r, c in rate_cols if c in comm.columns]
    geoms = m.display_geometries(comm.geometry.to_numpy(), simplify=True)
    valid = ~(shapely.is_empty(geoms) | shapely.is_missing(geoms))
    if valid.any() and show:
        b = shapely.total_bounds(geoms[valid])
        m.bounds.append((float(b[0]), float(b[1]), float(b[2]), float(b[3])))
    ids = _texts(comm["id"]) if "id" in comm else [str(i) for i in range(len(comm))]
    names = _texts(comm["name"]) if "name" in comm else [None] * len(comm)
    hh = _numbers(comm["households"], 1) if "households" in comm else None
    sup = _numbers(comm["supply_m2"], 1) if "supply_m2" in comm else None
    ratio = _numbers(comm["m2_per_100hh"], 1) if "m2_per_100hh" in comm else None
    ok = _flags(comm["floor_area_ok"]) if "floor_area_ok" in comm else None
    rates = [_numbers(comm[c], 4) for _, c in rate_cols]
    props = []
    for i in range(len(comm)):
        p: dict[str, Any] = {"id": ids[i], "name": names[i]}
        if hh is not None:
            p["hh"] = hh[i]
        if sup is not None:
            p["sup"] = sup[i]
        if ratio is not None:
            p["r"] = ratio[i]
            p["ok"] = ok[i] if ok is not None else "-"
        if rates:
            p["cov"] = [col[i] for col in rates]
        props.append(p)
    fc = _feature_collection(geoms[valid], [p for p, v in zip(props, valid, strict=True) if v])
    group = _new_group(m, t["layer_communities"], key="communities", show=show)
    m.add_script(
        group,
        f"PlannerMap.communities({m.get_name()}, {group.get_name()}, {_js(m.add_data(fc))}, "
        f"{_js([r.label for r, _ in rate_cols])});",
    )
    _set_cfg(m, required=float(required_m2_per_100hh or _DEFAULT_REQUIRED_M2))
    if "ratio" not in m.legend:
        _ratio_legend(m, float(required_m2_per_100hh or _DEFAULT_REQUIRED_M2))
    return group


#: Networks with more edges than this are simplified more (`_NETWORK_LARGE_SIMPLIFY_M`), and
#: the legend says so.
NETWORK_LARGE_EDGES: Final = 150_000
_NETWORK_SIMPLIFY_M: Final = 2.0
_NETWORK_LARGE_SIMPLIFY_M: Final = 10.0
_NETWORK_CELL_M: Final = 1000.0  # lines are grouped in cells of this size (drawn per cell)
_MAJOR_HIGHWAYS: Final = frozenset(
    f"{h}{link}"
    for h in ("motorway", "trunk", "primary", "secondary", "tertiary")
    for link in ("", "_link")
)
_PATH_HIGHWAYS: Final = frozenset(
    ("footway", "path", "steps", "cycleway", "track", "bridleway", "corridor")
)
#: Styles of the network's classes in drawing order: paths, streets, main roads. ``weight`` is
#: the line width in pixels from zoom 16 (thinner below); a class is hidden below ``minZoom``.
_NETWORK_STYLES: Final[tuple[dict[str, Any], ...]] = (
    {"key": "network_path", "color": "#cdcdcd", "weight": 1.2, "minZoom": 13.5},
    {"key": "network_street", "color": "#bcbcbc", "weight": 2.0, "minZoom": 12.0},
    {"key": "network_major", "color": "#a8a8a8", "weight": 3.2, "minZoom": 0.0},
)


@dataclass(frozen=True)
class _NetworkLines:
    """The network as the page draws it (see `_network_lines`)."""

    data: dict[str, Any]
    edges: int
    lines: int
    vertices: int
    classes: frozenset[int]


def _network_lines(m: PlannerMap, network: Any, *, simplify_m: float) -> _NetworkLines:
    """The network's edges as compact page data.

    Edges of one OSM way are merged into polylines, simplified by ``simplify_m`` in the
    projected CRS, put in WGS84 (GCJ-02 for Amap) and rounded to microdegrees (6 decimals).
    Lines are sorted by 1 km cell, then class; the page receives the first vertex ``x0``,
    ``y0`` and then every vertex as the difference to the one before (``d``: x, y, x, y...),
    the vertex count of each line (``n``), its class digit (``c``: 0 path, 1 street, 2 main
    road) and the line count of each cell (``cells``).
    """
    geoms = np.asarray(network.edge_geometry, dtype=object)
    n_edges = len(geoms)
    highway = getattr(network, "edge_highway", None)
    hw = pd.Series(
        np.asarray(highway, dtype=object) if highway is not None else [None] * n_edges,
        dtype=object,
    )
    classes = np.where(
        hw.isin(_MAJOR_HIGHWAYS).to_numpy(), 2, np.where(hw.isin(_PATH_HIGHWAYS).to_numpy(), 0, 1)
    ).astype(np.int8)
    way_ids = getattr(network, "edge_way_id", None)
    # One polyline per way and class; edges without a way id stay on their own.
    codes = (
        pd.factorize(pd.Series(np.asarray(way_ids, dtype=object)), use_na_sentinel=True)[0]
        if way_ids is not None
        else np.full(n_edges, -1, dtype=np.int64)
    )
    codes = np.asarray(codes, dtype=np.int64) * 3 + classes
    alone = codes < 0
    codes[alone] = codes.max(initial=0) + 1 + np.arange(int(alone.sum()))
    keep = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    crs = pyproj.CRS.from_user_input(network.crs)
    if crs.is_geographic:  # simplify in metres: a local UTM zone
        series = gpd.GeoSeries(geoms[keep], crs=crs)
        crs = metric_crs(series)
        geoms = geoms.copy()
        geoms[keep] = series.to_crs(crs).to_numpy()
    order = np.argsort(codes[keep], kind="stable")
    groups = pd.factorize(codes[keep][order])[0]  # sorted: 0, 0, 1, 2, 2, ...
    merged = shapely.line_merge(shapely.multilinestrings(geoms[keep][order], indices=groups))
    first_of_group = classes[keep][order][np.unique(groups, return_index=True)[1]]
    parts, which = shapely.get_parts(merged, return_index=True)
    lines = shapely.simplify(parts, simplify_m, preserve_topology=False)
    line_cls = first_of_group[which]
    ok = shapely.get_num_coordinates(lines) >= 2
    lines, line_cls = lines[ok], line_cls[ok]
    # Cells, then classes, then west to east: consecutive vertices are close (short deltas).
    x, y = shapely.get_x(shapely.get_point(lines, 0)), shapely.get_y(shapely.get_point(lines, 0))
    cx = np.floor((x - np.min(x, initial=0.0)) / _NETWORK_CELL_M).astype(np.int64)
    cy = np.floor((y - np.min(y, initial=0.0)) / _NETWORK_CELL_M).astype(np.int64)
    cell = cy * (int(cx.max(initial=0)) + 1) + cx
    order = np.lexsort((x, line_cls, cell))
    lines, line_cls, cell = lines[order], line_cls[order], cell[order]
    coords, index = shapely.get_coordinates(lines, return_index=True)
    to_wgs84 = pyproj.Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    lon, lat = to_wgs84.transform(coords[:, 0], coords[:, 1])
    lon, lat = np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
    if m.gcj02:
        lon, lat = wgs84_to_gcj02(lon, lat)
    scale = 10**_COORD_DIGITS
    ix = np.round(lon * scale).astype(np.int64)
    iy = np.round(lat * scale).astype(np.int64)
    deltas = np.empty(2 * len(ix), dtype=np.int64)
    if len(ix):
        deltas[0::2] = np.diff(ix, prepend=ix[0])
        deltas[1::2] = np.diff(iy, prepend=iy[0])
    _, cell_counts = np.unique(cell, return_counts=True)
    data = {
        "x0": int(ix[0]) if len(ix) else 0,
        "y0": int(iy[0]) if len(iy) else 0,
        "d": deltas.tolist(),
        "n": np.bincount(index, minlength=len(lines)).tolist(),
        "c": (line_cls.astype(np.uint8) + 48).tobytes().decode("ascii"),
        "cells": cell_counts.tolist(),
        "simplify_m": simplify_m,
    }
    return _NetworkLines(
        data=data,
        edges=n_edges,
        lines=len(lines),
        vertices=len(ix),
        classes=frozenset(int(c) for c in np.unique(line_cls).tolist()),
    )


def add_network(
    m: PlannerMap,
    network: Any,
    *,
    show: bool = True,
    simplify_m: float | None = None,
) -> Any | None:
    """Draw the walking network: thin grey lines under every other layer.

    With the basemap off or offline, the streets are what tells a planner where the dots are.
    Lines are drawn on their own canvas, main roads wider than streets, streets wider than
    footways and paths; zoomed out, paths (below zoom 13.5) and then streets (below 12) are
    hidden.

    Parameters
    ----------
    m
        A map from `build_base_map`.
    network
        A `planner.network.Network`, or any object with ``edge_geometry`` (LineStrings) and
        ``crs``; ``edge_highway`` (line classes) and ``edge_way_id`` (edges of a way merged)
        are used when present.
    show
        Whether the layer is on when the page opens.
    simplify_m
        Simplification tolerance in metres; default 2 m, or 10 m for networks of more than
        `NETWORK_LARGE_EDGES` edges (the legend then says so).

    Returns
    -------
    folium.FeatureGroup or None
        The layer; None when the network has no edges.

    Raises
    ------
    InputError
        ``network`` lacks ``edge_geometry`` or ``crs``.
    """
    missing = [a for a in ("edge_geometry", "crs") if getattr(network, a, None) is None]
    if missing:
        raise InputError(
            f"network lacks {', '.join(missing)}; pass a planner.network.Network "
            "(planner.load_network or CheckResult.network)"
        )
    n_edges = len(network.edge_geometry)
    if n_edges == 0:
        log.warning("the network has no edges; no walking network is drawn")
        return None
    large = n_edges > NETWORK_LARGE_EDGES
    tol = (
        simplify_m
        if simplify_m is not None
        else (_NETWORK_LARGE_SIMPLIFY_M if large else _NETWORK_SIMPLIFY_M)
    )
    drawn = _network_lines(m, network, simplify_m=float(tol))
    if drawn.lines == 0:
        log.warning("the network's edges are all empty; no walking network is drawn")
        return None
    t = m.text
    group = _new_group(m, t["layer_network"], key="network", show=show)
    styles = [{k: v for k, v in s.items() if k != "key"} for s in _NETWORK_STYLES]
    m.add_script(
        group,
        f"PlannerMap.network({m.get_name()}, {group.get_name()}, "
        f"{_js(m.add_data(_js(drawn.data)))}, {_js(styles)});",
    )
    rows = "".join(
        f'<div class="pm-row"><span class="pm-line" style="border-top:'
        f'{max(1.0, s["weight"]):g}px solid {s["color"]}"></span>{_esc(t[str(s["key"])])}</div>'
        for k, s in reversed(list(enumerate(_NETWORK_STYLES)))
        if k in drawn.classes
    )
    note = ""
    if large:
        text = t["network_large"].format(edges=f"{n_edges:,}", m=f"{tol:g}")
        note = f'<div class="pm-note">{_esc(text)}</div>'
    m.legend["network"] = f"<h4>{_esc(t['legend_network'])}</h4>{rows}{note}"
    log.info(
        "walking network: %d edges drawn as %d lines, %d vertices (simplified %g m)",
        drawn.edges,
        drawn.lines,
        drawn.vertices,
        tol,
    )
    return group


# --------------------------------------------------------------------------------------------
# Panels
# --------------------------------------------------------------------------------------------


def _badge(passes: Any, t: Mapping[str, str]) -> str:
    if passes is None:
        return f'<span class="pm-badge pm-none">{_esc(t["measured"])}</span>'
    cls, word = ("pm-pass", t["pass"]) if passes else ("pm-fail", t["fail"])
    return f'<span class="pm-badge {cls}">{_esc(word)}</span>'


def _mark(passes: Any, t: Mapping[str, str]) -> str:
    if passes is None:
        return f'<span class="pm-na" title="{_esc(t["measured"])}">–</span>'
    if passes:
        return f'<span class="pm-ok" title="{_esc(t["pass"])}">✓</span>'
    return f'<span class="pm-bad" title="{_esc(t["fail"])}">✗</span>'


def _method_text(method: Any, t: Mapping[str, str]) -> str:
    """``"column; estimate:buildings(...)"`` -> ``"input data; estimate (buildings)"``."""
    kinds: list[str] = []
    for part in str(method).split(";"):
        part = part.strip()
        if not part:
            continue
        if part == "column":
            kind = t["method_column"]
        elif part.startswith("estimate"):
            detail = part.split(":", 1)[1] if ":" in part else ""
            detail = detail.split("(", 1)[0].strip()
            kind = t["method_estimate"]
            if detail:
                kind += f" ({t.get(f'method_{detail}', detail)})"
        else:
            kind = part.split("(", 1)[0].strip()
        if kind not in kinds:
            kinds.append(kind)
    return "; ".join(kinds)


def add_summary_panel(
    m: PlannerMap,
    summary: Mapping[str, Any],
    *,
    gaps: pd.DataFrame | None = None,
    residences: pd.DataFrame | None = None,
    title: str | None = None,
    max_gaps: int = 5,
) -> None:
    """Add the summary panel: verdict, coverage per rule, floor area, households, parameters.

    Parameters
    ----------
    m
        A map from `build_base_map`.
    summary
        The review's summary (``CheckResult.summary``, the ``summary.json`` contract).
    gaps
        The ranked gap table (``CheckResult.gaps``), for the largest gaps.
    residences
        The residences, to name the residences in the gap list.
    title
        Panel heading; default: the standard's title.
    max_gaps
        How many gaps to list.
    """
    t = m.text
    lang = m.lang
    std = summary.get("standard") or {}
    heading = title or std.get(f"title_{lang}") or m.title
    coverage = list(summary.get("coverage") or [])
    rules = _rules_from_coverage(coverage, None, lang)
    parts = [
        '<details open><summary><div class="pm-head">'
        f'<span class="pm-title">{_esc(heading)}</span>{_badge(summary.get("passes"), t)}'
        "</div></summary>"
    ]
    if title and std.get(f"title_{lang}"):
        parts.append(f'<div class="pm-sub">{_esc(std.get(f"title_{lang}"))}</div>')
    if coverage:
        blocks, measured = [], []
        for entry, rule in zip(coverage, rules, strict=True):
            rate = entry.get("rate")
            pct = 0.0 if _is_missing(rate) else max(0.0, min(100.0, 100.0 * float(rate)))
            limit = f"≤ {_fmt(entry.get('max_walk_m'))} {t['m']}"
            if not _is_missing(entry.get("max_walk_min")):
                limit += f" / {_fmt(entry.get('max_walk_min'), 0)} {t['min']}"
            households = (
                f"{_fmt(entry.get('households_covered'))} / {_fmt(entry.get('households_total'))} "
                f"{t['households']}"
            )
            dot = f'<span class="pm-dot" style="background:{m.colour(rule.category)}"></span>'
            bar = (
                f'<span class="pm-bar"><i style="width:{pct:.1f}%"></i></span>'
                f'<b class="pm-rate">{_esc(_fmt(pct, 1))} %</b>'
            )
            if rule.required:
                blocks.append(
                    f'<div class="pm-rule"><div class="pm-rule-head">{dot}'
                    f'<span class="pm-rule-name">{_esc(rule.label)}</span>'
                    f"{_mark(entry.get('passes'), t)}</div>"
                    f'<div class="pm-rule-body">{bar}'
                    f'<span class="pm-na">{_esc(households)} · {_esc(limit)}</span></div></div>'
                )
            else:
                measured.append(
                    f'<div class="pm-mrule" title="{_esc(households)} · {_esc(limit)}">{dot}'
                    f'<span class="pm-rule-name">{_esc(rule.label)}</span>{bar}</div>'
                )
        if blocks:
            parts.append(f"<h4>{_esc(t['coverage'])}</h4>{''.join(blocks)}")
        if measured:
            parts.append(
                f'<details class="pm-more" open><summary><h4>{_esc(t["measured_title"])} '
                f"({len(measured)})</h4></summary>{''.join(measured)}</details>"
            )
    fa = summary.get("floor_area")
    if fa:
        unit = t["m2_per_100hh_unit"]
        items = [
            (
                t["fa_ratio"],
                f"{_fmt(fa.get('m2_per_100hh'), 1)} {unit} "
                f"(≥ {_fmt(fa.get('required_m2_per_100hh'), 0)})",
                _mark(fa.get("passes"), t),
            ),
            (t["fa_supply"], f"{_fmt(fa.get('supply_m2'))} m²", ""),
            (t["fa_required"], f"{_fmt(fa.get('required_m2'))} m²", ""),
            (t["fa_shortfall"], f"{_fmt(fa.get('shortfall_m2'))} m²", ""),
        ]
        rows = [
            f'<tr><th>{_esc(k)}</th><td class="pm-val">{_esc(v)}</td><td>{mark}</td></tr>'
            for k, v, mark in items
        ]
        title_fa = t["floor_area_title"]
        if fa.get("category"):
            title_fa = f"{title_fa} · {m.label(str(fa['category']))}"
        parts.append(
            f"<h4>{_esc(title_fa)} {_badge(fa.get('passes'), t)}</h4><table>{''.join(rows)}</table>"
        )
    hh = summary.get("households")
    if hh:
        method = _method_text(hh.get("method", ""), t)
        if hh.get("estimated") and t["method_estimate"] not in method:
            method = f"{method} ({t['method_estimate']})"
        total = _fmt(hh.get("total"))
        if hh.get("estimated"):
            total = f"{total} ({t['estimate']})"
        items2 = [
            (t["hh_total"], total),
            (t["hh_residences"], _fmt(hh.get("residences"))),
            (t["hh_off_network"], _fmt(hh.get("off_network_residences"))),
            (t["hh_method"], method),
        ]
        rows = [f'<tr><th>{_esc(k)}</th><td class="pm-val">{_esc(v)}</td></tr>' for k, v in items2]
        parts.append(f"<h4>{_esc(t['households_title'])}</h4><table>{''.join(rows)}</table>")
    params = summary.get("parameters") or {}
    if params:
        items3 = []
        if "speed_kmh" in params:
            items3.append((t["p_speed"], f"{_fmt(params['speed_kmh'], 1)} {t['km_h']}"))
        if "snap_cap_m" in params:
            items3.append((t["p_snap"], f"{_fmt(params['snap_cap_m'])} {t['m']}"))
        if "allocation" in params:
            alloc = params["allocation"]
            items3.append((t["fa_allocation"], t.get(f"alloc_{alloc}", str(alloc))))
        if "buffer_m" in params:
            items3.append((t["p_buffer"], f"{_fmt(params['buffer_m'])} {t['m']}"))
        rows = [f'<tr><th>{_esc(k)}</th><td class="pm-val">{_esc(v)}</td></tr>' for k, v in items3]
        parts.append(f"<h4>{_esc(t['parameters'])}</h4><table>{''.join(rows)}</table>")
    if gaps is not None and len(gaps) > 0 and max_gaps > 0:
        label_of = {r.key: r.label for r in rules}
        name_of: dict[str, str] = {}
        if residences is not None and "id" in residences and "name" in residences:
            for rid, rname in zip(
                _texts(residences["id"]), _texts(residences["name"]), strict=True
            ):
                if rid is not None and rname is not None:
                    name_of[rid] = rname
        items4 = []
        top = gaps.head(max_gaps)
        for row in top.itertuples(index=False):
            rid = str(getattr(row, "id", ""))
            who = name_of.get(rid, rid)
            cat = str(getattr(row, "category", ""))
            short = getattr(row, "short_by_m", float("nan"))
            short_text = (
                t["gap_unreachable"]
                if _is_missing(short) or math.isinf(float(short))
                else t["gap_over"].format(m=_fmt(short))
            )
            items4.append(
                "<li>"
                + _esc(
                    t["gap_line"].format(
                        who=who,
                        rule=label_of.get(cat, m.label(cat)),
                        hh=_fmt(getattr(row, "households", float("nan"))),
                        short=short_text,
                    )
                )
                + "</li>"
            )
        more = len(gaps) - len(top)
        if more > 0:
            items4.append(f'<li class="pm-na">{_esc(t["more"].format(n=f"{more:,}"))}</li>')
        parts.append(f'<h4>{_esc(t["gaps"])}</h4><ol class="pm-gaps">{"".join(items4)}</ol>')
    parts.append(f'<div class="pm-credit">{_esc(t["data_credit"])}: {OSM_ATTRIBUTION}</div>')
    parts.append("</details>")
    m.summary_markup = "".join(parts)


def _legend_markup(m: PlannerMap) -> str | None:
    if not m.legend:
        return None
    order = ("status", "ratio", "facilities", "bands", "network")
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


# --------------------------------------------------------------------------------------------
# Public entry points
# --------------------------------------------------------------------------------------------


def build_map(
    result: Any,
    *,
    lang: str = "zh",
    basemap: str = "osm",
    title: str | None = None,
    tianditu_key: str | None = None,
) -> PlannerMap:
    """The interactive map of a review.

    Parameters
    ----------
    result
        A `planner.checks.CheckResult` (or any object with its attributes ``residences``,
        ``facilities``, ``communities``, ``isochrones``, ``gaps``, ``summary``; and
        ``network``, drawn as the walking network under everything, when it has one).
    lang
        ``"zh"`` (default) or ``"en"``.
    basemap
        ``"osm"`` (default), ``"amap"``, ``"tianditu"`` (needs ``tianditu_key``) or ``"none"``.
    title
        Heading of the summary panel and page title; default: the standard's title.
    tianditu_key
        Tianditu API key, for ``basemap="tianditu"``.

    Returns
    -------
    PlannerMap
        A `folium.Map`; write it with `save_map`.

    Raises
    ------
    InputError
        Unknown ``lang``/``basemap``, a missing Tianditu key, or a result without the columns
        the map needs.
    """
    summary = dict(getattr(result, "summary", None) or {})
    text = _check_lang(lang)
    std = summary.get("standard") or {}
    page_title = title or std.get(f"title_{lang}") or text["title"]
    m = build_base_map(lang=lang, basemap=basemap, tianditu_key=tianditu_key, title=page_title)
    coverage = list(summary.get("coverage") or [])
    fa = summary.get("floor_area")
    required = None if not fa else float(fa.get("required_m2_per_100hh", _DEFAULT_REQUIRED_M2))
    params = summary.get("parameters") or {}
    speed = float(params.get("speed_kmh", DEFAULT_SPEED_KMH))
    # Colours: the floor-area category first, then the rules' categories, then the rest.
    order: list[str] = []
    if fa and fa.get("category"):
        order.append(str(fa["category"]))
    for entry in coverage:
        order.append(str(entry.get("category", entry.get("key"))))
        order.extend(str(c) for c in entry.get("accepted_categories") or ())
    m.register_categories(order)
    # Shown when the page opens: what the verdict depends on. The rest is one click away.
    focus: list[str] = []
    if fa and fa.get("category"):
        focus.append(str(fa["category"]))
    for entry in coverage:
        if entry.get("required", True):
            focus.append(str(entry.get("category", entry.get("key"))))
            focus.extend(str(c) for c in entry.get("accepted_categories") or ())
    focus = list(dict.fromkeys(focus)) or order
    # Layer-control order: what a planner looks at first. Drawing order (communities under
    # bands under residences; facility badges on top) is set in the page by rank.
    residences = getattr(result, "residences", None)
    if residences is not None and len(residences) > 0:
        add_residences(
            m,
            residences,
            coverage=coverage,
            speed_kmh=speed,
            required_m2_per_100hh=required,
        )
    facilities = getattr(result, "facilities", None)
    if facilities is not None and len(facilities) > 0:
        add_facilities(m, facilities, show=focus or None)
    isochrones = getattr(result, "isochrones", None)
    if isochrones is not None and len(isochrones) > 0:
        add_isochrones(m, isochrones, show=focus[:1] or None)
    communities = getattr(result, "communities", None)
    if communities is not None and len(communities) > 0:
        add_communities(m, communities, coverage=coverage, required_m2_per_100hh=required)
    network = getattr(result, "network", None)
    if network is not None:
        add_network(m, network)
    add_summary_panel(
        m,
        summary,
        gaps=getattr(result, "gaps", None),
        residences=residences,
        title=title,
    )
    return finish_map(m)


def isochrones_map(
    isochrones: gpd.GeoDataFrame,
    *,
    points: gpd.GeoDataFrame | None = None,
    network: Any | None = None,
    lang: str = "zh",
    basemap: str = "osm",
    tianditu_key: str | None = None,
) -> PlannerMap:
    """A map of walking bands (the ``planner isochrones --map`` output).

    Parameters
    ----------
    isochrones
        Polygons with ``band_min`` (and optionally ``band_m``, ``category``).
    points
        The facilities the bands start from, drawn on top (optional).
    network
        The walking network (a `planner.network.Network`), drawn under the bands (optional;
        see `add_network`).
    lang, basemap, tianditu_key
        As for `build_map`.

    Returns
    -------
    PlannerMap
    """
    text = _check_lang(lang)
    m = build_base_map(
        lang=lang,
        basemap=basemap,
        tianditu_key=tianditu_key,
        title=f"{text['layer_bands']} — {text['title']}",
    )
    band_cats: list[str] = []
    if "category" in isochrones.columns:
        band_cats = list(dict.fromkeys(str(c) for c in isochrones["category"].astype(object)))
    cats = list(band_cats)
    if points is not None and "category" in points.columns:
        cats.extend(str(c) for c in points["category"].astype(object).tolist())
    m.register_categories(dict.fromkeys(cats))
    # Bands of one or two categories are shown together; of more, the first (others a click
    # away); bands without a category (one layer) are shown whatever the points' categories.
    show = (band_cats if len(band_cats) <= 2 else band_cats[:1]) if band_cats else None
    add_isochrones(m, isochrones, show=show)
    if points is not None and len(points) > 0:
        add_facilities(m, points)
    if network is not None:
        add_network(m, network)
    return finish_map(m)


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
    log.info("wrote map %s (%.1f MB)", target, target.stat().st_size / 1e6)
    return target
