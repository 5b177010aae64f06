"""Flags and the review file into checked settings: argparse from the table, the one reader.

The table of every option is `planner.cli._table`; one option, its type and range, is
`planner.cli._option.Option`.

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
import difflib
import os
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from planner.cli._option import COMMANDS, REVIEW, Option, toml_repr
from planner.cli._table import ISOCHRONE_DEFAULTS, KEYS, OPTIONS, TABLES, flags, options
from planner.errors import InputError

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
            target.add_argument(
                option.flag,
                help=help_text,
                metavar=option.metavar or option.flag.upper(),
                nargs="+" if option.kind == "paths" else None,
            )
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
                action="append" if option.kind in ("pairs", "labels") else "store",
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

    def columns(self, layer: str | None = None) -> dict[str, str]:
        """The ``[columns]`` settings, by column key; with ``layer``, only that layer's own
        (``[<layer>].columns`` and ``--<layer>-col``)."""
        prefix = "columns." if layer is None else f"{layer}.columns."
        return {k[len(prefix) :]: v for k, v in self.values.items() if k.startswith(prefix) and v}

    def layer_columns(self, layer: str) -> dict[str, str]:
        """The columns ``layer`` reads: its own over ``[columns]``, only the keys it needs."""
        from planner.cli._table import LAYER_COLUMNS

        shared = {
            k: v
            for k, v in self.columns().items()
            # [columns] households is the residences' count: communities need none of theirs
            if not (layer == "communities" and k == "households")
        }
        both = {**shared, **self.columns(layer)}
        return {k: v for k, v in both.items() if k in LAYER_COLUMNS[layer]}

    def column_where(self, layer: str, key: str) -> str:
        """Where the column ``key`` of ``layer`` was set, for messages."""
        for name in (f"{layer}.columns.{key}", f"columns.{key}"):
            if name in self.origins:
                return self.origins[name]
        return f"--{layer}-col {key}=NAME"


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
        if key in KEYS and KEYS[key].kind == "labels":
            yield key, value  # a table of any labels ([categories]): checked as one value
        elif isinstance(value, dict):
            if key not in TABLES:
                if key in KEYS:
                    raise InputError(
                        f"{path}: {key} is a table ([{key}]); allowed: {KEYS[key].allowed()}.",
                        zh=f"{path}：{key} 是表（[{key}]）；允许：{KEYS[key].allowed()}。",
                    )
                raise _unknown(path, key, prefix)
            yield from _walk(value, path, key + ".")
        elif key in KEYS:
            yield key, value
        elif key in TABLES:
            raise InputError(
                f"{path}: {key} {toml_repr(value)}: must be a table [{key}] of "
                f"{TABLES[key]} ({', '.join(_keys_under(key + '.'))}).",
                zh=f"{path}：{key} {toml_repr(value)}：必须是 [{key}] 表（{TABLES[key]}："
                f"{'、'.join(_keys_under(key + '.'))}）。",
            )
        else:
            raise _unknown(path, key, prefix)


def _keys_under(prefix: str) -> list[str]:
    return [k[len(prefix) :] for k in KEYS if k.startswith(prefix) and "." not in k[len(prefix) :]]


def _tables_under(prefix: str) -> list[str]:
    return [
        t[len(prefix) :] for t in TABLES if t.startswith(prefix) and "." not in t[len(prefix) :]
    ]


def _unknown(path: Path, key: str, prefix: str) -> InputError:
    allowed = sorted(set(_keys_under(prefix)) | set(_tables_under(prefix)))
    close = difflib.get_close_matches(key[len(prefix) :], allowed, n=1)
    where = f"[{prefix[:-1]}] " if prefix else ""
    hint = f" (did you mean {prefix}{close[0]}?)" if close else ""
    zh_hint = f"（是否想写 {prefix}{close[0]}？）" if close else ""
    return InputError(
        f"{path}: unknown key {where}{key[len(prefix) :]}{hint}; allowed"
        f"{' in [' + prefix[:-1] + ']' if prefix else ''}: {', '.join(sorted(allowed))}.",
        zh=f"{path}：未知的键 {where}{key[len(prefix) :]}{zh_hint}；"
        f"{'[' + prefix[:-1] + '] 中' if prefix else ''}可用的键：{', '.join(sorted(allowed))}。",
    )


def _load_toml(path: Path) -> dict[str, Any]:
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise InputError(
            f"--config {path}: config file not found.", zh=f"--config {path}：评估文件不存在。"
        ) from exc
    except IsADirectoryError as exc:
        raise InputError(
            f"--config {path}: is a folder; give the review file (a .toml file) in it.",
            zh=f"--config {path}：是文件夹；请给出其中的评估文件（.toml 文件）。",
        ) from exc
    except PermissionError as exc:
        raise InputError(
            f"--config {path}: no permission to read it.", zh=f"--config {path}：没有读取权限。"
        ) from exc
    except OSError as exc:
        if path.is_dir():
            raise InputError(
                f"--config {path}: is a folder; give the review file (a .toml file) in it.",
                zh=f"--config {path}：是文件夹；请给出其中的评估文件（.toml 文件）。",
            ) from exc
        raise InputError(
            f"--config {path}: cannot be read ({exc.strerror or exc}).",
            zh=f"--config {path}：无法读取（{exc.strerror or exc}）。",
        ) from exc
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
            "Encoding UTF-8).",
            zh=f"--config {path}：不是 UTF-8 文本（第 {exc.start} 字节为 {data[exc.start]:#04x}）。"
            f"{'看起来是 GBK/GB18030 编码。' if guess else ''}请把评估文件另存为 UTF-8"
            "（记事本：另存为，编码选 UTF-8）。",
        ) from exc
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(
            f"{path}: not valid TOML ({exc}).", zh=f"{path}：不是有效的 TOML（{exc}）。"
        ) from exc


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
        if option.kind == "pairs":  # --facilities-col id=编号: one setting per column key
            for key, column in value.items():
                result.values[f"{option.layer_of}.columns.{key}"] = column
                result.origins[f"{option.layer_of}.columns.{key}"] = f"{option.flag} {key}="
            continue
        if option.kind == "labels":  # --map-category over [categories]
            value = {**result.values.get(option.name, {}), **value}
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
