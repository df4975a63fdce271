"""Figures: the shared plot functions draw what they claim (every seed, the verdicts' 95% interval, printed values,
oracle rows, seed counts under 3 in the title, 0-1 colour scales, class legends) and save PNG + PDF; executed
notebooks carry their figures as images.

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

from scipy import stats  # noqa: E402

from mmc_core.experiments.plots import (FEW_SEEDS, convergence, heatmap, interest_heatmap, save_figure,  # noqa: E402
                                        seed_bars, seed_note, share_curves, tsne_panels)
from mmc_core.experiments.tables import ORACLE_BEST_VIEW  # noqa: E402
from mmc_core.experiments.uncertainty import Row, welch_interval  # noqa: E402

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
FIGURE_NOTEBOOKS = sorted(p.relative_to(NOTEBOOKS) for p in NOTEBOOKS.glob("*/*.ipynb")
                          if "save_figure(" in p.read_text())


SDCIB_ACC = (0.26, 0.30, 0.34)  # three seeds: mean 0.30, std 0.04


def _summary() -> pd.DataFrame:
    return pd.DataFrame({
        "dataset": ["Event", "Event"], "method_label": ["SDCIB", "KM"], "row": ["", ""],
        "variant": ["", f"{ORACLE_BEST_VIEW}: view=2"],
        "acc_mean": [0.30, 0.36], "acc_std": [0.04, np.nan], "acc_seeds": [SDCIB_ACC, (0.36,)],
        "nmi_mean": [0.18, 0.22], "nmi_std": [0.03, np.nan], "nmi_seeds": [(0.15, 0.18, 0.21), (0.22,)],
        "n_seeds": [3, 1]})


def _comparison() -> pd.DataFrame:
    return pd.DataFrame({"dataset": ["Event"], "method": ["SDCIB"], "variant": [""], "metric": ["acc"],
                         "reported": [0.565]})


def test_seed_bars_draw_every_seed_the_t_interval_oracle_rows_and_printed_values():
    """Catches mean ± std bars (not the verdicts' interval), seeds not shown, an oracle row drawn as ours, a printed
    value on the wrong bar, and a title silent about a row of one seed."""
    fig = seed_bars(_summary(), label="method_label", comparison=_comparison(), title="t")
    acc = fig.axes[0]
    bars = next(c for c in acc.containers if c.__class__.__name__ == "BarContainer")
    assert [round(b.get_width(), 2) for b in bars] == [0.30, 0.36]
    assert bars[1].get_facecolor()[:3] != bars[0].get_facecolor()[:3]  # the oracle row is grey
    caps = [c for c in acc.containers if c.__class__.__name__ == "ErrorbarContainer"]
    assert len(caps) == 1  # KM has one seed: no interval
    segment = caps[0].lines[2][0].get_segments()[0]
    half = stats.t.ppf(0.975, 2) * 0.04 / np.sqrt(3)
    assert np.allclose([segment[0][0], segment[1][0]], [0.30 - half, 0.30 + half])  # t interval, not ± std
    points = [c.get_offsets() for c in acc.collections if c.__class__.__name__ == "PathCollection"]
    dots = np.concatenate(points[:-1])  # the last: the printed diamonds
    assert sorted(np.round(dots[:, 0], 2)) == sorted((*SDCIB_ACC, 0.36))  # every seed
    diamonds = acc.collections[-1].get_offsets()
    assert np.allclose(diamonds, [[0.565, 1.0]])  # printed ACC, drawn on SDCIB's bar (top row)
    assert [t.get_text() for t in acc.get_yticklabels()] == ["SDCIB  (n=3)", "KM [oracle]  (n=1)"]
    assert "95% interval of the mean" in [t.get_text() for t in fig.legends[0].get_texts()]
    assert f"fewer than {FEW_SEEDS} seeds" in fig._suptitle.get_text()
    assert "oracle: best view picked with the labels" in [t.get_text() for t in fig.legends[0].get_texts()]
    plt.close(fig)


def test_seed_note_only_under_three_seeds():
    assert seed_note([5, 20]) == "" and seed_note(1).startswith("[1 seed only")
    assert seed_note([3, 2, 20]) == f"[1 of 3 rows from fewer than {FEW_SEEDS} seeds]"


def test_heatmap_scale_spans_zero_to_one_and_says_the_seed_count():
    """Catches a colour scale fitted to a one-seed grid, which shows seed noise as structure."""
    grid = pd.DataFrame([[0.05, 0.12], [0.18, 0.09]], index=pd.Index([0.1, 0.5], name="alpha"),
                        columns=pd.Index([0.1, 1.0], name="beta"))
    fig = heatmap(grid, "t", "mean ACC", seeds=1)
    assert fig.axes[0].collections[0].get_clim() == (0.0, 1.0)
    assert [t.get_text() for t in fig.axes[0].texts] == ["0.050", "0.120", "0.180", "0.090"]
    assert fig.axes[0].get_xlabel() == "beta" and fig.axes[1].get_ylabel() == "mean ACC"
    assert "1 seed only" in fig.axes[0].get_title()
    assert "seed" not in heatmap(grid, "t", "v", seeds=5).axes[0].get_title()
    plt.close("all")


def test_convergence_draws_acc_above_purity():
    """Catches ACC hidden under a purity line that runs on top of it (SDCIB on Event)."""
    history = pd.DataFrame({"total": [3.0, 2.0, 1.0], "acc": [0.4, 0.5, 0.5], "nmi": [0.3, 0.3, 0.3],
                            "pur": [0.4, 0.5, 0.5]})
    fig = convergence(history, title="t")
    lines = {line.get_label(): line for line in fig.axes[1].get_lines()}
    assert lines["ACC"].get_zorder() > lines["purity"].get_zorder()
    assert lines["ACC"].get_linestyle() != lines["purity"].get_linestyle()
    assert "1 seed" in fig.axes[0].get_title()
    plt.close(fig)


def test_share_curves_show_n_and_the_gains_welch_interval():
    """Catches the uneven-quality figure without n or spread: the gain's error bar is the claim's Welch interval."""
    shares = {"M~0": 0.0, "M~1": 1.0}
    rows = [{"dataset": d, "row": r, "acc_mean": m, "acc_std": 0.02, "acc_seeds": (m - 0.02, m, m + 0.02),
             "n_seeds": 3} for d, (e, f) in zip(shares, [(0.6, 0.7), (0.5, 0.3)]) for r, m in (("enhance", e),
                                                                                            ("fuse", f))]
    fig = share_curves(pd.DataFrame(rows), shares, title="t")
    assert "n=3 per share" in fig.axes[0].get_legend().get_texts()[0].get_text()
    gain = next(c for c in fig.axes[1].containers if c.__class__.__name__ == "ErrorbarContainer")
    low, high = welch_interval(Row("e", 0.5, 0.02, 3), Row("f", 0.3, 0.02, 3))[1:]
    segment = gain.lines[2][0].get_segments()[1]
    assert np.allclose([segment[0][1], segment[1][1]], [low, high])
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
    fig = heatmap(pd.DataFrame([[0.1, 0.2]]), "t", "v", seeds=1)
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


def test_tornado_error_bars_are_the_welch_interval_of_the_difference():
    """Catches a tornado whose error bar is the reading's std, not the interval of its difference from the base."""
    from mmc_core.experiments.plots import tornado

    table = pd.DataFrame({"dataset": ["D", "D"], "reading": ["fixed default", "l2"], "seeds": [5, 5],
                          "acc_mean": [0.50, 0.55], "acc_std": [0.02, 0.03], "d_acc": [0.0, 0.05]})
    fig = tornado(table, "D", metrics=("acc",))
    segment = next(c for c in fig.axes[0].containers
                   if c.__class__.__name__ == "ErrorbarContainer").lines[2][0].get_segments()[0]
    low, high = welch_interval(Row("l2", 0.55, 0.03, 5), Row("base", 0.50, 0.02, 5))[1:]
    assert np.allclose([segment[0][0], segment[1][0]], [low, high])
    plt.close(fig)


def test_concept_bars_show_every_run():
    """Catches the Multi-DProxy bars drawn as mean ± std without the runs."""
    from mmc_core.multiclust.plots import concept_bars

    summary = pd.DataFrame({"dataset": ["P"], "label": ["Multi-DProxy"], "method_label": ["Multi-DProxy"],
                            "concept": ["colour"], "nmi_mean": [0.6], "nmi_std": [0.1], "nmi_seeds": [(0.5, 0.6, 0.7)],
                            "other_nmi_mean": [0.1], "n_seeds": [3]})
    fig = concept_bars(summary, "t")
    dots = [c.get_offsets() for c in fig.axes[0].collections if c.__class__.__name__ == "PathCollection"]
    assert sorted(np.round(np.concatenate(dots)[:, 0], 2)) == [0.5, 0.6, 0.7]
    plt.close(fig)


def test_seed_bars_draw_the_same_bytes_twice():
    """Catches random jitter (seaborn's strip plot draws from the global NumPy state): docs/report's figures must
    rebuild byte for byte."""
    import io

    drawn = []
    for state in (1, 2):
        np.random.seed(state)
        buffer = io.BytesIO()
        fig = seed_bars(_summary(), label="method_label", title="t")
        fig.savefig(buffer, format="png", dpi=50)
        plt.close(fig)
        drawn.append(buffer.getvalue())
    assert drawn[0] == drawn[1]
