"""Affinity graphs and spectral embeddings shared by the graph-based baselines (Ncuts, CoregMVSC, ONMSC).

Affinity: Gaussian kernel K_ij = exp(-||x_i - x_j||^2 / (2 sigma^2)) with the
median heuristic, sigma^2 = median of the squared pairwise distances (sigma = median pairwise distance,
the choice of Kumar et al. 2011). Up to DENSE_MAX samples the graph is dense (n x n); above it the graph
keeps only each sample's N_NEIGHBORS nearest neighbours (sigma^2 = median squared neighbour distance),
symmetrised by the elementwise maximum, so memory stays O(n * N_NEIGHBORS).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.linalg import eigh
from scipy.sparse.linalg import LinearOperator, eigsh
from sklearn.metrics.pairwise import euclidean_distances
from sklearn.neighbors import NearestNeighbors

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


EIGH_DENSE_MAX = 1000  # up to this n a full dense eigensolver is used; above it Lanczos (ARPACK) on an operator


def normalized_affinity(K: np.ndarray | sp.csr_matrix) -> np.ndarray | sp.csr_matrix:
    """D^-1/2 K D^-1/2 with D the row sums of K (dense input is scaled in place)."""
    deg = np.asarray(K.sum(axis=1)).ravel()
    inv_sqrt = 1.0 / np.sqrt(np.maximum(deg, np.finfo(float).tiny))
    if sp.issparse(K):
        scale = sp.diags(inv_sqrt)
        return (scale @ K @ scale).tocsr()
    K *= inv_sqrt[:, None]
    K *= inv_sqrt[None, :]
    return K


def top_eigvecs(L: np.ndarray | sp.csr_matrix, k: int, U: np.ndarray | None, lam: float, seed: int) -> np.ndarray:
    """Eigenvectors of the k largest eigenvalues of L + lam U U^T (U=None: of L alone)."""
    n = L.shape[0]
    if n <= EIGH_DENSE_MAX:
        M = L.toarray() if sp.issparse(L) else L.copy()
        if U is not None:
            M += lam * (U @ U.T)
        return eigh(M, subset_by_index=[n - k, n - 1])[1]

    def matvec(x: np.ndarray) -> np.ndarray:
        y = L @ x
        return y if U is None else y + lam * (U @ (U.T @ x))

    op = LinearOperator((n, n), matvec=matvec, dtype=np.float64)
    v0 = np.random.default_rng(seed).uniform(-1.0, 1.0, size=n)
    return eigsh(op, k=k, which="LA", v0=v0)[1]
