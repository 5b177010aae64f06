"""The page's assets: Leaflet from the ``django-js-lib-leaflet`` package, our CSS and runtime.

Leaflet 1.9.4 (no dependencies) is read from the installed package and inlined, its images as
data URIs, so that the saved page loads nothing but basemap tiles. Our own styles and the
runtime that draws the layers are package data: ``planner/maps/assets/map.css`` and
``planner/maps/assets/runtime.js``. The runtime is plain ES5 so that older office browsers run
it. Data arrive as JSON literals; every data text is written with textContent; the only
innerHTML is the panels' HTML, which Python built from escaped text. Everything is read once.
"""

from __future__ import annotations

import base64
import functools
import importlib.resources
import re
from dataclasses import dataclass
from typing import Final

_LEAFLET_PACKAGE: Final = "js_lib_leaflet"
_LEAFLET_PIP_NAME: Final = "django-js-lib-leaflet"


@dataclass(frozen=True)
class _Assets:
    leaflet_js: str
    leaflet_css: str


@functools.cache
def _read_leaflet() -> _Assets:
    """Read Leaflet's dist files from the installed ``django-js-lib-leaflet`` package."""
    try:
        root = importlib.resources.files(_LEAFLET_PACKAGE) / "static" / _LEAFLET_PACKAGE
        js = (root / "leaflet.js").read_text(encoding="utf-8")
        css = (root / "leaflet.css").read_text(encoding="utf-8")
        images = {
            name: (root / "images" / name).read_bytes()
            for name in ("layers.png", "layers-2x.png", "marker-icon.png")
        }
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise ImportError(
            f"planner.maps needs Leaflet's files from the {_LEAFLET_PIP_NAME!r} package "
            f"({exc}); install it with: pip install {_LEAFLET_PIP_NAME}"
        ) from exc
    # No source-map request, and the layer-control icon inlined so nothing is fetched.
    js = re.sub(r"//# sourceMappingURL=\S*\s*$", "", js)
    for name, data in images.items():
        uri = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
        css = css.replace(f"url(images/{name})", f"url({uri})")
    for text, what in ((js, "leaflet.js"), (css, "leaflet.css")):
        if re.search(r"</(script|style)", text, flags=re.IGNORECASE):
            raise ImportError(f"{_LEAFLET_PIP_NAME}'s {what} cannot be inlined safely")
    return _Assets(leaflet_js=js, leaflet_css=css)


def _own(name: str) -> str:
    """One of our asset files (``map.css``, ``runtime.js``), as text."""
    return (importlib.resources.files("planner.maps") / "assets" / name).read_text(encoding="utf-8")


@functools.cache
def _head_markup() -> str:
    """The styles and scripts of the page's head: Leaflet's, then ours."""
    leaflet = _read_leaflet()
    return (
        "<style>"
        + leaflet.leaflet_css
        + "\n"
        + _own("map.css")
        + "</style>\n<script>"
        + leaflet.leaflet_js
        + "</script>\n<script>\n"
        + _own("runtime.js")
        + "</script>"
    )
