"""Figures the notebooks share: printed vs reproduced bars, metrics per method, convergence curves."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns


def reported_vs_reproduced(comparison: pd.DataFrame, dataset: str, title: str | None = None):
    """Bars of the printed value and the reproduced mean for every compared cell of one dataset."""
    cells = comparison[(comparison.dataset == dataset) & comparison.reproduced.notna()]
    if cells.empty:
        return None
    long = pd.concat([cells.assign(source="reported", value=cells.reported),
                      cells.assign(source="reproduced", value=cells.reproduced)])
    grid = sns.catplot(data=long, x="method", y="value", hue="source", col="metric", kind="bar", height=3.2,
                       aspect=1.4)
    grid.set_axis_labels("", "fraction")
    grid.figure.suptitle(title or f"{dataset}: printed vs reproduced (mean over seeds)", y=1.05)
    return grid


def metric_bars(results: pd.DataFrame, metric: str = "acc", hue: str = "method_label", title: str = ""):
    """Mean ± std (over seeds) of one metric per dataset, one bar per method/variant."""
    ax = sns.barplot(data=results, x="dataset", y=metric, hue=hue, errorbar="sd")
    ax.set_ylabel(metric.upper())
    ax.set_xlabel("")
    ax.set_title(title)
    ax.legend(fontsize=8, loc="best")
    return ax


def convergence(history: pd.DataFrame, metrics: tuple[str, ...] = ("acc", "nmi", "pur"), title: str = ""):
    """Total loss and the monitored metrics per epoch (labels used only to draw these curves)."""
    fig, ax_loss = plt.subplots(figsize=(6, 3.5))
    epochs = range(1, len(history) + 1)
    ax_loss.plot(epochs, history["total"], color="black", label="loss")
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel("loss")
    ax_metric = ax_loss.twinx()
    for m in metrics:
        if m in history:
            ax_metric.plot(epochs, history[m], label=m.upper())
    ax_metric.set_ylabel("metric")
    ax_metric.set_ylim(0, 1)
    handles = ax_loss.get_legend_handles_labels()[0] + ax_metric.get_legend_handles_labels()[0]
    ax_loss.legend(handles, [h.get_label() for h in handles], fontsize=8, loc="center right")
    ax_loss.set_title(title)
    return fig
