"""``planner check --workers N | --scheduler ADDRESS`` and ``planner batch``: reviews on Dask.

The review is read and written exactly as ``planner check`` does (`planner.cli._check`); only
the computation is split into units and sent to the cluster (`planner.distributed`). Each unit
finished is a line in the terminal (none with ``--quiet``); a unit that fails for its data
stops the review with exit 2 and its name, after the others have finished.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from planner.cli._config import Settings, settings
from planner.cli._guards import writable_folder
from planner.cli._terminal import log, reading
from planner.errors import InputError

_ADDRESS = ("tcp://", "tls://", "inproc://", "ws://", "wss://", "ucx://")


@contextmanager
def cluster_for(config: Settings) -> Iterator[Any]:
    """The `distributed.Client` the settings ask for (``workers`` or ``scheduler``)."""
    from planner.distributed.runner import cluster_client

    scheduler = config.get("scheduler")
    workers = config.get("workers")
    if scheduler is not None and workers is not None:
        raise InputError(
            f"{config.where('workers')} and {config.where('scheduler')}: give workers (a local "
            "cluster) or scheduler (an existing one), not both."
        )
    if scheduler is not None and not str(scheduler).startswith(_ADDRESS):
        raise InputError(
            f"{config.where('scheduler')} {scheduler!r}: not a scheduler address; give one "
            "such as tcp://host:8786."
        )
    if scheduler is not None:
        log.info("Connecting to the Dask scheduler at %s", scheduler)
    else:
        log.info("Starting a local Dask cluster of %d workers", workers)
    try:
        with cluster_client(workers, scheduler) as client:
            yield client
    except OSError as exc:  # no scheduler there, or it went away
        raise InputError(
            f"{config.where('scheduler') if scheduler else '--workers'}: the Dask cluster "
            f"could not be reached or started ({exc})."
        ) from exc


def open_source(config: Settings) -> Any:
    """The review's network: a tiled network (only halos are read) or a loaded one."""
    from planner.distributed.runner import open_network_source

    path = str(config.get("network"))
    log.info("Opening the walking network %s", path)
    with reading(config.command, config.where("network"), path):
        return open_network_source(path)


def split_check(config: Settings, client: Any) -> Callable[..., Any]:
    """`planner.check`'s signature, split into units and run on ``client`` (or here)."""
    from planner.distributed import check

    def unit_done(name: str, seconds: float) -> None:
        done[0] += 1
        log.info("  unit %s reviewed (%d done, %.1f s)", name, done[0], seconds)

    done = [0]

    def run(network: Any, facilities: Any, residences: Any, **options: Any) -> Any:
        done[0] = 0
        return check(
            network,
            facilities,
            residences,
            client=client,
            tile_m=float(config.get("tile_m", 5000.0)),
            unit_level=config.get("unit_level"),
            on_unit=unit_done,
            **options,
        )

    return run


def run_batch(config: Settings) -> int:
    """Each review file's outputs, then ``rollup.csv`` / ``rollup.json`` of every area."""
    from planner.cli._check import review_and_write
    from planner.distributed.runner import write_rollup
    from planner.outputs import exit_code

    started = time.perf_counter()
    paths = [Path(p) for p in config.get("review", [])]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise InputError(f"planner batch: review file not found: {', '.join(missing)}.")
    areas = [settings(argparse.Namespace(config=str(p)), "check") for p in paths]
    for area in areas:
        for name in ("workers", "scheduler", "tile_m", "unit_level", "quiet"):
            if name in config:
                area.values[name] = config.get(name)
                area.origins[name] = config.where(name)
        if "out" not in area:
            raise InputError(f"{area.config}: needs out (the folder of this area's outputs).")
    names = [_area_name(a.config) for a in areas]
    if len(set(names)) != len(names):
        names = [f"{i + 1}:{n}" for i, n in enumerate(names)]
    target = (
        Path(config.get("out")) if "out" in config else Path(areas[0].get("out")).resolve().parent
    )
    results: dict[str, Any] = {}
    communities: dict[str, Any] = {}
    with _client(config) as client:
        for name, area in zip(names, areas, strict=True):
            log.info("Area %s (%s)", name, area.config)
            results[name] = review_and_write(area, client=client)
            communities[name] = results[name].communities
    config.values.setdefault("out", str(target))
    writable_folder(config, "out")
    written = write_rollup(results, communities, target)
    passes = all(r.passes for r in results.values())
    print(
        f"{len(results)} areas: {sum(r.passes for r in results.values())} pass; roll-up in "
        f"{written['rollup_csv']}"
    )
    log.info("Batch done (%.1f s)", time.perf_counter() - started)
    return exit_code({"passes": passes})


@contextmanager
def _client(config: Settings) -> Iterator[Any]:
    if "workers" in config or "scheduler" in config:
        with cluster_for(config) as client:
            yield client
    else:
        yield None


def _area_name(path: Path | None) -> str:
    if path is None:
        return "review"
    return path.parent.name if path.stem == "review" else path.stem


__all__ = ["cluster_for", "open_source", "run_batch", "split_check"]
