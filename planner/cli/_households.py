"""``planner households``: residences with estimated households, from building footprints.

Footprints (a layer or an OSM file), optionally a population grid, in; one point per residence
with its households and how they were estimated out (`planner.outputs.write_layer_atomic`).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from planner.cli._config import Settings
from planner.cli._guards import refuse_overwrite, writable_file
from planner.cli._terminal import for_cli, log, reading
from planner.errors import InputError
from planner.households import DEFAULT_HOUSEHOLD_SIZE

_OSM_SUFFIXES = (".osm", ".osm.bz2", ".osm.gz", ".osm.pbf")
_RESIDENCE_SUFFIXES = (".gpkg", ".geojson")
_LEAD_COLUMNS = ("id", "name", "households", "households_estimated", "households_method")


def _households_options(s: Settings) -> Path:
    """Check the flags of ``planner households`` before reading anything; return --out."""
    for name in ("buildings", "out"):
        if name not in s:
            raise InputError(
                f"planner households needs --{name}.", zh=f"planner households 需要 --{name}。"
            )
    for name in ("buildings", "population"):
        if name in s and not Path(s.get(name)).exists():
            raise InputError(
                f"--{name} {s.get(name)}: the file does not exist; check the path.",
                zh=f"--{name} {s.get(name)}：文件不存在，请检查路径。",
            )
    refuse_overwrite(s, files=("out",), inputs=("buildings", "population"))
    target = writable_file(s, "out", _RESIDENCE_SUFFIXES, "a residences layer", make_folder=True)
    if s.get("population") is None:
        given = _flags_given(
            ("--population-col", s.get("population_col")),
            ("--household-size", s.get("household_size")),
            ("--cell-id-col", s.get("cell_id_col")),
            ("--population-layer", s.get("population_layer")),
        )
        if given:
            raise InputError(
                f"{', '.join(given)} need --population FILE; give it or drop them.",
                zh=f"{'、'.join(given)} 需要 --population FILE；请给出人口文件，或去掉这些参数。",
            )
    elif s.get("m2_per_household") is not None:
        raise InputError(
            "--m2-per-household does not apply with --population (households are persons ÷ "
            "--household-size, shared by floor area); drop one of them.",
            zh="--m2-per-household 不能与 --population 同用（户数为人口数 ÷ --household-size，"
            "按建筑面积分配）；请去掉其中一个。",
        )
    return target


def _flags_given(*flags: tuple[str, object]) -> list[str]:
    """The names of the flags (name, value) that were given."""
    return [flag for flag, value in flags if value is not None]


def _is_osm(path: str) -> bool:
    return path.lower().endswith(_OSM_SUFFIXES)


def _columns_listing(frame: Any) -> str:
    return ", ".join(str(c) for c in frame.columns if c != frame.geometry.name)


def _read_households_buildings(s: Settings) -> tuple[Any, int]:
    """Footprints to estimate (WGS84, index = feature number from 1) and the buildings read."""
    import pandas as pd

    from planner import layers

    path = s.get("buildings")
    if not _is_osm(path):
        with reading("households", "--buildings", path, layer_of="buildings"):
            frame = layers.read_layer(
                path, layer=s.get("buildings_layer"), crs=s.get("crs"), encoding=s.get("encoding")
            )
        for flag, column in (
            ("--type-col", s.get("type_col")),
            ("--levels-col", s.get("levels_col")),
            ("--id-col", s.get("id_col")),
        ):
            if column is not None and column not in frame.columns:
                raise InputError(
                    f"--buildings {path}: no column {column!r} ({flag}); its columns are "
                    f"{_columns_listing(frame)}. Pass one of them as {flag}.",
                    zh=f"--buildings {path}：没有列 {column!r}（{flag}）；现有列为 "
                    f"{_columns_listing(frame)}。请用 {flag} 指明其中一个。",
                )
        frame.index = pd.RangeIndex(1, len(frame) + 1)
        return frame, len(frame)

    from planner.osm.buildings import read_osm_buildings

    given = _flags_given(
        ("--type-col", s.get("type_col")),
        ("--levels-col", s.get("levels_col")),
        ("--id-col", s.get("id_col")),
        ("--buildings-layer", s.get("buildings_layer")),
        ("--crs", s.get("crs")),
        ("--encoding", s.get("encoding")),
    )
    if given:
        raise InputError(
            f"{', '.join(given)} apply to a buildings layer, not to an OSM file such as {path} "
            "(OSM is always WGS84 with id, building and building:levels); drop them.",
            zh=f"{'、'.join(given)} 适用于建筑图层，不适用于 {path} 这样的 OSM 文件"
            "（OSM 总是 WGS84，带 id、building 和 building:levels）；请去掉这些参数。",
        )
    with reading("households", "--buildings", path):
        every = read_osm_buildings(path, residential_basis=True)
    chosen = every[every["residential_basis"].notna().to_numpy()].copy()
    if chosen.empty:
        raise InputError(
            f"--buildings {path}: none of its {len(every):,} buildings is residential by the OSM "
            "rules (building=apartments, residential, house, dormitory, ..., or building=yes "
            "inside landuse=residential or a named compound). Export the homes as a building "
            "layer (GPKG, GeoJSON, SHP) and pass that as --buildings.",
            zh=f"--buildings {path}：按 OSM 规则，其 {len(every):,} 栋建筑中没有一栋是住宅"
            "（building=apartments、residential、house、dormitory 等，或位于 landuse=residential "
            "或有名称的小区内的 building=yes）。请把住宅导出为建筑图层（GPKG、GeoJSON、SHP），"
            "并用 --buildings 给出。",
        )
    chosen.index = pd.RangeIndex(1, len(chosen) + 1)
    log.info(
        "%s: %d of %d buildings are residential by the OSM rules",
        Path(path).name,
        len(chosen),
        len(every),
    )
    return chosen, len(every)


def _building_ids(buildings: Any, s: Settings) -> list[str]:
    """Unique text ids of the buildings: their id column, else b1, b2, ... in file order."""
    column = s.get("id_col") or "id"
    if column not in buildings.columns:
        return [f"b{n}" for n in buildings.index]
    values = buildings[column]
    missing = values.isna().to_numpy()
    ids = [str(v) for v in values.tolist()]
    repeated = sorted({i for i in ids if ids.count(i) > 1}) if len(set(ids)) < len(ids) else []
    if missing.any() or repeated:
        rows = buildings.index[missing][:10].tolist()
        problem, problem_zh = (
            (
                f"{int(missing.sum())} rows have no id (rows {rows})",
                f"{int(missing.sum())} 行没有编号（第 {rows} 行）",
            )
            if missing.any()
            else (f"ids repeat ({repeated[:10]})", f"编号有重复（{repeated[:10]}）")
        )
        raise InputError(
            f"--buildings {s.get('buildings')}: column {column!r}: {problem} (rows count features "
            "from 1); give every building a unique id, or name another column with --id-col.",
            zh=f"--buildings {s.get('buildings')}：列 {column!r}：{problem_zh}"
            "（行号按要素顺序从 1 起算）；请给每栋建筑一个唯一的编号，或用 --id-col 指明另一列。",
        )
    return ids


def _read_population(s: Settings) -> tuple[Any, str, str | None]:
    """The population layer (index = feature number from 1), its persons and cell-id columns."""
    import pandas as pd

    from planner import layers

    path = str(s.get("population"))
    with reading("households", "--population", path, layer_of="population"):
        grid = layers.read_layer(
            path, layer=s.get("population_layer"), crs=s.get("crs"), encoding=s.get("encoding")
        )
    population_col = s.get("population_col") or "population"
    for flag, column in (
        ("--population-col", population_col),
        ("--cell-id-col", s.get("cell_id_col")),
    ):
        if column is not None and column not in grid.columns:
            raise InputError(
                f"--population {s.get('population')}: no column {column!r} ({flag}); its columns "
                f"are {_columns_listing(grid)}. Pass the one holding "
                f"{'persons per cell' if flag == '--population-col' else 'cell ids'} as {flag}.",
                zh=f"--population {s.get('population')}：没有列 {column!r}（{flag}）；现有列为 "
                f"{_columns_listing(grid)}。请用 {flag} 指明存放"
                f"{'每个网格人口数' if flag == '--population-col' else '网格编号'}的列。",
            )
    grid.index = pd.RangeIndex(1, len(grid) + 1)
    cell_id_col = s.get("cell_id_col") or ("id" if "id" in grid.columns else None)
    return grid, population_col, cell_id_col


def _as_points(frame: Any) -> Any:
    """Polygons replaced by their representative points (found in a local UTM CRS)."""
    import geopandas as gpd

    from planner._geo import representative_points

    geoms = representative_points(frame.geometry.array, frame.crs)
    return frame.set_geometry(gpd.GeoSeries(geoms, index=frame.index, crs=frame.crs))


def _population_lines(
    residences: Any,
    grid: Any,
    buildings: Any,
    *,
    population_col: str,
    size: float,
    cell_ids: list[Any],
    cell_id_col: str | None,
) -> list[str]:
    """Summary lines of a population run; warn when empty cells lie beyond the buildings."""
    import pandas as pd
    import shapely

    persons = float(pd.to_numeric(grid[population_col]).sum())
    orphans = (residences["residence_source"] == "population_cell").to_numpy()
    households = residences["households"].to_numpy(dtype=float)
    lines = [
        f"Population: {persons:,.0f} persons in {len(grid):,} cells "
        f"÷ {size:g} persons per household",
        f"Cells without residential buildings: {int(orphans.sum()):,} "
        f"({households[orphans].sum():,.1f} households placed at the cells' points)",
    ]
    if orphans.any():
        cover = shapely.convex_hull(shapely.geometrycollections(buildings.geometry.array))
        keys = grid.index if cell_id_col is None else pd.Index(grid[cell_id_col])
        beyond = int((~shapely.intersects(grid.geometry.array[keys.isin(cell_ids)], cover)).sum())
        if beyond:
            log.warning(
                "%d of the %d cells without residential buildings lie beyond the buildings' "
                "extent: clip --population to the study area if that is not intended",
                beyond,
                len(cell_ids),
            )
    return lines


def run_households(s: Settings) -> int:
    import geopandas as gpd
    import numpy as np

    from planner.households import households_from_buildings, households_from_population
    from planner.outputs import write_layer_atomic

    started = time.perf_counter()
    target = _households_options(s)
    buildings, n_read = _read_households_buildings(s)
    ids = _building_ids(buildings, s)
    type_col: str = s.get("type_col") or "building"
    levels_col: str = s.get("levels_col") or "building:levels"
    grid = None
    if s.get("population") is not None:
        grid, population_col, cell_id_col = _read_population(s)
        size = s.get("household_size") or DEFAULT_HOUSEHOLD_SIZE
    where = f"--buildings {s.get('buildings')}" + (
        f", --population {s.get('population')}" if s.get("population") else ""
    )
    try:
        if grid is None:
            residences = households_from_buildings(
                buildings,
                m2_per_household=s.get("m2_per_household"),
                default_levels=s.get("default_levels"),
                type_col=type_col,
                levels_col=levels_col,
            ).reset_index(drop=True)
            residences["id"] = ids
        else:
            result = households_from_population(
                grid,
                buildings,
                population_col=population_col,
                household_size=size,
                cell_id_col=cell_id_col,
                default_levels=s.get("default_levels"),
                type_col=type_col,
                levels_col=levels_col,
            )
            residences = result.residences.drop(columns="building_index")
            residences["id"] = ids + [f"cell-{c}" for c in result.cells_without_buildings]
    except InputError as exc:
        message = for_cli(str(exc), "households")
        zh = None if exc.zh is None else for_cli(exc.zh, "households", zh=True)
        raise InputError(
            f"{message} [{where}; rows count features from 1]",
            zh=None if zh is None else f"{zh}［{where}；行号按要素顺序从 1 起算］",
        ) from exc

    households = residences["households"].to_numpy(dtype=float)
    on_buildings = np.arange(len(residences)) < len(buildings)
    # non-residential building types get 0 households "and the method says so"
    not_residential = residences["households_method"].str.contains("is not residential")
    residential = on_buildings & ~not_residential.to_numpy(dtype=bool)
    lines = [
        f"Buildings read: {n_read:,} ({s.get('buildings')})",
        f"Residential buildings: {int(residential.sum()):,}",
    ]
    if grid is not None:
        outside = int((residential & residences["population_cell"].isna().to_numpy()).sum())
        if outside:
            lines[-1] += f" ({outside:,} outside every population cell: 0 households)"
        lines += _population_lines(
            residences,
            grid,
            buildings,
            population_col=population_col,
            size=size,
            cell_ids=result.cells_without_buildings,
            cell_id_col=cell_id_col,
        )
    lines.append(f"Households: {households.sum():,.1f} (estimated)")

    keep = households > 0
    if not keep.any():
        raise InputError(
            f"{where}: no building got any households ({int(residential.sum())} of "
            f"{len(buildings)} are of a residential type: apartments, residential, house, "
            "dormitory, yes, ...); check --type-col and the population values. Nothing written.",
            zh=f"{where}：没有一栋建筑分到户数（{len(buildings)} 栋中有 {int(residential.sum())} 栋"
            "属住宅类型：apartments、residential、house、dormitory、yes 等）；请检查 --type-col "
            "和人口数值。未写出任何文件。",
        )
    frame = _as_points(residences.loc[keep])
    lead = [c for c in _LEAD_COLUMNS if c in frame.columns]
    geometry = frame.geometry.name
    rest = [c for c in frame.columns if c not in lead and c != geometry]
    frame = gpd.GeoDataFrame(
        frame[[*lead, *rest, geometry]].reset_index(drop=True), geometry=geometry, crs=frame.crs
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    write_layer_atomic(frame, target)
    dropped = int((~keep).sum())
    lines.append(
        f"Wrote {len(frame):,} residences to {target}"
        + (f" ({dropped:,} buildings with 0 households left out)" if dropped else "")
    )
    print("\n".join(lines))
    log.info("Done in %.1f s", time.perf_counter() - started)
    return 0


__all__ = ["run_households"]
