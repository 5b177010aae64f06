"""Proposing new facilities (being split into modules)."""

from planner.siting.core import (
    AUTO_MILP_MAX_NNZ,
    Proposal,
    Solution,
    candidate_sites,
    coverage_matrix,
    max_cover,
    propose,
    set_cover,
    size_floor_area,
)

__all__ = [
    "AUTO_MILP_MAX_NNZ",
    "Proposal",
    "Solution",
    "candidate_sites",
    "coverage_matrix",
    "max_cover",
    "propose",
    "set_cover",
    "size_floor_area",
]
