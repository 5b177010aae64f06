"""Helpers shared by the isochrone tests: small synthetic networks, points, shape comparison.

Synthetic networks are in EPSG:32650 (metres), offset to a real place so WGS84 output is sane::

    bent line:   (0,0) ---- (300,0)        a single edge with an interior vertex at (300,0)
                               |
                            (300,700)

    square:      (0,200) -- (200,200)      four 200 m edges, nodes at the corners
                    |           |
                  (0,0) ---- (200,0)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from planner.network import Network, build_network

DATA = Path(__file__).resolve().parents[2] / "data"
CRS = "EPSG:32650"
X0, Y0 = 440_000.0, 4_420_000.0


def shifted(coords: list[tuple[float, float]]) -> list[tuple[float, float]]:
    return [(X0 + x, Y0 + y) for x, y in coords]


def lines_network(lines: list[list[tuple[float, float]]]) -> Network:
    gdf = gpd.GeoDataFrame(
        {"id": np.arange(len(lines))},
        geometry=[shapely.LineString(shifted(c)) for c in lines],
        crs=CRS,
    )
    return build_network(gdf, source="test lines")


def points_gdf(coords: list[tuple[float, float]], ids: list[object] | None = None) -> Any:
    return gpd.GeoDataFrame(
        {"id": ids if ids is not None else list(range(len(coords)))},
        geometry=shapely.points(shifted(coords)),
        crs=CRS,
    )


def local(gdf: gpd.GeoDataFrame, network: Network) -> np.ndarray:
    return gdf.to_crs(network.crs).geometry.to_numpy()


def same_shape(a: shapely.Geometry, b: shapely.Geometry, *, rel: float = 2e-3) -> bool:
    return shapely.symmetric_difference(a, b).area <= rel * max(a.area, b.area)


def random_points(network: Network, n: int, seed: int, jitter_m: float = 10.0) -> Any:
    rng = np.random.default_rng(seed)
    edges = rng.choice(network.n_edges, n, p=network.edge_length_m / network.edge_length_m.sum())
    pts = shapely.line_interpolate_point(
        network.edge_geometry[edges], rng.random(n), normalized=True
    )
    x = shapely.get_x(pts) + rng.normal(0, jitter_m, n)
    y = shapely.get_y(pts) + rng.normal(0, jitter_m, n)
    return gpd.GeoDataFrame({"id": np.arange(n)}, geometry=shapely.points(x, y), crs=network.crs)


def bent_network() -> Network:
    """The bent line: one edge with an interior vertex (see the module docstring)."""
    return lines_network([[(0, 0), (300, 0), (300, 700)]])


def square_network() -> Network:
    """The square: four 200 m edges (see the module docstring)."""
    return lines_network(
        [
            [(0, 0), (200, 0)],
            [(200, 0), (200, 200)],
            [(200, 200), (0, 200)],
            [(0, 200), (0, 0)],
        ]
    )
