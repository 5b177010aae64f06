"""The walking network: OSM files straight into compact arrays, ready for the distance engine.

`load_network` streams an OSM file (``.osm``, ``.osm.bz2``, ``.osm.pbf``) with osmium, applies the
walk filter of DESIGN.md (`is_walkable`), keeps a graph node only where ways meet, end or turn back
on themselves, keeps each edge's full street geometry, projects to the local UTM zone and keeps
the largest connected component (counted in OSM nodes, shape points included, as OSMnx does).
Nodes missing from a clipped extract cut their ways. Nothing in the hot path goes through
networkx. On the bundled extracts the result has the same intersections and dead ends as
OSMnx's ``graph_from_xml`` with simplification, and the same streets (tests/test_network.py).

`fetch_network` downloads the streets of a place or bounding box (Nominatim through OSMnx, then
the Overpass API) into a cache and loads them the same way. `build_network` makes a network from
street centre lines. `Network.save` / `open_network` keep a prepared network on disk.

Lengths are planar in the UTM zone: within 0.1 % of the true ellipsoidal length inside the zone
(about -0.04 % near its central meridian).
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import json
import logging
import os
import re
import sys
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pyproj
import scipy.sparse as sp
import shapely
from scipy.sparse import csgraph

from planner._files import file_sha256
from planner._geo import utm_crs
from planner.errors import InputError, OfflineError

log = logging.getLogger(__name__)


class TagLookup(Protocol):
    """Tags that answer ``get``: a dict, or osmium's TagList (read without copying)."""

    def get(self, key: str, default: None = None, /) -> str | None: ...


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


def is_walkable(tags: TagLookup) -> bool:
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
    def snap_index(self) -> Any:
        """Index for snapping points onto edges (`planner.snapping.SegmentIndex`), built once."""
        from planner.snapping import SegmentIndex

        return SegmentIndex(self)

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

        target = Path(path)
        if target.exists() and not _is_saved_network(target):
            raise InputError(
                f"{target}: exists and is not a saved planner network; "
                "choose a new folder name (it is never overwritten)."
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
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
                old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=target.parent))
                old.rmdir()
                target.rename(old)
                tmp.rename(target)
                _remove_tree(old)
            else:
                tmp.rename(target)
        except BaseException:
            _remove_tree(tmp)
            raise
        return target


def _is_saved_network(folder: Path) -> bool:
    meta = folder / "network.json"
    if not folder.is_dir() or not meta.is_file():
        return False
    try:
        return json.loads(meta.read_text(encoding="utf-8")).get("format") == "planner-network"
    except (OSError, ValueError, AttributeError):
        return False


def _remove_tree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


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
    import pandas as pd

    folder = Path(path)
    meta_path = folder / "network.json"
    if not meta_path.is_file():
        raise InputError(
            f"{folder}: not a saved planner network (no network.json). "
            "Save one with Network.save() or `planner network --save`."
        )
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if not isinstance(meta, dict):
            raise ValueError("network.json does not hold an object")
    except (OSError, ValueError) as exc:
        raise InputError(
            f"{meta_path}: damaged ({exc}); load the OSM file again and re-save."
        ) from exc
    if meta.get("format") != "planner-network" or meta.get("format_version") != FORMAT_VERSION:
        raise InputError(
            f"{folder}: saved network format {meta.get('format')!r} version "
            f"{meta.get('format_version')!r} is not supported (this planner reads "
            f"planner-network version {FORMAT_VERSION}); load the OSM file again and re-save."
        )
    try:
        edges = pd.read_parquet(folder / "edges.parquet")
        nodes = pd.read_parquet(folder / "nodes.parquet")
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
        raise InputError(
            f"{folder}: cannot read the saved network ({type(exc).__name__}: {exc}); "
            "load the OSM file again and re-save."
        ) from exc
    problem = _inconsistency(network)
    if problem:
        raise InputError(f"{folder}: damaged saved network ({problem}); re-save it.")
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

    Examples
    --------
    >>> import planner
    >>> network = planner.load_network("data/us_west_oakland_osmnx.osm.bz2")
    >>> network.n_nodes, network.report.components_dropped
    (47, 2)
    """
    path = Path(source)
    if path.is_dir():
        return open_network(path)
    if not path.is_file():
        raise InputError(
            f"{path}: no such OSM file or saved network. Give an .osm, .osm.bz2 or .osm.pbf "
            "file, or a folder written by Network.save(); to download the network of a place "
            "or bounding box, use planner.fetch_network."
        )
    sha = file_sha256(path)
    ways = _read_walkable_ways(path, progress)
    return _network_from_ways(ways, source=str(path), sha256=sha, largest=largest_component)


OVERPASS_URL = "https://overpass-api.de/api/interpreter"
"""The Overpass API endpoint `fetch_network` downloads from."""
OVERPASS_TIMEOUT_S = 180
"""Server-side time limit of the Overpass query, seconds."""
_OFFLINE_HINT = (
    "Offline, export the area from openstreetmap.org or download an extract (.osm.pbf) and "
    "pass the file to load_network instead."
)


def fetch_network(
    place: str | None = None,
    *,
    bbox: tuple[float, float, float, float] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    progress: Progress | None = None,
) -> Network:
    """Download the walking network of a place or bounding box from OpenStreetMap and load it.

    A place name is geocoded with OSMnx's Nominatim geocoder to its polygon, whose bounding box
    is used. The highway ways of the box and their nodes are downloaded from the Overpass API as
    OSM XML, saved in the cache, then loaded with `load_network` (same walk filter, largest
    component, projection). Later calls with the same place or box read the cache and need no
    connection; delete the cached files to download fresh data.

    Parameters
    ----------
    place
        A place name Nominatim knows, e.g. ``"Jinjiang District, Chengdu"``.
    bbox
        ``(west, south, east, north)`` in WGS84 degrees, instead of a place name.
    cache_dir
        Folder for the downloaded files (default: the user cache folder, e.g.
        ``~/.cache/planner`` on Linux). Files are named by a hash of the query.
    progress
        Optional callback ``progress(stage, done, total)`` (bytes downloaded, then loading).

    Returns
    -------
    Network
        Its report's ``source`` is the cached OSM file; ``osm_timestamp`` is the date of the
        OSM data the Overpass API served.

    Raises
    ------
    InputError
        Neither or both of ``place`` and ``bbox``; a bad box; a place Nominatim does not know or
        cannot give an area for.
    OfflineError
        Nominatim or the Overpass API cannot be reached or fail; the message says to pass a local
        OSM file instead.
    """
    if (place is None) == (bbox is None):
        raise InputError(
            "fetch_network: give either a place name or bbox=(west, south, east, north), "
            "not both and not neither."
        )
    cache = Path(cache_dir) if cache_dir is not None else user_cache_dir()
    try:
        cache.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(
            f"{cache}: cannot create the download cache ({exc}); pass cache_dir= a writable folder."
        ) from exc
    if place is None:
        west, south, east, north = _checked_bbox(bbox)
    else:
        if not isinstance(place, str) or not place.strip():
            raise InputError(
                f"fetch_network: the place name must be a non-empty text, not {place!r}."
            )
        west, south, east, north = _checked_bbox(_geocode_bbox(place.strip(), cache))
    query = overpass_query(west, south, east, north)
    path = cache / f"overpass-{hashlib.sha256(query.encode()).hexdigest()[:16]}.osm"
    if path.is_file():
        log.info("Using OSM data cached in %s", path)
    else:
        _download_overpass(query, path, progress)
    return load_network(path, progress=progress)


def overpass_query(west: float, south: float, east: float, north: float) -> str:
    """The Overpass QL query for every highway way of a box, with its nodes, as OSM XML."""
    box = f"{south:.7f},{west:.7f},{north:.7f},{east:.7f}"
    return f'[out:xml][timeout:{OVERPASS_TIMEOUT_S}];(way["highway"]({box}););(._;>;);out body;'


def user_cache_dir() -> Path:
    """The planner's folder in the platform's user cache folder."""
    if os.name == "nt":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
        return base / "planner" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "planner"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "planner"


def _checked_bbox(bbox: Any) -> tuple[float, float, float, float]:
    try:
        west, south, east, north = (float(v) for v in bbox)
    except (TypeError, ValueError) as exc:
        raise InputError(
            f"bbox must be four numbers (west, south, east, north) in WGS84 degrees, not {bbox!r}."
        ) from exc
    problems = []
    if not all(np.isfinite((west, south, east, north))):
        problems.append("values must be finite")
    elif not (-180 <= west < east <= 180):
        problems.append("need -180 <= west < east <= 180")
    elif not (-90 <= south < north <= 90):
        problems.append("need -90 <= south < north <= 90")
    if problems:
        raise InputError(
            f"bbox {bbox!r}: {problems[0]}; give (west, south, east, north) in WGS84 degrees."
        )
    return west, south, east, north


def _geocode_bbox(place: str, cache: Path) -> tuple[float, float, float, float]:
    """Bounding box (west, south, east, north) of a place's polygon, through OSMnx's geocoder."""
    stored = cache / f"geocode-{hashlib.sha256(place.encode()).hexdigest()[:16]}.json"
    if stored.is_file():
        found = json.loads(stored.read_text(encoding="utf-8"))
        log.info("Using the cached geocoding of %r: %s", place, found["display_name"])
        return tuple(found["bbox"])  # type: ignore[return-value]
    import osmnx as ox
    import requests

    errors = ox._errors
    use_cache = ox.settings.use_cache
    ox.settings.use_cache = False  # osmnx would write its own cache into ./cache
    try:
        gdf = ox.geocoder.geocode_to_gdf(place)
    except requests.RequestException as exc:
        raise OfflineError(
            f"Cannot reach the Nominatim geocoder to find {place!r} ({exc}). {_OFFLINE_HINT}"
        ) from exc
    except errors.ResponseStatusCodeError as exc:
        raise OfflineError(
            f"The Nominatim geocoder failed for {place!r} ({exc}). {_OFFLINE_HINT}"
        ) from exc
    except errors.InsufficientResponseError as exc:
        raise InputError(
            f"Nominatim found no place called {place!r} ({exc}); check the spelling, add the "
            "city or country, or give bbox=(west, south, east, north)."
        ) from exc
    except TypeError as exc:
        raise InputError(
            f"Nominatim knows {place!r} only as a point, not an area; give "
            "bbox=(west, south, east, north) instead."
        ) from exc
    finally:
        ox.settings.use_cache = use_cache
    west, south, east, north = (float(v) for v in gdf.total_bounds)
    name = str(gdf["display_name"].iloc[0]) if "display_name" in gdf.columns else place
    log.info("Geocoded %r to %s", place, name)
    stored.write_text(
        json.dumps({"place": place, "display_name": name, "bbox": [west, south, east, north]}),
        encoding="utf-8",
    )
    return west, south, east, north


def _download_overpass(query: str, path: Path, progress: Progress | None) -> None:
    """Stream the Overpass answer into ``path`` (atomically), checking it is complete OSM XML."""
    import requests

    from planner._version import __version__

    part = path.with_name(f".{path.name}.part")
    log.info("Downloading the streets from the Overpass API (%s)", OVERPASS_URL)
    try:
        with requests.post(
            OVERPASS_URL,
            data={"data": query},
            timeout=(30, OVERPASS_TIMEOUT_S + 30),
            stream=True,
            headers={"User-Agent": f"planner/{__version__} (15-minute life circle checks)"},
        ) as response:
            if response.status_code != 200:
                busy = (
                    " (the server is busy: wait a minute and retry)"
                    if response.status_code in (429, 504)
                    else ""
                )
                raise OfflineError(
                    f"The Overpass API answered HTTP {response.status_code} {response.reason}"
                    f"{busy}. {_OFFLINE_HINT}"
                )
            total = int(response.headers.get("Content-Length") or 0) or None
            done = 0
            with part.open("wb") as out:
                for block in response.iter_content(chunk_size=1 << 20):
                    out.write(block)
                    done += len(block)
                    if progress is not None:
                        progress("download", done, total)
    except requests.RequestException as exc:
        part.unlink(missing_ok=True)
        raise OfflineError(
            f"Cannot download from the Overpass API ({exc}). {_OFFLINE_HINT}"
        ) from exc
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    problem = _overpass_problem(part)
    if problem:
        part.unlink(missing_ok=True)
        raise OfflineError(f"The Overpass API did not give the streets: {problem}. {_OFFLINE_HINT}")
    part.replace(path)
    log.info("Saved %s (%.1f MB)", path, path.stat().st_size / 1e6)


def _overpass_problem(path: Path) -> str | None:
    """Why a downloaded Overpass answer is not complete OSM XML, or None when it is."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        head = handle.read(4096)
        handle.seek(max(0, size - 4096))
        tail = handle.read()
    if b"<osm" not in head:
        return f"the answer is not OSM XML (it starts {head[:80]!r})"
    remark = re.search(rb"<remark>(.*?)</remark>", head + tail, re.S)
    if remark:
        said = remark.group(1).decode("utf-8", "replace").strip()
        return f"the server remarked {said!r} (try a smaller area)"
    if not tail.rstrip().endswith(b"</osm>"):
        return "the answer was cut off before its end"
    return None


_OSM_BASE = re.compile(rb"<meta\s[^>]*osm_base=[\"']([^\"']+)[\"']")


def _xml_osm_base(path: Path) -> str | None:
    """The ``osm_base`` date of an Overpass API XML file (in its first lines), if any."""
    name = path.name.lower()
    if name.endswith(".pbf"):
        return None
    opener: Callable[..., Any] = open
    if name.endswith(".bz2"):
        opener = bz2.open
    elif name.endswith(".gz"):
        opener = gzip.open
    try:
        with opener(path, "rb") as handle:
            head = handle.read(4096)
    except (OSError, EOFError, ValueError):
        return None
    found = _OSM_BASE.search(head)
    return found.group(1).decode("ascii", "replace") if found else None


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
    highway_ways = 0
    try:
        processor = (
            osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
            .with_locations()
            .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
            .with_filter(osmium.filter.KeyFilter("highway"))
        )
        header_time = (
            processor.header.get("osmosis_replication_timestamp")
            or _xml_osm_base(path)
            or processor.header.get("timestamp")
            or None
        )
        for count, way in enumerate(processor, start=1):
            highway_ways = count
            tags = way.tags  # osmium's TagList: .get() without copying every tag
            if not isinstance(way, osmium.osm.Way) or not is_walkable(tags):
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
    except (RuntimeError, OSError, ValueError) as exc:
        raise InputError(
            f"{path}: cannot read it as OSM data ({exc}). Give an OSM XML (.osm, .osm.bz2) or "
            "PBF (.osm.pbf) file; re-download it if it is truncated."
        ) from exc
    if progress is not None:
        progress("read ways", highway_ways, highway_ways)
    if not starts:
        raise InputError(
            f"{path}: holds no walkable way ({highway_ways} ways with a highway tag, none open "
            "to pedestrians). Give an OSM extract that includes the streets."
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
    seg_id = np.cumsum(seg_start)[valid] - 1
    refs, way_idx, seg_id = _clean_segments(ways.refs[valid], way_of_ref[valid], seg_id)
    if refs.shape[0] == 0:
        raise InputError(
            f"{source}: no walkable way has two distinct nodes inside the file; "
            "is the extract clipped too tightly?"
        )
    lon = ways.x[valid][way_idx.keep] * _COORD_SCALE
    lat = ways.y[valid][way_idx.keep] * _COORD_SCALE
    crs = utm_crs(float(np.median(lon)), float(np.median(lat)))
    to_utm = pyproj.Transformer.from_crs(4326, crs, always_xy=True)
    px, py = to_utm.transform(lon, lat)
    return _assemble(
        refs,
        np.asarray(px, dtype=np.float64),
        np.asarray(py, dtype=np.float64),
        seg_id,
        ways.way_id[way_idx.values],
        ways.way_highway[way_idx.values],
        crs=crs,
        largest=largest,
        source=source,
        sha256=sha256,
        timestamp=ways.timestamp,
        walkable_ways=int(ways.way_start.shape[0]),
        ways_cut=ways_cut,
        missing=missing,
    )


@dataclass(frozen=True)
class _Kept:
    """Values of a per-vertex array after `_clean_segments`, and the mask that selected them."""

    values: np.ndarray
    keep: np.ndarray


def _clean_segments(
    refs: np.ndarray, way_idx: np.ndarray, seg_id: np.ndarray
) -> tuple[np.ndarray, _Kept, np.ndarray]:
    """Drop a vertex repeating the one before it, then segments left with fewer than 2 vertices.

    Returns the kept refs, the kept way index (with the boolean mask over the input vertices)
    and the kept segment ids.
    """
    new_seg = np.concatenate(([True], seg_id[1:] != seg_id[:-1]))
    repeat = np.concatenate(([False], refs[1:] == refs[:-1])) & ~new_seg
    keep = ~repeat
    kept_seg = seg_id[keep]
    _, seg_inverse, seg_len = np.unique(kept_seg, return_inverse=True, return_counts=True)
    long_enough = seg_len[seg_inverse] >= 2
    keep[np.flatnonzero(keep)[~long_enough]] = False
    return refs[keep], _Kept(way_idx[keep], keep), seg_id[keep]


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
    """Graph from flat per-vertex arrays: a node where segments meet, end or turn back, an edge
    between consecutive nodes of a segment.

    A vertex is a graph node where its segment starts or ends, where its ref occurs more than
    once (ways meet, or a way crosses itself), and where a way turns back on itself (the refs
    before and after it are the same: ``A B A``). A way that runs back over the same nodes gives
    the same edge twice; it is kept once, as OSMnx does.
    """
    first = np.concatenate(([True], seg_id[1:] != seg_id[:-1]))
    last = np.concatenate((seg_id[1:] != seg_id[:-1], [True]))
    _, ref_inverse, ref_counts = np.unique(refs, return_inverse=True, return_counts=True)
    is_node = first | last | (ref_counts[ref_inverse] >= 2)
    turn = np.zeros(refs.shape[0], dtype=bool)
    turn[1:-1] = (refs[:-2] == refs[2:]) & ~first[1:-1] & ~last[1:-1]
    is_node |= turn

    step = np.hypot(np.diff(px, prepend=px[0]), np.diff(py, prepend=py[0]))
    step[first] = 0.0
    along = np.cumsum(step)

    node_pos = np.flatnonzero(is_node)
    pair_ok = seg_id[node_pos[1:]] == seg_id[node_pos[:-1]]
    start_pos, end_pos = node_pos[:-1][pair_ok], node_pos[1:][pair_ok]
    if turn.any():
        unique_edge = _unique_edges(refs, start_pos, end_pos, ref_way_id)
        start_pos, end_pos = start_pos[unique_edge], end_pos[unique_edge]
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
            # Size in OSM nodes, shape points included, as OSMnx measures it before simplifying.
            shape_points = np.bincount(labels[edge_u], weights=n_coords - 2, minlength=n_comp)
            sizes = np.bincount(labels, minlength=n_comp) + shape_points
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


def _unique_edges(
    refs: np.ndarray, start_pos: np.ndarray, end_pos: np.ndarray, ref_way_id: np.ndarray
) -> np.ndarray:
    """Mask keeping the first of the edges of one way over the same refs (either direction)."""
    u, v = refs[start_pos], refs[end_pos]
    key = np.column_stack(
        (ref_way_id[start_pos], np.minimum(u, v), np.maximum(u, v), end_pos - start_pos)
    )
    _, group, group_size = np.unique(key, axis=0, return_inverse=True, return_counts=True)
    keep = np.ones(start_pos.shape[0], dtype=bool)
    # Candidates share way, end refs and vertex count: compare their ref sequences.
    seen: set[tuple[int, tuple[int, ...]]] = set()
    for position in np.flatnonzero(group_size[group] > 1):
        seq = tuple(refs[start_pos[position] : end_pos[position] + 1].tolist())
        ident = (int(group[position]), min(seq, seq[::-1]))
        if ident in seen:
            keep[position] = False
        else:
            seen.add(ident)
    return keep


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


def build_network(
    lines: Any,
    *,
    node_tolerance_m: float = 0.01,
    largest_component: bool = True,
    source: str = "lines",
) -> Network:
    """Build a network from street centre lines (e.g. a planned street layout, or a test grid).

    Lines join wherever they share a vertex, as OSM ways join at shared nodes: vertices whose
    coordinates round to the same cell of a ``node_tolerance_m`` grid are one node. Lines that
    cross without a shared vertex are not joined (a bridge over a street). Nodes are kept where
    lines meet, end or turn back, as for OSM files.

    Parameters
    ----------
    lines
        GeoDataFrame or GeoSeries of LineStrings, in a projected CRS with metre units, or with a
        geographic (or non-metre) CRS, then projected to the local UTM zone. Edge way ids are
        taken from an integer ``id`` column when there is one, else the row position.
    node_tolerance_m
        Size of the grid, metres, on which vertices are matched.
    largest_component
        Keep only the largest connected component.
    source
        A label for the load report and messages.

    Returns
    -------
    Network

    Raises
    ------
    InputError
        No CRS, no lines, empty or missing geometries, or geometries that are not LineStrings.
    """
    if lines.crs is None:
        raise InputError(f"{source}: the lines have no CRS; set one (e.g. EPSG:4326).")
    if not (np.isfinite(node_tolerance_m) and node_tolerance_m > 0):
        raise InputError(f"node_tolerance_m must be a positive number, not {node_tolerance_m!r}.")
    series = lines.geometry
    geoms = series.to_numpy()
    if len(geoms) == 0:
        raise InputError(f"{source}: no lines given.")
    kinds = shapely.get_type_id(geoms)
    bad = kinds != 1
    if bad.any():
        rows = np.flatnonzero(bad)[:10].tolist()
        raise InputError(
            f"{source}: {int(bad.sum())} geometries are not LineStrings (rows {rows}); "
            "explode MultiLineStrings and drop other geometries first."
        )
    empty = shapely.is_empty(geoms)
    if empty.any():
        rows = np.flatnonzero(empty)[:10].tolist()
        raise InputError(f"{source}: {int(empty.sum())} lines are empty (rows {rows}); drop them.")
    crs = pyproj.CRS.from_user_input(lines.crs)
    if not crs.is_projected or crs.axis_info[0].unit_name not in ("metre", "meter"):
        centre = shapely.centroid(shapely.envelope(series.to_crs(4326).union_all()))
        crs = utm_crs(centre.x, centre.y)
        geoms = series.to_crs(crs).to_numpy()
    coords, owner = shapely.get_coordinates(geoms, return_index=True)
    if not np.isfinite(coords).all():
        rows = np.unique(owner[~np.isfinite(coords).all(axis=1)])[:10].tolist()
        raise InputError(f"{source}: lines with non-finite coordinates (rows {rows}).")
    cell = np.round(coords / node_tolerance_m).astype(np.int64)
    _, vertex_ref = np.unique(cell, axis=0, return_inverse=True)
    vertex_ref = vertex_ref.astype(np.int64).ravel()
    ids = layer_ids_of(lines) if hasattr(lines, "columns") else np.arange(len(geoms))
    line_id = ids if np.issubdtype(np.asarray(ids).dtype, np.integer) else np.arange(len(geoms))
    refs, kept, seg_id = _clean_segments(vertex_ref, owner.astype(np.int64), owner)
    if refs.shape[0] == 0:
        raise InputError(f"{source}: every line is shorter than node_tolerance_m.")
    xy = coords[kept.keep]
    return _assemble(
        refs,
        xy[:, 0].copy(),
        xy[:, 1].copy(),
        seg_id,
        np.asarray(line_id, dtype=np.int64)[kept.values],
        np.full(refs.shape[0], "planned", dtype=object),
        crs=crs,
        largest=largest_component,
        source=source,
        sha256=None,
        timestamp=None,
        walkable_ways=len(geoms),
        ways_cut=0,
        missing=0,
    )


def layer_ids_of(layer: Any) -> np.ndarray:
    """A layer's ids: its ``id`` column when it has one, else its index."""
    if "id" in layer.columns:
        return np.asarray(layer["id"].to_numpy(copy=True))
    return np.asarray(layer.index.to_numpy(copy=True))
