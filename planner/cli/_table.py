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
_CLUSTER: Final = ("check", "batch")

LAYERED: Final = ("facilities", "residences", "communities", "proposed", "candidates", "mask")
LAYER_COLUMNS: Final = {
    # the column keys each layer reads (a layer is asked only for what it needs)
    "facilities": ("id", "name", "category", "floor_area_m2", "lon", "lat"),
    "proposed": ("id", "name", "category", "floor_area_m2", "lon", "lat"),
    "residences": ("id", "name", "households", "lon", "lat"),
    "communities": ("id", "name", "subdistrict", "district", "households"),
    "candidates": ("lon", "lat"),
    "mask": (),
}
TABLES: Final = {
    "columns": "your column names, if they differ (defaults for every layer)",
    **{k: f"the {k} layer's settings" for k in LAYERED},
    **{f"{k}.columns": f"the {k} layer's column names" for k in LAYERED if LAYER_COLUMNS[k]},
    "report": "the report's cover (title, district, organisation, date)",
}

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
    (
        "communities",
        "community polygons (optional): reads the columns id (or 社区代码/社区编号), name (or "
        "社区名称), subdistrict (or 街道), district (or 区县) and households (optional; else "
        "counted from the residences); name others with --communities-col KEY=NAME",
        ("check", "propose"),
    ),
    ("proposed", "planned facilities to add; reports before and after", ("check",)),
    ("candidates", "candidate sites layer (default: along the streets)", ("propose",)),
    ("mask", "polygons where no site may go (with generated candidates)", ("propose",)),
)
_COLUMN_MEANINGS: Final = {
    **{column: meaning for column, meaning, _ in _COLUMNS},
    "subdistrict": "sub-district (街道) names",
    "district": "district (区/县) names",
}


def _layer_rows(name: str, commands: tuple[str, ...]) -> list[Option]:
    """The ``[<name>]`` table: path is the input itself; crs, encoding, sheet, columns."""
    rows = [
        Option(name, "path", f"the {name} layer's file", key=f"{name}.path", commands=commands),
        Option(
            f"{name}_crs",
            "text",
            f"CRS of --{name} when it states none or is a table (default: --crs), e.g. "
            "EPSG:4547, gcj02, bd09",
            f"--{name}-crs",
            f"{name}.crs",
            commands=commands,
            metavar="CRS",
            kwarg="crs",
            layer_of=name,
        ),
        Option(
            f"{name}_encoding",
            "encoding",
            f"text encoding of --{name}'s attributes (default: --encoding, else detect)",
            f"--{name}-encoding",
            f"{name}.encoding",
            commands=commands,
            metavar="ENCODING",
            kwarg="encoding",
            layer_of=name,
        ),
    ]
    if name not in ("communities", "mask"):  # polygon layers are never tables
        rows.append(
            Option(
                f"{name}_sheet",
                "name",
                f"sheet of --{name} when it is an .xlsx workbook with several",
                f"--{name}-sheet",
                f"{name}.sheet",
                commands=commands,
                metavar="SHEET",
                kwarg="sheet",
                layer_of=name,
            )
        )
    keys = LAYER_COLUMNS[name]
    if keys:
        rows.append(
            Option(
                f"{name}_columns",
                "pairs",
                f"a column of --{name}: KEY=NAME, KEY one of {', '.join(keys)} (repeatable; "
                "over --id-col etc.)",
                f"--{name}-col",
                commands=commands,
                choices=keys,
                metavar="KEY=NAME",
                layer_of=name,
            )
        )
    for key in keys:
        rows.append(
            Option(
                f"{name}.columns.{key}",
                "name",
                f"column of the {name} layer holding {_COLUMN_MEANINGS[key]}",
                key=f"{name}.columns.{key}",
                commands=commands,
                layer_of=name,
            )
        )
    return rows


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
                key=f"{name}.layer",
            )
        )
        layer_rows += _layer_rows(name, commands)
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
            "language of the map, tables, report and terminal (default zh)",
            "--lang",
            "lang",
            commands=(*REVIEW, "isochrones", "report", "network", "households"),
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
            "CRS of every layer that states none (a CSV/XLSX table, a Shapefile without .prj), "
            "e.g. EPSG:4490, gcj02; a layer's own --<layer>-crs overrides it",
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
        # on a Dask cluster (planner check, planner batch; issue #20)
        Option(
            "reviews", "paths", "review TOML files, one per area", "reviews", commands=("batch",)
        ),
        Option(
            "workers",
            "count",
            "review on a local Dask cluster of N worker processes",
            "--workers",
            "workers",
            commands=_CLUSTER,
            low=1,
            metavar="N",
            group="cluster",
        ),
        Option(
            "scheduler",
            "text",
            "review on an existing Dask cluster, e.g. tcp://host:8786",
            "--scheduler",
            "scheduler",
            commands=_CLUSTER,
            metavar="ADDRESS",
            group="cluster",
        ),
        Option(
            "tile_m",
            "number",
            "side of the square units of a split review (5000)",
            "--tile-m",
            "tile_m",
            commands=_CLUSTER,
            low=0.0,
            low_open=True,
            unit="m",
        ),
        Option(
            "unit_level",
            "choice",
            "units of a split review with communities (default: one per community)",
            "--unit-level",
            "unit_level",
            commands=_CLUSTER,
            choices=("subdistrict", "district"),
        ),
        Option("out", "path", "folder of the combined roll-up", "--out", commands=("batch",)),
        Option(
            "categories",
            "labels",
            "a facility category label and the category it means, LABEL=CATEGORY (repeatable; "
            'review file: [categories] "社区党群服务中心" = "community_service")',
            "--map-category",
            "categories",
            metavar="LABEL=CATEGORY",
        ),
        # the report (planner check, propose, report)
        Option(
            "report",
            "bool",
            "do not write report.pdf and report.html",
            "--no-report",
            switch=False,
        ),
        *(
            Option(
                f"report.{key}",
                "text",
                f"the report cover's {what}",
                flag,
                f"report.{key}",
                commands=(*REVIEW, "report"),
                metavar=key.upper(),
            )
            for key, flag, what in (
                ("title", "--report-title", "title (default: the standard's report title)"),
                (
                    "district",
                    "--report-district",
                    "district (default: the review's districts, else the folder's name)",
                ),
                ("organisation", "--report-organisation", "organisation (default: none)"),
                ("date", "--report-date", "date (default: today)"),
            )
        ),
        Option(
            "review",
            "path",
            "a review's output folder (written by planner check or propose)",
            "review",
            commands=("report",),
            metavar="REVIEW_FOLDER",
        ),
        # planner init
        Option(
            "folder",
            "path",
            "the folder of the bureau's files (network, facilities, residences, communities)",
            "folder",
            commands=("init",),
            metavar="FOLDER",
        ),
        Option(
            "force",
            "bool",
            "replace an existing review.toml in the folder",
            "--force",
            commands=("init",),
            switch=True,
        ),
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
            "target",
            "choice",
            "coverage (--sites/--cover-all) or communities: bring every failing community to "
            "its coverage target and floor area, placed inside it (needs --communities)",
            "--target",
            "target",
            commands=("propose",),
            choices=("coverage", "communities"),
            default="coverage",
            kwarg="target",
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
        Option(
            "tiles",
            "number",
            "with --save: write the network as GeoParquet tiles of this side (e.g. 5000)",
            "--tiles",
            commands=("network",),
            low=0.0,
            low_open=True,
            unit="m",
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
    "LAYER_COLUMNS",
    "OPTIONS",
    "TABLES",
    "flags",
    "options",
]
