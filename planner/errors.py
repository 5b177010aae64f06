"""Errors raised by planner: one base class, specific ones also subclass a builtin."""

from __future__ import annotations


class PlannerError(Exception):
    """Base class of every error planner raises on purpose.

    ``zh``, when given, is the same message in Chinese (what the ``planner`` command prints
    first under ``lang = "zh"``, before the English one); messages without it stay English.
    """

    def __init__(self, *args: object, zh: str | None = None) -> None:
        super().__init__(*args)
        self.zh = zh


class InputError(ValueError, PlannerError):
    """Bad user input: a file, a layer, a column or a value. The message names it and the fix."""

    def __init__(self, *args: object, zh: str | None = None) -> None:
        ValueError.__init__(self, *args)
        self.zh = zh


class NetworkError(PlannerError):
    """The walking network cannot be built or used (no walkable ways, not an OSM file...)."""


class OfflineError(ConnectionError, PlannerError):
    """An online-only operation (fetching OSM by place name) was asked for without a network."""


class OutputError(OSError, PlannerError):
    """A file or folder could not be written (disk full, read-only, permission denied...).

    Raised only while writing: nothing was moved into place and the staging folder is removed.
    ``errno`` is the operating system's error number when there is one.
    """

    def __str__(self) -> str:
        return str(self.strerror) if self.strerror is not None else super().__str__()
