"""The walking network in compact array form: `Network`, its `LoadReport`, and the CSR it keeps.

A `Network` comes from an OSM file (`planner.network.from_osm.load_network`), from street
centre lines (`planner.network.build.build_network`), from the Overpass API
(`planner.network.fetch.fetch_network`) or from a folder saved by `Network.save`
(`open_network`; the folder format is in `planner.network.store`). See docs/ARCHITECTURE.md.

Lengths are planar in the UTM zone: within 0.1 % of the true ellipsoidal length inside the zone
(about -0.04 % near its central meridian).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pyproj
import scipy.sparse as sp
import shapely

from planner.errors import InputError
from planner.network.store import read_network_folder, unreadable, write_network_folder

Progress = Callable[[str, int, int | None], None]
"""Progress callback: ``progress(stage, done, total_or_None)``; only the CLI draws it."""

_MIN_EDGE_M = 1e-6  # csgraph drops explicit zeros; coincident nodes keep a 1 µm edge


@dataclass(frozen=True)
class LoadReport:
    """What loading did: provenance and what the walk filter and component step dropped.

    Attributes
    ----------
    source
        The file read (for `fetch_network`, the cached download).
    sha256
        SHA-256 of that file (None for networks built from lines).
    osm_timestamp
        Date of the OSM data: the file header's replication timestamp, the Overpass
        ``osm_base``, else the newest edit of a walkable way; None when the file has none.
    crs
        The projected CRS, e.g. ``"EPSG:32650"``.
    walkable_ways
        Ways that passed the walk filter.
    ways_cut, missing_node_refs
        Ways with node refs missing from the file (clipped extracts), and how many refs.
    components_dropped, nodes_dropped, km_dropped
        Components other than the largest, their graph nodes and kilometres of street.
    nodes, edges, km
        What was kept.
    """

    source: str
    sha256: str | None
    osm_timestamp: str | None
    crs: str
    walkable_ways: int
    ways_cut: int
    missing_node_refs: int
    components_dropped: int
    nodes_dropped: int
    km_dropped: float
    nodes: int
    edges: int
    km: float

    def to_dict(self) -> dict[str, Any]:
        """The report as a JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True, eq=False)
class Network:
    """A projected, undirected walking network in compact array form.

    Edges keep their street geometry (``edge_geometry``, oriented from ``edge_u`` to ``edge_v``)
    and their length along it. Parallel edges are all kept for snapping; the CSR used for
    shortest paths keeps the shortest of them.

    Attributes
    ----------
    crs
        The projected metric CRS (a UTM zone) of every coordinate and geometry.
    node_x, node_y
        Node coordinates in ``crs``, metres.
    node_osmid
        OSM node id of each node.
    edge_u, edge_v
        Node indices of each edge's ends.
    edge_length_m
        Length along the edge's geometry, metres.
    edge_geometry
        Shapely LineStrings in ``crs``.
    edge_way_id
        OSM way id each edge comes from.
    edge_highway
        The way's ``highway`` value.
    report
        Provenance and what loading dropped.
    """

    crs: pyproj.CRS
    node_x: np.ndarray
    node_y: np.ndarray
    node_osmid: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_length_m: np.ndarray
    edge_geometry: np.ndarray
    edge_way_id: np.ndarray
    edge_highway: np.ndarray
    report: LoadReport
    csr: sp.csr_matrix = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "csr", _build_csr(self))
        for arr in (self.node_x, self.node_y, self.edge_u, self.edge_v, self.edge_length_m):
            arr.setflags(write=False)

    @cached_property
    def edge_tree(self) -> shapely.STRtree:
        """Spatial index of the edge geometries (built on first use)."""
        return shapely.STRtree(self.edge_geometry)

    @property
    def n_nodes(self) -> int:
        """Number of graph nodes."""
        return int(self.node_x.shape[0])

    @property
    def n_edges(self) -> int:
        """Number of edges (parallel edges counted)."""
        return int(self.edge_u.shape[0])

    def __repr__(self) -> str:
        return (
            f"<Network {self.n_nodes:,} nodes, {self.n_edges:,} edges, "
            f"{self.report.km:,.1f} km, {self.crs.name}, from {Path(self.report.source).name}>"
        )

    def edges_gdf(self) -> Any:
        """The edges as a GeoDataFrame in the network's CRS (u, v, length_m, way_id, highway)."""
        import geopandas as gpd

        return gpd.GeoDataFrame(
            {
                "u": self.edge_u,
                "v": self.edge_v,
                "length_m": self.edge_length_m,
                "way_id": self.edge_way_id,
                "highway": self.edge_highway,
            },
            geometry=self.edge_geometry,
            crs=self.crs,
        )

    def to_networkx(self) -> Any:
        """A networkx MultiGraph with ``x``, ``y`` on nodes and ``length``, ``geometry`` on edges.

        Node keys are OSM node ids, as in OSMnx. For users who want networkx; the planner's own
        computations never need it.
        """
        import networkx as nx

        graph = nx.MultiGraph(crs=self.crs)
        ids = self.node_osmid.tolist()
        graph.add_nodes_from(
            (osmid, {"x": x, "y": y})
            for osmid, x, y in zip(ids, self.node_x.tolist(), self.node_y.tolist(), strict=True)
        )
        graph.add_edges_from(
            (ids[u], ids[v], {"length": length, "geometry": geom, "osmid": way})
            for u, v, length, geom, way in zip(
                self.edge_u.tolist(),
                self.edge_v.tolist(),
                self.edge_length_m.tolist(),
                self.edge_geometry,
                self.edge_way_id.tolist(),
                strict=True,
            )
        )
        return graph

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Save the network as a folder, written atomically.

        The folder holds ``edges.parquet`` (GeoParquet: u, v, length_m, way_id, highway,
        geometry), ``nodes.parquet`` (osmid, x, y) and ``network.json`` (``format``:
        ``"planner-network"``, ``format_version``, CRS as WKT, the load report). Reopen it with
        `open_network`.

        Parameters
        ----------
        path
            The folder to write. An existing saved network there is replaced; any other
            existing file or folder is left alone and an error raised.

        Returns
        -------
        Path
            The folder written.

        Raises
        ------
        InputError
            ``path`` exists and is not a saved planner network.
        """
        import pandas as pd

        return write_network_folder(
            path,
            edges=self.edges_gdf,
            nodes=lambda: pd.DataFrame(
                {"osmid": self.node_osmid, "x": self.node_x, "y": self.node_y}
            ),
            meta={"crs": self.crs.to_wkt(), "report": self.report.to_dict()},
        )


def open_network(path: str | os.PathLike[str]) -> Network:
    """Open a network saved with `Network.save`.

    Parameters
    ----------
    path
        The folder written by `Network.save`.

    Returns
    -------
    Network

    Raises
    ------
    InputError
        The folder is missing, incomplete, damaged, or of an unknown format version.
    """
    folder = Path(path)
    meta, edges, nodes = read_network_folder(folder)
    try:
        network = Network(
            crs=pyproj.CRS.from_wkt(meta["crs"]),
            node_x=nodes["x"].to_numpy(dtype=np.float64, copy=True),
            node_y=nodes["y"].to_numpy(dtype=np.float64, copy=True),
            node_osmid=nodes["osmid"].to_numpy(dtype=np.int64, copy=True),
            edge_u=edges["u"].to_numpy(dtype=np.int64, copy=True),
            edge_v=edges["v"].to_numpy(dtype=np.int64, copy=True),
            edge_length_m=edges["length_m"].to_numpy(dtype=np.float64, copy=True),
            edge_geometry=shapely.from_wkb(edges["geometry"].to_numpy()),
            edge_way_id=edges["way_id"].to_numpy(dtype=np.int64, copy=True),
            edge_highway=edges["highway"].to_numpy(dtype=object, copy=True),
            report=LoadReport(**meta["report"]),
        )
    except (OSError, ValueError, KeyError, TypeError, pyproj.exceptions.CRSError) as exc:
        raise unreadable(folder, exc) from exc
    problem = _inconsistency(network)
    if problem:
        raise InputError(
            f"{folder}: damaged saved network ({problem}); re-save it.",
            zh=f"{folder}：已保存的网络已损坏（{problem}）；请重新保存。",
        )
    return network


def _inconsistency(network: Network) -> str | None:
    n, m = network.n_nodes, network.n_edges
    if network.node_y.shape[0] != n or network.node_osmid.shape[0] != n:
        return "node columns of different lengths"
    if m and (
        min(network.edge_u.min(), network.edge_v.min()) < 0
        or max(network.edge_u.max(), network.edge_v.max()) >= n
    ):
        return "edges refer to nodes that do not exist"
    if (shapely.get_type_id(network.edge_geometry) != 1).any():
        return "edge geometries that are not LineStrings"
    return None


def _build_csr(network: Network) -> sp.csr_matrix:
    """Symmetric CSR of edge lengths, the shortest of parallel edges, no self-loops."""
    return build_csr(network.n_nodes, network.edge_u, network.edge_v, network.edge_length_m)


def build_csr(n_nodes: int, u: np.ndarray, v: np.ndarray, length_m: np.ndarray) -> sp.csr_matrix:
    """Symmetric CSR adjacency from undirected edges: parallel edges reduced to the shortest.

    scipy's constructor would sum duplicates; here they are reduced to their minimum first, and
    self-loops (useless for shortest paths) are left out.
    """
    not_loop = u != v
    lo = np.minimum(u, v)[not_loop].astype(np.int64)
    hi = np.maximum(u, v)[not_loop].astype(np.int64)
    w = np.maximum(length_m[not_loop], _MIN_EDGE_M)
    pair = lo * n_nodes + hi
    # Sort by length, then (stably) by node pair: the first of each pair is the shortest.
    order = np.argsort(w, kind="stable")
    order = order[np.argsort(pair[order], kind="stable")]
    pair = pair[order]
    first = np.ones(pair.shape[0], dtype=bool)
    first[1:] = pair[1:] != pair[:-1]
    keep = order[first]
    rows = np.concatenate((lo[keep], hi[keep]))
    cols = np.concatenate((hi[keep], lo[keep]))
    return sp.csr_matrix((np.tile(w[keep], 2), (rows, cols)), shape=(n_nodes, n_nodes))


def layer_ids_of(layer: Any) -> np.ndarray:
    """A layer's ids: its ``id`` column when it has one, else its index."""
    if "id" in layer.columns:
        return np.asarray(layer["id"].to_numpy(copy=True))
    return np.asarray(layer.index.to_numpy(copy=True))
