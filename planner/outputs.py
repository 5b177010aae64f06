"""Every file planner writes: a review, a proposal, isochrones, demo inputs; and the exit codes.

Analysis modules return frames and summaries; this module turns them into files. Every file is
first written into a staging folder (or a hidden file) next to its target and moved into place
only when complete (`planner._files`), so a failed run never leaves a half-written output.
See docs/ARCHITECTURE.md, "Output contract".
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from planner._files import jsonable, replace_atomically, staged_output
from planner.communities import brief_rows
from planner.compare import compare_summaries
from planner.errors import InputError
from planner.osm.buildings import HOUSEHOLDS_PER_COMMUNITY, demo_inputs

if TYPE_CHECKING:
    from planner.checks import CheckResult
    from planner.siting import Proposal

EXIT_PASS = 0  # every standard passes
EXIT_FAIL = 1  # a standard fails
EXIT_BAD_INPUT = 2  # bad input or options, refused before any work (or a layer that cannot be used)
EXIT_FAULT = 3  # the machine failed the run: disk full, read-only folder, no permission, memory
EXIT_INTERNAL = 4  # a bug in planner (an error it did not expect); nothing was written
EXIT_SIGINT = 130  # interrupted by Ctrl-C (SIGINT): nothing was written, the staging removed
EXIT_SIGTERM = 143  # stopped by SIGTERM: as for SIGINT

_FIXED_GPKG_DATE = "2000-01-01T00:00:00Z"  # GeoPackage timestamps pinned: identical bytes per run
CSV_ENCODING: Final = "utf-8-sig"  # UTF-8 with a BOM: Chinese Excel opens it without garbling


def exit_code(summary: dict[str, Any]) -> int:
    """0 when every standard passes, 1 when one fails."""
    return EXIT_PASS if summary["passes"] else EXIT_FAIL


def summary_json(summary: dict[str, Any]) -> str:
    """The summary as stable, human-readable JSON (UTF-8, sorted as built, no NaN)."""
    return json.dumps(jsonable(summary), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


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
    result: CheckResult,
    out_dir: str | os.PathLike[str],
    *,
    lang: str = "zh",
    basemap: str = "osm",
    tianditu_key: str | None = None,
    baseline: CheckResult | None = None,
    map_html: bool = True,
    offset_system: str | None = None,
    workbook: bool = True,
    report: Mapping[str, Any] | None = None,
) -> dict[str, Path]:
    """Write the output contract (docs/ARCHITECTURE.md) into ``out_dir``.

    Files: ``map.html``, ``residences.gpkg``/``.geojson``/``.csv``, ``facilities.gpkg``/``.csv``,
    ``communities.gpkg``/``.csv``, ``subdistricts.csv`` and ``districts.csv`` (with communities
    and those levels), ``gaps.csv``, ``summary.json``, ``review.xlsx`` (the
    tables in the review's language, `planner.workbook`). With ``baseline`` (the review without
    the proposed plan), ``summary.json`` also holds the before/after comparison. CSV files are
    UTF-8 with a BOM (`CSV_ENCODING`).

    Parameters
    ----------
    offset_system
        ``"gcj02"`` or ``"bd09"`` when the inputs were in that system: ``residences.csv``,
        ``facilities.csv`` and the workbook also carry ``lon_<system>``/``lat_<system>``.
        GeoPackage and GeoJSON stay WGS84 only.
    workbook
        Write ``review.xlsx`` (default True).
    report
        Also write ``report.pdf`` and ``report.html`` (`planner.report.write_report`), with
        these keyword arguments (``lang``, ``title``, ``district``, ``organisation``,
        ``date``); None (default) writes no report. The report is built inside the staging
        folder from the files just written, so it is moved into place with them or not at all.

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
        before_communities = brief_rows(baseline.summary.get("communities"))
        if before_communities is not None:
            summary["baseline"]["communities"] = before_communities
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
        _write_csv(result.residences, stage / names["residences_csv"], offset_system)
        write_layer(result.facilities, stage / names["facilities"])
        _write_csv(result.facilities, stage / names["facilities_csv"], offset_system)
        write_table_csv(result.gaps, stage / names["gaps"], float_format="%.3f")
        if result.communities is not None:
            names["communities"] = "communities.gpkg"
            names["communities_csv"] = "communities.csv"
            write_layer(result.communities, stage / names["communities"])
            table = pd.DataFrame(result.communities.drop(columns=result.communities.geometry.name))
            write_table_csv(table, stage / names["communities_csv"])
        for level, frame in (
            ("subdistricts", result.subdistricts),
            ("districts", result.districts),
        ):
            if frame is not None:
                names[level] = f"{level}.csv"
                write_table_csv(frame, stage / names[level])
        if result.isochrones is not None and len(result.isochrones):
            names["isochrones"] = "isochrones.gpkg"
            write_layer(result.isochrones, stage / names["isochrones"])
        if map_html:
            from planner.maps import build_map, save_map

            names["map"] = "map.html"
            the_map = build_map(result, lang=lang, basemap=basemap, tianditu_key=tianditu_key)
            save_map(the_map, stage / names["map"])
        if workbook:
            from planner.workbook import write_workbook

            names["workbook"] = "review.xlsx"
            write_workbook(
                result, stage / names["workbook"], lang=lang, offset_system=offset_system
            )
        if report is not None:
            names.update(_write_report(stage, Path(out_dir), {"lang": lang, **report}))
    target = Path(out_dir)
    return {kind: target / name for kind, name in names.items()}


def _write_report(stage: Path, target: Path, options: Mapping[str, Any]) -> dict[str, str]:
    """``report.pdf``/``.html`` into the staging folder ``stage`` of ``target``; their names."""
    from planner.report import write_report

    written = write_report(stage, final_dir=target.resolve(), **options)
    return {f"report_{kind}": path.name for kind, path in written.items()}


def write_table_csv(frame: pd.DataFrame, path: Path, *, float_format: str = "%.6f") -> None:
    """A table as CSV the way every review table is written: UTF-8 with BOM, no index."""
    frame.to_csv(path, index=False, float_format=float_format, encoding=CSV_ENCODING)


def _write_csv(frame: gpd.GeoDataFrame, path: Path, offset_system: str | None = None) -> None:
    from planner.workbook import point_table

    write_table_csv(point_table(frame, offset_system), path)


def write_demo_inputs(
    osm_path: str | Path,
    out_dir: str | Path,
    *,
    residences: Literal["buildings", "communities"] = "buildings",
    m2_per_household: Any = None,
    default_levels: Any = None,
    households_per_community: float = HOUSEHOLDS_PER_COMMUNITY,
) -> dict[str, Any]:
    """Write ``facilities.gpkg`` and ``residences.gpkg`` for a review of an OSM extract.

    Both files are written into a staging folder first and moved into ``out_dir`` only when
    both are complete; GeoPackage timestamps are pinned, so the same file gives the same bytes.

    Parameters
    ----------
    osm_path
        An ``.osm``, ``.osm.bz2`` or ``.osm.pbf`` file.
    out_dir
        Folder to write into (created when missing; other files in it are left alone).
    residences
        How residences are made: ``"buildings"`` or ``"communities"`` (see
        :func:`planner.pois.read_osm_residences`).
    m2_per_household, default_levels, households_per_community
        As for :func:`planner.pois.read_osm_residences`.

    Returns
    -------
    dict
        ``facilities`` (count), ``residences`` (count), ``households`` (estimated total),
        ``categories`` (facilities per category).

    Raises
    ------
    InputError
        As for :func:`read_osm_facilities` and :func:`planner.pois.read_osm_residences`.
    """
    facilities, homes = demo_inputs(
        osm_path,
        residences=residences,
        m2_per_household=m2_per_household,
        default_levels=default_levels,
        households_per_community=households_per_community,
    )
    with staged_output(out_dir) as stage:
        write_layer(facilities, stage / "facilities.gpkg")
        write_layer(homes, stage / "residences.gpkg")
    return {
        "facilities": len(facilities),
        "residences": len(homes),
        "households": round(float(homes["households"].sum()), 1),
        "categories": dict(sorted(Counter(facilities["category"].tolist()).items())),
    }


_DRIVERS: Final = {".gpkg": "GPKG", ".geojson": "GeoJSON"}


def write_isochrones(gdf: gpd.GeoDataFrame, path: str | os.PathLike[str]) -> Path:
    """Write isochrones to a GeoPackage (.gpkg, layer ``isochrones``) or GeoJSON (.geojson).

    The file is written next to its target under a temporary name, then moved into place
    (``os.replace``): readers never see a half-written file.

    Parameters
    ----------
    gdf
        Isochrones from `planner.isochrones`.
    path
        Target file; its suffix chooses the format.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    InputError
        An unsupported suffix or a missing folder.
    """
    target = Path(path)
    driver = _DRIVERS.get(target.suffix.lower())
    if driver is None:
        raise InputError(
            f"{target}: cannot write isochrones as {target.suffix or 'a file without suffix'}; "
            "use .gpkg or .geojson."
        )
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise InputError(f"{target}: the folder {folder} does not exist; create it first.")
    frame = gdf.copy()
    frame.attrs = {}
    # GeoJSON: unique feature ids, so readers do not take the (repeated) point ids for them.
    options = {"layer": "isochrones"} if driver == "GPKG" else {"ID_GENERATE": "YES"}
    return replace_atomically(
        target, lambda tmp: frame.to_file(tmp, driver=driver, engine="pyogrio", **options)
    )


def write_proposal(
    proposal: Proposal,
    out_dir: str | os.PathLike[str],
    *,
    lang: str = "zh",
    basemap: str = "osm",
    tianditu_key: str | None = None,
    map_html: bool = True,
    offset_system: str | None = None,
    workbook: bool = True,
    report: Mapping[str, Any] | None = None,
) -> dict[str, Path]:
    """Write a proposal: ``proposals.gpkg`` and the after-review with the before/after summary.

    Files: ``proposals.gpkg`` and ``proposals.csv`` (one row per proposed site, with its
    community and sub-district when communities are given), ``proposal.json`` (the proposal's
    summary), ``uncoverable.csv``, ``expansions.csv``, with communities ``community_plan.csv``
    (each community before and after, `Proposal.communities`), and the output contract of the
    *after*
    review (`write_review` with ``baseline=before``: ``summary.json`` with the
    comparison, ``facilities.gpkg`` with the proposed sites flagged ``proposed``, the map...).
    Everything is staged and moved into ``out_dir`` only when all is written; with ``report``
    (as for `write_review`) the report, with the proposals, is written last inside the stage.

    Returns
    -------
    dict
        File kind to the path written.
    """
    target = Path(out_dir)
    with staged_output(target) as stage:
        written = write_review(
            proposal.after,
            stage / "review",
            lang=lang,
            basemap=basemap,
            tianditu_key=tianditu_key,
            baseline=proposal.before,
            map_html=map_html,
            offset_system=offset_system,
            workbook=workbook,
        )
        for path in written.values():
            path.rename(stage / path.name)
        (stage / "review").rmdir()
        write_layer(proposal.sites, stage / "proposals.gpkg")
        _write_csv(proposal.sites, stage / "proposals.csv", offset_system)
        if proposal.communities is not None:
            write_table_csv(proposal.communities, stage / "community_plan.csv", float_format="%.3f")
        (stage / "proposal.json").write_text(summary_json(proposal.summary), encoding="utf-8")
        write_table_csv(proposal.uncoverable, stage / "uncoverable.csv", float_format="%.3f")
        write_table_csv(proposal.expansions, stage / "expansions.csv", float_format="%.3f")
        reports = {} if report is None else _write_report(stage, target, {"lang": lang, **report})
    paths = {kind: target / path.name for kind, path in written.items()}
    paths.update({kind: target / name for kind, name in reports.items()})
    paths.update(
        {
            "proposals": target / "proposals.gpkg",
            "proposals_csv": target / "proposals.csv",
            "proposal": target / "proposal.json",
            "uncoverable": target / "uncoverable.csv",
            "expansions": target / "expansions.csv",
        }
    )
    if proposal.communities is not None:
        paths["community_plan"] = target / "community_plan.csv"
    return paths


__all__ = [
    "CSV_ENCODING",
    "EXIT_BAD_INPUT",
    "EXIT_FAIL",
    "EXIT_FAULT",
    "EXIT_INTERNAL",
    "EXIT_PASS",
    "EXIT_SIGINT",
    "EXIT_SIGTERM",
    "exit_code",
    "summary_json",
    "write_demo_inputs",
    "write_isochrones",
    "write_layer",
    "write_layer_atomic",
    "write_proposal",
    "write_review",
    "write_table_csv",
]
