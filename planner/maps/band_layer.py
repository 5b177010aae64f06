"""A review's walking bands drawn from the reached street pieces, as the exact buffer.

A line stroked with round caps and joins ``2 × buffer_m`` wide is exactly that line's buffer,
so the page draws each band of a category as strokes of its reached pieces
(`planner.isochrones.served.ServedBands`), ``2 × buffer_m`` wide in pixels at the current zoom
and latitude: the same point set as the band's polygon in ``isochrones.gpkg`` (unioned by
`planner.isochrones`), holes included, with no union anywhere. The page strokes a band opaque
into an offscreen canvas and lays it on the map with the band's alpha once, so overlapping
strokes do not darken; a second, 1.2 px wider stroke gives the outline.

Encoding (``"PMLines"``, one data block per category): the lines' vertices as delta-coded
integer microdegrees (first vertex ``x0``, ``y0``; then ``d``: dx, dy per vertex, the first
(0, 0)), vertices per line ``n``. The wholly reached edges come first, ordered by the smallest
band that reaches them whole: band ``k`` draws lines ``[0, w[k])`` (bands nest) and its own
loose lines (partly reached pieces and access legs) ``[e[k][0], e[k][1])``; with ``nested``
(always, as a walk reaches more with more time) the page strokes each band over the smaller
one, only the lines ``[w[k-1], w[k])`` and its loose lines. Lines are simplified
by `_BAND_SIMPLIFY_M` in the network's CRS (the drawn area is within that of the polygon's).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any, Final

import numpy as np
import shapely

from planner.maps.encode import _delta_lines, _js
from planner.maps.layers import _bands_legend
from planner.maps.page import PlannerMap, _new_group

log = logging.getLogger(__name__)

_BAND_SIMPLIFY_M: Final = 0.5
_CELL_M: Final = 500.0  # lines of a segment are sent cell by cell (short deltas)


def _band_lines(m: PlannerMap, served: Any, rows: Sequence[int]) -> dict[str, Any]:
    """One category's bands (``rows`` of ``served.table``, smallest band first) as page data."""
    network = served.network
    whole_sets = [np.asarray(served.whole_edges(r), dtype=np.int64) for r in rows]
    segments: list[np.ndarray] = []
    seen = np.empty(0, dtype=np.int64)
    prefix: list[int] = []
    own_whole: list[np.ndarray] = []
    nested = True
    for whole in whole_sets:
        if np.isin(seen, whole, assume_unique=True).all():  # nests: a prefix of the table
            new = np.setdiff1d(whole, seen, assume_unique=True)
            segments.append(new)
            seen = np.concatenate((seen, new))
            own_whole.append(np.empty(0, dtype=np.int64))
        else:  # a band that does not hold the smaller one (never seen): its edges its own
            own_whole.append(whole)
            nested = False
        prefix.append(int(seen.shape[0]))
    groups = [_ordered(network.edge_geometry[s]) for s in segments]
    extras: list[tuple[int, int]] = []
    at = prefix[-1] if prefix else 0
    for r, own in zip(rows, own_whole, strict=True):
        loose = np.concatenate((network.edge_geometry[own], served.loose_pieces(r)))
        groups.append(_ordered(loose.astype(object)))
        extras.append((at, at + int(groups[-1].shape[0])))
        at = extras[-1][1]
    lines = np.concatenate(groups) if groups else np.empty(0, dtype=object)
    lines = shapely.simplify(lines, _BAND_SIMPLIFY_M, preserve_topology=False)
    enc = _delta_lines(lines, network.crs, gcj02=m.gcj02)
    table = served.table
    return {
        "type": "PMLines",
        **enc.fields(),
        "w": prefix,
        "nested": nested,
        "e": [list(e) for e in extras],
        "b": [float(table["band_min"].iloc[r]) for r in rows],
        "m": [round(float(table["band_m"].iloc[r])) for r in rows],
        "buffer_m": float(served.buffer_m),
        "bounds": _bounds(enc.lon, enc.lat, float(served.buffer_m)),
    }


def _ordered(lines: np.ndarray) -> np.ndarray:
    """Lines sorted by 500 m cell, then west to east: consecutive vertices lie close."""
    if lines.shape[0] < 2:
        return lines
    start = shapely.get_point(lines, 0)
    x, y = shapely.get_x(start), shapely.get_y(start)
    cx = np.floor((x - x.min()) / _CELL_M).astype(np.int64)
    cy = np.floor((y - y.min()) / _CELL_M).astype(np.int64)
    out: np.ndarray = lines[np.lexsort((x, cy * (int(cx.max()) + 1) + cx))]
    return out


def _bounds(lon: np.ndarray, lat: np.ndarray, buffer_m: float) -> list[float] | None:
    if lon.size == 0:
        return None
    pad_lat = buffer_m / 110_574.0
    pad_lon = buffer_m / (111_320.0 * max(math.cos(math.radians(float(np.mean(lat)))), 1e-6))
    return [
        float(lon.min() - pad_lon),
        float(lat.min() - pad_lat),
        float(lon.max() + pad_lon),
        float(lat.max() + pad_lat),
    ]


def add_bands(m: PlannerMap, served: Any, *, show: Sequence[str] | None = None) -> list[Any]:
    """Draw a review's walking bands from the reached street pieces, one layer per category.

    Parameters
    ----------
    m
        A map from `build_base_map`.
    served
        `planner.isochrones.served.ServedBands` (``CheckResult.bands``).
    show
        Categories shown when the page opens; default: the first one only.

    Returns
    -------
    list of folium.FeatureGroup
    """
    table = served.table
    cats = [str(c) for c in table["category"].astype(object).tolist()]
    present = list(dict.fromkeys(cats))
    ordered = [c for c in m.colours if c in present] + sorted(
        c for c in present if c not in m.colours
    )
    m.register_categories(ordered)
    shown = set(ordered[:1] if show is None else show)
    t = m.text
    groups = []
    all_bands: set[tuple[float, float | None]] = set()
    vertices = 0
    for cat in ordered:
        rows = sorted(
            (i for i, c in enumerate(cats) if c == cat),
            key=lambda i: float(table["band_min"].iloc[i]),
        )
        data = {"cat": cat, **_band_lines(m, served, rows)}
        vertices += len(data["d"]) // 2
        if data["bounds"] is not None and cat in shown:
            m.bounds.append(tuple(data["bounds"]))
        for b, bm in zip(data["b"], data["m"], strict=True):
            all_bands.add((b, bm))
        name = t["layer_isochrones"].format(label=m.label(cat))
        group = _new_group(m, name, key=f"isochrones:{cat}", show=cat in shown)
        m.add_script(
            group,
            f"PlannerMap.bands({m.get_name()}, {group.get_name()}, "
            f"{_js(m.add_data(_js(data)))}, {_js(m.colour(cat))});",
        )
        groups.append(group)
    _bands_legend(m, all_bands)
    log.info("walking bands: %d categories drawn from %d vertices", len(groups), vertices)
    return groups


__all__ = ["add_bands"]
