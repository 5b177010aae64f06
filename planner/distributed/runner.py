"""What the command line calls for reviews on a cluster (``--workers``, ``--scheduler``, ``batch``).

- `run_check_distributed`: ``planner check --config R.toml --workers N`` (a local cluster of N
  worker processes) or ``--scheduler tcp://host:8786`` (an existing one); ``scheduler = "..."``
  or ``workers = N`` in the review file do the same. Writes the review's outputs.
- `run_batch`: ``planner batch A.toml B.toml ... [--workers N | --scheduler ...]``: each area's
  own outputs, and one roll-up (``rollup.csv``, ``rollup.json``) of every area and community.
- `save_network_tiles`: ``planner network city.osm.pbf --save city.tiles --tiles 5000``.

The review file is the one of ``planner check`` (paths relative to it), plus the optional keys
``scheduler``, ``workers``, ``tile_m`` and ``unit_level``.
"""

from __future__ import annotations

import json
import logging
import os
import tomllib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from planner.checks import CheckResult
from planner.errors import InputError
from planner.network import Network
from planner.schema import DEFAULT_BUFFER_M, DEFAULT_SNAP_CAP_M, DEFAULT_STANDARD

from .cluster import check
from .tiles import TiledNetwork, is_tiled_network, save_tiles
from .units import DEFAULT_TILE_M

log = logging.getLogger(__name__)

PATH_KEYS = ("network", "facilities", "residences", "communities", "out")
CLUSTER_KEYS = ("scheduler", "workers", "tile_m", "unit_level")
"""Review-file keys this module adds to ``planner check``'s."""


@dataclass
class Review:
    """A review file read: its layers, `check` options and cluster settings."""

    path: Path | None
    config: dict[str, Any]
    network: str
    facilities: Any
    residences: Any
    communities: Any
    options: dict[str, Any]
    out: Path | None
    cluster: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The area's name: the review file's folder (or the file's stem for review.toml-less)."""
        if self.path is None:
            return "review"
        return self.path.parent.name if self.path.stem == "review" else self.path.stem


def load_review(config: str | os.PathLike[str] | dict[str, Any]) -> Review:
    """Read a review file (or an already merged config dict) and its layers."""
    from planner import layers
    from planner._files import file_sha256

    path: Path | None = None
    if isinstance(config, dict):
        conf = dict(config)
    else:
        path = Path(config)
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise InputError(f"{path}: review file not found.") from exc
        except tomllib.TOMLDecodeError as exc:
            raise InputError(f"{path}: not valid TOML ({exc}).") from exc
        conf = {
            k: (str((path.parent / v).resolve()) if k in PATH_KEYS and v else v)
            for k, v in raw.items()
        }
    missing = [k for k in ("network", "facilities", "residences") if not conf.get(k)]
    if missing:
        raise InputError(f"{path or 'the review'}: needs {', '.join(missing)}.")
    columns = dict(conf.get("columns", {}))
    common = {
        "crs": conf.get("crs"),
        "encoding": conf.get("encoding"),
        "lon_col": columns.get("lon"),
        "lat_col": columns.get("lat"),
        "id_col": columns.get("id", "id"),
        "name_col": columns.get("name", "name"),
    }
    facilities = layers.read_facilities(
        conf["facilities"],
        **common,
        category_col=columns.get("category", "category"),
        floor_area_col=columns.get("floor_area_m2", "floor_area_m2"),
    )
    residences = layers.read_residences(
        conf["residences"], households_col=columns.get("households", "households"), **common
    )
    communities = None
    if conf.get("communities"):
        communities = layers.read_communities(
            conf["communities"],
            crs=common["crs"],
            encoding=common["encoding"],
            id_col=common["id_col"],
            name_col=common["name_col"],
            households_col=columns.get("households", "households"),
        )
    inputs = {}
    for key in ("network", "facilities", "residences", "communities"):
        if conf.get(key) and Path(conf[key]).is_file():
            inputs[key] = {"path": str(conf[key]), "sha256": file_sha256(conf[key])}
    options = {
        "standard": conf.get("standard", DEFAULT_STANDARD),
        "communities": communities,
        "speed_kmh": float(conf["speed_kmh"]) if "speed_kmh" in conf else None,
        "allocation": conf.get("allocation", "catchment"),
        "snap_cap_m": float(conf.get("snap_cap_m", DEFAULT_SNAP_CAP_M)),
        "buffer_m": float(conf.get("buffer_m", DEFAULT_BUFFER_M)),
        "inputs": inputs,
    }
    return Review(
        path=path,
        config=conf,
        network=str(conf["network"]),
        facilities=facilities,
        residences=residences,
        communities=communities,
        options=options,
        out=Path(conf["out"]) if conf.get("out") else None,
        cluster={k: conf[k] for k in CLUSTER_KEYS if k in conf},
    )


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


def run_check_distributed(
    config: str | os.PathLike[str] | dict[str, Any] | Review,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    tile_m: float | None = None,
    unit_level: str | None = None,
    out: str | os.PathLike[str] | None = None,
    progress: bool = False,
    map_html: bool = True,
    lang: str | None = None,
    basemap: str | None = None,
    tianditu_key: str | None = None,
    client: Any = None,
) -> CheckResult:
    """Review one area on a cluster and write its outputs (``planner check --workers/--scheduler``).

    Flags override the review file's ``workers``, ``scheduler``, ``tile_m`` and ``unit_level``.
    With neither workers nor scheduler, the split review runs in this process. Outputs go to
    ``out`` (else the file's ``out``; nothing is written when neither is given). The exit code
    is ``planner.outputs.exit_code(result.summary)``.
    """
    review = config if isinstance(config, Review) else load_review(config)
    settings = review.cluster
    scheduler = scheduler or settings.get("scheduler")
    workers = workers or settings.get("workers")
    if scheduler and not (scheduler or "").startswith(("tcp://", "tls://", "inproc://", "ws")):
        raise InputError(
            f"--scheduler needs an address such as tcp://host:8786, not {scheduler!r}."
        )
    source = open_network_source(review.network)
    split: dict[str, Any] = {
        "tile_m": float(tile_m or settings.get("tile_m", DEFAULT_TILE_M)),
        "unit_level": unit_level or settings.get("unit_level"),
        "progress": progress,
    }
    if client is not None:
        result = check(
            source, review.facilities, review.residences, client=client, **split, **review.options
        )
    else:
        with cluster_client(workers, scheduler) as c:
            result = check(
                source, review.facilities, review.residences, client=c, **split, **review.options
            )
    target = Path(out) if out is not None else review.out
    if target is not None:
        import warnings

        from planner.outputs import write_review

        # GeoJSON has no infinity: GDAL leaves the walks beyond the threshold out of
        # residences.geojson (null), with a RuntimeWarning per file; the CSV says inf.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "NaN of Infinity", RuntimeWarning)
            write_review(
                result,
                target,
                lang=lang or review.config.get("lang", "zh"),
                basemap=basemap or review.config.get("basemap", "osm"),
                tianditu_key=tianditu_key,
                map_html=map_html,
            )
    return result


@dataclass
class BatchResult:
    """The areas of a batch: each one's result, and the roll-up of them all."""

    results: dict[str, CheckResult]
    rollup: pd.DataFrame
    paths: dict[str, Path]

    @property
    def passes(self) -> bool:
        """Whether every area passes."""
        return all(r.passes for r in self.results.values())


def run_batch(
    paths: Sequence[str | os.PathLike[str]],
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    out: str | os.PathLike[str] | None = None,
    tile_m: float | None = None,
    map_html: bool = True,
    progress: bool = False,
) -> BatchResult:
    """Review many areas on one cluster (``planner batch REVIEW.toml...``).

    Each area writes its own outputs (its review file's ``out``); the roll-up goes to ``out``
    (default: the parent folder of the first area's outputs) as ``rollup.csv`` and
    ``rollup.json``: one row per area, then per district, sub-district and community where the
    review has communities (levels from the communities layer's ``district`` and
    ``subdistrict`` columns when present).
    """
    if not paths:
        raise InputError("planner batch needs at least one review file.")
    reviews = [load_review(p) for p in paths]
    names = [r.name for r in reviews]
    if len(set(names)) != len(names):
        names = [f"{i + 1}:{n}" for i, n in enumerate(names)]
    results: dict[str, CheckResult] = {}
    with cluster_client(workers, scheduler) as client:
        for name, review in zip(names, reviews, strict=True):
            log.info("Area %s (%s)", name, review.path)
            results[name] = run_check_distributed(
                review, client=client, tile_m=tile_m, map_html=map_html, progress=progress
            )
    layers = {n: r.communities for n, r in zip(names, reviews, strict=True)}
    first_out = next((r.out for r in reviews if r.out is not None), None)
    target = Path(out) if out is not None else (first_out.parent if first_out else Path.cwd())
    written = write_rollup(results, layers, target)
    rollup = rollup_table(results, layers)
    return BatchResult(results=results, rollup=rollup, paths=written)


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
    "BatchResult",
    "Review",
    "cluster_client",
    "load_review",
    "open_network_source",
    "rollup_table",
    "run_batch",
    "run_check_distributed",
    "save_network_tiles",
    "write_rollup",
]
