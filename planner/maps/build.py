"""The two maps the tool writes: a review's (`build_map`) and walking bands' (`isochrones_map`)."""

from __future__ import annotations

from typing import Any

import geopandas as gpd

from planner.maps.band_layer import add_bands
from planner.maps.community_layer import add_communities
from planner.maps.layers import add_facilities, add_isochrones, add_residences
from planner.maps.network_layer import add_network
from planner.maps.page import _DEFAULT_REQUIRED_M2, PlannerMap, build_base_map, finish_map
from planner.maps.panels import add_summary_panel
from planner.maps.texts import _check_lang
from planner.schema import DEFAULT_SPEED_KMH


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
    bands = getattr(result, "bands", None)
    isochrones = getattr(result, "isochrones", None)
    if bands is not None and len(bands) > 0:  # strokes of the reached pieces: the exact area
        add_bands(m, bands, show=focus[:1] or None)
    elif isochrones is not None and len(isochrones) > 0:
        add_isochrones(m, isochrones, show=focus[:1] or None)
    communities = getattr(result, "communities", None)
    if communities is not None and len(communities) > 0:
        add_communities(m, communities, summary=summary)
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
