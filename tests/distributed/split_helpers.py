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


def cli_settings(command: str = "check", **flags):
    """The CLI's settings of ``planner COMMAND --flag value ...`` (values as the flags give them:
    text; a switch's value as its bool, e.g. ``isochrones=False`` for ``--no-isochrones``), read
    by its one reader (`planner.cli._config.settings`), review file included."""
    import argparse

    from planner.cli._config import settings

    args = {k: (v if isinstance(v, (list, bool)) else str(v)) for k, v in flags.items()}
    return settings(argparse.Namespace(**args), command)


def read_review(path):
    """A review file read as ``planner check`` reads it: its settings, network path, facilities
    (categories mapped), residences and the `check` options (no served areas)."""
    from planner.cli._check import _categorised, _read_inputs, check_options

    config = cli_settings(config=path)
    inputs = _read_inputs(config)
    facilities, _ = _categorised(inputs.facilities, config)
    options = check_options(config, inputs, split=True)
    return config, str(config.get("network")), facilities, inputs.residences, options
