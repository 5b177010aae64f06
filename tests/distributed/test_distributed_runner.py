"""The CLI's runners on a cluster: review files read by the CLI's one reader, batches, tiles."""

from __future__ import annotations

import gc
import json
import weakref

import pandas as pd
import pytest
from split_helpers import ROOT, assert_same, cli_settings

import planner
from planner.cli import main
from planner.cli._check import review_and_write
from planner.cli._cluster import cluster_for
from planner.distributed.runner import Rollup, area_rows, save_network_tiles
from planner.distributed.tiles import TiledNetwork
from planner.errors import InputError


def test_check_on_two_local_workers_equals_single_process(tmp_path):
    """The demo's review file through ``planner check``: single process, then on 2 workers."""
    config = ROOT / "data" / "haidian" / "review.toml"
    single = review_and_write(
        cli_settings(config=config, out=tmp_path / "single", isochrones=False)
    )
    split_settings = cli_settings(config=config, out=tmp_path / "split", workers=2, tile_m=400)
    with cluster_for(split_settings) as client:
        split = review_and_write(split_settings, client=client)
    assert_same(single, split)
    summary = json.loads((tmp_path / "split" / "summary.json").read_text(encoding="utf-8"))
    assert summary["passes"] is False and summary["coverage"] == single.summary["coverage"]
    table = pd.read_csv(tmp_path / "split" / "residences.csv")
    assert len(table) == len(single.residences)


def test_check_on_two_local_workers_exit_code(synth, tmp_path):
    args = ["check", "--config", str(synth["config"]), "--out", str(tmp_path / "out")]
    code = main([*args, "--workers", "2", "--tile-m", "800", "--quiet"])
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert code == (0 if summary["passes"] else 1)
    single = planner.check(
        synth["network"], synth["facilities"], synth["residences"], inputs=summary["inputs"]
    )
    assert summary["coverage"] == single.summary["coverage"]


def test_tiles_from_the_review_file(synth, tmp_path):
    tiles = save_network_tiles(synth["city"], tmp_path / "city.tiles", tile_m=1500)
    assert TiledNetwork(tiles).tiles > 1
    config = cli_settings(
        config=synth["config"], network=tiles, tile_m=900, workers=1, out=tmp_path / "out"
    )
    with cluster_for(config) as client:
        result = review_and_write(config, client=client)
    single = planner.check(
        synth["network"], synth["facilities"], synth["residences"], inputs=result.summary["inputs"]
    )
    # the CLI's own addition to the summary
    single.summary["category_labels_unmapped"] = result.summary["category_labels_unmapped"]
    assert_same(single, result)


def test_batch_rolls_up_areas(synth, tmp_path):
    areas = []
    base = synth["config"].parent
    for name in ("north", "south"):
        folder = tmp_path / name
        folder.mkdir()
        lines = [
            f'network = "{synth["city"]}"',
            f'facilities = "{base / "facilities.gpkg"}"',
            f'residences = "{base / "residences.gpkg"}"',
            f'out = "{folder / "out"}"',
            "isochrones = false",
            "tile_m = 1000.0",
        ]
        (folder / "review.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
        areas.append(str(folder / "review.toml"))
    code = main(["batch", *areas, "--out", str(tmp_path / "all"), "--workers", "2", "--quiet"])
    assert (tmp_path / "north" / "out" / "summary.json").is_file()
    rollup = pd.read_csv(tmp_path / "all" / "rollup.csv")
    assert rollup["level"].tolist() == ["area", "area"]
    assert rollup["name"].tolist() == ["north", "south"]
    assert rollup["households"].iloc[0] == synth["residences"]["households"].sum()
    passes = json.loads((tmp_path / "all" / "rollup.json").read_text())["passes"]
    assert code == (0 if passes else 1)


def test_rollup_keeps_no_area_result(synth):
    """A batch's client memory does not grow with its areas: the roll-up keeps each area's
    rows and summary, not its result."""
    rollup = Rollup()
    result = planner.check(synth["network"], synth["facilities"], synth["residences"])
    expected = area_rows("north", result)
    summary = result.summary
    kept = weakref.ref(result)
    rollup.add("north", result)
    del result
    gc.collect()
    assert kept() is None
    assert rollup.rows == expected
    assert rollup.summaries == {"north": summary}
    assert rollup.table()["households"].iloc[0] == synth["residences"]["households"].sum()


def test_workers_and_scheduler_exclusive(synth):
    both = cli_settings(config=synth["config"], workers=2, scheduler="tcp://127.0.0.1:1")
    with pytest.raises(InputError, match="not both"), cluster_for(both):
        pass
    with (
        pytest.raises(InputError, match="address"),
        cluster_for(cli_settings(config=synth["config"], scheduler="localhost")),
    ):
        pass
