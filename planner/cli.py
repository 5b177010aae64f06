"""The ``planner`` command. The only place that configures logging and progress output.

Exit codes: 0 every standard passes, 1 a standard fails, 2 bad input.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import sys
import time
import tomllib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from planner._version import __version__
from planner.errors import InputError, PlannerError
from planner.households import DEFAULT_HOUSEHOLD_SIZE
from planner.outputs import EXIT_BAD_INPUT
from planner.schema import (
    DEFAULT_BUFFER_M,
    DEFAULT_CATEGORY,
    DEFAULT_SNAP_CAP_M,
    DEFAULT_SPEED_KMH,
    DEFAULT_STANDARD,
)

log = logging.getLogger("planner")

CHECK_KEYS = {
    "network": "path",
    "facilities": "path",
    "residences": "path",
    "communities": "path",
    "proposed": "path",
    "candidates": "path",
    "mask": "path",
    "standard": "str",
    "speed_kmh": "float",
    "allocation": "str",
    "snap_cap_m": "float",
    "buffer_m": "float",
    "out": "path",
    "lang": "str",
    "basemap": "str",
    "isochrones": "bool",
    "crs": "str",
    "encoding": "str",
    "columns": "table",
}
COLUMN_KEYS = ("id", "name", "category", "households", "floor_area_m2", "lon", "lat")


@contextmanager
def _logging_to_stderr(quiet: bool) -> Iterator[None]:
    """Show planner's log messages on stderr for one command, then put logging back as it was."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("planner")
    saved = (logger.handlers[:], logger.level, logger.propagate)
    logger.handlers[:] = [handler]
    logger.setLevel(logging.WARNING if quiet else logging.INFO)
    logger.propagate = False
    try:
        yield
    finally:
        logger.handlers[:], logger.level, logger.propagate = saved


def _progress(stage: str, done: int, total: int | None) -> None:
    if total:
        log.info("  %s: %s / %s", stage, f"{done:,}", f"{total:,}")
    else:
        log.info("  %s: %s", stage, f"{done:,}")


def _read_config(path: Path) -> dict[str, Any]:
    """Read a review TOML file; paths in it are relative to its folder."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InputError(f"{path}: config file not found.") from exc
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not valid TOML ({exc}).") from exc
    unknown = sorted(set(raw) - set(CHECK_KEYS))
    if unknown:
        raise InputError(
            f"{path}: unknown keys {unknown}; allowed: {', '.join(sorted(CHECK_KEYS))}."
        )
    config: dict[str, Any] = {}
    for key, value in raw.items():
        kind = CHECK_KEYS[key]
        if kind == "path":
            if not isinstance(value, str):
                raise InputError(f"{path}: {key} must be a path string, not {value!r}.")
            config[key] = str((path.parent / value).resolve()) if value else value
        elif kind == "table":
            if not isinstance(value, dict) or set(value) - set(COLUMN_KEYS):
                raise InputError(
                    f"{path}: [columns] maps {', '.join(COLUMN_KEYS)} to your column names."
                )
            config[key] = dict(value)
        else:
            config[key] = value
    return config


def _add_column_flags(parser: argparse.ArgumentParser) -> None:
    for key in COLUMN_KEYS:
        flag = key.replace("_", "-")
        parser.add_argument(
            f"--{flag}-col",
            dest=f"col_{key}",
            metavar="NAME",
            help=f"column holding {key} (default: {key})",
        )
    parser.add_argument("--crs", help="CRS of layers that have none (CSV), e.g. EPSG:4490, gcj02")
    parser.add_argument("--encoding", help="text encoding of attribute tables (default: detect)")


def _add_review_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help="review TOML file (flags override it)")
    parser.add_argument("--network", help="OSM file (.osm, .osm.bz2, .osm.pbf) or saved network")
    parser.add_argument("--facilities", help="facilities layer (GPKG, GeoJSON, SHP, CSV)")
    parser.add_argument("--residences", help="residences layer with households")
    parser.add_argument("--standard", help="built-in standard name or TOML file")
    parser.add_argument("--speed-kmh", type=float, help="walking speed (default 4.0)")
    parser.add_argument("--snap-cap-m", type=float, help="max distance to the network (500)")
    parser.add_argument("--buffer-m", type=float, help="served-area width around streets (25)")
    parser.add_argument("--lang", choices=("zh", "en"), help="map language (default zh)")
    parser.add_argument("--basemap", choices=("osm", "amap", "tianditu", "none"))
    parser.add_argument(
        "--tianditu-key",
        default=os.environ.get("TIANDITU_KEY"),
        help="Tianditu API key for --basemap tianditu (default: $TIANDITU_KEY)",
    )
    parser.add_argument(
        "--no-isochrones",
        dest="isochrones",
        action="store_false",
        default=None,
        help="skip the served-area bands on the map",
    )
    parser.add_argument("--out", help="output folder")
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    _add_column_flags(parser)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="planner",
        description="Check and plan the 15-minute community life circle on the walking network.",
    )
    parser.add_argument("--version", action="version", version=f"planner {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    check = sub.add_parser("check", help="review coverage and floor area; exit 0 pass, 1 fail")
    _add_review_flags(check)
    check.add_argument("--proposed", help="planned facilities to add; reports before and after")
    check.add_argument("--communities", help="community polygons (optional)")
    check.add_argument("--allocation", choices=("catchment", "nearest", "community"))

    prop = sub.add_parser(
        "propose", help="propose sites and floor areas of new facilities; exit as the after-review"
    )
    _add_review_flags(prop)
    count = prop.add_mutually_exclusive_group()
    count.add_argument("--sites", type=int, help="maximal covering: the best K new sites")
    count.add_argument(
        "--cover-all", action="store_true", help="set covering: fewest sites covering everyone"
    )
    prop.add_argument("--candidates", help="candidate sites layer (default: along the streets)")
    prop.add_argument("--mask", help="polygons where no site may go (with generated candidates)")
    prop.add_argument("--category", default=DEFAULT_CATEGORY, help="category to add")
    prop.add_argument(
        "--spacing-m", type=float, default=100.0, help="generated candidates' spacing"
    )
    prop.add_argument("--module-m2", type=float, default=50.0, help="round floor areas up to this")
    prop.add_argument("--time-limit-s", type=float, default=60.0, help="MILP solver time limit")
    prop.add_argument("--method", choices=("auto", "milp", "greedy"), default="auto")
    prop.add_argument(
        "--sizing",
        choices=("least_area", "catchment"),
        default="least_area",
        help="least total area giving every reached household 30 m²/100, or each site its own",
    )

    net = sub.add_parser("network", help="load an OSM file, report it, optionally save it")
    net.add_argument("source", help="OSM file or saved network folder")
    net.add_argument("--save", type=Path, help="save the prepared network into this folder")
    net.add_argument("--quiet", action="store_true")

    iso = sub.add_parser("isochrones", help="walking isochrones of points")
    iso.add_argument("--network", required=True)
    iso.add_argument("--points", required=True)
    bands = iso.add_mutually_exclusive_group()
    bands.add_argument("--minutes", type=float, nargs="+")
    bands.add_argument("--distances-m", type=float, nargs="+")
    iso.add_argument("--speed-kmh", type=float, default=DEFAULT_SPEED_KMH)
    iso.add_argument("--buffer-m", type=float, default=DEFAULT_BUFFER_M)
    iso.add_argument("--dissolve", action="store_true", help="one polygon per band")
    iso.add_argument("--out", required=True, help="FILE.gpkg or FILE.geojson")
    iso.add_argument("--map", help="also write an HTML map of the bands")
    iso.add_argument("--lang", choices=("zh", "en"), default="zh")
    iso.add_argument("--quiet", action="store_true")
    iso.add_argument("--crs", help="CRS of a points layer that has none (CSV)")
    _add_households_parser(sub)
    return parser


def _add_households_parser(sub: Any) -> None:
    hh = sub.add_parser(
        "households",
        help="estimate households from building footprints (optionally a population grid) and "
        "write the residences layer planner check reads",
        description="Estimate households from building footprints: footprint × levels ÷ m² per "
        "household, or, with --population, persons ÷ household size shared among the "
        "residential buildings of each cell by floor area. Writes one point per residence "
        "(id, households, how it was estimated) for planner check --residences. Every number "
        "is an estimate and the output says so (households_method, households_estimated).",
    )
    hh.add_argument(
        "--buildings",
        required=True,
        metavar="FILE",
        help="building footprints: a GeoPackage/GeoJSON/Shapefile layer (every feature counts; "
        "non-residential building types get 0 households), or an OSM file (.osm, .osm.bz2, "
        ".osm.pbf) whose residential buildings are chosen by planner.pois' rules",
    )
    hh.add_argument(
        "--out",
        required=True,
        metavar="FILE",
        help="residences layer to write, FILE.gpkg or FILE.geojson (written atomically)",
    )
    hh.add_argument(
        "--population",
        metavar="FILE",
        help="population polygons (e.g. a 250 m grid) with persons per cell; households = "
        "persons ÷ household size, shared among the cell's residential buildings",
    )
    hh.add_argument(
        "--population-col",
        metavar="NAME",
        help="column of --population with persons per cell (default: population)",
    )
    hh.add_argument(
        "--household-size",
        type=float,
        metavar="PERSONS",
        help=f"persons per household with --population (default {DEFAULT_HOUSEHOLD_SIZE:g}, "
        "China 2020 census)",
    )
    hh.add_argument(
        "--cell-id-col",
        metavar="NAME",
        help="column of --population identifying cells in the output and the log (default: "
        "its 'id' column when it has one, else the feature number, 1 = first)",
    )
    hh.add_argument(
        "--m2-per-household",
        type=float,
        metavar="M2",
        help="gross floor area per household for every residential type, without --population "
        "(default by type: 95 apartments/residential, 120 houses, 30 dormitories)",
    )
    hh.add_argument(
        "--default-levels",
        type=float,
        metavar="LEVELS",
        help="levels where building:levels is missing, for every residential type (default by "
        "type: 6 apartments/residential, 2 houses, 5 dormitories)",
    )
    hh.add_argument(
        "--type-col",
        metavar="NAME",
        help="column of a buildings layer with the OSM building type (default: building; "
        "without it every building counts as building=yes, a residential block)",
    )
    hh.add_argument(
        "--levels-col",
        metavar="NAME",
        help="column of a buildings layer with the number of levels (default: building:levels)",
    )
    hh.add_argument(
        "--id-col",
        metavar="NAME",
        help="column of a buildings layer with unique ids (default: id; without it "
        "b1, b2, ... in file order)",
    )
    hh.add_argument("--buildings-layer", metavar="NAME", help="layer inside a multi-layer file")
    hh.add_argument("--population-layer", metavar="NAME", help="layer inside a multi-layer file")
    hh.add_argument("--crs", help="CRS of layers that have none, e.g. EPSG:4490 (not for OSM)")
    hh.add_argument("--encoding", help="text encoding of attribute tables (default: detect)")
    hh.add_argument("--quiet", action="store_true", help="no progress output")


def _merge(args: argparse.Namespace) -> dict[str, Any]:
    config = _read_config(args.config) if args.config else {}
    for key in CHECK_KEYS:
        value = getattr(args, key, None)
        if value is not None:
            config[key] = value
    columns = dict(config.get("columns", {}))
    for key in COLUMN_KEYS:
        value = getattr(args, f"col_{key}", None)
        if value is not None:
            columns[key] = value
    config["columns"] = columns
    if config.get("basemap") == "tianditu" and not args.tianditu_key:
        raise InputError(
            "--basemap tianditu needs a Tianditu key: pass --tianditu-key or set TIANDITU_KEY "
            "(get one at console.tianditu.gov.cn), or use --basemap osm, amap or none."
        )
    missing = [k for k in ("network", "facilities", "residences", "out") if not config.get(k)]
    if missing:
        flags = ", ".join(f"--{k}" for k in missing)
        raise InputError(f"planner {args.command} needs {flags} (as flags or in --config).")
    return config


def _inputs(config: dict[str, Any]) -> dict[str, Any]:
    from planner._files import file_sha256

    out = {}
    for key in ("network", "facilities", "residences", "communities", "proposed", "candidates"):
        if config.get(key):
            out[key] = {"path": str(config[key]), "sha256": file_sha256(config[key])}
    return out


@dataclass(frozen=True)
class _Inputs:
    """Everything a review reads, read and validated before anything is computed."""

    config: dict[str, Any]
    facilities: Any
    residences: Any
    communities: Any
    proposed: Any
    candidates: Any
    mask: Any


def _read_inputs(config: dict[str, Any]) -> _Inputs:
    from planner import layers

    columns = config["columns"]
    common = {
        "crs": config.get("crs"),
        "encoding": config.get("encoding"),
        "lon_col": columns.get("lon"),
        "lat_col": columns.get("lat"),
        "id_col": columns.get("id", "id"),
        "name_col": columns.get("name", "name"),
    }
    facility_columns = {
        "category_col": columns.get("category", "category"),
        "floor_area_col": columns.get("floor_area_m2", "floor_area_m2"),
    }
    facilities = layers.read_facilities(config["facilities"], **common, **facility_columns)
    residences = layers.read_residences(
        config["residences"],
        households_col=columns.get("households", "households"),
        **common,
    )
    communities = proposed = candidates = mask = None
    if config.get("communities"):
        communities = layers.read_communities(
            config["communities"],
            crs=common["crs"],
            encoding=common["encoding"],
            id_col=common["id_col"],
            name_col=common["name_col"],
            households_col=columns.get("households", "households"),
        )
    if config.get("proposed"):
        proposed = layers.read_facilities(config["proposed"], **common, **facility_columns)
    if config.get("candidates"):
        candidates = layers.read_layer(config["candidates"], crs=common["crs"])
    if config.get("mask"):
        mask = layers.read_layer(config["mask"], crs=common["crs"])
    return _Inputs(config, facilities, residences, communities, proposed, candidates, mask)


def _load(config: dict[str, Any]) -> Any:
    from planner.network import load_network

    log.info("Loading the walking network from %s", config["network"])
    network = load_network(config["network"], progress=_progress)
    log.info("  %s", network)
    return network


def _speed(config: dict[str, Any]) -> float | None:
    return float(config["speed_kmh"]) if "speed_kmh" in config else None


def _run_check(args: argparse.Namespace) -> int:
    from planner.checks import check
    from planner.outputs import exit_code, write_review

    started = time.perf_counter()
    inputs = _read_inputs(_merge(args))
    config = inputs.config
    network = _load(config)
    options = {
        "standard": config.get("standard", DEFAULT_STANDARD),
        "communities": inputs.communities,
        "speed_kmh": _speed(config),
        "allocation": config.get("allocation", "catchment"),
        "snap_cap_m": float(config.get("snap_cap_m", DEFAULT_SNAP_CAP_M)),
        "buffer_m": float(config.get("buffer_m", DEFAULT_BUFFER_M)),
        "isochrones": bool(config.get("isochrones", True)),
        "inputs": _inputs(config),
    }
    facilities, residences = inputs.facilities, inputs.residences
    baseline = None
    if inputs.proposed is not None:
        log.info("Checking the current facilities (baseline)")
        baseline = check(network, facilities, residences, **{**options, "isochrones": False})
        facilities = _with_proposed(facilities, inputs.proposed)
    log.info("Checking %d facilities for %d residences", len(facilities), len(residences))
    result = check(network, facilities, residences, **options)
    log.info("Writing the map and tables into %s ...", config["out"])
    paths = write_review(
        result,
        config["out"],
        lang=config.get("lang", "zh"),
        basemap=config.get("basemap", "osm"),
        tianditu_key=args.tianditu_key,
        baseline=baseline,
    )
    _print_summary(result.summary, baseline.summary if baseline is not None else None)
    log.info(
        "Wrote %s (%.1f s)",
        ", ".join(str(p) for p in paths.values()),
        time.perf_counter() - started,
    )
    return exit_code(result.summary)


def _run_propose(args: argparse.Namespace) -> int:
    from planner.outputs import exit_code, write_proposal
    from planner.siting import propose

    started = time.perf_counter()
    config = _merge(args)
    if (args.sites is None) == (not args.cover_all):
        raise InputError("planner propose needs --sites K or --cover-all (one of them).")
    inputs = _read_inputs(config)
    network = _load(config)
    log.info("Proposing %s sites", "the fewest" if args.cover_all else args.sites)
    proposal = propose(
        network,
        inputs.facilities,
        inputs.residences,
        category=args.category,
        sites=args.sites,
        cover_all=args.cover_all,
        candidates=inputs.candidates,
        spacing_m=args.spacing_m,
        mask=inputs.mask,
        standard=config.get("standard", DEFAULT_STANDARD),
        speed_kmh=_speed(config),
        module_m2=args.module_m2,
        sizing=args.sizing,
        time_limit_s=args.time_limit_s,
        method=args.method,
        snap_cap_m=float(config.get("snap_cap_m", DEFAULT_SNAP_CAP_M)),
        isochrones=bool(config.get("isochrones", True)),
        buffer_m=float(config.get("buffer_m", DEFAULT_BUFFER_M)),
        inputs=_inputs(config),
    )
    paths = write_proposal(
        proposal,
        config["out"],
        lang=config.get("lang", "zh"),
        basemap=config.get("basemap", "osm"),
        tianditu_key=args.tianditu_key,
    )
    gap = proposal.gap
    print(
        f"Proposed {len(proposal.sites)} new {args.category} sites "
        f"({proposal.method}, optimality gap {'unknown' if gap is None else f'{gap:.2%}'})"
    )
    for row in proposal.sites.itertuples():
        print(
            f"  {row.id}: {row.floor_area_m2:,.0f} m², newly covers "
            f"{row.households_newly_covered:,.0f} households"
        )
    _print_summary(proposal.after.summary, proposal.before.summary)
    log.info(
        "Wrote %s (%.1f s)",
        ", ".join(str(p) for p in paths.values()),
        time.perf_counter() - started,
    )
    return exit_code(proposal.after.summary)


def _with_proposed(facilities: Any, proposed: Any) -> Any:
    import geopandas as gpd
    import pandas as pd

    clash = set(facilities["id"].astype(str)) & set(proposed["id"].astype(str))
    if clash:
        raise InputError(
            f"Proposed facilities reuse existing ids {sorted(clash)[:10]}; give them new ids."
        )
    both = pd.concat(
        [facilities.assign(proposed=False), proposed.to_crs(facilities.crs).assign(proposed=True)],
        ignore_index=True,
    )
    return gpd.GeoDataFrame(both, geometry=both.geometry.name, crs=facilities.crs)


def _print_summary(summary: dict[str, Any], before: dict[str, Any] | None) -> None:
    lines = [f"{summary['standard']['title_en']}: {'PASS' if summary['passes'] else 'FAIL'}"]
    before_cov = {c["key"]: c for c in before["coverage"]} if before else {}
    for c in summary["coverage"]:
        tag = "required" if c["required"] else "measured"
        was = before_cov.get(c["key"])
        prior = f" (before {100 * was['rate']:.1f} %)" if was else ""
        lines.append(
            f"  {c['key']:<24} {100 * c['rate']:6.1f} % of households within "
            f"{c['max_walk_m']:.0f} m / {c['max_walk_min']:.0f} min{prior} [{tag}]"
        )
    fa = summary["floor_area"]
    if fa is not None:
        lines.append(
            f"  floor area {fa['category']}: {fa['m2_per_100hh']:.1f} m² per 100 households "
            f"overall (need {fa['required_m2_per_100hh']:.0f}); "
            f"shortfall {fa['shortfall_m2']:.0f} m² "
            f"({fa['allocation']} allocation)"
        )
    print("\n".join(lines))


def _run_network(args: argparse.Namespace) -> int:
    from planner.network import load_network

    network = load_network(args.source, progress=_progress)
    report = network.report
    print(network)
    print(
        f"  walkable ways {report.walkable_ways:,}; ways cut at missing nodes {report.ways_cut:,}; "
        f"dropped {report.components_dropped:,} small components "
        f"({report.nodes_dropped:,} nodes, {report.km_dropped:.2f} km)"
    )
    if args.save:
        network.save(args.save)
        print(f"  saved to {args.save}")
    return 0


def _run_isochrones(args: argparse.Namespace) -> int:
    from planner import layers
    from planner.isochrones import isochrones
    from planner.network import load_network
    from planner.outputs import write_isochrones

    points = layers.read_layer(args.points, crs=args.crs)
    network = load_network(args.network, progress=_progress)
    bands: dict[str, Any] = (
        {"distances_m": tuple(args.distances_m)}
        if args.distances_m
        else {"minutes": tuple(args.minutes) if args.minutes else (5, 10, 15)}
    )
    gdf = isochrones(
        network,
        points,
        speed_kmh=args.speed_kmh,
        buffer_m=args.buffer_m,
        dissolve=args.dissolve,
        **bands,
    )
    write_isochrones(gdf, args.out)
    log.info("Wrote %d polygons to %s", len(gdf), args.out)
    if args.map:
        from planner.maps import isochrones_map, save_map

        save_map(isochrones_map(gdf, points=points, lang=args.lang, network=network), args.map)
        log.info("Wrote %s", args.map)
    return 0


_OSM_SUFFIXES = (".osm", ".osm.bz2", ".osm.gz", ".osm.pbf")
_RESIDENCE_SUFFIXES = (".gpkg", ".geojson")
_LEAD_COLUMNS = ("id", "name", "households", "households_estimated", "households_method")


def _positive_flag(flag: str, value: float | None) -> float | None:
    if value is not None and not (math.isfinite(value) and value > 0):
        raise InputError(f"{flag} is {value:g}; give a positive number.")
    return value


def _households_options(args: argparse.Namespace) -> Path:
    """Check the flags of ``planner households`` before reading anything; return --out."""
    target = Path(args.out)
    if target.suffix not in _RESIDENCE_SUFFIXES:
        raise InputError(
            f"--out {target}: cannot write a residences layer as "
            f"{target.suffix or 'a file without suffix'}; name it FILE.gpkg or FILE.geojson."
        )
    for flag, source in (("--buildings", args.buildings), ("--population", args.population)):
        if source is None:
            continue
        if not Path(source).exists():
            raise InputError(f"{flag} {source}: the file does not exist; check the path.")
        if Path(source).resolve() == target.resolve():
            raise InputError(
                f"--out {target} is the {flag} file; inputs are never overwritten, "
                "write the residences to another file."
            )
    if args.population is None:
        given = _flags_given(
            ("--population-col", args.population_col),
            ("--household-size", args.household_size),
            ("--cell-id-col", args.cell_id_col),
            ("--population-layer", args.population_layer),
        )
        if given:
            raise InputError(f"{', '.join(given)} need --population FILE; give it or drop them.")
    elif args.m2_per_household is not None:
        raise InputError(
            "--m2-per-household does not apply with --population (households are persons ÷ "
            "--household-size, shared by floor area); drop one of them."
        )
    _positive_flag("--household-size", args.household_size)
    _positive_flag("--m2-per-household", args.m2_per_household)
    _positive_flag("--default-levels", args.default_levels)
    return target


def _flags_given(*flags: tuple[str, object]) -> list[str]:
    """The names of the flags (name, value) that were given."""
    return [flag for flag, value in flags if value is not None]


def _is_osm(path: str) -> bool:
    return path.lower().endswith(_OSM_SUFFIXES)


def _columns_listing(frame: Any) -> str:
    return ", ".join(str(c) for c in frame.columns if c != frame.geometry.name)


def _read_households_buildings(args: argparse.Namespace) -> tuple[Any, int]:
    """Footprints to estimate (WGS84, index = feature number from 1) and the buildings read."""
    import pandas as pd

    from planner import layers

    path = args.buildings
    if not _is_osm(path):
        frame = layers.read_layer(
            path, layer=args.buildings_layer, crs=args.crs, encoding=args.encoding
        )
        for flag, column in (
            ("--type-col", args.type_col),
            ("--levels-col", args.levels_col),
            ("--id-col", args.id_col),
        ):
            if column is not None and column not in frame.columns:
                raise InputError(
                    f"--buildings {path}: no column {column!r} ({flag}); its columns are "
                    f"{_columns_listing(frame)}. Pass one of them as {flag}."
                )
        frame.index = pd.RangeIndex(1, len(frame) + 1)
        return frame, len(frame)

    from planner.osm.buildings import read_osm_buildings

    given = _flags_given(
        ("--type-col", args.type_col),
        ("--levels-col", args.levels_col),
        ("--id-col", args.id_col),
        ("--buildings-layer", args.buildings_layer),
        ("--crs", args.crs),
        ("--encoding", args.encoding),
    )
    if given:
        raise InputError(
            f"{', '.join(given)} apply to a buildings layer, not to an OSM file such as {path} "
            "(OSM is always WGS84 with id, building and building:levels); drop them."
        )
    every = read_osm_buildings(path, residential_basis=True)
    chosen = every[every["residential_basis"].notna().to_numpy()].copy()
    if chosen.empty:
        raise InputError(
            f"--buildings {path}: none of its {len(every):,} buildings is residential by the OSM "
            "rules (building=apartments, residential, house, dormitory, ..., or building=yes "
            "inside landuse=residential or a named compound). Export the homes as a building "
            "layer (GPKG, GeoJSON, SHP) and pass that as --buildings."
        )
    chosen.index = pd.RangeIndex(1, len(chosen) + 1)
    log.info(
        "%s: %d of %d buildings are residential by the OSM rules",
        Path(path).name,
        len(chosen),
        len(every),
    )
    return chosen, len(every)


def _building_ids(buildings: Any, args: argparse.Namespace) -> list[str]:
    """Unique text ids of the buildings: their id column, else b1, b2, ... in file order."""
    column = args.id_col or "id"
    if column not in buildings.columns:
        return [f"b{n}" for n in buildings.index]
    values = buildings[column]
    missing = values.isna().to_numpy()
    ids = [str(v) for v in values.tolist()]
    repeated = sorted({i for i in ids if ids.count(i) > 1}) if len(set(ids)) < len(ids) else []
    if missing.any() or repeated:
        problem = (
            f"{int(missing.sum())} rows have no id (rows {buildings.index[missing][:10].tolist()})"
            if missing.any()
            else f"ids repeat ({repeated[:10]})"
        )
        raise InputError(
            f"--buildings {args.buildings}: column {column!r}: {problem} (rows count features "
            "from 1); give every building a unique id, or name another column with --id-col."
        )
    return ids


def _read_population(args: argparse.Namespace) -> tuple[Any, str, str | None]:
    """The population layer (index = feature number from 1), its persons and cell-id columns."""
    import pandas as pd

    from planner import layers

    grid = layers.read_layer(
        args.population, layer=args.population_layer, crs=args.crs, encoding=args.encoding
    )
    population_col = args.population_col or "population"
    for flag, column in (("--population-col", population_col), ("--cell-id-col", args.cell_id_col)):
        if column is not None and column not in grid.columns:
            raise InputError(
                f"--population {args.population}: no column {column!r} ({flag}); its columns "
                f"are {_columns_listing(grid)}. Pass the one holding "
                f"{'persons per cell' if flag == '--population-col' else 'cell ids'} as {flag}."
            )
    grid.index = pd.RangeIndex(1, len(grid) + 1)
    cell_id_col = args.cell_id_col or ("id" if "id" in grid.columns else None)
    return grid, population_col, cell_id_col


def _as_points(frame: Any) -> Any:
    """Polygons replaced by their representative points (found in a local UTM CRS)."""
    import geopandas as gpd

    from planner._geo import representative_points

    geoms = representative_points(frame.geometry.array, frame.crs)
    return frame.set_geometry(gpd.GeoSeries(geoms, index=frame.index, crs=frame.crs))


def _population_lines(
    residences: Any,
    grid: Any,
    buildings: Any,
    *,
    population_col: str,
    size: float,
    cell_ids: list[Any],
    cell_id_col: str | None,
) -> list[str]:
    """Summary lines of a population run; warn when empty cells lie beyond the buildings."""
    import pandas as pd
    import shapely

    persons = float(pd.to_numeric(grid[population_col]).sum())
    orphans = (residences["residence_source"] == "population_cell").to_numpy()
    households = residences["households"].to_numpy(dtype=float)
    lines = [
        f"Population: {persons:,.0f} persons in {len(grid):,} cells "
        f"÷ {size:g} persons per household",
        f"Cells without residential buildings: {int(orphans.sum()):,} "
        f"({households[orphans].sum():,.1f} households placed at the cells' points)",
    ]
    if orphans.any():
        cover = shapely.convex_hull(shapely.geometrycollections(buildings.geometry.array))
        keys = grid.index if cell_id_col is None else pd.Index(grid[cell_id_col])
        beyond = int((~shapely.intersects(grid.geometry.array[keys.isin(cell_ids)], cover)).sum())
        if beyond:
            log.warning(
                "%d of the %d cells without residential buildings lie beyond the buildings' "
                "extent: clip --population to the study area if that is not intended",
                beyond,
                len(cell_ids),
            )
    return lines


def _run_households(args: argparse.Namespace) -> int:
    import geopandas as gpd
    import numpy as np

    from planner.households import households_from_buildings, households_from_population
    from planner.outputs import write_layer_atomic

    started = time.perf_counter()
    target = _households_options(args)
    buildings, n_read = _read_households_buildings(args)
    ids = _building_ids(buildings, args)
    type_col: str = args.type_col or "building"
    levels_col: str = args.levels_col or "building:levels"
    grid = None
    if args.population is not None:
        grid, population_col, cell_id_col = _read_population(args)
        size = args.household_size or DEFAULT_HOUSEHOLD_SIZE
    where = f"--buildings {args.buildings}" + (
        f", --population {args.population}" if args.population else ""
    )
    try:
        if grid is None:
            residences = households_from_buildings(
                buildings,
                m2_per_household=args.m2_per_household,
                default_levels=args.default_levels,
                type_col=type_col,
                levels_col=levels_col,
            ).reset_index(drop=True)
            residences["id"] = ids
        else:
            result = households_from_population(
                grid,
                buildings,
                population_col=population_col,
                household_size=size,
                cell_id_col=cell_id_col,
                default_levels=args.default_levels,
                type_col=type_col,
                levels_col=levels_col,
            )
            residences = result.residences.drop(columns="building_index")
            residences["id"] = ids + [f"cell-{c}" for c in result.cells_without_buildings]
    except InputError as exc:
        raise InputError(f"{exc} [{where}; rows count features from 1]") from exc

    households = residences["households"].to_numpy(dtype=float)
    on_buildings = np.arange(len(residences)) < len(buildings)
    # non-residential building types get 0 households "and the method says so"
    not_residential = residences["households_method"].str.contains("is not residential")
    residential = on_buildings & ~not_residential.to_numpy(dtype=bool)
    lines = [
        f"Buildings read: {n_read:,} ({args.buildings})",
        f"Residential buildings: {int(residential.sum()):,}",
    ]
    if grid is not None:
        outside = int((residential & residences["population_cell"].isna().to_numpy()).sum())
        if outside:
            lines[-1] += f" ({outside:,} outside every population cell: 0 households)"
        lines += _population_lines(
            residences,
            grid,
            buildings,
            population_col=population_col,
            size=size,
            cell_ids=result.cells_without_buildings,
            cell_id_col=cell_id_col,
        )
    lines.append(f"Households: {households.sum():,.1f} (estimated)")

    keep = households > 0
    if not keep.any():
        raise InputError(
            f"{where}: no building got any households ({int(residential.sum())} of "
            f"{len(buildings)} are of a residential type: apartments, residential, house, "
            "dormitory, yes, ...); check --type-col and the population values. Nothing written."
        )
    frame = _as_points(residences.loc[keep])
    lead = [c for c in _LEAD_COLUMNS if c in frame.columns]
    geometry = frame.geometry.name
    rest = [c for c in frame.columns if c not in lead and c != geometry]
    frame = gpd.GeoDataFrame(
        frame[[*lead, *rest, geometry]].reset_index(drop=True), geometry=geometry, crs=frame.crs
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    write_layer_atomic(frame, target)
    dropped = int((~keep).sum())
    lines.append(
        f"Wrote {len(frame):,} residences to {target}"
        + (f" ({dropped:,} buildings with 0 households left out)" if dropped else "")
    )
    print("\n".join(lines))
    log.info("Done in %.1f s", time.perf_counter() - started)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``planner`` command."""
    args = _parser().parse_args(argv)
    runners = {
        "check": _run_check,
        "propose": _run_propose,
        "network": _run_network,
        "isochrones": _run_isochrones,
        "households": _run_households,
    }
    try:
        with _logging_to_stderr(getattr(args, "quiet", False)):
            return runners[args.command](args)
    except PlannerError as exc:
        print(f"planner: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
