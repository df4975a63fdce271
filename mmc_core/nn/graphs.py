"""Neighbourhood graphs of a batch's rows (torch): kNN masks, their symmetric closure with self loops, and the
normalised adjacency of a graph convolution. Shared by IDMC's interest values, ICMVC and DIVIDE."""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from typing import Iterator

import torch

_DENSE_EVERYWHERE = ContextVar("dense_everywhere", default=False)


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


@contextmanager
def dense_adjacency() -> Iterator[None]:
    """While active, `normalized_adjacency` is dense on the CPU too, as on a GPU: seeds trained together use it under
    vmap (mmc_core.deep.seeds: a sparse tensor cannot be batched), the op count (experiments.benchmark.measure_ops)
    measures the path a GPU runs with it, and tests compare the two forms."""
    token = _DENSE_EVERYWHERE.set(True)
    try:
        yield
    finally:
        _DENSE_EVERYWHERE.reset(token)


@torch.no_grad()
def normalized_adjacency(x: torch.Tensor, k: int) -> torch.Tensor:
    """D^-1/2 (A + I) D^-1/2 of the symmetric kNN graph A of the rows of x (the standard GCN propagation), to be
    multiplied as `adj @ h`. Sparse (COO) on the CPU: about 2k + 1 entries per row, the product the shipped runs
    computed. Dense on a GPU: a sparse tensor's size is its edge count, which the host must read every step (nonzero:
    a host sync), while the dense one has fixed shapes and costs little at these sizes (the kNN search already holds
    the n x n distances). The two forms agree within float rounding (tests/test_icmvc_divide.py)."""
    graph = symmetric_knn(x, k)
    deg = graph.sum(dim=1).to(x.dtype)
    if x.device.type != "cpu" or _DENSE_EVERYWHERE.get():
        scale = deg.rsqrt()
        return graph.to(x.dtype) * scale[:, None] * scale[None, :]
    rows, cols = graph.nonzero(as_tuple=True)
    values = deg[rows].rsqrt() * deg[cols].rsqrt()
    return torch.sparse_coo_tensor(torch.stack([rows, cols]), values, graph.shape, is_coalesced=True,
                                   check_invariants=False)  # nonzero() lists (row, col) sorted, once each
