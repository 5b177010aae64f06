"""Run every benchmark in bench/ with one command and say where their results were appended.

Run from the repository root::

    python bench/run_all.py            # every bench/bench_*.py in full (an hour or more)
    python bench/run_all.py --quick    # the small cases of each script that has --quick

Each ``bench/bench_*.py`` runs in turn, in its own process, with the flags it understands (read
from its ``--help``): ``--quick`` when asked for and supported, ``--append`` when the script only
writes bench/RESULTS.md on request. Afterwards the sections each script appended to
bench/RESULTS.md are listed. Scripts run one after another: the machine has 2 cores and every
benchmark measures time.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
RESULTS = BENCH / "RESULTS.md"


def scripts(only: list[str] | None, skip: list[str]) -> list[Path]:
    """The bench scripts to run, in a fixed order (engine and loader first)."""
    found = sorted(BENCH.glob("bench_*.py"), key=lambda p: (_rank(p.stem), p.name))
    names = {p.stem.removeprefix("bench_"): p for p in found}
    if only:
        unknown = sorted(set(only) - set(names))
        if unknown:
            raise SystemExit(f"run_all: no bench script for {unknown}; have {sorted(names)}")
        found = [names[n] for n in only]
    return [p for p in found if p.stem.removeprefix("bench_") not in skip]


def _rank(stem: str) -> int:
    order = ("bench_engine", "bench_loader")
    return order.index(stem) if stem in order else len(order)


def supported_flags(script: Path) -> set[str]:
    """Long options a script's ``--help`` lists."""
    proc = subprocess.run(
        [sys.executable, str(script), "--help"], cwd=REPO, capture_output=True, text=True
    )
    return set(re.findall(r"(?<![\w-])--[a-z][\w-]*", proc.stdout))


def results_sections(text: str) -> list[tuple[str, str]]:
    """The ``## `` sections of a piece of RESULTS.md: (heading, body)."""
    sections: list[tuple[str, str]] = []
    for line in text.splitlines():
        if line.startswith("## "):
            sections.append((line[3:].strip(), ""))
        elif sections:
            heading, body = sections[-1]
            sections[-1] = (heading, body + line + "\n")
    return sections


def _results_size() -> int:
    return RESULTS.stat().st_size if RESULTS.exists() else 0


def _new_text(since: int) -> str:
    if not RESULTS.exists():
        return ""
    with RESULTS.open("rb") as handle:
        handle.seek(since)
        return handle.read().decode("utf-8", "replace")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="pass --quick where supported")
    parser.add_argument("--only", help="comma-separated scripts, e.g. engine,loader")
    parser.add_argument("--skip", default="", help="comma-separated scripts to leave out")
    args = parser.parse_args(argv)
    only = [s.strip() for s in args.only.split(",")] if args.only else None
    skip = [s.strip() for s in args.skip.split(",") if s.strip()]
    todo = scripts(only, skip)
    print(f"run_all: {', '.join(p.name for p in todo)}; load average {os.getloadavg()[0]:.2f}")
    summary = []
    for script in todo:
        flags = supported_flags(script)
        cmd = [sys.executable, str(script.relative_to(REPO))]
        notes = []
        if args.quick:
            if "--quick" in flags:
                cmd.append("--quick")
            else:
                notes.append("no --quick option: ran in full")
        if "--append" in flags:
            cmd.append("--append")
        shown = " ".join(["python", *cmd[1:]])
        print(f"\n=== {shown} (load average {os.getloadavg()[0]:.2f})", flush=True)
        before = _results_size()
        start = time.perf_counter()
        code = subprocess.run(cmd, cwd=REPO).returncode
        minutes = (time.perf_counter() - start) / 60
        appended = []
        for heading, text in results_sections(_new_text(before)):
            if script.name in heading + text:
                appended.append(heading)
            else:  # another session's benchmark appended meanwhile
                notes.append(f"RESULTS.md also got '## {heading}' from elsewhere meanwhile")
        summary.append((script.name, shown, code, minutes, appended, notes))
    print(f"\n=== run_all done; results file: {RESULTS.relative_to(REPO)}")
    failed = 0
    for name, shown, code, minutes, appended, notes in summary:
        state = "ok" if code == 0 else f"FAILED (exit {code})"
        failed += code != 0
        print(f"- {name}: {state}, {minutes:.1f} min; command: {shown}")
        for note in notes:
            print(f"    note: {note}")
        if appended:
            for heading in appended:
                print(f"    appended to {RESULTS.relative_to(REPO)}: ## {heading}")
        else:
            print(f"    appended nothing to {RESULTS.relative_to(REPO)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
