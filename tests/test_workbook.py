"""review.xlsx's sheets, written by `planner.workbook._write_sheet` and read back with openpyxl:
a bureau's text stays text, numbers stay numbers, verdicts are coloured, empty stays empty."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd

from planner import workbook
from planner.maps import STATUS_COLOURS


def _sheet(table: pd.DataFrame) -> openpyxl.worksheet.worksheet.Worksheet:
    buffer = io.BytesIO()
    book = workbook._new_book(buffer)
    workbook._write_sheet(book, workbook._Formats(book), "居住点", table, "zh")
    book.close()
    return openpyxl.load_workbook(io.BytesIO(buffer.getvalue()))["居住点"]


def test_cells_keep_their_types_and_verdicts_their_colours() -> None:
    table = pd.DataFrame(
        {
            "id": ["=1+1", "http://example.org/a", "东门社区"],
            "households": pd.array([12, pd.NA, 3], dtype="Int64"),
            "walk_m_community_service": [120.5, np.nan, 999.0],
            "covered_community_service": [True, False, True],
            "status": ["covered", "uncovered", None],
            "coverage_rate": [0.5, 1.0, np.nan],
        }
    )
    sheet = _sheet(table)
    ids = [sheet.cell(row=r, column=1) for r in (2, 3, 4)]
    assert [c.value for c in ids] == ["=1+1", "http://example.org/a", "东门社区"]
    assert all(c.data_type == "s" and c.hyperlink is None for c in ids)  # text, not a formula
    assert [sheet.cell(row=r, column=2).value for r in (2, 3, 4)] == [12, None, 3]
    assert sheet.cell(row=2, column=3).data_type == "n"
    assert sheet.cell(row=3, column=3).value is None  # NaN: an empty cell, not "nan"
    assert sheet.cell(row=2, column=4).value is True
    status = [sheet.cell(row=r, column=5) for r in (2, 3, 4)]
    assert [c.value for c in status[:2]] == ["全部覆盖", "未覆盖"]
    for cell, key in zip(status[:2], ("covered", "uncovered"), strict=True):
        assert cell.fill.start_color.rgb[-6:] == STATUS_COLOURS[key].lstrip("#").upper()
        assert cell.font.b
    assert status[2].value is None and status[2].fill.fill_type == "solid"  # no verdict, grey
    assert sheet.cell(row=2, column=6).number_format == "0.0%"
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:F4"
    assert sheet.column_dimensions["A"].width >= len("http://example.org/a")


_WRITE_IN_ZONE = """
import io, sys
import pandas as pd
from planner import workbook
buffer = io.BytesIO()
book = workbook._new_book(buffer)
table = pd.DataFrame({"id": ["东门社区", "西门社区"], "households": [12, 3]})
workbook._write_sheet(book, workbook._Formats(book), "社区", table, "zh")
workbook._close(book)
open(sys.argv[1], "wb").write(buffer.getvalue())
"""


def test_the_same_bytes_in_any_time_zone_at_any_time(tmp_path: Path) -> None:
    repo = Path(__file__).resolve().parents[1]
    outputs = []
    for zone in ("UTC", "Australia/Sydney", "America/Los_Angeles"):
        out = tmp_path / f"{zone.replace('/', '_')}.xlsx"
        env = {**os.environ, "TZ": zone, "PYTHONPATH": str(repo)}
        subprocess.run([sys.executable, "-c", _WRITE_IN_ZONE, str(out)], check=True, env=env)
        outputs.append(out.read_bytes())
        time.sleep(1.1)  # a second later: no clock in the bytes
    assert outputs[0] == outputs[1] == outputs[2]
    with zipfile.ZipFile(io.BytesIO(outputs[0])) as archive:
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 31, 0, 0, 0)}
        core = archive.read("docProps/core.xml").decode("utf-8")
    assert core.count("2000-01-01T00:00:00Z") == 2  # created and modified
