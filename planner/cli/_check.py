"""``planner check``, ``propose``, ``isochrones`` and ``network``: refuse, read, compute, write.

Each runner first checks its settings and outputs (`planner.cli._guards`), before reading a
single input; then reads every input (each read names its flag and file in its messages), then
computes, then writes through `planner.outputs` (staged, moved into place when complete).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from planner._files import file_sha256
from planner.cli._config import ISOCHRONE_DEFAULTS, Settings
from planner.cli._guards import refuse_overwrite, writable_file, writable_folder
from planner.cli._terminal import for_cli, log, print_summary, progress, reading
from planner.errors import InputError
from planner.schema import DEFAULT_BUFFER_M, DEFAULT_SNAP_CAP_M, DEFAULT_STANDARD

_REVIEW_INPUTS = ("network", "facilities", "residences", "communities", "proposed")
_PROPOSE_INPUTS = ("network", "facilities", "residences", "candidates", "mask")
_HASHED = ("network", "facilities", "residences", "communities", "proposed", "candidates")


def _review_settings(settings: Settings, inputs: tuple[str, ...]) -> Path:
    """Refuse what ``check``/``propose`` cannot run with, before any work; return --out."""
    if settings.get("basemap") == "tianditu" and not settings.get("tianditu_key"):
        raise InputError(
            "--basemap tianditu needs a Tianditu key: pass --tianditu-key or set TIANDITU_KEY "
            "(get one at console.tianditu.gov.cn), or use --basemap osm, amap or none."
        )
    missing = [k for k in ("network", "facilities", "residences", "out") if k not in settings]
    if missing:
        flags = ", ".join(f"--{k}" for k in missing)
        raise InputError(
            f"planner {settings.command} needs {flags} (as flags or in the review file, --config)."
        )
    for name in inputs:
        if name in settings and not Path(settings.get(name)).exists():
            raise InputError(
                f"{settings.where(name)} {settings.get(name)}: the file does not exist; "
                "check the path."
            )
    refuse_overwrite(settings, folders=("out",), inputs=inputs)
    return writable_folder(settings, "out")


def _inputs(settings: Settings) -> dict[str, Any]:
    out = {}
    for key in _HASHED:
        if key in settings:
            path = str(settings.get(key))
            out[key] = {"path": path, "sha256": file_sha256(path)}
    return out


@dataclass(frozen=True)
class _Inputs:
    """Everything a review reads, read and validated before anything is computed."""

    facilities: Any
    residences: Any
    communities: Any
    proposed: Any
    candidates: Any
    mask: Any


def _read(settings: Settings, name: str, read: Any, **kwargs: Any) -> Any:
    path = str(settings.get(name))
    with reading(settings.command, settings.where(name), path, layer_of=name):
        return read(path, layer=settings.get(f"{name}_layer"), **kwargs)


def _read_inputs(settings: Settings) -> _Inputs:
    from planner import layers

    columns = settings.columns()
    common = {
        "crs": settings.get("crs"),
        "encoding": settings.get("encoding"),
        "lon_col": columns.get("lon"),
        "lat_col": columns.get("lat"),
        "id_col": columns.get("id", "id"),
        "name_col": columns.get("name", "name"),
    }
    facility_columns = {
        "category_col": columns.get("category", "category"),
        "floor_area_col": columns.get("floor_area_m2", "floor_area_m2"),
    }
    households_col = columns.get("households", "households")
    facilities = _read(settings, "facilities", layers.read_facilities, **common, **facility_columns)
    residences = _read(
        settings, "residences", layers.read_residences, households_col=households_col, **common
    )
    communities = proposed = candidates = mask = None
    if "communities" in settings and settings.command == "check":
        communities = _read(
            settings,
            "communities",
            layers.read_communities,
            crs=common["crs"],
            encoding=common["encoding"],
            id_col=common["id_col"],
            name_col=common["name_col"],
            households_col=households_col,
        )
    if "proposed" in settings and settings.command == "check":
        proposed = _read(settings, "proposed", layers.read_facilities, **common, **facility_columns)
    if "candidates" in settings and settings.command == "propose":
        candidates = _read(settings, "candidates", layers.read_layer, crs=common["crs"])
    if "mask" in settings and settings.command == "propose":
        mask = _read(settings, "mask", layers.read_layer, crs=common["crs"])
    return _Inputs(facilities, residences, communities, proposed, candidates, mask)


def _load(settings: Settings) -> Any:
    from planner.network import load_network

    path = str(settings.get("network"))
    log.info("Loading the walking network from %s", path)
    with reading(settings.command, settings.where("network"), path):
        network = load_network(path, progress=progress)
    log.info("  %s", network)
    return network


@contextmanager
def _computing(settings: Settings, names: tuple[str, ...]) -> Iterator[None]:
    """InputErrors of the analysis in the command's terms, naming the inputs they concern."""
    try:
        yield
    except InputError as exc:
        message = for_cli(str(exc), settings.command)
        given = [n for n in names if n in settings]
        if not any(
            str(settings.get(n)) in message or Path(settings.get(n)).name in message for n in given
        ):
            message += (
                " [inputs: "
                + ", ".join(f"{settings.where(n)} {settings.get(n)}" for n in given)
                + "]"
            )
        raise InputError(message) from exc


def _speed(settings: Settings) -> float | None:
    return float(settings.get("speed_kmh")) if "speed_kmh" in settings else None


def run_check(settings: Settings) -> int:
    from planner.checks import check
    from planner.outputs import exit_code, write_review

    started = time.perf_counter()
    out = _review_settings(settings, _REVIEW_INPUTS)
    inputs = _read_inputs(settings)
    network = _load(settings)
    options = {
        "standard": settings.get("standard", DEFAULT_STANDARD),
        "communities": inputs.communities,
        "speed_kmh": _speed(settings),
        "allocation": settings.get("allocation", "catchment"),
        "snap_cap_m": float(settings.get("snap_cap_m", DEFAULT_SNAP_CAP_M)),
        "buffer_m": float(settings.get("buffer_m", DEFAULT_BUFFER_M)),
        "isochrones": bool(settings.get("isochrones", True)),
        "isochrone_polygons": bool(settings.get("isochrones_gpkg", False)),
        "inputs": _inputs(settings),
    }
    facilities, residences = inputs.facilities, inputs.residences
    baseline = None
    with _computing(settings, ("facilities", "residences", "communities", "proposed")):
        if inputs.proposed is not None:
            log.info("Checking the current facilities (baseline)")
            baseline = check(network, facilities, residences, **{**options, "isochrones": False})
            facilities = _with_proposed(facilities, inputs.proposed, settings)
        log.info("Checking %d facilities for %d residences", len(facilities), len(residences))
        result = check(network, facilities, residences, **options)
    log.info("Writing the map and tables into %s ...", out)
    paths = write_review(
        result,
        str(out),
        lang=settings.get("lang", "zh"),
        basemap=settings.get("basemap", "osm"),
        tianditu_key=settings.get("tianditu_key"),
        baseline=baseline,
    )
    print_summary(result.summary, baseline.summary if baseline is not None else None)
    log.info(
        "Wrote %s (%.1f s)",
        ", ".join(str(p) for p in paths.values()),
        time.perf_counter() - started,
    )
    return exit_code(result.summary)


def run_propose(settings: Settings) -> int:
    from planner.outputs import exit_code, write_proposal
    from planner.siting import propose

    started = time.perf_counter()
    if ("sites" in settings) == bool(settings.get("cover_all")):
        raise InputError("planner propose needs --sites K or --cover-all (one of them).")
    out = _review_settings(settings, _PROPOSE_INPUTS)
    inputs = _read_inputs(settings)
    network = _load(settings)
    cover_all = bool(settings.get("cover_all"))
    sites = settings.get("sites")
    category = settings.get("category")
    log.info("Proposing %s sites", "the fewest" if cover_all else sites)
    with _computing(settings, ("facilities", "residences", "candidates", "mask")):
        proposal = propose(
            network,
            inputs.facilities,
            inputs.residences,
            category=category,
            sites=sites,
            cover_all=cover_all,
            candidates=inputs.candidates,
            spacing_m=settings.get("spacing_m"),
            mask=inputs.mask,
            standard=settings.get("standard", DEFAULT_STANDARD),
            speed_kmh=_speed(settings),
            module_m2=settings.get("module_m2"),
            sizing=settings.get("sizing"),
            time_limit_s=settings.get("time_limit_s"),
            method=settings.get("method"),
            snap_cap_m=float(settings.get("snap_cap_m", DEFAULT_SNAP_CAP_M)),
            isochrones=bool(settings.get("isochrones", True)),
            isochrone_polygons=bool(settings.get("isochrones_gpkg", False)),
            buffer_m=float(settings.get("buffer_m", DEFAULT_BUFFER_M)),
            inputs=_inputs(settings),
        )
    paths = write_proposal(
        proposal,
        str(out),
        lang=settings.get("lang", "zh"),
        basemap=settings.get("basemap", "osm"),
        tianditu_key=settings.get("tianditu_key"),
    )
    gap = proposal.gap
    print(
        f"Proposed {len(proposal.sites)} new {category} sites "
        f"({proposal.method}, optimality gap {'unknown' if gap is None else f'{gap:.2%}'})"
    )
    for row in proposal.sites.itertuples():
        print(
            f"  {row.id}: {row.floor_area_m2:,.0f} m², newly covers "
            f"{row.households_newly_covered:,.0f} households"
        )
    print_summary(proposal.after.summary, proposal.before.summary)
    log.info(
        "Wrote %s (%.1f s)",
        ", ".join(str(p) for p in paths.values()),
        time.perf_counter() - started,
    )
    return exit_code(proposal.after.summary)


def _with_proposed(facilities: Any, proposed: Any, settings: Settings) -> Any:
    import geopandas as gpd
    import pandas as pd

    clash = set(facilities["id"].astype(str)) & set(proposed["id"].astype(str))
    if clash:
        raise InputError(
            f"{settings.where('proposed')} {settings.get('proposed')}: the proposed facilities "
            f"reuse ids of {settings.where('facilities')} {settings.get('facilities')}: "
            f"{sorted(clash)[:10]}; give them new ids."
        )
    both = pd.concat(
        [facilities.assign(proposed=False), proposed.to_crs(facilities.crs).assign(proposed=True)],
        ignore_index=True,
    )
    return gpd.GeoDataFrame(both, geometry=both.geometry.name, crs=facilities.crs)


def run_network(settings: Settings) -> int:
    from planner.network import load_network

    source = str(settings.get("source"))
    if "save" in settings:
        refuse_overwrite(settings, folders=("save",), inputs=("source",))
        save = Path(settings.get("save"))
        if save.exists() and not save.is_dir():
            raise InputError(
                f"--save {save}: is an existing file; give a folder name for the saved network."
            )
        writable_folder(settings, "save")
    with reading("network", "network", source):
        network = load_network(source, progress=progress)
    report = network.report
    print(network)
    print(
        f"  walkable ways {report.walkable_ways:,}; ways cut at missing nodes {report.ways_cut:,}; "
        f"dropped {report.components_dropped:,} small components "
        f"({report.nodes_dropped:,} nodes, {report.km_dropped:.2f} km)"
    )
    if "save" in settings:
        with reading("network", "--save", str(settings.get("save"))):
            network.save(settings.get("save"))
        print(f"  saved to {settings.get('save')}")
    return 0


def run_isochrones(settings: Settings) -> int:
    from planner import layers
    from planner.isochrones import isochrones
    from planner.network import load_network
    from planner.outputs import write_isochrones

    missing = [f"--{k}" for k in ("network", "points", "out") if k not in settings]
    if missing:
        raise InputError(f"planner isochrones needs {', '.join(missing)}.")
    for name in ("network", "points"):
        if not Path(settings.get(name)).exists():
            raise InputError(
                f"{settings.where(name)} {settings.get(name)}: the file does not exist; "
                "check the path."
            )
    refuse_overwrite(settings, files=("out", "map"), inputs=("network", "points"))
    out = writable_file(settings, "out", (".gpkg", ".geojson"), "isochrones", make_folder=False)
    map_path = None
    if "map" in settings:
        map_path = writable_file(settings, "map", (), "the map", make_folder=False)
    points_path = str(settings.get("points"))
    with reading("isochrones", "--points", points_path, layer_of="points"):
        points = layers.read_layer(
            points_path, crs=settings.get("crs"), layer=settings.get("points_layer")
        )
    network_path = str(settings.get("network"))
    with reading("isochrones", "--network", network_path):
        network = load_network(network_path, progress=progress)
    bands: dict[str, Any] = (
        {"distances_m": tuple(settings.get("distances_m"))}
        if "distances_m" in settings
        else {"minutes": tuple(settings.get("minutes", (5, 10, 15)))}
    )
    with reading("isochrones", "--points", points_path, layer_of="points"):
        gdf = isochrones(
            network,
            points,
            speed_kmh=settings.get("speed_kmh", ISOCHRONE_DEFAULTS["speed_kmh"]),
            buffer_m=settings.get("buffer_m", ISOCHRONE_DEFAULTS["buffer_m"]),
            dissolve=bool(settings.get("dissolve")),
            **bands,
        )
    write_isochrones(gdf, out)
    log.info("Wrote %d polygons to %s", len(gdf), out)
    if map_path is not None:
        from planner.maps import isochrones_map, save_map

        save_map(
            isochrones_map(gdf, points=points, lang=settings.get("lang", "zh"), network=network),
            map_path,
        )
        log.info("Wrote %s", map_path)
    return 0


__all__ = ["run_check", "run_isochrones", "run_network", "run_propose"]
