"""Proposals per community (issue 15): attribution, and plans aimed at the communities.

A hand-worked street of 4 km along x (four 1 km lines); points 20 m off it; walk 1000 m at
30 m² per 100 households per community:

    A (x 0..1000, S1):    RA(600, 500 hh)                 K1(300)
    B (x 1000..2000, S1): F1(1200, 250 m²)  RB(1400, 200 hh)   K3(1500)
    C (x 2000..4000, S2): F2(2050, 100 m²)  RC1(2100, 100 hh)  K2(3300)  RC2(3500, 100 hh)

Walks (20 m access each end): RA-F1 640, RB-F1 240, RC1-F2 90, RC2-F2 1490, RC2-F1 2340:
RA, RB, RC1 covered, RC2 not. Floor area per community: A 0 of 150 m² (short 150: floor area
only), B 250 of 60 (compliant), C 100 of 60 (fails coverage only: 100 of 200 households).
Candidates: K1 reaches RA (340 m); K2 reaches RC2 (240 m); K3 reaches RA, RB.

With ``target="communities"``: C's coverage needs a site reaching RC2: only K2 does (inside C),
one module (50 m²). A's 150 m² go inside A: no new site and no facility there, so the
candidate inside it reaching most of its households, K1, with exactly 150 m².
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pytest
import shapely

from planner.checks import check, column
from planner.cli import main
from planner.errors import InputError
from planner.network import build_network
from planner.outputs import write_proposal
from planner.siting import propose
from planner.standards import Rule, Standard

CRS = 32650
KEY = "community_service"
AREA = "community_service_floor_area"


@pytest.fixture(scope="module")
def street():
    lines = [shapely.LineString([(x, 0), (x + 1000, 0)]) for x in (0, 1000, 2000, 3000)]
    return build_network(gpd.GeoDataFrame(geometry=lines, crs=CRS))


def _standard() -> Standard:
    walk = Rule.build(KEY, max_walk_m=1000)
    area = Rule.build(KEY, key=AREA, per="community", min_floor_area_m2_per_100_households=30)
    return Standard(name="t", title_zh="t", title_en="t", rules=(walk, area), source="test")


def _facilities(extra: list[tuple[str, float, float]] = ()) -> gpd.GeoDataFrame:  # type: ignore[assignment]
    rows = [("F1", 1200.0, 250.0), ("F2", 2050.0, 100.0), *extra]
    return gpd.GeoDataFrame(
        {"id": [r[0] for r in rows], "category": KEY, "floor_area_m2": [r[2] for r in rows]},
        geometry=[shapely.Point(r[1], 20) for r in rows],
        crs=CRS,
    )


def _residences() -> gpd.GeoDataFrame:
    rows = [("RA", 600, 500.0), ("RB", 1400, 200.0), ("RC1", 2100, 100.0), ("RC2", 3500, 100.0)]
    return gpd.GeoDataFrame(
        {"id": [r[0] for r in rows], "households": [r[2] for r in rows]},
        geometry=[shapely.Point(r[1], 20) for r in rows],
        crs=CRS,
    )


def _communities() -> gpd.GeoDataFrame:
    boxes = [(0, 1000), (1000, 2000), (2000, 4000)]
    return gpd.GeoDataFrame(
        {"id": ["A", "B", "C"], "name": ["甲社区", "乙社区", "丙社区"],
         "subdistrict": ["S1", "S1", "S2"]},
        geometry=[shapely.box(a, -500, b, 500) for a, b in boxes],
        crs=CRS,
    )  # fmt: skip


def _candidates(names: tuple[str, ...] = ("K1", "K2", "K3")) -> gpd.GeoDataFrame:
    xs = {"K1": 300, "K2": 3300, "K3": 1500}
    return gpd.GeoDataFrame(
        {"id": list(names)}, geometry=[shapely.Point(xs[n], 20) for n in names], crs=CRS
    )


def _propose(street, **kwargs):
    options = {
        "candidates": _candidates(),
        "standard": _standard(),
        "communities": _communities(),
        "target": "communities",
        **kwargs,
    }
    return propose(street, options.pop("facilities", _facilities()), _residences(), **options)


def test_before_is_as_hand_worked(street):
    before = check(street, _facilities(), _residences(), standard=_standard(),
                   communities=_communities())  # fmt: skip
    table = before.communities.set_index("community_id")
    assert table["compliant"].tolist() == [False, True, False]
    assert table.loc["A", "fails"] == AREA
    assert table.loc["A", column("shortfall_m2", AREA)] == 150.0
    assert table.loc["C", "fails"] == KEY
    assert table.loc["C", column("households_uncovered", KEY)] == 100.0


def test_target_communities_places_each_communitys_need_inside_it(street):
    proposal = _propose(street)
    sites = proposal.sites.set_index("candidate_id")
    assert sorted(sites.index) == ["K1", "K2"]
    # A: exactly its 150 m² short, at the candidate inside it; C: the site reaching RC2.
    assert sites.loc["K1", "floor_area_m2"] == 150.0
    assert sites.loc["K1", "community_id"] == "A"
    assert sites.loc["K1", "community_name"] == "甲社区"
    assert sites.loc["K1", "subdistrict"] == "S1"
    assert sites.loc["K1", "purpose"] == "community_floor_area"
    assert sites.loc["K2", "community_id"] == "C"
    assert sites.loc["K2", "subdistrict"] == "S2"
    assert sites.loc["K2", "households_newly_covered"] == 100.0
    assert sites.loc["K2", "floor_area_m2"] == 50.0  # one module: C's floor area passes already
    # The after-review (check with the same communities) has every community compliant.
    after = proposal.after.communities.set_index("community_id")
    assert after["compliant"].all()
    assert after.loc["A", column("floor_area_m2", AREA)] == 150.0
    assert after.loc["C", column("coverage_rate", KEY)] == 1.0
    plan = proposal.communities.set_index("community_id")
    assert plan["compliant_before"].tolist() == [False, True, False]
    assert plan["compliant_after"].all() and plan["fixable"].all()
    assert plan.loc["A", "floor_area_placed"] == "candidate_site"
    assert plan.loc["A", "floor_area_added_m2"] == 150.0
    assert plan.loc["A", "sites"] == sites.loc["K1", "id"]
    assert (plan["reason"] == "").all()
    # Summary: each community before and after, verified.
    section = proposal.summary["communities"]
    assert (section["compliant_before"], section["compliant_after"]) == (1, 3)
    assert [r["community_id"] for r in section["before"]] == ["A", "B", "C"]
    assert [r["compliant"] for r in section["after"]] == [True, True, True]
    assert proposal.summary["model"] == "communities"
    assert proposal.verified


def test_an_existing_facility_inside_is_expanded(street):
    # A small centre inside A (50 m², reaching RA): A is short 100 m²; expanding it needs no site.
    proposal = _propose(street, facilities=_facilities([("F3", 100.0, 50.0)]))
    assert proposal.sites["candidate_id"].tolist() == ["K2"]
    exp = proposal.expansions
    assert exp["id"].tolist() == ["F3"]
    assert exp["extra_floor_area_m2"].tolist() == [100.0]
    assert exp["community_id"].tolist() == ["A"] and exp["subdistrict"].tolist() == ["S1"]
    assert exp["purpose"].tolist() == ["community_floor_area"]
    after = proposal.after.communities.set_index("community_id")
    assert after["compliant"].all()
    assert after.loc["A", column("floor_area_m2", AREA)] == 150.0


def test_a_community_beyond_every_candidate_is_listed_with_the_reason(street):
    proposal = _propose(street, candidates=_candidates(("K1", "K3")))
    plan = proposal.communities.set_index("community_id")
    assert not plan.loc["C", "fixable"] and not plan.loc["C", "compliant_after"]
    assert "100 households beyond the walk" in plan.loc["C", "reason"]
    assert plan.loc[["A", "B"], "compliant_after"].all()
    section = proposal.summary["communities"]
    assert section["not_compliant_after"][0]["community_id"] == "C"
    assert section["fixable_all_compliant"] is True
    assert proposal.verified


def test_a_community_without_a_candidate_gets_its_representative_point(street):
    # No candidate inside A: its floor area goes to A's representative point, on the street.
    proposal = _propose(street, candidates=_candidates(("K2", "K3")))
    sites = proposal.sites.set_index("community_id")
    assert sites.loc["A", "candidate_id"] == "community:A"
    assert sites.loc["A", "floor_area_m2"] == 150.0
    point = gpd.GeoSeries([sites.loc["A", "geometry"]], crs=4326).to_crs(CRS).iloc[0]
    assert point.x == pytest.approx(500.0, abs=1e-3) and point.y == pytest.approx(0.0, abs=1e-3)
    assert proposal.after.communities["compliant"].all()


def test_coverage_target_with_communities_attributes_sites(street, tmp_path):
    proposal = propose(
        street,
        _facilities(),
        _residences(),
        cover_all=True,
        candidates=_candidates(),
        standard=_standard(),
        communities=_communities(),
    )
    assert proposal.sites["community_id"].tolist() == ["C"]
    assert proposal.communities is not None and "fixable" not in proposal.communities
    paths = write_proposal(proposal, tmp_path / "out", map_html=False, workbook=False)
    for name in ("communities.csv", "subdistricts.csv", "community_plan.csv", "proposals.csv"):
        assert (tmp_path / "out" / name).is_file(), name
    summary = json.loads(paths["summary"].read_text(encoding="utf-8"))
    base = summary["baseline"]["communities"]
    assert [(r["community_id"], r["compliant"]) for r in base] == [
        ("A", False), ("B", True), ("C", False)
    ]  # fmt: skip
    assert base[0]["fails"] == AREA and base[0][column("shortfall_m2", AREA)] == 150.0
    assert "boundary_basis" not in base[0]


def test_target_input_errors(street):
    with pytest.raises(InputError, match="needs the community polygons"):
        propose(street, _facilities(), _residences(), target="communities",
                standard=_standard())  # fmt: skip
    with pytest.raises(InputError, match="leave out"):
        _propose(street, sites=1)
    with pytest.raises(InputError, match="target must be"):
        _propose(street, target="everything")


def test_cli_propose_target_communities(street, tmp_path, capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    street.save(folder / "street.network")
    _facilities().to_file(folder / "facilities.gpkg")
    _residences().to_file(folder / "residences.gpkg")
    _communities().to_file(folder / "communities.gpkg")
    _candidates().to_file(folder / "candidates.gpkg")
    (folder / "standard.toml").write_text(
        'name = "t"\ntitle_zh = "t"\ntitle_en = "t"\nsource = "test"\n'
        f'[[rules]]\nkey = "{KEY}"\ncategory = "{KEY}"\nmax_walk_m = 1000\n'
        f'[[rules]]\nkey = "{AREA}"\ncategory = "{KEY}"\nper = "community"\n'
        "min_floor_area_m2_per_100_households = 30\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    base = [
        "propose",
        "--network", str(folder / "street.network"),
        "--facilities", str(folder / "facilities.gpkg"),
        "--residences", str(folder / "residences.gpkg"),
        "--communities", str(folder / "communities.gpkg"),
        "--candidates", str(folder / "candidates.gpkg"),
        "--standard", str(folder / "standard.toml"),
        "--quiet",
        "--no-isochrones",
    ]  # fmt: skip
    assert main([*base, "--target", "communities", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Communities compliant: 1 of 3 before, 3 after" in printed
    sites = gpd.read_file(out / "proposals.gpkg")
    placed = zip(sites["candidate_id"], sites["community_id"], sites["floor_area_m2"], strict=True)
    assert sorted(placed) == [("K1", "A", 150.0), ("K2", "C", 50.0)]
    communities = gpd.read_file(out / "communities.gpkg")
    assert communities["compliant"].astype(bool).all()
    # --target communities refuses --sites; --target coverage still needs --sites/--cover-all.
    both = [*base, "--target", "communities", "--sites", "1", "--out", str(tmp_path / "o2")]
    assert main(both) == 2
    assert "leave out --sites" in capsys.readouterr().err
    assert main([*base, "--out", str(tmp_path / "o3")]) == 2
    assert "--target communities" in capsys.readouterr().err


@pytest.mark.slow
def test_guixi_target_communities_brings_every_community_to_compliant():
    from pathlib import Path

    import planner

    data = Path(__file__).resolve().parents[2] / "data"
    network = planner.load_network(data / "cn_jiangxi_guixi_mapofgx.osm.bz2")
    facilities = planner.read_facilities(data / "guixi" / "facilities.gpkg")
    residences = planner.read_residences(data / "guixi" / "residences.gpkg")
    communities = planner.read_communities(data / "guixi" / "communities.gpkg")
    proposal = propose(
        network, facilities, residences, communities=communities, target="communities"
    )
    plan = proposal.communities
    assert len(plan) == 16 and not plan["compliant_before"].any()
    # Every community compliant after, or listed with why not.
    assert (plan["compliant_after"] | (plan["reason"] != "")).all()
    assert plan["compliant_after"][plan["fixable"]].all()
    assert proposal.after.communities["compliant"].sum() == plan["compliant_after"].sum()
    # No community service facility at all: 30 m² × 1500 households / 100 = 450 m² in each.
    after = proposal.after.communities
    assert np.all(after[column("floor_area_m2", AREA)][after["compliant"]] >= 450.0)
    assert proposal.sites["community_id"].notna().all()
    assert proposal.verified
