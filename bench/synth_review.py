"""Review inputs for a synthetic city: facilities, residences and a review.toml.

Usage (from the repository root)::

    python bench/synth_osm.py --walk-nodes 400000 --out bench/out/city_400k.osm.pbf
    python bench/synth_review.py bench/out/city_400k.osm.pbf --out bench/out/city_400k
    planner check --config bench/out/city_400k/review.toml

Facilities (community service centres with a floor area, plus health and kindergartens) and
residences (with households) are random points within 60 m of the city's streets, seeded, so the
same command writes the same files. They are synthetic: for timing a city-scale review, not for
planning.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from planner.network import load_network

CATEGORY_SHARES = {"community_service": 0.5, "health": 0.25, "kindergarten": 0.25}


def _points_near_streets(network, count: int, rng: np.random.Generator) -> np.ndarray:
    """Random points: a uniform position along the street network, then up to 60 m off it."""
    weights = network.edge_length_m / network.edge_length_m.sum()
    edges = rng.choice(network.n_edges, size=count, p=weights)
    along = rng.uniform(0.0, 1.0, count) * network.edge_length_m[edges]
    on_street = shapely.line_interpolate_point(network.edge_geometry[edges], along)
    angle = rng.uniform(0.0, 2 * np.pi, count)
    offset = rng.uniform(5.0, 60.0, count)
    x = shapely.get_x(on_street) + offset * np.cos(angle)
    y = shapely.get_y(on_street) + offset * np.sin(angle)
    return shapely.points(x, y)


def write_review_inputs(
    city: Path, out: Path, *, facilities: int = 2000, residences: int = 200_000, seed: int = 0
) -> Path:
    """Write facilities.gpkg, residences.gpkg and review.toml for ``city`` into ``out``."""
    network = load_network(city)
    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)
    categories = rng.choice(
        list(CATEGORY_SHARES), size=facilities, p=list(CATEGORY_SHARES.values())
    )
    fac = gpd.GeoDataFrame(
        {
            "id": [f"F{i}" for i in range(facilities)],
            "category": categories,
            "floor_area_m2": np.round(rng.uniform(200.0, 1500.0, facilities), 0),
        },
        geometry=_points_near_streets(network, facilities, rng),
        crs=network.crs,
    ).to_crs(4326)
    res = gpd.GeoDataFrame(
        {
            "id": [f"R{i}" for i in range(residences)],
            "households": rng.integers(20, 400, residences).astype(float),
        },
        geometry=_points_near_streets(network, residences, rng),
        crs=network.crs,
    ).to_crs(4326)
    fac.to_file(out / "facilities.gpkg", driver="GPKG")
    res.to_file(out / "residences.gpkg", driver="GPKG")
    network_path = Path("..") / city.name if city.parent == out.parent else city.resolve()
    (out / "review.toml").write_text(
        "\n".join(
            [
                "# Synthetic city review (bench/synth_review.py): for timing, not for planning.",
                f'network = "{network_path.as_posix()}"',
                'facilities = "facilities.gpkg"',
                'residences = "residences.gpkg"',
                'standard = "community_service"',
                'allocation = "catchment"',
                "isochrones = false",
                'out = "review"',
                "",
            ]
        ),
        encoding="utf-8",
    )
    return out / "review.toml"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("city", type=Path, help="a synthetic city OSM file (bench/synth_osm.py)")
    parser.add_argument("--out", type=Path, required=True, help="folder for the review inputs")
    parser.add_argument("--facilities", type=int, default=2000)
    parser.add_argument("--residences", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    config = write_review_inputs(
        args.city,
        args.out,
        facilities=args.facilities,
        residences=args.residences,
        seed=args.seed,
    )
    print(f"wrote {config}; run: planner check --config {config}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
