"""Figures of the multiple-clustering notebooks: NMI per row on the asked and the other concept, and the candidate
words' scores through dynamic candidate management."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..experiments.plots import interval_bars, seed_dots, with_seed_note


def concept_bars(summary: pd.DataFrame, title: str = "") -> Figure:
    """One panel per asked concept: each row's mean NMI on that concept (bar, every run as a dot, the 95% t interval
    of the mean as error bar) and its mean NMI on the set's other concept (hatched bar) — a personalized method is
    high on the first, low on the second. summary: summarize_concepts output."""
    concepts = list(dict.fromkeys(summary.concept))
    rows = list(dict.fromkeys(summary.label))
    fig, axes = plt.subplots(1, len(concepts), figsize=(5.2 * len(concepts), 0.45 * len(rows) + 1.6), sharey=True,
                             squeeze=False)
    y = np.arange(len(rows))
    for ax, concept in zip(axes[0], concepts):
        part = summary[summary.concept == concept].set_index("label").reindex(rows)
        ax.barh(y - 0.2, part.nmi_mean, 0.4, color="tab:blue", alpha=0.7,
                label="NMI on the asked concept (dots: runs; line: 95% interval)")
        if "nmi_seeds" in part:
            seed_dots(ax, y - 0.2, list(part.nmi_seeds), jitter=0.08)
        interval_bars(ax, y - 0.2, part.nmi_mean.to_numpy(float), part.nmi_std.to_numpy(float),
                      part.n_seeds.to_numpy(int))
        ax.barh(y + 0.2, part.other_nmi_mean, 0.4, color="white", edgecolor="tab:gray", hatch="//",
                label="NMI on the other concept")
        ax.set_title(f"asked for {concept}")
        ax.set_xlim(0, 1)
        ax.set_xlabel("NMI (K-means seeds 0-9, mean over runs)")
    axes[0][0].set_yticks(y, [f"{r} (n={int(n)})" for r, n in
                              zip(rows, summary.drop_duplicates("label").set_index("label").reindex(rows).n_seeds)])
    axes[0][0].invert_yaxis()
    fig.suptitle(with_seed_note(title, summary.n_seeds))
    fig.legend(*axes[0][0].get_legend_handles_labels(), loc="lower center", ncol=2, fontsize=9, frameon=False)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return fig


def candidate_scores(history: Sequence[Mapping[str, Any]], relevant: set[str], candidates: Sequence[str],
                     title: str = "") -> Figure:
    """A heatmap of every candidate word's score (mean cosine to the proxies' K-means centres) at each pruning; a
    word's cell is blank after it was dropped; relevant words (those naming a class) are labelled in bold."""
    epochs = [h["epoch"] for h in history]
    scores = np.full((len(candidates), len(history)), np.nan)
    for j, h in enumerate(history):
        for i, word in enumerate(candidates):
            scores[i, j] = h["scores"].get(word, np.nan)
    order = np.argsort(-np.nan_to_num(scores, nan=-np.inf).max(axis=1) - 10 * (~np.isnan(scores)).sum(axis=1))
    fig, ax = plt.subplots(figsize=(max(5.5, 2.5 + 1.1 * len(history)), 0.3 * len(candidates) + 1.4))
    image = ax.imshow(scores[order], aspect="auto", cmap="viridis")
    ax.set_xticks(range(len(epochs)), [f"epoch {e}" for e in epochs])
    ax.set_yticks(range(len(candidates)), [candidates[i] for i in order])
    for label in ax.get_yticklabels():
        label.set_fontweight("bold" if label.get_text() in relevant else "normal")
    for j, h in enumerate(history):
        for i, word in enumerate(candidates[k] for k in order):
            if word in h["dropped"]:
                ax.text(j, i, "✕", ha="center", va="center", color="white", fontsize=8)
    fig.colorbar(image, ax=ax, label="mean cosine to the centres")
    ax.set_title((title + "\n" if title else "") + "score at each pruning (✕ dropped there; bold: names a class)",
                 fontsize=10)
    fig.tight_layout()
    return fig
