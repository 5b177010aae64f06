"""Saving a network as a folder and opening it again; the load report round trip."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from planner.errors import InputError
from planner.network import LoadReport, Network, load_network, open_network


def test_save_open_round_trip(cau: Network, tmp_path: Path) -> None:
    folder = cau.save(tmp_path / "cau")
    assert sorted(p.name for p in folder.iterdir()) == [
        "edges.parquet",
        "network.json",
        "nodes.parquet",
    ]
    again = open_network(folder)
    for name in (
        "node_x",
        "node_y",
        "node_osmid",
        "edge_u",
        "edge_v",
        "edge_length_m",
        "edge_way_id",
    ):
        np.testing.assert_array_equal(getattr(again, name), getattr(cau, name), err_msg=name)
    assert list(again.edge_highway) == list(cau.edge_highway)
    assert shapely.equals_exact(again.edge_geometry, cau.edge_geometry, tolerance=0).all()
    assert again.crs == cau.crs
    assert again.report == cau.report
    assert (again.csr != cau.csr).nnz == 0
    assert load_network(folder).report == cau.report  # a saved folder loads too
    meta = json.loads((folder / "network.json").read_text(encoding="utf-8"))
    assert (meta["format"], meta["format_version"]) == ("planner-network", 1)
    edges = gpd.read_parquet(folder / "edges.parquet")  # GeoParquet any GIS can read
    assert edges.crs == cau.crs and len(edges) == cau.n_edges
    # Saving again replaces the saved network; nothing is left behind.
    cau.save(folder)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cau"]


def test_save_refuses_to_overwrite_other_things(cau: Network, tmp_path: Path) -> None:
    precious = tmp_path / "data"
    precious.mkdir()
    (precious / "keep.txt").write_text("mine")
    with pytest.raises(InputError, match="not a saved planner network"):
        cau.save(precious)
    assert (precious / "keep.txt").read_text() == "mine"
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    with pytest.raises(InputError, match="not a saved planner network"):
        cau.save(a_file)
    nested = cau.save(tmp_path / "new" / "deeper" / "net")
    assert open_network(nested).n_nodes == cau.n_nodes


def test_open_bad_saved_folders(cau: Network, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a saved planner network"):
        open_network(tmp_path / "nothing")
    good = cau.save(tmp_path / "good")

    def broken(name: str) -> Path:
        folder = tmp_path / name
        shutil.copytree(good, folder)
        return folder

    folder = broken("json")
    (folder / "network.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(InputError, match="damaged"):
        open_network(folder)
    folder = broken("version")
    meta = json.loads((folder / "network.json").read_text(encoding="utf-8"))
    meta["format_version"] = 99
    (folder / "network.json").write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(InputError, match="version 99 is not supported"):
        open_network(folder)
    folder = broken("no_edges")
    (folder / "edges.parquet").unlink()
    with pytest.raises(InputError, match="cannot read the saved network"):
        open_network(folder)
    folder = broken("bad_refs")
    edges = pd.read_parquet(folder / "edges.parquet")
    edges.loc[0, "v"] = cau.n_nodes + 5
    edges.to_parquet(folder / "edges.parquet")
    with pytest.raises(InputError, match=str(folder.name)):
        open_network(folder)
    folder = broken("report")
    meta = json.loads((folder / "network.json").read_text(encoding="utf-8"))
    del meta["report"]["km"]
    (folder / "network.json").write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(InputError, match="cannot read the saved network"):
        open_network(folder)


def test_load_report_is_json_ready(cau: Network) -> None:
    data = json.loads(json.dumps(cau.report.to_dict()))
    assert LoadReport(**data) == cau.report
