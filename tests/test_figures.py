"""Figures: the shared plot functions draw what they claim (error bars, printed values, fitted colour scales,
class legends) and save PNG + PDF; executed notebooks carry their figures as images.

The last two tests need the smoke notebooks executed by `make smoke`, which points MMC_EXECUTED_NOTEBOOKS at them
and MMC_FIGURES_DIR at the figures they saved; run alone, they skip and say so.
"""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # this test process only; notebooks keep Jupyter's inline backend

import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from mmc_core.experiments.plots import (heatmap, interest_heatmap, save_figure, seed_bars,  # noqa: E402
                                        tsne_panels)

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
FIGURE_NOTEBOOKS = sorted(p.relative_to(NOTEBOOKS) for p in NOTEBOOKS.glob("*/*.ipynb")
                          if "save_figure(" in p.read_text())


def _summary() -> pd.DataFrame:
    return pd.DataFrame({
        "dataset": ["Event", "Event"], "method_label": ["SDCIB", "KM"], "row": ["", ""],
        "acc_mean": [0.30, 0.36], "acc_std": [0.04, np.nan], "nmi_mean": [0.18, 0.22], "nmi_std": [0.03, np.nan],
        "n_seeds": [20, 1]})


def _comparison() -> pd.DataFrame:
    return pd.DataFrame({"dataset": ["Event"], "method": ["SDCIB"], "variant": [""], "metric": ["acc"],
                         "reported": [0.565]})


def test_seed_bars_draw_std_error_bars_and_printed_values():
    fig = seed_bars(_summary(), label="method_label", comparison=_comparison(), title="t")
    acc = fig.axes[0]
    bars = next(c for c in acc.containers if c.__class__.__name__ == "BarContainer")
    assert [round(b.get_width(), 2) for b in bars] == [0.30, 0.36]
    caps = [c for c in acc.containers if c.__class__.__name__ == "ErrorbarContainer"]
    assert caps and caps[0].has_xerr
    segments = caps[0].lines[2][0].get_segments()
    assert np.isclose(segments[0][1][0] - segments[0][0][0], 2 * 0.04)  # mean ± std, SDCIB
    diamonds = acc.collections[-1].get_offsets()
    assert np.allclose(diamonds, [[0.565, 1.0]])  # printed ACC, drawn on SDCIB's bar (top row)
    assert [t.get_text() for t in acc.get_yticklabels()] == ["SDCIB  (n=20)", "KM  (n=1)"]
    assert "mean ± std over seeds" in acc.get_xlabel()
    assert not [c for c in fig.axes[1].collections if c.__class__.__name__ == "PathCollection"]  # no printed NMI
    plt.close(fig)


def test_heatmap_scale_spans_the_data_not_zero_to_one():
    grid = pd.DataFrame([[0.05, 0.12], [0.18, 0.09]], index=pd.Index([0.1, 0.5], name="alpha"),
                        columns=pd.Index([0.1, 1.0], name="beta"))
    fig = heatmap(grid, "t", "mean ACC")
    assert fig.axes[0].images[0].get_clim() == (0.05, 0.18)
    assert [t.get_text() for t in fig.axes[0].texts] == ["0.050", "0.120", "0.180", "0.090"]
    assert fig.axes[0].get_xlabel() == "beta" and fig.axes[1].get_ylabel() == "mean ACC"
    plt.close(fig)


def test_interest_heatmap_scale_reaches_the_largest_value():
    w = np.array([[0.0, 0.1, 0.18], [0.02, 0.05, 0.01]])
    fig = interest_heatmap(w, "t")
    assert fig.axes[0].images[0].get_clim() == (0.0, 0.18)
    plt.close(fig)


def test_tsne_panels_have_one_legend_entry_per_class():
    xy = np.random.default_rng(0).normal(size=(30, 2))
    fig = tsne_panels([("a", xy, np.repeat([0, 1, 2], 10)), ("b", xy, np.repeat([2, 1, 0], 10))], "t")
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["0", "1", "2"]
    plt.close(fig)


def test_save_figure_writes_png_and_pdf_atomically(tmp_path):
    fig = heatmap(pd.DataFrame([[0.1, 0.2]]), "t", "v")
    paths = save_figure(fig, "sdcib", "grid", directory=tmp_path)
    assert sorted(p.name for p in (tmp_path / "sdcib").iterdir()) == ["grid.pdf", "grid.png"]  # no temp files
    assert paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and paths[1].read_bytes()[:4] == b"%PDF"
    plt.close(fig)


def _executed() -> Path:
    found = os.environ.get("MMC_EXECUTED_NOTEBOOKS")
    if not found:
        pytest.skip("MMC_EXECUTED_NOTEBOOKS is not set: `make smoke` executes the notebooks and runs this test")
    return Path(found)


def test_figure_notebooks_are_found():
    assert len(FIGURE_NOTEBOOKS) >= 10, FIGURE_NOTEBOOKS


@pytest.mark.parametrize("notebook", FIGURE_NOTEBOOKS, ids=str)
def test_executed_notebook_shows_its_figures_inline(notebook):
    nb = nbformat.read(_executed() / notebook, as_version=4)
    images = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if "image/png" in o.get("data", {})]
    assert images, f"{notebook}: executed, but no figure is shown inline (is MPLBACKEND set to a non-inline backend?)"


def test_saved_figures_come_as_png_and_pdf():
    _executed()
    figures = Path(os.environ["MMC_FIGURES_DIR"])
    pngs = {p.relative_to(figures).with_suffix("") for p in figures.glob("*/*.png")}
    pdfs = {p.relative_to(figures).with_suffix("") for p in figures.glob("*/*.pdf")}
    assert pngs and pngs == pdfs
    assert {p.parts[0] for p in pngs} == {nb.parts[0] for nb in FIGURE_NOTEBOOKS}  # every paper's folder saved some
