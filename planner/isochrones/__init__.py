"""Walking isochrones (being split into modules)."""

from planner.isochrones.build import (
    DEFAULT_MINUTES,
    IsochroneScore,
    isochrones,
    reached_pieces,
    score_isochrone,
)

__all__ = [
    "DEFAULT_MINUTES",
    "IsochroneScore",
    "isochrones",
    "reached_pieces",
    "score_isochrone",
]
