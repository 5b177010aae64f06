"""Household estimates for residences: from buildings, or from a population layer.

Households are not in OpenStreetMap. When a residences layer has no household column, the
planner estimates them in one of two ways, and every output row says which
(``households_method``) and that the number is an estimate (``households_estimated``):

* :func:`households_from_buildings` — gross floor area ÷ floor area per household, where
  gross floor area = footprint (m², measured in a local projected CRS) × number of levels.
* :func:`households_from_population` — persons ÷ household size (default 2.62), for each cell of
  a population layer, shared among the residential buildings inside the cell in proportion to
  their gross floor area. No household is lost: a cell with people but no residential building
  keeps them at a point inside the cell.

Defaults per building type
--------------------------
``building=*`` value -> (levels when ``building:levels`` is missing, m² of gross floor area per
household):

=====================================================  ======  ===================
building                                               levels  m² per household
=====================================================  ======  ===================
apartments, residential, yes (and missing)               6         95
dormitory                                                5         30 (a "household
                                                                   equivalent" of 2.62
                                                                   beds at ~11 m² each)
house, detached, semidetached_house, terrace, farm       2        120
bungalow                                                 1        120
=====================================================  ======  ===================

Why these numbers:

* **95 m² per household, apartments.** Chinese urban households live in about 36-40 m² of
  floor area per person (2020 census and housing statistics give figures in this range) and
  average 2.62 persons (2020 census), i.e. roughly 95-105 m² per household. Footprint × levels
  is *gross* floor area, which also holds stairs, corridors and walls, and dwelling sizes are
  centred on the 90 m² class of Chinese housing policy, so the lower end, 95 m², is used.
* **6 levels, apartments/residential.** The most common Chinese residential block of the
  1980s-2000s is the 5-6 storey walk-up: GB 50096 requires lifts from the 7th storey up, so
  blocks without lifts stop at 6. High-rise compounds (18-33 storeys) are common too and are
  *under*-estimated by this default; give ``building:levels`` or ``default_levels`` there.
* **yes / missing type.** The caller chose these buildings as residences, so an untyped
  building is treated as a residential block.
* **Houses.** Town and rural houses are larger per household (rural floor area per person is
  above 45 m²); 120 m² over 2 levels.
* **Dormitories** house individuals; ~11 m² gross per bed, 2.62 beds per household equivalent.

Any other building type (school, commercial, ...) is not residential: 0 households, and the
method says so. Override per type with mappings, or for every type with a number.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from planner._geo import metric_crs
from planner.errors import InputError

log = logging.getLogger(__name__)

__all__ = [
    "BUILDING_DEFAULTS",
    "DEFAULT_HOUSEHOLD_SIZE",
    "BuildingDefaults",
    "PopulationHouseholds",
    "households_from_buildings",
    "households_from_population",
]

#: Average persons per household in China (2020 population census).
DEFAULT_HOUSEHOLD_SIZE = 2.62

_MAX_LEVELS = 200.0
_LEVELS_NUMBER = re.compile(r"^\s*(\d+(?:\.\d+)?)")


@dataclass(frozen=True)
class BuildingDefaults:
    """Defaults for one residential building type.

    Attributes
    ----------
    levels
        Storeys assumed when ``building:levels`` is missing or not understood.
    m2_per_household
        Gross floor area (m²) per household.
    """

    levels: float
    m2_per_household: float


_APARTMENT = BuildingDefaults(levels=6.0, m2_per_household=95.0)
_HOUSE = BuildingDefaults(levels=2.0, m2_per_household=120.0)

#: Residential building types and their defaults (see the module docstring for the reasons).
BUILDING_DEFAULTS: dict[str, BuildingDefaults] = {
    "apartments": _APARTMENT,
    "residential": _APARTMENT,
    "yes": _APARTMENT,
    "dormitory": BuildingDefaults(levels=5.0, m2_per_household=30.0),
    "house": _HOUSE,
    "detached": _HOUSE,
    "semidetached_house": _HOUSE,
    "terrace": _HOUSE,
    "farm": _HOUSE,
    "bungalow": BuildingDefaults(levels=1.0, m2_per_household=120.0),
}

_OUTPUT_COLUMNS = (
    "footprint_m2",
    "levels",
    "levels_source",
    "gross_floor_area_m2",
    "households",
    "households_method",
    "households_estimated",
)


class PopulationHouseholds(NamedTuple):
    """Result of :func:`households_from_population`.

    Attributes
    ----------
    residences
        One row per input building, then one point row per cell that has people but no
        residential building. Fresh RangeIndex; ``residence_source`` is ``"building"`` or
        ``"population_cell"``; ``building_index`` holds the building's original index label.
    cells_without_buildings
        Ids of the cells whose households sit on the cell's representative point.
    """

    residences: gpd.GeoDataFrame
    cells_without_buildings: list[Any]


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def _check_positive(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise InputError(
            f"{name} is {value!r}; give a positive number", zh=f"{name} 为 {value!r}；请给出正数"
        )
    number = float(value)
    if not math.isfinite(number) or number <= 0:
        raise InputError(
            f"{name} is {value!r}; give a positive number", zh=f"{name} 为 {value!r}；请给出正数"
        )
    return number


def _merged_defaults(
    default_levels: float | Mapping[str, float] | None,
    m2_per_household: float | Mapping[str, float] | None,
) -> dict[str, BuildingDefaults]:
    """Merge caller overrides into :data:`BUILDING_DEFAULTS`.

    A number applies to every residential type; a mapping overrides the types it names and adds
    new residential types (taking the other value from ``residential``).
    """
    merged = dict(BUILDING_DEFAULTS)
    for name, override in (
        ("default_levels", default_levels),
        ("m2_per_household", m2_per_household),
    ):
        if override is None:
            continue
        field = "levels" if name == "default_levels" else "m2_per_household"
        if isinstance(override, Mapping):
            for raw_type, value in override.items():
                building_type = str(raw_type).strip().lower()
                number = _check_positive(f"{name}[{raw_type!r}]", value)
                base = merged.get(building_type, merged["residential"])
                merged[building_type] = BuildingDefaults(**{**base.__dict__, field: number})
        else:
            number = _check_positive(name, override)
            merged = {
                key: BuildingDefaults(**{**value.__dict__, field: number})
                for key, value in merged.items()
            }
    return merged


_WHAT_ZH = {"buildings layer": "建筑图层", "buildings": "建筑"}


def _check_layer(gdf: object, what: str) -> gpd.GeoDataFrame:
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise InputError(f"{what} must be a GeoDataFrame, not {type(gdf).__name__}")
    if gdf.crs is None:
        raise InputError(
            f"{what} has no CRS; set it (e.g. gdf.set_crs('EPSG:4326')) so areas can be measured",
            zh=f"{_WHAT_ZH.get(what, what)}没有坐标系；请设定坐标系"
            "（例如 gdf.set_crs('EPSG:4326')），才能量算面积",
        )
    geoms = gdf.geometry.array
    bad = np.flatnonzero(
        shapely.is_missing(geoms)
        | shapely.is_empty(geoms)
        | ~np.isin(shapely.get_type_id(geoms), [3, 6])
    )
    if bad.size:
        labels = ", ".join(repr(label) for label in gdf.index[bad[:10]])
        more = f" and {bad.size - 10} more" if bad.size > 10 else ""
        more_zh = f" 等（另有 {bad.size - 10} 行）" if bad.size > 10 else ""
        raise InputError(
            f"{what}: {bad.size} rows have no polygon geometry (rows {labels}{more}); "
            "footprints need Polygon or MultiPolygon geometries, drop or fix those rows",
            zh=f"{_WHAT_ZH.get(what, what)}：{bad.size} 行没有面几何（第 {labels}{more_zh} 行）；"
            "建筑轮廓须为 Polygon 或 MultiPolygon，请删除或改正这些行",
        )
    return gdf


def _floor_areas(
    projected: gpd.GeoDataFrame,
    *,
    type_col: str,
    levels_col: str,
    defaults: Mapping[str, BuildingDefaults],
    what: str,
) -> pd.DataFrame:
    """Footprint, levels and gross floor area of every building (positional rows)."""
    n = len(projected)
    if type_col in projected.columns:
        types = [
            value.strip().lower() if isinstance(value, str) and value.strip() else "yes"
            for value in projected[type_col].tolist()
        ]
    else:
        log.info("%s has no %r column: every building is treated as building=yes", what, type_col)
        types = ["yes"] * n
    residential = np.array([t in defaults for t in types], dtype=bool)
    default_levels = np.array(
        [defaults[t].levels if t in defaults else np.nan for t in types], dtype=float
    )
    m2 = np.array(
        [defaults[t].m2_per_household if t in defaults else np.nan for t in types], dtype=float
    )

    tagged = np.full(n, np.nan)
    not_understood = 0
    if levels_col in projected.columns:
        for i, value in enumerate(projected[levels_col].tolist()):
            if value is None or (isinstance(value, float) and math.isnan(value)):
                continue
            if value is pd.NA:
                continue
            match = _LEVELS_NUMBER.match(str(value))
            number = float(match.group(1)) if match else math.nan
            if 0 < number <= _MAX_LEVELS:
                tagged[i] = number
            else:
                not_understood += 1
    if not_understood:
        log.warning(
            "%s: %d values of %r are not a level count in (0, %g]; their type's default is used",
            what,
            not_understood,
            levels_col,
            _MAX_LEVELS,
        )
    has_tag = ~np.isnan(tagged)
    levels = np.where(has_tag, tagged, default_levels)
    footprint = projected.geometry.area.to_numpy(dtype=float, copy=True)
    gross = footprint * np.where(np.isnan(levels), 0.0, levels)
    return pd.DataFrame(
        {
            "building_type": types,
            "residential": residential,
            "footprint_m2": footprint,
            "levels": levels,
            "levels_source": np.where(has_tag, "tag", np.where(residential, "default", "")),
            "gross_floor_area_m2": gross,
            "m2_per_household": m2,
        }
    )


def _warn_overwrite(gdf: gpd.GeoDataFrame, columns: tuple[str, ...], what: str) -> None:
    existing = [column for column in columns if column in gdf.columns]
    if existing:
        log.warning("%s already has columns %s; the output replaces them", what, existing)


def _largest_remainder(quotas: npt.NDArray[np.float64], total: int) -> npt.NDArray[np.int64]:
    """Integers summing to ``total``, each the floor or ceiling of its quota.

    The units left after flooring go to the largest fractional parts (ties: lower position).
    """
    floors = np.floor(quotas)
    result = floors.astype(np.int64)
    left = int(total - result.sum())
    if left < 0 or left > len(quotas):
        raise AssertionError(f"cannot share {total} units over quotas summing to {quotas.sum()}")
    if left:
        order = np.argsort(-(quotas - floors), kind="stable")
        result[order[:left]] += 1
    return result


# --------------------------------------------------------------------------------------------
# public
# --------------------------------------------------------------------------------------------


def households_from_buildings(
    buildings: gpd.GeoDataFrame,
    *,
    m2_per_household: float | Mapping[str, float] | None = None,
    default_levels: float | Mapping[str, float] | None = None,
    type_col: str = "building",
    levels_col: str = "building:levels",
    decimals: int = 1,
) -> gpd.GeoDataFrame:
    """Estimate households per building: footprint × levels ÷ m² per household.

    Parameters
    ----------
    buildings
        Residential building footprints (Polygon/MultiPolygon) with a CRS. Not modified.
    m2_per_household
        Gross floor area per household (m²): one number for every residential type, or a
        mapping ``{building type: m²}`` over :data:`BUILDING_DEFAULTS`. None keeps the defaults.
    default_levels
        Levels assumed where ``levels_col`` is missing or not understood: a number for every
        type or a mapping per type. None keeps the defaults.
    type_col
        Column with the OSM ``building`` value (missing column or value: ``yes``).
    levels_col
        Column with the OSM ``building:levels`` value; its first number is used ("6;7" -> 6).
    decimals
        Households are rounded to this many decimals (default 0.1 household).

    Returns
    -------
    geopandas.GeoDataFrame
        A copy with ``footprint_m2`` (measured in a local projected CRS), ``levels``,
        ``levels_source`` (``tag``/``default``), ``gross_floor_area_m2``, ``households``,
        ``households_method`` (``"estimate:buildings(...)"`` with the numbers used) and
        ``households_estimated`` (True). Non-residential types get 0 households.

    Raises
    ------
    InputError
        If the layer has no CRS, rows without polygon geometry, or an override is not positive.
    """
    what = "buildings layer"
    _check_layer(buildings, what)
    defaults = _merged_defaults(default_levels, m2_per_household)
    projected = buildings.to_crs(metric_crs(buildings))
    areas = _floor_areas(
        projected, type_col=type_col, levels_col=levels_col, defaults=defaults, what=what
    )
    residential = areas["residential"].to_numpy()
    raw = np.where(
        residential,
        areas["gross_floor_area_m2"].to_numpy() / areas["m2_per_household"].to_numpy(),
        0.0,
    )
    households = np.round(raw, decimals)

    methods = []
    for row in areas.itertuples(index=False):
        if row.residential:
            methods.append(
                f"estimate:buildings(building={row.building_type}: "
                f"{row.footprint_m2:.1f} m2 footprint x {row.levels:g} levels "
                f"({row.levels_source}) / {row.m2_per_household:g} m2 per household)"
            )
        else:
            methods.append(
                f"estimate:buildings(building={row.building_type} is not residential: 0 households)"
            )
    n_other = int((~residential).sum())
    if n_other:
        counts = areas.loc[~areas["residential"], "building_type"].value_counts()
        log.warning(
            "%s: %d buildings of non-residential types get 0 households: %s",
            what,
            n_other,
            dict(counts),
        )

    _warn_overwrite(buildings, _OUTPUT_COLUMNS, what)
    out = buildings.copy()
    out["footprint_m2"] = np.round(areas["footprint_m2"].to_numpy(), 1)
    out["levels"] = areas["levels"].to_numpy()
    out["levels_source"] = areas["levels_source"].to_numpy()
    out["gross_floor_area_m2"] = np.round(areas["gross_floor_area_m2"].to_numpy(), 1)
    out["households"] = households
    out["households_method"] = methods
    out["households_estimated"] = True
    log.info(
        "estimated %.1f households in %d buildings (%d with levels tagged)",
        float(households.sum()),
        len(out),
        int((areas["levels_source"] == "tag").sum()),
    )
    return out


def households_from_population(
    grid: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
    *,
    population_col: str = "population",
    household_size: float = DEFAULT_HOUSEHOLD_SIZE,
    cell_id_col: str | None = None,
    default_levels: float | Mapping[str, float] | None = None,
    type_col: str = "building",
    levels_col: str = "building:levels",
    decimals: int | None = 1,
) -> PopulationHouseholds:
    """Turn a population layer into households on the residential buildings inside it.

    Each cell's households (persons ÷ ``household_size``) are shared among the residential
    buildings whose representative point lies in the cell, in proportion to gross floor area
    (footprint × levels, levels as in :func:`households_from_buildings`). A cell with people
    but no residential building keeps its households on a point at the cell's representative
    point; those cells are logged and returned. Buildings outside every cell get 0.

    Totals are conserved exactly: with ``decimals=d`` the work is done in integer units of
    10^-d household (largest-remainder rounding, first over cells, then over the buildings of
    each cell), so the households of all rows add up to round(total persons ÷ household size,
    d), and each cell's rows to within 10^-d of the cell's own quotient. With ``decimals=None``
    no rounding is done (float shares).

    Parameters
    ----------
    grid
        Population polygons (e.g. a 250 m grid) with a CRS. Not modified.
    buildings
        Building footprints with a CRS (any CRS; reprojected as needed). Not modified.
    population_col
        Column of ``grid`` with persons per cell (numbers >= 0).
    household_size
        Persons per household; default 2.62 (China, 2020 census).
    cell_id_col
        Column of ``grid`` identifying cells (unique); None uses the grid's index labels.
    default_levels, type_col, levels_col
        As in :func:`households_from_buildings`; only residential types get households.
    decimals
        Rounding of households, see above; None for no rounding.

    Returns
    -------
    PopulationHouseholds
        ``residences`` (in the buildings' CRS) and ``cells_without_buildings``.

    Raises
    ------
    InputError
        If a layer has no CRS or non-polygon rows, the population column is missing,
        non-numeric, negative or not finite, cell ids repeat, or ``household_size`` <= 0.
    """
    size = _check_positive("household_size", household_size)
    _check_layer(grid, "population layer")
    _check_layer(buildings, "buildings layer")
    persons, cell_ids = _population_cells(grid, population_col, cell_id_col)
    if decimals is not None and (isinstance(decimals, bool) or not isinstance(decimals, int)):
        raise InputError(f"decimals is {decimals!r}; give an integer or None")

    local = metric_crs(grid)
    grid_local = grid.to_crs(local)
    buildings_local = buildings.to_crs(local)
    defaults = _merged_defaults(default_levels, None)
    areas = _floor_areas(
        buildings_local,
        type_col=type_col,
        levels_col=levels_col,
        defaults=defaults,
        what="buildings layer",
    )
    weight = np.where(areas["residential"].to_numpy(), areas["gross_floor_area_m2"].to_numpy(), 0.0)
    cell_of = _cell_of_buildings(buildings_local, grid_local)

    n_cells = len(grid_local)
    cell_weight = np.asarray(
        np.bincount(cell_of[cell_of >= 0], weights=weight[cell_of >= 0], minlength=n_cells),
        dtype=float,
    )
    cell_count = np.bincount(cell_of[(cell_of >= 0) & (weight > 0)], minlength=n_cells)
    orphan = (persons > 0) & (cell_weight <= 0)
    cell_hh, building_hh = _share_households(
        persons / size,
        cell_of,
        weight,
        cell_weight,
        orphan,
        total=float(persons.sum()) / size,
        decimals=decimals,
    )
    methods = [
        _population_method(
            row.residential, row.building_type, c, cell_ids, persons, size, cell_hh, cell_count
        )
        for row, c in zip(areas.itertuples(index=False), cell_of, strict=True)
    ]
    out = _building_rows(buildings, areas, cell_of, cell_ids, building_hh, methods)

    orphan_pos = np.flatnonzero(orphan)
    orphan_ids = [cell_ids[c] for c in orphan_pos]
    if orphan_pos.size:
        log.warning(
            "%d population cells (%g persons) have no residential building; their households "
            "are placed at each cell's representative point: cells %s",
            orphan_pos.size,
            float(persons[orphan_pos].sum()),
            orphan_ids,
        )
        extra = _cell_point_rows(
            out, buildings, grid_local, orphan_pos, cell_ids, persons, size, cell_hh
        )
        out = pd.concat([out, extra], ignore_index=True)
        out = gpd.GeoDataFrame(out, geometry=buildings.geometry.name, crs=buildings.crs)

    outside = int(((cell_of < 0) & (weight > 0)).sum())
    if outside:
        log.info(
            "%d residential buildings lie outside every population cell: 0 households", outside
        )
    log.info(
        "population %g persons -> %g households over %d buildings and %d cell points",
        float(persons.sum()),
        float(np.asarray(out["households"], dtype=float).sum()),
        int((weight > 0).sum()),
        orphan_pos.size,
    )
    return PopulationHouseholds(residences=out, cells_without_buildings=orphan_ids)


def _population_cells(
    grid: gpd.GeoDataFrame, population_col: str, cell_id_col: str | None
) -> tuple[npt.NDArray[np.float64], list[Any]]:
    """Persons per cell (numbers >= 0) and the cell ids (unique), checked."""
    if population_col not in grid.columns:
        columns = [c for c in grid.columns if c != grid.geometry.name]
        raise InputError(
            f"population layer has no column {population_col!r}; columns are "
            f"{columns}; pass population_col=",
            zh=f"人口图层没有列 {population_col!r}；现有列为 {columns}；请用 population_col= 指明",
        )
    persons = pd.to_numeric(grid[population_col], errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(~np.isfinite(persons) | (persons < 0))
    if bad.size:
        values = grid[population_col].tolist()
        rows = ", ".join(f"{grid.index[i]!r} ({values[i]!r})" for i in bad[:10])
        raise InputError(
            f"population layer, column {population_col!r}: {bad.size} rows are not a number "
            f">= 0: {rows}; fix or drop them",
            zh=f"人口图层的列 {population_col!r}：{bad.size} 行不是 >= 0 的数：{rows}；"
            "请改正或删除这些行",
        )
    if cell_id_col is None:
        cell_ids = list(grid.index)
    elif cell_id_col not in grid.columns:
        raise InputError(
            f"population layer has no column {cell_id_col!r} (cell_id_col)",
            zh=f"人口图层没有列 {cell_id_col!r}（cell_id_col）",
        )
    else:
        cell_ids = grid[cell_id_col].tolist()
    if len(set(cell_ids)) != len(cell_ids):
        raise InputError(
            f"population layer: cell ids ({cell_id_col or 'index'}) repeat; they must be unique",
            zh=f"人口图层：网格编号（{cell_id_col or '索引'}）有重复；编号必须唯一",
        )
    return persons, cell_ids


def _cell_of_buildings(
    buildings_local: gpd.GeoDataFrame, grid_local: gpd.GeoDataFrame
) -> npt.NDArray[np.int64]:
    """Each building's cell position: the first cell (grid order) its representative point
    touches, or -1."""
    points = shapely.point_on_surface(buildings_local.geometry.array)
    tree = shapely.STRtree(grid_local.geometry.array)
    pairs = tree.query(points, predicate="intersects")
    cell_of = np.full(len(buildings_local), -1, dtype=np.int64)
    order = np.lexsort((pairs[1], pairs[0]))
    building_pos, cell_pos = pairs[0][order], pairs[1][order]
    first = np.unique(building_pos, return_index=True)[1]
    cell_of[building_pos[first]] = cell_pos[first]
    return cell_of


def _share_households(
    quotient: npt.NDArray[np.float64],
    cell_of: npt.NDArray[np.int64],
    weight: npt.NDArray[np.float64],
    cell_weight: npt.NDArray[np.float64],
    orphan: npt.NDArray[np.bool_],
    *,
    total: float,
    decimals: int | None,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Households per cell and per building, shared by gross floor area (``weight``).

    With ``decimals`` the shares are integer units of 10^-decimals household, by largest
    remainder over the cells (summing to ``total``) and then over each cell's buildings.
    """
    building_hh = np.zeros(len(cell_of))
    cell_hh: npt.NDArray[np.float64]
    if decimals is None:
        cell_hh = quotient
        inside = (cell_of >= 0) & (weight > 0)
        share = np.zeros(len(cell_of))
        share[inside] = weight[inside] / cell_weight[cell_of[inside]]
        building_hh[inside] = share[inside] * cell_hh[cell_of[inside]]
    else:
        scale = 10**decimals
        total_units = round(total * scale)
        cell_units = _largest_remainder(quotient * scale, total_units)
        cell_hh = cell_units / scale
        units = np.zeros(len(cell_of), dtype=np.int64)
        for c in np.flatnonzero((cell_units > 0) & ~orphan):
            members = np.flatnonzero((cell_of == c) & (weight > 0))
            quotas = cell_units[c] * weight[members] / cell_weight[c]
            units[members] = _largest_remainder(quotas, int(cell_units[c]))
        building_hh = units / scale
    return cell_hh, building_hh


def _population_method(
    residential: bool,
    building_type: str,
    c: int,
    cell_ids: list[Any],
    persons: npt.NDArray[np.float64],
    size: float,
    cell_hh: npt.NDArray[np.float64],
    cell_count: npt.NDArray[np.int64],
) -> str:
    """The ``households_method`` text of one building."""
    if not residential:
        return f"estimate:population(building={building_type} is not residential: 0 households)"
    if c < 0:
        return "estimate:population(outside every population cell: 0 households)"
    return (
        f"estimate:population(cell {cell_ids[c]!r}: {persons[c]:g} persons / {size:g} "
        f"persons per household = {cell_hh[c]:g} households, shared by gross floor area "
        f"over {cell_count[c]} residential buildings)"
    )


def _building_rows(
    buildings: gpd.GeoDataFrame,
    areas: pd.DataFrame,
    cell_of: npt.NDArray[np.int64],
    cell_ids: list[Any],
    building_hh: npt.NDArray[np.float64],
    methods: list[str],
) -> gpd.GeoDataFrame:
    """One row per input building: its cell, floor area and households."""
    out = buildings.copy()
    _warn_overwrite(buildings, (*_OUTPUT_COLUMNS, "population_cell"), "buildings layer")
    index_values = out.index
    out = out.reset_index(drop=True)
    if pd.api.types.is_integer_dtype(index_values.dtype):
        out["building_index"] = pd.array(index_values, dtype="Int64")
    else:
        out["building_index"] = pd.array([str(label) for label in index_values], dtype="string")
    out["residence_source"] = "building"
    cells = [cell_ids[c] if c >= 0 else None for c in cell_of]
    integer_ids = all(isinstance(c, int | np.integer) for c in cell_ids)
    # Integer cell ids stay integers (nullable), even when some buildings lie in no cell.
    out["population_cell"] = pd.array(cells, dtype="Int64") if integer_ids else cells
    out["footprint_m2"] = np.round(areas["footprint_m2"].to_numpy(), 1)
    out["levels"] = areas["levels"].to_numpy()
    out["levels_source"] = areas["levels_source"].to_numpy()
    out["gross_floor_area_m2"] = np.round(areas["gross_floor_area_m2"].to_numpy(), 1)
    out["households"] = building_hh
    out["households_method"] = methods
    out["households_estimated"] = True
    return out


def _cell_point_rows(
    out: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
    grid_local: gpd.GeoDataFrame,
    orphan_pos: npt.NDArray[np.intp],
    cell_ids: list[Any],
    persons: npt.NDArray[np.float64],
    size: float,
    cell_hh: npt.NDArray[np.float64],
) -> gpd.GeoDataFrame:
    """One point row per cell with people but no residential building (its households)."""
    cell_points = gpd.GeoSeries(
        shapely.point_on_surface(grid_local.geometry.array[orphan_pos]), crs=grid_local.crs
    ).to_crs(buildings.crs)
    extra = gpd.GeoDataFrame(
        {
            "building_index": pd.array([None] * orphan_pos.size, dtype=out["building_index"].dtype),
            "residence_source": "population_cell",
            "population_cell": [cell_ids[c] for c in orphan_pos],
            "households": cell_hh[orphan_pos],
            "households_method": [
                f"estimate:population(cell {cell_ids[c]!r}: {persons[c]:g} persons / "
                f"{size:g} persons per household = {cell_hh[c]:g} households; no residential "
                "building in the cell, placed at its representative point)"
                for c in orphan_pos
            ],
            "households_estimated": True,
        },
        geometry=cell_points.array,
        crs=buildings.crs,
    )
    if extra.geometry.name != out.geometry.name:
        extra = extra.rename_geometry(out.geometry.name)
    return extra
