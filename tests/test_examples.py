"""The example notebook runs top to bottom in a real Jupyter kernel."""

from __future__ import annotations

import pytest
from conftest import ROOT

pytest.importorskip("jupyter_rfb")
nbclient = pytest.importorskip("nbclient")
nbformat = pytest.importorskip("nbformat")

pytestmark = pytest.mark.gl

NOTEBOOK = ROOT / "examples" / "delvol.ipynb"
WIDGET = "application/vnd.jupyter.widget-view+json"


def test_example_notebook_executes():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK.parent)}}
    )
    client.execute()
    outputs = [out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs]
    assert not [out for out in outputs if out.output_type == "error"]
    # The rendered image and the grid slice are PNGs; the viewer is a live widget, not a picture.
    assert sum("image/png" in out.get("data", {}) for out in outputs) >= 2
    assert any(WIDGET in out.get("data", {}) for out in outputs)
    assert "(360, 640, 3)" in str(nb.cells[-1].outputs[0]["data"]["text/plain"])
