"""Which view is the dominant modality (DDMC): given by a prior, or chosen without labels as the view whose own
K-means partition is best separated (highest silhouette coefficient on the view's scaled features).

The silhouette rule compares only views that can carry a clustering of k clusters: a view that is constant, has
fewer distinct rows than k, or holds a single feature is left out, with a warning naming it and why (K-means cuts a
single feature into intervals whose silhouette is high whatever the feature carries: such a view would win on
separation alone). Where no view is left, or the silhouette cannot be computed (e.g. k = n), the error names the
rule and the way out: the dominant view given explicitly (`dominant=<view index>`)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from sklearn.metrics import silhouette_score

from .kmeans import run_kmeans

SILHOUETTE_SAMPLES = 3000  # silhouette is O(n^2): above this many samples a seeded subsample is scored
RULE = "DDMC's label-free dominant view (the view of highest K-means silhouette)"
FIX = "pass the dominant view explicitly (dominant=<view index>, e.g. the modality known to be the most informative)"


class DominantViewWarning(UserWarning):
    """A view was left out of the silhouette rule (it cannot carry a clustering)."""


@dataclass(frozen=True)
class DominantView:
    """The chosen view, how it was chosen ("prior" or "silhouette"), the per-view silhouette scores (empty for a
    prior; NaN for a view left out) and the views left out with the reason."""

    view: int
    rule: str
    scores: tuple[float, ...] = ()
    left_out: tuple[tuple[int, str], ...] = ()

    def describe(self) -> str:
        if self.rule == "prior":
            return f"view {self.view} (prior)"
        reasons = dict(self.left_out)
        shown = ", ".join("left out" if v in reasons else f"{s:.3f}" for v, s in enumerate(self.scores))
        out = "; ".join(f"view {v}: {why}" for v, why in self.left_out)
        return f"view {self.view} (highest K-means silhouette; per view: {shown}" + (f"; left out: {out})" if out
                                                                                    else ")")


def unfit_reason(X: np.ndarray, n_clusters: int) -> str | None:
    """Why the view cannot carry a clustering into `n_clusters` for the silhouette rule, or None if it can."""
    X = np.asarray(X)
    if len(X) > 1 and not np.any(X != X[0]):
        return "it is constant (every sample has the same features)"
    distinct = len(np.unique(X.reshape(len(X), -1), axis=0))
    if distinct < n_clusters:
        return f"it has {distinct} distinct rows, fewer than the {n_clusters} clusters asked for"
    if X.ndim == 2 and X.shape[1] == 1:
        return ("it holds a single feature (K-means cuts one feature into intervals, whose silhouette is high "
                "whatever the feature carries)")
    return None


def view_silhouette(X: np.ndarray, n_clusters: int, seed: int, view: int = 0) -> float:
    """The silhouette coefficient of the view's K-means partition (no labels involved); -1, the lowest possible,
    when K-means finds a single cluster. A silhouette that cannot be computed is an error naming the rule and FIX."""
    labels = run_kmeans(X, n_clusters, seed).labels_
    if len(np.unique(labels)) < 2:
        return -1.0
    sample = min(len(X), SILHOUETTE_SAMPLES)
    try:
        return float(silhouette_score(X, labels, sample_size=sample if sample < len(X) else None,
                                      random_state=seed))
    except ValueError as err:
        raise ValueError(f"{RULE} cannot score view {view} ({len(X)} samples, {n_clusters} clusters): {err} "
                         f"Fix: {FIX}.") from err


def view_silhouettes(views: Sequence[np.ndarray], n_clusters: int, seed: int) -> list[float]:
    """Per view: view_silhouette."""
    return [view_silhouette(X, n_clusters, seed, v) for v, X in enumerate(views)]


def choose_dominant(views: Sequence[np.ndarray], n_clusters: int, seed: int, prior: int | None = None
                    ) -> DominantView:
    """The dominant view: `prior` when given (e.g. a modality known to be the most informative), else the view of
    highest K-means silhouette among those that can carry a clustering (ties: the lowest index); each view left out
    is warned about (DominantViewWarning), and none left is an error."""
    if prior is not None:
        if not 0 <= prior < len(views):
            raise ValueError(f"dominant={prior} is out of range: the data has {len(views)} views "
                             f"(indices 0..{len(views) - 1}).")
        return DominantView(int(prior), "prior")
    left_out = {v: why for v, X in enumerate(views) if (why := unfit_reason(X, n_clusters)) is not None}
    if len(left_out) == len(views):
        reasons = "; ".join(f"view {v}: {why}" for v, why in left_out.items())
        raise ValueError(f"{RULE} has no view to compare, none can carry {n_clusters} clusters ({reasons}). "
                         f"Fix: {FIX}, or check how the views were loaded.")
    for v, why in left_out.items():
        warnings.warn(f"{RULE} leaves view {v} out: {why}. To use it anyway, {FIX}.", DominantViewWarning,
                      stacklevel=2)
    scores = [np.nan if v in left_out else view_silhouette(X, n_clusters, seed, v) for v, X in enumerate(views)]
    return DominantView(int(np.nanargmax(scores)), "silhouette", tuple(float(s) for s in scores),
                        tuple(left_out.items()))
