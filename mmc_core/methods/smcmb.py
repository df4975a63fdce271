"""SMCMB: scalable multi-view clustering via many bipartite graphs (Lao, Huang, Wang, Lai; "Towards Scalable
Multi-view Clustering via Joint Learning of Many Bipartite Graphs", IEEE Transactions on Big Data, 2023) — the DDMC
table's "SMCMB" baseline.

The paper's full text is not available to this project; the algorithm below is the authors' public MATLAB release
(https://github.com/huangdonghere/SMCMB: SMCMB.m, SMCMB_paralleled.m, demo_SMCMB.m; read, not copied), whose header
names the paper. In it, with V views, m anchor sets per view and q anchors per set:

1. Diversified anchor sets: for each view v and j = 1..m, K-means with q clusters on a random subsample of
   min(10000, n) samples of view v (random samples as initial centres, 20 iterations, the better of 2 restarts);
   the centres are the anchor set H_vj (q x d_v).
2. Many bipartite graphs: for each (v, j), each sample's row z_i of the n x q graph Z_vj solves
       min_z ||x_i^v - H_vj^T z||^2 + beta ||z||^2   s.t.  z >= 0, 1^T z = 1
   (the release's quadprog with the quadratic 2 (beta I + H H^T) and the linear term -2 H x_i).
3. Base clusterings: each graph is cut into k clusters by Tcut (transfer cut; Li et al., CVPR 2012): with
   Dx = diag(Z 1), W = Z^T Dx^-1 Z on the anchors, the k leading eigenvectors of Dy^-1/2 W Dy^-1/2 (Dy = diag(W 1)),
   mapped back through Dy^-1/2 and to the samples by Dx^-1 Z, rows normalised to unit length, then K-means.
4. Consensus: the V m base clusterings form one bipartite graph, samples x (all their clusters) with a 1 where a
   sample is in a cluster; Tcut of that graph into k clusters gives the labels.
Every step is linear in n (the q x q and cluster-count-sized eigenproblems do not grow with n). The release learns
each bipartite graph on its own and joins them through the base clusterings; whatever more the paper's "joint
learning" may formulate is not in the release and so not here.

Readings and differences from the release: each sample's QP is solved exactly (up to ~1e-6) as a non-negative
least-squares problem (scipy's Lawson-Hanson NNLS on the Cholesky factor of beta I + H H^T, the sum-to-one
constraint enforced by a heavily weighted row, then the row renormalised), where the release uses MATLAB's
interior-point quadprog (whose solutions are never exactly 0); an anchor that no sample uses (a zero column of Z,
which the interior-point solver never produces) is left out of its graph's cut, as the release's consensus step
does for empty clusters; K-means of the anchors is scikit-learn's with the release's random-sample initialisation,
20 iterations and 2 restarts (litekmeans picks the restart of least summed Euclidean distance, scikit-learn of least
squared distance); the K-means of the Tcut embeddings is mmc_core.kmeans (k-means++ as MATLAB's kmeans, with the
release's 2 restarts for a base clustering and 3 for the consensus, at scikit-learn's iteration cap of 300 where the
release stops at 50 and 100); a graph with fewer used anchors than k is cut into as many clusters as it has used
anchors (the release's fallback counts the distinct values of one column of Z); q is capped at the subsample size.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp
from scipy.linalg import cholesky, eigh, solve_triangular
from scipy.optimize import nnls
from sklearn.cluster import KMeans

from ..estimator import MultiViewClusterer
from ..kmeans import run_kmeans
from ..params import Interval
from . import register

ANCHOR_KMEANS_ITER, ANCHOR_KMEANS_RESTARTS = 20, 2  # the release's litekmeans settings for the anchors
BASE_RESTARTS, CONSENSUS_RESTARTS = 2, 3  # K-means restarts of the Tcut discretisation (base, consensus)
SUM_ROW_WEIGHT = 1e4  # weight of the sum-to-one row relative to the largest singular value of the Cholesky factor


def simplex_least_squares(X: np.ndarray, H: np.ndarray, beta: float) -> np.ndarray:
    """Z (n, q): row i = argmin_z ||x_i - H^T z||^2 + beta ||z||^2 s.t. z >= 0, sum(z) = 1 (SMCMB's bipartite graph
    of the samples X (n, d) to the anchors H (q, d)).

    With R^T R = beta I + H H^T (Cholesky) the objective is ||R z - c_i||^2 + const, c_i = R^-T H x_i; each row is
    the NNLS solution of [R; w 1^T] z ~ [c_i; w] with a large w, renormalised to sum 1.
    """
    q = H.shape[0]
    R = cholesky(beta * np.eye(q) + H @ H.T, lower=False)
    C = solve_triangular(R, H @ X.T, trans="T", lower=False)  # (q, n): columns c_i
    w = SUM_ROW_WEIGHT * np.linalg.norm(R, 2)
    M = np.vstack([R, np.full((1, q), w)])
    Z = np.empty((X.shape[0], q))
    for i in range(X.shape[0]):
        z = nnls(M, np.append(C[:, i], w), maxiter=50 * q)[0]
        Z[i] = z / z.sum()
    return Z


def transfer_cut(B: np.ndarray | sp.spmatrix, k: int, seed: int, n_init: int) -> np.ndarray:
    """Tcut of the bipartite graph B (n samples x m nodes, non-negative) into k clusters of the samples: the
    spectral embedding of the m x m graph W = B^T Dx^-1 B, transferred to the samples by Dx^-1 B, rows normalised,
    then K-means. Nodes of degree 0 are left out; k is capped at the number of nodes left."""
    B = sp.csr_matrix(B)
    B = B[:, np.flatnonzero(np.asarray(B.sum(axis=0)).ravel() > 0)]
    dx = np.asarray(B.sum(axis=1)).ravel()
    dx[dx == 0] = 1e-10
    inv_dx = sp.diags(1.0 / dx)
    W = (B.T @ inv_dx @ B).toarray()
    inv_sqrt = 1.0 / np.sqrt(W.sum(axis=1))
    normalized = inv_sqrt[:, None] * W * inv_sqrt[None, :]
    normalized = (normalized + normalized.T) / 2
    m = W.shape[0]
    k = min(k, m)
    vectors = eigh(normalized, subset_by_index=[m - k, m - 1])[1][:, ::-1]  # the k leading eigenvectors
    embedding = np.asarray(inv_dx @ (B @ (inv_sqrt[:, None] * vectors)))
    embedding /= np.linalg.norm(embedding, axis=1, keepdims=True) + 1e-10
    return run_kmeans(embedding, k, seed, n_init=n_init).labels_


def consensus_graph(base_labels: np.ndarray) -> sp.csr_matrix:
    """The n x (total clusters) bipartite graph of M base clusterings (n, M): 1 where a sample is in a cluster."""
    n, M = base_labels.shape
    offsets = np.concatenate([[0], np.cumsum(base_labels.max(axis=0) + 1)[:-1]])
    cols = (base_labels + offsets[None, :]).ravel()
    return sp.csr_matrix((np.ones(n * M), (np.repeat(np.arange(n), M), cols)))


@register("smcmb")
class SMCMB(MultiViewClusterer):
    """SMCMB (see the module docstring). Transductive.

    Parameters (the release's demo settings): n_anchor_sets (m, bipartite graphs per view) 5; n_anchors (q) 100
    (the demo suggests tuning it in {k, 50, 100}); beta 1e-4 (suggested range 1e-5..1e5); subsample 10000 (samples
    per anchor K-means). The release runs on the data as loaded (raw features here). Fitted: base_labels_ (n, V m),
    the base clusterings in the order (view 1: sets 1..m, view 2: ...), anchors_ (the V m anchor sets).
    """

    reported_as = "SMCMB"
    default_scaling = "none"
    parameter_constraints: ClassVar[dict[str, Any]] = {
        "n_anchor_sets": Interval(int, 1), "n_anchors": Interval(int, 1),
        "beta": Interval(float, 0, closed="neither"), "subsample": Interval(int, 1),
    }

    def __init__(self, n_clusters: int, random_state: int | None = 0, n_anchor_sets: int = 5, n_anchors: int = 100,
                 beta: float = 1e-4, subsample: int = 10000, scaling: str | None = None):
        super().__init__(n_clusters, random_state, scaling)
        self.n_anchor_sets, self.n_anchors, self.beta, self.subsample = n_anchor_sets, n_anchors, beta, subsample

    def _anchor_set(self, X: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """K-means centres of a random subsample of X: one diversified anchor set (q x d)."""
        rows = rng.choice(X.shape[0], size=min(self.subsample, X.shape[0]), replace=False)
        q = min(self.n_anchors, rows.size)
        km = KMeans(q, init="random", n_init=ANCHOR_KMEANS_RESTARTS, max_iter=ANCHOR_KMEANS_ITER,
                    random_state=int(rng.integers(2**31 - 1))).fit(X[rows])
        return km.cluster_centers_

    def _fit(self, views: list[np.ndarray]) -> None:
        rng = np.random.default_rng(self.seed_)
        self.anchors_ = [self._anchor_set(X, rng) for X in views for _ in range(self.n_anchor_sets)]
        base = []
        for g, H in enumerate(self.anchors_):
            Z = simplex_least_squares(views[g // self.n_anchor_sets], H, self.beta)
            base.append(transfer_cut(Z, self.n_clusters, int(rng.integers(2**31 - 1)), BASE_RESTARTS))
        self.base_labels_ = np.stack(base, axis=1)
        self.labels_ = transfer_cut(consensus_graph(self.base_labels_), self.n_clusters, self.seed_,
                                    CONSENSUS_RESTARTS)
