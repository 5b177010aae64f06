"""Every option of every command, in one table: its review-file key, its flag, its type and range.

A value reaches a command from a flag or from the review file (``--config``, for ``check`` and
``propose``); both go through `Option.convert`, so a value is checked in one place and refused
with one kind of message: where it came from (the flag, or the file and key), the value, and
what is allowed. Flags override the file.

The table is flat; a key with a dot lives in a TOML table (``columns.households`` is
``[columns] households``). Adding a per-layer table later (``[facilities] path/crs/encoding/
layer/columns``, ``[targets]``, ``[report]``, ``[categories]``) is adding rows with dotted keys
and a `TABLES` entry; the reader walks nested tables generically. A key that may be either a
value or a table (``facilities = "x.gpkg"`` and ``[facilities] path = ...``) is one more rule in
`_walk`, nowhere else.
"""

from __future__ import annotations

import argparse
import codecs
import difflib
import math
import os
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

from planner.errors import InputError
from planner.households import DEFAULT_HOUSEHOLD_SIZE
from planner.schema import DEFAULT_BUFFER_M, DEFAULT_CATEGORY, DEFAULT_SPEED_KMH

Kind = Literal["path", "text", "name", "choice", "number", "count", "bool", "numbers", "encoding"]

REVIEW: Final = ("check", "propose")  # the commands that read a review file
COMMANDS: Final = ("check", "propose", "network", "isochrones", "households")
_ALL: Final = COMMANDS


@dataclass(frozen=True)
class Option:
    """One setting: where it may be given, its type and range, its help.

    ``name`` is the setting's name in `Settings` (dotted for table keys). ``key`` is its review
    file key (dotted path into TOML tables; None: flag only); ``flag`` its flag (None: file
    only; a bare word: a positional argument). ``switch`` makes the flag take no value and
    store that value. ``low``/``high`` bound numbers (``low_open``: strictly greater).
    """

    name: str
    kind: Kind
    help: str
    flag: str | None = None
    key: str | None = None
    commands: tuple[str, ...] = REVIEW
    choices: tuple[str, ...] = ()
    low: float | None = None
    low_open: bool = False
    high: float | None = None
    unit: str = ""
    default: Any = None
    switch: Any = None
    metavar: str | None = None
    group: str | None = None  # flags of one group are mutually exclusive
    kwarg: str | None = None  # the library's keyword for it, to translate its messages
    layer_of: str | None = None  # for a per-input option (``--facilities-layer``): the input

    def allowed(self) -> str:
        """What is allowed, in words."""
        if self.kind == "choice":
            return "one of " + ", ".join(self.choices)
        if self.kind == "bool":
            return "true or false"
        if self.kind in ("number", "count", "numbers"):
            what = {"number": "a number", "count": "a whole number", "numbers": "numbers"}[
                self.kind
            ]
            bounds = []
            if self.low is not None:
                bounds.append(f"{'>' if self.low_open else '≥'} {self.low:g}")
            if self.high is not None:
                bounds.append(f"≤ {self.high:g}")
            text = what + (" " + " and ".join(bounds) if bounds else "")
            return text + (f" ({self.unit})" if self.unit else "")
        if self.kind == "encoding":
            return "a text encoding Python knows, e.g. utf-8, gbk, gb18030"
        if self.kind == "path":
            return "a path (text in quotes)"
        return "text in quotes" if self.kind == "text" else "a column or layer name in quotes"

    def convert(self, value: Any, where: str, *, from_flag: bool) -> Any:
        """``value`` as this option's type, or an InputError naming ``where`` and the rule."""
        shown = repr(value) if from_flag else _toml_repr(value)
        problem = self._problem(value, from_flag)
        if problem is None:
            try:
                return self._checked(value, from_flag)
            except ValueError as exc:
                problem = str(exc)
        raise InputError(f"{where} {shown}: {problem}; allowed: {self.allowed()}.")

    def _problem(self, value: Any, from_flag: bool) -> str | None:
        """Why ``value`` has the wrong type (None: the type is right)."""
        if from_flag:
            return None  # flags are text; _checked parses them
        if self.kind in ("number", "count"):
            if isinstance(value, bool):
                return "a boolean (true/false), not a number"
            if isinstance(value, str):
                try:
                    float(value)
                except ValueError:
                    return "text, not a number"
                return "a number written as text; write it without quotes"
            if not isinstance(value, int | float):
                return f"a {_toml_type(value)}, not a number"
            return None
        if self.kind == "bool":
            if isinstance(value, str) and value.strip().lower() in ("true", "false"):
                return "text, not a boolean; write true or false without quotes"
            if not isinstance(value, bool):
                return f"a {_toml_type(value)}, not a boolean"
            return None
        if self.kind == "numbers":
            if not isinstance(value, list) or any(
                isinstance(v, bool) or not isinstance(v, int | float) for v in value
            ):
                return "not a list of numbers"
            return None
        if not isinstance(value, str):
            return f"a {_toml_type(value)}, not text; put it in quotes"
        return None

    def _checked(self, value: Any, from_flag: bool) -> Any:
        if self.kind == "bool":
            return bool(value)
        if self.kind in ("number", "count"):
            return self._number(value)
        if self.kind == "numbers":
            values = value if isinstance(value, list) else [value]
            if not values:
                raise ValueError("an empty list")
            return [self._number(v) for v in values]
        text = str(value)
        if not text.strip():
            raise ValueError("empty")
        if self.kind == "choice" and text not in self.choices:
            close = difflib.get_close_matches(text, self.choices, n=1)
            raise ValueError(
                "not one of the choices" + (f" (did you mean {close[0]}?)" if close else "")
            )
        if self.kind == "encoding":
            try:
                codecs.lookup(text)
            except LookupError:
                raise ValueError("an encoding Python does not know") from None
        return text

    def _number(self, value: Any) -> float | int:
        if isinstance(value, str):
            try:
                number = float(value.strip())
            except ValueError:
                raise ValueError("not a number") from None
        else:
            number = float(value)
        if not math.isfinite(number):
            raise ValueError("not a finite number")
        if self.kind == "count":
            if not number.is_integer():
                raise ValueError("not a whole number")
        if self.low is not None and (number <= self.low if self.low_open else number < self.low):
            raise ValueError("out of range")
        if self.high is not None and number > self.high:
            raise ValueError("out of range")
        return int(number) if self.kind == "count" else number

    def shown(self, command: str) -> str:
        """How a message names this option for ``command``: the flag, and the key in a file."""
        flag = self.flag if self.flag and command in self.commands else None
        key = self.key if self.key and command in REVIEW else None
        if flag and key:
            return f"{flag} (review file: {key})"
        return flag or (f"review file: {key}" if key else self.name)


def _toml_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "table"
    return "date or time"


def _toml_repr(value: Any) -> str:
    if isinstance(value, bool):
        return "= " + ("true" if value else "false")
    if isinstance(value, str):
        return f'= "{value}"'
    text = repr(value)
    return "= " + (text if len(text) <= 60 else text[:57] + "...")


# ---------------------------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------------------------

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
            ".osm.pbf) whose residential buildings are chosen by planner.pois' rules",
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


# ---------------------------------------------------------------------------------------------
# argparse, from the table
# ---------------------------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser, command: str) -> None:
    """Add the table's flags of ``command`` to its parser; every value arrives as text."""
    groups: dict[str, Any] = {}
    for option in options(command):
        assert option.flag is not None or option.key is not None
        if option.flag is None:
            continue
        target: Any = parser
        if option.group:
            if option.group not in groups:
                groups[option.group] = parser.add_mutually_exclusive_group()
            target = groups[option.group]
        help_text = option.help
        if not option.flag.startswith("--"):
            target.add_argument(option.flag, help=help_text, metavar=option.flag.upper())
        elif option.switch is not None:
            target.add_argument(
                option.flag,
                dest=option.name,
                action="store_const",
                const=option.switch,
                default=None,
                help=help_text,
            )
        else:
            target.add_argument(
                option.flag,
                dest=option.name,
                nargs="+" if option.kind == "numbers" else None,
                metavar=option.metavar
                or ("{" + ",".join(option.choices) + "}" if option.choices else None),
                help=help_text,
            )


# ---------------------------------------------------------------------------------------------
# The review file and the settings of one run
# ---------------------------------------------------------------------------------------------


@dataclass
class Settings:
    """The checked values of one run (by option name) and where each came from."""

    command: str
    values: dict[str, Any] = field(default_factory=dict)
    origins: dict[str, str] = field(default_factory=dict)
    config: Path | None = None

    def get(self, name: str, default: Any = None) -> Any:
        value = self.values.get(name)
        return default if value is None else value

    def __contains__(self, name: str) -> bool:
        return self.values.get(name) is not None

    def where(self, name: str) -> str:
        """Where a value came from, for messages: ``--out`` or ``review.toml: out``."""
        return self.origins.get(name) or option_named(self.command, name).shown(self.command)

    def columns(self) -> dict[str, str]:
        """The ``[columns]`` settings, by column key."""
        prefix = "columns."
        return {k[len(prefix) :]: v for k, v in self.values.items() if k.startswith(prefix) and v}


def option_named(command: str, name: str) -> Option:
    """The option ``name`` of ``command``."""
    named = [o for o in OPTIONS if o.name == name]
    for option in named:
        if command in option.commands:
            return option
    for option in named:
        if option.key:
            return option
    raise KeyError(name)


def read_review_file(path: Path) -> dict[str, tuple[Any, str]]:
    """The review file's values by option name, each with where it came from.

    Paths are resolved against the file's folder. Every key and value is checked against the
    table; any problem is an InputError naming the file, the key, the value and what is allowed.
    """
    return review_values(_load_toml(path), path)


def review_values(raw: Mapping[str, Any], path: Path) -> dict[str, tuple[Any, str]]:
    """The checked values of a parsed review file (`read_review_file` without the reading)."""
    found: dict[str, tuple[Any, str]] = {}
    for key, value in _walk(raw, path, ""):
        option = KEYS[key]
        where = f"{path}: {key}"
        converted = option.convert(value, where, from_flag=False)
        if option.kind == "path":
            converted = str((path.parent / converted).resolve())
        found[option.name] = (converted, where)
    return found


def _walk(table: Mapping[str, Any], path: Path, prefix: str) -> Iterable[tuple[str, Any]]:
    """(dotted key, value) of every value in a TOML table, refusing keys not in the table."""
    for name, value in table.items():
        key = f"{prefix}{name}"
        if isinstance(value, dict):
            if key not in TABLES:
                if key in KEYS:
                    raise InputError(
                        f"{path}: {key} is a table ([{key}]); allowed: {KEYS[key].allowed()}."
                    )
                raise _unknown(path, key, prefix)
            yield from _walk(value, path, key + ".")
        elif key in KEYS:
            yield key, value
        elif key in TABLES:
            raise InputError(
                f"{path}: {key} {_toml_repr(value)}: must be a table [{key}] of "
                f"{TABLES[key]} ({', '.join(_keys_under(key + '.'))})."
            )
        else:
            raise _unknown(path, key, prefix)


def _keys_under(prefix: str) -> list[str]:
    return [k[len(prefix) :] for k in KEYS if k.startswith(prefix) and "." not in k[len(prefix) :]]


def _unknown(path: Path, key: str, prefix: str) -> InputError:
    allowed = _keys_under(prefix) + ([t for t in TABLES if "." not in t] if not prefix else [])
    close = difflib.get_close_matches(key[len(prefix) :], allowed, n=1)
    where = f"[{prefix[:-1]}] " if prefix else ""
    hint = f" (did you mean {prefix}{close[0]}?)" if close else ""
    return InputError(
        f"{path}: unknown key {where}{key[len(prefix) :]}{hint}; allowed"
        f"{' in [' + prefix[:-1] + ']' if prefix else ''}: {', '.join(sorted(allowed))}."
    )


def _load_toml(path: Path) -> dict[str, Any]:
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise InputError(f"--config {path}: config file not found.") from exc
    except IsADirectoryError as exc:
        raise InputError(
            f"--config {path}: is a folder; give the review file (a .toml file) in it."
        ) from exc
    except PermissionError as exc:
        raise InputError(f"--config {path}: no permission to read it.") from exc
    except OSError as exc:
        if path.is_dir():
            raise InputError(
                f"--config {path}: is a folder; give the review file (a .toml file) in it."
            ) from exc
        raise InputError(f"--config {path}: cannot be read ({exc.strerror or exc}).") from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        guess = ""
        try:
            data.decode("gb18030")
            guess = " It looks like GBK/GB18030 (a Chinese Windows encoding)."
        except UnicodeDecodeError:
            pass
        raise InputError(
            f"--config {path}: not UTF-8 text (byte {data[exc.start]:#04x} at offset "
            f"{exc.start}).{guess} Save the review file as UTF-8 (in Notepad: Save as, "
            "Encoding UTF-8)."
        ) from exc
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not valid TOML ({exc}).") from exc


def settings(args: argparse.Namespace, command: str) -> Settings:
    """Flags (checked) over the review file (checked), for ``command``."""
    result = Settings(command)
    config = getattr(args, "config", None)
    if config is not None:
        config_path = Path(
            option_named(command, "config").convert(config, "--config", from_flag=True)
        )
        result.config = config_path
        for name, (value, where) in read_review_file(config_path).items():
            result.values[name] = value
            result.origins[name] = where
    for option in options(command):
        if option.name == "config" or option.flag is None:
            continue
        given = getattr(args, option.name, None)
        if given is None:
            continue
        if option.switch is not None:
            value = given
        else:
            value = option.convert(given, option.flag, from_flag=True)
        result.values[option.name] = value
        result.origins[option.name] = option.flag if option.flag.startswith("--") else command
    for option in options(command):
        if option.default is not None and result.values.get(option.name) is None:
            result.values[option.name] = option.default
    if command in REVIEW and not result.get("tianditu_key"):
        key = os.environ.get("TIANDITU_KEY")
        if key:
            result.values["tianditu_key"] = key
    return result


__all__ = [
    "COMMANDS",
    "ISOCHRONE_DEFAULTS",
    "KEYS",
    "OPTIONS",
    "Option",
    "REVIEW",
    "Settings",
    "TABLES",
    "add_arguments",
    "flags",
    "option_named",
    "options",
    "read_review_file",
    "review_values",
    "settings",
]
