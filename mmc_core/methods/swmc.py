"""SwMC: self-weighted multiview clustering with multiple graphs (Nie, Li, Li, IJCAI 2017).

Per view v a row-stochastic graph A_v, built with the adaptive-neighbour closed form of CAN (Nie, Wang, Huang,
KDD 2014): with d_i1 <= ... <= d_i,m+1 the squared distances from sample i to its m+1 nearest other samples,
    a_ij = (d_i,m+1 - d_ij) / (m d_i,m+1 - sum_{h<=m} d_ih)   for the m nearest j, 0 otherwise.
SwMC learns one graph S (rows on the simplex) whose Laplacian L_S = D - (S + S^T)/2 has exactly c zero
eigenvalues (c connected components = c clusters), the parameter-free problem
    min_S sum_v ||S - A_v||_F   s.t. s_i >= 0, s_i^T 1 = 1, rank(L_S) = n - c,
solved by reweighting, w_v = 1 / (2 ||S - A_v||_F) (the "self weights"), and, for fixed w, the relaxed problem
    min_{S, F^T F = I} sum_v w_v ||S - A_v||_F^2 + 2 lam tr(F^T L_S F).
For fixed w (the paper's CLR step): F = the c smallest eigenvectors of L_S; each row of S is the Euclidean
projection onto the simplex of (sum_v w_v a_i^v - lam/2 d_i) / sum_v w_v with d_ij = ||f_i - f_j||^2; lam starts
at 1 and is adapted as in the paper: doubled while S has fewer than c components, halved (and F restored) while
it has more, stopping as soon as it has exactly c. Outer loop: S-step, then w-step, until sum_v ||S - A_v||_F
changes by less than tol (relative) or after max_iter rounds. Labels = the connected components of S.

As in the authors' code, row i of S is supported on the union of its neighbourhoods in the views (where some
a_ij^v > 0): S stays sparse and each S-step costs O(n m V). The component count (scipy csgraph) replaces the
paper's equivalent test on the c and c+1 smallest eigenvalues of L_S. Deviation: the authors' code starts from
random view weights; here they start equal (1/V), so the method is deterministic and random_state only seeds
the fallback K-means (run, with a warning, on F when S does not end with exactly c components).
"""

from __future__ import annotations

import warnings

from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp
from scipy.linalg import eigh
from scipy.sparse.csgraph import connected_components
from sklearn.neighbors import NearestNeighbors

from ..estimator import MultiViewClusterer
from ..kmeans import run_kmeans
from ..params import Interval
from . import register

_EPS = 1e-12  # floor on ||S - A_v||_F, so a view the graph matches exactly gets a finite weight


def project_rows_to_simplex(V: np.ndarray, valid: np.ndarray | None = None) -> np.ndarray:
    """Euclidean projection of each row of V onto the probability simplex (sorting method, Duchi et al. 2008).

    `valid` (same shape, bool) restricts each row to its True entries; the others are 0 in the result. Every row
    needs at least one valid entry.
    """
    if valid is None:
        valid = np.ones(V.shape, dtype=bool)
    u = np.where(valid, V, -np.inf)
    order = np.argsort(-u, axis=1)
    u = np.take_along_axis(u, order, axis=1)
    ok = np.take_along_axis(valid, order, axis=1)  # valid entries first, in decreasing order
    css = np.cumsum(np.where(ok, u, 0.0), axis=1)
    ranks = np.arange(1, V.shape[1] + 1)
    with np.errstate(invalid="ignore"):
        active = ok & (u - (css - 1.0) / ranks > 0)  # true exactly on a prefix of each row
    rho = active.sum(axis=1)
    theta = (css[np.arange(V.shape[0]), rho - 1] - 1.0) / rho
    return np.where(valid, np.maximum(V - theta[:, None], 0.0), 0.0)


def adaptive_neighbor_graph(X: np.ndarray, n_neighbors: int) -> tuple[np.ndarray, np.ndarray]:
    """CAN graph of the rows of X: (idx, weights), each (n, n_neighbors), row i's neighbours and their weights.

    Needs n_neighbors + 1 other samples. Rows sum to 1; if the m + 1 nearest distances are all equal the weights
    are uniform.
    """
    n, m = X.shape[0], n_neighbors
    dist, idx = NearestNeighbors(n_neighbors=m + 2).fit(X).kneighbors(X)
    own = idx == np.arange(n)[:, None]
    own[~own.any(axis=1), -1] = True  # a sample not found among its own neighbours (duplicates): drop the last
    keep = ~own
    d = (dist[keep] ** 2).reshape(n, m + 1)
    idx = idx[keep].reshape(n, m + 1)
    far = d[:, m:]
    denom = m * far - d[:, :m].sum(axis=1, keepdims=True)
    flat = denom <= 0
    weights = np.where(flat, 1.0 / m, (far - d[:, :m]) / np.where(flat, 1.0, denom))
    return idx[:, :m], weights


def _union_support(graphs: list[tuple[np.ndarray, np.ndarray]], n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each row's union of neighbours over the views, padded: cols (n, w), valid (n, w), A (V, n, w)."""
    keys = [np.repeat(np.arange(n), idx.shape[1]) * n + idx.ravel() for idx, _ in graphs]
    union = np.unique(np.concatenate(keys))
    rows = union // n
    counts = np.bincount(rows, minlength=n)
    slot = np.arange(union.size) - np.repeat(np.cumsum(counts) - counts, counts)
    width = int(counts.max())
    cols = np.tile(np.arange(n)[:, None], (1, width))  # padding points at the row itself (never valid)
    cols[rows, slot] = union % n
    valid = np.zeros((n, width), dtype=bool)
    valid[rows, slot] = True
    A = np.zeros((len(graphs), n, width))
    for v, (key, (_, w)) in enumerate(zip(keys, graphs)):
        pos = np.searchsorted(union, key)
        A[v, rows[pos], slot[pos]] = w.ravel()
    return cols, valid, A


@register("swmc")
class SwMC(MultiViewClusterer):
    """Self-weighted multiview clustering (see the module docstring). Transductive.

    n_neighbors: neighbours per sample in each view's CAN graph (default 10; the paper's graphs are an input
    the SDCIB paper does not describe). max_iter: outer (view-weight) rounds; max_inner: lam adaptations per
    S-step (50 each, as in the authors' code); tol: relative change of sum_v ||S - A_v||_F that stops the
    outer loop. Fitted: view_weights_ (w_v rescaled to sum to 1), objective_ (sum_v ||S - A_v||_F per round),
    n_iter_, lambda_ (last lam), n_components_ (components of S), graph_ (S, sparse), embedding_ (F).
    """

    reported_as = "SwMC"
    default_scaling = "none"

    parameter_constraints: ClassVar[dict[str, Any]] = {
        "n_neighbors": Interval(int, 1), "max_iter": Interval(int, 1), "max_inner": Interval(int, 1),
        "tol": Interval(float, 0)}

    def __init__(self, n_clusters: int, random_state: int | None = 0, n_neighbors: int = 10, max_iter: int = 50,
                 max_inner: int = 50, tol: float = 1e-6, scaling: str | None = None):
        super().__init__(n_clusters, random_state, scaling)
        self.n_neighbors, self.max_iter, self.max_inner, self.tol = n_neighbors, max_iter, max_inner, tol

    def _fit(self, views: list[np.ndarray]) -> None:
        n, c = views[0].shape[0], self.n_clusters
        if self.n_neighbors + 2 > n:
            raise ValueError(
                f"n_neighbors={self.n_neighbors} needs at least {self.n_neighbors + 2} samples, got {n}: "
                "lower n_neighbors."
            )
        if c >= n:
            raise ValueError(f"SwMC needs more samples than clusters ({n} <= {c}).")
        graphs = [adaptive_neighbor_graph(X, self.n_neighbors) for X in views]
        self._cols, self._valid, self._A = _union_support(graphs, n)
        w = np.full(len(views), 1.0 / len(views))
        S = np.tensordot(w, self._A, axes=1) / w.sum()
        self.objective_ = []
        for _ in range(self.max_iter):
            S, F, n_comp, comp_labels = self._clr(S, w)
            dist = np.sqrt(((S[None] - self._A) ** 2).sum(axis=(1, 2)))  # ||S - A_v||_F on the support
            w = 0.5 / np.maximum(dist, _EPS)
            self.objective_.append(float(dist.sum()))
            if len(self.objective_) > 1 and abs(self.objective_[-2] - dist.sum()) <= self.tol * self.objective_[-2]:
                break
        self.n_iter_ = len(self.objective_)
        self.view_weights_ = w / w.sum()
        self.graph_, self.embedding_, self.n_components_ = self._sparse(S), F, n_comp
        if n_comp == c:
            self.labels_ = comp_labels
        else:
            warnings.warn(
                f"SwMC's graph has {n_comp} connected components, not n_clusters={c} (lam adaptation did not reach "
                f"the rank constraint in max_inner={self.max_inner} steps, or the views' neighbourhood graph itself "
                f"has more than {c} components); labels come from K-means on the spectral embedding F instead. "
                "Try a larger n_neighbors or max_inner.",
                RuntimeWarning,
                stacklevel=3,
            )
            self.labels_ = run_kmeans(F, c, self.seed_).labels_

    def _sparse(self, S: np.ndarray) -> sp.csr_matrix:
        """The padded rows of S as an n x n sparse matrix (stored entries are all > 0)."""
        n = S.shape[0]
        keep = self._valid & (S > 0)
        rows = np.nonzero(keep)[0]
        return sp.csr_matrix((S[keep], (rows, self._cols[keep])), shape=(n, n))

    def _laplacian_eig(self, S: np.ndarray) -> tuple[np.ndarray, int, np.ndarray]:
        """F (c smallest eigenvectors of L_S), the number of connected components of S and their labels."""
        W = self._sparse(S)
        W = (W + W.T) * 0.5
        n_comp, labels = connected_components(W, directed=False)
        L = -W.toarray()
        L[np.diag_indices_from(L)] += np.asarray(W.sum(axis=1)).ravel()
        F = eigh(L, subset_by_index=[0, self.n_clusters - 1])[1]
        return F, n_comp, labels

    def _clr(self, S: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, int, np.ndarray]:
        """The S-step for fixed view weights w: returns S, F, the component count and the component labels."""
        target = np.tensordot(w, self._A, axes=1) / w.sum()  # (sum_v w_v a_i^v) / sum_v w_v, padded
        F, n_comp, labels = self._laplacian_eig(S)
        lam = 1.0
        for _ in range(self.max_inner):
            d = ((F[:, None, :] - F[self._cols]) ** 2).sum(axis=2)
            S = project_rows_to_simplex(target - 0.5 * lam * d / w.sum(), self._valid)
            F_new, n_comp, labels = self._laplacian_eig(S)
            if n_comp < self.n_clusters:
                lam, F = 2.0 * lam, F_new
            elif n_comp > self.n_clusters:
                lam = 0.5 * lam  # F kept from the previous step, as in the paper's algorithm
            else:
                F = F_new
                break
        self.lambda_ = lam
        return S, F, n_comp, labels
