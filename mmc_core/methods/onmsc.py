"""ONMSC: multi-view spectral clustering with optimal neighborhood Laplacian matrix (Zhou, Liu, Liu, Guo, Zhao,
Zhu, Zhai, Yin, Gao, AAAI 2020).

The paper's full text is not available to this project; the model below is established from the authors'
public MATLAB release (xinwangliu/ONMSC, read, not copied) and the paper's abstract ("searching the neighborhood
of the linear combination of the first-order and high-order base Laplacian matrices", "four-step alternating
optimization with proved convergence").

Base Laplacians, per view p: K_p = Gaussian kernel (spectral.gaussian_affinity, median bandwidth), restricted
to a shared neighbourhood: each sample keeps its tau most similar samples in the average kernel (tau = n / k by
default, the release's setting), symmetrised by union. First order: L1_p = I - A_p, A_p = D^-1/2 K_p D^-1/2
(zero diagonal). High order: A_p^2 with its off-diagonal entries below mean - std/2 of the positive ones set
to 0, renormalised the same way: L2_p = I - D2^-1/2 (A_p^2) D2^-1/2.

Objective (minimised) over H, W (n x k, orthonormal), Lambda = diag(l), 0 <= l_i <= 1, gamma on the simplex:
    J = tr(H^T L H) + sum_{o=1,2} ||L - sum_p gamma_p L^o_p||_F^2 + lam gamma^T N gamma,   L = I - W Lambda W^T,
the optimal Laplacian L searched in the neighbourhood of both combinations; N = sum_o of the cosine similarities
<L^o_p, L^o_q> / (||L^o_p|| ||L^o_q||) (the matrix-induced regulariser that penalises picking redundant views).
Each round updates, exactly:
    Lambda: l_i = clip((4 + ||H^T w_i||^2 - 2 w_i^T (L1 + L2)_gamma w_i) / 4, 0, 1)   (separable quadratic)
    gamma:  a convex QP on the simplex (scipy SLSQP; the Gram matrix of the base Laplacians is precomputed)
    W:      the k smallest eigenvectors of 2 (L1 + L2)_gamma - H H^T, the smallest paired with the largest l_i
    H:      the k smallest eigenvectors of L = I - W Lambda W^T, i.e. H = W
until J changes by less than tol (relative) or max_iter rounds. Start: gamma uniform, H = W = the k smallest
eigenvectors of (L1 + L2)_gamma. Labels: K-means on the rows of H normalised to unit length (as in the release).

Interpretations (the paper's text could not be checked): gamma is kept non-negative (the release constrains only
sum(gamma) = 1; a negative weight would make the combination no Laplacian); the eigenvectors are those of the
smallest algebraic eigenvalues (the release asks MATLAB's eigs for the smallest magnitude); the release's kernel
preprocessing (clipping of extreme values, completion of empty rows) is left out, as the kernels here are
Gaussian (bounded, no empty rows); lam is fixed (the release reports the best of a label-scored grid
2^-15..2^15, which would select by labels).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp
from scipy.optimize import minimize

from ..affinity import gaussian_affinity, normalized_affinity, top_eigvecs
from ..estimator import MultiViewClusterer
from ..kmeans import run_kmeans
from ..params import Interval, NoneValue
from . import register


def _shared_neighbourhood(kernels: list[np.ndarray], tau: int) -> np.ndarray:
    """Boolean n x n mask: j among the tau most similar samples of i in the average kernel, or i among j's."""
    avg = sum(kernels) / len(kernels)
    np.fill_diagonal(avg, -np.inf)
    nearest = np.argpartition(-avg, tau - 1, axis=1)[:, :tau]
    mask = np.zeros(avg.shape, dtype=bool)
    np.put_along_axis(mask, nearest, True, axis=1)
    return mask | mask.T


def _high_order(A: np.ndarray) -> np.ndarray:
    """Normalised second-order affinity: A @ A without its diagonal, weak entries (below mean - std/2 of the
    positive ones) removed, then D^-1/2 . D^-1/2."""
    A2 = A @ A
    np.fill_diagonal(A2, 0.0)
    positive = A2[A2 > 0]
    A2[A2 < positive.mean() - 0.5 * positive.std()] = 0.0
    return normalized_affinity(A2)


def base_affinities(views: list[np.ndarray], tau: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Per view, the first- and high-order normalised affinities A1_p, A2_p (base Laplacians L^o_p = I - Ao_p)."""
    kernels = []
    for X in views:
        K = gaussian_affinity(X)
        kernels.append(K.toarray() if sp.issparse(K) else K)
    mask = _shared_neighbourhood(kernels, tau)
    first, high = [], []
    for K in kernels:
        K *= mask
        np.fill_diagonal(K, 0.0)
        A = normalized_affinity(K)
        first.append(A)
        high.append(_high_order(A))
    return first, high


def _gram(mats: list[np.ndarray]) -> np.ndarray:
    """<I - A_p, I - A_q>_F = n + <A_p, A_q>_F for zero-diagonal A_p."""
    n = mats[0].shape[0]
    return np.array([[n + float(np.vdot(a, b)) for b in mats] for a in mats])


def _cosine(G: np.ndarray) -> np.ndarray:
    d = np.sqrt(np.diag(G))
    return G / np.outer(d, d)


def simplex_qp(Q: np.ndarray, p: np.ndarray, x0: np.ndarray) -> np.ndarray:
    """argmin x^T Q x - 2 p^T x over the probability simplex (Q symmetric PSD), from x0."""
    scale = float(np.trace(Q)) / len(p) or 1.0  # conditioning: entries of order 1
    Qs, ps = Q / scale, p / scale
    res = minimize(
        lambda x: (x @ Qs @ x - 2.0 * ps @ x, 2.0 * (Qs @ x - ps)),
        x0,
        jac=True,
        method="SLSQP",
        bounds=[(0.0, 1.0)] * len(p),
        constraints=[{"type": "eq", "fun": lambda x: x.sum() - 1.0, "jac": lambda x: np.ones_like(x)}],
        options={"ftol": 1e-14, "maxiter": 500},
    )
    x = np.maximum(res.x, 0.0)
    return x / x.sum()


@register("onmsc")
class ONMSC(MultiViewClusterer):
    """Optimal neighborhood multi-view spectral clustering (see the module docstring). Transductive.

    lam: weight of the matrix-induced regulariser gamma^T N gamma (default 1 = 2^0, the centre of the paper's
    grid 2^-15..2^15; the SDCIB paper does not state its value). n_neighbors: tau, the shared neighbourhood
    size (default None = round(n / n_clusters), the release's setting). max_iter, tol: at most max_iter rounds,
    stop when J changes by less than tol (relative; 30 and 1e-4 as in the release). Fitted: view_weights_
    (gamma), objective_ (J per round), n_iter_, embedding_ (H).
    """

    reported_as = "ONMSC"
    default_scaling = "none"

    parameter_constraints: ClassVar[dict[str, Any]] = {  # n_neighbors None: n / n_clusters
        "lam": Interval(float, 0), "n_neighbors": [NoneValue(), Interval(int, 1)], "max_iter": Interval(int, 1),
        "tol": Interval(float, 0)}

    def __init__(self, n_clusters: int, random_state: int | None = 0, lam: float = 1.0, n_neighbors: int | None = None,
                 max_iter: int = 30, tol: float = 1e-4, scaling: str | None = None):
        super().__init__(n_clusters, random_state, scaling)
        self.lam, self.n_neighbors, self.max_iter, self.tol = lam, n_neighbors, max_iter, tol

    def _fit(self, views: list[np.ndarray]) -> None:
        n, k = views[0].shape[0], self.n_clusters
        if k >= n:
            raise ValueError(f"ONMSC needs more samples than clusters ({n} <= {k}).")
        tau = round(n / k) if self.n_neighbors is None else self.n_neighbors
        if tau >= n:
            raise ValueError(f"n_neighbors={tau} must be below the number of samples ({n}).")
        seed = int(np.random.default_rng(self.seed_).integers(2**31))
        first, high = base_affinities(views, tau)
        G1, G2 = _gram(first), _gram(high)
        G, N = G1 + G2, _cosine(G1) + _cosine(G2)
        C = [a + b for a, b in zip(first, high)]  # (L1_p + L2_p) = 2I - C_p
        del first, high
        gamma = np.full(len(views), 1.0 / len(views))
        W = top_eigvecs(self._combine(C, gamma), k, None, 0.0, seed)  # smallest of (L1 + L2)_gamma
        H = W
        self.objective_ = []
        for _ in range(self.max_iter):
            Cg = self._combine(C, gamma)
            ell = np.clip((4.0 + np.sum((H.T @ W) ** 2, axis=0) - 2.0 * (2.0 - self._quad(W, Cg))) / 4.0, 0.0, 1.0)
            p = np.array([2.0 * n - 2.0 * ell.sum() + ell @ self._quad(W, Cp) for Cp in C])
            gamma = simplex_qp(G + self.lam * N, p, gamma)
            Cg = self._combine(C, gamma)
            W = top_eigvecs(2.0 * Cg, k, H, 1.0, seed)  # top of 2 C_gamma + H H^T = smallest of 2(L1+L2) - HH^T
            rayleigh = 2.0 * (2.0 - self._quad(W, Cg)) - np.sum((H.T @ W) ** 2, axis=0)
            W, ell = W[:, np.argsort(rayleigh)], np.sort(ell)[::-1]
            H = W
            p = np.array([2.0 * n - 2.0 * ell.sum() + ell @ self._quad(W, Cp) for Cp in C])
            J = (
                k - ell @ np.sum((H.T @ W) ** 2, axis=0)
                + 2.0 * (n - 2.0 * ell.sum() + ell @ ell) - 2.0 * gamma @ p + gamma @ (G + self.lam * N) @ gamma
            )
            self.objective_.append(float(J))
            if len(self.objective_) > 1 and abs(self.objective_[-2] - J) <= self.tol * abs(self.objective_[-2]):
                break
        self.n_iter_ = len(self.objective_)
        self.view_weights_, self.embedding_ = gamma, H
        rows = H / np.maximum(np.linalg.norm(H, axis=1, keepdims=True), np.finfo(float).tiny)
        self.labels_ = run_kmeans(rows, k, self.seed_).labels_

    @staticmethod
    def _combine(C: list[np.ndarray], gamma: np.ndarray) -> np.ndarray:
        return sum(g * Cp for g, Cp in zip(gamma, C))

    @staticmethod
    def _quad(W: np.ndarray, M: np.ndarray) -> np.ndarray:
        """w_i^T M w_i for every column w_i of W."""
        return np.sum(W * (M @ W), axis=0)
