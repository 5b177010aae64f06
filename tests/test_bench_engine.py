"""Smoke test of bench/bench_engine.py's side-by-side job on the smallest real network: the
benchmark calls planner's API as it is now (it once failed on every network after a refactor),
and its ways agree where they must."""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"


def test_side_by_side_job_runs_ours_the_floor_and_networkx(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(BENCH))  # the scripts import their harness as `_harness`
    bench_engine = importlib.import_module("bench_engine")
    out = bench_engine.job_side({"case": "oakland", "rounds": 1, "peers": False})
    assert set(out["wall"]) == {
        "floor nearest",
        "floor catchments",
        "ours nearest",
        "ours catchments",
        "ours snap_points",
        "ours nearest, pre-snapped",
        "ours catchments, pre-snapped",
        "networkx nearest",
        "networkx catchments",
    }
    assert all(len(times) == 1 and times[0] > 0 for times in out["wall"].values())
    info = out["info"]
    assert (info["nodes"], info["facilities"], info["residences"]) == (47, 200, 20_000)
    assert info["index_s"] > 0
    # Ours walks from the nearest point of the nearest edge, the floor from the nearest node:
    # different pairs, but of the same order on a 47-node network.
    ours, floor = out["pairs"]["ours"], out["pairs"]["floor"]
    assert 0.8 < ours / floor < 1.2, (ours, floor)
    assert np.isfinite(list(info.values())).all()
