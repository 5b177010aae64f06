"""Reviews side by side: `compare` (scenarios) and `compare_summaries` (before/after a plan)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from planner.checks import CheckResult


def compare_summaries(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Before/after figures of a proposed plan, side by side."""
    rows = []
    after_cov = {c["key"]: c for c in after["coverage"]}
    for c in before["coverage"]:
        a = after_cov.get(c["key"])
        if a is None:
            continue
        rows.append(
            {
                "key": c["key"],
                "rate_before": c["rate"],
                "rate_after": a["rate"],
                "households_covered_before": c["households_covered"],
                "households_covered_after": a["households_covered"],
                "passes_before": c["passes"],
                "passes_after": a["passes"],
            }
        )
    fa_b, fa_a = before.get("floor_area"), after.get("floor_area")
    floor = None
    if fa_b is not None and fa_a is not None:
        floor = {
            "m2_per_100hh_before": fa_b["m2_per_100hh"],
            "m2_per_100hh_after": fa_a["m2_per_100hh"],
            "shortfall_m2_before": fa_b["shortfall_m2"],
            "shortfall_m2_after": fa_a["shortfall_m2"],
            "passes_before": fa_b["passes"],
            "passes_after": fa_a["passes"],
        }
    return {
        "passes_before": before["passes"],
        "passes_after": after["passes"],
        "coverage": rows,
        "floor_area": floor,
    }


def compare(results: Mapping[str, CheckResult]) -> pd.DataFrame:
    """Figures of several reviews side by side (e.g. today, with a new centre, at 3.6 km/h).

    Parameters
    ----------
    results
        Scenario name to its `CheckResult`.

    Returns
    -------
    pandas.DataFrame
        A row per measure, a column per scenario (in the order given). The index has two
        levels: ``check`` (a rule key, or ``floor_area_<category>``) and ``measure``: for a
        coverage rule ``required``, ``speed_kmh``, ``max_walk_m``, ``households``,
        ``households_covered``, ``rate``, ``passes``; for the floor area ``speed_kmh``,
        ``max_walk_m``, ``households``, ``m2_per_100hh``, ``shortfall_m2``, ``passes``; and
        ``overall``/``passes``, the review's verdict. A check a scenario does not have is NaN.

    Examples
    --------
    >>> import planner
    >>> network = planner.load_network("data/cn_beijing_haidian_cau_map.osm.bz2")
    >>> facilities = planner.read_facilities("data/haidian/facilities.gpkg")
    >>> residences = planner.read_residences("data/haidian/residences.gpkg")
    >>> today = planner.check(network, facilities, residences)
    >>> elderly = planner.check(network, facilities, residences, speed_kmh=3.6)
    >>> table = planner.compare({"4.0 km/h": today, "3.6 km/h": elderly})
    >>> table.loc[("community_service", "max_walk_m")].tolist()
    [1000.0, 900.0]
    """
    columns: dict[str, dict[tuple[str, str], Any]] = {}
    order: dict[tuple[str, str], None] = {}
    for scenario, result in results.items():
        figures: dict[tuple[str, str], Any] = {}
        speed = result.summary["parameters"]["speed_kmh"]
        for c in result.summary["coverage"]:
            for measure, value in (
                ("required", c["required"]),
                ("speed_kmh", speed),
                ("max_walk_m", c["max_walk_m"]),
                ("households", c["households_total"]),
                ("households_covered", c["households_covered"]),
                ("rate", c["rate"]),
                ("passes", c["passes"]),
            ):
                figures[(c["key"], measure)] = value
        fa = result.summary["floor_area"]
        if fa is not None:
            check_key = f"floor_area_{fa['category']}"
            for measure, value in (
                ("speed_kmh", speed),
                ("max_walk_m", fa["max_walk_m"]),
                ("households", fa["households"]),
                ("m2_per_100hh", fa["m2_per_100hh"]),
                ("shortfall_m2", fa["shortfall_m2"]),
                ("passes", fa["passes"]),
            ):
                figures[(check_key, measure)] = value
        figures[("overall", "passes")] = result.summary["passes"]
        order.update(dict.fromkeys(figures))
        columns[str(scenario)] = figures
    index = pd.MultiIndex.from_tuples(list(order), names=["check", "measure"])
    table = pd.DataFrame(
        {name: [figures.get(key, np.nan) for key in order] for name, figures in columns.items()},
        index=index,
        dtype=object,
    )
    table.columns.name = "scenario"
    return table


__all__ = ["compare", "compare_summaries"]
