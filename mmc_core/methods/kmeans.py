"""K-means baselines: KM (one view) and AmKM (all views concatenated)."""

from __future__ import annotations

import numpy as np

from ..estimator import MultiViewClusterer, SingleViewClusterer
from ..kmeans import run_kmeans
from . import register


@register("km")
class KMeansSingleView(SingleViewClusterer):
    """K-means on view `view` alone. The papers' "KM" row is the best single view (chosen by the runner)."""

    reported_as = "KM"
    default_scaling = "none"

    def _fit_view(self, X: np.ndarray) -> None:
        self._kmeans = run_kmeans(X, self.n_clusters, self.seed_)
        self.cluster_centers_ = self._kmeans.cluster_centers_
        self.labels_ = self._kmeans.labels_

    def _predict(self, views: list[np.ndarray]) -> np.ndarray:
        """Nearest centroid in view `view`."""
        return self._kmeans.predict(views[self.view])


@register("amkm")
class AllModalKMeans(MultiViewClusterer):
    """K-means on the concatenation of all views (as `scaling` scales them: raw features by default)."""

    reported_as = "AmKM"
    default_scaling = "none"

    def _fit(self, views: list[np.ndarray]) -> None:
        self._kmeans = run_kmeans(np.hstack(views), self.n_clusters, self.seed_)
        self.cluster_centers_ = self._kmeans.cluster_centers_
        self.labels_ = self._kmeans.labels_

    def _predict(self, views: list[np.ndarray]) -> np.ndarray:
        """Nearest centroid in the concatenated space."""
        return self._kmeans.predict(np.hstack(views))
