"""Tiny inputs of the command-line tests, written as files as a review board hands them over:
a 3 km street, two facilities, four residences, three buildings, a population grid."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from planner.network import build_network

CRS = 32650  # a street 3 km long near Beijing, as in test_checks


def make_review(folder: Path) -> dict[str, Path]:
    """A saved network, facilities (GeoJSON) and residences (CSV) in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    tmp_path = folder
    lines = [
        shapely.LineString([(440_000 + x, 4_420_000), (441_000 + x, 4_420_000)])
        for x in (0, 1000, 2000)
    ]
    network = build_network(gpd.GeoDataFrame(geometry=lines, crs=CRS))
    net_dir = network.save(tmp_path / "street.network")
    fac = gpd.GeoDataFrame(
        {
            "id": ["F1", "F2"],
            "name": ["东社区服务中心", "<img src=x onerror=alert(1)>"],
            "category": ["community_service", "community_service"],
            "floor_area_m2": [300.0, 100.0],
        },
        geometry=[shapely.Point(440_500, 4_420_010), shapely.Point(442_500, 4_420_010)],
        crs=CRS,
    ).to_crs(4326)
    fac_path = tmp_path / "facilities.geojson"
    fac.to_file(fac_path, driver="GeoJSON")
    res = gpd.GeoDataFrame(
        {"id": ["R1", "R2", "R3", "R4"], "households": [100, 200, 100, 100]},
        geometry=[shapely.Point(440_000 + x, 4_420_010) for x in (0, 1000, 1600, 3000)],
        crs=CRS,
    ).to_crs(4326)
    res_path = tmp_path / "residences.csv"
    pd.DataFrame(
        {
            "id": res["id"],
            "households": res["households"],
            "lon": res.geometry.x,
            "lat": res.geometry.y,
        }
    ).to_csv(res_path, index=False)
    return {"network": net_dir, "facilities": fac_path, "residences": res_path}


def make_buildings(folder: Path) -> dict[str, Path]:
    """Two apartment blocks and a school along the street, and a population grid of one cell."""

    def box(x: float, w: float) -> shapely.Polygon:
        return shapely.box(440_000 + x, 4_420_020, 440_000 + x + w, 4_420_050)

    buildings = gpd.GeoDataFrame(
        {"building": ["apartments", "apartments", "school"], "floors": ["10", None, "3"]},
        geometry=[box(100, 20), box(200, 20), box(300, 40)],
        crs=CRS,
    ).to_crs(4326)
    buildings_path = folder / "buildings.geojson"
    buildings.to_file(buildings_path, driver="GeoJSON")
    grid = gpd.GeoDataFrame(
        {"persons": [100]},
        geometry=[shapely.box(440_000, 4_419_500, 440_500, 4_420_500)],
        crs=CRS,
    ).to_crs(4326)
    grid_path = folder / "grid.gpkg"
    grid.to_file(grid_path, driver="GPKG")
    return {"buildings": buildings_path, "grid": grid_path}
