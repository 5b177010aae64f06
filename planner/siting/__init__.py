"""Proposing new facilities: where they should go (covering models) and how large (floor area).

Two doors, as in PySAL spopt:

- the array core, `planner.siting.core` (`max_cover`, `set_cover`, `coverage_matrix`,
  `Solution`) and `planner.siting.sizing` (`size_floor_area`), works on a sparse
  candidate × demand coverage matrix and knows nothing of geometry;
- the GeoDataFrame door, `planner.siting.proposal` (`propose`, `Proposal`), with the candidate
  sites of `planner.siting.candidates` (`candidate_sites`).

See ``docs/ARCHITECTURE.md``.
"""

from planner.siting.candidates import candidate_sites
from planner.siting.core import (
    AUTO_MILP_MAX_NNZ,
    AUTO_MILP_MAX_SITES,
    Method,
    Solution,
    coverage_matrix,
    max_cover,
    set_cover,
)
from planner.siting.proposal import Proposal, propose
from planner.siting.sizing import Sizing, size_floor_area

__all__ = [
    "AUTO_MILP_MAX_NNZ",
    "AUTO_MILP_MAX_SITES",
    "Method",
    "Proposal",
    "Solution",
    "Sizing",
    "candidate_sites",
    "coverage_matrix",
    "max_cover",
    "propose",
    "set_cover",
    "size_floor_area",
]
