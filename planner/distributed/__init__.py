"""Reviews past one machine: the review split into units, run on Dask, merged exactly.

- `planner.distributed.units`: units (square tiles, or communities / sub-districts / districts)
  and their halos (largest walk threshold + snap cap): a walk is never shorter than the straight
  line, so the split is exact.
- `planner.distributed.review`: the plan, one unit's task (`review_unit`) and the merge into the
  `planner.CheckResult` of the whole review (with both rounds of the two-step catchment over
  every unit's pairs).
- `planner.distributed.tiles`: the network as a partitioned GeoParquet dataset; a task reads only
  the tiles its halo touches.
- `planner.distributed.cluster`: `check(..., client=)` on a `distributed.Client` (or in this
  process when no client is given).
- `planner.distributed.runner`: the cluster client, network source and batch roll-up the CLI
  uses (``--workers``, ``--scheduler``, ``batch``).

What differs from `planner.check`: walks longer than the largest threshold of the review are
given as ``inf`` ("more than X m", X in ``residences.attrs["walks_exact_to_m"]``) with no
nearest facility, in the residence table and the gap list; every other figure, every verdict
and the summary are identical (`censor_walks` turns a single-process result into the same form).
Served areas (isochrones) are not drawn, and ``allocation="nearest"`` is refused.
"""

from __future__ import annotations

from planner.distributed.cluster import UnitFailure, check
from planner.distributed.compare import censor_walks
from planner.distributed.review import (
    ReviewPlan,
    UnitError,
    UnitResult,
    merge,
    plan_review,
    review_unit,
)
from planner.distributed.units import InMemoryNetwork, Unit, community_units, tile_units

__all__ = [
    "InMemoryNetwork",
    "ReviewPlan",
    "Unit",
    "UnitError",
    "UnitFailure",
    "UnitResult",
    "censor_walks",
    "check",
    "community_units",
    "merge",
    "plan_review",
    "review_unit",
    "tile_units",
]
