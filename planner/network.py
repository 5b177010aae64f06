"""The walking network: OSM files straight into compact arrays, ready for the distance engine.

`load_network` streams an OSM file (``.osm``, ``.osm.bz2``, ``.osm.pbf``) with osmium, applies the
walk filter of DESIGN.md, keeps a graph node only where ways meet or end, keeps each edge's full
street geometry, projects to a local UTM zone and keeps the largest connected component. Nothing in
the hot path goes through networkx.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pyproj
import scipy.sparse as sp
import shapely
from scipy.sparse import csgraph

from planner.errors import InputError

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int | None], None]
"""Progress callback: ``progress(stage, done, total_or_None)``; only the CLI draws it."""

FORMAT_VERSION = 1
"""Version of the saved-network format written by `Network.save`."""

EXCLUDED_HIGHWAYS = frozenset(
    {
        "motorway",
        "motorway_link",
        "construction",
        "proposed",
        "abandoned",
        "planned",
        "platform",
        "raceway",
        "bus_guideway",
        "razed",
        "no",
    }
)
FOOT_ALLOWED = frozenset({"yes", "designated", "permissive"})
_UNDEFINED_COORD = 2147483647  # osmium's fixed-point marker for a node missing from the file
_COORD_SCALE = 1e-7  # osmium fixed-point units to degrees
_MIN_EDGE_M = 1e-6  # csgraph drops explicit zeros; coincident nodes keep a 1 µm edge


def is_walkable(tags: Mapping[str, str]) -> bool:
    """Whether an OSM way with these tags is part of the walking network (DESIGN.md).

    Parameters
    ----------
    tags
        The way's tags.

    Returns
    -------
    bool
        True for ways with a ``highway`` tag that pedestrians may use, in both directions.
    """
    highway = tags.get("highway")
    if highway is None or highway in EXCLUDED_HIGHWAYS:
        return False
    if tags.get("area") == "yes":
        return False
    foot = tags.get("foot")
    if foot == "no":
        return False
    foot_allowed = foot in FOOT_ALLOWED
    if tags.get("access") in ("private", "no") and not foot_allowed:
        return False
    if tags.get("service") == "private":
        return False
    if highway == "cycleway" and not foot_allowed:
        return False
    return True


@dataclass(frozen=True)
class LoadReport:
    """What loading did: provenance and what the walk filter and component step dropped."""

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
        """Save the network as a folder: ``edges.parquet`` (GeoParquet), ``nodes.parquet``,
        ``network.json`` (format version, CRS, load report). Written atomically.

        Returns
        -------
        Path
            The folder written.
        """
        import pandas as pd

        target = Path(path)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent or "."))
        try:
            self.edges_gdf().to_parquet(tmp / "edges.parquet", index=False)
            pd.DataFrame({"osmid": self.node_osmid, "x": self.node_x, "y": self.node_y}).to_parquet(
                tmp / "nodes.parquet", index=False
            )
            meta = {
                "format": "planner-network",
                "format_version": FORMAT_VERSION,
                "crs": self.crs.to_wkt(),
                "report": self.report.to_dict(),
            }
            (tmp / "network.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
            if target.exists():
                old = target.with_name(f".{target.name}.old")
                target.rename(old)
                tmp.rename(target)
                _remove_tree(old)
            else:
                tmp.rename(target)
        except BaseException:
            _remove_tree(tmp)
            raise
        return target


def _remove_tree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def open_network(path: str | os.PathLike[str]) -> Network:
    """Open a network saved with `Network.save`.

    Raises
    ------
    InputError
        The folder is missing, incomplete, or of an unknown format version.
    """
    import pandas as pd

    folder = Path(path)
    meta_path = folder / "network.json"
    if not meta_path.is_file():
        raise InputError(
            f"{folder}: not a saved planner network (no network.json). "
            "Save one with Network.save() or `planner network --save`."
        )
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    if meta.get("format") != "planner-network" or meta.get("format_version") != FORMAT_VERSION:
        raise InputError(
            f"{folder}: saved network format {meta.get('format_version')!r} is not supported "
            f"(this planner reads version {FORMAT_VERSION}); load the OSM file again and re-save."
        )
    try:
        edges = pd.read_parquet(folder / "edges.parquet")
        nodes = pd.read_parquet(folder / "nodes.parquet")
    except (OSError, ValueError) as exc:
        raise InputError(f"{folder}: cannot read the saved network ({exc}); re-save it.") from exc
    return Network(
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


def load_network(
    source: str | os.PathLike[str],
    *,
    largest_component: bool = True,
    progress: Progress | None = None,
) -> Network:
    """Load a walking network from an OSM file, or open a saved one.

    Parameters
    ----------
    source
        ``.osm``, ``.osm.bz2``, ``.osm.gz`` or ``.osm.pbf`` file, or a folder written by
        `Network.save`. For a place name or bounding box, see `planner.fetch_network`.
    largest_component
        Keep only the largest connected component (default); what is dropped is reported.
    progress
        Optional callback ``progress(stage, done, total)``.

    Returns
    -------
    Network

    Raises
    ------
    InputError
        The file is missing, not OSM, truncated, or holds no walkable way.
    """
    path = Path(source)
    if path.is_dir():
        return open_network(path)
    if not path.is_file():
        raise InputError(f"{path}: no such OSM file. Give an .osm, .osm.bz2 or .osm.pbf file.")
    sha = _sha256(path)
    ways = _read_walkable_ways(path, progress)
    return _network_from_ways(ways, source=str(path), sha256=sha, largest=largest_component)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class _Ways:
    """Flat arrays of every walkable way's node refs and fixed-point coordinates."""

    refs: np.ndarray
    x: np.ndarray
    y: np.ndarray
    way_start: np.ndarray  # index into refs where each way starts
    way_id: np.ndarray
    way_highway: np.ndarray
    timestamp: str | None


def _read_walkable_ways(path: Path, progress: Progress | None) -> _Ways:
    import osmium

    refs: list[int] = []
    xs: list[int] = []
    ys: list[int] = []
    starts: list[int] = []
    way_ids: list[int] = []
    highways: list[str] = []
    latest = None
    try:
        processor = (
            osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
            .with_locations()
            .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
            .with_filter(osmium.filter.KeyFilter("highway"))
        )
        header_time = processor.header.get("osmosis_replication_timestamp") or None
        for count, way in enumerate(processor):
            tags = dict(way.tags)
            if not is_walkable(tags):
                continue
            starts.append(len(refs))
            way_ids.append(way.id)
            highways.append(tags["highway"])
            for node in way.nodes:
                refs.append(node.ref)
                xs.append(node.x)
                ys.append(node.y)
            if header_time is None:
                stamp = way.timestamp
                if latest is None or stamp > latest:
                    latest = stamp
            if progress is not None and count % 50_000 == 0:
                progress("read ways", count, None)
    except RuntimeError as exc:
        raise InputError(
            f"{path}: cannot read it as OSM data ({exc}). Give an OSM XML (.osm, .osm.bz2) or "
            "PBF (.osm.pbf) file; re-download it if it is truncated."
        ) from exc
    if not starts:
        raise InputError(
            f"{path}: holds no walkable way (no way with a walkable highway tag). "
            "Is it an OSM extract of streets?"
        )
    if header_time is None and latest is not None and latest.year > 1970:
        header_time = latest.strftime("%Y-%m-%dT%H:%M:%SZ")
    return _Ways(
        refs=np.asarray(refs, dtype=np.int64),
        x=np.asarray(xs, dtype=np.int64),
        y=np.asarray(ys, dtype=np.int64),
        way_start=np.asarray(starts, dtype=np.int64),
        way_id=np.asarray(way_ids, dtype=np.int64),
        way_highway=np.asarray(highways, dtype=object),
        timestamp=header_time,
    )


def utm_crs(lon: float, lat: float) -> pyproj.CRS:
    """The WGS84 UTM zone CRS containing a point."""
    zone = int((lon + 180.0) // 6.0) % 60 + 1
    return pyproj.CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def _network_from_ways(ways: _Ways, *, source: str, sha256: str | None, largest: bool) -> Network:
    n_refs = ways.refs.shape[0]
    way_lengths = np.diff(ways.way_start, append=n_refs)
    way_of_ref = np.repeat(np.arange(ways.way_start.shape[0]), way_lengths)
    is_way_start = np.zeros(n_refs, dtype=bool)
    is_way_start[ways.way_start] = True

    # Missing nodes (clipped extracts) cut their way into segments.
    valid = ways.x != _UNDEFINED_COORD
    missing = int((~valid).sum())
    ways_cut = int(np.unique(way_of_ref[~valid]).shape[0]) if missing else 0
    prev_invalid = np.concatenate(([True], ~valid[:-1]))
    seg_start = (is_way_start | prev_invalid) & valid
    # Repeated consecutive refs (a node listed twice in a row) add nothing.
    same_as_prev = np.concatenate(([False], ways.refs[1:] == ways.refs[:-1])) & ~seg_start
    keep = valid & ~same_as_prev
    seg_id = np.cumsum(seg_start)[keep] - 1
    refs = ways.refs[keep]
    way_idx = way_of_ref[keep]
    seg_len = np.bincount(seg_id)
    long_enough = seg_len[seg_id] >= 2
    refs, way_idx, seg_id = refs[long_enough], way_idx[long_enough], seg_id[long_enough]
    lon = ways.x[keep][long_enough] * _COORD_SCALE
    lat = ways.y[keep][long_enough] * _COORD_SCALE
    if refs.shape[0] == 0:
        raise InputError(f"{source}: no walkable way has two nodes inside the file.")

    crs = utm_crs(float(np.median(lon)), float(np.median(lat)))
    to_utm = pyproj.Transformer.from_crs(4326, crs, always_xy=True)
    px, py = to_utm.transform(lon, lat)
    return _assemble(
        refs,
        np.asarray(px),
        np.asarray(py),
        seg_id,
        ways.way_id[way_idx],
        ways.way_highway[way_idx],
        crs=crs,
        largest=largest,
        source=source,
        sha256=sha256,
        timestamp=ways.timestamp,
        walkable_ways=int(ways.way_start.shape[0]),
        ways_cut=ways_cut,
        missing=missing,
    )


def _assemble(
    refs: np.ndarray,
    px: np.ndarray,
    py: np.ndarray,
    seg_id: np.ndarray,
    ref_way_id: np.ndarray,
    ref_highway: np.ndarray,
    *,
    crs: pyproj.CRS,
    largest: bool,
    source: str,
    sha256: str | None,
    timestamp: str | None,
    walkable_ways: int,
    ways_cut: int,
    missing: int,
) -> Network:
    """Graph from flat per-vertex arrays: a node where segments meet or end, an edge between."""
    first = np.concatenate(([True], seg_id[1:] != seg_id[:-1]))
    last = np.concatenate((seg_id[1:] != seg_id[:-1], [True]))
    _, ref_inverse, ref_counts = np.unique(refs, return_inverse=True, return_counts=True)
    is_node = first | last | (ref_counts[ref_inverse] >= 2)

    step = np.hypot(np.diff(px, prepend=px[0]), np.diff(py, prepend=py[0]))
    step[first] = 0.0
    along = np.cumsum(step)

    node_pos = np.flatnonzero(is_node)
    pair_ok = seg_id[node_pos[1:]] == seg_id[node_pos[:-1]]
    start_pos, end_pos = node_pos[:-1][pair_ok], node_pos[1:][pair_ok]
    length = along[end_pos] - along[start_pos]

    node_refs, node_index = np.unique(refs[node_pos], return_inverse=True)
    index_of_pos = np.full(refs.shape[0], -1, dtype=np.int64)
    index_of_pos[node_pos] = node_index
    node_x = np.empty(node_refs.shape[0])
    node_y = np.empty(node_refs.shape[0])
    node_x[node_index] = px[node_pos]
    node_y[node_index] = py[node_pos]
    edge_u, edge_v = index_of_pos[start_pos], index_of_pos[end_pos]

    n_coords = end_pos - start_pos + 1
    coord_edge = np.repeat(np.arange(start_pos.shape[0]), n_coords)
    coord_pos = np.repeat(start_pos - np.cumsum(n_coords) + n_coords, n_coords) + np.arange(
        coord_edge.shape[0]
    )
    geometry = shapely.linestrings(px[coord_pos], py[coord_pos], indices=coord_edge)

    edge_way = start_pos
    n_nodes_all = node_refs.shape[0]
    components_dropped = nodes_dropped = 0
    km_dropped = 0.0
    if largest:
        graph = sp.coo_matrix(
            (np.ones(edge_u.shape[0]), (edge_u, edge_v)), shape=(n_nodes_all, n_nodes_all)
        )
        n_comp, labels = csgraph.connected_components(graph, directed=False)
        if n_comp > 1:
            sizes = np.bincount(labels)
            keep_node = labels == int(np.argmax(sizes))
            keep_edge = keep_node[edge_u]
            components_dropped = n_comp - 1
            nodes_dropped = int((~keep_node).sum())
            km_dropped = float(length[~keep_edge].sum()) / 1000.0
            new_index = np.cumsum(keep_node) - 1
            node_refs, node_x, node_y = node_refs[keep_node], node_x[keep_node], node_y[keep_node]
            edge_u, edge_v = new_index[edge_u[keep_edge]], new_index[edge_v[keep_edge]]
            length, geometry, edge_way = length[keep_edge], geometry[keep_edge], edge_way[keep_edge]
            log.info(
                "Kept the largest component; dropped %d components, %d nodes, %.2f km",
                components_dropped,
                nodes_dropped,
                km_dropped,
            )
    if missing:
        log.info("%d ways cut at %d node refs missing from %s", ways_cut, missing, source)
    report = LoadReport(
        source=source,
        sha256=sha256,
        osm_timestamp=timestamp,
        crs=crs.to_string(),
        walkable_ways=walkable_ways,
        ways_cut=ways_cut,
        missing_node_refs=missing,
        components_dropped=components_dropped,
        nodes_dropped=nodes_dropped,
        km_dropped=round(km_dropped, 3),
        nodes=int(node_refs.shape[0]),
        edges=int(edge_u.shape[0]),
        km=round(float(length.sum()) / 1000.0, 3),
    )
    return Network(
        crs=crs,
        node_x=node_x,
        node_y=node_y,
        node_osmid=node_refs,
        edge_u=edge_u.astype(np.int64),
        edge_v=edge_v.astype(np.int64),
        edge_length_m=length,
        edge_geometry=geometry,
        edge_way_id=ref_way_id[edge_way],
        edge_highway=ref_highway[edge_way],
        report=report,
    )


def _build_csr(network: Network) -> sp.csr_matrix:
    """Symmetric CSR of edge lengths, the shortest of parallel edges, no self-loops."""
    return build_csr(network.n_nodes, network.edge_u, network.edge_v, network.edge_length_m)


def build_csr(n_nodes: int, u: np.ndarray, v: np.ndarray, length_m: np.ndarray) -> sp.csr_matrix:
    """Symmetric CSR adjacency from undirected edges: parallel edges reduced to the shortest.

    scipy's constructor would sum duplicates; here they are reduced to their minimum first, and
    self-loops (useless for shortest paths) are left out.
    """
    not_loop = u != v
    a = np.concatenate((u[not_loop], v[not_loop]))
    b = np.concatenate((v[not_loop], u[not_loop]))
    w = np.maximum(np.concatenate((length_m[not_loop], length_m[not_loop])), _MIN_EDGE_M)
    order = np.lexsort((w, b, a))
    a, b, w = a[order], b[order], w[order]
    first = np.concatenate(([True], (a[1:] != a[:-1]) | (b[1:] != b[:-1])))
    return sp.csr_matrix((w[first], (a[first], b[first])), shape=(n_nodes, n_nodes))


def build_network(
    lines: Any,
    *,
    node_tolerance_m: float = 0.01,
    largest_component: bool = True,
    source: str = "lines",
) -> Network:
    """Build a network from street centre lines (e.g. a planned street layout, or a test grid).

    Lines are joined where their end points coincide (within ``node_tolerance_m``); a line is not
    split where another crosses it without a shared vertex end, as in OSM.

    Parameters
    ----------
    lines
        GeoDataFrame of LineStrings in a projected metric CRS, or with a geographic CRS (then
        projected to the local UTM zone).
    node_tolerance_m
        End points closer than this become one node.
    largest_component
        Keep only the largest connected component.
    source
        A label for the load report.

    Raises
    ------
    InputError
        No CRS, no lines, or geometries that are not LineStrings.
    """
    if lines.crs is None:
        raise InputError(f"{source}: the lines have no CRS; set one (e.g. EPSG:4326).")
    geoms = lines.geometry.to_numpy()
    if len(geoms) == 0:
        raise InputError(f"{source}: no lines given.")
    kinds = shapely.get_type_id(geoms)
    if (kinds != 1).any():
        rows = np.flatnonzero(kinds != 1)[:10].tolist()
        raise InputError(f"{source}: rows {rows} are not LineStrings; explode or fix them.")
    crs = lines.crs
    if not crs.is_projected:
        centre = shapely.centroid(shapely.union_all(shapely.envelope(geoms)))
        crs = utm_crs(centre.x, centre.y)
        geoms = lines.geometry.to_crs(crs).to_numpy()
    coords, owner = shapely.get_coordinates(geoms, return_index=True)
    ends_first = np.concatenate(([0], np.flatnonzero(np.diff(owner)) + 1))
    ends_last = np.concatenate((ends_first[1:] - 1, [owner.shape[0] - 1]))
    end_xy = np.round(
        np.concatenate((coords[ends_first], coords[ends_last])) / node_tolerance_m
    ).astype(np.int64)
    _, key = np.unique(end_xy, axis=0, return_inverse=True)
    n_lines = ends_first.shape[0]
    refs = np.arange(coords.shape[0], dtype=np.int64) + int(key.max()) + 1
    refs[ends_first] = key[:n_lines]
    refs[ends_last] = key[n_lines:]
    line_id = layer_ids_of(lines)[owner]
    return _assemble(
        refs,
        coords[:, 0].copy(),
        coords[:, 1].copy(),
        owner,
        line_id if np.issubdtype(line_id.dtype, np.integer) else owner.astype(np.int64),
        np.full(owner.shape[0], "planned", dtype=object),
        crs=pyproj.CRS.from_user_input(crs),
        largest=largest_component,
        source=source,
        sha256=None,
        timestamp=None,
        walkable_ways=n_lines,
        ways_cut=0,
        missing=0,
    )


def layer_ids_of(layer: Any) -> np.ndarray:
    """A layer's ids: its ``id`` column when it has one, else its index."""
    if "id" in layer.columns:
        return np.asarray(layer["id"].to_numpy(copy=True))
    return np.asarray(layer.index.to_numpy(copy=True))
