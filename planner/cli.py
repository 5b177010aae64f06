"""The ``planner`` command. The only place that configures logging and progress output.

Exit codes: 0 every standard passes, 1 a standard fails, 2 bad input.
"""

from __future__ import annotations

import argparse
import logging
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
from planner.report import EXIT_BAD_INPUT

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
    prop.add_argument("--category", default="community_service", help="category to add")
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
    iso.add_argument("--speed-kmh", type=float, default=4.0)
    iso.add_argument("--buffer-m", type=float, default=25.0)
    iso.add_argument("--dissolve", action="store_true", help="one polygon per band")
    iso.add_argument("--out", required=True, help="FILE.gpkg or FILE.geojson")
    iso.add_argument("--map", help="also write an HTML map of the bands")
    iso.add_argument("--lang", choices=("zh", "en"), default="zh")
    iso.add_argument("--quiet", action="store_true")
    iso.add_argument("--crs", help="CRS of a points layer that has none (CSV)")
    return parser


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
    from planner.report import file_sha256

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
    from planner.report import exit_code, write_review

    started = time.perf_counter()
    inputs = _read_inputs(_merge(args))
    config = inputs.config
    network = _load(config)
    options = {
        "standard": config.get("standard", "community_service"),
        "communities": inputs.communities,
        "speed_kmh": _speed(config),
        "allocation": config.get("allocation", "catchment"),
        "snap_cap_m": float(config.get("snap_cap_m", 500.0)),
        "buffer_m": float(config.get("buffer_m", 25.0)),
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
    from planner.report import exit_code
    from planner.siting import propose, write_proposal

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
        standard=config.get("standard", "community_service"),
        speed_kmh=_speed(config),
        module_m2=args.module_m2,
        sizing=args.sizing,
        time_limit_s=args.time_limit_s,
        method=args.method,
        snap_cap_m=float(config.get("snap_cap_m", 500.0)),
        isochrones=bool(config.get("isochrones", True)),
        buffer_m=float(config.get("buffer_m", 25.0)),
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
    from planner.isochrones import isochrones, write_isochrones
    from planner.network import load_network

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


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``planner`` command."""
    args = _parser().parse_args(argv)
    runners = {
        "check": _run_check,
        "propose": _run_propose,
        "network": _run_network,
        "isochrones": _run_isochrones,
    }
    try:
        with _logging_to_stderr(getattr(args, "quiet", False)):
            return runners[args.command](args)
    except PlannerError as exc:
        print(f"planner: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
