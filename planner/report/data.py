"""A written review folder, read back: the summary and the tables and layers beside it.

The report is built from these files alone, so ``planner report REVIEW_FOLDER`` rebuilds it
without rerunning the review. Every file but ``summary.json`` is optional; a section of the
report appears only when its data is there.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from planner.errors import InputError


@dataclass
class Review:
    """What a review folder holds (``None`` for what it does not)."""

    folder: Path
    summary: dict[str, Any]
    residences: gpd.GeoDataFrame | None = None
    facilities: gpd.GeoDataFrame | None = None
    isochrones: gpd.GeoDataFrame | None = None
    gaps: pd.DataFrame | None = None
    communities: pd.DataFrame | None = None
    community_shapes: gpd.GeoDataFrame | None = None
    subdistricts: pd.DataFrame | None = None
    districts: pd.DataFrame | None = None
    proposal: dict[str, Any] | None = None
    proposals: gpd.GeoDataFrame | None = None
    expansions: pd.DataFrame | None = None

    # -- the rules ----------------------------------------------------------------------------
    @property
    def coverage(self) -> list[dict[str, Any]]:
        return [dict(c) for c in self.summary.get("coverage") or () if isinstance(c, dict)]

    @property
    def required(self) -> list[dict[str, Any]]:
        """The coverage rules the verdict depends on."""
        return [c for c in self.coverage if c.get("required", True)]

    @property
    def measured(self) -> list[dict[str, Any]]:
        return [c for c in self.coverage if not c.get("required", True)]

    @property
    def floor_area(self) -> list[dict[str, Any]]:
        """The floor-area checks: one dict today, a list when a standard has several."""
        fa = self.summary.get("floor_area")
        if isinstance(fa, dict):
            return [fa]
        if isinstance(fa, list):
            return [dict(f) for f in fa if isinstance(f, dict)]
        return []

    def rule_keys(self) -> list[str]:
        """Rule keys as the community table names them (``coverage_ok_<key>``...)."""
        keys = [str(c.get("key", c.get("category"))) for c in self.required]
        for fa in self.floor_area:
            key = str(fa.get("key", fa.get("category")))
            if key not in keys:
                keys.append(key)
        return keys


def _read_json(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(
            f"{path}: not readable as JSON ({exc}); rerun the review.",
            zh=f"{path}：无法作为 JSON 读取（{exc}）；请重新运行评估。",
        ) from exc
    if not isinstance(value, dict):
        raise InputError(
            f"{path}: expected a JSON object; rerun the review.",
            zh=f"{path}：应为 JSON 对象；请重新运行评估。",
        )
    return value


def _read_layer(folder: Path, *names: str) -> gpd.GeoDataFrame | None:
    for name in names:
        path = folder / name
        if path.is_file():
            frame = gpd.read_file(path, engine="pyogrio")
            if frame.crs is None:
                frame = frame.set_crs(4326)
            return frame.to_crs(4326)
    return None


def _read_csv(path: Path) -> pd.DataFrame | None:
    if not path.is_file():
        return None
    return pd.read_csv(path, encoding="utf-8", keep_default_na=True)


def _records(value: Any) -> pd.DataFrame | None:
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        return pd.DataFrame(value)
    return None


def read_review(review_dir: str | Path) -> Review:
    """Read a review folder written by ``planner check`` (or ``planner propose``).

    Raises
    ------
    InputError
        The folder or its ``summary.json`` is missing or unreadable.
    """
    folder = Path(review_dir)
    if not folder.is_dir():
        raise InputError(
            f"{folder}: no such review folder; run `planner check --out {folder}`.",
            zh=f"{folder}：没有这个评估文件夹；请运行 `planner check --out {folder}`。",
        )
    summary = _read_json(folder / "summary.json")
    if summary is None:
        raise InputError(
            f"{folder}: no summary.json here; a report is built from a written review "
            f"(`planner check --out {folder}`).",
            zh=f"{folder}：这里没有 summary.json；报告由已写出的评估生成"
            f"（`planner check --out {folder}`）。",
        )
    review = Review(folder=folder, summary=summary)
    review.residences = _read_layer(folder, "residences.gpkg", "residences.geojson")
    review.facilities = _read_layer(folder, "facilities.gpkg")
    review.isochrones = _read_layer(folder, "isochrones.gpkg")
    review.gaps = _read_csv(folder / "gaps.csv")
    review.communities = _read_csv(folder / "communities.csv")
    if review.communities is None:
        review.communities = _records(summary.get("communities"))
    review.community_shapes = _read_layer(folder, "communities.gpkg", "communities.geojson")
    if review.communities is None and review.community_shapes is not None:
        # An older review: communities.gpkg without the verdict table; its columns still print.
        review.communities = pd.DataFrame(review.community_shapes.drop(columns="geometry"))
    review.subdistricts = _read_csv(folder / "subdistricts.csv")
    if review.subdistricts is None:
        review.subdistricts = _records(summary.get("subdistricts"))
    review.districts = _read_csv(folder / "districts.csv")
    if review.districts is None:
        review.districts = _records(summary.get("districts"))
    review.proposal = _read_json(folder / "proposal.json")
    if review.proposal is not None:
        review.proposals = _read_layer(folder, "proposals.gpkg")
        review.expansions = _read_csv(folder / "expansions.csv")
    return review


def is_missing(value: Any) -> bool:
    """None, NaN, pandas' NA or an empty string."""
    if value is None or value is pd.NA:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def as_bool(value: Any) -> bool | None:
    """A flag as the tables write it (True/False, 1/0, "true"/"false"), or None."""
    if is_missing(value):
        return None
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("true", "1", "yes", "1.0"):
            return True
        if text in ("false", "0", "no", "0.0"):
            return False
        return None
    try:
        return bool(float(value))
    except (TypeError, ValueError):
        return None


def as_float(value: Any) -> float | None:
    if is_missing(value):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


__all__ = ["Review", "as_bool", "as_float", "is_missing", "read_review"]
