"""The pieces the command line uses for reviews on a cluster (``--workers``, ``--scheduler``,
``batch``); the review file itself is read by the CLI's one reader (`planner.cli._config`) and
reviewed by its runners (`planner.cli._check.run_check`, `run_batch`, through
`planner.cli._cluster`).

- `cluster_client`: a `distributed.Client` on a scheduler address or a local cluster.
- `open_network_source`: a tiled network (read by halos) or a loaded one.
- `Rollup` / `area_rows`: a batch's ``rollup.csv`` and ``rollup.json``, built as each area
  finishes.
- `save_network_tiles`: ``planner network city.osm.pbf --save city.tiles --tiles 5000``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from planner.checks import CheckResult
from planner.errors import InputError
from planner.network import Network

from .tiles import TiledNetwork, is_tiled_network, save_tiles
from .units import DEFAULT_TILE_M


def open_network_source(network: str | os.PathLike[str]) -> Network | TiledNetwork:
    """A tiled network folder or URL as a `TiledNetwork`; anything else through `load_network`."""
    from planner.network import load_network

    if is_tiled_network(network):
        return TiledNetwork(network)
    return load_network(network)


@contextmanager
def cluster_client(workers: int | None = None, scheduler: str | None = None) -> Iterator[Any]:
    """A `distributed.Client`: on ``scheduler``, or on a local cluster of ``workers`` processes;
    None when neither is given (the review then runs in this process)."""
    if scheduler and workers:
        raise InputError(
            "Give --workers (a local cluster) or --scheduler (an existing one), not both."
        )
    if not scheduler and not workers:
        yield None
        return
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise InputError('Reviews on a cluster need Dask: pip install "planner[cluster]".') from exc
    if scheduler:
        with Client(scheduler, timeout=30) as client:
            yield client
        return
    if int(workers or 0) < 1:
        raise InputError(f"--workers must be at least 1, not {workers!r}.")
    with (
        LocalCluster(
            n_workers=int(workers or 1),
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",  # a free port: another cluster may hold 8787
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


class Rollup:
    """A batch's roll-up, built area by area as each finishes (`add`), then written (`write`).

    Each area leaves only its rows of ``rollup.csv`` (`area_rows`) and its summary, so a batch
    of many areas holds none of their results.
    """

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self.summaries: dict[str, dict[str, Any]] = {}
        self.passes: dict[str, bool] = {}

    def add(self, area: str, result: CheckResult) -> None:
        """Take ``area``'s rows and summary from its result (the result is not kept)."""
        self.rows.extend(area_rows(area, result, result.communities))
        self.summaries[area] = result.summary
        self.passes[area] = bool(result.passes)

    def table(self) -> pd.DataFrame:
        """``rollup.csv``'s table: every area's rows, in the order the areas were added."""
        return pd.DataFrame(self.rows)

    def write(self, target: Path) -> dict[str, Path]:
        """``rollup.csv`` (`table`) and ``rollup.json`` (each area's summary) in ``target``."""
        target.mkdir(parents=True, exist_ok=True)
        written = {"rollup_csv": target / "rollup.csv", "rollup_json": target / "rollup.json"}
        self.table().to_csv(written["rollup_csv"], index=False, float_format="%.6f")
        written["rollup_json"].write_text(
            json.dumps(
                {"areas": self.summaries, "passes": all(self.passes.values())},
                indent=2,
                ensure_ascii=False,
                default=str,
            ),
            encoding="utf-8",
        )
        return written


def area_rows(area: str, result: CheckResult, communities: Any = None) -> list[dict[str, Any]]:
    """One area's rows of the roll-up: households and coverage per required rule, for the area
    and down its community hierarchy.

    Keys: ``level`` (area, district, subdistrict, community), ``area``, ``name``,
    ``residences``, ``households``, per required rule ``coverage_rate_<key>``, then
    ``m2_per_100hh`` (the area's floor area, area row only) and ``passes`` (area row only).
    ``communities`` is the area's communities table (district and sub-district levels).
    """
    res = result.residences
    hh = res["households"].to_numpy(dtype=np.float64)
    keys = [c["key"] for c in result.summary["coverage"] if c["required"]]
    covered = {key: res[f"covered_{key}"].to_numpy(dtype=bool) for key in keys}

    def _row(level: str, name: Any, mask: np.ndarray) -> dict[str, Any]:
        total = float(hh[mask].sum())
        row: dict[str, Any] = {
            "level": level,
            "area": area,
            "name": name,
            "residences": int(mask.sum()),
            "households": total,
        }
        for key in keys:
            got = float(hh[mask & covered[key]].sum())
            row[f"coverage_rate_{key}"] = got / total if total > 0 else np.nan
        return row

    fa = result.summary["floor_area"]
    top = _row("area", area, np.ones(len(res), dtype=bool))
    top["m2_per_100hh"] = fa["m2_per_100hh"] if fa else np.nan
    top["passes"] = result.passes
    rows = [top]
    if "community_id" not in res.columns:
        return rows
    cid = res["community_id"].to_numpy()
    for level in ("district", "subdistrict"):
        if communities is None or level not in communities.columns:
            continue
        ids = (
            communities["community_id"]
            if "community_id" in communities.columns
            else communities["id"]
        )
        level_of = dict(zip(ids, communities[level], strict=True))
        values = np.array([level_of.get(c) for c in cid], dtype=object)
        for value in sorted({v for v in values if v is not None}, key=str):
            rows.append(_row(level, value, values == value))
    for c in sorted({c for c in cid if c is not None}, key=str):
        rows.append(_row("community", c, cid == c))
    return rows


def save_network_tiles(
    source: str | os.PathLike[str],
    folder: str | os.PathLike[str],
    *,
    tile_m: float = DEFAULT_TILE_M,
) -> Path:
    """``planner network SOURCE --save FOLDER --tiles TILE_M``: load (or open) and write tiles."""
    from planner.network import load_network

    return save_tiles(load_network(source), folder, tile_m=tile_m)


__all__ = [
    "Rollup",
    "area_rows",
    "cluster_client",
    "open_network_source",
    "save_network_tiles",
]
