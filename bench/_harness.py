"""Shared machinery of the bench scripts: fresh-process jobs, peak memory, medians, RESULTS.md.

Every measured job runs in a fresh Python subprocess (``python bench/<script>.py --child JSON``).
The parent reaps it with ``os.wait4``, whose ``ru_maxrss`` is the child's peak resident memory.
A child that only imports the same modules and exits ("idle") gives the baseline, so
"above idle" is what the job itself costs. Times are measured inside the child with
``time.perf_counter`` around the job only; setup steps are timed and reported separately.

The machine is shared, so every result carries the 1-minute load average before and after it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "bench"
OUT = BENCH / "out"
RESULTS = BENCH / "RESULTS.md"
RESULTS_HEADING = "# Benchmark results\n"
_RESULT_MARK = "@@BENCH-RESULT "

if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))


# --------------------------------------------------------------------------- child processes


@dataclass
class ChildRun:
    """One job run in a fresh subprocess."""

    job: dict[str, Any]
    ok: bool
    payload: dict[str, Any]
    peak_mb: float
    wall_s: float
    load_before: float
    load_after: float
    error: str = ""

    @property
    def load(self) -> str:
        return f"{self.load_before:.1f}/{self.load_after:.1f}"


def load1() -> float:
    """The 1-minute load average."""
    return os.getloadavg()[0]


def run_child(script: Path, job: dict[str, Any]) -> ChildRun:
    """Run ``job`` in a fresh ``python script --child JSON`` and reap it with its peak RSS."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        before = load1()
        start = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, str(script), "--child", json.dumps(job)],
            stdout=out,
            stderr=err,
            cwd=REPO,
        )
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - start
        after = load1()
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    peak_mb = usage.ru_maxrss / 1024.0  # Linux reports KiB
    payload: dict[str, Any] = {}
    for line in stdout.splitlines():
        if _RESULT_MARK in line:  # libraries' progress output may precede it on its line
            payload = json.loads(line.partition(_RESULT_MARK)[2])
    ok = proc.returncode == 0 and "error" not in payload
    error = ""
    if not ok:
        error = payload.get("error") or stderr.strip().splitlines()[-1:] or [f"exit {status}"]
        error = error if isinstance(error, str) else error[0]
        sys.stderr.write(f"  job {job} failed:\n{stderr[-3000:]}\n")
    return ChildRun(job, ok, payload, peak_mb, wall, before, after, error)


def child_main(jobs: dict[str, Callable[[dict[str, Any]], dict[str, Any]]]) -> None:
    """Entry point of a child: run ``jobs[job["job"]](job)`` and print its JSON payload."""
    job = json.loads(sys.argv[2])
    try:
        payload = jobs[job["job"]](job)
    except Exception as exc:  # reported to the parent, which prints the traceback
        traceback.print_exc()
        payload = {"error": f"{type(exc).__name__}: {exc}"}
    if _CPROFILE:
        payload["cprofile"] = _CPROFILE
    print(_RESULT_MARK + json.dumps(payload, default=_jsonable), flush=True)
    sys.exit(1 if "error" in payload else 0)


def job_idle(job: dict[str, Any]) -> dict[str, Any]:
    """Imports only: the memory baseline (the ``"idle"`` job of a script's ``JOBS``)."""
    return {}


def idle_peak_mb(script: Path) -> float:
    """Peak RSS in MB of an idle child of ``script`` (its imports, no work), printed."""
    baseline_mb = run_child(script, {"job": "idle"}).peak_mb
    print(f"  idle child (same imports): peak {baseline_mb:,.0f} MB", flush=True)
    return baseline_mb


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def is_child() -> bool:
    """Whether this process was started by `run_child`."""
    return len(sys.argv) > 2 and sys.argv[1] == "--child"


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Wall seconds taken by ``fn()`` and its result."""
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def timed_cpu(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """Wall seconds, CPU seconds (all threads of this process) of ``fn()``, and its result."""
    cpu = time.process_time()
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, time.process_time() - cpu, result


def section(job: dict[str, Any], fn: Callable[[], Any]) -> Any:
    """``fn()``, marked as the profiled section when ``job`` asks for a profile."""
    if not job.get("profile"):
        return fn()
    if job.get("cprofile"):
        result, stats = cprofile_section(fn)
        _CPROFILE.update(stats)  # the last run's profile is reported
        return result
    return profiled_section(fn)


_CPROFILE: dict[str, Any] = {}


def repeat(
    fn: Callable[[], Any], repeats: int, *, job: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Run ``fn`` ``repeats`` times: ``{"times": wall seconds, "cpu": CPU seconds, "result":
    the last result}`` (the previous result is freed before each call). With a ``job`` that
    asks for a profile, each call is a profiled section."""
    walls, cpus = [], []
    result = None
    for _ in range(repeats):
        result = None
        if job is not None:
            wall, cpu, result = timed_cpu(lambda: section(job, fn))
        else:
            wall, cpu, result = timed_cpu(fn)
        walls.append(wall)
        cpus.append(cpu)
    return {"times": walls, "cpu": cpus, "result": result}


# --------------------------------------------------------------------------- measurements


@dataclass
class Measure:
    """A measured job: run times, peak memory, load averages."""

    label: str
    times: list[float]
    peak_mb: float
    baseline_mb: float
    loads: list[str] = field(default_factory=list)
    note: str = ""
    ok: bool = True
    extrapolated: float | None = None
    extrapolated_cpu: float | None = None
    cpu: list[float] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def median(self) -> float:
        return statistics.median(self.times) if self.times else float("nan")

    @property
    def median_cpu(self) -> float:
        return statistics.median(self.cpu) if self.cpu else float("nan")

    @property
    def headline(self) -> float:
        """The extrapolated wall time when there is one, else the median."""
        return self.extrapolated if self.extrapolated is not None else self.median

    @property
    def headline_cpu(self) -> float:
        """The extrapolated CPU time when there is one, else the median."""
        return self.extrapolated_cpu if self.extrapolated_cpu is not None else self.median_cpu

    @property
    def above_mb(self) -> float:
        return self.peak_mb - self.baseline_mb

    def time_cell(self) -> str:
        if not self.ok:
            return "failed"
        if self.extrapolated is not None:
            return f"{fmt_s(self.extrapolated)} extrapolated"
        return fmt_s(self.median)

    def cpu_cell(self) -> str:
        if not self.ok or not self.cpu:
            return "-"
        if self.extrapolated_cpu is not None:
            return f"{fmt_s(self.extrapolated_cpu)} extrapolated"
        return fmt_s(self.median_cpu)

    def runs_cell(self) -> str:
        if not self.times:
            return "-"
        if len(self.times) == 1:
            return "1"
        return f"{len(self.times)} ({fmt_s(min(self.times))}-{fmt_s(max(self.times))})"

    def memory_cell(self) -> str:
        if not self.ok:
            return "-"
        return f"{self.peak_mb:,.0f} ({self.above_mb:+,.0f})"

    def cells(self) -> list[str]:
        """The table cells under `MEASURE_COLUMNS`: wall, CPU, runs, memory."""
        return [self.time_cell(), self.cpu_cell(), self.runs_cell(), self.memory_cell()]


MEASURE_COLUMNS = ["median wall", "median CPU", "runs (wall min-max)", "peak MB (above idle)"]
"""Headers of `Measure.cells`."""


def fresh_runs(
    script: Path,
    label: str,
    job: dict[str, Any],
    repeats: int,
    baseline_mb: float,
    *,
    note: str = "",
) -> Measure:
    """``repeats`` runs of a one-shot job (payload ``times`` and ``cpu``), each a fresh process.

    Each run is printed as it ends; a failed run ends the series (it fails the same way again).
    """
    runs = []
    for i in range(repeats):
        run = run_child(script, job)
        runs.append(run)
        state = fmt_s(run.payload["times"][0]) if run.ok else f"failed: {run.error}"
        print(
            f"    {label} run {i + 1}/{repeats}: {state}, peak {run.peak_mb:,.0f} MB, "
            f"load {run.load}",
            flush=True,
        )
        if not run.ok:
            break
    good = [r for r in runs if r.ok]
    m = Measure(
        label,
        [t for r in good for t in r.payload["times"]],
        max((r.peak_mb for r in good), default=float("nan")),
        baseline_mb,
        loads=[r.load for r in runs],
        ok=bool(good),
        cpu=[t for r in good for t in r.payload["cpu"]],
        extra=good[-1].payload if good else {},
        note=note,
    )
    if not good:
        m.note = (note + "; " if note else "") + f"failed: {runs[-1].error}"
    return m


def fmt_s(seconds: float) -> str:
    """Seconds, human-sized."""
    if seconds != seconds:  # NaN
        return "-"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1.0:
        return f"{seconds * 1e3:.1f} ms"
    if seconds < 100:
        return f"{seconds:.2f} s"
    return f"{seconds:.0f} s"


def fmt_ratio(slow: float, fast: float) -> str:
    if not (fast > 0 and slow == slow and fast == fast):
        return "-"
    ratio = slow / fast
    return f"{ratio:,.0f}×" if ratio >= 10 else f"{ratio:.1f}×"


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A GitHub markdown table."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


# --------------------------------------------------------------------------- RESULTS.md


def git_revision() -> str:
    """Short commit of the working tree, with ``+dirty`` when planner/ has local changes."""
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "planner"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return rev + ("+dirty planner/" if dirty else "")


def machine_line() -> str:
    """Cores, memory, Python and library versions, load average now."""
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    loads = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    return (
        f"{os.cpu_count()} cores, {mem_gb:.0f} GB RAM, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}; load average (1, 5, 15 min) {loads}"
    )


def command_line() -> str:
    """The command that started this script, as typed from the repository root."""
    script = Path(sys.argv[0]).resolve()
    try:
        shown = script.relative_to(REPO)
    except ValueError:
        shown = script
    return " ".join(["python", str(shown), *sys.argv[1:]])


START_REVISION = git_revision() if not is_child() else ""
"""The commit when this process started (the parent's; children do not ask git)."""


def append_results(title: str, body: str, *, started: dt.datetime) -> Path:
    """Append a dated section to bench/RESULTS.md (created with its heading when missing).

    The commit is the one at the start of the run; when the code changed during the run (other
    sessions commit meanwhile), both are given.
    """
    finished = dt.datetime.now().astimezone()
    revision = START_REVISION
    now = git_revision()
    if now != revision:
        revision = f"{revision} at the start, {now} at the end (the code changed during the run)"
    header = (
        f"\n## {started:%Y-%m-%d %H:%M} {title}\n\n"
        f"- Command: `{command_line()}`\n"
        f"- Commit: {revision}; started {started:%H:%M:%S}, finished {finished:%H:%M:%S} "
        f"({(finished - started).total_seconds() / 60:.1f} min)\n"
        f"- Machine: {machine_line()}\n\n"
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    if not RESULTS.exists() or RESULTS.stat().st_size == 0:
        RESULTS.write_text(RESULTS_HEADING, encoding="utf-8")
    with RESULTS.open("a", encoding="utf-8") as handle:
        handle.write(header + body.rstrip() + "\n")
    return RESULTS


# --------------------------------------------------------------------------- inputs


def points_near_edges(
    network: Any, n: int, *, max_m: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` seeded random points within ``max_m`` of the network's edges (network CRS).

    A point is placed on an edge picked with probability proportional to its length, at a
    uniform position along it, then moved in a random direction by a distance uniform in
    ``[0, max_m]``; it is therefore at most ``max_m`` from that edge.
    """
    import shapely

    rng = np.random.default_rng(seed)
    length = np.asarray(network.edge_length_m, dtype=np.float64)
    edge = rng.choice(length.shape[0], size=n, p=length / length.sum())
    base = shapely.line_interpolate_point(
        network.edge_geometry[edge], rng.random(n), normalized=True
    )
    angle = rng.uniform(0.0, 2 * np.pi, n)
    radius = rng.uniform(0.0, max_m, n)
    return (
        shapely.get_x(base) + radius * np.cos(angle),
        shapely.get_y(base) + radius * np.sin(angle),
    )


def synthetic_city(walk_nodes: int, *, clip: bool = True, suffix: str = ".osm.pbf") -> Path:
    """Path of the bench's synthetic city file, written with bench/synth_osm.py when missing.

    Files are ``bench/out/bench_city_<walk_nodes>[_noclip]<suffix>`` (seed 0), with the
    generator's statistics next to them in ``<file>.json``.
    """
    name = f"bench_city_{walk_nodes}{'' if clip else '_noclip'}{suffix}"
    path = OUT / name
    stats_path = path.with_name(path.name + ".json")
    if path.exists() and stats_path.exists() and stats_path.stat().st_size > 0:
        return path
    import synth_osm

    print(f"  writing {path.relative_to(REPO)} with bench/synth_osm.py ...", flush=True)
    seconds, stats = timed(
        lambda: synth_osm.write_synthetic_city(path, walk_nodes=walk_nodes, seed=0, clip=clip)
    )
    stats["generate_s"] = round(seconds, 1)
    stats_path.write_text(json.dumps(stats, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def city_stats(path: Path) -> dict[str, Any]:
    """The generator's statistics of a synthetic city file (empty when unknown)."""
    stats_path = path.with_name(path.name + ".json")
    try:
        return dict(json.loads(stats_path.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return {}


# --------------------------------------------------------------------------- profiling


def profiled_section(fn: Callable[[], Any]) -> Any:
    """Call ``fn``; profiles count only the samples under this frame."""
    return fn()


_SECTION = "profiled_section ("


def profile_child(script: Path, job: dict[str, Any], *, top: int = 12) -> dict[str, Any]:
    """Run ``job`` (with ``"profile": True``) in a child under a sampling profiler.

    Uses ``py-spy record`` (sampling at 200 Hz, Python frames) when it is installed, else
    ``cProfile`` inside the child (whose overhead inflates Python-heavy code). Returns the
    profiler used, the sample count, and the top functions by inclusive share (functions of
    ``planner`` and the bench's own code) and the innermost line of ``planner`` (or of the bench)
    in each sample, with its source: the statement that was running, the numpy, scipy, shapely
    or osmium calls it made included.
    """
    import shutil

    job = {**job, "profile": True}
    spy = shutil.which("py-spy")
    if spy is None:
        run = run_child(script, {**job, "cprofile": True})
        out = dict(run.payload.get("cprofile", {}))
        out.update(profiler="cProfile", ok=run.ok, error=run.error)
        return out
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "profile.txt"
        cmd = [spy, "record", "-r", "200", "-f", "raw", "-o", str(raw), "--"]
        cmd += [sys.executable, str(script), "--child", json.dumps(job)]
        proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
        if proc.returncode != 0 or not raw.exists():
            return {
                "profiler": "py-spy",
                "ok": False,
                "error": (proc.stderr.strip().splitlines() or ["py-spy failed"])[-1],
            }
        stacks = raw.read_text(encoding="utf-8").splitlines()
    inclusive: dict[str, int] = {}
    leaf: dict[str, int] = {}
    total = 0
    for line in stacks:
        stack, _, count_text = line.rpartition(" ")
        if _SECTION not in stack:
            continue
        count = int(count_text)
        frames = stack.split(";")
        inner = frames[max(i for i, f in enumerate(frames) if f.startswith(_SECTION)) + 1 :]
        if not inner:
            continue
        total += count
        seen = set()
        for frame in inner:
            name = _frame_function(frame)
            if name not in seen and _is_ours(frame):
                seen.add(name)
                inclusive[name] = inclusive.get(name, 0) + count
        ours = [f for f in inner if _is_ours(f)]
        key = _frame_line(ours[-1] if ours else inner[-1])
        leaf[key] = leaf.get(key, 0) + count

    def ranked(counts: dict[str, int]) -> list[tuple[str, float]]:
        best = sorted(counts.items(), key=lambda kv: -kv[1])[:top]
        return [(name, n / total) for name, n in best] if total else []

    return {
        "profiler": "py-spy",
        "ok": True,
        "samples": total,
        "inclusive": ranked(inclusive),
        "self": ranked(leaf),
    }


def _is_ours(frame: str) -> bool:
    """Whether a py-spy frame is in planner/ or bench/ (py-spy shortens paths to sys.path)."""
    where = frame.partition(" (")[2]
    return "site-packages" not in where and (
        where.startswith(("planner/", "bench/")) or "/planner/" in where or "/bench/" in where
    )


def _short_path(path: str) -> str:
    for marker in ("planner/", "bench/", "site-packages/"):
        if marker in path:
            return path[path.index(marker) :].removeprefix("site-packages/")
    return path


def _frame_function(frame: str) -> str:
    """``func (path:line)`` → ``path:func``."""
    func, _, rest = frame.partition(" (")
    path = rest.rstrip(")").rpartition(":")[0]
    return f"{_short_path(path)}:{func}"


def _frame_line(frame: str) -> str:
    """``func (path:line)`` → ``path:line func: source line``."""
    import linecache

    func, _, rest = frame.partition(" (")
    where = rest.rstrip(")")
    path, _, line = where.rpartition(":")
    code = linecache.getline(path, int(line)).strip() if line.isdigit() else ""
    if len(code) > 70:
        code = code[:67] + "..."
    return f"{_short_path(where)} {func}" + (f": {code}" if code else "")


def cprofile_section(fn: Callable[[], Any], *, top: int = 12) -> tuple[Any, dict[str, Any]]:
    """Run ``fn`` under cProfile; its result and the top functions by inclusive and self time."""
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    result = profiler.runcall(profiled_section, fn)
    stats = pstats.Stats(profiler)
    entries = stats.stats  # type: ignore[attr-defined]
    total = max(
        (ct for (_, _, name), (_, _, _, ct, _) in entries.items() if name == "profiled_section"),
        default=0.0,
    )

    def ranked(index: int, only_ours: bool) -> list[tuple[str, float]]:
        rows = []
        for (path, line, name), values in entries.items():
            if only_ours and "planner/" not in path and "bench/" not in path:
                continue
            if name == "profiled_section":
                continue
            rows.append(
                (f"{_short_path(path)}:{line} {name}", values[index] / total if total else 0.0)
            )
        return sorted(rows, key=lambda kv: -kv[1])[:top]

    return result, {"samples": None, "inclusive": ranked(3, True), "self": ranked(2, False)}


def profile_lines(title: str, prof: dict[str, Any]) -> list[str]:
    """Markdown lines for a profile."""
    if not prof.get("ok", True):
        return [f"Profile of {title}: failed ({prof.get('error', '')})", ""]
    lines = [
        f"Profile of {title} ({prof.get('profiler')}, {prof.get('samples') or '-'} samples):",
        "",
    ]
    rows = []
    inclusive = prof.get("inclusive", [])
    leaf = prof.get("self", [])
    for i in range(max(len(inclusive), len(leaf))):
        a = inclusive[i] if i < len(inclusive) else ("", None)
        b = leaf[i] if i < len(leaf) else ("", None)
        rows.append(
            [
                f"`{a[0]}`" if a[0] else "",
                f"{a[1]:.0%}" if a[1] is not None else "",
                f"`{b[0]}`" if b[0] else "",
                f"{b[1]:.0%}" if b[1] is not None else "",
            ]
        )
    lines.append(
        markdown_table(
            [
                "function (inclusive)",
                "share",
                "innermost planner line (calls it made included)",
                "share",
            ],
            rows,
        )
    )
    return lines + [""]
