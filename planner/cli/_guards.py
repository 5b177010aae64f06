"""Checks before any work: outputs never touch inputs, and can be written.

- An output folder that is, holds or lies inside any input (the review file and a standard's
  TOML file included) is refused, and so is an output file that is an input or lies inside an
  input folder (a saved network). Writing into an earlier review's folder stays allowed.
- An output folder that is an existing file, or whose nearest existing parent is a file or
  cannot be written (read-only, no permission), is refused; so is an output file that is a
  folder, has the wrong suffix or whose folder does not exist.
- Staging folders left by a killed run beside an output are removed (`remove_stale_stages`).

Every refusal is an InputError (exit 2) naming the flag or review-file key and the path.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from planner._files import remove_stale_stages
from planner.cli._config import Settings
from planner.errors import InputError

_WHAT_ZH: Final = {"isochrones": "步行圈", "the map": "地图", "a residences layer": "居住点图层"}
_WHY_ZH: Final = {
    "is on a read-only file system": "位于只读文件系统上",
    "cannot be written (no permission)": "无法写入（没有权限）",
}


def _resolved(path: str | os.PathLike[str]) -> Path:
    return Path(path).expanduser().resolve()


def inputs_of(settings: Settings, names: Sequence[str]) -> list[tuple[str, Path]]:
    """(where, resolved path) of the inputs given, the review file and a standard file too."""
    found = [(settings.where(n), _resolved(settings.get(n))) for n in names if n in settings]
    if settings.config is not None:
        found.append((f"--config {settings.config}", _resolved(settings.config)))
    standard = settings.get("standard")
    if standard and Path(standard).is_file():
        found.append((settings.where("standard"), _resolved(standard)))
    return found


def refuse_overwrite(
    settings: Settings,
    *,
    folders: Sequence[str] = (),
    files: Sequence[str] = (),
    inputs: Sequence[str] = (),
) -> None:
    """Refuse outputs (option names of folders and files) that would touch any input."""
    sources = inputs_of(settings, inputs)
    for name in folders:
        if name not in settings:
            continue
        out = _resolved(settings.get(name))
        for where, source in sources:
            if out == source:
                relation = "is"
            elif out in source.parents:
                relation = "holds"
            elif source in out.parents:
                relation = "lies inside"
            else:
                continue
            raise InputError(
                f"{settings.where(name)} {settings.get(name)}: the output folder {relation} the "
                f"input {where} ({source}); inputs are never overwritten: choose an output "
                "folder that holds no input.",
                zh=f"{settings.where(name)} {settings.get(name)}：输出文件夹与输入 {where}"
                f"（{source}）重叠；输入文件绝不会被覆盖：请选择不含任何输入的输出文件夹。",
            )
    for name in files:
        if name not in settings:
            continue
        out = _resolved(settings.get(name))
        for where, source in sources:
            if out == source or source in out.parents:
                relation = "is" if out == source else "lies inside"
                raise InputError(
                    f"{settings.where(name)} {settings.get(name)}: the output file {relation} "
                    f"the input {where} ({source}); inputs are never overwritten: write to "
                    "another file.",
                    zh=f"{settings.where(name)} {settings.get(name)}：输出文件与输入 {where}"
                    f"（{source}）相同或在其中；输入文件绝不会被覆盖：请写到另一个文件。",
                )
    outs = [(n, _resolved(settings.get(n))) for n in files if n in settings]
    for i, (name, path) in enumerate(outs):
        for other, other_path in outs[i + 1 :]:
            if path == other_path:
                raise InputError(
                    f"{settings.where(name)} and {settings.where(other)} are the same file "
                    f"({path}); give them different names.",
                    zh=f"{settings.where(name)} 和 {settings.where(other)} 是同一个文件"
                    f"（{path}）；请用不同的文件名。",
                )


def _nearest_existing(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path(path.anchor or ".")


def writable_folder(settings: Settings, name: str) -> Path:
    """The output folder ``name``, refused unless it is (or can become) a writable folder."""
    where = settings.where(name)
    target = Path(settings.get(name))
    if target.exists() and not target.is_dir():
        raise InputError(
            f"{where} {target}: is an existing file, not a folder; give a folder to write "
            "the outputs into (it is created when missing).",
            zh=f"{where} {target}：是已存在的文件，不是文件夹；请给出写入输出的文件夹"
            "（不存在时会创建）。",
        )
    base = _nearest_existing(target.resolve())
    if not base.is_dir():
        raise InputError(
            f"{where} {target}: {base} is a file, so no folder can be made below it; "
            "choose another output folder.",
            zh=f"{where} {target}：{base} 是文件，其下无法创建文件夹；请另选输出文件夹。",
        )
    _refuse_unwritable(where, target, base)
    remove_stale_stages(target.resolve())
    return target


def writable_file(
    settings: Settings, name: str, suffixes: Sequence[str], what: str, *, make_folder: bool
) -> Path:
    """The output file ``name``, refused unless its suffix is one of ``suffixes`` and it can be
    written (its folder exists, unless ``make_folder``)."""
    where = settings.where(name)
    target = Path(settings.get(name))
    if suffixes and target.suffix.lower() not in suffixes:
        raise InputError(
            f"{where} {target}: cannot write {what} as "
            f"{target.suffix or 'a file without suffix'}; name it "
            f"{' or '.join('FILE' + s for s in suffixes)}.",
            zh=f"{where} {target}："
            f"无法把{_WHAT_ZH.get(what, what)}写成 {target.suffix or '无后缀的文件'}；"
            f"请命名为 {' 或 '.join('FILE' + s for s in suffixes)}。",
        )
    if target.is_dir():
        raise InputError(
            f"{where} {target}: is a folder; give a file name ({what}).",
            zh=f"{where} {target}：是文件夹；请给出文件名（{_WHAT_ZH.get(what, what)}）。",
        )
    folder = target.resolve().parent
    if not make_folder and not folder.is_dir():
        raise InputError(
            f"{where} {target}: the folder {folder} does not exist; create it first.",
            zh=f"{where} {target}：文件夹 {folder} 不存在；请先创建。",
        )
    base = _nearest_existing(folder)
    if not base.is_dir():
        raise InputError(
            f"{where} {target}: {base} is a file, not a folder.",
            zh=f"{where} {target}：{base} 是文件，不是文件夹。",
        )
    _refuse_unwritable(where, target, base)
    remove_stale_stages(target.resolve())
    return target


def _refuse_unwritable(where: str, target: Path, base: Path) -> None:
    if not os.access(base, os.W_OK | os.X_OK):
        try:
            read_only = bool(os.statvfs(base).f_flag & os.ST_RDONLY)
        except (OSError, AttributeError):
            read_only = False
        why = "is on a read-only file system" if read_only else "cannot be written (no permission)"
        raise InputError(
            f"{where} {target}: {base} {why}; choose a folder you can write to.",
            zh=f"{where} {target}：{base} {_WHY_ZH[why]}；请选择可写入的文件夹。",
        )


__all__ = ["inputs_of", "refuse_overwrite", "writable_file", "writable_folder"]
