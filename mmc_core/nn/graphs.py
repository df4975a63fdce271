"""Neighbourhood graphs of a batch's rows (torch): kNN masks, their symmetric closure with self loops, and the
normalised adjacency of a graph convolution. Shared by IDMC's interest values, ICMVC and DIVIDE."""

from __future__ import annotations

import torch


@torch.no_grad()
def knn_graph(h: torch.Tensor, k: int = 10) -> torch.Tensor:
    """Boolean (n, n) mask, True at (i, j) when h_j is among the k nearest neighbours of h_i (Euclidean),
    never on the diagonal. k is capped at n - 1 (a batch smaller than k + 1 links every pair)."""
    if h.ndim != 2:
        raise ValueError(f"h must be a 2-D tensor (n_samples, dim), got shape {tuple(h.shape)}.")
    if isinstance(k, bool) or int(k) != k or k < 1:
        raise ValueError(f"k must be a positive integer number of neighbours, got {k!r}.")
    n = h.shape[0]
    mask = torch.zeros(n, n, dtype=torch.bool, device=h.device)
    k = min(int(k), n - 1)
    if k == 0:
        return mask
    d = torch.cdist(h.detach(), h.detach())
    d = d.masked_fill(torch.eye(n, dtype=torch.bool, device=h.device), float("inf"))  # batchable under vmap
    nearest = d.topk(k, dim=1, largest=False).indices
    return mask.scatter(1, nearest, True)  # out of place: batchable under vmap (seeds trained together)


def symmetric_knn(x: torch.Tensor, k: int) -> torch.Tensor:
    """Boolean (n, n) graph: i ~ j when either is among the other's k nearest neighbours (Euclidean), plus self loops.
    k = 0 leaves only the self loops."""
    if isinstance(k, bool) or int(k) != k or k < 0:
        raise ValueError(f"k must be a non-negative integer number of neighbours, got {k!r}.")
    n = x.shape[0]
    eye = torch.eye(n, dtype=torch.bool, device=x.device)
    if k == 0 or n < 2:
        return eye
    mask = knn_graph(x, int(k))
    return mask | mask.t() | eye


@torch.no_grad()
def normalized_adjacency(x: torch.Tensor, k: int) -> torch.Tensor:
    """Sparse D^-1/2 (A + I) D^-1/2 of the symmetric kNN graph A of the rows of x (the standard GCN propagation)."""
    graph = symmetric_knn(x, k)
    rows, cols = graph.nonzero(as_tuple=True)
    deg = graph.sum(dim=1).to(x.dtype)
    values = deg[rows].rsqrt() * deg[cols].rsqrt()
    return torch.sparse_coo_tensor(torch.stack([rows, cols]), values, graph.shape, is_coalesced=True,
                                   check_invariants=False)  # nonzero() lists (row, col) sorted, once each
