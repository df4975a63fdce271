"""K-means baselines: KM (one view) and AmKM (all views concatenated)."""

from __future__ import annotations

import numpy as np
from sklearn.cluster import KMeans

from . import register
from .base import MultiViewClusterer, check_view_index, select_view

N_INIT = 10  # K-means restarts; the best inertia is kept


def run_kmeans(X: np.ndarray, n_clusters: int, random_state: int | None) -> KMeans:
    """sklearn K-means (k-means++ init, N_INIT restarts) fitted on X; memory O(n * d), no n x n matrix."""
    return KMeans(n_clusters=n_clusters, n_init=N_INIT, random_state=random_state).fit(X)


@register("km")
class KMeansSingleView(MultiViewClusterer):
    """K-means on view `view` alone. The papers' "KM" row is the best single view (chosen by the runner)."""

    reported_as = "KM"
    default_scaling = "none"
    per_view = True

    def __init__(self, n_clusters: int, random_state: int | None = 0, view: int = 0):
        super().__init__(n_clusters, random_state)
        self.view = check_view_index(view)

    def _fit(self, views: list[np.ndarray]) -> None:
        self._kmeans = run_kmeans(select_view(views, self.view), self.n_clusters, self.random_state)
        self.cluster_centers_ = self._kmeans.cluster_centers_
        self.labels_ = self._kmeans.labels_

    def _predict(self, views: list[np.ndarray]) -> np.ndarray:
        """Nearest centroid in view `view`."""
        return self._kmeans.predict(views[self.view])


@register("amkm")
class AllModalKMeans(MultiViewClusterer):
    """K-means on the concatenation of all views (scaled however the caller scaled them)."""

    reported_as = "AmKM"
    default_scaling = "none"

    def _fit(self, views: list[np.ndarray]) -> None:
        self._kmeans = run_kmeans(np.hstack(views), self.n_clusters, self.random_state)
        self.cluster_centers_ = self._kmeans.cluster_centers_
        self.labels_ = self._kmeans.labels_

    def _predict(self, views: list[np.ndarray]) -> np.ndarray:
        """Nearest centroid in the concatenated space."""
        return self._kmeans.predict(np.hstack(views))
