"""CoregMVSC: co-regularized multi-view spectral clustering, centroid-based (Kumar, Rai, Daume III, NIPS 2011).

Objective (maximised), with L_v = D_v^-1/2 K_v D_v^-1/2 the normalized Gaussian affinity of view v and
orthonormal n x k matrices U_v, U*:
    J = sum_v tr(U_v^T L_v U_v) + lam * sum_v tr(U_v U_v^T U* U*^T).
Alternating maximisation: U_v = top-k eigenvectors of L_v + lam U* U*^T; U* = top-k eigenvectors of
sum_v lam U_v U_v^T (= top-k left singular vectors of [U_1 ... U_V], so no n x n matrix). Start from the
single-view spectral solutions; stop after max_iter rounds or when J changes by less than tol (relative).
Finally the rows of U* are normalised to unit length and clustered with K-means (Ng-Jordan-Weiss).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from ..affinity import gaussian_affinity, normalized_affinity, top_eigvecs
from ..estimator import MultiViewClusterer
from ..kmeans import run_kmeans
from ..params import Interval
from . import register

def _consensus(Us: list[np.ndarray], k: int) -> np.ndarray:
    """U*: top-k eigenvectors of sum_v U_v U_v^T, i.e. the top-k left singular vectors of [U_1 ... U_V]."""
    return np.linalg.svd(np.hstack(Us), full_matrices=False)[0][:, :k]


def _objective(Ls: list, Us: list[np.ndarray], U_star: np.ndarray, lam: float) -> float:
    fit = sum(float(np.sum(U * (L @ U))) for L, U in zip(Ls, Us))
    agreement = sum(float(np.linalg.norm(U.T @ U_star) ** 2) for U in Us)  # tr(U U^T U* U*^T)
    return fit + lam * agreement


@register("coregmvsc")
class CoregMVSC(MultiViewClusterer):
    """Centroid-based co-regularized spectral clustering (see the module docstring). Transductive.

    lam: co-regularisation weight, the same for every view. Default 0.01, the small value Kumar et al.
    used; the DDMC/SDCIB papers do not state theirs. The per-view kernel bandwidth is the median
    pairwise distance of that view (affinity.gaussian_affinity; sparse kNN graph above its DENSE_MAX).
    """

    reported_as = "CoregMVSC"
    default_scaling = "none"

    parameter_constraints: ClassVar[dict[str, Any]] = {
        "lam": Interval(float, 0, closed="neither"), "max_iter": Interval(int, 1), "tol": Interval(float, 0)}

    def __init__(self, n_clusters: int, random_state: int | None = 0, lam: float = 0.01, max_iter: int = 10,
                 tol: float = 1e-6, scaling: str | None = None):
        super().__init__(n_clusters, random_state, scaling)
        self.lam, self.max_iter, self.tol = lam, max_iter, tol

    def _fit(self, views: list[np.ndarray]) -> None:
        k = self.n_clusters
        if k >= views[0].shape[0]:
            raise ValueError(f"CoregMVSC needs more samples than clusters ({views[0].shape[0]} <= {k}).")
        seed = int(np.random.default_rng(self.seed_).integers(2**31))
        Ls = [normalized_affinity(gaussian_affinity(X)) for X in views]
        Us = [top_eigvecs(L, k, None, self.lam, seed) for L in Ls]
        U_star = _consensus(Us, k)
        self.objective_ = [_objective(Ls, Us, U_star, self.lam)]
        for _ in range(self.max_iter):
            Us = [top_eigvecs(L, k, U_star, self.lam, seed) for L in Ls]
            U_star = _consensus(Us, k)
            self.objective_.append(_objective(Ls, Us, U_star, self.lam))
            if abs(self.objective_[-1] - self.objective_[-2]) <= self.tol * abs(self.objective_[-2]):
                break
        self.n_iter_ = len(self.objective_) - 1
        rows = U_star / np.maximum(np.linalg.norm(U_star, axis=1, keepdims=True), np.finfo(float).tiny)
        self.labels_ = run_kmeans(rows, k, self.seed_).labels_
