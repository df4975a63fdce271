"""Interest values of IDMC (Zou et al., AAAI'26, Eq. 2-15): per-sample weights from a batch's features and
soft cluster assignments, for any deep multi-view method to plug into its losses.

Pipeline for one view v of a batch (n samples):
  E_ij = exp(-lam ||h_i - h_j||^2)            feature similarity (Eq. 2)
  S_ij = cos(p_i, p_j)                        pseudo-label similarity on the fused assignments P (Eq. 2)
  theta_ij = Beta-posterior mean of E and S   adaptive Bayesian fusion (Eq. 3-11), or their plain average
  g_ij = theta_ij on the kNN graph of h       edges i -> j for j among the k nearest neighbours of i
  G~ = row softmax of g over neighbours       the "votes" sample i gives (Eq. 12)
  eta_j = sum_i G~_ij                         interest received (Eq. 13)
  eta~ = min(eta / median(eta), 1)            median cap (Eq. 14)
  w_i = eta~_i * consistency(cos(p_i, q_i))   label-consistency term (Eq. 15), two readings, see `interest_values`

Everything here is a pure function computed under torch.no_grad: interest values are weights, not a path for
gradients.
"""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F

from .nn.graphs import knn_graph

FUSIONS = ("bayes", "average")
LABEL_TERMS = ("paper", "ratio")


def _check_matrix(name: str, x: torch.Tensor) -> None:
    if not isinstance(x, torch.Tensor) or x.ndim != 2:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"{name} must be a 2-D tensor (n_samples, dim), got {shape}.")


@torch.no_grad()
def feature_similarity(h: torch.Tensor, lam: float = 0.05) -> torch.Tensor:
    """E_ij = exp(-lam ||h_i - h_j||^2), in (0, 1] (Eq. 2, left)."""
    _check_matrix("h", h)
    if lam <= 0:
        raise ValueError(f"lam must be > 0 (the paper uses 0.05), got {lam}.")
    h = h.detach()
    return torch.exp(-lam * torch.cdist(h, h).pow(2))


@torch.no_grad()
def label_similarity(p: torch.Tensor) -> torch.Tensor:
    """S_ij = cos(p_i, p_j) of soft assignments (Eq. 2, right); in [0, 1] for non-negative rows."""
    _check_matrix("p", p)
    unit = F.normalize(p.detach(), dim=1)
    return unit @ unit.t()


def _confidence(x: torch.Tensor, eps: float) -> torch.Tensor:
    """Virtual sample size n = 1 / (x(1 - x) + eps) of Eq. 5 (the scale t cancels in the posterior mean)."""
    return 1.0 / (x * (1.0 - x) + eps)


@torch.no_grad()
def bayesian_fusion(E: torch.Tensor, S: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """Posterior mean of Beta(E n^E, (1-E) n^E) x Beta(S n^S, (1-S) n^S) (Eq. 3-11):
    theta = (n^E E + n^S S) / (n^E + n^S), with n = 1/(x(1-x) + eps). A value near 0 or 1 is a confident
    observation and dominates; 0.5 is the least confident. E and S are first clamped into (eps, 1 - eps)."""
    if E.shape != S.shape:
        raise ValueError(f"E and S must have the same shape, got {tuple(E.shape)} and {tuple(S.shape)}.")
    if not 0 < eps < 0.5:
        raise ValueError(f"eps must be in (0, 0.5), got {eps}.")
    E = E.detach().clamp(eps, 1.0 - eps)
    S = S.detach().clamp(eps, 1.0 - eps)
    n_e, n_s = _confidence(E, eps), _confidence(S, eps)
    return (n_e * E + n_s * S) / (n_e + n_s)


@torch.no_grad()
def average_fusion(E: torch.Tensor, S: torch.Tensor) -> torch.Tensor:
    """(E + S) / 2: the IDMC-AVG variant of Figure 3, which ignores how confident each source is."""
    if E.shape != S.shape:
        raise ValueError(f"E and S must have the same shape, got {tuple(E.shape)} and {tuple(S.shape)}.")
    return 0.5 * (E.detach() + S.detach())


def _check_options(fusion: str, label_term: str) -> None:
    if fusion not in FUSIONS:
        raise ValueError(f"Unknown fusion {fusion!r}: use 'bayes' (adaptive Bayesian fusion, Eq. 3-11) "
                         "or 'average' (IDMC-AVG).")
    if label_term not in LABEL_TERMS:
        raise ValueError(f"Unknown label_term {label_term!r}: use 'paper' (literal Eq. 15, exp(c_i - zeta)) "
                         "or 'ratio' (exp(c_i) / zeta).")


@torch.no_grad()
def median(values: torch.Tensor) -> torch.Tensor:
    """torch.quantile(values, 0.5), computed as it computes it (sort, then lerp between the two middle values, at
    weight 0.5 for an even count) with ops that torch.func.vmap batches (quantile has no batching rule: under vmap,
    for seeds trained together, it would run once per seed). Values without NaN."""
    ordered = values.flatten().sort().values
    n = ordered.shape[0]
    return torch.lerp(ordered[(n - 1) // 2], ordered[n // 2], 0.5 if n % 2 == 0 else 0.0)


def interest_values(
    h: torch.Tensor,
    p: torch.Tensor,
    q: torch.Tensor,
    k: int = 10,
    lam: float = 0.05,
    fusion: str = "bayes",
    label_term: str = "paper",
    return_parts: bool = False,
) -> torch.Tensor | dict[str, torch.Tensor]:
    """Interest values w (n,) of one view's batch (Eq. 2-15), detached.

    h: the view's features (n, d); p: fused soft assignments (n, k_c); q: the view's soft assignments (n, k_c).
    Label-consistency term with c_i = cos(p_i, q_i) and zeta = max_j exp(c_j):
      label_term="paper": w_i = eta~_i * exp(c_i - zeta), the literal Eq. 15 (it subtracts a linear-scale zeta
                          from a log-scale c_i, so w <= exp(x - e^x) <= 1/e);
      label_term="ratio": w_i = eta~_i * exp(c_i) / zeta, the max-normalisation the text describes (w <= 1).
    return_parts=True gives a dict of every intermediate for inspection: E, S, theta (fused, all pairs),
    graph (kNN mask), G_tilde (row-softmaxed votes), eta, eta_tilde, consistency (the label factor), w.
    When more than half the batch receives no vote (median(eta) = 0), eta~ is 1 for every voted sample, 0 else.
    """
    _check_options(fusion, label_term)
    for name, x in (("h", h), ("p", p), ("q", q)):
        _check_matrix(name, x)
    if not (h.shape[0] == p.shape[0] == q.shape[0]) or p.shape != q.shape:
        raise ValueError(f"h, p, q must describe the same samples and p, q the same clusters; got shapes "
                         f"{tuple(h.shape)}, {tuple(p.shape)}, {tuple(q.shape)}.")
    h, p, q = h.detach(), p.detach(), q.detach()
    E = feature_similarity(h, lam)
    S = label_similarity(p)
    theta = bayesian_fusion(E, S) if fusion == "bayes" else average_fusion(E, S)
    graph = knn_graph(h, k)
    logits = theta.masked_fill(~graph, float("-inf"))
    G_tilde = torch.softmax(logits, dim=1).nan_to_num(0.0)  # a row without neighbours (n = 1) votes for no one
    eta = G_tilde.sum(dim=0)
    med = median(eta).clamp_min(torch.finfo(eta.dtype).tiny)
    eta_tilde = (eta / med).clamp(max=1.0)
    c = F.cosine_similarity(p, q, dim=1)
    zeta = torch.exp(c).max()
    consistency = torch.exp(c - zeta) if label_term == "paper" else torch.exp(c) / zeta
    w = eta_tilde * consistency
    if not return_parts:
        return w
    return {"E": E, "S": S, "theta": theta, "graph": graph, "G_tilde": G_tilde, "eta": eta,
            "eta_tilde": eta_tilde, "consistency": consistency, "w": w}


@torch.no_grad()
def batch_interest(
    hs: Sequence[torch.Tensor],
    P: torch.Tensor,
    Qs: Sequence[torch.Tensor],
    return_parts: bool = False,
    **options,
) -> list[torch.Tensor] | list[dict[str, torch.Tensor]]:
    """Per-view interest values of a batch: [interest_values(h^(v), P, Q^(v), **options) for each view v].

    The plug-in point for other methods: give the views' features, the fused and per-view soft assignments,
    and weight any per-sample loss with the result. `options` are those of `interest_values`
    (k, lam, fusion, label_term)."""
    if len(hs) != len(Qs):
        raise ValueError(f"Got {len(hs)} feature tensors but {len(Qs)} per-view assignments; one of each per view.")
    return [interest_values(h, P, Q, return_parts=return_parts, **options) for h, Q in zip(hs, Qs)]


def uniform_interest(n: int, device: torch.device | str | None = None, dtype: torch.dtype | None = None
                     ) -> torch.Tensor:
    """All-ones weights: the 'w/o IV' variant (every sample counts the same)."""
    return torch.ones(int(n), device=device, dtype=dtype)
