"""Which view is the dominant modality (DDMC): given by a prior, or chosen without labels as the view whose own
K-means partition is best separated (highest silhouette coefficient on the view's scaled features)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from sklearn.metrics import silhouette_score

from .kmeans import run_kmeans

SILHOUETTE_SAMPLES = 3000  # silhouette is O(n^2): above this many samples a seeded subsample is scored


@dataclass(frozen=True)
class DominantView:
    """The chosen view, how it was chosen ("prior" or "silhouette") and the per-view silhouette scores (empty for a
    prior)."""

    view: int
    rule: str
    scores: tuple[float, ...] = ()

    def describe(self) -> str:
        if self.rule == "prior":
            return f"view {self.view} (prior)"
        shown = ", ".join(f"{s:.3f}" for s in self.scores)
        return f"view {self.view} (highest K-means silhouette; per view: {shown})"


def view_silhouettes(views: Sequence[np.ndarray], n_clusters: int, seed: int) -> list[float]:
    """Per view: the silhouette coefficient of its K-means partition (no labels involved). A view whose K-means
    finds a single cluster (all samples alike) scores -1, the lowest possible."""
    scores = []
    for X in views:
        labels = run_kmeans(X, n_clusters, seed).labels_
        if len(np.unique(labels)) < 2:
            scores.append(-1.0)
            continue
        sample = min(len(X), SILHOUETTE_SAMPLES)
        scores.append(float(silhouette_score(X, labels, sample_size=sample if sample < len(X) else None,
                                             random_state=seed)))
    return scores


def choose_dominant(views: Sequence[np.ndarray], n_clusters: int, seed: int, prior: int | None = None
                    ) -> DominantView:
    """The dominant view: `prior` when given (e.g. a modality known to be the most informative), else the view of
    highest K-means silhouette (ties: the lowest index)."""
    if prior is not None:
        if not 0 <= prior < len(views):
            raise ValueError(f"dominant={prior} is out of range: the data has {len(views)} views "
                             f"(indices 0..{len(views) - 1}).")
        return DominantView(int(prior), "prior")
    scores = view_silhouettes(views, n_clusters, seed)
    return DominantView(int(np.argmax(scores)), "silhouette", tuple(scores))
