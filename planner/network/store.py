"""The saved-network folder: ``edges.parquet``, ``nodes.parquet`` and ``network.json``.

`Network.save` writes the folder through `write_network_folder` (atomically: a new folder is
written beside the target and renamed into place); `open_network` reads it back through
`read_network_folder`, which checks the format and its version. This module knows the files,
not the `Network` class.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from planner.errors import InputError

FORMAT_VERSION = 1
"""Version of the saved-network format written by `Network.save`."""

_FORMAT = "planner-network"


def is_saved_network(folder: Path) -> bool:
    """Whether ``folder`` holds a ``network.json`` of a saved planner network."""
    meta = folder / "network.json"
    if not folder.is_dir() or not meta.is_file():
        return False
    try:
        return bool(json.loads(meta.read_text(encoding="utf-8")).get("format") == _FORMAT)
    except (OSError, ValueError, AttributeError):
        return False


def _remove_tree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def write_network_folder(
    path: str | os.PathLike[str],
    *,
    edges: Callable[[], Any],
    nodes: Callable[[], Any],
    meta: dict[str, Any],
) -> Path:
    """Write a saved-network folder atomically, replacing a saved network already there.

    Parameters
    ----------
    path
        The folder to write.
    edges, nodes
        Make the edge GeoDataFrame and the node DataFrame (called once the target is checked).
    meta
        What ``network.json`` holds after ``format`` and ``format_version`` (CRS, report).

    Returns
    -------
    Path
        The folder written.

    Raises
    ------
    InputError
        ``path`` exists and is not a saved planner network.
    """
    target = Path(path)
    if target.exists() and not is_saved_network(target):
        raise InputError(
            f"{target}: exists and is not a saved planner network; "
            "choose a new folder name (it is never overwritten).",
            zh=f"{target}：已存在，且不是已保存的 planner 网络；"
            "请换一个新的文件夹名（它不会被覆盖）。",
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        edges().to_parquet(tmp / "edges.parquet", index=False)
        nodes().to_parquet(tmp / "nodes.parquet", index=False)
        header = {"format": _FORMAT, "format_version": FORMAT_VERSION}
        (tmp / "network.json").write_text(
            json.dumps({**header, **meta}, indent=2), encoding="utf-8"
        )
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=target.parent))
            old.rmdir()
            target.rename(old)
            tmp.rename(target)
            _remove_tree(old)
        else:
            tmp.rename(target)
    except BaseException:
        _remove_tree(tmp)
        raise
    return target


def read_network_folder(folder: Path) -> tuple[dict[str, Any], Any, Any]:
    """``(meta, edges, nodes)`` of a saved-network folder: ``network.json`` and the two tables.

    Raises
    ------
    InputError
        No ``network.json``, a damaged one, an unknown format or version, or unreadable tables.
    """
    import pandas as pd

    meta_path = folder / "network.json"
    if not meta_path.is_file():
        raise InputError(
            f"{folder}: not a saved planner network (no network.json). "
            "Save one with Network.save() or `planner network --save`.",
            zh=f"{folder}：不是已保存的 planner 网络（没有 network.json）。"
            "请用 Network.save() 或 `planner network --save` 保存一个。",
        )
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if not isinstance(meta, dict):
            raise ValueError("network.json does not hold an object")
    except (OSError, ValueError) as exc:
        raise InputError(
            f"{meta_path}: damaged ({exc}); load the OSM file again and re-save.",
            zh=f"{meta_path}：已损坏（{exc}）；请重新读取 OSM 文件并再次保存。",
        ) from exc
    if meta.get("format") != _FORMAT or meta.get("format_version") != FORMAT_VERSION:
        raise InputError(
            f"{folder}: saved network format {meta.get('format')!r} version "
            f"{meta.get('format_version')!r} is not supported (this planner reads "
            f"{_FORMAT} version {FORMAT_VERSION}); load the OSM file again and re-save.",
            zh=f"{folder}：不支持已保存网络的格式 {meta.get('format')!r} 版本 "
            f"{meta.get('format_version')!r}（本 planner 读取 {_FORMAT} 版本 {FORMAT_VERSION}）；"
            "请重新读取 OSM 文件并再次保存。",
        )
    try:
        edges = pd.read_parquet(folder / "edges.parquet")
        nodes = pd.read_parquet(folder / "nodes.parquet")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise unreadable(folder, exc) from exc
    return meta, edges, nodes


def unreadable(folder: Path, exc: BaseException) -> InputError:
    """The error for a saved network whose tables cannot be read or make no network."""
    return InputError(
        f"{folder}: cannot read the saved network ({type(exc).__name__}: {exc}); "
        "load the OSM file again and re-save.",
        zh=f"{folder}：无法读取已保存的网络（{type(exc).__name__}：{exc}）；"
        "请重新读取 OSM 文件并再次保存。",
    )
