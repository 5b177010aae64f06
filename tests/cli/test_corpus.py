"""A corpus of bad inputs, wrong settings and faults, each run through the CLI of its command.

Every case checks: the exit code; that the message names the file (or flag) and the key, column
or row; no traceback; every flag or review-file key the message names exists for the command;
and that nothing changed on disk except what a success writes: every input byte-identical
(sha256), the earlier review folder intact, no staging folder left.
"""

from __future__ import annotations

import errno
import hashlib
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from cli_inputs import make_buildings, make_review

from planner.cli import main
from planner.cli._config import KEYS, flags
from planner.cli._terminal import LIBRARY_FLAGS

Setup = Callable[[dict[str, Path]], None]


@dataclass(frozen=True)
class Case:
    id: str
    argv: list[str]  # {net} {fac} {res} {bld} {grid} {in} {tmp} {earlier} {cfg} are filled in
    code: int
    names: tuple[str, ...]  # each must be in the message (formatted like argv)
    setup: Setup | None = None
    extra_unchanged: bool = True  # nothing at all is written (all but exit 0/1)
    tags: tuple[str, ...] = field(default=())


# The residences are a CSV: its coordinates' CRS must be stated (WGS84 here).
CHECK = (
    "check --network {net} --facilities {fac} --residences {res} --crs EPSG:4326 --quiet "
    "--no-isochrones"
)
PROPOSE = CHECK.replace("check", "propose", 1) + " --sites 1"
ISO = "isochrones --network {net} --points {fac} --quiet"
HH = "households --buildings {bld} --quiet"
CONFIG = "check --config {cfg} --quiet"


def _toml(body: str, *, encoding: str = "utf-8", bom: bool = False) -> Setup:
    """A review file in the inputs' folder: paths relative to it, out into ../out."""

    def write(f: dict[str, Path]) -> None:
        head = {
            "network": '"street.network"',
            "facilities": '"facilities.geojson"',
            "residences": '"residences.csv"',
            "isochrones": "false",
            "out": '"../out"',
            "crs": '"EPSG:4326"',
        }
        given = set(re.findall(r"^(\w+)\s*=", body, flags=re.MULTILINE))
        lines = [f"{k} = {v}" for k, v in head.items() if k not in given]
        text = "\n".join(lines) + "\n" + body + "\n"
        data = text.encode(encoding)
        f["cfg"].write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)

    return write


def _csv(name: str, frame: Callable[[pd.DataFrame], pd.DataFrame]) -> Setup:
    def write(f: dict[str, Path]) -> None:
        frame(pd.read_csv(f["res"])).to_csv(f["in"] / name, index=False)

    return write


def _facilities(name: str, change: Callable[[gpd.GeoDataFrame], gpd.GeoDataFrame]) -> Setup:
    def write(f: dict[str, Path]) -> None:
        change(gpd.read_file(f["fac"])).to_file(f["in"] / name)

    return write


def _two_layers(name: str, source: str) -> Setup:
    def write(f: dict[str, Path]) -> None:
        frame = gpd.read_file(f[source])
        frame.to_file(f["in"] / name, layer="a")
        frame.to_file(f["in"] / name, layer="b")

    return write


def _file(name: str, data: bytes) -> Setup:
    def write(f: dict[str, Path]) -> None:
        (f["tmp"] / name).parent.mkdir(parents=True, exist_ok=True)
        (f["tmp"] / name).write_bytes(data)

    return write


def _with(argv: str, flag: str, value: str) -> str:
    words = argv.split()
    words[words.index(flag) + 1] = value
    return " ".join(words)


C = Case
CASES = [
    # ---- inputs overwritten: every command refuses before any work
    C("check-out-is-inputs-folder", f"{CHECK} --out {{in}}", 2, ("--out", "holds", "{in}")),
    C("check-out-is-facilities", f"{CHECK} --out {{fac}}", 2, ("--out", "is the input")),
    C("check-out-in-network", f"{CHECK} --out {{net}}/review", 2, ("lies inside", "--network")),
    C("check-out-is-network", f"{CHECK} --out {{net}}", 2, ("--network", "street.network")),
    C("check-config-out-dot", CONFIG, 2, ("review.toml: out", "holds"), _toml('out = "."')),
    C("check-out-holds-config", f"{CONFIG} --out {{in}}", 2, ("--out", "holds"), _toml("")),
    C("propose-out-is-inputs", f"{PROPOSE} --out {{in}}", 2, ("--out", "holds")),
    C("propose-out-is-residences", f"{PROPOSE} --out {{res}}", 2, ("--out", "residences.csv")),
    C("iso-out-is-points", f"{ISO} --out {{fac}}", 2, ("--out", "--points", "facilities.geojson")),
    C("iso-map-is-points", f"{ISO} --out {{tmp}}/b.gpkg --map {{fac}}", 2, ("--map", "--points")),
    C("iso-out-in-network", f"{ISO} --out {{net}}/b.gpkg", 2, ("--out", "lies inside")),
    C("iso-out-is-map", f"{ISO} --out {{tmp}}/b.gpkg --map {{tmp}}/b.gpkg", 2, ("--map", "same")),
    C("hh-out-is-buildings", f"{HH} --out {{bld}}", 2, ("--out", "--buildings", "never")),
    C("network-save-is-source", "network {net} --save {net}", 2, ("--save", "is the input")),
    C("network-save-inside", "network {net} --save {net}/copy", 2, ("--save", "lies inside")),
    C(
        "check-out-holds-standard",
        f"{CHECK} --standard {{tmp}}/std/rules.toml --out {{tmp}}/std",
        2,
        ("--out", "--standard", "rules.toml"),
        _file("std/rules.toml", b'name = "x"\n'),
    ),
    # ---- values of the wrong type, in the review file
    C(
        "toml-speed-true",
        CONFIG,
        2,
        ("review.toml: speed_kmh", "true", "boolean"),
        _toml("speed_kmh = true"),
    ),  # fmt: skip
    C(
        "toml-speed-quoted",
        CONFIG,
        2,
        ("speed_kmh", '"4.0"', "without quotes"),
        _toml('speed_kmh = "4.0"'),
    ),  # fmt: skip
    C(
        "toml-speed-text",
        CONFIG,
        2,
        ("speed_kmh", '"fast"', "a number"),
        _toml('speed_kmh = "fast"'),
    ),  # fmt: skip
    C("toml-speed-negative", CONFIG, 2, ("speed_kmh", "-1", "> 0"), _toml("speed_kmh = -1")),
    C("toml-speed-nan", CONFIG, 2, ("speed_kmh", "nan", "finite"), _toml("speed_kmh = nan")),
    C("toml-speed-huge", CONFIG, 2, ("speed_kmh", "1e+300", "≤ 50"), _toml("speed_kmh = 1e300")),
    C("toml-snap-list", CONFIG, 2, ("snap_cap_m", "[1, 2]", "list"), _toml("snap_cap_m = [1, 2]")),
    C("toml-buffer-zero", CONFIG, 2, ("buffer_m", "0", "> 0"), _toml("buffer_m = 0")),
    C(
        "toml-bool-as-text",
        CONFIG,
        2,
        ("isochrones", '"false"', "without quotes"),
        _toml('isochrones = "false"'),
    ),  # fmt: skip
    C("toml-bool-as-int", CONFIG, 2, ("isochrones", "0", "boolean"), _toml("isochrones = 0")),
    C("toml-lang-fr", CONFIG, 2, ("lang", '"fr"', "zh, en"), _toml('lang = "fr"')),
    C("toml-basemap-number", CONFIG, 2, ("basemap", "3", "quotes"), _toml("basemap = 3")),
    C(
        "toml-allocation-typo",
        CONFIG,
        2,
        ("allocation", "nearest?"),
        _toml('allocation = "nearst"'),
    ),  # fmt: skip
    C("toml-path-number", CONFIG, 2, ("review.toml: proposed", "5"), _toml("proposed = 5")),
    C("toml-columns-text", CONFIG, 2, ("columns", "table"), _toml('columns = "id"')),
    C(
        "toml-column-number",
        CONFIG,
        2,
        ("columns.households", "7"),
        _toml("[columns]\nhouseholds = 7"),
    ),  # fmt: skip
    C(
        "toml-column-unknown",
        CONFIG,
        2,
        ("[columns]", "colour"),
        _toml('[columns]\ncolour = "red"'),
    ),  # fmt: skip
    C("toml-key-typo", CONFIG, 2, ("speeed_kmh", "speed_kmh?"), _toml("speeed_kmh = 4")),
    C("toml-encoding-bogus", CONFIG, 2, ("encoding", "klingon"), _toml('encoding = "klingon"')),
    C("toml-out-empty", CONFIG, 2, ("review.toml: out", "empty"), _toml('out = ""')),
    C("toml-value-as-table", CONFIG, 2, ("speed_kmh", "table"), _toml("[speed_kmh]\nx = 1")),
    C("toml-date", CONFIG, 2, ("standard", "date"), _toml("standard = 1979-05-27")),
    C(
        "toml-gbk",
        CONFIG,
        2,
        ("review.toml", "UTF-8", "GBK"),
        _toml('lang = "en" # 社区服务中心', encoding="gbk"),
    ),  # fmt: skip
    C("toml-invalid", CONFIG, 2, ("review.toml", "TOML"), _toml("speed_kmh = = 4")),
    C("config-is-folder", "check --config {in} --quiet", 2, ("--config", "folder")),
    C("config-missing", "check --config {tmp}/none.toml --quiet", 2, ("--config", "none.toml")),
    # ---- values of the wrong type, as flags
    C("flag-speed-text", f"{CHECK} --out {{tmp}}/o --speed-kmh fast", 2, ("--speed-kmh", "fast")),
    C("flag-speed-inf", f"{CHECK} --out {{tmp}}/o --speed-kmh inf", 2, ("--speed-kmh", "finite")),
    C("flag-snap-negative", f"{CHECK} --out {{tmp}}/o --snap-cap-m -5", 2, ("--snap-cap-m",)),
    C("flag-lang", f"{CHECK} --out {{tmp}}/o --lang fr", 2, ("--lang", "zh, en")),
    C("flag-encoding", f"{CHECK} --out {{tmp}}/o --encoding klingon", 2, ("--encoding",)),
    C("flag-sites-zero", f"{PROPOSE} --out {{tmp}}/o --sites 0", 2, ("--sites", "≥ 1")),
    C("flag-sites-fraction", f"{PROPOSE} --out {{tmp}}/o --sites 1.5", 2, ("--sites", "whole")),
    C("flag-spacing-zero", f"{PROPOSE} --out {{tmp}}/o --spacing-m 0", 2, ("--spacing-m",)),
    C("flag-method", f"{PROPOSE} --out {{tmp}}/o --method best", 2, ("--method", "greedy")),
    C("flag-minutes-text", f"{ISO} --out {{tmp}}/b.gpkg --minutes 5 x", 2, ("--minutes", "'x'")),
    C(
        "flag-distances-neg",
        f"{ISO} --out {{tmp}}/b.gpkg --distances-m -100",
        2,
        ("--distances-m",),
    ),
    C(
        "flag-household-size",
        f"{HH} --out {{tmp}}/r.gpkg --population {{grid}} --household-size abc",
        2,
        ("--household-size", "abc"),
    ),  # fmt: skip
    C(
        "flag-levels-nan",
        f"{HH} --out {{tmp}}/r.gpkg --default-levels nan",
        2,
        ("--default-levels",),
    ),
    # ---- file-system faults found before any work
    C(
        "check-out-is-a-file",
        f"{CHECK} --out {{tmp}}/taken.txt",
        2,
        ("--out", "taken.txt", "file"),
        _file("taken.txt", b"mine"),
    ),  # fmt: skip
    C(
        "check-out-below-a-file",
        f"{CHECK} --out {{tmp}}/taken.txt/review",
        2,
        ("--out", "file"),
        _file("taken.txt", b"mine"),
    ),  # fmt: skip
    C(
        "iso-out-missing-folder",
        f"{ISO} --out {{tmp}}/nowhere/b.gpkg",
        2,
        ("--out", "does not exist"),
    ),
    C("iso-out-is-folder", f"{ISO} --out {{in}}", 2, ("--out", "cannot write isochrones")),
    C("iso-out-suffix", f"{ISO} --out {{tmp}}/b.shp", 2, ("--out", ".gpkg")),
    C("hh-out-suffix", f"{HH} --out {{tmp}}/r.csv", 2, ("--out", "FILE.gpkg")),
    # ---- missing inputs and bad data: the message names the file and the column or row
    C(
        "check-facilities-missing",
        _with(CHECK, "--facilities", "{tmp}/none.gpkg") + " --out {tmp}/o",
        2,
        ("--facilities", "none.gpkg", "does not exist"),
    ),  # fmt: skip
    C(
        "check-network-garbage",
        _with(CHECK, "--network", "{tmp}/city.osm") + " --out {tmp}/o",
        2,
        ("city.osm",),
        _file("city.osm", b"not xml at all"),
    ),  # fmt: skip
    C(
        "check-households-negative",
        _with(CHECK, "--residences", "{in}/neg.csv") + " --out {tmp}/o",
        2,
        ("neg.csv", "households", "row 2"),
        _csv("neg.csv", lambda d: d.assign(households=[100, -5, 100, 100])),
    ),  # fmt: skip
    C(
        "check-households-text",
        _with(CHECK, "--residences", "{in}/txt.csv") + " --out {tmp}/o",
        2,
        ("txt.csv", "households", "'many'"),
        _csv("txt.csv", lambda d: d.assign(households=["100", "many", "1", "2"])),
    ),  # fmt: skip
    C(
        "check-no-households-col",
        _with(CHECK, "--residences", "{in}/nohh.csv") + " --out {tmp}/o",
        2,
        ("nohh.csv", "households", "--households-col"),
        _csv("nohh.csv", lambda d: d.drop(columns="households")),
    ),  # fmt: skip
    C(
        "check-no-lon-col",
        _with(CHECK, "--residences", "{in}/xy.csv") + " --out {tmp}/o",
        2,
        ("xy.csv", "--lon-col", "columns.lon"),
        _csv("xy.csv", lambda d: d.rename(columns={"lon": "e", "lat": "n"})),
    ),  # fmt: skip
    C(
        "check-floor-area-col",
        f"{CHECK} --out {{tmp}}/o --floor-area-m2-col area",
        2,
        ("facilities.geojson", "'area'", "--floor-area-m2-col"),
    ),  # fmt: skip
    C(
        "check-floor-area-empty",
        _with(CHECK, "--facilities", "{in}/fa.geojson") + " --out {tmp}/o",
        2,
        ("fa.geojson", "--floor-area-m2-col", "F2"),
        _facilities("fa.geojson", lambda g: g.assign(floor_area_m2=[300.0, None])),
    ),  # fmt: skip
    C(
        "check-two-layers",
        _with(CHECK, "--facilities", "{in}/two.gpkg") + " --out {tmp}/o",
        2,
        ("two.gpkg", "--facilities-layer"),
        _two_layers("two.gpkg", "fac"),
    ),  # fmt: skip
    C(
        "check-layer-missing",
        _with(CHECK, "--facilities", "{in}/two.gpkg") + " --facilities-layer c --out {tmp}/o",
        2,
        ("two.gpkg", "--facilities-layer"),
        _two_layers("two.gpkg", "fac"),
    ),  # fmt: skip
    C("check-bad-crs", f"{CHECK} --out {{tmp}}/o --crs EPSG:99999", 2, ("--crs", "EPSG:99999")),
    C(
        "toml-bad-crs",
        CONFIG,
        2,
        ("facilities.geojson", "EPSG:99999", "review file: crs"),
        _toml('crs = "EPSG:99999"'),
    ),
    C(
        "check-bad-category",
        _with(CHECK, "--facilities", "{in}/cat.geojson") + " --out {tmp}/o",
        2,
        ("cat.geojson", "category"),
        _facilities("cat.geojson", lambda g: g.assign(category=["", "bakery?"])),
    ),  # fmt: skip
    C("check-unknown-standard", f"{CHECK} --out {{tmp}}/o --standard no_such", 2, ("no_such",)),
    C(
        "check-proposed-clash",
        f"{CHECK} --out {{tmp}}/o --proposed {{fac}}",
        2,
        ("--proposed", "--facilities", "F1"),
    ),  # fmt: skip
    C(
        "check-tianditu-no-key",
        f"{CHECK} --out {{tmp}}/o --basemap tianditu",
        2,
        ("--tianditu-key",),
    ),
    C(
        "propose-needs-count",
        CHECK.replace("check", "propose", 1) + " --out {tmp}/o",
        2,
        ("--sites",),
    ),
    C(
        "iso-points-two-layers",
        _with(ISO, "--points", "{in}/two.gpkg") + " --out {tmp}/b.gpkg",
        2,
        ("two.gpkg", "--points-layer"),
        _two_layers("two.gpkg", "fac"),
    ),  # fmt: skip
    C(
        "iso-points-missing",
        _with(ISO, "--points", "{tmp}/no.gpkg") + " --out {tmp}/b.gpkg",
        2,
        ("--points", "no.gpkg"),
    ),  # fmt: skip
    C(
        "hh-levels-col",
        f"{HH} --out {{tmp}}/r.gpkg --levels-col storeys",
        2,
        ("buildings.geojson", "'storeys'", "--levels-col"),
    ),  # fmt: skip
    C(
        "hh-two-layers",
        _with(HH, "--buildings", "{in}/b2.gpkg") + " --out {tmp}/r.gpkg",
        2,
        ("b2.gpkg", "--buildings-layer"),
        _two_layers("b2.gpkg", "bld"),
    ),  # fmt: skip
    C(
        "hh-population-col",
        f"{HH} --out {{tmp}}/r.gpkg --population {{grid}}",
        2,
        ("grid.gpkg", "'population'", "--population-col"),
    ),  # fmt: skip
    C("network-missing", "network {tmp}/none.osm.pbf", 2, ("none.osm.pbf",)),
    C(
        "network-save-is-file",
        "network {net} --save {tmp}/taken.txt",
        2,
        ("--save", "taken.txt"),
        _file("taken.txt", b"mine"),
    ),  # fmt: skip
    C(
        "check-lon-lat-swapped",
        _with(CHECK, "--residences", "{in}/sw.csv") + " --out {tmp}/o",
        2,
        ("sw.csv", "look swapped", "--lon-col"),
        _csv("sw.csv", lambda d: d.rename(columns={"lon": "lat", "lat": "lon"})),
    ),  # fmt: skip
    C(
        "check-duplicate-ids",
        _with(CHECK, "--residences", "{in}/dup.csv") + " --out {tmp}/o",
        2,
        ("dup.csv", "duplicate ids", "R1"),
        _csv("dup.csv", lambda d: d.assign(id=["R1", "R1", "R3", "R4"])),
    ),  # fmt: skip
    C(
        "check-old-excel",
        _with(CHECK, "--facilities", "{tmp}/fac.xls") + " --out {tmp}/o",
        2,
        ("fac.xls", ".xlsx"),
        _file("fac.xls", b"\xd0\xcf\x11\xe0"),
    ),  # fmt: skip
    C(
        "check-communities-points",
        f"{CHECK} --out {{tmp}}/o --communities {{fac}}",
        2,
        ("facilities.geojson", "must be polygons"),
    ),
    C(
        "check-standard-file",
        f"{CHECK} --out {{tmp}}/o --standard {{tmp}}/my.toml",
        2,
        ("my.toml", "rule 1", "'healthh'", "not in the vocabulary"),
        _file("my.toml", b'name = "my"\n[[rules]]\ncategory = "healthh"\nmax_walk_m = 1000\n'),
    ),  # fmt: skip
    # ---- accepted: a review file saved as UTF-8 with a BOM (Windows Notepad)
    C("toml-utf8-bom", CONFIG, 0, (), _toml('lang = "en"', bom=True), extra_unchanged=False),
]


# The Chinese text (printed first, before "(English)") of the cases whose message has one: a
# distinctive phrase, and the file, column, row or fix it names.
ZH = {
    "check-facilities-missing": ("文件不存在", "none.gpkg"),
    "check-network-garbage": ("无法作为 OSM 数据读取", "city.osm"),
    "check-households-negative": ("列 'households'（户数）在第 2 行", "有负值", "neg.csv"),
    "check-households-text": ("有非数字的值", "'many'", "txt.csv"),
    "check-no-households-col": ("缺少列 'households'", "--households-col", "nohh.csv"),
    "check-no-lon-col": ("找不到经度列", "--lon-col（评估文件：columns.lon）", "xy.csv"),
    "check-floor-area-col": ("缺少列 'area'", "--floor-area-m2-col", "facilities.geojson"),
    "check-floor-area-empty": ("设施缺少该值", "F2", "--floor-area-m2-col", "［输入："),
    "check-two-layers": ("有 2 个图层", "--facilities-layer", "two.gpkg"),
    "check-layer-missing": ("没有图层 'c'", "--facilities-layer", "two.gpkg"),
    "check-bad-crs": ("不是 pyproj 认识的坐标系", "--crs EPSG:99999"),
    "toml-bad-crs": ("不是 pyproj 认识的坐标系", "评估文件：crs", "facilities.geojson"),
    "check-bad-category": ("列 'category'（设施类别）在第 1 行", "为空", "cat.geojson"),
    "check-unknown-standard": ("未知的标准 'no_such'", "内置标准"),
    "iso-points-two-layers": ("有 2 个图层", "--points-layer 选择", "two.gpkg"),
    "iso-points-missing": ("文件不存在", "no.gpkg"),
    "check-lon-lat-swapped": ("经度和纬度似乎写反了", "--lon-col / --lat-col", "sw.csv"),
    "check-duplicate-ids": ("重复的编号", "R1", "第 1、2 行", "dup.csv"),
    "check-old-excel": ("旧格式的工作簿", ".xlsx", "fac.xls"),
    "check-communities-points": ("社区必须是面", "facilities.geojson"),
    "check-standard-file": ("标准文件", "第 1 条规则", "不在类别词表中", "my.toml"),
}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Inputs and an earlier review, made once; each case works on a copy."""
    root = tmp_path_factory.mktemp("corpus")
    inputs = root / "in"
    make_review(inputs)
    make_buildings(inputs)
    files = _files(root)
    assert main(CHECK.format(**files).split() + ["--out", str(root / "earlier")]) == 0
    return root


def _files(root: Path) -> dict[str, Path]:
    inputs = root / "in"
    return {
        "tmp": root,
        "in": inputs,
        "net": inputs / "street.network",
        "fac": inputs / "facilities.geojson",
        "res": inputs / "residences.csv",
        "bld": inputs / "buildings.geojson",
        "grid": inputs / "grid.gpkg",
        "cfg": inputs / "review.toml",
        "earlier": root / "earlier",
    }


def snapshot(root: Path) -> dict[str, str]:
    """sha256 of every file below ``root``, by relative path (folders as entries too)."""
    out = {}
    for path in sorted(root.rglob("*")):
        rel = str(path.relative_to(root))
        out[rel] = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dir"
    return out


_REVIEW_KEY = re.compile(r"(?:review file: |评估文件：)([\w.]+)")
_KWARGS = set(LIBRARY_FLAGS.values()) | {"population_col", "type_col", "levels_col"}


def assert_clean_message(err: str, command: str) -> None:
    """No traceback; one error line first; every flag and key named exists for ``command``."""
    assert "Traceback" not in err, err
    known = flags(command)
    named = set(re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", err))
    assert named <= known, f"{sorted(named - known)} are not flags of planner {command}: {err}"
    for key in _REVIEW_KEY.findall(err):
        assert key in KEYS, f"review file key {key} does not exist: {err}"
    left = {m for m in re.findall(r"\b([a-z_]+)=", err) if m in _KWARGS}
    assert not left, f"library keywords {left} left in a CLI message: {err}"


def run_case(case: Case, root: Path, capsys: pytest.CaptureFixture[str]) -> str:
    files = _files(root)
    if case.setup is not None:
        case.setup(files)
    before = snapshot(root)
    argv = [word.format(**files) for word in case.argv.split()]
    code = main(argv)
    err = capsys.readouterr().err
    assert code == case.code, err
    assert_clean_message(err, argv[0])
    for text in case.names:
        assert text.format(**files) in err, f"{text!r} not in {err}"
    after = snapshot(root)
    if case.extra_unchanged:
        assert after == before, "files changed: " + str(set(after.items()) ^ set(before.items()))
    else:
        assert {k: v for k, v in after.items() if k in before} == before
    assert not [p for p in root.rglob("*.partial-*")], "a staging folder was left"
    return err


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_corpus(case: Case, template: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    root = tmp_path / "w"
    shutil.copytree(template, root, symlinks=True)
    err = run_case(case, root, capsys)
    if case.id in ZH:  # under the Chinese terminal (the default): Chinese first, then English
        chinese, english, _ = err.partition("(English)")
        assert english, f"no Chinese text: {err}"
        for text in ZH[case.id]:
            assert text.format(**_files(root)) in chinese, f"{text!r} not in {chinese}"


def test_every_chinese_expectation_is_a_case():
    assert set(ZH) <= {c.id for c in CASES}


def test_the_corpus_is_large_enough():
    assert len(CASES) >= 60
    assert {c.argv.split()[0] for c in CASES} == {
        "check", "propose", "isochrones", "network", "households",
    }  # fmt: skip
    assert len({c.id for c in CASES}) == len(CASES)


# ---- faults while writing: a full disk, a read-only folder ---------------------------------


def _mount(target: Path, options: str) -> bool:
    import subprocess

    target.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(target)],
        capture_output=True,
        check=False,
    )
    return done.returncode == 0


def _umount(target: Path) -> None:
    import subprocess

    subprocess.run(["umount", "-l", str(target)], capture_output=True, check=False)


@pytest.fixture()
def work(template: Path, tmp_path: Path) -> Path:
    root = tmp_path / "w"
    shutil.copytree(template, root, symlinks=True)
    return root


WRITERS = {
    "check": CHECK + " --out {out}",
    "propose": PROPOSE + " --out {out}",
    "isochrones": ISO + " --out {out}/b.gpkg --map {out}/b.html",
    "households": HH + " --out {out}/r.gpkg",
}


def _earlier_review(folder: Path) -> dict[str, str]:
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("summary.json", "gaps.csv", "map.html", "b.gpkg", "r.gpkg"):
        (folder / name).write_text(f"earlier {name}\n", encoding="utf-8")
    return snapshot(folder)


@pytest.mark.parametrize("command", list(WRITERS))
def test_full_disk(command: str, work: Path, capsys: pytest.CaptureFixture[str]):
    """A small tmpfs where the machine allows it (root): the real ENOSPC and GDAL's errors."""
    disk = work / "disk"
    if not _mount(disk, "size=96k"):
        pytest.skip("cannot mount a tmpfs here; test_injected_enospc covers it")
    try:
        out = disk / "earlier"
        earlier = _earlier_review(out)
        inputs = snapshot(work / "in")
        code = main(WRITERS[command].format(out=out, **_files(work)).split())
        err = capsys.readouterr().err
        assert code == 3, err
        assert_clean_message(err, command)
        assert "full" in err and str(disk) in err, err
        assert snapshot(out) == earlier
        assert snapshot(work / "in") == inputs
        assert not list(disk.glob(".*partial-*"))
    finally:
        _umount(disk)


@pytest.mark.parametrize("command", list(WRITERS))
@pytest.mark.parametrize("fault", [errno.ENOSPC, errno.EACCES, errno.EROFS])
def test_injected_faults(command: str, fault: int, work: Path, capsys, monkeypatch):
    """An OSError from the writers (any machine): exit 3, the earlier review intact."""
    import planner.outputs

    def failing(*args, **kwargs):
        raise OSError(fault, "injected")

    monkeypatch.setattr(planner.outputs, "write_layer", failing)
    monkeypatch.setattr(planner.outputs.gpd.GeoDataFrame, "to_file", failing)
    out = work / "earlier-fake"
    earlier = _earlier_review(out)
    inputs = snapshot(work / "in")
    code = main(WRITERS[command].format(out=out, **_files(work)).split())
    err = capsys.readouterr().err
    assert code == 3, err
    assert_clean_message(err, command)
    assert str(out) in err
    words = {errno.ENOSPC: "full", errno.EACCES: "permission", errno.EROFS: "read-only"}
    assert words[fault] in err
    assert snapshot(out) == earlier
    assert snapshot(work / "in") == inputs
    assert not list(work.rglob("*.partial-*"))


@pytest.mark.parametrize("command", list(WRITERS))
def test_read_only_folder(command: str, work: Path, capsys: pytest.CaptureFixture[str]):
    """Refused before any work (exit 2), naming the folder."""
    import os

    ro = work / "ro"
    mounted = _mount(ro, "ro,size=64k")
    if not mounted:
        if os.geteuid() == 0:
            pytest.skip("root without mount: permissions do not stop root")
        ro.mkdir(exist_ok=True)
        ro.chmod(0o555)
    try:
        before = snapshot(work)
        code = main(WRITERS[command].format(out=ro, **_files(work)).split())
        err = capsys.readouterr().err
        assert code == 2, err
        assert_clean_message(err, command)
        assert str(ro) in err and ("read-only" in err or "permission" in err), err
        assert snapshot(work) == before
    finally:
        if mounted:
            _umount(ro)
        else:
            ro.chmod(0o755)
