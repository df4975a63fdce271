"""The K-means every method shares (baselines, readouts of deep representations, pseudo labels)."""

from __future__ import annotations

import numpy as np
from sklearn.cluster import KMeans

N_INIT = 10  # K-means restarts; the best inertia is kept


def run_kmeans(X: np.ndarray, n_clusters: int, random_state: int | None, n_init: int = N_INIT) -> KMeans:
    """sklearn K-means (k-means++ init, n_init restarts) fitted on X; memory O(n * d), no n x n matrix."""
    return KMeans(n_clusters=n_clusters, n_init=n_init, random_state=random_state).fit(X)
