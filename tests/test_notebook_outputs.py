"""The committed notebooks carry their reference outputs (scripts/store_outputs.py), normalised: every code cell run in
order, figures inline at 72 dpi, "What we found" shown, nothing from the machine that ran them."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import nbformat
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*/*.ipynb"))
IDS = [f"{p.parent.name}/{p.name}" for p in NOTEBOOKS]
INLINE_DPI = 72  # notebooks/<paper>/matplotlibrc: matplotlib's default 100 dpi would make the figures ~1.5x larger


def _outputs(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_every_code_cell_is_stored_as_run_once_in_order(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1)), "run make report && make checked-outputs"
    assert all(o.execution_count == c.execution_count for c in code for o in c.outputs
               if o.output_type == "execute_result")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_nothing_from_the_machine_that_ran_it_is_stored(path):
    nb = nbformat.read(path, as_version=4)
    text = path.read_text()
    assert "papermill" not in nb.metadata and not any("papermill" in c.metadata or "execution" in c.metadata
                                                      for c in nb.cells)
    assert not [o for o in _outputs(nb) if o.output_type == "error" or o.get("name") == "stderr"]
    assert str(ROOT) not in text and "/tmp/" not in text


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_what_we_found_is_shown(path):
    nb = nbformat.read(path, as_version=4)
    found = [c for c in nb.cells if c.get("id") == "what-we-found"]
    assert len(found) == 1 and found[0].source.startswith("# NBVAL_CHECK_OUTPUT")  # nbval keeps it current
    assert [o.data["text/markdown"] for o in found[0].outputs if "text/markdown" in o.get("data", {})]


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if "save_figure(" in p.read_text()],
                         ids=lambda p: f"{p.parent.name}/{p.name}")
def test_figures_are_stored_inline_at_a_modest_dpi(path):
    nb = nbformat.read(path, as_version=4)
    images = [Image.open(io.BytesIO(base64.b64decode(o.data["image/png"]))) for o in _outputs(nb)
              if "image/png" in o.get("data", {})]
    assert images, "no figure stored"
    dpis = {round(image.info["dpi"][0]) for image in images}  # matplotlib writes the figure's dpi into the PNG
    assert dpis == {INLINE_DPI}, f"inline figures at {dpis} dpi: is notebooks/{path.parent.name}/matplotlibrc there?"


def test_outputs_are_stored_in_the_format_nbformat_writes():
    """One JSON layout (nbformat's: indent 1, sorted keys), so re-storing an unchanged run changes no byte."""
    for path in NOTEBOOKS:
        text = path.read_text()
        assert text == json.dumps(json.loads(text), indent=1, sort_keys=True, ensure_ascii=False) + "\n", path
