"""What the command says: logging on stderr, progress, the summary, and its error messages.

The library's messages name its keyword arguments (``pass layer=... (or --layer)``); `for_cli`
turns them into the flags and review-file keys of the command that runs, so every fix a message
proposes is one the user can type.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Final

from planner.cli._config import Option, flags, options
from planner.errors import InputError

log = logging.getLogger("planner")


@contextmanager
def logging_to_stderr(quiet: bool) -> Iterator[None]:
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


def progress(stage: str, done: int, total: int | None) -> None:
    """The progress callback of long phases: one log line per report."""
    if total:
        log.info("  %s: %s / %s", stage, f"{done:,}", f"{total:,}")
    else:
        log.info("  %s: %s", stage, f"{done:,}")


def print_summary(summary: dict[str, Any], before: dict[str, Any] | None) -> None:
    """The verdict and each category's coverage and the floor area, on stdout."""
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


def error(message: str) -> None:
    """An error on stderr, as the last thing the command says."""
    print(f"planner: error: {message}", file=sys.stderr)


# ---------------------------------------------------------------------------------------------
# The library's hints in the command's terms
# ---------------------------------------------------------------------------------------------

# Flags the library's messages name, by the library keyword they stand for.
LIBRARY_FLAGS: Final = {
    "--layer": "layer",
    "--crs": "crs",
    "--encoding": "encoding",
    "--id-col": "id_col",
    "--name-col": "name_col",
    "--category-col": "category_col",
    "--households-col": "households_col",
    "--floor-area-col": "floor_area_col",
    "--lon-col": "lon_col",
    "--lat-col": "lat_col",
    "--communities": "communities",
    "--tianditu-key": "tianditu_key",
}
_PASS_OR_FLAG = re.compile(r"(\w+)=(?:\.\.\.)? \((?:or )?--[\w-]+\)")
_PAIR = re.compile(r"\((\w+)= / (\w+)=, or --[\w-]+ / --[\w-]+\)")
_QUOTED = re.compile(r"\b([a-z_]+)='([^']*)'")
_KWARG = re.compile(r"\b([a-z_]+)=(\.\.\.)?")
_FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")


def _option(command: str, kwarg: str, layer_of: str | None) -> Option | None:
    found = [o for o in options(command) if o.kwarg == kwarg]
    if kwarg == "layer":
        found = [o for o in found if o.layer_of == layer_of]
    if kwarg == "communities":
        found = [o for o in options(command) if o.name == "communities"]
    return found[0] if found else None


def for_cli(message: str, command: str, layer_of: str | None = None) -> str:
    """``message`` with the library's keywords and flags replaced by ``command``'s own.

    ``layer_of`` is the input being read (``facilities``...), for ``layer=``. Keywords without
    a counterpart in the command are left as they are (a test keeps that from happening).
    """

    def shown(kwarg: str, original: str, *, with_key: bool = True) -> str:
        option = _option(command, kwarg, layer_of)
        if option is None:
            return original
        return option.shown(command) if with_key else str(option.flag or option.shown(command))

    text = _PAIR.sub(
        lambda m: (
            "("
            + shown(m.group(1), m.group(1) + "=", with_key=False)
            + " / "
            + shown(m.group(2), m.group(2) + "=", with_key=False)
            + ")"
        ),
        message,
    )
    text = _PASS_OR_FLAG.sub(lambda m: shown(m.group(1), m.group(0)), text)
    text = _QUOTED.sub(
        lambda m: (
            f"{shown(m.group(1), '', with_key=False)} {m.group(2)}"
            if _option(command, m.group(1), layer_of)
            else m.group(0)
        ),
        text,
    )
    text = _KWARG.sub(
        lambda m: (
            shown(m.group(1), "", with_key=False) + (" ..." if m.group(2) else "")
            if _option(command, m.group(1), layer_of)
            else m.group(0)
        ),
        text,
    )
    known = flags(command)

    def fix_flag(m: re.Match[str]) -> str:
        flag = m.group(0)
        if flag in known or flag not in LIBRARY_FLAGS:
            return flag
        option = _option(command, LIBRARY_FLAGS[flag], layer_of)
        return str(option.flag) if option is not None and option.flag else flag

    return _FLAG.sub(fix_flag, text)


@contextmanager
def reading(command: str, where: str, path: str, layer_of: str | None = None) -> Iterator[None]:
    """Read an input: its InputErrors in the command's terms, and naming the file."""
    try:
        yield
    except InputError as exc:
        message = for_cli(str(exc), command, layer_of)
        if path not in message and _name(path) not in message:
            message = f"{where} {path}: {message}"
        raise InputError(message) from exc


def _name(path: str) -> str:
    return re.split(r"[\\/]", path.rstrip("/\\"))[-1]


__all__ = [
    "LIBRARY_FLAGS",
    "error",
    "for_cli",
    "log",
    "logging_to_stderr",
    "print_summary",
    "progress",
    "reading",
]
