"""The online fetch path, with recorded answers: these tests never use the network."""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import requests
from network_helpers import DATA, RECORDED

from planner.errors import InputError, OfflineError
from planner.network import fetch_network, load_network, overpass_query, user_cache_dir

# ---------------------------------------------------------------------------------------------
# Online fetch, with recorded answers: these tests never use the network
# ---------------------------------------------------------------------------------------------

PLACE = "West Oakland, Oakland, California"


class FakeWeb:
    """Stands in for `requests.get` (Nominatim) and `requests.post` (Overpass)."""

    def __init__(self, *, overpass: bytes | None = None, status: int = 200) -> None:
        self.gets: list[dict[str, Any]] = []
        self.posts: list[dict[str, Any]] = []
        self.overpass = overpass or (RECORDED / "overpass_west_oakland.osm").read_bytes()
        self.status = status

    @staticmethod
    def response(url: str, body: bytes, status: int = 200) -> requests.Response:
        response = requests.Response()
        response.status_code = status
        response.reason = {200: "OK", 429: "Too Many Requests"}.get(status, "Error")
        response.url = url
        response.raw = io.BytesIO(body)
        response.headers["Content-Length"] = str(len(body))
        return response

    def get(self, url: str, params: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        self.gets.append({"url": url, "params": dict(params or {})})
        body = (RECORDED / "nominatim_west_oakland.json").read_bytes()
        return self.response(url, body)

    def post(self, url: str, data: dict[str, str] | None = None, **kwargs: Any) -> Any:
        self.posts.append({"url": url, "data": dict(data or {}), "stream": kwargs.get("stream")})
        return self.response(url, self.overpass, self.status)


def offline(*args: Any, **kwargs: Any) -> Any:
    raise requests.ConnectionError("Failed to resolve host (no network in this test)")


@pytest.fixture
def web(monkeypatch: pytest.MonkeyPatch) -> FakeWeb:
    import osmnx._nominatim

    fake = FakeWeb()
    monkeypatch.setattr(requests, "get", fake.get)
    monkeypatch.setattr(requests, "post", fake.post)
    monkeypatch.setattr(requests, "request", offline)  # anything else would be a real request
    monkeypatch.setattr(
        osmnx._nominatim, "time", type("NoPause", (), {"sleep": staticmethod(lambda seconds: None)})
    )
    return fake


def test_fetch_by_place_then_from_cache(
    web: FakeWeb, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import osmnx as ox

    monkeypatch.chdir(tmp_path)
    cache = tmp_path / "cache_here"
    progress: list[tuple[str, int, int | None]] = []
    network = fetch_network(PLACE, cache_dir=cache, progress=lambda *a: progress.append(a))

    assert len(web.gets) == 1 and web.gets[0]["params"]["q"] == PLACE
    assert len(web.posts) == 1 and web.posts[0]["stream"] is True
    query = web.posts[0]["data"]["data"]
    assert query == overpass_query(-122.30258, 37.80615, -122.29825, 37.80914)
    assert "(37.8061500,-122.3025800,37.8091400,-122.2982500)" in query
    reference = load_network(DATA / "us_west_oakland_osmnx.osm.bz2")
    np.testing.assert_array_equal(network.node_osmid, reference.node_osmid)
    np.testing.assert_array_equal(network.edge_length_m, reference.edge_length_m)
    assert network.report.osm_timestamp == "2016-06-10T16:25:07Z"  # Overpass's osm_base
    assert Path(network.report.source).parent == cache
    assert any(stage == "download" for stage, _, _ in progress)
    assert ox.settings.use_cache is True  # restored
    assert not (tmp_path / "cache").exists()  # osmnx wrote nothing into the working folder

    # Second call: no network at all, everything from the cache.
    monkeypatch.setattr(requests, "get", offline)
    monkeypatch.setattr(requests, "post", offline)
    again = fetch_network(PLACE, cache_dir=cache)
    np.testing.assert_array_equal(again.node_osmid, network.node_osmid)
    assert again.report.sha256 == network.report.sha256


def test_fetch_by_bbox(web: FakeWeb, tmp_path: Path) -> None:
    bbox = (-122.30258, 37.80615, -122.29825, 37.80914)
    network = fetch_network(bbox=bbox, cache_dir=tmp_path)
    assert web.gets == [] and len(web.posts) == 1
    assert web.posts[0]["data"]["data"] == overpass_query(*bbox)
    assert network.n_nodes == 47
    fetch_network(bbox=bbox, cache_dir=tmp_path)
    assert len(web.posts) == 1  # cached


def test_fetch_offline_gives_offline_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import osmnx._nominatim

    monkeypatch.setattr(requests, "get", offline)
    monkeypatch.setattr(requests, "post", offline)
    monkeypatch.setattr(
        osmnx._nominatim, "time", type("NoPause", (), {"sleep": staticmethod(lambda seconds: None)})
    )
    with pytest.raises(OfflineError, match="pass the file to load_network") as info:
        fetch_network(bbox=(116.3, 39.9, 116.31, 39.91), cache_dir=tmp_path)
    assert "Overpass" in str(info.value)
    with pytest.raises(OfflineError, match="Nominatim.*load_network"):
        fetch_network("Chengdu", cache_dir=tmp_path)
    assert isinstance(info.value, ConnectionError)
    assert list(tmp_path.iterdir()) == []  # nothing half-written


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b"", 429, "HTTP 429 Too Many Requests .*busy"),
        (
            b'<?xml version="1.0"?><osm version="0.6"><remark> runtime error: Query timed out '
            b"</remark></osm>",
            200,
            "remarked 'runtime error: Query timed out'",
        ),
        (b'<?xml version="1.0"?><osm version="0.6"><node id="1" lat="0" lon="0"/>', 200, "cut off"),
        (b"<html>Service unavailable</html>", 200, "not OSM XML"),
    ],
)
def test_fetch_bad_overpass_answers(
    web: FakeWeb, tmp_path: Path, body: bytes, status: int, message: str
) -> None:
    web.overpass, web.status = body, status
    with pytest.raises(OfflineError, match=message):
        fetch_network(bbox=(116.3, 39.9, 116.31, 39.91), cache_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []  # a bad answer is never cached


def test_fetch_unknown_place(web: FakeWeb, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def nothing(url: str, params: Any = None, **kwargs: Any) -> Any:
        return FakeWeb.response(url, b"[]")

    monkeypatch.setattr(requests, "get", nothing)
    with pytest.raises(InputError, match="no place called 'Nowhere at all'"):
        fetch_network("Nowhere at all", cache_dir=tmp_path)
    assert web.posts == []


def test_fetch_argument_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="either a place name or bbox"):
        fetch_network(cache_dir=tmp_path)
    with pytest.raises(InputError, match="either a place name or bbox"):
        fetch_network("Chengdu", bbox=(0, 0, 1, 1), cache_dir=tmp_path)
    for bad in [(1, 2, 3), (10, 0, 5, 1), (0, 10, 1, 5), (0, 0, 200, 1), ("a", 0, 1, 1)]:
        with pytest.raises(InputError, match="bbox"):
            fetch_network(bbox=bad, cache_dir=tmp_path)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="place name"):
        fetch_network("  ", cache_dir=tmp_path)


def test_default_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    if sys.platform.startswith("linux"):
        assert user_cache_dir() == tmp_path / "planner"
