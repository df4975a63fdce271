"""Normalized-cuts baselines: Ncuts (one view) and AmNcuts (all views concatenated), plus the affinity graph.

Affinity (shared with CoregMVSC): Gaussian kernel K_ij = exp(-||x_i - x_j||^2 / (2 sigma^2)) with the
median heuristic, sigma^2 = median of the squared pairwise distances (sigma = median pairwise distance,
the choice of Kumar et al. 2011). Up to DENSE_MAX samples the graph is dense (n x n); above it the graph
keeps only each sample's N_NEIGHBORS nearest neighbours (sigma^2 = median squared neighbour distance),
symmetrised by the elementwise maximum, so memory stays O(n * N_NEIGHBORS).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.cluster import SpectralClustering
from sklearn.metrics.pairwise import euclidean_distances
from sklearn.neighbors import NearestNeighbors

from . import register
from .base import MultiViewClusterer, check_view_index, select_view
from .kmeans import N_INIT

DENSE_MAX = 5000  # largest n for which the dense n x n affinity is built
N_NEIGHBORS = 10  # neighbours per sample in the sparse kNN graph used above DENSE_MAX


def _median_bandwidth(sq_dists: np.ndarray) -> float:
    """sigma^2 = median squared distance; if that is 0 (mostly duplicates), the median of the positive ones."""
    sigma2 = float(np.median(sq_dists))
    if sigma2 <= 0:
        positive = sq_dists[sq_dists > 0]
        sigma2 = float(np.median(positive)) if positive.size else 1.0
    return sigma2


def gaussian_affinity(X: np.ndarray) -> np.ndarray | sp.csr_matrix:
    """Gaussian-kernel affinity of the rows of X: dense for n <= DENSE_MAX, else a sparse kNN graph."""
    n = X.shape[0]
    if n <= DENSE_MAX:
        K = euclidean_distances(X, squared=True)
        sigma2 = _median_bandwidth(K[np.triu(np.ones((n, n), dtype=bool), k=1)])
        K /= -2.0 * sigma2
        return np.exp(K, out=K)
    k = min(N_NEIGHBORS, n - 1)
    dist, idx = NearestNeighbors(n_neighbors=k + 1).fit(X).kneighbors(X)
    sq = dist[:, 1:] ** 2  # column 0 is the sample itself
    weights = np.exp(-sq / (2.0 * _median_bandwidth(sq)))
    rows = np.repeat(np.arange(n), k)
    W = sp.csr_matrix((weights.ravel(), (rows, idx[:, 1:].ravel())), shape=(n, n))
    return W.maximum(W.T).tocsr()


def normalized_cuts(X: np.ndarray, n_clusters: int, random_state: int | None) -> np.ndarray:
    """Shi-Malik normalized cuts on the Gaussian affinity of X: spectral embedding, then K-means."""
    sc = SpectralClustering(
        n_clusters=n_clusters,
        affinity="precomputed",
        assign_labels="kmeans",
        n_init=N_INIT,
        random_state=random_state,
    )
    return sc.fit(gaussian_affinity(X)).labels_


@register("ncuts")
class Ncuts(MultiViewClusterer):
    """Normalized cuts on view `view` alone (affinity: see the module docstring). Transductive."""

    reported_as = "Ncuts"
    default_scaling = "none"
    per_view = True

    def __init__(self, n_clusters: int, random_state: int | None = 0, view: int = 0):
        super().__init__(n_clusters, random_state)
        self.view = check_view_index(view)

    def _fit(self, views: list[np.ndarray]) -> None:
        self.labels_ = normalized_cuts(select_view(views, self.view), self.n_clusters, self.random_state)


@register("amncuts")
class AllModalNcuts(MultiViewClusterer):
    """Normalized cuts on the concatenation of all views (affinity: see the module docstring). Transductive."""

    reported_as = "AmNcuts"
    default_scaling = "none"

    def _fit(self, views: list[np.ndarray]) -> None:
        self.labels_ = normalized_cuts(np.hstack(views), self.n_clusters, self.random_state)
