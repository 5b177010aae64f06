"""The notebooks in notebooks/: stored without outputs, run top to bottom, end with a map.

Each notebook runs in a fresh Jupyter kernel with nbclient, in the notebook's own folder (as
Jupyter starts it), so the notebooks find ``data/`` from there or from the repository root. A
cell that raises fails its test.

The kernel is a kernelspec written for this test session into a temporary folder: it runs this
very interpreter (``sys.executable -m ipykernel_launcher``) with the repository root on
``PYTHONPATH``. So the notebooks use the ``planner`` under test, whatever ``python3``
kernelspec (or none) the machine has, and nothing is installed into the user's Jupyter folders.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from ipykernel.kernelspec import write_kernel_spec
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
EXPECTED = {"01-quickstart.ipynb", "02-what-if.ipynb", "03-your-own-data.ipynb"}
KERNEL_NAME = "planner-tests"
CELL_TIMEOUT_S = 600


def _prepend(variable: str, value: str) -> str:
    """``value`` in front of the current value of an os.pathsep-separated variable."""
    current = os.environ.get(variable)
    return value if not current else os.pathsep.join([value, current])


@pytest.fixture(scope="session")
def kernel_name(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A kernelspec of this interpreter, found through JUPYTER_PATH for this session only."""
    jupyter = tmp_path_factory.mktemp("jupyter")
    write_kernel_spec(
        jupyter / "share" / "kernels" / KERNEL_NAME,
        overrides={"display_name": f"planner tests ({sys.executable})"},
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JUPYTER_PATH", _prepend("JUPYTER_PATH", str(jupyter / "share")))
        mp.setenv("JUPYTER_RUNTIME_DIR", str(jupyter / "runtime"))
        mp.setenv("IPYTHONDIR", str(jupyter / "ipython"))
        mp.setenv("PYTHONPATH", _prepend("PYTHONPATH", str(ROOT)))
        yield KERNEL_NAME


def _execute(nb: nbformat.NotebookNode, folder: Path, kernel: str) -> None:
    """Run every cell in a fresh kernel started in ``folder``; raise on the first failing cell."""
    client = NotebookClient(
        nb,
        kernel_name=kernel,
        timeout=CELL_TIMEOUT_S,
        resources={"metadata": {"path": str(folder)}},
    )
    client.execute()


def _code_cells(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [cell for cell in nb.cells if cell.cell_type == "code"]


def _html_outputs(cell: nbformat.NotebookNode) -> list[str]:
    return [
        str(out["data"]["text/html"])
        for out in cell.outputs
        if out.output_type in ("execute_result", "display_data") and "text/html" in out["data"]
    ]


def test_the_notebooks_are_there() -> None:
    assert EXPECTED <= {path.name for path in NOTEBOOKS}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_stored_without_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    dirty = [
        i
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)
    ]
    assert not dirty, f"{path.name}: cells {dirty} hold outputs; clear them before committing"
    assert _code_cells(nb), f"{path.name} has no code"
    assert nb.cells[0].cell_type == "markdown", f"{path.name} should open with a heading"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_runs_and_ends_with_a_map(path: Path, kernel_name: str) -> None:
    nb = nbformat.read(path, as_version=4)
    try:
        _execute(nb, path.parent, kernel_name)
    except CellExecutionError as exc:
        pytest.fail(f"{path.name}: a cell failed:\n{exc}")
    code = _code_cells(nb)
    stderr = [
        (i, out.text)
        for i, cell in enumerate(code)
        for out in cell.outputs
        if out.output_type == "stream" and out.name == "stderr"
    ]
    assert not stderr, f"{path.name} printed warnings or errors (code cell, text): {stderr}"
    html = _html_outputs(code[-1])
    assert html, f"{path.name}: the last code cell displays nothing as HTML; end with the map"
    assert any("leaflet" in h.lower() and "folium" in h.lower() for h in html), (
        f"{path.name}: the last code cell's output is not a Leaflet/Folium map"
    )


@pytest.mark.slow
def test_a_failing_cell_fails(kernel_name: str, tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("x = 1"),
        nbformat.v4.new_code_cell("raise ValueError('this cell fails')"),
        nbformat.v4.new_code_cell("print('not reached')"),
    ]
    with pytest.raises(CellExecutionError, match="this cell fails"):
        _execute(nb, tmp_path, kernel_name)
    assert nb.cells[2].outputs == []
