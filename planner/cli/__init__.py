"""The ``planner`` command. The only place that configures logging and progress output.

Exit codes (`planner.outputs`): 0 every standard passes, 1 a standard fails, 2 bad input or
options (refused before any work, or a layer that cannot be used), 3 a file-system fault while
writing (disk full, read-only, no permission; nothing changed), 4 an internal error (a bug),
130 interrupted (SIGINT, Ctrl-C), 143 stopped (SIGTERM). On 2, 3, 4, 130 and 143 no output was
moved into place and no staging folder is left.

The modules: `_table` (every flag and review-file key, with its type and range), `_option`
(one option and its conversion), `_config` (argparse from the table, the review-file reader),
`_guards` (outputs never touch inputs, and can be written), `_check` (check, propose,
isochrones, network), `_cluster` (check on Dask, batch), `_households`, `_terminal`
(logging, progress, summary, messages).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from types import FrameType
from typing import Any

from planner._version import __version__
from planner.cli._check import (
    run_batch,
    run_check,
    run_init,
    run_isochrones,
    run_network,
    run_propose,
    run_report,
)
from planner.cli._config import add_arguments, settings
from planner.cli._households import run_households
from planner.cli._table import options
from planner.cli._terminal import error, logging_to_stderr, set_language
from planner.errors import OutputError, PlannerError
from planner.outputs import (
    EXIT_BAD_INPUT,
    EXIT_FAULT,
    EXIT_INTERNAL,
    EXIT_SIGINT,
    EXIT_SIGTERM,
)

_HELP = {
    "check": ("review coverage and floor area; exit 0 pass, 1 fail", None),
    "batch": (
        "review many areas (REVIEW.toml files), each with its outputs, and one roll-up",
        "Review every area of REVIEW.toml... (on --workers N or --scheduler ADDRESS when "
        "given), write each area's outputs to its review file's out, and one roll-up "
        "(rollup.csv, rollup.json: area, district, sub-district, community) into --out "
        "(default: the folder above the first area's outputs). Exit 0 when every area passes.",
    ),
    "propose": ("propose sites and floor areas of new facilities; exit as the after-review", None),
    "network": ("load an OSM file, report it, optionally save it", None),
    "isochrones": (
        "walking isochrones of points",
        "Walking isochrones (served areas) of any points: the street pieces walkable within "
        "each band (--minutes, or --distances-m), each with --buffer-m of land either side, as "
        "a GeoPackage or GeoJSON (--out), and optionally an HTML map (--map). One polygon per "
        "point and band, or one per band with --dissolve.",
    ),
    "report": (
        "rebuild report.pdf and report.html from a written review",
        "Rebuild report.pdf and report.html in a review's output folder (written by planner "
        "check or propose) from its files, e.g. with another title or language; the review is "
        "not rerun.",
    ),
    "init": (
        "guess a review file from a folder of files",
        "Look at the files in FOLDER, guess the network, facilities, residences and "
        "communities, their columns, encodings and CRS, and write FOLDER/review.toml, "
        "commented, for you to check. A table's CRS (WGS84, GCJ-02 or BD-09) cannot be seen "
        "and is never guessed.",
    ),
    "households": (
        "estimate households from building footprints (optionally a population grid) and "
        "write the residences layer planner check reads",
        "Estimate households from building footprints: footprint × levels ÷ m² per "
        "household, or, with --population, persons ÷ household size shared among the "
        "residential buildings of each cell by floor area. Writes one point per residence "
        "(id, households, how it was estimated) for planner check --residences. Every number "
        "is an estimate and the output says so (households_method, households_estimated).",
    ),
}
_RUNNERS: dict[str, Callable[[Any], int]] = {
    "check": run_check,
    "propose": run_propose,
    "network": run_network,
    "isochrones": run_isochrones,
    "households": run_households,
    "batch": run_batch,
    "report": run_report,
    "init": run_init,
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="planner",
        description="Check and plan the 15-minute community life circle on the walking network.",
    )
    parser.add_argument("--version", action="version", version=f"planner {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for command, (help_text, description) in _HELP.items():
        add_arguments(
            sub.add_parser(command, help=help_text, description=description or help_text),
            command,
        )
    return parser


class Interrupted(BaseException):
    """SIGINT or SIGTERM arrived: unwinds like KeyboardInterrupt, so staging folders go."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


@contextmanager
def _interruptible() -> Iterator[None]:
    """SIGINT and SIGTERM raise `Interrupted` (once; later ones wait for the cleanup)."""
    if sys.platform == "win32" or signal.getsignal(signal.SIGINT) is None:
        yield
        return
    try:
        saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    except ValueError:  # not the main thread
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        for s in saved:
            signal.signal(s, signal.SIG_IGN)
        raise Interrupted(signum)

    try:
        for s in saved:
            signal.signal(s, handler)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        for s, old in saved.items():
            signal.signal(s, old)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``planner`` command."""
    args = _parser().parse_args(argv)
    command = args.command
    try:
        with _interruptible(), logging_to_stderr(bool(getattr(args, "quiet", False))):
            speaks = any(o.name == "lang" for o in options(command))  # else English
            set_language((getattr(args, "lang", None) or "zh") if speaks else "en")
            config = settings(args, command)  # the review file may say another language
            set_language(config.get("lang", "zh") if speaks else "en")
            return _RUNNERS[command](config)
    except OutputError as exc:
        error(str(exc))
        return EXIT_FAULT
    except PlannerError as exc:
        error(str(exc), exc.zh)
        return EXIT_BAD_INPUT
    except MemoryError:
        error(f"planner {command} ran out of memory; nothing was written.")
        return EXIT_FAULT
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        error(f"{exc.strerror or exc}{where}; no output was left half-written.")
        return EXIT_FAULT
    except (Interrupted, KeyboardInterrupt) as exc:
        signum = exc.signum if isinstance(exc, Interrupted) else signal.SIGINT
        name = "SIGTERM" if signum == signal.SIGTERM else "SIGINT"
        error(f"interrupted ({name}); nothing was written and the staging folder was removed.")
        return EXIT_SIGTERM if signum == signal.SIGTERM else EXIT_SIGINT
    except Exception as exc:
        if os.environ.get("PLANNER_TRACEBACK"):
            raise
        last = traceback.extract_tb(exc.__traceback__)[-1]
        error(
            f"internal error, a bug in planner: {type(exc).__name__}: {exc} (at "
            f"{os.path.basename(last.filename)}:{last.lineno}); no output was left half-written. "
            "Please report it with the command line; PLANNER_TRACEBACK=1 shows the traceback."
        )
        return EXIT_INTERNAL


__all__ = ["Interrupted", "main"]

if __name__ == "__main__":
    sys.exit(main())
