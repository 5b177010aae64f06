"""Coverage and floor-area checks on a hand-worked street, every number worked out by hand.

One straight street of 3 km along x (three 1 km lines), points 10 m off it:

    R1(0,100hh)  F1(500)  R2(1000,200hh)  R3(1600,100hh)  F2(2500)  R4(3000,100hh)

Walks (access 10 m each end): R1-F1 520, R2-F1 520, R2-F2 1520, R3-F1 1120, R3-F2 920,
R4-F2 520. 15-minute circle = 1000 m at 4 km/h.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from planner.checks import check, column
from planner.compare import compare
from planner.errors import InputError
from planner.network import build_network
from planner.standards import Rule, Standard, load_standard

CRS = 32650


@pytest.fixture(scope="module")
def street():
    lines = [shapely.LineString([(x, 0), (x + 1000, 0)]) for x in (0, 1000, 2000)]
    return build_network(gpd.GeoDataFrame(geometry=lines, crs=CRS))


def _facilities(areas=(300.0, 100.0), categories=("community_service", "community_service")):
    return gpd.GeoDataFrame(
        {"id": ["F1", "F2"], "category": list(categories), "floor_area_m2": list(areas)},
        geometry=[shapely.Point(500, 10), shapely.Point(2500, 10)],
        crs=CRS,
    )


def _residences():
    return gpd.GeoDataFrame(
        {"id": ["R1", "R2", "R3", "R4"], "households": [100.0, 200.0, 100.0, 100.0]},
        geometry=[shapely.Point(x, 10) for x in (0, 1000, 1600, 3000)],
        crs=CRS,
    )


def test_coverage_nearest_and_walks(street):
    result = check(street, _facilities(), _residences())
    res = result.residences.set_index("id")
    np.testing.assert_allclose(
        res[column("walk_m", "community_service")], [520, 520, 920, 520], atol=1e-6
    )
    assert list(res[column("nearest_id", "community_service")]) == ["F1", "F1", "F2", "F2"]
    np.testing.assert_allclose(res[column("walk_min", "community_service")], [7.8, 7.8, 13.8, 7.8])
    assert res[column("covered", "community_service")].all()
    cov = result.summary["coverage"][0]
    assert cov["households_total"] == 500 and cov["households_covered"] == 500
    assert cov["rate"] == 1.0 and cov["passes"] is True
    assert cov["max_walk_m"] == 1000 and cov["max_walk_min"] == 15


def test_slower_walkers_lose_coverage(street):
    # At 3.6 km/h 15 minutes is 900 m: R3 (920 m) falls out of the circle, short by 20 m.
    result = check(street, _facilities(), _residences(), speed_kmh=3.6)
    cov = result.summary["coverage"][0]
    assert cov["max_walk_m"] == pytest.approx(900)
    assert cov["households_covered"] == 400 and cov["rate"] == pytest.approx(0.8)
    assert cov["passes"] is False and result.passes is False
    assert list(result.gaps["id"]) == ["R3"]
    assert result.gaps["short_by_m"].iloc[0] == pytest.approx(20)
    assert result.residences.set_index("id").loc["R3", "status"] == "uncovered"


def test_catchment_allocation_hand_worked(street):
    # F1 serves R1+R2 (300 hh), F2 serves R3+R4 (200 hh).
    result = check(street, _facilities(areas=(60.0, 100.0)), _residences())
    fac = result.facilities.set_index("id")
    np.testing.assert_allclose(fac["households_in_catchment"], [300, 200])
    np.testing.assert_allclose(fac["m2_per_100hh"], [20, 50])
    assert list(fac["floor_area_ok"]) == [False, True]
    res = result.residences.set_index("id")
    np.testing.assert_allclose(res["floor_area_m2_per_100hh"], [20, 20, 50, 50])
    fa = result.summary["floor_area"]
    assert fa["supply_m2"] == 160 and fa["households"] == 500
    assert fa["m2_per_100hh"] == pytest.approx(32)
    # R1 and R2 (300 households) are 10 m² per 100 households short: 30 m².
    assert fa["shortfall_m2"] == pytest.approx(30)
    assert fa["households_below"] == 300
    assert fa["passes"] is False and result.passes is False


def test_catchment_one_huge_circle_equals_total_ratio(street):
    # With one catchment covering everything, every household's ratio is supply / demand.
    rule = Rule.build(
        "community_service", max_walk_m=10_000, min_floor_area_m2_per_100_households=30
    )
    std = Standard(name="wide", title_zh="wide", title_en="wide", rules=(rule,), source="test")
    result = check(street, _facilities(areas=(300.0, 100.0)), _residences(), standard=std)
    np.testing.assert_allclose(result.residences["floor_area_m2_per_100hh"], 400 / 500 * 100)
    assert result.summary["floor_area"]["passes"] is True


def test_nearest_allocation(street):
    result = check(street, _facilities(areas=(60.0, 100.0)), _residences(), allocation="nearest")
    res = result.residences.set_index("id")
    np.testing.assert_allclose(res["floor_area_m2_per_100hh"], [20, 20, 50, 50])
    assert result.summary["floor_area"]["shortfall_m2"] == pytest.approx(30)


def test_community_allocation(street):
    communities = gpd.GeoDataFrame(
        {"id": ["C1", "C2"]},
        geometry=[shapely.box(-100, -100, 1200, 100), shapely.box(1200, -100, 3100, 100)],
        crs=CRS,
    )
    result = check(
        street,
        _facilities(areas=(60.0, 100.0)),
        _residences(),
        communities=communities,
        allocation="community",
    )
    comm = result.communities.set_index("community_id")
    walk, floor = "community_service", "community_service_floor_area"  # the default's two rules
    np.testing.assert_allclose(comm["households"], [300, 200])
    np.testing.assert_allclose(comm[column("floor_area_m2", floor)], [60, 100])
    np.testing.assert_allclose(comm[column("m2_per_100hh", floor)], [20, 50])
    np.testing.assert_allclose(comm[column("shortfall_m2", floor)], [30, 0])
    np.testing.assert_allclose(comm[column("coverage_rate", walk)], [1, 1])
    assert column("coverage_rate", floor) not in comm  # a floor-area rule has no walk verdict
    assert comm["compliant"].tolist() == [False, True]
    assert comm["fails"].tolist() == [floor, ""]
    assert result.summary["floor_area"]["shortfall_m2"] == pytest.approx(30)
    assert result.summary["floor_area"]["per"] == "community"


def test_other_categories_measured_not_required(street):
    fac = _facilities(categories=("community_service", "health"))
    result = check(street, fac, _residences())
    by_key = {c["key"]: c for c in result.summary["coverage"]}
    assert by_key["community_service"]["required"] is True
    assert by_key["health"]["required"] is False and by_key["health"]["passes"] is None
    # Only F1 is community service now: R3 walks 1120 m, R4 2520 m.
    res = result.residences.set_index("id")
    np.testing.assert_allclose(
        res[column("walk_m", "community_service")], [520, 520, 1120, 2520], atol=1e-6
    )
    assert by_key["community_service"]["households_covered"] == 300
    assert set(result.gaps["id"]) == {"R3", "R4"}
    assert list(result.gaps["short_by_m"]) == pytest.approx([120, 1520])


def test_tiers_checked_separately(street):
    std = load_standard("gb50180")
    keys = [r.key for r in std.rules]
    assert len(keys) == len(set(keys))
    result = check(street, _facilities(), _residences(), standard=std)
    for rule in std.rules:
        assert column("covered", rule.key) in result.residences.columns


def test_missing_floor_area_is_an_error(street):
    fac = _facilities(areas=(np.nan, 100.0))
    with pytest.raises(InputError, match="F1"):
        check(street, fac, _residences())


def test_bad_parameters(street):
    with pytest.raises(InputError, match="allocation"):
        check(street, _facilities(), _residences(), allocation="magic")
    with pytest.raises(InputError, match="communities"):
        check(street, _facilities(), _residences(), allocation="community")
    with pytest.raises(InputError, match="speed_kmh"):
        check(street, _facilities(), _residences(), speed_kmh=-1)
    with pytest.raises(InputError, match="households"):
        check(street, _facilities(), _residences().drop(columns="households"))


def test_inputs_not_mutated(street):
    fac, res = _facilities(), _residences()
    fac_before, res_before = fac.copy(), res.copy()
    check(street, fac, res)
    assert fac.equals(fac_before) and res.equals(res_before)


def test_compare_scenarios_side_by_side(street):
    base = check(street, _facilities(), _residences())
    slow = check(street, _facilities(), _residences(), speed_kmh=3.6)
    table = compare({"today": base, "elderly": slow})
    # A row per measure, a column per scenario, as the README promises.
    assert list(table.columns) == ["today", "elderly"]
    assert table.index.names == ["check", "measure"]
    assert table.loc[("community_service", "rate"), "today"] == 1.0
    assert table.loc[("community_service", "rate"), "elderly"] == pytest.approx(0.8)
    assert table.loc[("community_service", "max_walk_m"), "elderly"] == pytest.approx(900)
    assert table.loc[("floor_area_community_service", "m2_per_100hh"), "today"] == 80
    assert table.loc[("overall", "passes")].tolist() == [base.passes, slow.passes]


def test_proposed_flag_defaults_to_false_for_existing(street):
    import pandas as pd

    fac = _facilities()
    new = _facilities().iloc[:1].assign(id="N1", proposed=True)
    both = gpd.GeoDataFrame(pd.concat([fac, new], ignore_index=True), crs=CRS)
    result = check(street, both, _residences())
    assert list(result.facilities["proposed"]) == [False, False, True]


def test_one_line_repr(street):
    assert repr(check(street, _facilities(), _residences())) == (
        "<CheckResult community_service: PASS, 4 residences, 2 facilities, 0 gaps>"
    )
