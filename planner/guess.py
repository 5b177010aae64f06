"""``planner init FOLDER``: guess a review's inputs from the files in a folder, write review.toml.

`guess_review` looks at every file of a folder (not its sub-folders, except a saved network) and
guesses which is the walking network (``.osm``, ``.osm.pbf``, ``.osm.bz2`` or a saved network
folder), the facilities, the residences and the communities: by geometry type, column names
(户数/households, 类别/category, 社区名称/街道 ...) and file names. For each layer it guesses the
columns, the attribute encoding (a GBK ``.dbf`` without ``.cpg``) and the CRS (``.prj``,
GeoPackage, or the range of a table's longitudes/latitudes). It never guesses what cannot be
seen: a CSV/XLSX of longitudes/latitudes may be WGS84, GCJ-02 or BD-09, so its ``crs`` is written
commented out with a note. `write_review_toml` writes the guess as a commented review file in
the per-layer format (``[facilities]`` ``path``/``crs``/``encoding``/``layer``/``sheet``/
``columns``) for the user to check.
"""

from __future__ import annotations

import json
import logging
import os
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd

from planner._files import write_text_atomic
from planner.layers import COMMUNITY_COLUMNS
from planner.standards import is_known_category, normalise_category

log = logging.getLogger(__name__)

KINDS: Final = ("facilities", "residences", "communities")
"""The layers `guess_review` places, in the order the review file lists them."""

COLUMN_ARGUMENTS: Final = {
    "id": "id_col",
    "name": "name_col",
    "category": "category_col",
    "floor_area_m2": "floor_area_col",
    "households": "households_col",
    "lon": "lon_col",
    "lat": "lat_col",
    "subdistrict": "subdistrict_col",
    "district": "district_col",
}
"""Keys of a layer's ``columns = {...}`` table -> the reader's keyword argument."""

_NETWORK_SUFFIXES: Final = (".osm", ".osm.pbf", ".pbf", ".osm.bz2", ".bz2")
_VECTOR_SUFFIXES: Final = (".shp", ".gpkg", ".geojson", ".json")
_TABLE_SUFFIXES: Final = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm")
_LON: Final = ("lon", "lng", "long", "longitude", "x", "经度")
_LAT: Final = ("lat", "latitude", "y", "纬度")
_COLUMNS: Final = {
    "facilities": {
        "id": ("id", "编号", "设施编号", "代码", "编码"),
        "name": ("name", "名称", "设施名称", "名字"),
        "category": ("category", "类别", "类型", "设施类型", "设施类别", "分类", "type"),
        "floor_area_m2": (
            "floor_area_m2",
            "建筑面积",
            "面积",
            "建筑面积(㎡)",
            "建筑面积(m2)",
            "面积(㎡)",
            "area_m2",
        ),
    },
    "residences": {
        "id": ("id", "小区编号", "编号", "代码", "编码"),
        "name": ("name", "小区名称", "名称", "小区", "名字"),
        "households": ("households", "户数", "总户数", "住户数", "居民户数", "hh"),
    },
    "communities": {k: (k, *v) for k, v in COMMUNITY_COLUMNS.items()},
}
_NAME_HINTS: Final = {
    "facilities": ("设施", "facilit", "poi", "服务", "配套"),
    "residences": ("小区", "住宅", "居住", "residen", "楼", "building", "home"),
    "communities": ("社区", "communit", "边界", "boundar", "村居"),
}
_NO_CRS_NOTE: Final = (
    'NOT GUESSED: the longitudes/latitudes lie in China, where WGS84 (GPS: "EPSG:4326"), '
    'GCJ-02 (Amap/Gaode, Tencent: "gcj02") and BD-09 (Baidu: "bd09") cannot be told apart '
    "by looking; ask where the coordinates came from, then uncomment the crs line and set it"
)


@dataclass
class LayerGuess:
    """What `guess_review` guessed about one layer file.

    Attributes
    ----------
    kind
        ``facilities``, ``residences`` or ``communities``.
    path
        The file, relative to the folder.
    geometry
        ``point``, ``polygon``, ``line`` or ``table`` (longitude/latitude columns).
    columns
        Review-file column keys (``id``, ``name``, ``category``...) -> the file's column.
    crs
        The CRS to write (``"EPSG:4547"``) when it is known, else None.
    crs_from
        Where the CRS comes from (``.prj``, GeoPackage...), or why it is not known.
    encoding, layer, sheet
        The attribute encoding to write (GBK without ``.cpg``), the GeoPackage layer, the sheet.
    notes
        What else the user should check.
    """

    kind: str
    path: str
    geometry: str
    columns: dict[str, str] = field(default_factory=dict)
    crs: str | None = None
    crs_from: str = ""
    encoding: str | None = None
    layer: str | None = None
    sheet: str | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class Guess:
    """A folder's guessed review: the network, the layers by kind, what could not be placed."""

    folder: Path
    network: str | None = None
    network_note: str = ""
    layers: dict[str, LayerGuess] = field(default_factory=dict)
    unplaced: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class _Candidate:
    path: str
    geometry: str
    columns: list[str]
    frame: pd.DataFrame
    crs: str | None
    crs_from: str
    encoding: str | None
    layer: str | None = None
    sheet: str | None = None
    notes: list[str] = field(default_factory=list)


def _is_network(path: Path) -> bool:
    name = path.name.lower()
    if path.is_dir():
        return (path / "network.json").is_file()
    return name.endswith(_NETWORK_SUFFIXES) and not name.endswith((".shp", ".gpkg"))


def _crs_text(crs: Any) -> tuple[str | None, str]:
    from pyproj import CRS

    if crs is None:
        return None, ""
    parsed = CRS.from_user_input(crs)
    code = parsed.to_epsg()
    return (f"EPSG:{code}" if code else parsed.to_string()), parsed.name


def _vector_candidates(path: Path, folder: Path) -> list[_Candidate]:
    import pyogrio

    rel = path.relative_to(folder).as_posix()
    layers = [str(row[0]) for row in pyogrio.list_layers(path)]
    out = []
    for layer in layers:
        encoding, notes = None, []
        options: dict[str, Any] = {"layer": layer if len(layers) > 1 else None}
        if path.suffix.lower() == ".shp":
            cpg = [path.with_suffix(s) for s in (".cpg", ".CPG") if path.with_suffix(s).exists()]
            if cpg:
                notes.append(f"attribute encoding from {cpg[0].name}")
            else:
                try:
                    pyogrio.read_dataframe(path, encoding="UTF-8", max_features=1000)
                except UnicodeDecodeError:
                    encoding = "gbk"
        frame = pyogrio.read_dataframe(
            path, encoding=encoding, max_features=1000, read_geometry=True, **options
        )
        crs, crs_name = _crs_text(frame.crs)
        kinds = set(frame.geometry.geom_type.dropna().unique()) if len(frame) else set()
        geometry = (
            "polygon"
            if kinds and kinds <= {"Polygon", "MultiPolygon"}
            else "point"
            if kinds and kinds <= {"Point", "MultiPoint"}
            else "line"
            if kinds
            else "table"
        )
        sidecar = {".shp": ".prj", ".gpkg": "the GeoPackage"}.get(path.suffix.lower(), "the file")
        crs_from = f"from {sidecar}: {crs_name}" if crs else "the layer states no CRS"
        columns = [str(c) for c in frame.columns if c != frame.geometry.name]
        out.append(
            _Candidate(
                rel,
                geometry,
                columns,
                pd.DataFrame(frame.drop(columns=frame.geometry.name)),
                crs,
                crs_from,
                encoding,
                layer=options["layer"],
                notes=notes,
            )
        )
    return out


def _table_candidates(path: Path, folder: Path) -> list[_Candidate]:
    rel = path.relative_to(folder).as_posix()
    encoding = None
    sheet = None
    notes = []
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        with pd.ExcelFile(path, engine="openpyxl") as book:
            sheets = {
                str(n): pd.read_excel(book, sheet_name=n, dtype=object) for n in book.sheet_names
            }
        filled = [n for n, f in sheets.items() if len(f.columns)]
        name = filled[0] if filled else next(iter(sheets))
        frame = sheets[name]
        if len(filled) > 1:
            sheet = name
            notes.append(f"sheets with data: {', '.join(filled)}; guessed the first")
    else:
        sep = "\t" if path.suffix.lower() == ".tsv" else ","
        frame = pd.DataFrame()
        for enc in ("utf-8-sig", "gb18030"):
            try:
                frame = pd.read_csv(path, sep=sep, encoding=enc, dtype=str, nrows=5000)
            except UnicodeDecodeError:
                continue
            if enc != "utf-8-sig":
                encoding = "gbk"
            break
    columns = [str(c) for c in frame.columns]
    lon = _first(columns, _LON)
    lat = _first(columns, _LAT)
    if lon is None or lat is None:
        return []
    crs, crs_from = _table_crs(frame[lon], frame[lat])
    return [
        _Candidate(rel, "table", columns, frame, crs, crs_from, encoding, sheet=sheet, notes=notes)
    ]


def _table_crs(lon_values: pd.Series, lat_values: pd.Series) -> tuple[str | None, str]:
    lon = pd.to_numeric(lon_values, errors="coerce").to_numpy(dtype=float)
    lat = pd.to_numeric(lat_values, errors="coerce").to_numpy(dtype=float)
    ok = np.isfinite(lon) & np.isfinite(lat)
    if not ok.any():
        return None, "NOT GUESSED: the coordinate columns hold no numbers"
    lon, lat = lon[ok], lat[ok]
    if (np.abs(lon) <= 180).all() and (np.abs(lat) <= 90).all():
        if ((lon > 72) & (lon < 138) & (lat > 0.8) & (lat < 56)).all():
            return None, _NO_CRS_NOTE
        return None, (
            'NOT GUESSED: longitudes/latitudes outside China (WGS84 is likely: "EPSG:4326"); '
            "uncomment the crs line once checked"
        )
    zone = np.floor(lon / 1e6)
    if (zone == zone[0]).all() and 25 <= zone[0] <= 45:
        code = 4513 + int(zone[0]) - 25
        return None, (
            f"NOT GUESSED: eastings carry the zone prefix {int(zone[0])}, which looks like "
            f'CGCS2000 3-degree Gauss-Kruger zone {int(zone[0])} ("EPSG:{code}"); check it'
        )
    return None, (
        "NOT GUESSED: the coordinates are projected (metres) without a zone prefix; set the "
        "CGCS2000 Gauss-Kruger CM variant (EPSG:4534-4554) or the CRS they were exported in"
    )


def _first(columns: Sequence[str], names: Sequence[str]) -> str | None:
    folded = {c.strip().lower(): c for c in columns}
    for name in names:
        if name.lower() in folded:
            return folded[name.lower()]
    return None


def _columns_for(kind: str, columns: Sequence[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for key, names in _COLUMNS[kind].items():
        column = _first(columns, names)
        if column is not None and column not in found.values():
            found[key] = column
    return found


def _score(candidate: _Candidate, kind: str) -> int:
    cols = _columns_for(kind, candidate.columns)
    stem = Path(candidate.path).stem.lower() + " " + (candidate.layer or "").lower()
    score = 2 * sum(hint in stem for hint in _NAME_HINTS[kind])
    if kind == "communities":
        if candidate.geometry != "polygon":
            return -1
        return score + 3 + len({"subdistrict", "district"} & set(cols)) + ("name" in cols)
    if candidate.geometry not in ("point", "table", "polygon"):
        return -1
    key = "category" if kind == "facilities" else "households"
    if key not in cols:
        return -1 if candidate.geometry == "polygon" else score - 1
    return score + 4 + (candidate.geometry != "polygon")


def guess_review(folder: str | os.PathLike[str]) -> Guess:
    """Guess a review's inputs from the files in ``folder`` (see the module's docstring).

    Returns
    -------
    Guess
        The network, a `LayerGuess` per kind found, the files not placed, notes. Nothing is
        written and no file is modified.
    """
    base = Path(folder)
    guess = Guess(folder=base)
    candidates: list[_Candidate] = []
    networks: list[str] = []
    for path in sorted(base.iterdir()):
        name = path.name.lower()
        if path.name.startswith("."):
            continue
        if _is_network(path):
            networks.append(path.relative_to(base).as_posix() + ("/" if path.is_dir() else ""))
            continue
        if not path.is_file():
            continue
        try:
            if name.endswith(_VECTOR_SUFFIXES):
                candidates.extend(_vector_candidates(path, base))
            elif name.endswith(_TABLE_SUFFIXES):
                found = _table_candidates(path, base)
                if not found:
                    guess.unplaced.append(f"{path.name}: a table without longitude/latitude")
                candidates.extend(found)
        except Exception as exc:  # noqa: BLE001 - a file that cannot be read is reported, not fatal
            guess.unplaced.append(f"{path.name}: cannot be read ({exc})")
    if networks:
        guess.network = networks[0].rstrip("/")
        if len(networks) > 1:
            guess.network_note = f"several networks ({', '.join(networks)}); guessed the first"
        else:
            guess.network_note = "the only OSM file or saved network in the folder"
    else:
        guess.notes.append(
            "no walking network found (.osm, .osm.pbf, .osm.bz2 or a saved network folder): "
            "set network = ..."
        )
    taken: set[int] = set()
    for kind in ("communities", "facilities", "residences"):
        scores = [(_score(c, kind), i) for i, c in enumerate(candidates) if i not in taken]
        scores = [s for s in scores if s[0] >= 0]
        if not scores:
            guess.notes.append(f"no {kind} layer recognised: set [{kind}] path = ...")
            continue
        best = max(scores, key=lambda s: (s[0], -s[1]))
        taken.add(best[1])
        guess.layers[kind] = _layer_guess(kind, candidates[best[1]])
    for i, c in enumerate(candidates):
        if i not in taken:
            where = f" (layer {c.layer})" if c.layer else ""
            guess.unplaced.append(f"{c.path}{where}: {c.geometry}s, not placed")
    guess.layers = {k: guess.layers[k] for k in KINDS if k in guess.layers}
    return guess


def _layer_guess(kind: str, c: _Candidate) -> LayerGuess:
    columns = _columns_for(kind, c.columns)
    notes = list(c.notes)
    if c.geometry == "table":
        columns["lon"] = str(_first(c.columns, _LON))
        columns["lat"] = str(_first(c.columns, _LAT))
    if kind == "facilities" and "category" in columns:
        notes.extend(_category_notes(c.frame[columns["category"]]))
    needed = {"facilities": ("category",), "residences": ("households",), "communities": ()}
    for key in needed[kind]:
        if key not in columns:
            notes.append(f"no {key} column recognised: set columns.{key} to the file's column")
    return LayerGuess(
        kind,
        c.path,
        c.geometry,
        columns,
        c.crs,
        c.crs_from,
        c.encoding,
        c.layer,
        c.sheet,
        notes,
    )


def _category_notes(values: pd.Series) -> list[str]:
    labels = values.dropna().astype(str).str.strip()
    unmapped = {}
    for label, count in labels.value_counts(sort=False).items():
        try:
            code = normalise_category(str(label))
        except ValueError:  # InputError: a label without usable text is simply unmapped
            code = ""
        if not code or not is_known_category(code):
            unmapped[str(label)] = int(count)
    if not unmapped:
        return []
    shown = ", ".join(f"{k} ({v})" for k, v in sorted(unmapped.items()))
    return [f"category labels the built-in table does not know: {shown}; map them to categories"]


def _q(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _inline(columns: Mapping[str, str]) -> str:
    return "{ " + ", ".join(f"{k} = {_q(v)}" for k, v in columns.items()) + " }"


def review_toml(guess: Guess) -> str:
    """The text `write_review_toml` writes (see there)."""
    lines = [
        f"# review.toml written by `planner init` from the files in {guess.folder.name or '.'}.",
        "# Everything below is a GUESS: check each line against your data before running",
        "# `planner check --config review.toml`. Paths are relative to this file.",
        "",
    ]
    if guess.network:
        lines.append(f"network = {_q(guess.network)}  # guessed: {guess.network_note}")
    else:
        lines.append('# network = "..."  # NOT FOUND: an .osm/.osm.pbf/.osm.bz2 file or a folder')
    lines += [
        'standard = "community_service"  # or gb50180, gb50180_15min/_10min/_5min, a TOML file',
        'lang = "zh"',
        'out = "review"  # the output folder',
        "",
    ]
    for note in guess.notes:
        lines.append(f"# NOTE: {note}")
    if guess.notes:
        lines.append("")
    for kind, layer in guess.layers.items():
        what = {"table": "a table of longitudes/latitudes"}.get(
            layer.geometry, f"{layer.geometry}s"
        )
        lines.append(f"[{kind}]  # guessed: {what}")
        lines.append(f"path = {_q(layer.path)}")
        if layer.layer is not None:
            lines.append(f"layer = {_q(layer.layer)}")
        if layer.sheet is not None:
            lines.append(f"sheet = {_q(layer.sheet)}")
        if layer.geometry == "table":
            lines += [f"# {line}" for line in textwrap.wrap(layer.crs_from, 96)]
            lines += [
                '# crs = "gcj02"      # Amap/Gaode, Tencent',
                '# crs = "bd09"       # Baidu',
                '# crs = "EPSG:4326"  # WGS84: GPS, OpenStreetMap, Tianditu',
            ]
        elif layer.crs is not None:
            lines.append(f"# CRS {layer.crs_from} ({layer.crs}): nothing to set")
        else:
            lines.append(f'# {layer.crs_from}: set crs = "EPSG:..."')
            lines.append('# crs = "EPSG:4490"')
        if layer.encoding is not None:
            why = "no .cpg and not UTF-8" if layer.path.lower().endswith(".shp") else "not UTF-8"
            lines.append(f"encoding = {_q(layer.encoding)}  # guessed: {why}")
        if layer.columns:
            lines.append(f"columns = {_inline(layer.columns)}")
        for note in layer.notes:
            lines.append(f"# {note}")
        lines.append("")
    if guess.unplaced:
        lines.append("# Files not used (set them above if one of them is a layer):")
        lines += [f"#   {item}" for item in guess.unplaced]
        lines.append("")
    return "\n".join(lines)


def write_review_toml(guess: Guess, path: str | os.PathLike[str]) -> Path:
    """Write ``guess`` as a commented review file (atomically) and return its path.

    Keys written: top-level ``network``, ``standard``, ``lang``, ``out``; per layer a table
    ``[facilities]``/``[residences]``/``[communities]`` with ``path``, ``layer`` (GeoPackage with
    several layers), ``sheet`` (workbook with several sheets), ``encoding`` (GBK without
    ``.cpg``), ``columns = { id = ..., name = ..., category = ..., floor_area_m2 = ...,
    households = ..., lon = ..., lat = ..., subdistrict = ..., district = ... }`` and, for a
    layer whose CRS cannot be seen, ``crs`` commented out with a note. Every guess is commented.
    """
    return write_text_atomic(path, review_toml(guess))


def reader_arguments(
    settings: Mapping[str, Any], *, folder: str | os.PathLike[str] = "."
) -> dict[str, Any]:
    """A layer's review-file table (``path``, ``crs``, ``encoding``, ``layer``, ``sheet``,
    ``columns``) as keyword arguments of its reader (``source=``, ``crs=``, ``id_col=``...),
    the path taken relative to ``folder``."""
    out: dict[str, Any] = {"source": Path(folder) / str(settings["path"])}
    for key in ("crs", "encoding", "layer", "sheet"):
        if settings.get(key) is not None:
            out[key] = settings[key]
    for key, column in dict(settings.get("columns", {})).items():
        out[COLUMN_ARGUMENTS[key]] = column
    return out


__all__ = [
    "COLUMN_ARGUMENTS",
    "KINDS",
    "Guess",
    "LayerGuess",
    "guess_review",
    "reader_arguments",
    "review_toml",
    "write_review_toml",
]
