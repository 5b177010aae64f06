"""One option of the ``planner`` command: where it may be given, its type and range, and the
one conversion every value goes through (`Option.convert`), flag or review-file value alike."""

from __future__ import annotations

import codecs
import difflib
import math
from dataclasses import dataclass
from typing import Any, Final, Literal

from planner.errors import InputError

Kind = Literal[
    "path",
    "paths",
    "text",
    "name",
    "choice",
    "number",
    "count",
    "bool",
    "numbers",
    "encoding",
    "pairs",
    "labels",
]

REVIEW: Final = ("check", "propose")  # the commands that read a review file
COMMANDS: Final = (
    "check",
    "propose",
    "network",
    "isochrones",
    "households",
    "report",
    "init",
    "batch",
)


@dataclass(frozen=True)
class Option:
    """One setting: where it may be given, its type and range, its help.

    ``name`` is the setting's name in `Settings` (dotted for table keys). ``key`` is its review
    file key (dotted path into TOML tables; None: flag only); ``flag`` its flag (None: file
    only; a bare word: a positional argument). ``switch`` makes the flag take no value and
    store that value. ``low``/``high`` bound numbers (``low_open``: strictly greater).
    """

    name: str
    kind: Kind
    help: str
    flag: str | None = None
    key: str | None = None
    commands: tuple[str, ...] = REVIEW
    choices: tuple[str, ...] = ()
    low: float | None = None
    low_open: bool = False
    high: float | None = None
    unit: str = ""
    default: Any = None
    switch: Any = None
    metavar: str | None = None
    group: str | None = None  # flags of one group are mutually exclusive
    kwarg: str | None = None  # the library's keyword for it, to translate its messages
    layer_of: str | None = None  # for a per-input option (``--facilities-layer``): the input

    def allowed(self) -> str:
        """What is allowed, in words."""
        if self.kind == "choice":
            return "one of " + ", ".join(self.choices)
        if self.kind == "bool":
            return "true or false"
        if self.kind in ("number", "count", "numbers"):
            what = {"number": "a number", "count": "a whole number", "numbers": "numbers"}[
                self.kind
            ]
            bounds = []
            if self.low is not None:
                bounds.append(f"{'>' if self.low_open else '≥'} {self.low:g}")
            if self.high is not None:
                bounds.append(f"≤ {self.high:g}")
            text = what + (" " + " and ".join(bounds) if bounds else "")
            return text + (f" ({self.unit})" if self.unit else "")
        if self.kind == "encoding":
            return "a text encoding Python knows, e.g. utf-8, gbk, gb18030"
        if self.kind == "path":
            return "a path (text in quotes)"
        if self.kind == "paths":
            return "one or more paths"
        if self.kind == "pairs":
            return "KEY=NAME, KEY one of " + ", ".join(self.choices)
        if self.kind == "labels":
            return (
                'a table of label = "category" (e.g. "社区党群服务中心" = "community_service"), '
                "each category one of planner's categories"
            )
        return "text in quotes" if self.kind == "text" else "a column or layer name in quotes"

    def convert(self, value: Any, where: str, *, from_flag: bool) -> Any:
        """``value`` as this option's type, or an InputError naming ``where`` and the rule."""
        shown = repr(value) if from_flag else toml_repr(value)
        problem = self._problem(value, from_flag)
        if problem is None:
            try:
                return self._checked(value, from_flag)
            except ValueError as exc:
                problem = str(exc)
        raise InputError(
            f"{where} {shown}: {problem}; allowed: {self.allowed()}.",
            zh=f"{where} {shown}：取值不符（{problem}）；允许：{self.allowed()}。",
        )

    def _problem(self, value: Any, from_flag: bool) -> str | None:
        """Why ``value`` has the wrong type (None: the type is right)."""
        if from_flag:
            return None  # flags are text; _checked parses them
        if self.kind == "labels":
            if not isinstance(value, dict):
                return f"a {toml_type(value)}, not a table"
            for label, category in value.items():
                if not isinstance(category, str):
                    return f"the label {label!r} maps to a {toml_type(category)}, not text"
            return None
        if self.kind in ("number", "count"):
            if isinstance(value, bool):
                return "a boolean (true/false), not a number"
            if isinstance(value, str):
                try:
                    float(value)
                except ValueError:
                    return "text, not a number"
                return "a number written as text; write it without quotes"
            if not isinstance(value, int | float):
                return f"a {toml_type(value)}, not a number"
            return None
        if self.kind == "bool":
            if isinstance(value, str) and value.strip().lower() in ("true", "false"):
                return "text, not a boolean; write true or false without quotes"
            if not isinstance(value, bool):
                return f"a {toml_type(value)}, not a boolean"
            return None
        if self.kind == "numbers":
            if not isinstance(value, list) or any(
                isinstance(v, bool) or not isinstance(v, int | float) for v in value
            ):
                return "not a list of numbers"
            return None
        if not isinstance(value, str):
            return f"a {toml_type(value)}, not text; put it in quotes"
        return None

    def _checked(self, value: Any, from_flag: bool) -> Any:
        if self.kind == "paths":
            values = value if isinstance(value, list) else [value]
            if not values or not all(str(v).strip() for v in values):
                raise ValueError("empty")
            if any("\0" in str(v) for v in values):
                raise ValueError("a NUL character, which no file name holds")
            return [str(v) for v in values]
        if self.kind == "pairs":
            return dict(_pair(v, self.choices) for v in _listed(value))
        if self.kind == "labels":
            pairs = (
                [_pair(v, ()) for v in _listed(value)]
                if from_flag
                else [(str(k), str(v)) for k, v in value.items()]
            )
            return dict(_label(label, category) for label, category in pairs)
        if self.kind == "bool":
            return bool(value)
        if self.kind in ("number", "count"):
            return self._number(value)
        if self.kind == "numbers":
            values = value if isinstance(value, list) else [value]
            if not values:
                raise ValueError("an empty list")
            return [self._number(v) for v in values]
        text = str(value)
        if not text.strip():
            raise ValueError("empty")
        if self.kind == "path" and "\0" in text:
            raise ValueError("a NUL character, which no file name holds")
        if self.kind == "choice" and text not in self.choices:
            close = difflib.get_close_matches(text, self.choices, n=1)
            raise ValueError(
                "not one of the choices" + (f" (did you mean {close[0]}?)" if close else "")
            )
        if self.kind == "encoding":
            try:
                codecs.lookup(text)
            except LookupError:
                raise ValueError("an encoding Python does not know") from None
        return text

    def _number(self, value: Any) -> float | int:
        if isinstance(value, str):
            try:
                number = float(value.strip())
            except ValueError:
                raise ValueError("not a number") from None
        else:
            number = float(value)
        if not math.isfinite(number):
            raise ValueError("not a finite number")
        if self.kind == "count":
            if not number.is_integer():
                raise ValueError("not a whole number")
        if self.low is not None and (number <= self.low if self.low_open else number < self.low):
            raise ValueError("out of range")
        if self.high is not None and number > self.high:
            raise ValueError("out of range")
        return int(number) if self.kind == "count" else number

    def shown(self, command: str, *, zh: bool = False) -> str:
        """How a message names this option for ``command``: the flag, and the key in a file
        (``zh``: in a Chinese message)."""
        flag = self.flag if self.flag and command in self.commands else None
        key = self.key if self.key and command in REVIEW else None
        if flag and key:
            return f"{flag}（评估文件：{key}）" if zh else f"{flag} (review file: {key})"
        if key and not flag:
            return f"评估文件：{key}" if zh else f"review file: {key}"
        return flag or self.name


def _listed(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def _pair(text: Any, keys: tuple[str, ...]) -> tuple[str, str]:
    """``KEY=NAME`` as (KEY, NAME); KEY one of ``keys`` when given."""
    key, sep, name = str(text).partition("=")
    key, name = key.strip(), name.strip()
    if not sep or not key or not name:
        raise ValueError(f"{str(text)!r} is not KEY=NAME")
    if keys and key not in keys:
        close = difflib.get_close_matches(key, keys, n=1)
        raise ValueError(
            f"{key!r} is not a column key here" + (f" (did you mean {close[0]}?)" if close else "")
        )
    return key, name


def _label(label: str, category: str) -> tuple[str, str]:
    """A ``[categories]`` entry checked: a label with text, a category planner knows."""
    from planner.standards import is_known_category, normalise_category

    if not label.strip():
        raise ValueError("an empty label")
    try:
        code = normalise_category(category)
    except InputError:
        code = ""
    if not is_known_category(code):
        close = difflib.get_close_matches(code or category, _categories(), n=1)
        raise ValueError(
            f"{category!r} (for the label {label!r}) is not one of planner's categories"
            + (f" (did you mean {close[0]}?)" if close else "")
        )
    return label.strip(), code


def _categories() -> list[str]:
    from planner.standards import CATEGORIES

    return list(CATEGORIES)


def toml_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "table"
    return "date or time"


def toml_repr(value: Any) -> str:
    if isinstance(value, bool):
        return "= " + ("true" if value else "false")
    if isinstance(value, str):
        return f'= "{value}"'
    text = repr(value)
    return "= " + (text if len(text) <= 60 else text[:57] + "...")


__all__ = ["COMMANDS", "REVIEW", "Kind", "Option", "toml_repr", "toml_type"]
