"""The network tests' shared fixture: the CAU campus extract, loaded once."""

from __future__ import annotations

import pytest
from network_helpers import DATA

from planner.network import Network, load_network


@pytest.fixture(scope="session")
def cau() -> Network:
    return load_network(DATA / "cn_beijing_haidian_cau_map.osm.bz2")
