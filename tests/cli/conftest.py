"""Fixtures of the command-line tests (the inputs are made by `cli_inputs`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_inputs import make_review


@pytest.fixture()
def review(tmp_path: Path) -> dict[str, Path]:
    return make_review(tmp_path)
