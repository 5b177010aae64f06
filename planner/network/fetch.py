"""`fetch_network`: the walking network of a place or bounding box, downloaded and cached.

The downloads (Nominatim through OSMnx, then the Overpass API) are in `planner.osm.overpass`;
this module checks the arguments, finds the cached file and loads it with `load_network`.
"""

from __future__ import annotations

import os
from pathlib import Path

from planner.errors import InputError
from planner.network.from_osm import load_network
from planner.network.model import Network, Progress
from planner.osm.overpass import cached_streets, checked_bbox, geocode_bbox, user_cache_dir


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
            "not both and not neither.",
            zh="fetch_network：请给出地名或 bbox=(west, south, east, north) 二者之一，"
            "不能都给，也不能都不给。",
        )
    cache = Path(cache_dir) if cache_dir is not None else user_cache_dir()
    try:
        cache.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(
            f"{cache}: cannot create the download cache ({exc}); "
            "pass cache_dir= a writable folder.",
            zh=f"{cache}：无法创建下载缓存（{exc}）；请用 cache_dir= 给出一个可写的文件夹。",
        ) from exc
    if place is None:
        west, south, east, north = checked_bbox(bbox)
    else:
        if not isinstance(place, str) or not place.strip():
            raise InputError(
                f"fetch_network: the place name must be a non-empty text, not {place!r}.",
                zh=f"fetch_network：地名必须是非空文本，而不是 {place!r}。",
            )
        west, south, east, north = checked_bbox(geocode_bbox(place.strip(), cache))
    path = cached_streets(west, south, east, north, cache, progress)
    return load_network(path, progress=progress)
