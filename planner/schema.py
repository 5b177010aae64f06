"""The output contract's vocabulary: column names, statuses, allocations and the defaults.

Every module takes its defaults from here, so a default is stated once (docs/ARCHITECTURE.md,
"Output contract"). This module imports nothing of planner.
"""

from __future__ import annotations

from typing import Final

DEFAULT_SPEED_KMH: Final = 4.0
"""Walking speed: 15 minutes = 1000 m, as GB 50180-2018 states."""

DEFAULT_SNAP_CAP_M: Final = 500.0
"""Points farther than this from every walkable street are reported off-network, never moved."""

DEFAULT_BUFFER_M: Final = 25.0
"""Width of land either side of a reached street that a served area (isochrone) holds."""

DEFAULT_MINUTES: Final = (5.0, 10.0, 15.0)
"""The served-area bands drawn by default."""

DEFAULT_STANDARD: Final = "community_service"
"""The built-in standard a review checks unless told otherwise."""

DEFAULT_CATEGORY: Final = "community_service"
"""The category `planner propose` adds unless told otherwise."""

ALLOCATIONS: Final = ("catchment", "nearest", "community")
"""Ways to allocate households to floor area (docs/ARCHITECTURE.md, "Floor area")."""

STATUSES: Final = ("covered", "partly", "uncovered", "off_network")
"""A residence's status over the required rules."""


def column(kind: str, key: str) -> str:
    """Name of a per-rule output column: ``column("walk_m", "health") == "walk_m_health"``."""
    return f"{kind}_{key}"


__all__ = [
    "ALLOCATIONS",
    "DEFAULT_BUFFER_M",
    "DEFAULT_CATEGORY",
    "DEFAULT_MINUTES",
    "DEFAULT_SNAP_CAP_M",
    "DEFAULT_SPEED_KMH",
    "DEFAULT_STANDARD",
    "STATUSES",
    "column",
]
