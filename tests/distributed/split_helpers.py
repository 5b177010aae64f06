"""Helpers of the split-review tests (not in conftest.py: test modules import them by name)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from planner.distributed import censor_walks

ROOT = Path(__file__).resolve().parents[2]


def assert_same(single, split) -> None:
    """The split review equals the single-process one, walks beyond the largest threshold
    given as "more than X m" (inf); frames compared exactly."""
    exact_to = split.residences.attrs["walks_exact_to_m"]
    assert exact_to == max(split.summary["parameters"]["thresholds"].values())
    res, gaps = censor_walks(single, exact_to)
    pd.testing.assert_frame_equal(
        pd.DataFrame(res), pd.DataFrame(split.residences), check_exact=True
    )
    pd.testing.assert_frame_equal(gaps, split.gaps, check_exact=True)
    pd.testing.assert_frame_equal(
        pd.DataFrame(single.facilities), pd.DataFrame(split.facilities), check_exact=True
    )
    if single.communities is not None:
        pd.testing.assert_frame_equal(
            pd.DataFrame(single.communities), pd.DataFrame(split.communities), check_exact=True
        )
    for level in ("subdistricts", "districts"):
        one, other = getattr(single, level), getattr(split, level)
        assert (one is None) == (other is None)
        if one is not None:
            pd.testing.assert_frame_equal(one, other, check_exact=True)
    assert single.summary == split.summary
