"""The tiled network dataset: a halo reads only its tiles, and gives the in-memory sub-network."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from split_helpers import assert_same

import planner
from planner import distributed
from planner.distributed import InMemoryNetwork, UnitFailure
from planner.distributed.tiles import TiledNetwork, TileWriter, network_edges, save_tiles
from planner.errors import InputError


@pytest.fixture(scope="module")
def tiles(synth, tmp_path_factory):
    return save_tiles(synth["network"], tmp_path_factory.mktemp("t") / "city.tiles", tile_m=1000)


def test_layout_and_metadata(synth, tiles):
    import pyarrow.parquet as pq

    parts = sorted(tiles.glob("edges/tile_x=*/tile_y=*/*.parquet"))
    source = TiledNetwork(tiles)
    assert len(parts) == source.tiles > 4
    assert source.edges == synth["network"].n_edges and source.crs == synth["network"].crs
    geo = pq.read_schema(parts[0]).metadata[b"geo"]
    assert b'"primary_column": "geometry"' in geo


def _written_in_parts(network, folder):
    """The network written by `TileWriter` in three interleaved parts (each across every
    tile), the way a generator or a loader streaming the network would write it."""
    edges = pa.concat_tables(
        [network_edges(network, 1000).take(list(range(k, network.n_edges, 3))) for k in range(3)]
    )
    with TileWriter(folder, tile_m=1000) as writer:
        writer.add(edges.slice(0, 7))  # a part of a few edges, then one of several chunks
        writer.add(edges.slice(7))
        return writer.close(network.crs, network.report, network.n_nodes)


def test_files_hold_one_tile_in_one_row_group(synth, tmp_path):
    """A tile's file and its metadata stay the size of the tile however the network came in."""
    import pyarrow.parquet as pq

    folder = _written_in_parts(synth["network"], tmp_path / "parts.tiles")
    for part in folder.glob("edges/tile_x=*/tile_y=*/*.parquet"):
        table = pq.read_table(part)
        assert pq.ParquetFile(part).metadata.num_row_groups == 1
        edges = table["edge"].to_numpy()
        assert (np.diff(edges) > 0).all()
    source = TiledNetwork(folder)
    assert (source.edges, source.nodes) == (synth["network"].n_edges, synth["network"].n_nodes)
    assert (
        source.tiles
        == TiledNetwork(save_tiles(synth["network"], tmp_path / "one", tile_m=1000)).tiles
    )


@pytest.mark.parametrize("parts", [False, True])
def test_halo_reads_the_same_sub_network(synth, tiles, tmp_path, parts):
    network = synth["network"]
    whole = InMemoryNetwork(network)
    x0, y0 = network.node_x.min(), network.node_y.min()
    box = (x0 + 200, y0 + 300, x0 + 1400, y0 + 1100)
    folder = _written_in_parts(network, tmp_path / "parts.tiles") if parts else tiles
    a, b = whole.read(box), TiledNetwork(folder).read(box)
    assert a.n_edges == b.n_edges < network.n_edges / 2
    for name in (
        "node_x",
        "node_y",
        "node_osmid",
        "edge_u",
        "edge_v",
        "edge_length_m",
        "edge_way_id",
    ):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert all(
        g1.equals_exact(g2, 0) for g1, g2 in zip(a.edge_geometry, b.edge_geometry, strict=True)
    )


def test_a_box_wider_than_the_network_reads_it_whole(synth, tiles):
    """A unit's box past the network's tiles lists only the tiles that exist."""
    whole = TiledNetwork(tiles).read((-1e9, -1e9, 1e9, 1e9))
    assert (whole.n_edges, whole.n_nodes) == (synth["network"].n_edges, synth["network"].n_nodes)


@pytest.mark.parametrize("url", [False, True])
def test_split_review_on_tiles_equals_single(synth, tiles, url):
    source = TiledNetwork(f"file://{tiles}" if url else tiles)
    args = (synth["facilities"], synth["residences"])
    stats = distributed.cluster.RunStats()
    split = distributed.check(source, *args, tile_m=800.0, stats=stats)
    assert_same(planner.check(synth["network"], *args), split)
    assert max(stats.halo_nodes.values()) < source.nodes  # no task read the whole network


def test_damaged_tile_fails_its_units_by_name(synth, tiles, tmp_path):
    import shutil

    broken = tmp_path / "broken.tiles"
    shutil.copytree(tiles, broken)
    part = sorted(broken.glob("edges/tile_x=*/tile_y=*/*.parquet"))[0]
    part.write_bytes(b"not parquet")
    with pytest.raises(UnitFailure) as caught:
        distributed.check(
            TiledNetwork(broken), synth["facilities"], synth["residences"], tile_m=800.0
        )
    failure = caught.value
    assert failure.failed and failure.results  # some units failed, the others were reviewed
    assert all(name in msg for name, msg in failure.failed.items())


def test_not_a_tiled_network(tmp_path):
    with pytest.raises(InputError, match="not a tiled planner network"):
        TiledNetwork(tmp_path)
