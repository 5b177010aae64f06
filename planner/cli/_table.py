"""The table: every flag and review-file key of every command, with its type, range and help.

A key with a dot lives in a TOML table (``columns.households`` is ``[columns] households``);
`TABLES` names the tables a review file may hold. Issue #17's per-layer tables
(``[facilities] path/crs/encoding/layer/columns``), ``[targets]``, ``[report]`` and
``[categories]`` are rows with dotted keys plus a `TABLES` entry each.
"""

from __future__ import annotations

from typing import Final

from planner.cli._option import COMMANDS, REVIEW, Option
from planner.households import DEFAULT_HOUSEHOLD_SIZE
from planner.schema import DEFAULT_BUFFER_M, DEFAULT_CATEGORY, DEFAULT_SPEED_KMH

_ALL: Final = COMMANDS

TABLES: Final = {"columns": "your column names, if they differ"}

_COLUMNS: Final = (
    ("id", "unique ids", "id_col"),
    ("name", "names", "name_col"),
    ("category", "facility categories", "category_col"),
    ("households", "household counts", "households_col"),
    ("floor_area_m2", "floor areas in m²", "floor_area_col"),
    ("lon", "longitudes (CSV)", "lon_col"),
    ("lat", "latitudes (CSV)", "lat_col"),
)
_INPUTS: Final = (
    # name, help, commands (flag), whether the flag may choose a layer
    ("network", "OSM file (.osm, .osm.bz2, .osm.pbf) or saved network", REVIEW),
    ("facilities", "facilities layer (GPKG, GeoJSON, SHP, CSV)", REVIEW),
    ("residences", "residences layer with households", REVIEW),
    ("communities", "community polygons (optional)", ("check",)),
    ("proposed", "planned facilities to add; reports before and after", ("check",)),
    ("candidates", "candidate sites layer (default: along the streets)", ("propose",)),
    ("mask", "polygons where no site may go (with generated candidates)", ("propose",)),
)
LAYERED: Final = ("facilities", "residences", "communities", "proposed", "candidates", "mask")


def _table() -> tuple[Option, ...]:
    rows: list[Option] = [
        Option("config", "path", "review TOML file (flags override it)", flag="--config"),
    ]
    for name, help_text, commands in _INPUTS:
        rows.append(Option(name, "path", help_text, flag=f"--{name}", key=name, commands=commands))
    layer_rows: list[Option] = []
    for name in LAYERED:
        commands = next(c for n, _, c in _INPUTS if n == name)
        layer_rows.append(
            Option(
                f"{name}_layer",
                "name",
                f"layer of --{name} inside a multi-layer file (GeoPackage)",
                flag=f"--{name}-layer",
                commands=commands,
                metavar="NAME",
                kwarg="layer",
                layer_of=name,
            )
        )
    rows += [
        Option("standard", "text", "built-in standard name or TOML file", "--standard", "standard"),
        Option(
            "speed_kmh",
            "number",
            "walking speed (default 4.0)",
            "--speed-kmh",
            "speed_kmh",
            commands=(*REVIEW, "isochrones"),
            low=0.0,
            low_open=True,
            high=50.0,
            unit="km/h",
        ),
        Option(
            "allocation",
            "choice",
            "how floor area is shared: catchment (2SFCA), nearest, community",
            "--allocation",
            "allocation",
            commands=("check",),
            choices=("catchment", "nearest", "community"),
        ),
        Option(
            "snap_cap_m",
            "number",
            "max distance to the network (500)",
            "--snap-cap-m",
            "snap_cap_m",
            low=0.0,
            low_open=True,
            unit="m",
        ),
        Option(
            "buffer_m",
            "number",
            "served-area width around streets (25)",
            "--buffer-m",
            "buffer_m",
            commands=(*REVIEW, "isochrones"),
            low=0.0,
            low_open=True,
            unit="m",
        ),
        Option("out", "path", "output folder", "--out", "out"),
        Option(
            "lang",
            "choice",
            "map language (default zh)",
            "--lang",
            "lang",
            commands=(*REVIEW, "isochrones"),
            choices=("zh", "en"),
        ),
        Option(
            "basemap",
            "choice",
            "basemap tiles of the map (default osm)",
            "--basemap",
            "basemap",
            choices=("osm", "amap", "tianditu", "none"),
            kwarg="basemap",
        ),
        Option(
            "tianditu_key",
            "text",
            "Tianditu API key for --basemap tianditu (default: $TIANDITU_KEY)",
            "--tianditu-key",
            kwarg="tianditu_key",
        ),
        Option(
            "isochrones",
            "bool",
            "skip the served-area bands on the map",
            "--no-isochrones",
            "isochrones",
            switch=False,
        ),
        Option(
            "isochrones_gpkg",
            "bool",
            "also write the bands as polygons (isochrones.gpkg; slow on a city)",
            "--isochrones-gpkg",
            "isochrones_gpkg",
            switch=True,
        ),
        Option(
            "crs",
            "text",
            "CRS of layers that have none (CSV), e.g. EPSG:4490, gcj02",
            "--crs",
            "crs",
            commands=(*REVIEW, "isochrones", "households"),
            kwarg="crs",
        ),
        Option(
            "encoding",
            "encoding",
            "text encoding of attribute tables (default: detect)",
            "--encoding",
            "encoding",
            commands=(*REVIEW, "households"),
            kwarg="encoding",
        ),
    ]
    for column, meaning, kwarg in _COLUMNS:
        rows.append(
            Option(
                f"columns.{column}",
                "name",
                f"column holding {meaning} (default: {column})",
                f"--{column.replace('_', '-')}-col",
                f"columns.{column}",
                metavar="NAME",
                kwarg=kwarg,
            )
        )
    rows += layer_rows
    rows += [
        Option("quiet", "bool", "no progress output", "--quiet", commands=_ALL, switch=True),
        # planner propose
        Option(
            "sites",
            "count",
            "maximal covering: the best K new sites",
            "--sites",
            commands=("propose",),
            low=1,
            group="count",
            metavar="SITES",
        ),
        Option(
            "cover_all",
            "bool",
            "set covering: fewest sites covering everyone",
            "--cover-all",
            commands=("propose",),
            switch=True,
            group="count",
        ),
        Option(
            "category",
            "name",
            "category to add",
            "--category",
            commands=("propose",),
            default=DEFAULT_CATEGORY,
        ),
        Option(
            "spacing_m",
            "number",
            "generated candidates' spacing",
            "--spacing-m",
            commands=("propose",),
            low=0.0,
            low_open=True,
            unit="m",
            default=100.0,
        ),
        Option(
            "module_m2",
            "number",
            "round floor areas up to this",
            "--module-m2",
            commands=("propose",),
            low=0.0,
            low_open=True,
            unit="m²",
            default=50.0,
        ),
        Option(
            "time_limit_s",
            "number",
            "MILP solver time limit",
            "--time-limit-s",
            commands=("propose",),
            low=0.0,
            low_open=True,
            unit="s",
            default=60.0,
        ),
        Option(
            "method",
            "choice",
            "solver: auto, milp or greedy",
            "--method",
            commands=("propose",),
            choices=("auto", "milp", "greedy"),
            default="auto",
        ),
        Option(
            "sizing",
            "choice",
            "least total area giving every reached household 30 m²/100, or each site its own",
            "--sizing",
            commands=("propose",),
            choices=("least_area", "catchment"),
            default="least_area",
        ),
        # planner network
        Option(
            "source", "path", "OSM file or saved network folder", "source", commands=("network",)
        ),
        Option(
            "save",
            "path",
            "save the prepared network into this folder",
            "--save",
            commands=("network",),
        ),
        # planner isochrones
        Option(
            "network",
            "path",
            "OSM file or saved network",
            "--network",
            commands=("isochrones",),
        ),
        Option(
            "points",
            "path",
            "points layer (GPKG, GeoJSON, SHP, CSV) to draw isochrones of",
            "--points",
            commands=("isochrones",),
        ),
        Option(
            "points_layer",
            "name",
            "layer of --points inside a multi-layer file (GeoPackage)",
            "--points-layer",
            commands=("isochrones",),
            metavar="NAME",
            kwarg="layer",
            layer_of="points",
        ),
        Option(
            "minutes",
            "numbers",
            "bands in minutes of walking (default 5 10 15)",
            "--minutes",
            commands=("isochrones",),
            low=0.0,
            low_open=True,
            unit="minutes",
            group="bands",
        ),
        Option(
            "distances_m",
            "numbers",
            "bands in metres of walking",
            "--distances-m",
            commands=("isochrones",),
            low=0.0,
            low_open=True,
            unit="m",
            group="bands",
        ),
        Option(
            "dissolve",
            "bool",
            "one polygon per band",
            "--dissolve",
            commands=("isochrones",),
            switch=True,
        ),
        Option("out", "path", "FILE.gpkg or FILE.geojson", "--out", commands=("isochrones",)),
        Option(
            "map", "path", "also write an HTML map of the bands", "--map", commands=("isochrones",)
        ),
        # planner households
        Option(
            "buildings",
            "path",
            "building footprints: a GeoPackage/GeoJSON/Shapefile layer (every feature counts; "
            "non-residential building types get 0 households), or an OSM file (.osm, .osm.bz2, "
            ".osm.pbf) whose residential buildings are chosen by planner.osm.buildings' rules",
            "--buildings",
            commands=("households",),
            metavar="FILE",
        ),
        Option(
            "out",
            "path",
            "residences layer to write, FILE.gpkg or FILE.geojson (written atomically)",
            "--out",
            commands=("households",),
            metavar="FILE",
        ),
        Option(
            "population",
            "path",
            "population polygons (e.g. a 250 m grid) with persons per cell; households = "
            "persons ÷ household size, shared among the cell's residential buildings",
            "--population",
            commands=("households",),
            metavar="FILE",
        ),
        Option(
            "population_col",
            "name",
            "column of --population with persons per cell (default: population)",
            "--population-col",
            commands=("households",),
            metavar="NAME",
            kwarg="population_col",
        ),
        Option(
            "household_size",
            "number",
            f"persons per household with --population (default {DEFAULT_HOUSEHOLD_SIZE:g}, "
            "China 2020 census)",
            "--household-size",
            commands=("households",),
            low=0.0,
            low_open=True,
            unit="persons",
            metavar="PERSONS",
        ),
        Option(
            "cell_id_col",
            "name",
            "column of --population identifying cells in the output and the log (default: "
            "its 'id' column when it has one, else the feature number, 1 = first)",
            "--cell-id-col",
            commands=("households",),
            metavar="NAME",
            kwarg="cell_id_col",
        ),
        Option(
            "m2_per_household",
            "number",
            "gross floor area per household for every residential type, without --population "
            "(default by type: 95 apartments/residential, 120 houses, 30 dormitories)",
            "--m2-per-household",
            commands=("households",),
            low=0.0,
            low_open=True,
            unit="m²",
            metavar="M2",
        ),
        Option(
            "default_levels",
            "number",
            "levels where building:levels is missing, for every residential type (default by "
            "type: 6 apartments/residential, 2 houses, 5 dormitories)",
            "--default-levels",
            commands=("households",),
            low=0.0,
            low_open=True,
            unit="levels",
            metavar="LEVELS",
        ),
        Option(
            "type_col",
            "name",
            "column of a buildings layer with the OSM building type (default: building; "
            "without it every building counts as building=yes, a residential block)",
            "--type-col",
            commands=("households",),
            metavar="NAME",
            kwarg="type_col",
        ),
        Option(
            "levels_col",
            "name",
            "column of a buildings layer with the number of levels (default: building:levels)",
            "--levels-col",
            commands=("households",),
            metavar="NAME",
            kwarg="levels_col",
        ),
        Option(
            "id_col",
            "name",
            "column of a buildings layer with unique ids (default: id; without it "
            "b1, b2, ... in file order)",
            "--id-col",
            commands=("households",),
            metavar="NAME",
            kwarg="id_col",
        ),
        Option(
            "buildings_layer",
            "name",
            "layer inside a multi-layer file",
            "--buildings-layer",
            commands=("households",),
            metavar="NAME",
            kwarg="layer",
            layer_of="buildings",
        ),
        Option(
            "population_layer",
            "name",
            "layer inside a multi-layer file",
            "--population-layer",
            commands=("households",),
            metavar="NAME",
            kwarg="layer",
            layer_of="population",
        ),
    ]
    return tuple(rows)


OPTIONS: Final = _table()
KEYS: Final = {o.key: o for o in OPTIONS if o.key}  # every review-file key (dotted)
ISOCHRONE_DEFAULTS: Final = {"speed_kmh": DEFAULT_SPEED_KMH, "buffer_m": DEFAULT_BUFFER_M}


def options(command: str) -> list[Option]:
    """The options of one command, in table order."""
    return [o for o in OPTIONS if command in o.commands]


def flags(command: str) -> set[str]:
    """Every flag of ``command`` (``--help`` and ``--version`` included)."""
    return {o.flag for o in options(command) if o.flag and o.flag.startswith("--")} | {
        "--help",
        "--version",
    }


__all__ = [
    "ISOCHRONE_DEFAULTS",
    "KEYS",
    "LAYERED",
    "OPTIONS",
    "TABLES",
    "flags",
    "options",
]
