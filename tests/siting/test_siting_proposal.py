"""Siting proposals: propose() against brute force on a hand-made grid, re-checked, written.

The verification contract of issue 7: every proposal's claimed coverage is recomputed by the
coverage check (`planner.checks.check`, the proposal's *after* review, and again here); set
covering covers everything coverable.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from planner.checks import check, column
from planner.engine import nearest
from planner.errors import InputError
from planner.network import build_network, load_network
from planner.outputs import write_proposal
from planner.siting import Proposal, candidate_sites, propose
from planner.snapping import snap_points
from planner.standards import Rule, Standard

CRS = 32650
DATA = Path(__file__).resolve().parents[2] / "data"


@pytest.fixture(scope="module")
def street():
    lines = [shapely.LineString([(x, 0), (x + 1000, 0)]) for x in (0, 1000, 2000)]
    return build_network(gpd.GeoDataFrame(geometry=lines, crs=CRS))


# ------------------------------------------------------------------------------------------------
# propose() on a hand-made grid
# ------------------------------------------------------------------------------------------------

THRESHOLD_M = 600.0


def _standard() -> Standard:
    rule = Rule.build(
        "community_service", max_walk_m=THRESHOLD_M, min_floor_area_m2_per_100_households=30
    )
    return Standard(name="grid", title_zh="grid", title_en="grid", rules=(rule,), source="test")


@pytest.fixture(scope="module")
def grid():
    """A 2 km × 2 km street grid with 500 m blocks."""
    lines = []
    for i in range(5):
        for j in range(4):
            lines.append(shapely.LineString([(j * 500, i * 500), ((j + 1) * 500, i * 500)]))
            lines.append(shapely.LineString([(i * 500, j * 500), (i * 500, (j + 1) * 500)]))
    return build_network(gpd.GeoDataFrame(geometry=lines, crs=CRS))


def _grid_residences(n: int = 30, seed: int = 7) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    return gpd.GeoDataFrame(
        {
            "id": [f"R{i}" for i in range(n)],
            "households": rng.integers(20, 300, n).astype(float),
        },
        geometry=shapely.points(rng.uniform(0, 2000, (n, 2))),
        crs=CRS,
    )


def _grid_facilities() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"id": ["F1"], "category": ["community_service"], "floor_area_m2": [120.0]},
        geometry=[shapely.Point(20, 30)],
        crs=CRS,
    )


def _grid_candidates(n: int = 12, seed: int = 3) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    return gpd.GeoDataFrame(
        {"id": [f"S{i}" for i in range(n)]},
        geometry=shapely.points(rng.uniform(0, 2000, (n, 2))),
        crs=CRS,
    )


def _assert_verified(proposal: Proposal, residences: gpd.GeoDataFrame) -> None:
    """Recompute the claimed coverage with a fresh check of facilities + proposed sites."""
    sites = proposal.sites
    assert sites.crs.to_epsg() == 4326
    assert sites["proposed"].all() and sites["id"].is_unique
    facilities = proposal.after.facilities
    rechecked = check(
        proposal.after.network,
        facilities,
        residences,
        standard=proposal.after.standard,
    )
    key = "community_service"
    before = proposal.before.residences[column("covered", key)].to_numpy(dtype=bool)
    after = rechecked.residences[column("covered", key)].to_numpy(dtype=bool)
    hh = residences["households"].to_numpy(dtype=float)
    assert not (before & ~after).any()
    assert float(hh[after & ~before].sum()) == pytest.approx(
        float(sites["households_newly_covered"].sum())
    )
    assert proposal.verified
    # Every residence a proposed site reaches has its 30 m² per 100 households.
    fac = rechecked.facilities
    assert fac["proposed"].sum() == len(sites)
    np.testing.assert_allclose(
        fac.loc[fac["proposed"], "households_in_catchment"].to_numpy(dtype=float),
        sites["households_in_catchment"].to_numpy(dtype=float),
    )
    reached = _reached_by(proposal, residences)
    ok = rechecked.residences["floor_area_ok"].to_numpy(dtype=bool)
    assert ok[reached].all()
    assert (sites["floor_area_m2"] % 50 == 0).all() and (sites["floor_area_m2"] >= 50).all()


def _reached_by(proposal: Proposal, residences: gpd.GeoDataFrame) -> np.ndarray:
    network = proposal.after.network
    src = snap_points(network, proposal.sites)
    res = snap_points(network, residences)
    _, walk = nearest(network, src, res)
    return np.nan_to_num(walk, nan=np.inf) <= THRESHOLD_M


def _brute_force_best(grid, facilities, residences, candidates, k: int) -> float:
    """Best coverage over every k-subset, each scored by the engine's nearest pass."""
    res = snap_points(grid, residences.to_crs(4326))
    fac = snap_points(grid, facilities.to_crs(4326))
    cand = snap_points(grid, candidates.to_crs(4326))
    hh = residences["households"].to_numpy(dtype=float)
    _, walk_existing = nearest(grid, fac, res)
    covered_before = np.nan_to_num(walk_existing, nan=np.inf) <= THRESHOLD_M
    best = 0.0
    for subset in itertools.combinations(range(len(cand)), k):
        _, walk = nearest(grid, cand.subset(np.array(subset)), res)
        newly = (np.nan_to_num(walk, nan=np.inf) <= THRESHOLD_M) & ~covered_before
        best = max(best, float(hh[newly].sum()))
    return best


@pytest.mark.parametrize("k", [1, 2, pytest.param(3, marks=pytest.mark.slow)])
def test_propose_max_cover_exact_equals_brute_force(grid, k):
    residences = _grid_residences()
    facilities = _grid_facilities()
    candidates = _grid_candidates()
    best = _brute_force_best(grid, facilities, residences, candidates, k)
    exact = propose(
        grid,
        facilities,
        residences,
        sites=k,
        candidates=candidates,
        standard=_standard(),
        method="milp",
    )
    greedy = propose(
        grid,
        facilities,
        residences,
        sites=k,
        candidates=candidates,
        standard=_standard(),
        method="greedy",
    )
    assert exact.method == "milp" and exact.gap == 0.0
    assert exact.summary["households"]["newly_covered"] == pytest.approx(best)
    assert greedy.method == "greedy"
    assert greedy.summary["households"]["newly_covered"] <= best + 1e-9
    assert 0 < len(exact.sites) <= k
    _assert_verified(exact, residences)
    _assert_verified(greedy, residences)


def test_propose_cover_all_covers_everything_coverable(grid):
    residences = _grid_residences()
    # An off-network residence 800 m from the grid, and candidates only in the west half so
    # that the east edge is out of reach.
    off = gpd.GeoDataFrame(
        {"id": ["far away"], "households": [55.0]},
        geometry=[shapely.Point(1000, 2800)],
        crs=CRS,
    )
    residences = gpd.GeoDataFrame(pd.concat([residences, off], ignore_index=True), crs=CRS)
    candidates = gpd.GeoDataFrame(
        {"id": [f"W{i}" for i in range(6)]},
        geometry=[shapely.Point(x, y) for x in (100, 600) for y in (200, 1000, 1800)],
        crs=CRS,
    )
    proposal = propose(
        grid,
        _grid_facilities(),
        residences,
        cover_all=True,
        candidates=candidates,
        standard=_standard(),
        method="milp",
    )
    _assert_verified(proposal, residences)
    unc = proposal.uncoverable.set_index("id")
    assert unc.loc["far away", "reason"] == "off_network"
    assert "snap cap" in unc.loc["far away", "detail"]
    # Every residence not covered after is listed as uncoverable, with a reason; every
    # residence listed really is out of reach of every candidate.
    after = proposal.after.residences.set_index("id")
    still = set(after.index[~after[column("covered", "community_service")]])
    assert still == set(unc.index)
    no_reach = unc[unc["reason"] == "no_candidate_within_reach"]
    assert len(no_reach) > 0
    assert (no_reach["nearest_candidate_walk_m"] > THRESHOLD_M).all()
    # Set covering is minimal: brute force over the 6 candidates.
    res_on = snap_points(grid, residences.to_crs(4326))
    cand = snap_points(grid, candidates.to_crs(4326))
    coverable = ~np.isin(residences["id"], list(unc.index))
    uncovered_now = ~proposal.before.residences[column("covered", "community_service")].to_numpy()
    need = coverable & uncovered_now
    for size in range(len(proposal.sites)):
        for subset in itertools.combinations(range(6), size):
            _, walk = nearest(grid, cand.subset(np.array(subset, dtype=int)), res_on)
            reached = np.nan_to_num(walk, nan=np.inf) <= THRESHOLD_M
            assert not (reached | ~need).all()
    greedy = propose(
        grid,
        _grid_facilities(),
        residences,
        cover_all=True,
        candidates=candidates,
        standard=_standard(),
        method="greedy",
    )
    assert len(greedy.sites) >= len(proposal.sites)
    _assert_verified(greedy, residences)


def test_propose_generated_candidates_and_sizing_rules(grid):
    residences = _grid_residences(seed=11)
    for sizing in ("least_area", "catchment"):
        proposal = propose(
            grid,
            _grid_facilities(),
            residences,
            sites=2,
            spacing_m=250,
            standard=_standard(),
            sizing=sizing,
        )
        _assert_verified(proposal, residences)
        assert proposal.summary["candidates"]["total"] == len(candidate_sites(grid, spacing_m=250))
        if sizing == "catchment":
            fac = proposal.after.facilities
            assert fac.loc[fac["proposed"], "floor_area_ok"].all()
    comparison = proposal.summary["comparison"]["coverage"][0]
    assert comparison["rate_after"] > comparison["rate_before"]


def test_propose_does_not_mutate_inputs_and_avoids_id_clashes(grid):
    residences = _grid_residences()
    facilities = _grid_facilities().assign(id=["P1"])
    candidates = _grid_candidates()
    copies = [frame.copy() for frame in (residences, facilities, candidates)]
    proposal = propose(
        grid, facilities, residences, sites=2, candidates=candidates, standard=_standard()
    )
    for frame, copy in zip((residences, facilities, candidates), copies, strict=True):
        assert frame.equals(copy)
    assert "P1" not in set(proposal.sites["id"])
    assert proposal.after.facilities["id"].is_unique


def test_propose_with_nothing_to_cover_proposes_nothing(street):
    residences = gpd.GeoDataFrame(
        {"id": ["R1", "R2"], "households": [100.0, 50.0]},
        geometry=[shapely.Point(100, 10), shapely.Point(400, 10)],
        crs=CRS,
    )
    facilities = gpd.GeoDataFrame(
        {"id": [1], "category": ["community_service"], "floor_area_m2": [100.0]},
        geometry=[shapely.Point(200, 10)],
        crs=CRS,
    )
    for kwargs in ({"cover_all": True}, {"sites": 2}):
        proposal = propose(street, facilities, residences, **kwargs)
        assert len(proposal.sites) == 0 and proposal.method == "none"
        assert proposal.verified
        assert proposal.after.facilities["id"].tolist() == [1]


def test_propose_input_errors(grid):
    args = (grid, _grid_facilities(), _grid_residences())
    with pytest.raises(InputError, match="exactly one"):
        propose(*args)
    with pytest.raises(InputError, match="exactly one"):
        propose(*args, sites=2, cover_all=True)
    with pytest.raises(InputError, match="no rule for category"):
        propose(*args, sites=1, category="hospital", standard=_standard())
    far = gpd.GeoDataFrame({"id": ["x"]}, geometry=[shapely.Point(9000, 9000)], crs=CRS)
    with pytest.raises(InputError, match="No candidate site"):
        propose(*args, sites=1, candidates=far, standard=_standard())


def test_write_proposal(grid, tmp_path):
    residences = _grid_residences()
    proposal = propose(
        grid,
        _grid_facilities(),
        residences,
        sites=2,
        candidates=_grid_candidates(),
        standard=_standard(),
    )
    paths = write_proposal(proposal, tmp_path / "out", map_html=False)
    out = tmp_path / "out"
    for name in (
        "proposals.gpkg",
        "proposal.json",
        "summary.json",
        "facilities.gpkg",
        "residences.gpkg",
        "uncoverable.csv",
        "expansions.csv",
    ):
        assert (out / name).is_file(), name
    assert paths["proposals"] == out / "proposals.gpkg"
    sites = gpd.read_file(out / "proposals.gpkg")
    assert sites["id"].tolist() == proposal.sites["id"].tolist()
    np.testing.assert_allclose(sites["floor_area_m2"], proposal.sites["floor_area_m2"])
    facilities = gpd.read_file(out / "facilities.gpkg")
    assert facilities["proposed"].astype(bool).sum() == len(proposal.sites)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert "comparison" in summary and "baseline" in summary
    saved = json.loads((out / "proposal.json").read_text(encoding="utf-8"))
    assert saved["verification"]["verified"] is True
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


# ------------------------------------------------------------------------------------------------
# The bundled Guixi case
# ------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_guixi_cover_all_raises_coverage_to_every_coverable_household(tmp_path):
    folder = DATA / "guixi"
    network = load_network(DATA / "cn_jiangxi_guixi_mapofgx.osm.bz2")
    facilities = gpd.read_file(folder / "facilities.gpkg")
    residences = gpd.read_file(folder / "residences.gpkg")
    proposal = propose(network, facilities, residences, cover_all=True)
    cov = proposal.summary["comparison"]["coverage"][0]
    assert cov["key"] == "community_service"
    assert cov["rate_after"] > cov["rate_before"]
    hh = proposal.summary["households"]
    assert cov["households_covered_after"] == pytest.approx(hh["covered_before"] + hh["coverable"])
    assert proposal.verified
    # The after-review feeds the map: proposed sites are flagged and their served area drawn.
    paths = write_proposal(
        propose(network, facilities, residences, cover_all=True, isochrones=True),
        tmp_path / "guixi",
    )
    html = paths["map"].read_text(encoding="utf-8")
    for site_id in proposal.sites["id"]:
        assert f'"{site_id}"' in html
    facilities_out = gpd.read_file(paths["facilities"])
    assert facilities_out["proposed"].astype(bool).sum() == len(proposal.sites)
    best_3 = propose(network, facilities, residences, sites=3)
    assert best_3.verified and best_3.gap == 0.0
    assert 0 < best_3.summary["households"]["newly_covered"] <= hh["coverable"]
