"""Deep Divergence-based Clustering loss (Kampffmeyer et al.), as in the reference code of SiMVC/CoMVC.

L_DDC = d_cs(A, K) + triu(A A^T) term + d_cs(M, K), K a Gaussian kernel on the head's hidden layer.
The IDMC/DDMC texts print 1/k for the Cauchy-Schwarz average and triu(P^T P); we follow the reference code
(2/(k(k-1)) and the n x n strict upper triangle of A A^T, normalised by n(n-1)/2);
see "The DDC clustering loss" in docs/readings.md.
"""

from __future__ import annotations

import torch

EPS = 1e-9


def gaussian_kernel(hidden: torch.Tensor, rel_sigma: float = 0.15) -> torch.Tensor:
    """K = exp(-D / (2 sigma^2)), D squared distances, sigma^2 = rel_sigma * median(D) (detached, floored)."""
    d = torch.cdist(hidden, hidden, p=2.0).pow(2).clamp_min(0.0)
    sigma2 = (rel_sigma * torch.median(d)).detach().clamp_min(EPS)
    return torch.exp(-d / (2.0 * sigma2))


def cauchy_schwarz_divergence(A: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """2/(k(k-1)) * sum_{i<j} a_i^T K a_j / sqrt(a_i^T K a_i * a_j^T K a_j) over the columns a_i of A.

    As the reference code: the numerator is floored at EPS and the product of the diagonal entries at EPS^2, the
    diagonal itself is never floored (flooring it made the ratios of a cluster whose mass falls below ~1e-7 drop
    towards 0, so the loss rewarded emptying a cluster)."""
    k = A.shape[1]
    if k < 2:
        return A.new_zeros(())
    gram = A.t() @ K @ A  # (k, k)
    diag = torch.diagonal(gram)  # read before any clamping: a near-empty cluster keeps its true self-similarity
    ratio = gram.clamp_min(EPS) / torch.sqrt(torch.outer(diag, diag).clamp_min(EPS**2))
    return ratio.triu(diagonal=1).sum() * 2.0 / (k * (k - 1))


def ddc_terms(A: torch.Tensor, hidden: torch.Tensor, rel_sigma: float = 0.15) -> dict[str, torch.Tensor]:
    """The three DDC terms, named so that an ablation can drop one: ddc_1 (cluster separation), ddc_2
    (orthogonality of assignments), ddc_3 (closeness to simplex corners)."""
    n, k = A.shape
    K = gaussian_kernel(hidden, rel_sigma)
    ddc_1 = cauchy_schwarz_divergence(A, K)
    ddc_2 = (A @ A.t()).triu(diagonal=1).sum() * 2.0 / max(n * (n - 1), 1)
    corners = torch.eye(k, device=A.device, dtype=A.dtype)
    M = torch.exp(-torch.cdist(A, corners, p=2.0).pow(2))
    ddc_3 = cauchy_schwarz_divergence(M, K)
    return {"ddc_1": ddc_1, "ddc_2": ddc_2, "ddc_3": ddc_3}
