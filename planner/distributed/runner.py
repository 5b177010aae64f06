"""The pieces the command line uses for reviews on a cluster (``--workers``, ``--scheduler``,
``batch``); the review file itself is read by the CLI's one reader (`planner.cli._config`) and
reviewed by its runners (`planner.cli._check.run_check`, `run_batch`, through
`planner.cli._cluster`).

- `cluster_client`: a `distributed.Client` on a scheduler address or a local cluster.
- `open_network_source`: a tiled network (read by halos) or a loaded one.
- `write_rollup` / `rollup_table`: a batch's ``rollup.csv`` and ``rollup.json``.
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


def write_rollup(
    results: dict[str, CheckResult], communities: dict[str, Any], target: Path
) -> dict[str, Path]:
    """``rollup.csv`` (`rollup_table`) and ``rollup.json`` (each area's summary) in ``target``."""
    target.mkdir(parents=True, exist_ok=True)
    written = {"rollup_csv": target / "rollup.csv", "rollup_json": target / "rollup.json"}
    rollup_table(results, communities).to_csv(
        written["rollup_csv"], index=False, float_format="%.6f"
    )
    written["rollup_json"].write_text(
        json.dumps(
            {
                "areas": {n: r.summary for n, r in results.items()},
                "passes": all(r.passes for r in results.values()),
            },
            indent=2,
            ensure_ascii=False,
            default=str,
        ),
        encoding="utf-8",
    )
    return written


def rollup_table(
    results: dict[str, CheckResult], communities: dict[str, Any] | None = None
) -> pd.DataFrame:
    """Households and coverage per required rule, per area and down the community hierarchy.

    Columns: ``level`` (area, district, subdistrict, community), ``area``, ``name``,
    ``residences``, ``households``, per required rule ``coverage_rate_<key>``, then
    ``m2_per_100hh`` (the area's floor area, areas only) and ``passes`` (areas only).
    """
    rows: list[dict[str, Any]] = []
    for area, result in results.items():
        res = result.residences
        hh = res["households"].to_numpy(dtype=np.float64)
        keys = [c["key"] for c in result.summary["coverage"] if c["required"]]
        fa = result.summary["floor_area"]

        def _row(
            level: str,
            name: Any,
            mask: np.ndarray,
            area: str = area,
            keys: list[str] = keys,
            hh: np.ndarray = hh,
            res: Any = res,
        ) -> dict[str, Any]:
            total = float(hh[mask].sum())
            row: dict[str, Any] = {
                "level": level,
                "area": area,
                "name": name,
                "residences": int(mask.sum()),
                "households": total,
            }
            for key in keys:
                got = float(hh[mask & res[f"covered_{key}"].to_numpy(dtype=bool)].sum())
                row[f"coverage_rate_{key}"] = got / total if total > 0 else np.nan
            return row

        top = _row("area", area, np.ones(len(res), dtype=bool))
        top["m2_per_100hh"] = fa["m2_per_100hh"] if fa else np.nan
        top["passes"] = result.passes
        rows.append(top)
        if "community_id" not in res.columns:
            continue
        comm = (communities or {}).get(area)
        cid = res["community_id"].to_numpy()
        for level in ("district", "subdistrict"):
            if comm is None or level not in comm.columns:
                continue
            ids = comm["community_id"] if "community_id" in comm.columns else comm["id"]
            level_of = dict(zip(ids, comm[level], strict=True))
            values = np.array([level_of.get(c) for c in cid], dtype=object)
            for value in sorted({v for v in values if v is not None}, key=str):
                rows.append(_row(level, value, values == value))
        for c in sorted({c for c in cid if c is not None}, key=str):
            rows.append(_row("community", c, cid == c))
    return pd.DataFrame(rows)


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
    "cluster_client",
    "open_network_source",
    "rollup_table",
    "save_network_tiles",
    "write_rollup",
]
