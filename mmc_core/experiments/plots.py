"""Figures the notebooks share. Each function returns a matplotlib Figure that the notebook shows inline and
writes with `save_figure` (results/figures/<paper>/<name>.png and .pdf).

Conventions: bars are horizontal (names stay readable however many rows), ours carry the standard deviation over
seeds as error bars, a paper's printed value is drawn next to ours as a black diamond, colour scales are fitted to
the data, and every axis says what it shows and in which unit.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..io import atomic_write
from ..paths import results_dir

FIGURE_FORMATS = ("png", "pdf")
METRIC_NAMES = {"acc": "ACC", "nmi": "NMI", "pur": "purity", "ari": "ARI", "ri": "RI", "f": "F-score"}


def figures_dir(explicit: str | Path | None = None) -> Path:
    """Where figures go: the argument, else <results>/figures ($MMC_RESULTS_DIR)."""
    return Path(explicit) if explicit is not None else results_dir() / "figures"


def save_figure(fig: Figure, paper: str, name: str, directory: str | Path | None = None) -> list[Path]:
    """Write the figure as <figures>/<paper>/<name>.png and .pdf (each atomically); returns the paths."""
    paths = []
    for fmt in FIGURE_FORMATS:
        path = figures_dir(directory) / paper / f"{name}.{fmt}"
        paths.append(atomic_write(path, lambda tmp, fmt=fmt: fig.savefig(tmp, format=fmt, dpi=150,
                                                                           bbox_inches="tight")))
    return paths


def _axis_label(metric: str) -> str:
    return f"{METRIC_NAMES.get(metric, metric)} (fraction, mean ± std over seeds)"


def seed_bars(summary: pd.DataFrame, label: str = "row", metrics: tuple[str, ...] = ("acc", "nmi"),
              comparison: pd.DataFrame | None = None, order: list[str] | None = None,
              printed_line: dict[str, float] | None = None, title: str = "") -> Figure:
    """Horizontal bars of each row's mean over seeds with its std as error bar: one panel per (dataset, metric).

    summary: `tables.summarize` output (columns dataset, method_label, row, <metric>_mean, <metric>_std, n_seeds);
    label names the column the bars are named by, and each bar's name carries its number of seeds n.
    comparison: `tables.compare` output; where it holds a printed value for a bar (keyed as `compare` keys it:
    dataset, method = method_label, variant = row), the value is drawn as a black diamond on that bar.
    order: the rows top to bottom (default: as they come).
    printed_line: metric -> one printed value that every row is measured against (a dashed vertical line), e.g.
    the paper's number for the method when the rows are readings of its silent choices.
    """
    datasets = list(dict.fromkeys(summary.dataset))
    printed = _printed_values(comparison)
    rows = order or list(dict.fromkeys(summary[label]))
    fig, axes = plt.subplots(len(datasets), len(metrics), squeeze=False, sharex="col",
                             figsize=(3.6 * len(metrics) + 1.5, 0.8 + 0.32 * len(rows) * len(datasets) + 0.4))
    for i, dataset in enumerate(datasets):
        part = summary[summary.dataset == dataset].set_index(label, drop=False)
        names = [r for r in rows if r in part.index]
        y = np.arange(len(names))[::-1]
        for j, metric in enumerate(metrics):
            ax = axes[i, j]
            means = part.loc[names, f"{metric}_mean"].to_numpy(float)
            stds = part.loc[names, f"{metric}_std"].to_numpy(float)  # NaN for one seed: no error bar
            ax.barh(y, means, xerr=stds, color="C0", alpha=0.8, capsize=3, label="ours")
            marks = [(yy, printed.get((dataset, part.loc[n, "method_label"], part.loc[n, "row"], metric)))
                     for yy, n in zip(y, names)]
            marks = [(yy, v) for yy, v in marks if v is not None]
            if marks:
                ax.scatter([v for _, v in marks], [yy for yy, _ in marks], marker="D", color="black", zorder=3,
                           label="printed")
            if printed_line and metric in printed_line:
                ax.axvline(printed_line[metric], ls="--", color="black", label="printed")
            seeds = [f"{n}  (n={int(part.loc[n, 'n_seeds'])})" for n in names]
            ax.set_yticks(y, seeds if j == 0 else [""] * len(names))
            ax.set_xlim(0, 1)
            ax.grid(axis="x", alpha=0.3)
            ax.set_title(f"{dataset}: {METRIC_NAMES.get(metric, metric)}", fontsize=10)
            if i == len(datasets) - 1:
                ax.set_xlabel(_axis_label(metric))
    handles, labels = axes[0, 0].get_legend_handles_labels()
    for ax in axes.flat:  # the printed markers may be on any panel
        for h, lab in zip(*ax.get_legend_handles_labels()):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    fig.legend(handles, labels, loc="upper right", fontsize=8, ncol=len(labels), frameon=False)
    fig.suptitle(title, fontsize=11, x=0.02, ha="left")
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    return fig


def tornado(table: pd.DataFrame, dataset: str, printed: dict[str, float] | None = None,
            metrics: tuple[str, ...] = ("acc", "nmi"), base: str = "fixed default", title: str = "",
            tags: dict[str, str] | None = None, runs: str = "seeds") -> Figure:
    """How far each reading moves the result from the `base` reading on one dataset: a bar per reading (its mean minus
    the base's, over the same seeds), widest on top, the reading's std over seeds as error bar; a dashed line where
    the printed value lies. table: sensitivity.sensitivity output; tags: reading -> a note after its name (e.g.
    "label-free choice", "oracle"); runs: what the repeated runs are (seeds; draws of planted data)."""
    part = table[(table.dataset == dataset) & (table.reading != base)]
    base_row = table[(table.dataset == dataset) & (table.reading == base)].iloc[0]
    order = part.assign(size=part[f"d_{metrics[0]}"].abs()).sort_values("size").reading.tolist()
    part = part.set_index("reading").loc[order]
    fig, axes = plt.subplots(1, len(metrics), squeeze=False, sharey=True,
                             figsize=(3.8 * len(metrics) + 2.2, 1.2 + 0.34 * len(order)))
    for ax, metric in zip(axes[0], metrics):
        delta = part[f"d_{metric}"].to_numpy(float)
        ax.barh(np.arange(len(order)), delta, xerr=part[f"{metric}_std"].to_numpy(float), capsize=3, alpha=0.85,
                color=["C2" if d > 0 else "C3" for d in delta])
        ax.axvline(0, color="black", lw=0.8)
        if printed and metric in printed:
            ax.axvline(printed[metric] - base_row[f"{metric}_mean"], ls="--", color="black",
                       label=f"printed ({printed[metric]:.3f})")
            ax.legend(loc="lower right", fontsize=8, frameon=False)
        ax.set_yticks(np.arange(len(order)), [f"{r}{f' [{tags[r]}]' if tags and r in tags else ''}  "
                                               f"(n={int(part.loc[r, 'seeds'])})" for r in order])
        base_tag = f" [{tags[base]}]" if tags and base in tags else ""
        ax.set_xlabel(f"{METRIC_NAMES.get(metric, metric)} change\n(the {base}{base_tag}: "
                      f"{base_row[f'{metric}_mean']:.3f})")
        ax.xaxis.set_major_locator(MaxNLocator(nbins=5))  # few ticks: the panels are narrow
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle(title or f"{dataset}: change from the {base} under each reading", fontsize=11, x=0.02, ha="left")
    fig.text(0.99, 0.01, f"bars: reading's mean minus the base's over the same {runs}; "
             "error bars: the reading's std",
             ha="right", va="bottom", fontsize=7, color="0.4")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    return fig


def _printed_values(comparison: pd.DataFrame | None) -> dict[tuple, float]:
    if comparison is None or comparison.empty:
        return {}
    return {(r.dataset, r.method, r.variant or "", r.metric): float(r.reported) for r in comparison.itertuples()}


def heatmap(grid: pd.DataFrame, title: str, colorbar: str, fmt: str = ".3f") -> Figure:
    """A table of values as an annotated heatmap whose colour scale spans the data (not 0-1), so small
    differences stay visible; the colour bar says what and in which unit."""
    fig, ax = plt.subplots(figsize=(1.1 * grid.shape[1] + 2.5, 0.6 * grid.shape[0] + 1.5))
    values = grid.to_numpy(float)
    image = ax.imshow(values, cmap="viridis", vmin=np.nanmin(values), vmax=np.nanmax(values), aspect="auto")
    mid = (np.nanmin(values) + np.nanmax(values)) / 2
    for (i, j), v in np.ndenumerate(values):
        if np.isfinite(v):
            ax.text(j, i, format(v, fmt), ha="center", va="center", fontsize=8, color="black" if v > mid else "white")
    ax.set_xticks(range(grid.shape[1]), [str(c) for c in grid.columns])
    ax.set_yticks(range(grid.shape[0]), [str(r) for r in grid.index])
    ax.set_xlabel(str(grid.columns.name or ""))
    ax.set_ylabel(str(grid.index.name or ""))
    fig.colorbar(image, ax=ax, label=colorbar)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def interest_heatmap(weights: np.ndarray, title: str) -> Figure:
    """IDMC's interest values, views x samples of one batch, on a colour scale from 0 to the largest value."""
    weights = np.asarray(weights, dtype=float)
    fig, ax = plt.subplots(figsize=(10, 0.5 * weights.shape[0] + 1.6))
    image = ax.imshow(weights, cmap="magma", vmin=0, vmax=weights.max(), aspect="auto", interpolation="nearest")
    ax.set_yticks(range(weights.shape[0]), [f"view {v + 1}" for v in range(weights.shape[0])])
    ax.set_xlabel("sample in the batch")
    fig.colorbar(image, ax=ax, label="interest value w (per sample and view)", pad=0.01)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def tsne_panels(panels: list[tuple[str, np.ndarray, np.ndarray]], title: str, legend: str = "true class"
                ) -> Figure:
    """Scatter panels of 2-d t-SNE coordinates, one per (panel title, xy, classes); one legend for the classes."""
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 4.4), squeeze=False)
    classes = sorted({int(c) for _, _, cls in panels for c in np.unique(cls)})
    cmap = plt.get_cmap("tab20" if len(classes) > 10 else "tab10")
    for ax, (name, xy, cls) in zip(axes[0], panels):
        xy, cls = np.asarray(xy), np.asarray(cls)
        for k, c in enumerate(classes):
            mask = cls == c
            ax.scatter(xy[mask, 0], xy[mask, 1], s=6, color=cmap(k % cmap.N), label=str(c))
        ax.set_title(name, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlabel("t-SNE 1")
        ax.set_ylabel("t-SNE 2")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, title=legend, loc="center right", fontsize=8, markerscale=2,
               ncol=1 + len(classes) // 21, frameon=False)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout(rect=(0, 0, 0.9, 1))
    return fig


def convergence(history: pd.DataFrame, metrics: tuple[str, ...] = ("acc", "nmi", "pur"), title: str = "") -> Figure:
    """Total loss (left axis) and the monitored metrics (right axis) per epoch; labels only score each epoch."""
    fig, ax_loss = plt.subplots(figsize=(7, 3.8))
    epochs = np.arange(1, len(history) + 1)
    ax_loss.plot(epochs, history["total"], color="black", label="total loss")
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel("total loss (weighted sum of the terms)")
    ax_metric = ax_loss.twinx()
    for m in metrics:
        if m in history:
            ax_metric.plot(epochs, history[m], label=METRIC_NAMES.get(m, m))
    ax_metric.set_ylabel("metric (fraction)")
    ax_metric.set_ylim(0, 1)
    handles = ax_loss.get_legend_handles_labels()[0] + ax_metric.get_legend_handles_labels()[0]
    ax_loss.legend(handles, [h.get_label() for h in handles], fontsize=8, loc="upper center",
                   bbox_to_anchor=(0.5, -0.15), ncol=len(handles), frameon=False)
    ax_loss.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def lines(frame: pd.DataFrame, title: str, xlabel: str, ylabel: str, reference: dict[str, float] | None = None
          ) -> Figure:
    """Columns of a frame as curves over its index; reference draws labelled horizontal lines (name -> value)."""
    fig, ax = plt.subplots(figsize=(7, 3.6))
    for column in frame.columns:
        ax.plot(frame.index, frame[column], label=str(column))
    for k, (name, value) in enumerate((reference or {}).items()):
        ax.axhline(value, ls="--", color="grey", alpha=0.5 + 0.5 * (k == 0), label=name)
    ax.set(xlabel=xlabel, ylabel=ylabel)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def protocol_bars(table: pd.DataFrame, title: str = "") -> Figure:
    """ACC of one dataset's runs under each reporting protocol and training reading (protocol.protocol_ledger): a
    bar per row, the std over seeds as error bar where the row is a mean, grey for oracle rows (the labels choose),
    the printed ACC as a dashed line."""
    rows = table.iloc[::-1]
    mean = rows.ACC.map(lambda s: float(str(s).split(" ± ")[0])).to_numpy()
    std = rows.ACC.map(lambda s: float(str(s).split(" ± ")[1]) if " ± " in str(s) else 0.0).to_numpy()
    oracle = rows.selection.str.startswith("oracle").to_numpy()
    fig, ax = plt.subplots(figsize=(8.5, 1.0 + 0.32 * len(rows)))
    ax.barh(np.arange(len(rows)), mean, xerr=std, capsize=3, alpha=0.85,
            color=["0.6" if o else "C0" for o in oracle])
    names = [f"{reading}: {how}" + (" [oracle]" if o else "") + f"  (n={n})"
             for reading, how, n, o in zip(rows.reading, rows["reported as"], rows.runs, oracle)]
    ax.set_yticks(np.arange(len(rows)), names, fontsize=8)
    if "printed ACC" in rows and pd.notna(rows["printed ACC"].iloc[0]):
        ax.axvline(rows["printed ACC"].iloc[0], ls="--", color="black",
                   label=f"printed ({rows['printed ACC'].iloc[0]:.3f})")
        ax.legend(loc="lower right", fontsize=8, frameon=False)
    ax.set_xlabel("ACC (mean over seeds, error bar: std; 'best of N': the one run chosen)")
    ax.grid(axis="x", alpha=0.3)
    ax.set_title(title, fontsize=11, loc="left")
    fig.tight_layout()
    return fig


def collapse_trace_figure(trace: pd.DataFrame, k: int, title: str = "") -> Figure:
    """Clusters used by the partition and the entropy of its marginal, per epoch, one line per reading and seed
    (experiments.diagnostics.collapse_trace): where a partition loses clusters, and whether they come back."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    colours = {reading: f"C{i}" for i, reading in enumerate(dict.fromkeys(trace.reading))}
    for (reading, seed), run in trace.groupby(["reading", "seed"], sort=False):
        style = dict(color=colours[reading], alpha=0.8, lw=1.2, label=reading if seed == trace.seed.min() else None)
        axes[0].plot(run.epoch + 1, run.clusters_used, **style)
        axes[1].plot(run.epoch + 1, run.marginal_entropy, **style)
    axes[0].axhline(k, ls="--", color="black", lw=0.8)
    axes[0].set_ylabel(f"clusters used (of {k})")
    axes[1].axhline(np.log(k), ls="--", color="black", lw=0.8)
    axes[1].set_ylabel("marginal entropy (nats)")
    axes[1].set_title(f"entropy of the partition's cluster shares (log {k}: equal shares)", fontsize=9)
    axes[0].set_title("clusters the argmax partition uses", fontsize=9)
    for ax in axes:
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7, frameon=False, loc="lower right")
    fig.suptitle(title, fontsize=11, x=0.02, ha="left")
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    return fig
