"""A synthetic province: a tiled walking network written tile by tile, never held whole.

For areas larger than one process could load (10^7 walk nodes and more), the network is
generated straight into the format of ``planner network --save DIR --tiles M``
(`planner.distributed.tiles.TileWriter`), one block of tiles at a time, with the residences and
facilities of each block (GeoParquet, EPSG:4326). The street grid is a jittered square grid in
UTM zone 48N (near Chengdu) with a spacing of 88 m (about 129 walk nodes per km², the density of
``bench/synth_osm.py``'s cities), slightly bent streets (one shape point per edge), about 8 % of
the side streets missing (never on every 10th row and column: the main streets keep the grid
connected) and a primary / residential hierarchy. Every value comes from a counter-based hash
of the global grid position and the seed, so a block is the same whichever order blocks are
written in, and edges on a block's border are written once, by one block.

Residences (``households`` 20-399) and facilities (community service centres with a floor area,
health, kindergartens, the shares of ``bench/synth_review.py``) are uniform random points of
each block (within half a block of a street). They are synthetic: for timing and memory of a
split review, not for planning.

Run ``python bench/synth_tiles.py --walk-nodes 10000000 --out bench/out/province_1e7``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from planner.distributed.tiles import TileWriter, edge_table
from planner.network import LoadReport

CRS = pyproj.CRS.from_epsg(32648)
SPACING_M = 88.0
ORIGIN_M = (380_000.0, 3_250_000.0)
MISSING_SHARE = 0.08
MAIN_EVERY = 10
CATEGORY_SHARES = {"community_service": 0.5, "health": 0.25, "kindergarten": 0.25}
BLOCK_TILES = 2
"""Side of a generation block, in tiles (a block's edges, points and arrays only in memory)."""


def _uniform(key: np.ndarray, salt: int, seed: int) -> np.ndarray:
    """A uniform [0, 1) value per key (uint64), the same for a key whatever else is drawn."""
    with np.errstate(over="ignore"):
        z = key.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        z += np.uint64((seed * 1_000_003 + salt) * 0x632BE59BD9B4E019 % 2**64)
        z ^= z >> np.uint64(30)
        z *= np.uint64(0xBF58476D1CE4E5B9)
        z ^= z >> np.uint64(27)
        z *= np.uint64(0x94D049BB133111EB)
        z ^= z >> np.uint64(31)
    return (z >> np.uint64(11)).astype(np.float64) * 2.0**-53


class Grid:
    """The jittered street grid of ``side`` x ``side`` nodes."""

    def __init__(self, side: int, seed: int) -> None:
        self.side = side
        self.seed = seed

    def node(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Global node index of grid position (i, j)."""
        return i.astype(np.int64) * self.side + j

    def xy(self, i: np.ndarray, j: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Node coordinates (UTM 48N, metres)."""
        n = self.node(i, j)
        jx = (_uniform(n, 1, self.seed) - 0.5) * 0.4 * SPACING_M
        jy = (_uniform(n, 2, self.seed) - 0.5) * 0.4 * SPACING_M
        return ORIGIN_M[0] + i * SPACING_M + jx, ORIGIN_M[1] + j * SPACING_M + jy

    def edges(self, i0: int, i1: int, j0: int, j1: int) -> dict[str, np.ndarray]:
        """The edges starting at grid positions [i0, i1) x [j0, j1): to (i+1, j) and (i, j+1)."""
        i, j = np.meshgrid(np.arange(i0, i1), np.arange(j0, j1), indexing="ij")
        i, j = i.ravel(), j.ravel()
        parts = []
        for d, (di, dj) in enumerate(((1, 0), (0, 1))):
            keep = (i + di < self.side) & (j + dj < self.side)
            a_i, a_j = i[keep], j[keep]
            b_i, b_j = a_i + di, a_j + dj
            key = self.node(a_i, a_j) * 2 + d
            main = (a_j % MAIN_EVERY == 0) if d == 0 else (a_i % MAIN_EVERY == 0)
            kept = main | (_uniform(key, 3, self.seed) >= MISSING_SHARE)
            parts.append((a_i[kept], a_j[kept], b_i[kept], b_j[kept], key[kept], main[kept]))
        a_i, a_j, b_i, b_j, key, main = (np.concatenate(c) for c in zip(*parts, strict=True))
        order = np.argsort(key, kind="stable")
        a_i, a_j, b_i, b_j, key, main = (c[order] for c in (a_i, a_j, b_i, b_j, key, main))
        ux, uy = self.xy(a_i, a_j)
        vx, vy = self.xy(b_i, b_j)
        bend = (_uniform(key, 4, self.seed) - 0.5) * 0.2 * SPACING_M
        dx, dy = vx - ux, vy - uy
        norm = np.hypot(dx, dy)
        mx, my = (ux + vx) / 2 - dy / norm * bend, (uy + vy) / 2 + dx / norm * bend
        coords = np.stack((ux, uy, mx, my, vx, vy), axis=1).reshape(-1, 3, 2)
        geometry = shapely.linestrings(coords)
        u, v = self.node(a_i, a_j), self.node(b_i, b_j)
        xmin, ymin, xmax, ymax = shapely.bounds(geometry).T
        return {
            "edge": key,
            "u": u,
            "v": v,
            "u_osmid": u + 1,
            "v_osmid": v + 1,
            "u_x": ux,
            "u_y": uy,
            "v_x": vx,
            "v_y": vy,
            "length_m": shapely.length(geometry),
            "way_id": key + 1,
            "highway": np.where(main, "primary", "residential"),
            "xmin": xmin,
            "ymin": ymin,
            "xmax": xmax,
            "ymax": ymax,
            "geometry": geometry,
        }


def _points(
    rng: np.random.Generator, count: int, box: tuple[float, float, float, float]
) -> np.ndarray:
    x = rng.uniform(box[0], box[2], count)
    y = rng.uniform(box[1], box[3], count)
    return shapely.points(x, y)


def write_province(
    out: Path,
    *,
    walk_nodes: int,
    tile_m: float = 5000.0,
    residences_per_node: float = 0.5,
    facilities_per_node: float = 0.01,
    seed: int = 0,
) -> dict[str, object]:
    """Write ``out/network.tiles``, ``out/residences.parquet`` and ``out/facilities.parquet``.

    Returns the sizes written and the seconds and peak memory it took.
    """
    started = time.perf_counter()
    side = math.ceil(math.sqrt(walk_nodes))
    grid = Grid(side, seed)
    out.mkdir(parents=True, exist_ok=True)
    step = max(1, round(BLOCK_TILES * tile_m / SPACING_M))
    res_parts: list[gpd.GeoDataFrame] = []
    fac_parts: list[gpd.GeoDataFrame] = []
    edges = 0
    km = 0.0
    n_res = n_fac = 0
    with TileWriter(out / "network.tiles", tile_m=tile_m) as writer:
        for bi, i0 in enumerate(range(0, side, step)):
            for bj, j0 in enumerate(range(0, side, step)):
                i1, j1 = min(side, i0 + step), min(side, j0 + step)
                cols = grid.edges(i0, i1, j0, j1)
                cx = (cols["xmin"] + cols["xmax"]) / 2.0
                cy = (cols["ymin"] + cols["ymax"]) / 2.0
                cols["tile_x"] = np.floor(cx / tile_m).astype(np.int32)
                cols["tile_y"] = np.floor(cy / tile_m).astype(np.int32)
                writer.add(edge_table(cols, CRS))
                edges += len(cols["edge"])
                km += float(cols["length_m"].sum()) / 1000.0
                nodes = (i1 - i0) * (j1 - j0)
                rng = np.random.default_rng([seed, bi, bj])
                box = (
                    ORIGIN_M[0] + (i0 - 0.5) * SPACING_M,
                    ORIGIN_M[1] + (j0 - 0.5) * SPACING_M,
                    ORIGIN_M[0] + (i1 - 0.5) * SPACING_M,
                    ORIGIN_M[1] + (j1 - 0.5) * SPACING_M,
                )
                k_res = int(rng.poisson(nodes * residences_per_node))
                k_fac = int(rng.poisson(nodes * facilities_per_node))
                res_parts.append(
                    gpd.GeoDataFrame(
                        {
                            "id": [f"R{n_res + k}" for k in range(k_res)],
                            "households": rng.integers(20, 400, k_res).astype(float),
                        },
                        geometry=_points(rng, k_res, box),
                        crs=CRS,
                    ).to_crs(4326)
                )
                fac_parts.append(
                    gpd.GeoDataFrame(
                        {
                            "id": [f"F{n_fac + k}" for k in range(k_fac)],
                            "category": rng.choice(
                                list(CATEGORY_SHARES), size=k_fac, p=list(CATEGORY_SHARES.values())
                            ),
                            "floor_area_m2": np.round(rng.uniform(200.0, 1500.0, k_fac), 0),
                        },
                        geometry=_points(rng, k_fac, box),
                        crs=CRS,
                    ).to_crs(4326)
                )
                n_res += k_res
                n_fac += k_fac
        report = LoadReport(
            source=f"bench/synth_tiles.py --walk-nodes {walk_nodes} --seed {seed}",
            sha256=None,
            osm_timestamp=None,
            crs=CRS.to_string(),
            walkable_ways=edges,
            ways_cut=0,
            missing_node_refs=0,
            components_dropped=0,
            nodes_dropped=0,
            km_dropped=0.0,
            nodes=side * side,
            edges=edges,
            km=round(km, 3),
        )
        writer.close(CRS, report, side * side)
    pd.concat(res_parts, ignore_index=True).to_parquet(out / "residences.parquet")
    pd.concat(fac_parts, ignore_index=True).to_parquet(out / "facilities.parquet")
    info: dict[str, object] = {
        "walk_nodes": side * side,
        "edges": edges,
        "km": round(km, 1),
        "residences": n_res,
        "facilities": n_fac,
        "tile_m": tile_m,
        "seconds": round(time.perf_counter() - started, 1),
    }
    (out / "province.json").write_text(json.dumps(info, indent=2), encoding="utf-8")
    return info


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--walk-nodes", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--tile-m", type=float, default=5000.0)
    parser.add_argument("--residences-per-node", type=float, default=0.5)
    parser.add_argument("--facilities-per-node", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    info = write_province(
        args.out,
        walk_nodes=args.walk_nodes,
        tile_m=args.tile_m,
        residences_per_node=args.residences_per_node,
        facilities_per_node=args.facilities_per_node,
        seed=args.seed,
    )
    print(json.dumps(info))
    return 0


if __name__ == "__main__":
    sys.exit(main())
