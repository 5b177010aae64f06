"""The option table and the review-file reader: random wrong values never crash, and every flag
or key a message anywhere in planner proposes exists."""

from __future__ import annotations

import ast
import datetime as dt
import re
import tempfile
from pathlib import Path

import hypothesis.strategies as st
import pytest
from hypothesis import given, settings

from planner.cli._config import (
    COMMANDS,
    KEYS,
    OPTIONS,
    TABLES,
    _load_toml,
    flags,
    review_values,
)
from planner.cli._terminal import LIBRARY_FLAGS, for_cli
from planner.errors import InputError

PACKAGE = Path(__file__).resolve().parents[2] / "planner"
TOML_FILE = Path("/reviews/review.toml")

scalars = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.dates(),
    st.datetimes(),
    st.times(),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)
keys = st.sampled_from(sorted({k.split(".")[0] for k in KEYS} | set(TABLES))) | st.text(max_size=10)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(keys, values, max_size=5))
def test_random_review_files_never_crash(raw):
    try:
        found = review_values(raw, TOML_FILE)
    except InputError as exc:
        assert str(TOML_FILE) in str(exc)
        return
    for name, (value, where) in found.items():
        assert where.startswith(str(TOML_FILE))
        option = next(o for o in OPTIONS if o.name == name and o.key)
        if option.kind in ("number", "count"):
            assert isinstance(value, int | float) and not isinstance(value, bool)
        elif option.kind == "bool":
            assert isinstance(value, bool)
        elif option.kind == "labels":  # [categories]: label -> a known category
            assert isinstance(value, dict) and all(isinstance(v, str) for v in value.values())
        else:
            assert isinstance(value, str) and value.strip()


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(sorted(KEYS)), values)
def test_every_key_takes_only_its_type(key, value):
    raw: dict = {}
    node = raw
    *tables, last = key.split(".")
    for table in tables:
        node = node.setdefault(table, {})
    node[last] = value
    try:
        review_values(raw, TOML_FILE)
    except InputError as exc:
        assert str(TOML_FILE) in str(exc) and key in str(exc)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_as_a_review_file_never_crash(data):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "review.toml"
        path.write_bytes(data)
        try:
            review_values(_load_toml(path), path)
        except InputError as exc:
            assert str(path) in str(exc)


def test_a_path_with_a_nul_character_is_bad_input_not_a_crash():
    """Found by the property test above: Path.resolve() raised ValueError on a NUL byte."""
    for raw in ({"residences": "a\0b.gpkg"}, {"facilities": {"path": "x\0"}}):
        with pytest.raises(InputError, match="NUL character"):
            review_values(raw, TOML_FILE)


def test_true_is_not_a_speed_and_false_text_is_not_a_switch():
    for raw, words in (
        ({"speed_kmh": True}, ("speed_kmh", "true", "boolean")),
        ({"isochrones": "false"}, ("isochrones", '"false"', "without quotes")),
        ({"snap_cap_m": "500"}, ("snap_cap_m", "without quotes")),
    ):
        try:
            review_values(raw, TOML_FILE)
        except InputError as exc:
            assert all(w in str(exc) for w in words), exc
        else:
            raise AssertionError(f"{raw} was accepted")


def test_every_flag_is_in_the_table_once_per_command():
    for command in COMMANDS:
        names = [o.flag for o in OPTIONS if command in o.commands and o.flag]
        assert len(names) == len(set(names)), command


def _strings(path: Path) -> list[str]:
    """Every string constant of a module (f-strings' literal parts included)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
    ]


def test_every_flag_a_message_names_exists():
    """Grep the whole package: a flag named in any string is a flag of some command, or a
    library flag the CLI translates into one of each command that reads such a layer."""
    every = set().union(*(flags(c) for c in COMMANDS))
    unknown = {}
    for module in PACKAGE.rglob("*.py"):
        for text in _strings(module):
            for flag in re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", text):
                if flag not in every and flag not in LIBRARY_FLAGS:
                    unknown.setdefault(flag, module.name)
    assert not unknown, f"messages name flags that do not exist: {unknown}"
    for flag, kwarg in LIBRARY_FLAGS.items():
        translated = for_cli(f"pass {kwarg}=... (or {flag})", "check", layer_of="facilities")
        names = set(re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", translated))
        assert names and names <= flags("check"), (flag, translated)


def test_library_hints_become_this_commands_flags():
    assert for_cli("Add the column (or --floor-area-col).", "check") == (
        "Add the column (or --floor-area-m2-col)."
    )
    assert "--facilities-layer" in for_cli(
        "pass layer=... (or --layer) to choose one", "check", layer_of="facilities"
    )
    assert "--buildings-layer" in for_cli(
        "pass layer=... (or --layer) to choose one", "households", layer_of="buildings"
    )
    assert for_cli("drop crs= if", "isochrones") == "drop --crs if"


def test_layer_tables_and_categories_are_read():
    raw = {
        "crs": "gcj02",
        "facilities": {"path": "f.shp", "encoding": "gbk", "columns": {"id": "编号"}},
        "residences": "r.csv",
        "categories": {"邻里中心": "community_service"},
        "report": {"title": "审查"},
    }
    found = {k: v for k, (v, _) in review_values(raw, TOML_FILE).items()}
    assert found["facilities"] == "/reviews/f.shp" and found["residences"] == "/reviews/r.csv"
    assert found["facilities_encoding"] == "gbk" and found["facilities.columns.id"] == "编号"
    assert found["categories"] == {"邻里中心": "community_service"}
    assert found["report.title"] == "审查"
    for bad, words in (
        ({"categories": {"x": "no_such"}}, ("categories", "no_such")),
        ({"facilities": {"columns": {"households": "户数"}}}, ("facilities", "households")),
        ({"communities": {"sheet": "a"}}, ("communities", "sheet")),
    ):
        try:
            review_values(bad, TOML_FILE)
        except InputError as exc:
            assert all(w in str(exc) for w in words), exc
        else:
            raise AssertionError(f"{bad} was accepted")


def test_dates_are_reported_as_dates():
    try:
        review_values({"standard": dt.date(2020, 1, 1)}, TOML_FILE)
    except InputError as exc:
        assert "date" in str(exc)
