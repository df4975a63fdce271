"""RMKMC: robust multi-view K-means (Cai, Nie, Huang, IJCAI 2013).

Objective (minimised) over a shared hard assignment G (n x k), per-view centroids F_v (k x d_v) and view
weights alpha (on the simplex), with gamma > 1:
    J = sum_v alpha_v^gamma * H_v,   H_v = ||X_v - G F_v||_{2,1} = sum_i ||x_i^v - f^v_{g(i)}||.
The L2,1 loss is handled by iterative reweighting, one round of the paper's Algorithm 1 being:
    D_v = diag(1 / (2 ||x_i^v - f^v_{g(i)}||))                        (per-sample weights)
    F_v = weighted cluster means of X_v with weights D_v
    g(i) = argmin_c sum_v alpha_v^gamma D_v[i] ||x_i^v - f^v_c||^2
    alpha_v = (gamma H_v)^(1/(1-gamma)) / sum_u (gamma H_u)^(1/(1-gamma))
until J changes by less than tol (relative) or max_iter rounds. Memory is O(n * (k + sum d_v)).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from sklearn.metrics.pairwise import euclidean_distances

from ..estimator import MultiViewClusterer
from ..kmeans import run_kmeans
from ..params import Interval
from . import register

_EPS = 1e-12  # floor on residual norms, so a sample sitting on its centroid gets a finite weight


def fill_empty_clusters(labels: np.ndarray, cost: np.ndarray) -> np.ndarray:
    """Give every empty cluster one sample, deterministically.

    For each empty cluster in increasing order, the sample with the largest cost to its own cluster
    (first index on ties) among clusters with more than one member moves to it. cost is (n, k).
    """
    labels = labels.copy()
    k = cost.shape[1]
    for c in range(k):
        counts = np.bincount(labels, minlength=k)
        if counts[c] > 0:
            continue
        own = cost[np.arange(labels.size), labels]
        own[counts[labels] <= 1] = -np.inf  # never empty another cluster
        labels[int(np.argmax(own))] = c
    return labels


def _weighted_centroids(X: np.ndarray, labels: np.ndarray, w: np.ndarray, k: int) -> np.ndarray:
    """Per cluster, the mean of its rows of X weighted by w (every cluster is non-empty)."""
    sums = np.zeros((k, X.shape[1]))
    np.add.at(sums, labels, X * w[:, None])
    return sums / np.bincount(labels, weights=w, minlength=k)[:, None]


def _view_weights(H: np.ndarray, gamma: float) -> np.ndarray:
    """alpha_v proportional to (gamma H_v)^(1/(1-gamma)), computed in log space."""
    log_a = (np.log(gamma) + np.log(np.maximum(H, _EPS))) / (1.0 - gamma)
    a = np.exp(log_a - log_a.max())
    return a / a.sum()


@register("rmkmc")
class RMKMC(MultiViewClusterer):
    """Robust multi-view K-means (see the module docstring).

    gamma > 1 controls how unequal the view weights may be (large gamma -> nearly equal weights).
    Default 2, giving alpha_v proportional to 1 / H_v; the paper searches log10(gamma) in [0.1, 2].
    H_v depends on the scale of view v, so views should be scaled comparably (preprocessing.scale_views).
    G starts from K-means on the concatenated views (random_state). After the loop each sample takes the
    cluster minimising its own term of J, sum_v alpha_v^gamma ||x_i^v - f^v_c|| (this can only lower J),
    which is also the rule `predict` applies to new samples. Fitted: view_weights_ (alpha),
    cluster_centers_ (list of F_v), objective_ (J per round), n_iter_.
    """

    reported_as = "RMKMC"
    default_scaling = "none"

    parameter_constraints: ClassVar[dict[str, Any]] = {  # gamma > 1: RMKMC's view-weight exponent
        "gamma": Interval(float, 1, closed="neither"), "max_iter": Interval(int, 1), "tol": Interval(float, 0)}

    def __init__(self, n_clusters: int, random_state: int | None = 0, gamma: float = 2.0, max_iter: int = 100,
                 tol: float = 1e-6, scaling: str | None = None):
        super().__init__(n_clusters, random_state, scaling)
        self.gamma, self.max_iter, self.tol = gamma, max_iter, tol

    def _fit(self, views: list[np.ndarray]) -> None:
        k, n = self.n_clusters, views[0].shape[0]
        init = run_kmeans(np.hstack(views), k, self.seed_)
        labels = fill_empty_clusters(init.labels_, init.transform(np.hstack(views)))
        alpha = np.full(len(views), 1.0 / len(views))
        F = [_weighted_centroids(X, labels, np.ones(n), k) for X in views]
        residual = [np.linalg.norm(X - Fv[labels], axis=1) for X, Fv in zip(views, F)]
        self.objective_ = [float(alpha**self.gamma @ [r.sum() for r in residual])]
        for _ in range(self.max_iter):
            D = [1.0 / (2.0 * np.maximum(r, _EPS)) for r in residual]
            F = [_weighted_centroids(X, labels, d, k) for X, d in zip(views, D)]
            cost = sum(
                a**self.gamma * d[:, None] * euclidean_distances(X, Fv, squared=True)
                for a, d, X, Fv in zip(alpha, D, views, F)
            )
            labels = fill_empty_clusters(cost.argmin(axis=1), cost)
            residual = [np.linalg.norm(X - Fv[labels], axis=1) for X, Fv in zip(views, F)]
            H = np.array([r.sum() for r in residual])
            alpha = _view_weights(H, self.gamma)
            self.objective_.append(float(alpha**self.gamma @ H))
            if abs(self.objective_[-2] - self.objective_[-1]) <= self.tol * abs(self.objective_[-2]):
                break
        self.n_iter_ = len(self.objective_) - 1
        self.view_weights_, self.cluster_centers_ = alpha, F
        cost = self._sample_cost(views)
        self.labels_ = fill_empty_clusters(cost.argmin(axis=1), cost)

    def _sample_cost(self, views: list[np.ndarray]) -> np.ndarray:
        """(n, k): sum_v alpha_v^gamma ||x_i^v - f^v_c||, each sample's term of J for every cluster c."""
        return sum(
            a**self.gamma * euclidean_distances(X, Fv)
            for a, X, Fv in zip(self.view_weights_, views, self.cluster_centers_)
        )

    def _predict(self, views: list[np.ndarray]) -> np.ndarray:
        """The cluster minimising each sample's term of J under the fitted centroids and view weights."""
        return self._sample_cost(views).argmin(axis=1)
