"""The prepared network as a partitioned GeoParquet dataset, read tile by tile.

`save_tiles` (or `TileWriter`, part by part, for a network no process holds whole) writes a
folder::

    tiles.json                          format, tile size, CRS, load report, sizes, tile range
    edges/tile_x=3/tile_y=-2/part-0-0.parquet   ...one Hive partition per tile

Each edge is stored once, in the tile of its bounding box's centre, with everything a task needs
to rebuild its part of the network without a second table: its index in the whole network, its
end nodes (index, OSM id, coordinates), length, way id, highway, bounding box and WKB geometry
(GeoParquet ``geo`` metadata, the network's CRS as PROJJSON). A file holds one tile's rows, in
row groups of up to 65,536 rows.

`TiledNetwork` reads, for a box, only the files of the tiles that can hold an edge meeting it
(listed tile by tile, then a pyarrow dataset filter on the bounding boxes), from a local folder
or an fsspec URL (``s3://``, ``gs://``, ``file://`` ...): a read costs what its tiles hold, never
a listing or metadata of the whole network. It gives the same sub-network as cutting the whole
network in memory (`InMemoryNetwork`), so a split review reads only its halos and no process
ever holds the whole network. Pickling a `TiledNetwork` sends only its URL.
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
import pyarrow.fs as pafs
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


def edge_table(columns: dict[str, Any], crs: pyproj.CRS) -> pa.Table:
    """The edges' table in `SCHEMA` (GeoParquet ``geo`` metadata with ``crs``) from one array
    per column; ``geometry`` as shapely LineStrings."""
    data = dict(columns)
    data["highway"] = pa.array(np.asarray(data["highway"]).astype(str).tolist(), pa.string())
    data["geometry"] = pa.array(shapely.to_wkb(data["geometry"]).tolist(), pa.binary())
    table = pa.Table.from_pydict({name: data[name] for name in SCHEMA.names}, schema=SCHEMA)
    geo = {
        "version": "1.0.0",
        "primary_column": "geometry",
        "columns": {
            "geometry": {
                "encoding": "WKB",
                "geometry_types": ["LineString"],
                "crs": json.loads(crs.to_json()),
            }
        },
    }
    return table.replace_schema_metadata({b"geo": json.dumps(geo).encode()})


def network_edges(network: Network, tile_m: float) -> pa.Table:
    """A whole network's edges as `edge_table`, each in the tile of its bounding box's centre."""
    bounds = shapely.bounds(network.edge_geometry)
    xmin, ymin, xmax, ymax = bounds.T
    u, v = network.edge_u, network.edge_v
    return edge_table(
        {
            "tile_x": np.floor((xmin + xmax) / 2.0 / tile_m).astype(np.int32),
            "tile_y": np.floor((ymin + ymax) / 2.0 / tile_m).astype(np.int32),
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
            "highway": network.edge_highway,
            "xmin": xmin,
            "ymin": ymin,
            "xmax": xmax,
            "ymax": ymax,
            "geometry": network.edge_geometry,
        },
        network.crs,
    )


class TileWriter:
    """Writes a tiled network part by part, so no process needs to hold the whole network.

    ``add`` takes edges (`edge_table`) of any tiles; ``close`` writes ``tiles.json`` and moves
    the folder into place (nothing is left behind when it is not called). Every file holds the
    rows of one tile, sorted by edge, in row groups of up to 65,536 rows: the row groups (and
    each file's metadata) do not grow with the whole network.
    """

    def __init__(self, folder: str | os.PathLike[str], *, tile_m: float = DEFAULT_TILE_M) -> None:
        if not (math.isfinite(tile_m) and tile_m > 0):
            raise InputError(f"tile_m must be a positive number of metres, not {tile_m!r}.")
        self.target = Path(folder)
        if self.target.exists() and not (self.target / "tiles.json").is_file():
            raise InputError(
                f"{self.target}: exists and is not a tiled planner network; choose a new name."
            )
        self.tile_m = float(tile_m)
        self.target.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = Path(tempfile.mkdtemp(prefix=f".{self.target.name}.", dir=self.target.parent))
        self._parts = 0
        self._edges = 0
        self._half_m = 0.0
        self._tiles: set[tuple[int, int]] = set()

    def add(self, table: pa.Table) -> None:
        """Write edges (a table in `SCHEMA`) into their tiles."""
        if table.num_rows == 0:
            return
        table = table.sort_by(
            [("tile_x", "ascending"), ("tile_y", "ascending"), ("edge", "ascending")]
        )
        ds.write_dataset(
            table,
            self._tmp / "edges",
            format="parquet",
            partitioning=ds.partitioning(pa.schema(_COLUMNS[:2]), flavor="hive"),
            basename_template=f"part-{self._parts}-{{i}}.parquet",
            existing_data_behavior="overwrite_or_ignore",
            max_rows_per_group=1 << 16,
        )
        self._parts += 1
        self._edges += table.num_rows
        width = np.subtract(table["xmax"].to_numpy(), table["xmin"].to_numpy())
        height = np.subtract(table["ymax"].to_numpy(), table["ymin"].to_numpy())
        self._half_m = max(self._half_m, float(max(width.max(), height.max())) / 2.0)
        keys = zip(table["tile_x"].to_pylist(), table["tile_y"].to_pylist(), strict=True)
        self._tiles.update(keys)

    def close(self, crs: pyproj.CRS, report: LoadReport, nodes: int) -> Path:
        """Write ``tiles.json`` (the whole network's CRS, load report and node count) and move
        the folder into place (replacing a tiled network there)."""
        meta = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "tile_m": self.tile_m,
            "max_half_extent_m": self._half_m,
            "crs": crs.to_wkt(),
            "report": report.to_dict(),
            "nodes": int(nodes),
            "edges": self._edges,
            "tiles": len(self._tiles),
            "tile_range": [
                min(x for x, _ in self._tiles),
                min(y for _, y in self._tiles),
                max(x for x, _ in self._tiles),
                max(y for _, y in self._tiles),
            ],
        }
        (self._tmp / "tiles.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
        if self.target.exists():
            shutil.rmtree(self.target)
        self._tmp.rename(self.target)
        return self.target

    def discard(self) -> None:
        """Remove what was written (the target is left as it was)."""
        shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self) -> TileWriter:
        return self

    def __exit__(self, *_: Any) -> None:
        self.discard()  # after `close` there is nothing left to remove


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
    with TileWriter(folder, tile_m=tile_m) as writer:
        writer.add(network_edges(network, writer.tile_m))
        return writer.close(network.crs, network.report, network.n_nodes)


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
        self._fs: tuple[Any, str] | None = None
        self.reads = 0
        meta = self._meta()
        self.crs = pyproj.CRS.from_wkt(meta["crs"])
        self.report = LoadReport(**meta["report"])
        self.tile_m = float(meta["tile_m"])
        self.half_m = float(meta["max_half_extent_m"])
        self.nodes = int(meta["nodes"])
        self.edges = int(meta["edges"])
        self.tiles = int(meta["tiles"])
        self.tile_range: tuple[int, ...] | None = (
            tuple(meta["tile_range"]) if "tile_range" in meta else None  # older folders: none
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (TiledNetwork, (self.url,))

    def __repr__(self) -> str:
        return f"<TiledNetwork {self.url}: {self.tiles} tiles of {self.tile_m:.0f} m>"

    def _filesystem(self) -> tuple[Any, str]:
        if self._fs is None:
            if "://" not in self.url:
                self._fs = (pafs.LocalFileSystem(), self.url)
            else:
                import fsspec

                fs, path = fsspec.core.url_to_fs(self.url)
                self._fs = (pafs.PyFileSystem(pafs.FSSpecHandler(fs)), path)
        return self._fs

    def _meta(self) -> dict[str, Any]:
        fs, root = self._filesystem()
        try:
            with fs.open_input_stream(f"{root}/tiles.json") as f:
                meta = json.loads(f.read().decode("utf-8"))
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

    def tiles_for(self, box: Box) -> list[tuple[int, int]]:
        """The tiles that can hold an edge meeting ``box``."""
        b = grow(box, self.half_m)
        x0, x1 = math.floor(b[0] / self.tile_m), math.floor(b[2] / self.tile_m)
        y0, y1 = math.floor(b[1] / self.tile_m), math.floor(b[3] / self.tile_m)
        if self.tile_range is not None:  # only tiles that exist: a box is never listed wider
            x0, y0 = max(x0, self.tile_range[0]), max(y0, self.tile_range[1])
            x1, y1 = min(x1, self.tile_range[2]), min(y1, self.tile_range[3])
        return [(x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]

    def _edges(self, box: Box) -> ds.Dataset:
        """The files of the tiles ``box`` needs, as a dataset: listed tile by tile, so a read
        costs (in time and memory) what its tiles hold, however large the whole network."""
        fs, root = self._filesystem()
        base = f"{root}/edges"
        files = []
        for x, y in self.tiles_for(box):
            found = fs.get_file_info(
                pafs.FileSelector(f"{base}/tile_x={x}/tile_y={y}", allow_not_found=True)
            )
            files += sorted(i.path for i in found if i.type == pafs.FileType.File)
        return ds.dataset(
            files,
            schema=SCHEMA,
            format="parquet",
            partitioning=ds.partitioning(pa.schema(_COLUMNS[:2]), flavor="hive"),
            partition_base_dir=base,
            filesystem=fs,
        )

    def read(self, box: Box) -> Network:
        """The edges meeting ``box`` (bounding boxes) and their end nodes, as a `Network`."""
        f = ds.field
        where = (
            (f("xmax") >= box[0])
            & (f("xmin") <= box[2])
            & (f("ymax") >= box[1])
            & (f("ymin") <= box[3])
        )
        table = self._edges(box).to_table(filter=where)
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


__all__ = [
    "SCHEMA",
    "TileWriter",
    "TiledNetwork",
    "edge_table",
    "is_tiled_network",
    "network_edges",
    "save_tiles",
]
