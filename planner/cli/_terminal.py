"""What the command says: logging on stderr, progress, the summary, and its error messages.

The library's messages name its keyword arguments (``pass layer=... (or --layer)``); `for_cli`
turns them into the flags and review-file keys of the command that runs, so every fix a message
proposes is one the user can type.
"""

from __future__ import annotations

import logging
import re
import sys
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Final

from planner.cli._config import Option, flags, options
from planner.cli._zh import translate
from planner.errors import InputError

log = logging.getLogger("planner")


class _Once(logging.Filter):
    """Each warning (and each message) once per command: a check run several times (propose,
    a proposed plan's baseline) says the same thing once."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: set[tuple[int, str]] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        key = (record.levelno, record.getMessage())
        if key in self.seen:
            return False
        self.seen.add(key)
        return True


class _Bars:
    """Progress bars of long phases (rich), on a terminal only and never with --quiet."""

    def __init__(self) -> None:
        self.enabled = False
        self.live: Any = None  # the rich Progress while a phase runs
        self.tasks: dict[str, Any] = {}


_BARS = _Bars()


def _is_terminal() -> bool:
    return bool(getattr(sys.stderr, "isatty", lambda: False)())


class _Language:
    """The language the terminal speaks: set by the command once its settings are read."""

    lang = "en"


def set_language(lang: str | None) -> None:
    """Speak ``lang`` ("zh" or "en") on the terminal from now on (log lines; the summary)."""
    _Language.lang = "zh" if lang == "zh" else "en"


class _InLanguage(logging.Formatter):
    """Log lines in the terminal's language: Chinese by their template (`planner.cli._zh`)."""

    def format(self, record: logging.LogRecord) -> str:
        if _Language.lang == "zh":
            args = record.args if isinstance(record.args, tuple) else ()
            line = translate(str(record.msg), args)
            if line is not None:
                return line
        return super().format(record)


@contextmanager
def logging_to_stderr(quiet: bool) -> Iterator[None]:
    """Show planner's log messages on stderr for one command (each warning once), progress bars
    on a terminal unless ``quiet``, then put logging back as it was."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_InLanguage("%(message)s"))
    handler.addFilter(_Once())
    logger = logging.getLogger("planner")
    saved = (logger.handlers[:], logger.level, logger.propagate)
    logger.handlers[:] = [handler]
    logger.setLevel(logging.WARNING if quiet else logging.INFO)
    logger.propagate = False
    saved_bars = _BARS.enabled
    _BARS.enabled = not quiet and _is_terminal()
    try:
        yield
    finally:
        logger.handlers[:], logger.level, logger.propagate = saved
        _BARS.enabled = saved_bars


@contextmanager
def phase(label: str) -> Iterator[None]:
    """A long phase (loading a city, checking, served areas, writing): a progress bar with the
    time spent on a terminal, nothing otherwise. `progress` reports inside it add their counts."""
    if not _BARS.enabled or _BARS.live is not None:
        yield
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    bars = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(file=sys.stderr, force_terminal=True),
        transient=True,
    )
    _BARS.live, _BARS.tasks = bars, {}
    bars.add_task(label, total=None)
    try:
        with bars:
            yield
    finally:
        _BARS.live, _BARS.tasks = None, {}


def progress(stage: str, done: int, total: int | None) -> None:
    """The progress callback of long phases: a bar per stage inside a `phase`, else nothing
    (a log file gets no progress lines)."""
    bars = _BARS.live
    if bars is None:
        return
    task = _BARS.tasks.get(stage)
    if task is None:
        task = _BARS.tasks[stage] = bars.add_task(f"  {stage}", total=total)
    bars.update(task, completed=done, total=total)


_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "pass": "PASS",
        "fail": "FAIL",
        "required": "required",
        "measured": "measured",
        "within": "{rate} % of households within {m} m / {min} min{prior}",
        "before": " (before {rate} %)",
        "fa": "floor area {label}: {ratio} m² per 100 households overall (need {need}); "
        "shortfall {short} m² ({basis})",
        "fa_comm": "floor area {label}: {fail} of {n} communities below {need} m² per 100 "
        "households; shortfall {short} m² (per community)",
        "comm": "communities: {c} of {n} compliant",
        "comm_none": "; {n} without households (no verdict)",
        "comm_out": "; {hh} households in no community",
        "sd": "{c} / {n} compliant",
        "target": "target {t}: {met}",
        "met": "met",
        "missed": "missed",
        "catchment": "catchment allocation",
        "nearest": "nearest allocation",
        "community": "community allocation",
    },
    "zh": {
        "pass": "达标",
        "fail": "未达标",
        "required": "达标要求",
        "measured": "仅测量",
        "within": "{rate} % 的住户在 {m} 米 / {min} 分钟内{prior}",
        "before": "（之前 {rate} %）",
        "fa": "{label}：合计 {ratio} m²/百户（要求 {need}）；缺口 {short} m²（{basis}）",
        "fa_comm": "{label}：{n} 个社区中 {fail} 个低于 {need} m²/百户；缺口 {short} m²（按社区）",
        "comm": "社区：{n} 个中 {c} 个达标",
        "comm_none": "；{n} 个无住户（不评定）",
        "comm_out": "；{hh} 户不在任何社区内",
        "sd": "{c} / {n} 达标",
        "target": "目标 {t}：{met}",
        "met": "达成",
        "missed": "未达成",
        "catchment": "两步移动搜索",
        "nearest": "最近设施",
        "community": "按社区",
    },
}


def display_width(text: str) -> int:
    """Columns ``text`` takes in a terminal: East Asian wide and full-width characters take 2."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, width: int) -> str:
    """``text`` padded with spaces to ``width`` terminal columns."""
    return text + " " * max(0, width - display_width(text))


def summary_lines(
    summary: dict[str, Any], before: dict[str, Any] | None, lang: str = "en"
) -> list[str]:
    """The verdict, each rule's coverage, the floor area and the communities, as text lines."""
    w = _WORDS["zh" if lang == "zh" else "en"]
    title = summary["standard"].get(f"title_{lang}") or summary["standard"]["title_en"]
    sep = "：" if lang == "zh" else ": "
    lines = [f"{title}{sep}{w['pass'] if summary['passes'] else w['fail']}"]
    before_cov = {c["key"]: c for c in before["coverage"]} if before else {}

    def label(entry: dict[str, Any]) -> str:
        return str(entry.get("label_zh") or entry["key"]) if lang == "zh" else str(entry["key"])

    width = max((display_width(label(c)) for c in summary["coverage"]), default=0) + 2
    for c in summary["coverage"]:
        was = before_cov.get(c["key"])
        prior = w["before"].format(rate=f"{100 * was['rate']:.1f}") if was else ""
        text = w["within"].format(
            rate=f"{100 * c['rate']:5.1f}",
            m=f"{c['max_walk_m']:.0f}",
            min=f"{c['max_walk_min']:.0f}",
            prior=prior,
        )
        tag = w["required"] if c["required"] else w["measured"]
        lines.append(f"  {pad(label(c), width)}{text} [{tag}]")
    fa = summary["floor_area"]
    if fa is not None:
        fa_label = (fa.get("label_zh") if lang == "zh" else None) or fa["category"]
        if fa.get("per") == "community":
            lines.append(
                "  "
                + w["fa_comm"].format(
                    label=fa_label,
                    fail=fa["communities_failing"],
                    n=fa["communities"],
                    need=f"{fa['required_m2_per_100hh']:g}",
                    short=f"{fa['shortfall_m2']:,.0f}",
                )
            )
        else:
            lines.append(
                "  "
                + w["fa"].format(
                    label=fa_label,
                    ratio=f"{fa['m2_per_100hh']:.1f}",
                    need=f"{fa['required_m2_per_100hh']:g}",
                    short=f"{fa['shortfall_m2']:,.0f}",
                    basis=w.get(fa["allocation"], fa["allocation"]),
                )
            )
    comm = summary.get("communities")
    if comm:
        text = w["comm"].format(c=comm["compliant"], n=comm["count"])
        if comm.get("without_households"):
            text += w["comm_none"].format(n=comm["without_households"])
        if comm.get("households_outside_communities"):
            text += w["comm_out"].format(hh=f"{comm['households_outside_communities']:,.0f}")
        lines.append(text)
        rows = summary.get("subdistricts") or []
        width = max((display_width(str(r.get("subdistrict") or "-")) for r in rows), default=0)
        for row in rows:
            text = w["sd"].format(c=row["compliant_communities"], n=row["communities"])
            target = row.get("target_compliant")
            if row.get("meets_target") is not None:
                shown = target if target is not None else f"{100 * row['target_share']:.0f} %"
                met = w["met"] if row["meets_target"] else w["missed"]
                text += "  " + w["target"].format(t=shown, met=met)
            lines.append(f"  {pad(str(row.get('subdistrict') or '-'), width + 2)}{text}")
    return lines


def print_summary(summary: dict[str, Any], before: dict[str, Any] | None, lang: str = "en") -> None:
    """`summary_lines` on stdout."""
    print("\n".join(summary_lines(summary, before, lang)))


def error(message: str, zh: str | None = None) -> None:
    """An error on stderr, as the last thing the command says: in Chinese first when the
    terminal speaks it and the error has its Chinese text (`PlannerError.zh`), then English."""
    if zh is not None and _Language.lang == "zh":
        print(f"planner: error: {zh}\n  (English) {message}", file=sys.stderr)
    else:
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
_PASS_OR_FLAG = re.compile(r"(\w+)=(?:\.\.\.)?(?: \((?:or )?|（或 )--[\w-]+[)）]")
_PAIR = re.compile(r"[(（](\w+)= / (\w+)=(?:, or |，或 )--[\w-]+ / --[\w-]+[)）]")
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


def for_cli(message: str, command: str, layer_of: str | None = None, *, zh: bool = False) -> str:
    """``message`` with the library's keywords and flags replaced by ``command``'s own.

    ``layer_of`` is the input being read (``facilities``...), for ``layer=``. Keywords without
    a counterpart in the command are left as they are (a test keeps that from happening).
    ``zh``: the message is Chinese (a review-file key is named in Chinese too).
    """

    def shown(kwarg: str, original: str, *, with_key: bool = True) -> str:
        option = _option(command, kwarg, layer_of)
        if option is None:
            return original
        if with_key:
            return option.shown(command, zh=zh)
        return str(option.flag or option.shown(command, zh=zh))

    brackets = "（）" if zh else "()"
    text = _PAIR.sub(
        lambda m: (
            brackets[0]
            + shown(m.group(1), m.group(1) + "=", with_key=False)
            + " / "
            + shown(m.group(2), m.group(2) + "=", with_key=False)
            + brackets[1]
        ),
        message,
    )

    def pass_or_flag(m: re.Match[str]) -> str:
        named = shown(m.group(1), m.group(0))
        return named + " " if zh and named != m.group(0) and not named.endswith("）") else named

    text = _PASS_OR_FLAG.sub(pass_or_flag, text)
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
        zh = None if exc.zh is None else for_cli(exc.zh, command, layer_of, zh=True)
        if path not in message and _name(path) not in message:
            message = f"{where} {path}: {message}"
            zh = None if zh is None else f"{where} {path}：{zh}"
        raise InputError(message, zh=zh) from exc


def _name(path: str) -> str:
    return re.split(r"[\\/]", path.rstrip("/\\"))[-1]


__all__ = [
    "LIBRARY_FLAGS",
    "error",
    "for_cli",
    "log",
    "logging_to_stderr",
    "display_width",
    "pad",
    "phase",
    "print_summary",
    "summary_lines",
    "progress",
    "reading",
    "set_language",
]
