"""The functions the CLI calls: review files on a cluster, batches, tiled networks."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from split_helpers import ROOT, assert_same

import planner
from planner.distributed.runner import (
    load_review,
    run_batch,
    run_check_distributed,
    save_network_tiles,
)
from planner.distributed.tiles import TiledNetwork
from planner.errors import InputError


def test_run_check_in_process_writes_outputs(tmp_path):
    config = ROOT / "data" / "haidian" / "review.toml"
    result = run_check_distributed(config, out=tmp_path / "out", tile_m=400.0, map_html=False)
    review = load_review(config)
    single = planner.check(
        planner.load_network(review.network),
        review.facilities,
        review.residences,
        **review.options,
    )
    assert_same(single, result)
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert summary["passes"] is False and summary["coverage"] == single.summary["coverage"]
    table = pd.read_csv(tmp_path / "out" / "residences.csv")
    assert len(table) == len(single.residences)


def test_run_check_on_two_local_workers(synth, tmp_path):
    result = run_check_distributed(synth["config"], workers=2, tile_m=800.0)
    assert_same(
        planner.check(
            synth["network"],
            synth["facilities"],
            synth["residences"],
            inputs=result.summary["inputs"],
        ),
        result,
    )


def test_tiles_from_the_review_file(synth, tmp_path):
    tiles = save_network_tiles(synth["city"], tmp_path / "city.tiles", tile_m=1500)
    assert TiledNetwork(tiles).tiles > 1
    config = load_review(synth["config"]).config | {"network": str(tiles), "tile_m": 900.0}
    result = run_check_distributed(config)
    assert_same(
        planner.check(
            synth["network"],
            synth["facilities"],
            synth["residences"],
            inputs=result.summary["inputs"],
        ),
        result,
    )


def test_batch_rolls_up_areas(synth, tmp_path):
    areas = []
    for name in ("north", "south"):
        folder = tmp_path / name
        folder.mkdir()
        text = synth["config"].read_text(encoding="utf-8")
        base = synth["config"].parent
        lines = [
            f'network = "{synth["city"]}"',
            f'facilities = "{base / "facilities.gpkg"}"',
            f'residences = "{base / "residences.gpkg"}"',
            f'out = "{folder / "out"}"',
            "tile_m = 1000.0",
        ]
        assert "facilities" in text
        (folder / "review.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
        areas.append(folder / "review.toml")
    batch = run_batch(areas, out=tmp_path / "all", map_html=False)
    assert list(batch.results) == ["north", "south"]
    assert (tmp_path / "north" / "out" / "summary.json").is_file()
    rollup = pd.read_csv(tmp_path / "all" / "rollup.csv")
    assert rollup["level"].tolist() == ["area", "area"]
    assert rollup["households"].iloc[0] == synth["residences"]["households"].sum()
    assert json.loads((tmp_path / "all" / "rollup.json").read_text())["passes"] == batch.passes


def test_workers_and_scheduler_exclusive(synth):
    with pytest.raises(InputError, match="not both"):
        run_check_distributed(synth["config"], workers=2, scheduler="tcp://127.0.0.1:1")
    with pytest.raises(InputError, match="address"):
        run_check_distributed(synth["config"], scheduler="localhost")
