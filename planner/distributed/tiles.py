"""The prepared network as a partitioned GeoParquet dataset, read tile by tile.

`save_tiles` writes a folder::

    tiles.json                          format, tile size, CRS, load report, sizes
    edges/tile_x=3/tile_y=-2/part-0.parquet   ...one Hive partition per tile

Each edge is stored once, in the tile of its bounding box's centre, with everything a task needs
to rebuild its part of the network without a second table: its index in the whole network, its
end nodes (index, OSM id, coordinates), length, way id, highway, bounding box and WKB geometry
(GeoParquet ``geo`` metadata, the network's CRS as PROJJSON).

`TiledNetwork` reads, for a box, only the partitions whose tiles can hold an edge meeting it
(pyarrow dataset filters on the partition keys, then on the bounding boxes), from a local folder
or an fsspec URL (``s3://``, ``gs://``, ``file://`` ...). It gives the same sub-network as
cutting the whole network in memory (`InMemoryNetwork`), so a split review reads only its halos
and no process ever holds the whole network. Pickling a `TiledNetwork` sends only its URL.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.dataset as ds
import pyproj
import shapely

from planner.errors import InputError
from planner.network import LoadReport, Network

from .units import DEFAULT_TILE_M, Box, grow

_COLUMNS = [
    ("tile_x", pa.int32()),
    ("tile_y", pa.int32()),
    ("edge", pa.int64()),
    ("u", pa.int64()),
    ("v", pa.int64()),
    ("u_osmid", pa.int64()),
    ("v_osmid", pa.int64()),
    ("u_x", pa.float64()),
    ("u_y", pa.float64()),
    ("v_x", pa.float64()),
    ("v_y", pa.float64()),
    ("length_m", pa.float64()),
    ("way_id", pa.int64()),
    ("highway", pa.string()),
    ("xmin", pa.float64()),
    ("ymin", pa.float64()),
    ("xmax", pa.float64()),
    ("ymax", pa.float64()),
    ("geometry", pa.binary()),
]
SCHEMA = pa.schema(_COLUMNS)
"""The edges' columns; given to the reader, so it opens no file its filter does not need."""

FORMAT = "planner-network-tiles"
FORMAT_VERSION = 1


def save_tiles(
    network: Network, folder: str | os.PathLike[str], *, tile_m: float = DEFAULT_TILE_M
) -> Path:
    """Write ``network`` as a tiled GeoParquet dataset into ``folder`` (atomically).

    Parameters
    ----------
    network
        The prepared network.
    folder
        A new folder, or one holding a tiled network (replaced).
    tile_m
        Side of the square tiles, metres of the network's CRS.

    Returns
    -------
    Path
        The folder written.
    """
    if not (math.isfinite(tile_m) and tile_m > 0):
        raise InputError(f"tile_m must be a positive number of metres, not {tile_m!r}.")
    target = Path(folder)
    if target.exists() and not (target / "tiles.json").is_file():
        raise InputError(f"{target}: exists and is not a tiled planner network; choose a new name.")
    bounds = shapely.bounds(network.edge_geometry)
    xmin, ymin, xmax, ymax = bounds.T
    cx, cy = (xmin + xmax) / 2.0, (ymin + ymax) / 2.0
    u, v = network.edge_u, network.edge_v
    table = pa.Table.from_pydict(
        {
            "tile_x": np.floor(cx / tile_m).astype(np.int32),
            "tile_y": np.floor(cy / tile_m).astype(np.int32),
            "edge": np.arange(network.n_edges, dtype=np.int64),
            "u": u.astype(np.int64),
            "v": v.astype(np.int64),
            "u_osmid": network.node_osmid[u],
            "v_osmid": network.node_osmid[v],
            "u_x": network.node_x[u],
            "u_y": network.node_y[u],
            "v_x": network.node_x[v],
            "v_y": network.node_y[v],
            "length_m": network.edge_length_m,
            "way_id": network.edge_way_id.astype(np.int64),
            "highway": pa.array(network.edge_highway.astype(str).tolist(), pa.string()),
            "xmin": xmin,
            "ymin": ymin,
            "xmax": xmax,
            "ymax": ymax,
            "geometry": pa.array(shapely.to_wkb(network.edge_geometry).tolist(), pa.binary()),
        },
        schema=SCHEMA,
    )
    geo = {
        "version": "1.0.0",
        "primary_column": "geometry",
        "columns": {
            "geometry": {
                "encoding": "WKB",
                "geometry_types": ["LineString"],
                "crs": json.loads(network.crs.to_json()),
            }
        },
    }
    table = table.replace_schema_metadata({b"geo": json.dumps(geo).encode()})
    half = max(float(np.max(xmax - xmin, initial=0.0)), float(np.max(ymax - ymin, initial=0.0)))
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "tile_m": float(tile_m),
        "max_half_extent_m": half / 2.0,
        "crs": network.crs.to_wkt(),
        "report": network.report.to_dict(),
        "nodes": network.n_nodes,
        "edges": network.n_edges,
        "tiles": int(
            len(
                {
                    (a, b)
                    for a, b in zip(
                        table["tile_x"].to_pylist(), table["tile_y"].to_pylist(), strict=True
                    )
                }
            )
        ),
    }
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        ds.write_dataset(
            table,
            tmp / "edges",
            format="parquet",
            partitioning=ds.partitioning(
                pa.schema([("tile_x", pa.int32()), ("tile_y", pa.int32())]), flavor="hive"
            ),
            existing_data_behavior="error",
            max_rows_per_group=1 << 16,
        )
        (tmp / "tiles.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
        if target.exists():
            shutil.rmtree(target)
        tmp.rename(target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def is_tiled_network(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a local folder written by `save_tiles` (or an URL ending in one)."""
    text = str(path)
    if "://" in text and not text.startswith("file://"):
        return True
    return (Path(text.removeprefix("file://")) / "tiles.json").is_file()


class TiledNetwork:
    """A tiled network (`save_tiles`) from a local folder or an fsspec URL.

    Attributes
    ----------
    url
        Where it is.
    crs, report
        The whole network's CRS and load report (from ``tiles.json``).
    tile_m, nodes, edges, tiles
        Tile size and the whole network's sizes.
    """

    def __init__(self, url: str | os.PathLike[str]) -> None:
        self.url = str(url)
        self._dataset: ds.Dataset | None = None
        self.reads = 0
        meta = self._meta()
        self.crs = pyproj.CRS.from_wkt(meta["crs"])
        self.report = LoadReport(**meta["report"])
        self.tile_m = float(meta["tile_m"])
        self.half_m = float(meta["max_half_extent_m"])
        self.nodes = int(meta["nodes"])
        self.edges = int(meta["edges"])
        self.tiles = int(meta["tiles"])

    def __reduce__(self) -> tuple[Any, ...]:
        return (TiledNetwork, (self.url,))

    def __repr__(self) -> str:
        return f"<TiledNetwork {self.url}: {self.tiles} tiles of {self.tile_m:.0f} m>"

    def _filesystem(self) -> tuple[Any, str]:
        if "://" not in self.url:
            return None, self.url
        import fsspec
        from pyarrow.fs import FSSpecHandler, PyFileSystem

        fs, path = fsspec.core.url_to_fs(self.url)
        return PyFileSystem(FSSpecHandler(fs)), path

    def _meta(self) -> dict[str, Any]:
        fs, root = self._filesystem()
        try:
            if fs is None:
                text = (Path(root) / "tiles.json").read_text(encoding="utf-8")
            else:
                with fs.open_input_stream(f"{root}/tiles.json") as f:
                    text = f.read().decode("utf-8")
            meta = json.loads(text)
        except (OSError, ValueError) as exc:
            raise InputError(
                f"{self.url}: not a tiled planner network ({exc}); write one with save_tiles "
                "(`planner network ... --tiles 5000`)."
            ) from exc
        if meta.get("format") != FORMAT or meta.get("format_version") != FORMAT_VERSION:
            raise InputError(
                f"{self.url}: unsupported tiled network format {meta.get('format')!r}."
            )
        return dict(meta)

    def _edges(self) -> ds.Dataset:
        if self._dataset is None:
            fs, root = self._filesystem()
            self._dataset = ds.dataset(
                f"{root}/edges",
                schema=SCHEMA,
                format="parquet",
                partitioning=ds.partitioning(pa.schema(_COLUMNS[:2]), flavor="hive"),
                filesystem=fs,
            )
        return self._dataset

    def tiles_for(self, box: Box) -> list[tuple[int, int]]:
        """The tiles that can hold an edge meeting ``box``."""
        b = grow(box, self.half_m)
        xs = range(math.floor(b[0] / self.tile_m), math.floor(b[2] / self.tile_m) + 1)
        ys = range(math.floor(b[1] / self.tile_m), math.floor(b[3] / self.tile_m) + 1)
        return [(x, y) for x in xs for y in ys]

    def read(self, box: Box) -> Network:
        """The edges meeting ``box`` (bounding boxes) and their end nodes, as a `Network`."""
        b = grow(box, self.half_m)
        tx0, tx1 = math.floor(b[0] / self.tile_m), math.floor(b[2] / self.tile_m)
        ty0, ty1 = math.floor(b[1] / self.tile_m), math.floor(b[3] / self.tile_m)
        f = ds.field
        where = (
            (f("tile_x") >= tx0)
            & (f("tile_x") <= tx1)
            & (f("tile_y") >= ty0)
            & (f("tile_y") <= ty1)
            & (f("xmax") >= box[0])
            & (f("xmin") <= box[2])
            & (f("ymax") >= box[1])
            & (f("ymin") <= box[3])
        )
        table = self._edges().to_table(filter=where)
        self.reads += 1
        if table.num_rows == 0:
            raise InputError(f"{self.url}: no street meets the box {box}.")
        table = table.sort_by("edge")
        col = {
            name: table[name].to_numpy()
            for name in (
                "u",
                "v",
                "u_osmid",
                "v_osmid",
                "u_x",
                "u_y",
                "v_x",
                "v_y",
                "length_m",
                "way_id",
            )
        }
        ends = np.concatenate((col["u"], col["v"]))
        nodes, first = np.unique(ends, return_index=True)
        xs = np.concatenate((col["u_x"], col["v_x"]))[first]
        ys = np.concatenate((col["u_y"], col["v_y"]))[first]
        osmid = np.concatenate((col["u_osmid"], col["v_osmid"]))[first]
        return Network(
            crs=self.crs,
            node_x=xs,
            node_y=ys,
            node_osmid=osmid,
            edge_u=np.searchsorted(nodes, col["u"]),
            edge_v=np.searchsorted(nodes, col["v"]),
            edge_length_m=col["length_m"].copy(),
            edge_geometry=shapely.from_wkb(table["geometry"].to_numpy(zero_copy_only=False)),
            edge_way_id=col["way_id"].copy(),
            edge_highway=np.asarray(table["highway"].to_pylist(), dtype=object),
            report=self.report,
        )


__all__ = ["TiledNetwork", "is_tiled_network", "save_tiles"]
