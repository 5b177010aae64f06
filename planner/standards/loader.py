"""Reading standards from TOML: the built-in catalogue, user files, ``extends`` and overrides.

:func:`load_standard` reads a built-in standard (a TOML file beside this module, listed by
:func:`list_standards`) or a user file, checks every key, merges the bases named by ``extends``
(a user rule replaces the base rule of the same category, and tier when given) and assigns the
rule keys. Every problem in a file is reported at once, naming the file, the rule and the key.
The file format is described in :mod:`planner.standards`.
"""

from __future__ import annotations

import logging
import math
import re
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from planner.errors import InputError
from planner.schema import DEFAULT_SPEED_KMH
from planner.standards._zh import UNIT_ZH, zh_of, zh_where
from planner.standards.categories import CATEGORIES, is_known_category, normalise_category
from planner.standards.rules import PER_VALUES, TIERS, Rule, Standard, Targets

log = logging.getLogger(__name__)

__all__ = ["list_standards", "load_standard"]

#: The built-in standards: the TOML files of this package's directory.
_STANDARDS_DIR = Path(__file__).parent
_SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")

_TOP_KEYS = frozenset(
    {"name", "title_zh", "title_en", "source", "extends", "speed_kmh", "notes", "rules", "targets"}
)
_TARGET_KEYS = frozenset(
    {
        "min_coverage_rate",
        "compliant_per_subdistrict",
        "compliant_share",
        "source",
        "quote",
        "verified",
        "note",
    }
)
_RULE_KEYS = frozenset(
    {
        "category",
        "max_walk_m",
        "max_walk_min",
        "min_floor_area_m2_per_100_households",
        "recommended_walk_m",
        "tier",
        "source",
        "clause",
        "label_zh",
        "label_en",
        "also_accepts",
        "note",
        "key",
        "per",
        "min_coverage_rate",
        "min_floor_area_m2",
        "min_facility_floor_area_m2",
        "preferred_facility_floor_area_m2",
        "target_m2_per_100_households",
        "verified",
        "quote",
    }
)
_TEXT_RULE_KEYS = ("source", "clause", "label_zh", "label_en", "note", "quote", "key", "per")
_POSITIVE_RULE_KEYS = (
    "recommended_walk_m",
    "min_floor_area_m2_per_100_households",
    "min_floor_area_m2",
    "min_facility_floor_area_m2",
    "preferred_facility_floor_area_m2",
    "target_m2_per_100_households",
)


def list_standards() -> list[str]:
    """Return the names of the built-in standards, sorted."""
    return sorted(path.stem for path in _STANDARDS_DIR.glob("*.toml"))


def _is_path_like(ref: str | Path) -> bool:
    if isinstance(ref, Path):
        return True
    return ref.endswith(".toml") or "/" in ref or "\\" in ref


def _resolve(ref: str | Path, *, relative_to: Path | None) -> tuple[Path, bool]:
    """Return (file, is_builtin) for a standard name or a path."""
    if _is_path_like(ref):
        path = Path(ref).expanduser()
        if not path.is_absolute() and relative_to is not None:
            path = relative_to / path
        if not path.is_file():
            raise InputError(
                f"standard file {path} does not exist; give the path of a TOML file or one of "
                f"the built-in standards: {', '.join(list_standards())}",
                zh=f"标准文件 {path} 不存在；请给出 TOML 文件的路径，或内置标准之一："
                f"{'、'.join(list_standards())}",
            )
        return path.resolve(), False
    if not isinstance(ref, str) or not ref.strip():
        raise InputError(
            f"standard name {ref!r} is empty; built-in standards: {', '.join(list_standards())}",
            zh=f"标准名称 {ref!r} 为空；内置标准：{'、'.join(list_standards())}",
        )
    path = _STANDARDS_DIR / f"{ref.strip()}.toml"
    if not path.is_file():
        raise InputError(
            f"unknown standard {ref!r}; built-in standards: {', '.join(list_standards())} "
            "(or give the path of a TOML file)",
            zh=f"未知的标准 {ref!r}；内置标准：{'、'.join(list_standards())}"
            "（或给出 TOML 文件的路径）",
        )
    return path.resolve(), True


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _positive(value: object) -> bool:
    return _is_number(value) and math.isfinite(float(value)) and float(value) > 0  # type: ignore[arg-type]


@dataclass(frozen=True)
class _RawRule:
    """A validated ``[[rules]]`` entry before merging and key assignment."""

    index: int
    category: str
    tier: str | None
    fields: dict[str, Any]
    floor_only: bool  # per = "community": a floor-area rule without a coverage verdict
    key: str  # the key the file gives, or ""

    @property
    def has_floor_area(self) -> bool:
        return "min_floor_area_m2_per_100_households" in self.fields

    @property
    def checks_coverage(self) -> bool:
        return not self.floor_only


def _parse_rule(
    entry: object, index: int, where: str, problems: list[tuple[str, str]], *, default_source: str
) -> _RawRule | None:
    """Validate one ``[[rules]]`` table, appending every problem to ``problems``."""
    if not isinstance(entry, dict):
        problems.append(
            (
                f"{where}: rule {index} is not a table; write it as [[rules]]",
                f"{zh_where(where)}：第 {index} 条规则不是表；请写成 [[rules]]",
            )
        )
        return None
    raw_category = entry.get("category")
    label = f"rule {index}" + (f" (category {raw_category!r})" if raw_category else "")
    here = f"{where}, {label}"
    start = len(problems)
    unknown = sorted(set(entry) - _RULE_KEYS)
    for key in unknown:
        problems.append(
            (
                f"{here}: unknown key {key!r}; allowed keys: {', '.join(sorted(_RULE_KEYS))}",
                f"{zh_where(here)}：未知的键 {key!r}；允许的键：{'、'.join(sorted(_RULE_KEYS))}",
            )
        )
    category = _rule_category(entry, here, problems)
    floor_only = _rule_per(entry, here, problems) == "community"
    _check_thresholds(entry, here, problems, walk_optional=floor_only)
    tier = entry.get("tier")
    if "tier" in entry and tier not in TIERS:
        problems.append(
            (
                f"{here}: key 'tier' is {tier!r}; use one of {', '.join(TIERS)}",
                f"{zh_where(here)}：键 'tier' 为 {tier!r}；请用 {'、'.join(TIERS)} 之一",
            )
        )
    for key in _TEXT_RULE_KEYS:
        if key in entry and not isinstance(entry[key], str):
            problems.append(
                (
                    f"{here}: key {key!r} must be text, not {entry[key]!r}",
                    f"{zh_where(here)}：键 {key!r} 必须是文本，而不是 {entry[key]!r}",
                )
            )
    _check_new_keys(entry, here, problems)
    also = _also_accepts(entry, here, problems)
    if len(problems) > start or category is None:
        return None
    fields = {key: entry[key] for key in entry if key not in ("category", "tier")}
    fields["also_accepts"] = tuple(also)
    fields.setdefault("source", default_source)
    return _RawRule(
        index=index,
        category=category,
        tier=tier,
        fields=fields,
        floor_only=floor_only,
        key=entry.get("key", ""),
    )


def _rule_per(entry: dict[str, Any], here: str, problems: list[tuple[str, str]]) -> str | None:
    """The rule's ``per`` as given or derived (see :meth:`Rule.build`), or None if wrong."""
    has_area = "min_floor_area_m2_per_100_households" in entry
    has_walk = "max_walk_m" in entry or "max_walk_min" in entry
    if "per" not in entry:
        return "residence" if not has_area else ("catchment" if has_walk else "community")
    per = entry["per"]
    if per not in PER_VALUES:
        problems.append(
            (
                f"{here}: key 'per' is {per!r}; use one of {', '.join(PER_VALUES)} "
                "(community: floor area per community; residence: walk coverage; catchment: both "
                "over the walk)",
                f"{zh_where(here)}：键 'per' 为 {per!r}；请用 {'、'.join(PER_VALUES)} 之一"
                "（community：按社区计建筑面积；residence：步行覆盖；catchment：在步行范围内计二者）",
            )
        )
        return None
    if per == "community" and not has_area:
        problems.append(
            (
                f"{here}: key 'per' is 'community' but key "
                "'min_floor_area_m2_per_100_households' is missing; a per-community rule is a "
                "floor-area rule",
                f"{zh_where(here)}：键 'per' 为 'community'，但缺少键 "
                "'min_floor_area_m2_per_100_households'；按社区的规则是建筑面积规则",
            )
        )
    elif per == "residence" and has_area:
        problems.append(
            (
                f"{here}: key 'per' is 'residence' (walk coverage only) but key "
                "'min_floor_area_m2_per_100_households' is given; use per = 'community' or "
                "per = 'catchment'",
                f"{zh_where(here)}：键 'per' 为 'residence'（只看步行覆盖），却给了键 "
                "'min_floor_area_m2_per_100_households'；"
                "请用 per = 'community' 或 per = 'catchment'",
            )
        )
    elif per == "catchment" and not has_area:
        problems.append(
            (
                f"{here}: key 'per' is 'catchment' but key "
                "'min_floor_area_m2_per_100_households' is missing; give it, "
                "or use per = 'residence'",
                f"{zh_where(here)}：键 'per' 为 'catchment'，但缺少键 "
                "'min_floor_area_m2_per_100_households'；请补上，或用 per = 'residence'",
            )
        )
    return str(per)


def _check_new_keys(entry: dict[str, Any], here: str, problems: list[tuple[str, str]]) -> None:
    """key, min_coverage_rate, the floor-area minimums, target, verified."""
    if isinstance(entry.get("key"), str) and not _SNAKE.match(entry["key"]):
        problems.append(
            (
                f"{here}: key 'key' is {entry['key']!r}; use snake_case letters and digits "
                "(it names output columns)",
                f"{zh_where(here)}：键 'key' 为 {entry['key']!r}；请用 snake_case 字母和数字"
                "（它用于输出列名）",
            )
        )
    if "min_coverage_rate" in entry:
        rate = entry["min_coverage_rate"]
        if not (_is_number(rate) and 0 < float(rate) <= 1):
            problems.append(
                (
                    f"{here}: key 'min_coverage_rate' is {rate!r}; give a share with 0 < x <= 1 "
                    "(1.0: every household)",
                    f"{zh_where(here)}：键 'min_coverage_rate' 为 {rate!r}；"
                    "请给出 0 < x <= 1 的比例（1.0："
                    "全部住户）",
                )
            )
    if "verified" in entry and not isinstance(entry["verified"], bool):
        problems.append(
            (
                f"{here}: key 'verified' is {entry['verified']!r}; give true or false",
                f"{zh_where(here)}：键 'verified' 为 {entry['verified']!r}；请给出 true 或 false",
            )
        )
    has_area = "min_floor_area_m2_per_100_households" in entry
    for key in ("min_floor_area_m2", "target_m2_per_100_households"):
        if key in entry and not has_area:
            problems.append(
                (
                    f"{here}: key {key!r} needs key 'min_floor_area_m2_per_100_households'; "
                    "the rule has no floor-area part",
                    f"{zh_where(here)}：键 {key!r} 需要键 'min_floor_area_m2_per_100_households'；"
                    "该规则没有建筑面积部分",
                )
            )
    low = entry.get("min_facility_floor_area_m2")
    high = entry.get("preferred_facility_floor_area_m2")
    if _positive(low) and _positive(high) and float(high) < float(low):  # type: ignore[arg-type]
        problems.append(
            (
                f"{here}: key 'preferred_facility_floor_area_m2' ({high}) is smaller than "
                f"min_facility_floor_area_m2 ({low}); the preferred size is the larger one",
                f"{zh_where(here)}：键 'preferred_facility_floor_area_m2'（{high}）小于 "
                f"min_facility_floor_area_m2（{low}）；推荐规模应是较大的那个",
            )
        )
    target = entry.get("target_m2_per_100_households")
    minimum = entry.get("min_floor_area_m2_per_100_households")
    if _positive(target) and _positive(minimum) and float(target) < float(minimum):  # type: ignore[arg-type]
        problems.append(
            (
                f"{here}: key 'target_m2_per_100_households' ({target}) is smaller than "
                f"min_floor_area_m2_per_100_households ({minimum}); a target is the higher figure",
                f"{zh_where(here)}：键 'target_m2_per_100_households'（{target}）小于 "
                f"min_floor_area_m2_per_100_households（{minimum}）；目标值应高于最低值",
            )
        )


def _rule_category(entry: dict[str, Any], here: str, problems: list[tuple[str, str]]) -> str | None:
    """The rule's normalised category, or None after recording a problem."""
    category: str | None = None
    if "category" not in entry:
        problems.append(
            (
                f"{here}: key 'category' is missing; add e.g. category = 'health'",
                f"{zh_where(here)}：缺少键 'category'；请加上，例如 category = 'health'",
            )
        )
    else:
        try:
            category = normalise_category(entry["category"])
        except InputError as error:
            problems.append(
                (
                    f"{here}: key 'category': {error}",
                    f"{zh_where(here)}：键 'category'：{zh_of(error)}",
                )
            )
        else:
            declares_new = "label_en" in entry or "label_zh" in entry
            if not is_known_category(category) and not declares_new:
                problems.append(
                    (
                        f"{here}: key 'category': {category!r} is not in the vocabulary "
                        f"({', '.join(CATEGORIES)}); fix the spelling, or give label_zh and "
                        "label_en to declare a new category",
                        f"{zh_where(here)}：键 'category'：{category!r} 不在类别词表中"
                        f"（{'、'.join(CATEGORIES)}）；"
                        ""
                        "请改正拼写，或给出 label_zh 和 label_en 以声明新类别",
                    )
                )
    return category


def _check_thresholds(
    entry: dict[str, Any],
    here: str,
    problems: list[tuple[str, str]],
    *,
    walk_optional: bool = False,
) -> None:
    """One of max_walk_m / max_walk_min (at most one when ``walk_optional``), positive numbers."""
    has_m, has_min = "max_walk_m" in entry, "max_walk_min" in entry
    if has_m and has_min:
        problems.append(
            (
                f"{here}: keys 'max_walk_m' and 'max_walk_min' are both given; keep only one "
                "(metres, or minutes at the walking speed)",
                f"{zh_where(here)}：同时给了键 'max_walk_m' 和 'max_walk_min'；只保留一个（米，"
                "或按步行速度的分钟数）",
            )
        )
    elif not has_m and not has_min and not walk_optional:
        problems.append(
            (
                f"{here}: key 'max_walk_m' or 'max_walk_min' is missing; give one of them (only a "
                "per = 'community' floor-area rule may leave the walk out)",
                f"{zh_where(here)}：缺少键 'max_walk_m' 或 'max_walk_min'；请给出其一"
                "（只有 per = 'community' 的建筑面积规则可以不给步行距离）",
            )
        )
    for key, unit in (("max_walk_m", "metres"), ("max_walk_min", "minutes")):
        if key in entry and not _positive(entry[key]):
            problems.append(
                (
                    f"{here}: key {key!r} is {entry[key]!r}; "
                    f"it must be a positive number of {unit}",
                    f"{zh_where(here)}：键 {key!r} 为 {entry[key]!r}；必须是正的{UNIT_ZH[unit]}数",
                )
            )
    for key in _POSITIVE_RULE_KEYS:
        if key in entry and not _positive(entry[key]):
            problems.append(
                (
                    f"{here}: key {key!r} is {entry[key]!r}; it must be a positive number",
                    f"{zh_where(here)}：键 {key!r} 为 {entry[key]!r}；必须是正数",
                )
            )
    if (
        has_m
        and not has_min
        and _positive(entry.get("recommended_walk_m"))
        and _positive(entry["max_walk_m"])
        and entry["recommended_walk_m"] > entry["max_walk_m"]
    ):
        problems.append(
            (
                f"{here}: key 'recommended_walk_m' ({entry['recommended_walk_m']}) is larger than "
                f"max_walk_m ({entry['max_walk_m']}); it is the lower end of the range",
                f"{zh_where(here)}：键 'recommended_walk_m'（{entry['recommended_walk_m']}）大于 "
                f"max_walk_m（{entry['max_walk_m']}）；它是范围的下限",
            )
        )


def _also_accepts(entry: dict[str, Any], here: str, problems: list[tuple[str, str]]) -> list[str]:
    """The normalised ``also_accepts`` categories (problems recorded for unknown ones)."""
    also: list[str] = []
    if "also_accepts" in entry:
        value = entry["also_accepts"]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            problems.append(
                (
                    f"{here}: key 'also_accepts' must be a list of category names",
                    f"{zh_where(here)}：键 'also_accepts' 必须是类别名称的列表",
                )
            )
        else:
            for item in value:
                code = normalise_category(item) if item.strip() else ""
                if not is_known_category(code):
                    problems.append(
                        (
                            f"{here}: key 'also_accepts': {item!r} is not in the vocabulary "
                            f"({', '.join(CATEGORIES)})",
                            f"{zh_where(here)}：键 'also_accepts'：{item!r} 不在类别词表中"
                            f"（{'、'.join(CATEGORIES)}）",
                        )
                    )
                also.append(code)
    return also


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise InputError(
            f"standard file {path}: not valid TOML ({error}); fix the syntax",
            zh=f"标准文件 {path}：不是有效的 TOML（{error}）；请改正语法",
        ) from None
    except OSError as error:
        raise InputError(
            f"standard file {path} cannot be read: {error}",
            zh=f"标准文件 {path} 无法读取：{error}",
        ) from None


@dataclass(frozen=True)
class _Header:
    """The top-level keys of a standard file other than its rules, as validated."""

    name: Any  # text once the file has passed validation
    speed_kmh: Any  # None when the file does not set it
    extends: list[str]
    rules: list[Any]
    source: str | None
    targets: dict[str, Any]  # the [targets] table's valid keys


def _check_targets(
    data: dict[str, Any], where: str, problems: list[tuple[str, str]]
) -> dict[str, Any]:
    """Validate the ``[targets]`` table; return its keys (empty when absent or wrong)."""
    if "targets" not in data:
        return {}
    table = data["targets"]
    if not isinstance(table, dict):
        problems.append(
            (
                f"{where}: key 'targets' must be a table, written [targets]",
                f"{zh_where(where)}：键 'targets' 必须是表，写成 [targets]",
            )
        )
        return {}
    start = len(problems)
    for key in sorted(set(table) - _TARGET_KEYS):
        problems.append(
            (
                f"{where}: [targets] unknown key {key!r}; allowed keys: "
                f"{', '.join(sorted(_TARGET_KEYS))}",
                f"{zh_where(where)}：[targets] 未知的键 {key!r}；允许的键："
                f"{'、'.join(sorted(_TARGET_KEYS))}",
            )
        )
    for key, value in table.items():
        if key not in _TARGET_KEYS:
            continue
        try:
            Targets(**{key: value})
        except InputError as error:
            problems.append((f"{where}: {error}", f"{zh_where(where)}：{zh_of(error)}"))
    return dict(table) if len(problems) == start else {}


def _check_header(
    data: dict[str, Any], path: Path, *, builtin: bool, where: str, problems: list[tuple[str, str]]
) -> _Header:
    """Validate the top-level keys, appending every problem to ``problems``."""
    for key in sorted(set(data) - _TOP_KEYS):
        problems.append(
            (
                f"{where}: unknown key {key!r}; "
                f"allowed top-level keys: {', '.join(sorted(_TOP_KEYS))}",
                f"{zh_where(where)}：未知的键 {key!r}；允许的顶层键："
                f"{'、'.join(sorted(_TOP_KEYS))}",
            )
        )
    for key in ("name", "title_zh", "title_en", "source", "notes"):
        if key in data and not isinstance(data[key], str):
            problems.append(
                (
                    f"{where}: key {key!r} must be text, not {data[key]!r}",
                    f"{zh_where(where)}：键 {key!r} 必须是文本，而不是 {data[key]!r}",
                )
            )
    name = data.get("name", path.stem)
    if isinstance(name, str) and not _SNAKE.match(name):
        problems.append(
            (
                f"{where}: key 'name' is {name!r}; use snake_case letters and digits",
                f"{zh_where(where)}：键 'name' 为 {name!r}；请用 snake_case 字母和数字",
            )
        )
    if builtin and name != path.stem:
        problems.append(
            (
                f"{where}: key 'name' is {name!r} but the file is {path.name}",
                f"{zh_where(where)}：键 'name' 为 {name!r}，但文件名是 {path.name}",
            )
        )
    file_speed = data.get("speed_kmh")
    if "speed_kmh" in data and not _positive(file_speed):
        problems.append(
            (
                f"{where}: key 'speed_kmh' is {file_speed!r}; give a positive km/h",
                f"{zh_where(where)}：键 'speed_kmh' 为 {file_speed!r}；请给出正的 km/h",
            )
        )
    extends_value = data.get("extends", [])
    if isinstance(extends_value, str):
        extends_value = [extends_value]
    if not isinstance(extends_value, list) or not all(isinstance(e, str) for e in extends_value):
        problems.append(
            (
                f"{where}: key 'extends' must be a standard name, a path, or a list of them",
                f"{zh_where(where)}：键 'extends' 必须是标准名称、路径或它们的列表",
            )
        )
        extends_value = []
    for ref in extends_value:
        try:
            _resolve(ref, relative_to=path.parent)
        except InputError as error:
            problems.append(
                (
                    f"{where}: key 'extends': {error}",
                    f"{zh_where(where)}：键 'extends'：{zh_of(error)}",
                )
            )
    rules_value = data.get("rules", [])
    if not isinstance(rules_value, list):
        problems.append(
            (
                f"{where}: key 'rules' must be an array of tables, written [[rules]]",
                f"{zh_where(where)}：键 'rules' 必须是表的数组，写成 [[rules]]",
            )
        )
        rules_value = []
    if not rules_value and not extends_value:
        problems.append(
            (
                f"{where}: no [[rules]] and no 'extends'; a standard needs rules",
                f"{zh_where(where)}：没有 [[rules]]，也没有 'extends'；标准需要规则",
            )
        )
    file_source = data.get("source") if isinstance(data.get("source"), str) else None
    targets = _check_targets(data, where, problems)
    return _Header(name, file_speed, extends_value, rules_value, file_source, targets)


def _parse_rules(
    entries: list[Any], where: str, problems: list[tuple[str, str]], *, default_source: str
) -> list[_RawRule]:
    """Validate every ``[[rules]]`` table; two rules of one kind, category and tier clash.

    The kinds are the floor-area-only rules (``per = "community"``) and the others, so a
    category may have a walk coverage rule and a per-community floor-area rule.
    """
    raw_rules = [
        raw
        for index, entry in enumerate(entries, start=1)
        if (raw := _parse_rule(entry, index, where, problems, default_source=default_source))
    ]
    seen: dict[tuple[str, str | None, bool], int] = {}
    keys: dict[str, int] = {}
    for raw in raw_rules:
        identity = (raw.category, raw.tier, raw.floor_only)
        if identity in seen:
            problems.append(
                (
                    f"{where}, rule {raw.index} (category {raw.category!r}): repeats rule "
                    f"{seen[identity]} (same category, tier and per); keep one, give different "
                    "tiers, or make one per = 'community'",
                    f"{zh_where(f'{where}, rule {raw.index} (category {raw.category!r})')}："
                    f"与第 {seen[identity]} 条规则重复"
                    "（类别、层级和 per 相同）；请只保留一条、给出不同的层级，"
                    "或把其中一条改为 per = 'community'",
                )
            )
        seen[identity] = raw.index
        if raw.key:
            if raw.key in keys:
                problems.append(
                    (
                        f"{where}, rule {raw.index} (category {raw.category!r}): key 'key' is "
                        f"{raw.key!r}, as in rule {keys[raw.key]}; rule keys must be unique",
                        f"{zh_where(f'{where}, rule {raw.index} (category {raw.category!r})')}："
                        f"键 'key' 为 {raw.key!r}，"
                        f"与第 {keys[raw.key]} 条规则相同；规则的 key 必须唯一",
                    )
                )
            keys[raw.key] = raw.index
    return raw_rules


def _speed(file_speed: Any, bases: list[Standard], where: str) -> float:
    """The file's walking speed, else its bases' (which must agree), else the default."""
    if file_speed is not None:
        return float(file_speed)
    if bases:
        base_speeds = {base.speed_kmh for base in bases}
        if len(base_speeds) > 1:
            raise InputError(
                f"{where}: the standards in 'extends' use different walking speeds "
                f"{sorted(base_speeds)} km/h; set speed_kmh in this file",
                zh=f"{zh_where(where)}：'extends' 中的标准步行速度不同"
                f"（{sorted(base_speeds)} km/h）；"
                "请在本文件中设定 speed_kmh",
            )
        return base_speeds.pop()
    return DEFAULT_SPEED_KMH


@dataclass
class _Entry:
    """One rule of a standard being merged, with the key its file gave (or "")."""

    rule: Rule
    key: str

    @property
    def identity(self) -> tuple[str, str | None, bool]:
        return (self.rule.category, self.rule.tier, not self.rule.checks_coverage)


_Merged = list[_Entry]


def _given_key(rule: Rule) -> str:
    """A base rule's key when its file gave it, "" when it was derived."""
    derived = {rule.category, f"{rule.category}_{rule.tier}", f"{rule.category}_floor_area"}
    derived.add(f"{rule.category}_floor_area_{rule.tier}")
    return "" if rule.key in derived else rule.key


def _base_rules(bases: list[Standard], speed: float, where: str) -> _Merged:
    """Every base's rules at ``speed``; two bases defining one category and tier clash."""
    merged: _Merged = []
    for base in bases:
        for rule in base.with_speed(speed).rules:
            entry = _Entry(rule, _given_key(rule))
            if any(m.identity == entry.identity for m in merged):
                raise InputError(
                    f"{where}: two standards in 'extends' both define a rule for category "
                    f"{rule.category!r} tier {rule.tier!r}; extend one of them and override",
                    zh=f"{zh_where(where)}：'extends' 中的两个标准都定义了类别 {rule.category!r}"
                    f"层级 {rule.tier!r} 的规则；请只继承其中一个并覆盖",
                )
            merged.append(entry)
    return merged


def _matches(merged: _Merged, raw: _RawRule) -> tuple[list[int], list[int]]:
    """Base rules a user rule replaces: (its coverage matches, its floor-area matches)."""
    if raw.key and any(m.rule.key == raw.key for m in merged):
        return [i for i, m in enumerate(merged) if m.rule.key == raw.key], []

    def same(m: _Entry) -> bool:
        return m.rule.category == raw.category and (raw.tier is None or m.rule.tier == raw.tier)

    coverage = [
        i
        for i, m in enumerate(merged)
        if same(m) and m.rule.checks_coverage and raw.checks_coverage
    ]
    area = [
        i
        for i, m in enumerate(merged)
        if same(m) and not m.rule.checks_coverage and raw.has_floor_area and i not in coverage
    ]
    return coverage, area


def _override(merged: _Merged, raw_rules: list[_RawRule], speed: float, where: str) -> None:
    """Replace the base rules each user rule names (keeping the tier), or add the rule.

    A rule with a ``key`` a base rule has replaces that rule. Otherwise a walk coverage rule
    (``per`` residence or catchment) replaces the base's coverage rule of its category (and
    tier), and a floor-area rule (``per`` community or catchment) the base's per-community
    floor-area rule of its category; a ``per = "catchment"`` rule replaces both.
    """
    for raw in raw_rules:
        here = f"{where}, rule {raw.index} (category {raw.category!r})"
        coverage, area = _matches(merged, raw)
        for group in (coverage, area):
            if len(group) > 1:
                tiers = ", ".join(str(merged[i].rule.tier) for i in group)
                raise InputError(
                    f"{here}: the base has {len(group)} rules for this category (tiers "
                    f"{tiers}); add key 'tier' to say which one this rule replaces",
                    zh=f"{zh_where(here)}：基础标准中该类别有 {len(group)} 条规则（层级 {tiers}）；"
                    "请加上键 'tier'，说明本规则替换哪一条",
                )
        matches = sorted(coverage + area)
        tier = raw.tier
        if matches and tier is None:
            tier = merged[coverage[0] if coverage else matches[0]].rule.tier
        try:
            rule = Rule.build(raw.category, speed_kmh=speed, tier=tier, **raw.fields)
        except InputError as error:
            raise InputError(f"{here}: {error}", zh=f"{zh_where(here)}：{zh_of(error)}") from None
        entry = _Entry(rule, raw.key)
        if matches:
            log.info("%s replaces the base rule for %r (tier %s)", here, raw.category, tier)
            merged[matches[0]] = entry
            for i in reversed(matches[1:]):
                del merged[i]
        else:
            merged.append(entry)


def _keyed(merged: _Merged) -> tuple[Rule, ...]:
    """The rules with their keys.

    A key the file gives is kept. Otherwise a coverage rule's key is its category, or
    ``<category>_<tier>`` when several coverage rules share the category; a per-community
    floor-area rule's key is ``<category>_floor_area`` (``..._<tier>`` when it repeats).
    """
    counts: dict[tuple[str, bool], int] = {}
    for m in merged:
        kind = (m.rule.category, m.rule.checks_coverage)
        counts[kind] = counts.get(kind, 0) + 1
    out = []
    for m in merged:
        rule = m.rule
        base = rule.category if rule.checks_coverage else f"{rule.category}_floor_area"
        repeats = counts[(rule.category, rule.checks_coverage)] > 1
        key = m.key or (base if not repeats or rule.tier is None else f"{base}_{rule.tier}")
        out.append(replace(rule, key=key))
    return tuple(out)


def _targets(file_targets: dict[str, Any], bases: list[Standard], where: str) -> Targets:
    """The file's ``[targets]`` keys, else the bases' (which must agree key by key)."""
    values: dict[str, Any] = {}
    for key in sorted(_TARGET_KEYS):
        if key in file_targets:
            values[key] = file_targets[key]
            continue
        found = {
            repr(getattr(base.targets, key)): getattr(base.targets, key)
            for base in bases
            if getattr(base.targets, key) not in (None, "")
        }
        if len(found) > 1:
            raise InputError(
                f"{where}: the standards in 'extends' set different [targets] {key} "
                f"({', '.join(sorted(found))}); set it in this file's [targets]",
                zh=f"{zh_where(where)}：'extends' 中的标准设定的 [targets] {key} 不同"
                f"（{'、'.join(sorted(found))}）；请在本文件的 [targets] 中设定",
            )
        if found:
            values[key] = next(iter(found.values()))
    return Targets(**values)


def _load(ref: str | Path, *, relative_to: Path | None, stack: tuple[Path, ...]) -> Standard:
    path, builtin = _resolve(ref, relative_to=relative_to)
    if path in stack:
        chain = " -> ".join(str(p) for p in (*stack, path))
        raise InputError(
            f"standard file {path}: 'extends' goes round in a circle: {chain}",
            zh=f"标准文件 {path}：'extends' 形成了循环：{chain}",
        )
    data = _read_toml(path)
    where = f"standard file {path}"
    problems: list[tuple[str, str]] = []
    header = _check_header(data, path, builtin=builtin, where=where, problems=problems)
    default_source = header.source or ("" if builtin else f"user file {path.name}")
    raw_rules = _parse_rules(header.rules, where, problems, default_source=default_source)
    if problems:
        en, zh = _problems_message(where, problems)
        raise InputError(en, zh=zh)

    bases = [_load(ref, relative_to=path.parent, stack=(*stack, path)) for ref in header.extends]
    speed = _speed(header.speed_kmh, bases, where)
    merged = _base_rules(bases, speed, where)
    _override(merged, raw_rules, speed, where)
    base_title_en = " + ".join(base.title_en for base in bases)
    base_title_zh = " + ".join(base.title_zh for base in bases)
    suffix = f" (with {path.name})" if bases and raw_rules else ""
    name = header.name
    try:
        return Standard(
            name=name,
            title_zh=data.get("title_zh") or (base_title_zh + suffix if bases else name),
            title_en=data.get("title_en") or (base_title_en + suffix if bases else name),
            rules=_keyed(merged),
            source=header.source or "; ".join(dict.fromkeys(base.source for base in bases)),
            speed_kmh=speed,
            path=None if builtin else str(path),
            extends=tuple(header.extends),
            notes=data.get("notes", ""),
            targets=_targets(header.targets, bases, where),
        )
    except ValueError as error:
        zh = error.zh if isinstance(error, InputError) and error.zh else str(error)
        raise InputError(f"{where}: {error}", zh=f"{zh_where(where)}：{zh}") from None


def _problems_message(where: str, problems: list[tuple[str, str]]) -> tuple[str, str]:
    """The problems as one message, in English and in Chinese."""
    if len(problems) == 1:
        return problems[0]
    lines = "\n".join(f"  - {en}" for en, _ in problems)
    lines_zh = "\n".join(f"  - {zh}" for _, zh in problems)
    return (
        f"{where} has {len(problems)} problems:\n{lines}",
        f"{zh_where(where)} 有 {len(problems)} 个问题：\n{lines_zh}",
    )


def load_standard(name_or_path: str | Path, *, speed_kmh: float | None = None) -> Standard:
    """Load a built-in standard by name, or a user standard from a TOML file.

    Parameters
    ----------
    name_or_path
        A built-in name (:func:`list_standards`, e.g. ``"community_service"``, ``"gb50180"``)
        or the path of a TOML file (anything ending in ``.toml`` or containing a slash).
    speed_kmh
        Walking speed for every rule, in km/h. None uses the file's ``speed_kmh`` (or its
        base's), else :data:`DEFAULT_SPEED_KMH` (4.0). Minute thresholds are converted to
        metres at this speed; metre thresholds to minutes.

    Returns
    -------
    Standard
        The standard with its rules resolved (bases merged, keys assigned).

    Raises
    ------
    InputError
        For an unknown name (the message lists the built-in names), a missing file, invalid
        TOML, or invalid content (the message names the file, the rule and the key).
    """
    standard = _load(name_or_path, relative_to=None, stack=())
    if speed_kmh is not None:
        standard = standard.with_speed(speed_kmh)
    return standard
