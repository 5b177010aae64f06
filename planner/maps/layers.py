"""The review's layers: residences, facilities, walking bands and communities.

Each ``add_*`` function takes a `PlannerMap` from `planner.maps.page.build_base_map` and a
GeoDataFrame of the review, puts the layer's data in the page (`planner.maps.encode`), adds
one toggleable layer (or one per category) and its legend rows. Residences are compact column
arrays drawn on their own canvas; bands and communities are simplified polygons.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planner.errors import InputError
from planner.maps.encode import (
    _esc,
    _flags,
    _js,
    _numbers,
    _ring_collection,
    _texts,
)
from planner.maps.page import (
    _DEFAULT_REQUIRED_M2,
    NO_DATA_COLOUR,
    RATIO_BREAKS,
    RATIO_COLOURS,
    STATUS_COLOURS,
    PlannerMap,
    _new_group,
    _set_cfg,
)
from planner.maps.texts import _glyph, _rules_from_coverage
from planner.schema import DEFAULT_SPEED_KMH, STATUSES, column

log = logging.getLogger(__name__)


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
    _bands_legend(m, all_bands)
    return groups


def _bands_legend(m: PlannerMap, all_bands: set[tuple[float, float | None]]) -> None:
    """The legend rows of the walking bands: the shade each band shows over the larger ones."""
    t = m.text
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
