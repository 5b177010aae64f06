"""Through the command line: `planner check --workers/--scheduler`, `batch`, `network --tiles`."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from split_helpers import ROOT

from planner.cli import main

pytest.importorskip("distributed")

GUIXI = ROOT / "data" / "guixi" / "review.toml"
TABLES = ("facilities.csv", "gaps.csv", "communities.csv", "subdistricts.csv", "districts.csv")


def _same_outputs(single: Path, split: Path) -> None:
    """summary.json and the tables identical; residences too, walks beyond the largest
    threshold given by the split run as "more than X m" (inf)."""
    one = json.loads((single / "summary.json").read_text(encoding="utf-8"))
    other = json.loads((split / "summary.json").read_text(encoding="utf-8"))
    assert one == other
    for name in TABLES:
        if (single / name).exists():
            assert (single / name).read_bytes() == (split / name).read_bytes(), name
    a = pd.read_csv(single / "residences.csv")
    b = pd.read_csv(split / "residences.csv")
    limit = max(one["parameters"]["thresholds"].values())
    walks = [c for c in a.columns if c.startswith(("walk_m_", "walk_min_", "nearest_id_"))]
    pd.testing.assert_frame_equal(a.drop(columns=walks), b.drop(columns=walks))
    for key in one["parameters"]["thresholds"]:
        if f"walk_m_{key}" not in a:
            continue
        wa = a[f"walk_m_{key}"].to_numpy(dtype=float)
        wb = b[f"walk_m_{key}"].to_numpy(dtype=float)
        exact = wa <= limit
        np.testing.assert_array_equal(wa[exact], wb[exact])
        assert not (wb[~exact] <= limit).any()


def test_check_on_two_local_workers_equals_single(tmp_path, capsys):
    common = ["check", "--config", str(GUIXI), "--no-isochrones", "--basemap", "none"]
    assert main([*common, "--out", str(tmp_path / "single"), "--quiet"]) == 1
    assert main([*common, "--out", str(tmp_path / "split"), "--workers", "2"]) == 1
    _same_outputs(tmp_path / "single", tmp_path / "split")
    assert "单元 community" in capsys.readouterr().err  # progress of the cluster's tasks (zh)


def test_batch_writes_each_area_and_one_rollup(tmp_path):
    reviews = []
    for area in ("haidian", "guixi"):
        folder = tmp_path / area
        shutil.copytree(ROOT / "data" / area, folder)
        text = (folder / "review.toml").read_text(encoding="utf-8")
        text = text.replace('network = "../', f'network = "{ROOT / "data"}/')
        lines = [ln for ln in text.splitlines() if not ln.startswith("out =")]
        lines.insert(lines.index("[columns]"), f'out = "{tmp_path / "out" / area}"\n')
        (folder / "review.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
        reviews.append(str(folder / "review.toml"))
    code = main(["batch", *reviews, "--out", str(tmp_path / "all"), "--quiet"])
    assert code == 1  # the demos fail the standard
    for area in ("haidian", "guixi"):
        assert (tmp_path / "out" / area / "summary.json").is_file()
    rollup = pd.read_csv(tmp_path / "all" / "rollup.csv")
    assert set(rollup["area"]) == {"haidian", "guixi"}
    assert {"area", "subdistrict", "community"} <= set(rollup["level"])
    summaries = json.loads((tmp_path / "all" / "rollup.json").read_text())
    assert summaries["passes"] is False
    for area in ("haidian", "guixi"):  # each area's rows agree with its own written tables
        out = tmp_path / "out" / area
        assert summaries["areas"][area] == json.loads((out / "summary.json").read_text())
        res = pd.read_csv(out / "residences.csv")
        top = rollup[(rollup["area"] == area) & (rollup["level"] == "area")].iloc[0]
        assert top["residences"] == len(res)
        assert top["households"] == pytest.approx(res["households"].sum())
        covered = res.loc[res["covered_community_service"], "households"].sum()
        assert top["coverage_rate_community_service"] == pytest.approx(
            covered / res["households"].sum(), abs=1e-6
        )
        per = rollup[(rollup["area"] == area) & (rollup["level"] == "community")]
        if not (out / "communities.csv").exists():
            assert per.empty
            continue
        comm = pd.read_csv(out / "communities.csv").set_index("community_id")
        assert len(per) == len(comm)
        for _, row in per.iterrows():
            assert row["households"] == pytest.approx(comm.loc[row["name"], "households"])
            assert row["coverage_rate_community_service"] == pytest.approx(
                comm.loc[row["name"], "coverage_rate_community_service"], abs=1e-6
            )


def test_broken_unit_fails_alone_by_name(tmp_path, capsys):
    source = ROOT / "data" / "cn_jiangxi_guixi_mapofgx.osm.bz2"
    tiles = tmp_path / "guixi.tiles"
    assert main(["network", str(source), "--save", str(tiles), "--tiles", "500"]) == 0
    parts = sorted(tiles.glob("edges/tile_x=*/tile_y=*/*.parquet"))
    assert len(parts) > 1
    parts[0].write_bytes(b"not parquet")  # a corner tile: only the units near it fail
    capsys.readouterr()
    code = main(
        [
            "check",
            "--config",
            str(GUIXI),
            "--network",
            str(tiles),
            "--out",
            str(tmp_path / "out"),
            "--workers",
            "2",
            "--no-isochrones",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "units failed (community " in err and "the other" in err
    assert "已完成（" in err  # the others' units are reported as they finish (zh)
    assert not (tmp_path / "out").exists()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_scheduler_address_through_the_cli(tmp_path):
    """`dask scheduler` + two `dask worker` on 127.0.0.1, `planner check --scheduler ...`."""
    from distributed import Client

    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    dask = [sys.executable, "-m", "dask"]
    quiet = {"env": env, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    scheduler = [*dask, "scheduler", "--host", "127.0.0.1", "--port", str(port)]
    procs = [subprocess.Popen([*scheduler, "--dashboard-address", ":0", "--no-show"], **quiet)]
    try:
        time.sleep(1.0)
        for _ in range(2):
            worker = [*dask, "worker", address, "--nthreads", "1", "--no-dashboard"]
            procs.append(subprocess.Popen([*worker, "--host", "127.0.0.1"], **quiet))
        with Client(address, timeout=30) as c:
            c.wait_for_workers(2, timeout=60)
        common = ["check", "--config", str(GUIXI), "--no-isochrones", "--quiet"]
        assert main([*common, "--out", str(tmp_path / "single")]) == 1
        assert main([*common, "--out", str(tmp_path / "split"), "--scheduler", address]) == 1
        _same_outputs(tmp_path / "single", tmp_path / "split")
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            p.wait(timeout=30)


def test_cluster_keys_in_the_review_file(tmp_path):
    config = tmp_path / "review.toml"
    text = GUIXI.read_text(encoding="utf-8").replace('"../', f'"{ROOT / "data"}/')
    text = text.replace('"facilities.gpkg"', f'"{ROOT / "data" / "guixi" / "facilities.gpkg"}"')
    text = text.replace('"residences.gpkg"', f'"{ROOT / "data" / "guixi" / "residences.gpkg"}"')
    text = text.replace('"communities.gpkg"', f'"{ROOT / "data" / "guixi" / "communities.gpkg"}"')
    text = text.replace("[columns]", 'scheduler = "localhost:1"\n\n[columns]')
    config.write_text(text, encoding="utf-8")
    code = main(["check", "--config", str(config), "--out", str(tmp_path / "out")])
    assert code == 2  # not an address: refused before any work
