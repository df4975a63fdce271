"""Normalized-cuts baselines: Ncuts (one view) and AmNcuts (all views concatenated), on mmc_core.affinity's graph."""

from __future__ import annotations

import numpy as np

from ..affinity import gaussian_affinity, normalized_affinity, top_eigvecs
from ..estimator import MultiViewClusterer, SingleViewClusterer
from ..kmeans import run_kmeans
from . import register


def normalized_cuts(X: np.ndarray, n_clusters: int, random_state: int | None) -> np.ndarray:
    """Shi-Malik normalized cuts on the Gaussian affinity of X: the k generalized eigenvectors of (D - W) u = l D u
    with the smallest eigenvalues (= D^-1/2 times the top-k eigenvectors of D^-1/2 W D^-1/2), then K-means."""
    W = gaussian_affinity(X)
    deg = np.asarray(W.sum(axis=1)).ravel()
    U = top_eigvecs(normalized_affinity(W), n_clusters, None, 0.0, random_state or 0)
    embedding = U / np.sqrt(np.maximum(deg, np.finfo(float).tiny))[:, None]
    return run_kmeans(embedding, n_clusters, random_state).labels_


@register("ncuts")
class Ncuts(SingleViewClusterer):
    """Normalized cuts on view `view` alone (affinity: see the module docstring). Transductive."""

    reported_as = "Ncuts"
    default_scaling = "none"

    def _fit_view(self, X: np.ndarray) -> None:
        self.labels_ = normalized_cuts(X, self.n_clusters, self.seed_)


@register("amncuts")
class AllModalNcuts(MultiViewClusterer):
    """Normalized cuts on the concatenation of all views (affinity: see the module docstring). Transductive."""

    reported_as = "AmNcuts"
    default_scaling = "none"

    def _fit(self, views: list[np.ndarray]) -> None:
        self.labels_ = normalized_cuts(np.hstack(views), self.n_clusters, self.seed_)
