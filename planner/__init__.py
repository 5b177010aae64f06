"""planner: check and plan the 15-minute community life circle on the real walking network."""

from planner._version import __version__
from planner.checks import CheckResult, check
from planner.compare import compare
from planner.engine import catchments, nearest_facilities
from planner.errors import InputError, NetworkError, PlannerError
from planner.isochrones import isochrones
from planner.layers import read_communities, read_facilities, read_layer, read_residences
from planner.network import (
    LoadReport,
    Network,
    build_network,
    fetch_network,
    load_network,
    open_network,
)
from planner.siting import Proposal, propose
from planner.snapping import SnappedPoints, snap_points
from planner.standards import list_standards, load_standard

__all__ = [
    "CheckResult",
    "InputError",
    "LoadReport",
    "Network",
    "NetworkError",
    "PlannerError",
    "Proposal",
    "SnappedPoints",
    "__version__",
    "build_network",
    "catchments",
    "check",
    "compare",
    "fetch_network",
    "isochrones",
    "list_standards",
    "load_network",
    "load_standard",
    "nearest_facilities",
    "open_network",
    "propose",
    "read_communities",
    "read_facilities",
    "read_layer",
    "read_residences",
    "snap_points",
]
