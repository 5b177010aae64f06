"""planner: check and plan the 15-minute community life circle on the real walking network."""

from planner.engine import catchments, nearest_facilities
from planner.errors import InputError, NetworkError, PlannerError
from planner.network import LoadReport, Network, load_network, open_network
from planner.snapping import SnappedPoints, snap_points

__version__ = "0.1.0"

__all__ = [
    "InputError",
    "LoadReport",
    "Network",
    "NetworkError",
    "PlannerError",
    "SnappedPoints",
    "__version__",
    "catchments",
    "load_network",
    "nearest_facilities",
    "open_network",
    "snap_points",
]
