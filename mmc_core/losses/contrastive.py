"""Cross-view InfoNCE with cosine similarity, optional per-anchor weights, a choice of denominator, and optional
per-pair negative weights; and the multi-view NT-Xent (SimCLR form) built on it."""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F


def info_nce(
    z_a: torch.Tensor,
    z_b: torch.Tensor,
    tau: float = 0.1,
    weights: torch.Tensor | None = None,
    positive_in_denominator: bool = True,
    symmetric: bool = True,
    negative_weights: torch.Tensor | None = None,
) -> torch.Tensor:
    """-mean_i w_i log( exp(s_ii/tau) / sum_j exp(s_ij/tau) ), s = cosine similarity between views a and b.

    positive_in_denominator=False drops j = i from the sum (IDMC Eq. 18). symmetric averages the a->b and b->a
    directions. weights (n,) scale each anchor's term (IDMC: w_i^u w_i^v); they are used as given (detach them
    first if they must not receive gradients). negative_weights (n, n), non-negative, multiplies each off-diagonal
    exp(s_ij/tau) in anchor i's denominator: a 0/1 mask that drops pairs, or counts of sampled negatives (CoMVC);
    the b->a direction uses its transpose.
    """
    if z_a.shape != z_b.shape:
        raise ValueError(f"Views to contrast must have the same shape, got {tuple(z_a.shape)} and {tuple(z_b.shape)}.")
    n = z_a.shape[0]
    if negative_weights is not None and tuple(negative_weights.shape) != (n, n):
        raise ValueError(f"negative_weights must be ({n}, {n}) for {n} anchors, got {tuple(negative_weights.shape)}.")
    sim = F.normalize(z_a, dim=1) @ F.normalize(z_b, dim=1).t() / tau
    eye = torch.eye(n, dtype=torch.bool, device=sim.device)

    def one_direction(s: torch.Tensor, neg_w: torch.Tensor | None) -> torch.Tensor:
        positive = torch.diagonal(s)
        if neg_w is not None:
            s = s + torch.log(neg_w.to(s.dtype).clamp_min(0.0)).masked_fill(eye, 0.0)
        if not positive_in_denominator:
            s = s.masked_fill(eye, float("-inf"))
        loss = torch.logsumexp(s, dim=1) - positive
        return (loss * weights).mean() if weights is not None else loss.mean()

    if not symmetric:
        return one_direction(sim, negative_weights)
    neg_t = negative_weights.t() if negative_weights is not None else None
    return 0.5 * (one_direction(sim, negative_weights) + one_direction(sim.t(), neg_t))


def nt_xent(zs: Sequence[torch.Tensor], tau: float, negative_weights: torch.Tensor | None = None,
            anchor_weights: torch.Tensor | None = None) -> torch.Tensor:
    """Multi-view NT-Xent (SimCLR's loss over V views): mean over every anchor (sample i of view u) and every
    positive (sample i of another view v) of -log( e^{s_pos} / (e^{s_pos} + sum_neg e^{s_neg}) ), s = cos / tau.

    Negatives are the other samples of every view (same view included), never a copy of the anchor's own sample.
    negative_weights (V n, V n), rows and columns in the order [view 0 samples; view 1 samples; ...], multiplies
    each negative (a mask, or counts of sampled negatives); entries on copies of the anchor's sample are ignored.
    For two views this is the average of the two directions of the usual NT-Xent (MFLVC's l^(mn), l^(nm)). With
    three or more views it differs from the pairwise form of DeepMVC's contrastive term (the mean over view pairs of
    the two-view loss, whose negatives come from that pair's two views only): here every view supplies negatives.
    anchor_weights (V n,), in the same order, scales each anchor's term (e.g. interest values).
    """
    V = len(zs)
    if V < 2:
        raise ValueError(f"nt_xent needs at least two views, got {V}.")
    n = zs[0].shape[0]
    z = torch.cat(list(zs), dim=0)
    sample = torch.arange(n, device=z.device).repeat(V)
    others = (sample[:, None] != sample[None, :]).to(z.dtype)
    if negative_weights is not None:
        if tuple(negative_weights.shape) != (V * n, V * n):
            raise ValueError(f"negative_weights must be ({V * n}, {V * n}) for {V} views of {n} samples, "
                             f"got {tuple(negative_weights.shape)}.")
        others = others * negative_weights.to(z.dtype)
    total = z.new_zeros(())
    for shift in range(1, V):
        # row r of z[perm] is the copy of r's sample in the view `shift` places on: the positives on the diagonal
        perm = torch.roll(torch.arange(V * n, device=z.device), -shift * n)
        total = total + info_nce(z, z[perm], tau, weights=anchor_weights, symmetric=False,
                                 negative_weights=others[:, perm])
    return total / (V - 1)
