"""Files: atomic writes, staged output folders, sha256, JSON-safe values.

A leaf module (imports nothing of planner but `planner.errors`). Every writer of planner goes
through `replace_atomically` or `staged_output`, so a failed run never leaves a half-written file:

- everything is written into a staging folder ``.<name>.partial-XXXX`` beside the target, which
  holds a lock file for as long as its run lives; on success its files are moved into place
  (under a lock on the parent folder, with SIGINT/SIGTERM held back), on any error or interrupt
  the staging folder is removed;
- a staging folder whose run died without cleaning up (SIGKILL, power cut) holds no lock any
  more: the next write beside it removes it (`remove_stale_stages`);
- a write that fails for the file system (disk full, read-only, permission denied, or GDAL's
  way of saying so) raises `planner.errors.OutputError` naming the target and what happened.
"""

from __future__ import annotations

import errno
import hashlib
import math
import os
import re
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from planner.errors import OutputError, PlannerError

try:
    import fcntl
except ImportError:  # pragma: no cover - not on Linux or macOS: no locks, age decides staleness
    fcntl = None  # type: ignore[assignment]

STAGE_MARK = ".partial-"  # staging folders are named .<target name>.partial-XXXX
_LOCK_NAME = ".planner-stage.lock"  # held by the run that owns a staging folder; never moved
_LOCKLESS_STALE_S = 600.0  # a staging folder without a lock file is stale after this long
_FULL_BYTES = 1 << 20  # less than 1 MiB left after a failed write: the disk is full


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


def remove_stale_stages(target: str | os.PathLike[str]) -> list[Path]:
    """Remove the staging folders of ``target`` left by runs that died; return those removed.

    A staging folder belongs to a live run as long as that run holds the lock on its lock file
    (the operating system releases it when the process dies, however it dies). Folders from
    before lock files, or on systems without ``fcntl``, count as stale after 10 minutes.
    """
    target = Path(target)
    parent = target.parent
    removed: list[Path] = []
    try:
        candidates = sorted(parent.glob(f".{glob_escape(target.name)}{STAGE_MARK}*"))
    except OSError:
        return removed
    for stage in candidates:
        if stage.is_dir() and _is_stale(stage):
            shutil.rmtree(stage, ignore_errors=True)
            if not stage.exists():
                removed.append(stage)
    return removed


def glob_escape(name: str) -> str:
    """``name`` with glob's special characters escaped."""
    return "".join(f"[{c}]" if c in "*?[" else c for c in name)


def _is_stale(stage: Path) -> bool:
    lock = stage / _LOCK_NAME
    if fcntl is None or not lock.exists():
        try:
            return time.time() - stage.stat().st_mtime > _LOCKLESS_STALE_S
        except OSError:
            return False
    try:
        fd = os.open(lock, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False  # a live run holds it
    finally:
        os.close(fd)
    return True


@contextmanager
def _stage_beside(target: Path) -> Iterator[Path]:
    """A locked staging folder beside ``target``, removed on leaving (error or not)."""
    remove_stale_stages(target)
    try:
        stage = Path(tempfile.mkdtemp(prefix=f".{target.name}{STAGE_MARK}", dir=target.parent))
    except OSError as exc:
        raise _output_error(exc, target, target.parent) from exc
    lock_fd = None
    try:
        try:
            lock_fd = os.open(stage / _LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
            if fcntl is not None:
                fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            raise _output_error(exc, target, stage) from exc
        try:
            yield stage
        except OutputError as exc:  # from a write nested in this one: name the final target
            if exc.strerror is None or str(stage) not in str(exc.strerror):
                raise
            message = re.sub(re.escape(str(stage)) + r"[^\s:;]*", str(target), exc.strerror)
            raise OutputError(exc.errno, message) from exc
        except PlannerError:
            raise
        except Exception as exc:
            fault = _as_fault(exc, target, stage)
            if fault is None:
                raise
            raise fault from exc
    finally:
        if lock_fd is not None:
            os.close(lock_fd)
        shutil.rmtree(stage, ignore_errors=True)


@contextmanager
def _commit(parent: Path) -> Iterator[None]:
    """Hold the parent folder's lock and SIGINT/SIGTERM while files are moved into place.

    Two runs writing into one folder at once then each move their whole set of files in one go
    (the later one wins, file by file complete), and an interrupt never leaves a folder with
    some files of this run and some of an earlier one.
    """
    held = {signal.SIGINT, signal.SIGTERM}
    in_main = threading.current_thread() is threading.main_thread()
    if in_main:
        old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    fd = None
    try:
        if fcntl is not None:
            try:
                fd = os.open(parent, os.O_RDONLY)
                fcntl.flock(fd, fcntl.LOCK_EX)
            except OSError:
                pass  # a file system without locks: still correct for one run at a time
        yield
    finally:
        if fd is not None:
            os.close(fd)
        if in_main:
            signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)


@contextmanager
def staged_output(out_dir: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a staging folder; on success move its files into ``out_dir``, else remove it.

    Raises
    ------
    OutputError
        The folder cannot be written (disk full, read-only, permission denied...); nothing was
        moved into ``out_dir`` and the staging folder is gone.
    """
    target = Path(out_dir)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _output_error(exc, target, target.parent) from exc
    with _stage_beside(target) as stage:
        yield stage
        items = sorted(p for p in stage.iterdir() if p.name != _LOCK_NAME)
        try:
            with _commit(target.parent):
                target.mkdir(parents=True, exist_ok=True)
                for item in items:
                    os.replace(item, target / item.name)
        except OSError as exc:
            raise _output_error(exc, target, target) from exc


def replace_atomically(path: str | os.PathLike[str], write: Callable[[Path], None]) -> Path:
    """Call ``write`` on a hidden file beside ``path``, then rename it: never a partial file.

    The hidden file lives in a locked staging folder (see `staged_output`), so one left by a
    killed run is removed by the next write beside it.

    Raises
    ------
    OutputError
        As for `staged_output`; ``path`` is left as it was.
    """
    target = Path(path)
    with _stage_beside(target) as stage:
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=target.suffix, dir=stage)
        os.close(fd)
        tmp = Path(name)
        tmp.unlink()
        write(tmp)
        try:
            with _commit(target.parent):
                os.replace(tmp, target)
        except OSError as exc:
            raise _output_error(exc, target, target) from exc
    return target


def _disk_full(where: Path) -> bool:
    try:
        return shutil.disk_usage(where).free < _FULL_BYTES
    except OSError:
        return False


def _output_error(exc: OSError, target: Path, where: Path) -> OutputError:
    code = exc.errno if exc.errno is not None else errno.EIO
    if code == errno.ENOSPC or (code == errno.EIO and _disk_full(where)):
        what = f"the disk holding {target.parent} is full"
    elif code in (errno.EROFS,):
        what = f"{target.parent} is on a read-only file system"
    elif code in (errno.EACCES, errno.EPERM):
        what = f"no permission to write in {target.parent}"
    else:
        what = exc.strerror or str(exc)
    return OutputError(code, f"cannot write {target}: {what}; nothing was changed there")


def _as_fault(exc: Exception, target: Path, stage: Path) -> OutputError | None:
    """The OutputError a failed write means, or None when it is not the file system's fault."""
    if isinstance(exc, OSError):
        return _output_error(exc, target, stage)
    if _disk_full(stage):  # GDAL/SQLite say "Cannot write feature", "no such table" ...
        return OutputError(
            errno.ENOSPC,
            f"cannot write {target}: the disk holding {target.parent} is full "
            f"({type(exc).__name__}: {exc}); nothing was changed there",
        )
    if type(exc).__module__.startswith("pyogrio"):
        return OutputError(errno.EIO, f"cannot write {target}: {exc}; nothing was changed there")
    return None


def write_text_atomic(path: str | os.PathLike[str], text: str) -> Path:
    """Write UTF-8 text (``\\n`` line ends) to ``path`` through `replace_atomically`, synced."""

    def write(tmp: Path) -> None:
        with tmp.open("w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())

    return replace_atomically(path, write)


__all__ = [
    "STAGE_MARK",
    "file_sha256",
    "glob_escape",
    "jsonable",
    "remove_stale_stages",
    "replace_atomically",
    "staged_output",
    "write_text_atomic",
]
