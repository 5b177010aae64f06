"""Files: atomic writes, staged output folders, sha256, JSON-safe values.

A leaf module (imports nothing of planner). Every writer of planner goes through
`replace_atomically` or `staged_output`, so a failed run never leaves a half-written file.
"""

from __future__ import annotations

import hashlib
import math
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


def file_sha256(path: str | os.PathLike[str]) -> str:
    """sha256 of a file, or of a folder's files (sorted by name) for a saved network."""
    digest = hashlib.sha256()
    target = Path(path)
    files = sorted(p for p in target.rglob("*") if p.is_file()) if target.is_dir() else [target]
    for file in files:
        with file.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def jsonable(value: Any) -> Any:
    """Recursively turn numpy values, NaN and inf into plain JSON values (NaN/inf -> None)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [jsonable(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is pd.NA:
        return None
    return value


@contextmanager
def staged_output(out_dir: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a staging folder; on success move its files into ``out_dir``, else remove it."""
    target = Path(out_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
    try:
        yield stage
        target.mkdir(parents=True, exist_ok=True)
        for item in sorted(stage.iterdir()):
            os.replace(item, target / item.name)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def replace_atomically(path: str | os.PathLike[str], write: Callable[[Path], None]) -> Path:
    """Call ``write`` on a hidden file beside ``path``, then rename it: never a partial file."""
    target = Path(path)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=target.suffix, dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        tmp.unlink()
        write(tmp)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


def write_text_atomic(path: str | os.PathLike[str], text: str) -> Path:
    """Write UTF-8 text (``\\n`` line ends) to ``path`` through `replace_atomically`, synced."""

    def write(tmp: Path) -> None:
        with tmp.open("w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())

    return replace_atomically(path, write)


__all__ = [
    "file_sha256",
    "jsonable",
    "replace_atomically",
    "staged_output",
    "write_text_atomic",
]
