"""``planner check --workers N | --scheduler ADDRESS`` and ``planner batch``: reviews on Dask.

The review is read and written exactly as ``planner check`` does (`planner.cli._check`); only
the computation is split into units and sent to the cluster (`planner.distributed`). Each unit
finished is a line in the terminal (none with ``--quiet``); a unit that fails for its data
stops the review with exit 2 and its name, after the others have finished.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from planner.cli._config import Settings
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
            "cluster) or scheduler (an existing one), not both.",
            zh=f"{config.where('workers')} 和 {config.where('scheduler')}：请给出 workers"
            "（本机集群）或 scheduler（已有集群）之一，不能都给。",
        )
    if scheduler is not None and not str(scheduler).startswith(_ADDRESS):
        raise InputError(
            f"{config.where('scheduler')} {scheduler!r}: not a scheduler address; give one "
            "such as tcp://host:8786.",
            zh=f"{config.where('scheduler')} {scheduler!r}：不是调度器地址；"
            "请给出例如 tcp://host:8786 的地址。",
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
            f"could not be reached or started ({exc}).",
            zh=f"{config.where('scheduler') if scheduler else '--workers'}："
            f"无法连接或启动 Dask 集群（{exc}）。",
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


__all__ = ["cluster_for", "open_source", "split_check"]
