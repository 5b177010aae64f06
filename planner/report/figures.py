"""The report's maps, drawn with matplotlib (Agg) and no network: no basemap tiles.

Colours are the interactive map's (`planner.maps`): residence statuses, the categories'
palette in the order the map gives it, the walking bands' shading. Every map is drawn in the
review's UTM zone, so its scale bar is true and grid north is (within a degree) north.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planner._geo import utm_crs_of
from planner.maps import (
    NO_DATA_COLOUR,
    RATIO_COLOURS,
    STATUS_COLOURS,
    category_colours,
)
from planner.maps.texts import (
    _TEXT as MAP_TEXT,  # the map's own legend words, so the report's legends read the same
)
from planner.report.data import Review, as_bool
from planner.report.fonts import matplotlib_family

#: Community verdicts. planner.maps has no community palette yet (#15 adds the verdict map);
#: these are its residence and ratio colours: green passes, red misses coverage, orange
#: misses floor area, dark red misses both, grey has no households.
VERDICT_COLOURS: Final = {
    "compliant": STATUS_COLOURS["covered"],
    "fails_coverage": STATUS_COLOURS["uncovered"],
    "fails_floor_area": STATUS_COLOURS["partly"],
    "fails_both": RATIO_COLOURS[0],
    "no_households": NO_DATA_COLOUR,
}
VERDICTS: Final = tuple(VERDICT_COLOURS)

FIG_W_MM: Final = 174.0
MAP_H_MM: Final = 90.0  # the map's frame; the legend strip below it grows with its rows
_MAP_W_FRAC: Final = 0.98
DPI: Final = 200
_MM: Final = 1 / 25.4


def category_order(review: Review) -> list[str]:
    """Categories in the order `planner.maps.build_map` gives them colours."""
    order: list[str] = []
    for fa in review.floor_area:
        if fa.get("category"):
            order.append(str(fa["category"]))
    for entry in review.coverage:
        order.append(str(entry.get("category", entry.get("key"))))
        order.extend(str(c) for c in entry.get("accepted_categories") or ())
    return order


def colours(review: Review) -> dict[str, str]:
    return category_colours(category_order(review))


def community_verdict(row: pd.Series, review: Review) -> str:
    """One of `VERDICTS` for a row of ``communities.csv``."""
    households = pd.to_numeric(pd.Series([row.get("households")]), errors="coerce").iloc[0]
    if not (households > 0):
        return "no_households"
    keys = review.rule_keys()
    cov = [as_bool(row.get(f"coverage_ok_{k}")) for k in keys]
    fa = [as_bool(row.get(f"floor_area_ok_{k}")) for k in keys]
    fails_cov = any(v is False for v in cov)
    fails_fa = any(v is False for v in fa)
    if not (fails_cov or fails_fa):
        compliant = as_bool(row.get("compliant"))
        if compliant is False:  # the table knows a failure the columns do not show
            return "fails_coverage"
        return "compliant"
    if fails_cov and fails_fa:
        return "fails_both"
    return "fails_coverage" if fails_cov else "fails_floor_area"


def _setup() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    family = matplotlib_family()
    plt.rcParams.update(
        {
            "font.family": [family],
            "font.size": 8,
            "axes.unicode_minus": False,
            "svg.hashsalt": "planner",
        }
    )
    return plt


def _projected(frame: gpd.GeoDataFrame | None, crs: Any) -> gpd.GeoDataFrame | None:
    if frame is None or len(frame) == 0:
        return None
    frame = frame[~(frame.geometry.is_empty | frame.geometry.isna())]
    if len(frame) == 0:
        return None
    return frame.to_crs(crs)


def _review_crs(review: Review) -> Any:
    for frame in (review.community_shapes, review.residences, review.facilities):
        if frame is not None and len(frame):
            return utm_crs_of(frame.geometry.to_numpy())
    return None


def _nice_length(span_m: float) -> float:
    target = span_m / 4
    exp = 10 ** math.floor(math.log10(max(target, 1.0)))
    for step in (5, 2, 1):
        if step * exp <= target:
            return float(step * exp)
    return float(exp)


def _scale_bar_and_north(ax: Any, lang: str) -> None:
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    w, h = x1 - x0, y1 - y0
    length = _nice_length(w)
    bx, by = x0 + 0.04 * w, y0 + 0.05 * h
    half = length / 2
    bar_h = 0.012 * h
    ax.add_patch(
        _rect(
            bx - 0.015 * w,
            by - 0.02 * h,
            length + 0.07 * w,
            0.085 * h,
            face="#ffffff",
            edge="#ffffff",
            zorder=19,
            alpha=0.8,
        )
    )
    for i, face in enumerate(("#222222", "#ffffff")):
        ax.add_patch(_rect(bx + i * half, by, half, bar_h, face=face, edge="#222222", zorder=20))
    unit = "米" if lang == "zh" else "m"
    label = (
        f"{length / 1000:g} 公里"
        if (length >= 1000 and lang == "zh")
        else (f"{length / 1000:g} km" if length >= 1000 else f"{length:g} {unit}")
    )
    ax.text(bx, by + 2.2 * bar_h, "0", ha="center", va="bottom", fontsize=7, zorder=20)
    ax.text(bx + length, by + 2.2 * bar_h, label, ha="center", va="bottom", fontsize=7, zorder=20)
    # North arrow (grid north of the UTM zone).
    nx, ny = x1 - 0.06 * w, y1 - 0.16 * h
    ax.annotate(
        "",
        xy=(nx, ny + 0.09 * h),
        xytext=(nx, ny),
        arrowprops={
            "arrowstyle": "-|>,head_width=0.5,head_length=0.9",
            "color": "#222222",
            "lw": 1.4,
        },
        zorder=20,
    )
    ax.text(
        nx,
        ny + 0.10 * h,
        "北" if lang == "zh" else "N",
        ha="center",
        va="bottom",
        fontsize=9,
        zorder=20,
    )


def _rect(
    x: float, y: float, w: float, h: float, *, face: str, edge: str, zorder: int, alpha: float = 1.0
) -> Any:
    from matplotlib.patches import Rectangle

    return Rectangle(
        (x, y), w, h, facecolor=face, edgecolor=edge, linewidth=0.6, zorder=zorder, alpha=alpha
    )


def _draw_polygons(
    ax: Any,
    geoms: Sequence[Any],
    *,
    face: Sequence[str] | str,
    edge: str,
    alpha: float,
    lw: float,
    zorder: float,
    linestyle: Any = "-",
    edge_alpha: float = 1.0,
) -> None:
    from matplotlib.collections import PatchCollection
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path as MplPath

    patches = []
    faces = [face] * len(geoms) if isinstance(face, str) else list(face)
    kept_faces = []
    for geom, colour in zip(geoms, faces, strict=True):
        if geom is None or geom.is_empty:
            continue
        for poly in getattr(geom, "geoms", [geom]):
            if poly.geom_type != "Polygon":
                continue
            verts: list[Any] = []
            codes: list[Any] = []
            for ring in [poly.exterior, *poly.interiors]:
                xy = np.asarray(ring.coords)
                if len(xy) < 3:
                    continue
                verts.extend(xy.tolist())
                codes.extend(
                    [MplPath.MOVETO] + [MplPath.LINETO] * (len(xy) - 2) + [MplPath.CLOSEPOLY]
                )
            if verts:
                patches.append(PathPatch(MplPath(verts, codes)))
                kept_faces.append(colour)
    if not patches:
        return
    from matplotlib.colors import to_rgba

    fill = PatchCollection(
        patches,
        facecolors=[to_rgba(c, alpha) for c in kept_faces],
        edgecolors="none",
        zorder=zorder,
    )
    ax.add_collection(fill)
    outline = PatchCollection(
        patches,
        facecolors="none",
        edgecolors=[to_rgba(edge, edge_alpha)],
        linewidths=lw,
        linestyles=linestyle,
        zorder=zorder + 0.5,
    )
    ax.add_collection(outline)


def _extent(ax: Any, frames: Sequence[gpd.GeoDataFrame | None]) -> None:
    bounds = [f.total_bounds for f in frames if f is not None and len(f)]
    if not bounds:
        return
    b = np.array(bounds)
    x0, y0 = b[:, 0].min(), b[:, 1].min()
    x1, y1 = b[:, 2].max(), b[:, 3].max()
    w, h = max(x1 - x0, 200.0), max(y1 - y0, 200.0)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    # Fill the map frame's shape with the data, with a margin.
    ratio = FIG_W_MM * _MAP_W_FRAC / MAP_H_MM
    w, h = w * 1.12, h * 1.18
    if w / h < ratio:
        w = h * ratio
    else:
        h = w / ratio
    ax.set_xlim(cx - w / 2, cx + w / 2)
    ax.set_ylim(cy - h / 2, cy + h / 2)


def _new_figure(plt: Any) -> tuple[Any, Any]:
    fig = plt.figure(figsize=(FIG_W_MM * _MM, (MAP_H_MM + 20) * _MM), dpi=DPI)
    ax = fig.add_axes((0.01, 0.15, _MAP_W_FRAC, 0.84))  # placed again in `_finish`
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_color("#888888")
        spine.set_linewidth(0.6)
    ax.set_facecolor("#ffffff")
    return fig, ax


def _finish(fig: Any, ax: Any, handles: list[Any], lang: str, plt: Any) -> tuple[bytes, float]:
    """Scale bar, north arrow, the legend under the map; PNG bytes and the height in mm."""
    _scale_bar_and_north(ax, lang)
    rows = math.ceil(len(handles) / 3)
    strip = 3.0 + 4.6 * rows
    top = 1.5
    height = MAP_H_MM + strip + top
    fig.set_size_inches(FIG_W_MM * _MM, height * _MM)
    ax.set_position((0.01, strip / height, _MAP_W_FRAC, MAP_H_MM / height))
    if handles:
        fig.legend(
            handles=handles,
            loc="lower center",
            bbox_to_anchor=(0.5, 0.0),
            ncol=3,
            frameon=False,
            fontsize=7.5,
            handlelength=1.6,
            columnspacing=1.6,
            borderaxespad=0.3,
        )
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue(), height


def _patch(
    colour: str, label: str, *, alpha: float = 1.0, edge: str = "#444444", linestyle: Any = "-"
) -> Any:
    from matplotlib.patches import Patch

    return Patch(
        facecolor=colour,
        alpha=alpha,
        edgecolor=edge,
        linewidth=0.6,
        linestyle=linestyle,
        label=label,
    )


def _dot(
    colour: str, label: str, *, size: float = 5, edge: str = "#ffffff", linestyle: str = "-"
) -> Any:
    from matplotlib.lines import Line2D

    return Line2D(
        [],
        [],
        marker="o",
        linestyle="none",
        markersize=size,
        markerfacecolor=colour,
        markeredgecolor=edge,
        markeredgewidth=0.8,
        label=label,
    )


def _facility_points(
    ax: Any,
    fac: gpd.GeoDataFrame | None,
    cats: Sequence[str],
    palette: dict[str, str],
    labels: dict[str, str],
    proposed_word: str,
) -> list[Any]:
    handles: list[Any] = []
    if fac is None or "category" not in fac:
        return handles
    for cat in dict.fromkeys(cats):
        sub = fac[fac["category"].astype(str) == cat]
        if not len(sub):
            continue
        proposed = (
            sub["proposed"].map(as_bool).fillna(False).astype(bool).to_numpy()
            if "proposed" in sub
            else np.zeros(len(sub), dtype=bool)
        )
        colour = palette.get(cat, "#1f78b4")
        xy = shapely.get_coordinates(sub.geometry.representative_point().to_numpy())
        if (~proposed).any():
            ax.scatter(
                xy[~proposed, 0],
                xy[~proposed, 1],
                s=46,
                c=colour,
                marker="s",
                edgecolors="#ffffff",
                linewidths=0.9,
                zorder=12,
            )
        if proposed.any():
            ax.scatter(
                xy[proposed, 0],
                xy[proposed, 1],
                s=70,
                c=colour,
                marker="s",
                edgecolors="#111111",
                linewidths=1.1,
                linestyles="--",
                zorder=13,
            )
        from matplotlib.lines import Line2D

        handles.append(
            Line2D(
                [],
                [],
                marker="s",
                linestyle="none",
                markersize=6,
                markerfacecolor=colour,
                markeredgecolor="#ffffff",
                label=labels.get(cat, cat),
            )
        )
        if proposed.any():
            handles.append(
                Line2D(
                    [],
                    [],
                    marker="s",
                    linestyle="none",
                    markersize=6,
                    markerfacecolor=colour,
                    markeredgecolor="#111111",
                    label=proposed_word,
                )
            )
    return handles


def _community_frame(review: Review, crs: Any) -> gpd.GeoDataFrame | None:
    shapes = _projected(review.community_shapes, crs)
    if shapes is None:
        return None
    table = review.communities
    shapes = shapes.copy()
    key = "community_id" if "community_id" in shapes else ("id" if "id" in shapes else None)
    if table is not None and key is not None and "community_id" in table:
        extra = [c for c in table.columns if c not in shapes.columns or c == "community_id"]
        left = shapes[key].astype(str)
        right = table[extra].copy()
        right["community_id"] = right["community_id"].astype(str)
        merged = pd.DataFrame({"_k": left}).merge(
            right, left_on="_k", right_on="community_id", how="left"
        )
        for col in extra:
            if col != "community_id" or key != "community_id":
                shapes[col] = merged[col].to_numpy()
    shapes["_verdict"] = [community_verdict(row, review) for _, row in shapes.iterrows()]
    return shapes


def overview_figure(
    review: Review, lang: str, labels: dict[str, str], words: dict[str, str]
) -> tuple[bytes, float] | None:
    """Communities by verdict (or residences by status) with the rules' facilities."""
    crs = _review_crs(review)
    if crs is None:
        return None
    plt = _setup()
    text = MAP_TEXT[lang]
    palette = colours(review)
    fig, ax = _new_figure(plt)
    handles: list[Any] = []
    comm = _community_frame(review, crs)
    res = _projected(review.residences, crs)
    fac = _projected(review.facilities, crs)
    if comm is not None:
        face = [VERDICT_COLOURS[v] for v in comm["_verdict"]]
        _draw_polygons(
            ax, list(comm.geometry), face=face, edge="#555555", alpha=0.55, lw=0.6, zorder=2
        )
        if "subdistrict" in comm and comm["subdistrict"].notna().any():
            sub = comm.dissolve(by="subdistrict")
            _draw_polygons(
                ax, list(sub.geometry), face="#000000", edge="#222222", alpha=0.0, lw=1.6, zorder=4
            )
        present = [v for v in VERDICTS if v in set(comm["_verdict"])]
        handles += [_patch(VERDICT_COLOURS[v], words[f"v_{v}"], alpha=0.55) for v in present]
        if len(comm) <= 40 and "name" in comm:
            import matplotlib.patheffects as pe

            points = comm.geometry.representative_point()
            for name, pt in zip(comm["name"], points, strict=True):
                if isinstance(name, str) and name:
                    ax.text(
                        pt.x,
                        pt.y,
                        name,
                        ha="center",
                        va="center",
                        fontsize=7,
                        color="#111111",
                        zorder=15,
                        path_effects=[pe.withStroke(linewidth=2.2, foreground="white")],
                    )
        if res is not None:
            ax.scatter(
                *shapely.get_coordinates(res.geometry.representative_point().to_numpy()).T,
                s=3,
                c="#555555",
                linewidths=0,
                zorder=6,
                alpha=0.6,
            )
    elif res is not None:
        status = res["status"].astype(str) if "status" in res else pd.Series(["covered"] * len(res))
        xy = shapely.get_coordinates(res.geometry.representative_point().to_numpy())
        for key in ("covered", "partly", "uncovered", "off_network"):
            mask = (status == key).to_numpy()
            if mask.any():
                ax.scatter(
                    xy[mask, 0],
                    xy[mask, 1],
                    s=14,
                    c=STATUS_COLOURS[key],
                    edgecolors="#333333" if key == "uncovered" else "#ffffff",
                    linewidths=0.4,
                    zorder=6,
                )
                handles.append(_dot(STATUS_COLOURS[key], text[key]))
    cats: list[str] = []
    for fa in review.floor_area:
        if fa.get("category"):
            cats.append(str(fa["category"]))
    for entry in review.required:
        cats.extend(str(c) for c in entry.get("accepted_categories") or [entry.get("category")])
    handles += _facility_points(ax, fac, cats, palette, labels, words["proposed"])
    frames = [comm] if comm is not None else [res]
    _extent(ax, frames)
    return _finish(fig, ax, handles, lang, plt)


def coverage_figure(
    review: Review, entry: dict[str, Any], lang: str, labels: dict[str, str], words: dict[str, str]
) -> tuple[bytes, float] | None:
    """One required rule: its served bands, residences within or beyond the walk."""
    crs = _review_crs(review)
    if crs is None:
        return None
    plt = _setup()
    text = MAP_TEXT[lang]
    palette = colours(review)
    key = str(entry.get("key", entry.get("category")))
    cats = [str(c) for c in entry.get("accepted_categories") or [entry.get("category", key)]]
    colour = palette.get(cats[0], "#1f78b4")
    fig, ax = _new_figure(plt)
    handles: list[Any] = []
    comm = _projected(review.community_shapes, crs)
    if comm is not None:
        _draw_polygons(
            ax, list(comm.geometry), face="#ffffff", edge="#9a9a9a", alpha=0.0, lw=0.6, zorder=1
        )
        handles.append(_patch("#ffffff", words["community_outline"], edge="#9a9a9a"))
    iso = _projected(review.isochrones, crs)
    if iso is not None and "category" in iso and "band_min" in iso:
        iso = iso[iso["category"].astype(str).isin(cats)].copy()
        iso["_b"] = pd.to_numeric(iso["band_min"], errors="coerce")
        bands = sorted(set(iso["_b"].dropna().tolist()))
        n = len(bands)
        for k in range(n - 1, -1, -1):  # largest first, so the smaller bands lie on top
            band = bands[k]
            sub = iso[iso["_b"] == band]
            alpha = 0.10 + 0.06 * (n - 1 - k)  # the map's fillOpacity
            _draw_polygons(
                ax,
                list(sub.geometry),
                face=colour,
                edge=colour,
                alpha=alpha,
                lw=0.6,
                zorder=3 + (n - k) * 0.01,
                linestyle="--" if k == n - 1 else "-",
                edge_alpha=0.75,
            )
        for k, band in enumerate(bands):
            band_m = pd.to_numeric(iso.loc[iso["_b"] == band, "band_m"], errors="coerce")
            metres = f"{band_m.iloc[0]:.0f}" if "band_m" in iso and band_m.notna().any() else "—"
            shade = 1.0 - math.prod(1.0 - (0.10 + 0.06 * (n - 1 - j)) for j in range(k, n))
            handles.append(
                _patch(
                    colour,
                    text["band"].format(min=f"{band:g}", m=metres),
                    alpha=min(1.0, shade),
                    edge=colour,
                )
            )
    res = _projected(review.residences, crs)
    col = f"covered_{key}"
    if res is not None and col in res:
        covered = res[col].map(as_bool)
        on_net = (
            res["on_network"].map(as_bool).fillna(True).astype(bool)
            if "on_network" in res
            else pd.Series(True, index=res.index)
        )
        xy = shapely.get_coordinates(res.geometry.representative_point().to_numpy())
        groups = (
            ("covered", (covered == True) & on_net),  # noqa: E712 - object column of flags
            ("uncovered", (covered == False) & on_net),  # noqa: E712
            ("off_network", ~on_net),
        )
        for status, mask in groups:
            m = mask.to_numpy(dtype=bool)
            if m.any():
                ax.scatter(
                    xy[m, 0],
                    xy[m, 1],
                    s=16 if status == "uncovered" else 12,
                    c=STATUS_COLOURS[status],
                    edgecolors="#333333" if status == "uncovered" else "#ffffff",
                    linewidths=0.5 if status == "uncovered" else 0.4,
                    zorder=7,
                )
                handles.append(_dot(STATUS_COLOURS[status], words[f"res_{status}"]))
    fac = _projected(review.facilities, crs)
    handles += _facility_points(ax, fac, cats, palette, labels, words["proposed"])
    _extent(ax, [comm if comm is not None else res])
    return _finish(fig, ax, handles, lang, plt)


__all__ = [
    "VERDICTS",
    "VERDICT_COLOURS",
    "category_order",
    "colours",
    "community_verdict",
    "coverage_figure",
    "overview_figure",
]
