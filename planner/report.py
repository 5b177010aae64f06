"""Outputs of a review: tables, summary.json, the map, exit codes; written atomically.

Every file is first written into a staging folder next to the output folder and moved into place
only when all of them are complete, so a failed run never leaves a half-written output.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

EXIT_PASS = 0
EXIT_FAIL = 1
EXIT_BAD_INPUT = 2

_FIXED_GPKG_DATE = "2000-01-01T00:00:00Z"  # GeoPackage timestamps pinned: identical bytes per run


def exit_code(summary: dict[str, Any]) -> int:
    """0 when every standard passes, 1 when one fails."""
    return EXIT_PASS if summary["passes"] else EXIT_FAIL


def file_sha256(path: str | os.PathLike[str]) -> str:
    """sha256 of a file, or of a folder's files (sorted by name) for a saved network."""
    digest = hashlib.sha256()
    target = Path(path)
    files = sorted(p for p in target.rglob("*") if p.is_file()) if target.is_dir() else [target]
    for file in files:
        with file.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def jsonable(value: Any) -> Any:
    """Recursively turn numpy scalars, NaN and inf into plain JSON values (NaN/inf -> None)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is pd.NA:
        return None
    return value


def summary_json(summary: dict[str, Any]) -> str:
    """The summary as stable, human-readable JSON (UTF-8, sorted as built, no NaN)."""
    return json.dumps(jsonable(summary), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def compare_summaries(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Before/after figures of a proposed plan, side by side."""
    rows = []
    after_cov = {c["key"]: c for c in after["coverage"]}
    for c in before["coverage"]:
        a = after_cov.get(c["key"])
        if a is None:
            continue
        rows.append(
            {
                "key": c["key"],
                "rate_before": c["rate"],
                "rate_after": a["rate"],
                "households_covered_before": c["households_covered"],
                "households_covered_after": a["households_covered"],
                "passes_before": c["passes"],
                "passes_after": a["passes"],
            }
        )
    fa_b, fa_a = before.get("floor_area"), after.get("floor_area")
    floor = None
    if fa_b is not None and fa_a is not None:
        floor = {
            "m2_per_100hh_before": fa_b["m2_per_100hh"],
            "m2_per_100hh_after": fa_a["m2_per_100hh"],
            "shortfall_m2_before": fa_b["shortfall_m2"],
            "shortfall_m2_after": fa_a["shortfall_m2"],
            "passes_before": fa_b["passes"],
            "passes_after": fa_a["passes"],
        }
    return {
        "passes_before": before["passes"],
        "passes_after": after["passes"],
        "coverage": rows,
        "floor_area": floor,
    }


@contextmanager
def staged_output(out_dir: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a staging folder; on success move its files into ``out_dir``, else remove it."""
    target = Path(out_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
    try:
        yield stage
        target.mkdir(parents=True, exist_ok=True)
        for item in sorted(stage.iterdir()):
            os.replace(item, target / item.name)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def replace_atomically(path: str | os.PathLike[str], write: Callable[[Path], None]) -> Path:
    """Call ``write`` on a hidden file beside ``path``, then rename it: never a partial file."""
    target = Path(path)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=target.suffix, dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        tmp.unlink()
        write(tmp)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


def write_layer_atomic(frame: gpd.GeoDataFrame, path: str | os.PathLike[str]) -> Path:
    """`write_layer` to ``path`` through `replace_atomically` (layer named after the file)."""
    target = Path(path)
    return replace_atomically(target, lambda tmp: write_layer(frame, tmp, layer=target.stem))


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns that every format writes the same way: nullable and object ids as text or numbers."""
    out = frame.copy()
    geometry_name = out.geometry.name if isinstance(out, gpd.GeoDataFrame) else None
    for name in out.columns:
        if name == geometry_name:
            continue
        col = out[name]
        if isinstance(col.dtype, pd.BooleanDtype):
            out[name] = col.astype("float64").where(col.notna(), np.nan)
        elif col.dtype == object:
            values = col.to_numpy()
            if all(isinstance(v, bool | np.bool_) for v in values if v is not None):
                out[name] = col.astype("boolean")
            else:
                out[name] = col.astype("string")
    return out


def write_layer(frame: gpd.GeoDataFrame, path: Path, *, layer: str | None = None) -> None:
    """Write a GeoDataFrame as GeoPackage or GeoJSON, with pinned timestamps for GeoPackage.

    Through GDAL's Arrow writer: the same features, written 1.6-2.7x faster than feature by
    feature (200,000 residences).

    The GeoPackage layer is named ``layer``, by default the file's stem.
    """
    import pyogrio

    clean = _plain(frame)
    if path.suffix == ".gpkg":
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": _FIXED_GPKG_DATE})
        try:
            clean.to_file(
                path, driver="GPKG", layer=layer or path.stem, engine="pyogrio", use_arrow=True
            )
        finally:
            pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": None})
    else:
        clean.to_file(
            path, driver="GeoJSON", engine="pyogrio", use_arrow=True, COORDINATE_PRECISION=7
        )


def write_review(
    result: Any,
    out_dir: str | os.PathLike[str],
    *,
    lang: str = "zh",
    basemap: str = "osm",
    tianditu_key: str | None = None,
    baseline: Any | None = None,
    map_html: bool = True,
) -> dict[str, Path]:
    """Write the output contract of DESIGN.md into ``out_dir``.

    Files: ``map.html``, ``residences.gpkg``/``.geojson``/``.csv``, ``facilities.gpkg``/``.csv``,
    ``communities.gpkg`` (when given), ``gaps.csv``, ``summary.json``. With ``baseline`` (the
    review without the proposed plan), ``summary.json`` also holds the before/after comparison.

    Returns
    -------
    dict
        File kind to the path written.
    """
    summary = dict(result.summary)
    if baseline is not None:
        summary["baseline"] = {
            "passes": baseline.summary["passes"],
            "coverage": baseline.summary["coverage"],
            "floor_area": baseline.summary["floor_area"],
        }
        summary["comparison"] = compare_summaries(baseline.summary, result.summary)
    names: dict[str, str] = {
        "summary": "summary.json",
        "residences": "residences.gpkg",
        "residences_geojson": "residences.geojson",
        "residences_csv": "residences.csv",
        "facilities": "facilities.gpkg",
        "facilities_csv": "facilities.csv",
        "gaps": "gaps.csv",
    }
    with staged_output(out_dir) as stage:
        (stage / names["summary"]).write_text(summary_json(summary), encoding="utf-8")
        write_layer(result.residences, stage / names["residences"])
        write_layer(result.residences, stage / names["residences_geojson"])
        _write_csv(result.residences, stage / names["residences_csv"])
        write_layer(result.facilities, stage / names["facilities"])
        _write_csv(result.facilities, stage / names["facilities_csv"])
        result.gaps.to_csv(stage / names["gaps"], index=False, float_format="%.3f")
        if result.communities is not None:
            names["communities"] = "communities.gpkg"
            write_layer(result.communities, stage / names["communities"])
        if result.isochrones is not None and len(result.isochrones):
            names["isochrones"] = "isochrones.gpkg"
            write_layer(result.isochrones, stage / names["isochrones"])
        if map_html:
            from planner.maps import build_map, save_map

            names["map"] = "map.html"
            the_map = build_map(result, lang=lang, basemap=basemap, tianditu_key=tianditu_key)
            save_map(the_map, stage / names["map"])
    target = Path(out_dir)
    return {kind: target / name for kind, name in names.items()}


def _write_csv(frame: gpd.GeoDataFrame, path: Path) -> None:
    table = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    table.insert(1, "lon", np.round(frame.geometry.x.to_numpy(), 7))
    table.insert(2, "lat", np.round(frame.geometry.y.to_numpy(), 7))
    table.to_csv(path, index=False, float_format="%.6f")
