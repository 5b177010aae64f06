"""The walking network drawn under every other layer: thin grey lines by street class.

`add_network` merges the edges of each OSM way, simplifies them (2 m; 10 m beyond
`NETWORK_LARGE_EDGES` edges, said in the legend) and sends them as delta-coded integer
microdegrees (about 10 bytes a vertex), grouped in 1 km cells that the page draws from one
cached ``Path2D`` per cell, line class and zoom level.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from planner._geo import metric_crs
from planner.errors import InputError
from planner.maps.encode import _delta_lines, _esc, _js
from planner.maps.page import PlannerMap, _new_group

log = logging.getLogger(__name__)


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
    enc = _delta_lines(lines, crs, gcj02=m.gcj02)
    _, cell_counts = np.unique(cell, return_counts=True)
    data = {
        **enc.fields(),
        "c": (line_cls.astype(np.uint8) + 48).tobytes().decode("ascii"),
        "cells": cell_counts.tolist(),
        "simplify_m": simplify_m,
    }
    return _NetworkLines(
        data=data,
        edges=n_edges,
        lines=len(lines),
        vertices=len(enc.lon),
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
