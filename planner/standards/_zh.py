"""Chinese texts of the standard loader's messages: where a problem is, in Chinese."""

from __future__ import annotations

import re
from typing import Final

from planner.errors import InputError

UNIT_ZH: Final = {"metres": "米", "minutes": "分钟"}
_WHERE: Final = re.compile(r"standard file (.*?)(?:, rule (\d+)(?: \(category (.*)\))?)?")


def zh_where(where: str) -> str:
    """A message's place in Chinese: ``标准文件 x.toml，第 2 条规则（类别 'health'）``."""
    found = _WHERE.fullmatch(where)
    if found is None:
        return where
    path, index, category = found.groups()
    text = f"标准文件 {path}"
    if index is not None:
        text += f"，第 {index} 条规则"
    return text + (f"（类别 {category}）" if category else "")


def zh_of(error: InputError) -> str:
    """An error's Chinese text, else its English one."""
    return error.zh or str(error)
