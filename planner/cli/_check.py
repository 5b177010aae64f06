"""``planner check``, ``propose``, ``isochrones`` and ``network``: refuse, read, compute, write.

Each runner first checks its settings and outputs (`planner.cli._guards`), before reading a
single input; then reads every input (each read names its flag and file in its messages), then
computes, then writes through `planner.outputs` (staged, moved into place when complete).
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from planner._files import file_sha256
from planner.cli._config import ISOCHRONE_DEFAULTS, Settings, settings
from planner.cli._guards import refuse_overwrite, writable_file, writable_folder
from planner.cli._terminal import for_cli, log, phase, print_summary, progress, reading
from planner.errors import InputError
from planner.guess import COLUMN_ARGUMENTS
from planner.schema import DEFAULT_BUFFER_M, DEFAULT_SNAP_CAP_M, DEFAULT_STANDARD

_REVIEW_INPUTS = ("network", "facilities", "residences", "communities", "proposed")
_PROPOSE_INPUTS = ("network", "facilities", "residences", "communities", "candidates", "mask")
_HASHED = ("network", "facilities", "residences", "communities", "proposed", "candidates")


def _review_settings(settings: Settings, inputs: tuple[str, ...]) -> Path:
    """Refuse what ``check``/``propose`` cannot run with, before any work; return --out."""
    if settings.get("basemap") == "tianditu" and not settings.get("tianditu_key"):
        raise InputError(
            "--basemap tianditu needs a Tianditu key: pass --tianditu-key or set TIANDITU_KEY "
            "(get one at console.tianditu.gov.cn), or use --basemap osm, amap or none.",
            zh="--basemap tianditu 需要天地图密钥：请给出 --tianditu-key 或设置 TIANDITU_KEY"
            "（在 console.tianditu.gov.cn 申请），或改用 --basemap osm、amap 或 none。",
        )
    missing = [k for k in ("network", "facilities", "residences", "out") if k not in settings]
    if missing:
        flags = ", ".join(f"--{k}" for k in missing)
        raise InputError(
            f"planner {settings.command} needs {flags} (as flags or in the review file, --config).",
            zh=f"planner {settings.command} 需要 {flags}（以参数或在评估文件 --config 中给出）。",
        )
    for name in inputs:
        if name in settings and not Path(settings.get(name)).exists():
            raise InputError(
                f"{settings.where(name)} {settings.get(name)}: the file does not exist; "
                "check the path.",
                zh=f"{settings.where(name)} {settings.get(name)}：文件不存在，请检查路径。",
            )
    refuse_overwrite(settings, folders=("out",), inputs=inputs)
    return writable_folder(settings, "out")


def _inputs(settings: Settings) -> dict[str, Any]:
    out = {}
    for key in _HASHED:
        if key in settings:
            path = str(settings.get(key))
            out[key] = {"path": path, "sha256": file_sha256(path)}
    return out


@dataclass(frozen=True)
class _Inputs:
    """Everything a review reads, read and validated before anything is computed."""

    facilities: Any
    residences: Any
    communities: Any
    proposed: Any
    candidates: Any
    mask: Any


def _read(settings: Settings, name: str, read: Any, **kwargs: Any) -> Any:
    """Read the input ``name`` with its own settings (``[<name>]``, ``--<name>-...``) over the
    top-level ones: its CRS as ``crs=``, the top-level CRS as ``default_crs=`` (so a GCJ-02
    default never contradicts a Shapefile's .prj), its encoding, layer, sheet and columns."""
    path = str(settings.get(name))
    layer_args: dict[str, Any] = {
        "crs": settings.get(f"{name}_crs"),
        "default_crs": settings.get("crs"),
        "encoding": settings.get(f"{name}_encoding") or settings.get("encoding"),
        "layer": settings.get(f"{name}_layer"),
    }
    if settings.get(f"{name}_sheet") is not None:
        layer_args["sheet"] = settings.get(f"{name}_sheet")
    columns = settings.layer_columns(name)
    for key, argument in COLUMN_ARGUMENTS.items():
        if key in columns:
            layer_args[argument] = columns[key]
    with reading(settings.command, settings.where(name), path, layer_of=name):
        return read(path, **layer_args, **kwargs)


def _read_inputs(settings: Settings) -> _Inputs:
    from planner import layers

    command = settings.command
    facilities = _read(settings, "facilities", layers.read_facilities)
    residences = _read(settings, "residences", layers.read_residences)
    communities = proposed = candidates = mask = None
    if "communities" in settings and command in ("check", "propose"):
        communities = _read(settings, "communities", layers.read_communities)
    if "proposed" in settings and command == "check":
        proposed = _read(settings, "proposed", layers.read_facilities, kind="proposed")
    if "candidates" in settings and command == "propose":
        candidates = _read(settings, "candidates", layers.read_layer, kind="candidates")
    if "mask" in settings and command == "propose":
        mask = _read(settings, "mask", layers.read_layer, kind="mask")
    return _Inputs(facilities, residences, communities, proposed, candidates, mask)


def _load(settings: Settings) -> Any:
    from planner.network import load_network

    path = str(settings.get("network"))
    log.info("Loading the walking network from %s", path)
    with reading(settings.command, settings.where("network"), path), phase("loading the network"):
        network = load_network(path, progress=progress)
    log.info("  %s", network)
    return network


@contextmanager
def _computing(settings: Settings, names: tuple[str, ...]) -> Iterator[None]:
    """InputErrors of the analysis in the command's terms, naming the inputs they concern."""
    try:
        yield
    except InputError as exc:
        given = [n for n in names if n in settings]

        def naming(text: str, zh: bool) -> str:
            text = for_cli(text, settings.command, zh=zh)
            if any(
                str(settings.get(n)) in text or Path(settings.get(n)).name in text for n in given
            ):
                return text
            inputs = [f"{settings.where(n)} {settings.get(n)}" for n in given]
            return text + (
                f"［输入：{'、'.join(inputs)}］" if zh else f" [inputs: {', '.join(inputs)}]"
            )

        message = naming(str(exc), zh=False)
        zh = None if exc.zh is None else naming(exc.zh, zh=True)
        raise InputError(message, zh=zh) from exc


def _speed(settings: Settings) -> float | None:
    return float(settings.get("speed_kmh")) if "speed_kmh" in settings else None


def _report_options(settings: Settings) -> dict[str, Any] | None:
    """The report's keyword arguments (``[report]``, ``--report-title`` ...); None with
    --no-report."""
    if settings.get("report") is False:
        return None
    keys = ("title", "district", "organisation", "date")
    return {k: settings.get(f"report.{k}") for k in keys if f"report.{k}" in settings}


def _offset_system(settings: Settings) -> str | None:
    """The offset system (GCJ-02, BD-09) the bureau's coordinates are in, for the tables."""
    from planner.layers import offset_system_of

    for name in ("residences_crs", "facilities_crs", "crs"):
        found = offset_system_of(settings.get(name))
        if found is not None:
            return found
    return "gcj02" if settings.get("basemap") == "amap" else None


def _categorised(frame: Any, settings: Settings) -> tuple[Any, dict[str, int]]:
    """``frame`` with the ``[categories]`` labels mapped, and the labels still unknown (counts)."""
    from planner.standards import is_known_category, normalise_category

    mapping: dict[str, str] = {}
    for label, category in dict(settings.get("categories", {})).items():
        mapping[label] = category
        try:
            mapping[normalise_category(label)] = category
        except InputError:
            pass
    categories = frame["category"].astype(object).map(lambda c: mapping.get(c, c))
    out = frame.assign(category=categories.astype("string"))
    counts = categories[~categories.map(lambda c: isinstance(c, str) and is_known_category(c))]
    return out, {str(k): int(v) for k, v in counts.value_counts().sort_index().items()}


def _labels_listing(counts: dict[str, int]) -> str:
    return ", ".join(f"{label} ({n})" for label, n in counts.items())


def _refuse_missing_categories(
    settings: Settings, frames: list[Any], unmapped: dict[str, int], exempt: str | None = None
) -> None:
    """A required rule no facility counts for, while some labels are unknown, stops the run
    (exit 2) instead of reporting 0 %: the labels seen and how to map them (``[categories]``,
    --map-category). When every label is a known category the absence is real: the rule is
    checked (everyone uncovered) and `planner.checks` warns."""
    import numpy as np

    from planner.standards import load_standard

    with _computing(settings, ("facilities",)):
        standard = load_standard(settings.get("standard", DEFAULT_STANDARD))
    present = np.concatenate([f["category"].astype(object).to_numpy() for f in frames])
    missing = []
    for rule in standard.rules:
        if exempt and exempt in rule.accepted_categories:
            continue  # planner propose adds that category
        # by category only: a facility below the rule's minimum size is a failure, not a label
        size = rule.min_facility_floor_area_m2
        areas = None if size is None else np.full(len(present), float(size))
        if not rule.accepts_facilities(present, areas).any():
            missing.append(rule)
    if not missing:
        return
    rules = "; ".join(
        f"{r.key} (category {' or '.join(sorted(r.accepted_categories))})" for r in missing
    )
    labels = _counts(present)
    if not unmapped:
        return  # every label is a category: the absence is real (checks says so, once)
    example = next(iter(unmapped))
    raise InputError(
        f"{settings.where('facilities')} {settings.get('facilities')}: no facility counts for "
        f"the required rule{'s' if len(missing) > 1 else ''} {rules} of the standard "
        f"{standard.name}, so every household would be reported uncovered. Labels planner does "
        f"not know ({settings.column_where('facilities', 'category')}): "
        f"{_labels_listing(unmapped)}; all labels seen: {_labels_listing(labels)}. Map a label "
        f'to its category in the review file\'s [categories] table ("{example}" = '
        f'"{missing[0].category}") or with --map-category "{example}={missing[0].category}", '
        "or name the category column with --facilities-col category=NAME.",
        zh=f"{settings.where('facilities')} {settings.get('facilities')}：没有设施计入标准 "
        f"{standard.name} 的必选规则 {rules}，每户都会被报告为不可达。未识别的类别标签"
        f"（{settings.column_where('facilities', 'category')}）：{_labels_listing(unmapped)}；"
        f"全部标签：{_labels_listing(labels)}。请在评估文件的 [categories] 表中把标签映射到类别"
        f'（"{example}" = "{missing[0].category}"），或用 --map-category '
        f'"{example}={missing[0].category}"，或用 --facilities-col category=列名 指明类别列。',
    )


def _counts(values: Any) -> dict[str, int]:
    """Counts of each value, sorted by value."""
    import pandas as pd

    counts = pd.Series(values, dtype=object).value_counts().sort_index()
    return {str(k): int(v) for k, v in counts.items()}


def run_check(settings: Settings) -> int:
    from planner.outputs import exit_code

    if "workers" in settings or "scheduler" in settings:
        from planner.cli._cluster import cluster_for

        with cluster_for(settings) as client:
            result = review_and_write(settings, client=client)
    else:
        result = review_and_write(settings)
    return exit_code(result.summary)


def check_options(settings: Settings, inputs: _Inputs, *, split: bool = False) -> dict[str, Any]:
    """The keyword arguments of `planner.check` (or the split `planner.distributed.check`) the
    settings give, with the communities read into ``inputs``; no served areas when ``split``."""
    return {
        "standard": settings.get("standard", DEFAULT_STANDARD),
        "communities": inputs.communities,
        "speed_kmh": _speed(settings),
        "allocation": settings.get("allocation", "catchment"),
        "snap_cap_m": float(settings.get("snap_cap_m", DEFAULT_SNAP_CAP_M)),
        "buffer_m": float(settings.get("buffer_m", DEFAULT_BUFFER_M)),
        "isochrones": bool(settings.get("isochrones", True)) and not split,
        "isochrone_polygons": bool(settings.get("isochrones_gpkg", False)),
        "inputs": _inputs(settings),
    }


def review_and_write(settings: Settings, *, client: Any = None) -> Any:
    """Read, review (on ``client``'s cluster, or split in this process, when the settings ask
    for a cluster), write the outputs, print the summary; return the `CheckResult`."""
    from planner.checks import check
    from planner.outputs import write_review

    started = time.perf_counter()
    out = _review_settings(settings, _REVIEW_INPUTS)
    inputs = _read_inputs(settings)
    facilities, unmapped = _categorised(inputs.facilities, settings)
    proposed = inputs.proposed
    if proposed is not None:
        proposed, more = _categorised(proposed, settings)
        for label, n in more.items():
            unmapped[label] = unmapped.get(label, 0) + n
    _refuse_missing_categories(
        settings, [facilities] + ([proposed] if proposed is not None else []), unmapped
    )
    _say_unmapped(unmapped, settings)
    split = "workers" in settings or "scheduler" in settings or client is not None
    network: Any
    if split:
        from planner.cli._cluster import open_source, split_check

        network = open_source(settings)
        check = split_check(settings, client)  # noqa: F811 (the same call, split into units)
    else:
        network = _load(settings)
    options = check_options(settings, inputs, split=split)
    if split and settings.get("isochrones", True):
        log.info("Served-area bands are not drawn on a cluster; review on one machine for them")
    residences = inputs.residences
    baseline = None
    with _computing(settings, ("facilities", "residences", "communities", "proposed")):
        if proposed is not None:
            log.info("Checking the current facilities (baseline)")
            with phase("checking the current facilities"):
                baseline = check(
                    network, facilities, residences, **{**options, "isochrones": False}
                )
            facilities = _with_proposed(facilities, proposed, settings)
        log.info("Checking %d facilities for %d residences", len(facilities), len(residences))
        what = "snapping, walking, served areas" if options["isochrones"] else "snapping, walking"
        with phase(f"checking ({what})"):
            result = check(network, facilities, residences, **options)
    result.summary["category_labels_unmapped"] = unmapped
    lang = settings.get("lang", "zh")
    log.info(
        "Writing the map, tables%s into %s ...",
        "" if settings.get("report") is False else " and report",
        out,
    )
    with phase("writing the map, tables and report"), warnings.catch_warnings():
        # GeoJSON has no infinity: walks beyond a split review's largest threshold ("more
        # than X m") are null in residences.geojson, inf in the CSV.
        warnings.filterwarnings("ignore", "NaN of Infinity", RuntimeWarning)
        paths = write_review(
            result,
            str(out),
            lang=lang,
            basemap=settings.get("basemap", "osm"),
            tianditu_key=settings.get("tianditu_key"),
            baseline=baseline,
            offset_system=_offset_system(settings),
            report=_report_options(settings),
        )
    print_summary(result.summary, baseline.summary if baseline is not None else None, lang)
    _say_wrote(paths, started)
    return result


def _say_unmapped(unmapped: dict[str, int], settings: Settings) -> None:
    if unmapped:
        log.warning(
            "Facility category labels planner does not know (measured only, no rule counts "
            "them): %s; map them in the review file's [categories] table or with --map-category "
            "LABEL=CATEGORY.",
            _labels_listing(unmapped),
        )


def _say_wrote(paths: dict[str, Path], started: float) -> None:
    folders = sorted({str(p.parent) for p in paths.values()})
    log.info(
        "Wrote %s into %s (%.1f s)",
        ", ".join(p.name for p in paths.values()),
        ", ".join(folders),
        time.perf_counter() - started,
    )


def run_batch(config: Settings) -> int:
    """Each review file's outputs, then ``rollup.csv`` / ``rollup.json`` of every area."""
    from planner.distributed.runner import Rollup
    from planner.outputs import exit_code

    started = time.perf_counter()
    paths = [Path(p) for p in config.get("reviews", [])]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise InputError(
            f"planner batch: review file not found: {', '.join(missing)}.",
            zh=f"planner batch：找不到评估文件：{'、'.join(missing)}。",
        )
    areas = [settings(argparse.Namespace(config=str(p)), "check") for p in paths]
    for area in areas:
        for name in ("workers", "scheduler", "tile_m", "unit_level", "quiet"):
            if name in config:
                area.values[name] = config.get(name)
                area.origins[name] = config.where(name)
        if "out" not in area:
            raise InputError(
                f"{area.config}: needs out (the folder of this area's outputs).",
                zh=f"{area.config}：需要 out（该片区输出的文件夹）。",
            )
    names = [_area_name(a.config) for a in areas]
    if len(set(names)) != len(names):
        names = [f"{i + 1}:{n}" for i, n in enumerate(names)]
    target = (
        Path(config.get("out")) if "out" in config else Path(areas[0].get("out")).resolve().parent
    )
    rollup = Rollup()
    with _client(config) as client:
        for name, area in zip(names, areas, strict=True):
            log.info("Area %s (%s)", name, area.config)
            # each area's outputs are written; only its roll-up rows and summary stay
            rollup.add(name, review_and_write(area, client=client))
    config.values.setdefault("out", str(target))
    writable_folder(config, "out")
    written = rollup.write(target)
    passes = all(rollup.passes.values())
    print(
        f"{len(rollup.passes)} areas: {sum(rollup.passes.values())} pass; roll-up in "
        f"{written['rollup_csv']}"
    )
    log.info("Batch done (%.1f s)", time.perf_counter() - started)
    return exit_code({"passes": passes})


@contextmanager
def _client(config: Settings) -> Iterator[Any]:
    if "workers" in config or "scheduler" in config:
        from planner.cli._cluster import cluster_for

        with cluster_for(config) as client:
            yield client
    else:
        yield None


def _area_name(path: Path | None) -> str:
    if path is None:
        return "review"
    return path.parent.name if path.stem == "review" else path.stem


def run_propose(settings: Settings) -> int:
    from planner.outputs import exit_code, write_proposal
    from planner.siting import propose

    started = time.perf_counter()
    target = settings.get("target", "coverage")
    if target == "communities":
        if "sites" in settings or settings.get("cover_all"):
            raise InputError(
                "planner propose --target communities sizes the plan by the communities: "
                "leave out --sites and --cover-all.",
                zh="planner propose --target communities 按社区确定方案规模："
                "请去掉 --sites 和 --cover-all。",
            )
        if "communities" not in settings:
            raise InputError(
                "planner propose --target communities needs --communities (community polygons).",
                zh="planner propose --target communities 需要 --communities（社区边界）。",
            )
    elif ("sites" in settings) == bool(settings.get("cover_all")):
        raise InputError(
            "planner propose needs --sites K or --cover-all (one of them), "
            "or --target communities with --communities.",
            zh="planner propose 需要 --sites K 或 --cover-all（二者之一），"
            "或 --target communities 加 --communities。",
        )
    out = _review_settings(settings, _PROPOSE_INPUTS)
    inputs = _read_inputs(settings)
    facilities, unmapped = _categorised(inputs.facilities, settings)
    category = settings.get("category")
    _refuse_missing_categories(settings, [facilities], unmapped, exempt=category)
    _say_unmapped(unmapped, settings)
    network = _load(settings)
    cover_all = bool(settings.get("cover_all"))
    sites = settings.get("sites")
    category = settings.get("category")
    log.info(
        "Proposing %s sites",
        "each community's" if target == "communities" else "the fewest" if cover_all else sites,
    )
    names = ("facilities", "residences", "communities", "candidates", "mask")
    with (
        _computing(settings, names),
        phase("proposing sites (snapping, walking, solving, re-checking)"),
    ):
        proposal = propose(
            network,
            facilities,
            inputs.residences,
            category=category,
            sites=sites,
            cover_all=cover_all,
            candidates=inputs.candidates,
            spacing_m=settings.get("spacing_m"),
            mask=inputs.mask,
            standard=settings.get("standard", DEFAULT_STANDARD),
            speed_kmh=_speed(settings),
            module_m2=settings.get("module_m2"),
            sizing=settings.get("sizing"),
            time_limit_s=settings.get("time_limit_s"),
            method=settings.get("method"),
            snap_cap_m=float(settings.get("snap_cap_m", DEFAULT_SNAP_CAP_M)),
            isochrones=bool(settings.get("isochrones", True)),
            isochrone_polygons=bool(settings.get("isochrones_gpkg", False)),
            buffer_m=float(settings.get("buffer_m", DEFAULT_BUFFER_M)),
            inputs=_inputs(settings),
            communities=inputs.communities,
            target=target,
        )
    proposal.after.summary["category_labels_unmapped"] = unmapped
    with phase("writing the map, tables and report"):
        paths = write_proposal(
            proposal,
            str(out),
            lang=settings.get("lang", "zh"),
            basemap=settings.get("basemap", "osm"),
            tianditu_key=settings.get("tianditu_key"),
            offset_system=_offset_system(settings),
            report=_report_options(settings),
        )
    gap = proposal.gap
    print(
        f"Proposed {len(proposal.sites)} new {category} sites "
        f"({proposal.method}, optimality gap {'unknown' if gap is None else f'{gap:.2%}'})"
    )
    for row in proposal.sites.itertuples():
        where = (
            f" in {row.community_name or row.community_id}"
            if "community_id" in (proposal.sites) and row.community_id is not None
            else ""
        )
        print(
            f"  {row.id}{where}: {row.floor_area_m2:,.0f} m², newly covers "
            f"{row.households_newly_covered:,.0f} households"
        )
    _print_communities(proposal)
    print_summary(proposal.after.summary, proposal.before.summary, settings.get("lang", "zh"))
    _say_wrote(paths, started)
    return exit_code(proposal.after.summary)


def _print_communities(proposal: Any) -> None:
    section = proposal.summary.get("communities")
    if not section:
        return
    print(
        f"Communities compliant: {section['compliant_before']} of {section['count']} before, "
        f"{section['compliant_after']} after"
    )
    for row in section["not_compliant_after"]:
        print(f"  {row['name'] or row['community_id']}: not compliant: {row['reason']}")


def _with_proposed(facilities: Any, proposed: Any, settings: Settings) -> Any:
    import geopandas as gpd
    import pandas as pd

    clash = set(facilities["id"].astype(str)) & set(proposed["id"].astype(str))
    if clash:
        raise InputError(
            f"{settings.where('proposed')} {settings.get('proposed')}: the proposed facilities "
            f"reuse ids of {settings.where('facilities')} {settings.get('facilities')}: "
            f"{sorted(clash)[:10]}; give them new ids.",
            zh=f"{settings.where('proposed')} {settings.get('proposed')}："
            f"拟建设施与 {settings.where('facilities')} {settings.get('facilities')} 的编号重复："
            f"{sorted(clash)[:10]}；请给它们新的编号。",
        )
    both = pd.concat(
        [facilities.assign(proposed=False), proposed.to_crs(facilities.crs).assign(proposed=True)],
        ignore_index=True,
    )
    return gpd.GeoDataFrame(both, geometry=both.geometry.name, crs=facilities.crs)


def run_network(settings: Settings) -> int:
    from planner.network import load_network

    source = str(settings.get("source"))
    if "tiles" in settings and "save" not in settings:
        raise InputError(
            "--tiles needs --save FOLDER (where the tiles go).",
            zh="--tiles 需要 --save FOLDER（分块存放的文件夹）。",
        )
    if "save" in settings:
        refuse_overwrite(settings, folders=("save",), inputs=("source",))
        save = Path(settings.get("save"))
        if save.exists() and not save.is_dir():
            raise InputError(
                f"--save {save}: is an existing file; give a folder name for the saved network.",
                zh=f"--save {save}：是已存在的文件；请给出保存网络的文件夹名。",
            )
        writable_folder(settings, "save")
    with reading("network", "network", source):
        network = load_network(source, progress=progress)
    report = network.report
    print(network)
    print(
        f"  walkable ways {report.walkable_ways:,}; ways cut at missing nodes {report.ways_cut:,}; "
        f"dropped {report.components_dropped:,} small components "
        f"({report.nodes_dropped:,} nodes, {report.km_dropped:.2f} km)"
    )
    if "save" in settings:
        with reading("network", "--save", str(settings.get("save"))):
            if "tiles" in settings:
                from planner.distributed.tiles import save_tiles

                save_tiles(network, settings.get("save"), tile_m=float(settings.get("tiles")))
            else:
                network.save(settings.get("save"))
        tiles = f" in tiles of {settings.get('tiles'):g} m" if "tiles" in settings else ""
        print(f"  saved to {settings.get('save')}{tiles}")
    return 0


def run_isochrones(settings: Settings) -> int:
    from planner import layers
    from planner.isochrones import isochrones
    from planner.network import load_network
    from planner.outputs import write_isochrones

    missing = [f"--{k}" for k in ("network", "points", "out") if k not in settings]
    if missing:
        raise InputError(
            f"planner isochrones needs {', '.join(missing)}.",
            zh=f"planner isochrones 需要 {'、'.join(missing)}。",
        )
    for name in ("network", "points"):
        if not Path(settings.get(name)).exists():
            raise InputError(
                f"{settings.where(name)} {settings.get(name)}: the file does not exist; "
                "check the path.",
                zh=f"{settings.where(name)} {settings.get(name)}：文件不存在，请检查路径。",
            )
    refuse_overwrite(settings, files=("out", "map"), inputs=("network", "points"))
    out = writable_file(settings, "out", (".gpkg", ".geojson"), "isochrones", make_folder=False)
    map_path = None
    if "map" in settings:
        map_path = writable_file(settings, "map", (), "the map", make_folder=False)
    points_path = str(settings.get("points"))
    with reading("isochrones", "--points", points_path, layer_of="points"):
        points = layers.read_layer(
            points_path, crs=settings.get("crs"), layer=settings.get("points_layer")
        )
    network_path = str(settings.get("network"))
    with reading("isochrones", "--network", network_path):
        network = load_network(network_path, progress=progress)
    bands: dict[str, Any] = (
        {"distances_m": tuple(settings.get("distances_m"))}
        if "distances_m" in settings
        else {"minutes": tuple(settings.get("minutes", (5, 10, 15)))}
    )
    with reading("isochrones", "--points", points_path, layer_of="points"):
        gdf = isochrones(
            network,
            points,
            speed_kmh=settings.get("speed_kmh", ISOCHRONE_DEFAULTS["speed_kmh"]),
            buffer_m=settings.get("buffer_m", ISOCHRONE_DEFAULTS["buffer_m"]),
            dissolve=bool(settings.get("dissolve")),
            **bands,
        )
    write_isochrones(gdf, out)
    log.info("Wrote %d polygons to %s", len(gdf), out)
    if map_path is not None:
        from planner.maps import isochrones_map, save_map

        save_map(
            isochrones_map(gdf, points=points, lang=settings.get("lang", "zh"), network=network),
            map_path,
        )
        log.info("Wrote %s", map_path)
    return 0


def run_report(settings: Settings) -> int:
    """``planner report REVIEW_FOLDER``: rebuild report.pdf/.html from a written review."""
    from planner.report import write_report

    folder = Path(settings.get("review"))
    if not (folder / "summary.json").is_file():
        raise InputError(
            f"planner report {folder}: no summary.json there; give the output folder of "
            "planner check or planner propose (its --out).",
            zh=f"planner report {folder}：其中没有 summary.json；"
            "请给出 planner check 或 planner propose 的输出文件夹（其 --out）。",
        )
    keys = ("title", "district", "organisation", "date")
    options = {k: settings.get(f"report.{k}") for k in keys if f"report.{k}" in settings}
    with reading("report", "planner report", str(folder)), phase("writing the report"):
        paths = write_report(folder, lang=settings.get("lang", "zh"), **options)
    log.info("Wrote %s", ", ".join(str(p) for p in paths.values()))
    return 0


def run_init(settings: Settings) -> int:
    """``planner init FOLDER``: guess the review's inputs, write FOLDER/review.toml."""
    from planner.guess import guess_review, write_review_toml

    folder = Path(settings.get("folder"))
    if not folder.is_dir():
        raise InputError(
            f"planner init {folder}: not a folder; give the folder of your files.",
            zh=f"planner init {folder}：不是文件夹；请给出存放您文件的文件夹。",
        )
    target = folder / "review.toml"
    if target.exists() and not settings.get("force"):
        raise InputError(
            f"planner init {folder}: {target} exists; it is never overwritten unless you pass "
            "--force.",
            zh=f"planner init {folder}：{target} 已存在；除非给出 --force，否则不会覆盖。",
        )
    guess = guess_review(folder)
    write_review_toml(guess, target)
    print(f"Wrote {target}: check every line before planner check --config {target}")
    print(
        f"  network: {guess.network or 'NOT FOUND'}"
        + (f" ({guess.network_note})" if guess.network else "")
    )
    for kind, layer in guess.layers.items():
        columns = ", ".join(f"{k}={v}" for k, v in layer.columns.items())
        crs = layer.crs or "NOT KNOWN: " + layer.crs_from.split(";")[0]
        encoding = f", encoding {layer.encoding}" if layer.encoding else ""
        print(f"  {kind}: {layer.path} ({layer.geometry}s; CRS {crs}{encoding}; {columns})")
        for note in layer.notes:
            print(f"    note: {note}")
    for note in guess.notes:
        print(f"  not guessed: {note}")
    for item in guess.unplaced:
        print(f"  not used: {item}")
    return 0


__all__ = [
    "run_check",
    "run_init",
    "run_isochrones",
    "run_network",
    "run_propose",
    "run_report",
]
