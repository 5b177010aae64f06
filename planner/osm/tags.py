"""The walk filter: which OSM ways pedestrians may use (see docs/ARCHITECTURE.md)."""

from __future__ import annotations

from typing import Protocol


class TagLookup(Protocol):
    """Tags that answer ``get``: a dict, or osmium's TagList (read without copying)."""

    def get(self, key: str, default: None = None, /) -> str | None: ...


EXCLUDED_HIGHWAYS = frozenset(
    {
        "motorway",
        "motorway_link",
        "construction",
        "proposed",
        "abandoned",
        "planned",
        "platform",
        "raceway",
        "bus_guideway",
        "razed",
        "no",
    }
)
FOOT_ALLOWED = frozenset({"yes", "designated", "permissive"})


def is_walkable(tags: TagLookup) -> bool:
    """Whether an OSM way with these tags is part of the walking network.

    Parameters
    ----------
    tags
        The way's tags.

    Returns
    -------
    bool
        True for ways with a ``highway`` tag that pedestrians may use, in both directions.
    """
    highway = tags.get("highway")
    if highway is None or highway in EXCLUDED_HIGHWAYS:
        return False
    if tags.get("area") == "yes":
        return False
    foot = tags.get("foot")
    if foot == "no":
        return False
    foot_allowed = foot in FOOT_ALLOWED
    if tags.get("access") in ("private", "no") and not foot_allowed:
        return False
    if tags.get("service") == "private":
        return False
    if highway == "cycleway" and not foot_allowed:
        return False
    return True
