"""A community review folder for the report tests, made from the Haidian demo review.

#15 will write ``communities.csv``, ``subdistricts.csv``, ``communities.gpkg`` and the
``communities``/``subdistricts``/``districts`` sections of ``summary.json``; until it does, this
builds them in that schema from a written Haidian review: community polygons are the Voronoi
cells of six clusters of the residences (an approximation made for the tests, with made-up
names, not real community boundaries), plus one community without households; the verdicts are
counted from ``residences.gpkg`` and ``facilities.gpkg``. Rules gain #16's ``per``,
``verified`` and ``min_floor_area_m2``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.cluster.vq import kmeans2

NAMES = ("东园社区", "西园社区", "南苑社区", "北苑社区", "中心社区", "新村社区")
EMPTY_NAME = "荒地社区"
SUBDISTRICTS = ("东片街道", "西片街道")
DISTRICT = "海淀区（测试）"
MIN_FLOOR_AREA_M2 = 600.0
TARGET_PER_SUBDISTRICT = 2


def make_community_review(
    review_dir: Path, out_dir: Path, *, baseline_dir: Path | None = None
) -> Path:
    """Copy ``review_dir`` to ``out_dir`` and add the community outputs of #15.

    With ``baseline_dir`` (the review before a proposal), ``summary["baseline"]`` gains the
    communities before.
    """
    shutil.copytree(review_dir, out_dir, dirs_exist_ok=True)
    for old in ("report.pdf", "report.html"):
        (out_dir / old).unlink(missing_ok=True)
    summary = json.loads((out_dir / "summary.json").read_text(encoding="utf-8"))
    base = baseline_dir or review_dir
    res = gpd.read_file(base / "residences.gpkg")
    crs = res.estimate_utm_crs()
    comm = _communities(res.to_crs(crs), crs)
    table = _verdicts(out_dir, summary, comm, crs)
    if baseline_dir is not None:
        before = _verdicts(baseline_dir, summary, comm, crs)
        summary.setdefault("baseline", {})["communities"] = json.loads(
            before.to_json(orient="records", force_ascii=False)
        )
    _write(out_dir, summary, comm, table)
    return out_dir


def _communities(res_m: gpd.GeoDataFrame, crs: object) -> gpd.GeoDataFrame:
    xy = shapely.get_coordinates(res_m.geometry.to_numpy())
    centres, _ = kmeans2(xy, len(NAMES), minit="++", seed=np.random.default_rng(7))
    centres = centres[np.lexsort((centres[:, 0], -centres[:, 1]))]  # north to south, then west
    area = shapely.convex_hull(shapely.multipoints(xy)).buffer(150)
    cells = shapely.voronoi_polygons(shapely.multipoints(centres), extend_to=area.buffer(500))
    polys = []
    for centre in centres:
        cell = next(c for c in cells.geoms if c.contains(shapely.Point(centre)))
        polys.append(cell.intersection(area))
    # A community without households, east of the rest.
    x1, y0, y1 = area.bounds[2], area.bounds[1], area.bounds[3]
    empty = shapely.box(x1 + 60, y0 + 0.4 * (y1 - y0), x1 + 360, y0 + 0.6 * (y1 - y0))
    polys.append(empty)
    names = [*NAMES, EMPTY_NAME]
    east = [c[0] > np.median(centres[:, 0]) for c in centres] + [True]
    return gpd.GeoDataFrame(
        {
            "community_id": [f"C{i + 1:02d}" for i in range(len(polys))],
            "name": names,
            "subdistrict": [SUBDISTRICTS[0] if e else SUBDISTRICTS[1] for e in east],
            "district": DISTRICT,
            "source": "test fixture: Voronoi cells of residence clusters",
        },
        geometry=polys,
        crs=crs,
    )


def _verdicts(folder: Path, summary: dict, comm: gpd.GeoDataFrame, crs: object) -> pd.DataFrame:
    res_m = gpd.read_file(folder / "residences.gpkg").to_crs(crs)
    fac_m = gpd.read_file(folder / "facilities.gpkg").to_crs(crs)
    fa = summary["floor_area"]
    key = fa.get("key", fa["category"])
    required = float(fa["required_m2_per_100hh"])
    rules = [c for c in summary["coverage"] if c["required"]]
    inside = gpd.sjoin(res_m, comm[["community_id", "geometry"]], predicate="within")
    fac_in = gpd.sjoin(
        fac_m[fac_m["category"] == fa["category"]],
        comm[["community_id", "geometry"]],
        predicate="within",
    )
    rows = []
    for _, c in comm.iterrows():
        mine = inside[inside["community_id"] == c["community_id"]]
        hh = float(mine["households"].sum())
        on = mine["on_network"].astype(bool)
        row: dict[str, object] = {
            "community_id": c["community_id"],
            "name": c["name"],
            "subdistrict": c["subdistrict"],
            "district": c["district"],
            "source": c["source"],
            "households": round(hh, 1),
            "households_off_network": round(float(mine.loc[~on, "households"].sum()), 1),
        }
        fails = []
        for rule in rules:
            k = rule["key"]
            covered = float(mine.loc[mine[f"covered_{k}"].astype(bool), "households"].sum())
            rate = covered / hh if hh > 0 else None
            row[f"coverage_rate_{k}"] = None if rate is None else round(rate, 6)
            row[f"coverage_ok_{k}"] = None if rate is None else bool(rate >= 1.0 - 1e-12)
            if rate is not None and rate < 1.0 - 1e-12:
                fails.append(k)
        supply = float(
            fac_in.loc[fac_in["community_id"] == c["community_id"], "floor_area_m2"].sum()
        )
        ratio = supply / hh * 100 if hh > 0 else None
        ok = None if ratio is None else bool(ratio >= required and supply >= MIN_FLOOR_AREA_M2)
        row[f"floor_area_m2_{key}"] = round(supply, 1)
        row[f"m2_per_100hh_{key}"] = None if ratio is None else round(ratio, 3)
        row[f"floor_area_ok_{key}"] = ok
        if ok is False and key not in fails:
            fails.append(key)
        row["compliant"] = bool(hh > 0 and not fails)
        row["fails"] = ";".join(fails)
        rows.append(row)
    return pd.DataFrame(rows)


def _write(out_dir: Path, summary: dict, comm: gpd.GeoDataFrame, table: pd.DataFrame) -> None:
    fa = summary["floor_area"]
    table.to_csv(out_dir / "communities.csv", index=False)
    comm.to_crs(4326).to_file(out_dir / "communities.gpkg", layer="communities")
    subs = []
    for name, sub in table.groupby("subdistrict", sort=True):
        k = int(sub["compliant"].sum())
        subs.append(
            {
                "subdistrict": name,
                "district": DISTRICT,
                "communities": len(sub),
                "compliant_communities": k,
                "households": round(float(sub["households"].sum()), 1),
                "target": TARGET_PER_SUBDISTRICT,
                "meets_target": k >= TARGET_PER_SUBDISTRICT,
            }
        )
    pd.DataFrame(subs).to_csv(out_dir / "subdistricts.csv", index=False)
    districts = [
        {
            "district": DISTRICT,
            "communities": len(table),
            "compliant_communities": int(table["compliant"].sum()),
            "households": round(float(table["households"].sum()), 1),
            "target": 1.0,
            "meets_target": bool(table["compliant"].all()),
        }
    ]
    summary["communities"] = json.loads(table.to_json(orient="records", force_ascii=False))
    summary["subdistricts"] = subs
    summary["districts"] = districts
    for rule in summary["coverage"]:
        if rule["required"]:
            rule["per"] = "residence"
            rule["verified"] = False
    fa["per"] = "community"
    fa["verified"] = True
    fa["min_floor_area_m2"] = MIN_FLOOR_AREA_M2
    (out_dir / "summary.json").write_text(
        json.dumps(summary, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return out_dir
