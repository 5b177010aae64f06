"""Run a split review in this process or on a Dask cluster (``dask.distributed``).

`check` plans the review (`plan_review`), sends one task per unit and merges (the merge runs
both rounds of the two-step catchment over every unit's pairs). With ``client=None`` the units
run here, one after the other (the same code path as on a cluster, for tests and small areas).
With a
`distributed.Client` the network source is sent to every worker once (an in-memory network is
sent whole; a `TiledNetwork` is only a path, and each task reads its own tiles), each unit is a
task retried ``retries`` times, and units that still fail are reported by name in a
`UnitFailure` that keeps the other units' results. Each result is released on the cluster as
soon as the client has it, so a worker holds one task's data at a time, however large the
area.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd

from planner.checks import CheckResult
from planner.errors import PlannerError
from planner.network import Network

from .review import (
    NetworkSource,
    ReviewPlan,
    UnitResult,
    UnitTask,
    merge,
    plan_review,
    review_unit,
)
from .units import DEFAULT_TILE_M, InMemoryNetwork

log = logging.getLogger(__name__)


class UnitFailure(PlannerError):
    """Some units failed; ``failed`` maps each one's name to its error, ``results`` holds the
    others' results (`UnitResult`) and ``plan`` the review they belong to."""

    def __init__(self, failed: dict[str, str], results: list[UnitResult], plan: ReviewPlan) -> None:
        names = ", ".join(list(failed)[:10])
        more = f" and {len(failed) - 10} more" if len(failed) > 10 else ""
        first = next(iter(failed.values()))
        super().__init__(
            f"{len(failed)} of {len(plan.units)} units failed ({names}{more}); the other "
            f"{len(results)} were reviewed. First error: {first}"
        )
        self.failed = failed
        self.results = results
        self.plan = plan


@dataclass
class RunStats:
    """Per-task figures of a run (for the bench): seconds and halo sizes per unit."""

    task_s: dict[str, float] = field(default_factory=dict)
    halo_nodes: dict[str, int] = field(default_factory=dict)
    wall_s: float = 0.0


def as_source(network: Network | NetworkSource) -> NetworkSource:
    """A network source: a `Network` is wrapped in `InMemoryNetwork`, a source passes through."""
    if isinstance(network, Network):
        return InMemoryNetwork(network)
    return network


def _timed_review(source: NetworkSource, task: UnitTask) -> tuple[UnitResult, float]:
    start = time.perf_counter()
    result = review_unit(source, task)
    return result, time.perf_counter() - start


def check(
    network: Network | NetworkSource,
    facilities: gpd.GeoDataFrame,
    residences: gpd.GeoDataFrame,
    *,
    client: Any = None,
    tile_m: float = DEFAULT_TILE_M,
    unit_level: str | None = None,
    retries: int = 1,
    progress: bool = False,
    stats: RunStats | None = None,
    on_unit: Callable[[str, float], None] | None = None,
    **options: Any,
) -> CheckResult:
    """`planner.check`, split into units and run in this process or on a Dask cluster.

    Parameters
    ----------
    network
        A `Network` (sent whole to each worker), or a source such as `TiledNetwork` from which
        each task reads only its halo.
    facilities, residences
        As for `planner.check`.
    client
        A `distributed.Client`; None runs the units here.
    tile_m
        Side of the square tiles, metres (units without communities, and residences outside
        every community).
    unit_level
        With ``communities=``: None for one unit per community, or a column of the
        communities layer (``"subdistrict"``, ``"district"``) for one unit per value.
    retries
        How many times a failed task is retried on the cluster.
    progress
        Draw the cluster's progress bar in the terminal.
    stats
        Filled with per-task seconds and halo sizes.
    on_unit
        Called with each unit's name and seconds as it finishes.
    **options
        ``standard``, ``communities``, ``speed_kmh``, ``allocation`` (catchment or community),
        ``snap_cap_m``, ``buffer_m``, ``inputs``: as for `planner.check`.

    Returns
    -------
    CheckResult
        The same tables and summary as `planner.check`, walks longer than the largest
        threshold given as ``inf`` (see `planner.distributed`); no isochrones.

    Raises
    ------
    UnitFailure
        Units that failed, by name; the others' results are in the exception.
    """
    started = time.perf_counter()
    options.pop("isochrones", None)  # no served areas on a cluster (see the module docs)
    options.pop("isochrone_polygons", None)
    source = as_source(network)
    plan = plan_review(
        source, facilities, residences, tile_m=tile_m, unit_level=unit_level, **options
    )
    tasks = plan.tasks()
    log.info(
        "Reviewing %d residences in %d units (halo %.0f m) %s",
        len(plan.res),
        len(tasks),
        plan.halo_m,
        "in this process" if client is None else f"on {client}",
    )
    if client is None:
        done, failed = _run_here(source, tasks, on_unit)
    else:
        done, failed = _run_on_cluster(client, source, tasks, retries, progress, on_unit)
    results = [r for r, _ in done]
    if failed:
        raise UnitFailure(failed, results, plan)
    if stats is not None:
        stats.task_s.update({r.name: s for r, s in done})
        stats.halo_nodes.update({r.name: r.nodes for r, _ in done})
    result = merge(
        plan,
        results,
        network=source.network if isinstance(source, InMemoryNetwork) else None,
    )
    if stats is not None:
        stats.wall_s = time.perf_counter() - started
    return result


def _run_here(
    source: NetworkSource,
    tasks: list[UnitTask],
    on_unit: Callable[[str, float], None] | None,
) -> tuple[list[tuple[UnitResult, float]], dict[str, str]]:
    done, failed = [], {}
    for task in tasks:
        try:
            result = _timed_review(source, task)
        except Exception as exc:  # a unit fails alone; the others go on
            failed[task.name] = str(exc)
            continue
        done.append(result)
        if on_unit is not None:
            on_unit(task.name, result[1])
    return done, failed


def _run_on_cluster(
    client: Any,
    source: NetworkSource,
    tasks: list[UnitTask],
    retries: int,
    progress: bool,
    on_unit: Callable[[str, float], None] | None,
) -> tuple[list[tuple[UnitResult, float]], dict[str, str]]:
    import uuid

    from distributed import as_completed

    run = uuid.uuid4().hex[:8]
    [source_f] = client.scatter([source], broadcast=True, hash=False)
    futures = client.map(
        _timed_review,
        [source_f] * len(tasks),
        tasks,
        retries=retries,
        pure=False,
        key=[f"planner-unit-{run}-{i}" for i in range(len(tasks))],
    )
    if progress:
        from distributed import progress as progress_bar

        progress_bar(futures)
    position = {f.key: i for i, f in enumerate(futures)}
    finished = as_completed(futures)
    del futures  # each result is released on the cluster once the client holds it
    done: list[tuple[UnitResult, float] | None] = [None] * len(tasks)
    errors: dict[int, str] = {}
    for future in finished:
        i = position[future.key]
        if future.status == "error":
            errors[i] = str(future.exception())
        else:
            done[i] = future.result()
            if on_unit is not None:
                on_unit(tasks[i].name, done[i][1])  # type: ignore[index]
        future.release()
    failed = {tasks[i].name: errors[i] for i in sorted(errors)}  # in unit order, as here
    return [d for d in done if d is not None], failed
