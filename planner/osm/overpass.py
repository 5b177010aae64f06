"""Downloading OSM streets: Nominatim geocoding (through OSMnx) and the Overpass API, cached.

`planner.network.fetch_network` calls these and loads the cached file; nothing here builds a
network. A failed or unreachable service raises `OfflineError` with a hint to pass a local OSM
file instead.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from planner.errors import InputError, OfflineError

log = logging.getLogger(__name__)

OVERPASS_URL = "https://overpass-api.de/api/interpreter"
"""The Overpass API endpoint `planner.network.fetch_network` downloads from."""
OVERPASS_TIMEOUT_S = 180
"""Server-side time limit of the Overpass query, seconds."""
OFFLINE_HINT = (
    "Offline, export the area from openstreetmap.org or download an extract (.osm.pbf) and "
    "pass the file to load_network instead."
)
"""The advice every `OfflineError` of a download ends with."""


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


def checked_bbox(bbox: Any) -> tuple[float, float, float, float]:
    """``(west, south, east, north)`` as floats, checked to be a box in WGS84 degrees.

    Raises
    ------
    InputError
        Not four numbers, not finite, or not a box inside the world.
    """
    try:
        west, south, east, north = (float(v) for v in bbox)
    except (TypeError, ValueError) as exc:
        raise InputError(
            f"bbox must be four numbers (west, south, east, north) in WGS84 degrees, not {bbox!r}.",
            zh=f"bbox 必须是四个 WGS84 度数（west, south, east, north），而不是 {bbox!r}。",
        ) from exc
    problems = []
    if not all(np.isfinite((west, south, east, north))):
        problems.append(("values must be finite", "数值必须是有限值"))
    elif not (-180 <= west < east <= 180):
        problems.append(("need -180 <= west < east <= 180", "须满足 -180 <= west < east <= 180"))
    elif not (-90 <= south < north <= 90):
        problems.append(("need -90 <= south < north <= 90", "须满足 -90 <= south < north <= 90"))
    if problems:
        raise InputError(
            f"bbox {bbox!r}: {problems[0][0]}; give (west, south, east, north) in WGS84 degrees.",
            zh=f"bbox {bbox!r}：{problems[0][1]}；请给出 WGS84 度数（west, south, east, north）。",
        )
    return west, south, east, north


def geocode_bbox(place: str, cache: Path) -> tuple[float, float, float, float]:
    """Bounding box (west, south, east, north) of a place's polygon, through OSMnx's geocoder.

    The answer is kept in ``cache`` (``geocode-<hash>.json``) and read from there next time.

    Raises
    ------
    InputError
        Nominatim knows no such place, or only as a point.
    OfflineError
        Nominatim cannot be reached or fails.
    """
    stored = cache / f"geocode-{hashlib.sha256(place.encode()).hexdigest()[:16]}.json"
    if stored.is_file():
        found = json.loads(stored.read_text(encoding="utf-8"))
        log.info("Using the cached geocoding of %r: %s", place, found["display_name"])
        west, south, east, north = (float(v) for v in found["bbox"])
        return west, south, east, north
    import osmnx as ox
    import requests

    errors = ox._errors
    use_cache = ox.settings.use_cache
    ox.settings.use_cache = False  # osmnx would write its own cache into ./cache
    try:
        gdf = ox.geocoder.geocode_to_gdf(place)
    except requests.RequestException as exc:
        raise OfflineError(
            f"Cannot reach the Nominatim geocoder to find {place!r} ({exc}). {OFFLINE_HINT}"
        ) from exc
    except errors.ResponseStatusCodeError as exc:
        raise OfflineError(
            f"The Nominatim geocoder failed for {place!r} ({exc}). {OFFLINE_HINT}"
        ) from exc
    except errors.InsufficientResponseError as exc:
        raise InputError(
            f"Nominatim found no place called {place!r} ({exc}); check the spelling, add the "
            "city or country, or give bbox=(west, south, east, north).",
            zh=f"Nominatim 找不到名为 {place!r} 的地方（{exc}）；请检查拼写，加上城市或国家，"
            "或给出 bbox=(west, south, east, north)。",
        ) from exc
    except TypeError as exc:
        raise InputError(
            f"Nominatim knows {place!r} only as a point, not an area; give "
            "bbox=(west, south, east, north) instead.",
            zh=f"Nominatim 只知道 {place!r} 是一个点，而不是一片区域；请改为给出 "
            "bbox=(west, south, east, north)。",
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


def cached_streets(
    west: float,
    south: float,
    east: float,
    north: float,
    cache: Path,
    progress: Callable[[str, int, int | None], None] | None = None,
) -> Path:
    """The OSM XML file of a box's highway ways in ``cache``, downloaded when not there yet.

    The file is named by a hash of the Overpass query (``overpass-<hash>.osm``).

    Raises
    ------
    OfflineError
        The Overpass API cannot be reached, fails, or gives no complete OSM XML.
    """
    query = overpass_query(west, south, east, north)
    path = cache / f"overpass-{hashlib.sha256(query.encode()).hexdigest()[:16]}.osm"
    if path.is_file():
        log.info("Using OSM data cached in %s", path)
    else:
        download_overpass(query, path, progress)
    return path


def download_overpass(
    query: str, path: Path, progress: Callable[[str, int, int | None], None] | None
) -> None:
    """Stream the Overpass answer into ``path`` (atomically), checking it is complete OSM XML.

    ``progress("download", bytes_done, bytes_total_or_None)`` is called as blocks arrive.
    """
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
                    f"{busy}. {OFFLINE_HINT}"
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
            f"Cannot download from the Overpass API ({exc}). {OFFLINE_HINT}"
        ) from exc
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    problem = _overpass_problem(part)
    if problem:
        part.unlink(missing_ok=True)
        raise OfflineError(f"The Overpass API did not give the streets: {problem}. {OFFLINE_HINT}")
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
