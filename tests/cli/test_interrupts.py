"""Signals sent to a running review, and two reviews into one folder at once (subprocesses).

A small driver runs `planner.cli.main` with one phase slowed down (the analysis, or the writing
once the first table is staged) and says on stderr when it got there; the test then signals it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cli_inputs import make_review

from planner.cli import main

ROOT = Path(__file__).resolve().parents[2]
DRIVER = """
import os, sys, time
import planner.checks, planner.outputs
pause = float(os.environ.get("PAUSE_S", "60"))
phase = os.environ["PHASE"]
if phase == "writing":
    write = planner.outputs.write_layer
    def slow(*args, **kwargs):
        write(*args, **kwargs)
        print("REACHED", file=sys.stderr, flush=True)
        time.sleep(pause)
    planner.outputs.write_layer = slow
else:
    check = planner.checks.check
    def slow(*args, **kwargs):
        print("REACHED", file=sys.stderr, flush=True)
        time.sleep(pause)
        return check(*args, **kwargs)
    planner.checks.check = slow
from planner.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.fixture()
def inputs(tmp_path: Path) -> dict[str, Path]:
    files = make_review(tmp_path / "in")
    earlier = tmp_path / "review"
    assert main(_argv(files, earlier)) == 0
    return {**files, "out": earlier}


def _argv(files: dict[str, Path], out: Path, *extra: str) -> list[str]:
    return [
        "check",
        "--network", str(files["network"]),
        "--facilities", str(files["facilities"]),
        "--residences", str(files["residences"]),
        "--crs", "EPSG:4326",
        "--out", str(out),
        "--quiet",
        "--no-isochrones",
        *extra,
    ]  # fmt: skip


def _snapshot(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _start(tmp_path: Path, argv: list[str], phase: str, pause: float = 60) -> subprocess.Popen:
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER, encoding="utf-8")
    env = {
        **os.environ,
        "PHASE": phase,
        "PAUSE_S": str(pause),
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    return subprocess.Popen(
        [sys.executable, str(driver), *argv],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=env,
    )


def _wait_until_reached(proc: subprocess.Popen) -> None:
    assert proc.stderr is not None
    deadline = time.monotonic() + 60
    for line in proc.stderr:
        if line.strip() == "REACHED":
            return
        assert time.monotonic() < deadline
    pytest.fail(f"the run ended before the slowed phase (exit {proc.wait()})")


@pytest.mark.parametrize("phase", ["analysis", "writing"])
@pytest.mark.parametrize(
    ("signum", "code", "name"), [(signal.SIGINT, 130, "SIGINT"), (signal.SIGTERM, 143, "SIGTERM")]
)
def test_signal_ends_cleanly(inputs, tmp_path, phase, signum, code, name):
    before_inputs = _snapshot(tmp_path / "in")
    before_review = _snapshot(inputs["out"])
    proc = _start(tmp_path, _argv(inputs, inputs["out"], "--speed-kmh", "3.6"), phase)
    _wait_until_reached(proc)
    if phase == "writing":
        assert list(tmp_path.glob(".review.partial-*")), "the review should be staged by now"
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines == [
        f"planner: error: interrupted ({name}); nothing was written and the staging folder "
        "was removed."
    ]
    assert not list(tmp_path.rglob("*.partial-*"))
    assert _snapshot(inputs["out"]) == before_review
    assert _snapshot(tmp_path / "in") == before_inputs


def test_the_next_run_cleans_up_after_sigkill(inputs, tmp_path):
    proc = _start(tmp_path, _argv(inputs, inputs["out"]), "writing")
    _wait_until_reached(proc)
    proc.kill()
    proc.communicate(timeout=60)
    stale = list(tmp_path.glob(".review.partial-*"))
    assert stale, "SIGKILL leaves the staging folder"
    # a live run's staging folder is not touched by another run's cleanup
    live = _start(tmp_path, _argv(inputs, tmp_path / "other"), "writing")
    _wait_until_reached(live)
    try:
        assert main(_argv(inputs, inputs["out"])) == 0
        assert not list(tmp_path.glob(".review.partial-*"))
        assert list(tmp_path.glob(".other.partial-*")), "a live staging folder was removed"
    finally:
        live.kill()
        live.communicate(timeout=60)


def test_two_reviews_into_one_folder_at_once(inputs, tmp_path):
    """Each run moves its whole set of files in under the folder's lock: the folder ends up
    with every table from one run, never a mix."""
    references = {}
    for speed in ("4.0", "3.6"):  # made as the runs below are: in a fresh process each
        folder = tmp_path / f"ref-{speed}"
        _start(tmp_path, _argv(inputs, folder, "--speed-kmh", speed), "writing", 0).communicate(
            timeout=120
        )
        references[speed] = _snapshot(folder)
    shared = tmp_path / "shared"
    runs = [
        _start(tmp_path, _argv(inputs, shared, "--speed-kmh", speed), "writing", pause=1.0)
        for speed in ("4.0", "3.6")
    ]
    errs = [run.communicate(timeout=120)[1] for run in runs]
    assert [run.returncode for run in runs] == [0, 1], errs
    got = _snapshot(shared)
    # the map and the report are documents, not tables: the report's PDF is not byte-identical
    tables = [n for n in got if not n.endswith((".html", ".pdf"))]
    assert any(all(got[n] == ref[n] for n in tables) for ref in references.values()), (
        "the folder mixes the two runs' files"
    )
    assert set(got) == set(references["4.0"])
    assert not list(tmp_path.rglob("*.partial-*"))
    shutil.rmtree(shared)
