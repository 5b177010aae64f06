"""Verdicts per community and roll-ups, on a hand-worked street, and a recount with geopandas.

One straight street of 4 km along x (four 1 km lines); points 10 m off it unless said:

    R1(0,100hh) F1(500,60m2) R2(1000,200hh) | R3(1600,100hh) R4(2200,100hh) | F2(2900,100m2)
    F3 (3500, 900): 890 m off the street, beyond the 500 m snap cap: off the network, 50 m².

Communities (boxes): C1 甲社区 x -100..1300 and C2 乙社区 x 1300..2800 in sub-district S1;
C3 丙社区 x 2800..4100 (y up to 1000) in S2, without residences. F2 lies in C3's box but its
``community`` column assigns it to 乙社区.

Walks (access 10 m each end): R1-F1 520, R2-F1 520, R3-F1 1120, R3-F2 1320, R4-F2 720.
At 1000 m: R1, R2, R4 covered, R3 not. C1: 300 hh, rate 1, floor 60 m² = 20 per 100 hh (short
30 m²). C2: 200 hh, rate 0.5, floor 100 m² = 50 per 100 hh. C3: no households, no verdict.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from planner.checks import check, column
from planner.communities import CommunityRule, Targets, community_table
from planner.errors import InputError
from planner.network import build_network

CRS = 32650
KEY = "community_service"


@pytest.fixture(scope="module")
def street():
    lines = [shapely.LineString([(x, 0), (x + 1000, 0)]) for x in (0, 1000, 2000, 3000)]
    return build_network(gpd.GeoDataFrame(geometry=lines, crs=CRS))


def _facilities() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "id": ["F1", "F2", "F3"],
            "category": [KEY] * 3,
            "floor_area_m2": [60.0, 100.0, 50.0],
            "community": [None, "乙社区", None],
        },
        geometry=[shapely.Point(500, 10), shapely.Point(2900, 10), shapely.Point(3500, 900)],
        crs=CRS,
    )


def _residences() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"id": ["R1", "R2", "R3", "R4"], "households": [100.0, 200.0, 100.0, 100.0]},
        geometry=[shapely.Point(x, 10) for x in (0, 1000, 1600, 2200)],
        crs=CRS,
    )


def _communities() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "id": ["C1", "C2", "C3"],
            "name": ["甲社区", "乙社区", "丙社区"],
            "subdistrict": ["S1", "S1", "S2"],
            "district": ["D", "D", "D"],
            "plan_year": [2018, 2019, 2020],
        },
        geometry=[
            shapely.box(-100, -200, 1300, 200),
            shapely.box(1300, -200, 2800, 200),
            shapely.box(2800, -200, 4100, 1000),
        ],
        crs=CRS,
    )


def _review(street, **kwargs):
    return check(
        street, _facilities(), _residences(), communities=_communities(), standard=_rule(), **kwargs
    )


def _rule():
    from planner.standards import Rule, Standard

    rule = Rule.build(KEY, max_walk_m=1000, min_floor_area_m2_per_100_households=30)
    return Standard(name="t", title_zh="t", title_en="t", rules=(rule,), source="hand")


def test_verdict_per_community(street):
    result = _review(street)
    comm = result.communities.set_index("community_id")
    assert comm["name"].tolist() == ["甲社区", "乙社区", "丙社区"]
    assert comm["plan_year"].tolist() == [2018, 2019, 2020]  # kept attributes
    np.testing.assert_allclose(comm["households"], [300, 200, 0])
    np.testing.assert_allclose(comm[column("coverage_rate", KEY)], [1.0, 0.5, np.nan])
    assert comm[column("coverage_ok", KEY)].tolist() == [True, False, pd.NA]
    # F2 by its column (乙社区, though it stands in 丙社区's box); F3 off the network still counts.
    np.testing.assert_allclose(comm[column("floor_area_m2", KEY)], [60, 100, 50])
    np.testing.assert_allclose(comm[column("m2_per_100hh", KEY)], [20, 50, np.nan])
    assert comm[column("floor_area_ok", KEY)].tolist() == [False, True, pd.NA]
    np.testing.assert_allclose(comm[column("shortfall_m2", KEY)], [30, 0, 0])
    assert comm[column("facilities_off_network", KEY)].tolist() == [0, 0, 1]
    assert comm["compliant"].tolist() == [False, False, False]
    assert comm["verdict"].tolist() == ["fails_floor_area", "fails_coverage", "no_households"]
    assert comm["fails"].tolist() == [f"{KEY}:floor_area", f"{KEY}:coverage", "no_households"]
    assert result.summary["communities"]["without_households"] == 1
    assert result.summary["floor_area"]["per"] == "community"
    assert result.summary["floor_area"]["communities_failing"] == 1
    assert result.summary["floor_area"]["shortfall_m2"] == pytest.approx(30)
    assert result.summary["floor_area"]["facilities_off_network"] == 1
    # The off-network facility gets no floor-area verdict of its own.
    fac = result.facilities.set_index("id")
    assert fac.loc["F3", "floor_area_ok"] is pd.NA
    assert result.passes is False


def test_rollups_and_targets(street):
    result = _review(street, targets=Targets(min_coverage_rate=0.5, compliant_per_subdistrict=1))
    comm = result.communities.set_index("community_id")
    assert comm["compliant"].tolist() == [False, True, False]
    sub = result.subdistricts.set_index("subdistrict")
    assert sub["communities"].tolist() == [2, 1]
    assert sub["compliant_communities"].tolist() == [1, 0]
    assert sub["meets_target"].tolist() == [True, False]
    np.testing.assert_allclose(sub["households"], [500, 0])
    np.testing.assert_allclose(sub[column("coverage_rate", KEY)], [0.8, np.nan])
    district = result.districts.set_index("district")
    assert district.loc["D", "compliant_communities"] == 1
    assert result.summary["targets_met"] is False
    assert [s["meets_target"] for s in result.summary["subdistricts"]] == [True, False]
    met = _review(street, targets=Targets(min_coverage_rate=0.5, compliant_per_subdistrict=0))
    assert met.summary["targets_met"] is True


def test_minimum_floor_area_per_community(street):
    result = _review(street)
    rule = CommunityRule(
        key=KEY,
        accepted_categories=(KEY,),
        min_coverage_rate=None,
        min_m2_per_100hh=30.0,
        min_floor_area_m2=120.0,
    )
    fac_comm = np.array(["C1", "C2", "C3"], dtype=object)
    table = community_table(
        result.communities.rename(columns={"community_id": "id"})[["id", "name", "geometry"]],
        result.residences,
        result.facilities,
        fac_comm,
        [rule],
    ).set_index("community_id")
    # C2 has 50 m² per 100 households but only 100 m² in all: the 120 m² floor fails it.
    assert table[column("floor_area_ok", KEY)].tolist() == [False, False, pd.NA]
    np.testing.assert_allclose(table[column("shortfall_m2", KEY)], [60, 20, 0])


def test_unknown_community_in_facility_column(street):
    fac = _facilities()
    fac.loc[1, "community"] = "不存在社区"
    with pytest.raises(InputError, match="不存在社区"):
        check(street, fac, _residences(), communities=_communities(), standard=_rule())


def test_zero_households_is_no_verdict(street):
    res = _residences().assign(households=0.0)
    with pytest.raises(InputError, match="no households"):
        check(street, _facilities(), res, standard=_rule())


def test_targets_are_checked():
    with pytest.raises(InputError, match="compliant_share"):
        Targets(compliant_share=2)
    with pytest.raises(InputError, match="compliant_per_subdistrict"):
        Targets(compliant_per_subdistrict=True)  # type: ignore[arg-type]


def _recount(result, communities, facilities, walk_key: str, accepted: tuple[str, ...]):
    """Per-community households, coverage and floor area, by plain geopandas joins."""
    res = result.residences.to_crs(communities.crs)
    joined = gpd.sjoin(res, communities[["id", "geometry"]], predicate="within", how="left")
    joined = joined[~joined.index.duplicated()]
    joined["hh_cov"] = joined["households"] * joined[column("covered", walk_key)].astype(float)
    per = joined.groupby("id_right")[["households", "hh_cov"]].sum()
    fac = facilities.to_crs(communities.crs)
    fac = fac[fac["category"].isin(accepted)]
    in_poly = gpd.sjoin(fac, communities[["id", "geometry"]], predicate="within", how="left")
    area = in_poly.groupby("id_right")["floor_area_m2"].sum()
    out = pd.DataFrame(index=communities["id"])
    out["households"] = per["households"].reindex(out.index).fillna(0.0)
    out["rate"] = per["hh_cov"].reindex(out.index) / out["households"].where(out["households"] > 0)
    out["area"] = area.reindex(out.index).fillna(0.0)
    return out


@pytest.mark.slow
def test_recount_on_haidian_grid():
    """Communities as a 3 x 3 grid over the Haidian demo: every figure recounted independently."""
    import planner

    network = planner.load_network("data/cn_beijing_haidian_cau_map.osm.bz2")
    facilities = planner.read_facilities("data/haidian/facilities.gpkg")
    residences = planner.read_residences("data/haidian/residences.gpkg")
    west, south, east, north = residences.total_bounds
    xs, ys = np.linspace(west - 1e-4, east + 1e-4, 4), np.linspace(south - 1e-4, north + 1e-4, 4)
    cells = [shapely.box(xs[i], ys[j], xs[i + 1], ys[j + 1]) for i in range(3) for j in range(3)]
    communities = gpd.GeoDataFrame(
        {"id": [f"c{i}" for i in range(9)], "name": [f"社区{i}" for i in range(9)]},
        geometry=cells,
        crs=4326,
    )
    result = planner.check(network, facilities, residences, communities=communities)
    floor = planner.load_standard("community_service").rule("community_service_floor_area")
    mine = result.communities.set_index("community_id")
    ref = _recount(result, communities, facilities, KEY, floor.accepted_categories)
    np.testing.assert_allclose(mine["households"], ref["households"], atol=1e-3)
    np.testing.assert_allclose(mine[column("coverage_rate", KEY)], ref["rate"], atol=1e-6)
    np.testing.assert_allclose(mine[column("floor_area_m2", floor.key)], ref["area"], atol=1e-3)
    ratio = ref["area"] * 100 / ref["households"].where(ref["households"] > 0)
    np.testing.assert_allclose(mine[column("m2_per_100hh", floor.key)], ratio, atol=1e-6)
    has = ref["households"] > 0
    expect = (ref["rate"] >= 1 - 1e-9) & (ratio >= 30 - 1e-9) & has
    assert mine["compliant"].tolist() == expect.tolist()
