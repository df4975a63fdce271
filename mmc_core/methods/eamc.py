"""EAMC: End-to-End Adversarial-Attention Network for Multi-Modal Clustering (Zhou and Shen, CVPR 2020) — the DDMC
and IDMC tables' "EAMC" baseline, on the shared trainer and blocks.

Sources. The paper (CVPR 2020 open access) was read through its abstract and a public summary that reproduces its
equations; it gives the three modules and the objective: per-modality encoders h^v = E_v(x^v); an adversarial
alignment in which a discriminator D_v per modality v >= 2 tells the first modality's features (real) from modality
v's (fake), so that the encoders learn modality-invariant latent distributions,
    L_adv = min_E max_D sum_{v>=2} E[log D_v(h^1)] + E[log(1 - D_v(h^v))];
an attention layer, e = softmax(sigmoid(FCs([h^1, ..., h^V])) / tau) per sample, w = its batch mean, fused
h = sum_v w_v h^v, with the attention loss L_att = ||K^f - sum_v w_v K^v||_F^2 between the Gaussian kernel of the
fused features and the w-weighted kernels of the modalities; and a divergence-based clustering loss on the soft
assignments A of a clustering head: the Cauchy-Schwarz separation of A's columns under a kernel, an orthogonality
term triu(A^T A), and the same separation of the assignments' closeness to the simplex corners (DDC's three terms,
with the orthogonality term over pairs of clusters, not of samples). No code of the authors was found (the code that
lists link to, AllenWrong/mvc, is a fork of the re-implementation below); what the paper leaves open (widths,
learning rates, alternation, kernel width, normalisations) is taken from the re-implementation that Trosten et al.
built "on code sent to us by the original authors" (https://github.com/DanielTrosten/mvc, src/eamc/model.py,
src/eamc/loss.py, src/config/eamc/defaults.py and experiments.py; read, not copied), which their DeepMVC benchmark
(https://github.com/DanielTrosten/DeepMVC, src/models/eamc) repeats. Where the summary of the paper and that code
differ, the code is followed: the Cauchy-Schwarz terms are averaged with 2/(k(k-1)) (the summary prints 1/k), the
simplex-corner closeness is exp(-||a_i - e_j||^2) (squared distance), and the kernel of ddc_1 and ddc_3 is that of
the clustering head's hidden layer.
"""

from __future__ import annotations

from typing import Any, ClassVar, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ..deep import Batch, DeepClusterer
from ..deep.engine import Ctx
from ..losses.ddc import cauchy_schwarz_divergence, gaussian_kernel
from ..nn import DDCHead, ViewEncoders
from ..params import Interval, Widths
from . import register

POSITIVE = Interval(float, 0, closed="neither")


def linear_stack(in_dim: int, widths: Sequence[int], slope: float | None) -> nn.Sequential:
    """Linear layers of the given widths; after each a LeakyReLU(slope), or nothing when slope is None (the
    attention net's hidden layers are linear in the reference configuration)."""
    layers: list[nn.Module] = []
    dims = [int(in_dim), *map(int, widths)]
    for a, b in zip(dims[:-1], dims[1:]):
        layers.append(nn.Linear(a, b))
        if slope is not None:
            layers.append(nn.LeakyReLU(slope))
    return nn.Sequential(*layers)


def attention_weights(scores: torch.Tensor, tau: float) -> torch.Tensor:
    """EAMC's view weights from the attention net's output scores (n, V): w = mean_i softmax(sigmoid(s_i) / tau),
    one weight per view, positive, summing to 1."""
    return torch.softmax(torch.sigmoid(scores) / tau, dim=1).mean(dim=0)


def flipped_orthogonality(A: torch.Tensor) -> torch.Tensor:
    """EAMC's orthogonality term: 2/(k(k-1)) * sum_{i<j} a_i^T a_j over the columns (clusters) of A (n, k) — the
    paper's triu(A^T A), normalised as the reference code; DDC's ddc_2 sums over pairs of samples instead."""
    k = A.shape[1]
    if k < 2:
        return A.new_zeros(())
    return (A.t() @ A).triu(diagonal=1).sum() * 2.0 / (k * (k - 1))


def kernel_alignment(fused: torch.Tensor, hs: Sequence[torch.Tensor], weights: torch.Tensor,
                     rel_sigma: float) -> torch.Tensor:
    """EAMC's attention loss ||K^f - sum_v w_v K^v||_F^2, K the Gaussian kernel (mmc_core.losses.gaussian_kernel,
    sigma^2 = rel_sigma * median squared distance) of the fused features and of each view's features."""
    combined = sum(w * gaussian_kernel(h, rel_sigma) for w, h in zip(weights, hs))
    return (gaussian_kernel(fused, rel_sigma) - combined).pow(2).sum()


class EAMCNet(nn.Module):
    """Encoders (ReLU after every layer, as the reference MLP backbones) -> attention fusion -> DDC head; one
    discriminator per view v >= 2 (LeakyReLU(0.2) layers, then one logit) on the encoders' outputs."""

    def __init__(self, dims: Sequence[int], n_clusters: int, encoder_widths: Sequence[int],
                 attention_widths: Sequence[int], discriminator_widths: Sequence[int], tau: float):
        super().__init__()
        width, n_views = int(encoder_widths[-1]), len(dims)
        self.encoders = ViewEncoders(dims, encoder_widths, last_activation=True)
        self.attention = nn.Sequential(linear_stack(n_views * width, attention_widths, None),
                                       nn.Linear(int(attention_widths[-1]) if attention_widths else n_views * width,
                                                 n_views))
        self.head = DDCHead(width, n_clusters)
        self.discriminators = nn.ModuleList(
            nn.Sequential(linear_stack(width, discriminator_widths, 0.2), nn.Linear(int(discriminator_widths[-1]), 1))
            for _ in range(n_views - 1))
        self.tau = tau
        for module in self.modules():  # He (Kaiming normal) weights, as the reference code
            if isinstance(module, nn.Linear):
                nn.init.kaiming_normal_(module.weight)

    def view_weights(self, hs: Sequence[torch.Tensor]) -> torch.Tensor:
        return attention_weights(self.attention(torch.cat(list(hs), dim=1)), self.tau)

    def forward(self, views: Sequence[torch.Tensor]) -> dict[str, Any]:
        hs = self.encoders(views)
        w = self.view_weights(hs)
        fused = sum(wv * h for wv, h in zip(w, hs))
        A, hidden = self.head(fused)
        return {"hs": hs, "weights": w, "fused": fused, "A": A, "hidden": hidden}

    def discriminator_logits(self, hs: Sequence[torch.Tensor]) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Per view v >= 2: (D_v's logits on view 1's features (real), on view v's features (fake))."""
        return [(D(hs[0]).squeeze(1), D(hs[v + 1]).squeeze(1)) for v, D in enumerate(self.discriminators)]


@register("eamc")
class EAMC(DeepClusterer):
    """EAMC (see the module docstring). Named loss terms (raw value, weight), each switchable off by `disable`:
      ddc_1       = Cauchy-Schwarz separation of the columns of A under the kernel of the head's hidden layer (1)
      ddc_2       = 2/(k(k-1)) sum_{i<j} a_i^T a_j over the columns of A (flipped_orthogonality)              (1)
      ddc_3       = ddc_1 with A replaced by exp(-||A_i - e_j||^2), e_j the simplex corners                     (1)
      attention   = ||K^f - sum_v w_v K^v||_F^2 (kernel_alignment)                                              (1)
      generator   = sum_{v>=2} BCE(D_v(h^v), real): the encoders' side of L_adv                             (gamma)
    The discriminators are trained apart: before each encoder step, on `auxiliary_loss`, they take one Adam
    step on sum_{v>=2} BCE(D_v(h^1), real) + BCE(D_v(h^v), fake) with the encoders' outputs detached; the
    generator term then uses the updated discriminators. The paper's ablation without adversarial alignment is
    disable=("generator",) (the one without the attention layer, uniform weights, is not offered). Labels: argmax of
    A, the assignments of the fused features.

    Defaults (the reference configuration for vector data, src/config/eamc/defaults.py and experiments.py):
    encoders 200-200-500 (the RGB-D MLP backbone), attention net 100-50 linear layers then V scores, tau 10,
    discriminators 256-256-128 LeakyReLU(0.2), gamma 10, kernel rel_sigma 0.15, DDC head of 100 hidden units with
    BatchNorm; Adam with betas (0.95, 0.999) at lr 1e-5 for the encoders and head (`lr`) and 1e-4 for the attention
    net (`attention_lr`), Adam with betas (0.5, 0.999) at lr 1e-3 for the discriminators (`discriminator_lr`); batch
    100, 500 epochs, constant learning rates (lr_gamma=1.0); He-normal initial weights. The learning rates are
    defaults.py's, which mvc's MNIST, Fashion and COIL experiments keep; its RGB-D experiment, whose encoder widths
    these are, sets 6e-5 for the encoders and 2e-5 for the discriminators (discriminator_lr=2e-5 and lr=6e-5 come
    close; `lr` also moves the head, which mvc keeps at 1e-5). Recorded in experiments/silent_choices.py.

    Readings and differences from the reference code: (1) it alternates the two players over batches (encoder step
    on even batches, discriminator step on odd ones); here each batch gives one discriminator step then one encoder
    step (as the DeepMVC version, which steps both optimizers on every batch). (2) It clips the encoders' gradient
    norm at 0.5; the shared trainer has no gradient clipping. (3) It reports the epoch of lowest total loss; here
    the last epoch (selection="min_loss" gives the reference's choice). (4) It drops the last incomplete batch; the
    trainer keeps it. (5) BCE is computed from logits (the same value as sigmoid + BCE, numerically safer).
    (6) The view weights are a batch mean, so they depend on the batch; at inference the whole data set is one batch
    (`inference_chunk` None), and `fusion_weights_` holds those weights after fit. (7) For more than two views, one
    discriminator per view v >= 2 against view 1, as the paper's sum. The kernel (mmc_core.losses.gaussian_kernel) is
    the reference's: sigma^2 = rel_sigma * the median squared distance in the batch, detached.
    """

    reported_as: ClassVar[str] = "EAMC"
    trains_seeds_together: ClassVar[bool] = True
    auxiliary_modules: ClassVar[tuple[str, ...]] = ("discriminators",)
    inference_chunk: ClassVar[int | None] = None  # the attention weights are a mean over the samples
    trainer_defaults: ClassVar[dict[str, Any]] = {"epochs": 500, "batch_size": 100, "lr": 1e-5, "lr_gamma": 1.0}
    parameter_constraints: ClassVar[dict[str, Any]] = {
        "encoder_widths": Widths(), "attention_widths": Widths(), "discriminator_widths": Widths(), "tau": POSITIVE,
        "gamma": Interval(float, 0), "rel_sigma": POSITIVE, "attention_lr": POSITIVE, "discriminator_lr": POSITIVE,
    }
    BETAS: ClassVar[tuple[float, float]] = (0.95, 0.999)  # Adam betas of the encoders, attention net and head
    DISCRIMINATOR_BETAS: ClassVar[tuple[float, float]] = (0.5, 0.999)

    def __init__(self, n_clusters: int, random_state: int | None = 0,
                 encoder_widths: Sequence[int] = (200, 200, 500), attention_widths: Sequence[int] = (100, 50),
                 discriminator_widths: Sequence[int] = (256, 256, 128), tau: float = 10.0, gamma: float = 10.0,
                 rel_sigma: float = 0.15, attention_lr: float = 1e-4, discriminator_lr: float = 1e-3, **kwargs):
        super().__init__(n_clusters, random_state, **kwargs)
        self.encoder_widths, self.attention_widths, self.discriminator_widths = (encoder_widths, attention_widths,
                                                                                 discriminator_widths)
        self.tau, self.gamma, self.rel_sigma = tau, gamma, rel_sigma
        self.attention_lr, self.discriminator_lr = attention_lr, discriminator_lr

    def build(self, dims: list[int]) -> nn.Module:
        if len(dims) < 2:
            raise ValueError("EAMC aligns the views' feature distributions adversarially: it needs at least two views.")
        return EAMCNet(dims, self.n_clusters, self.encoder_widths, self.attention_widths, self.discriminator_widths,
                       self.tau)

    def trainable_parameters(self, model: nn.Module) -> list:
        """Parameter groups of the trainer's Adam: encoders and head at `lr`, the attention net at `attention_lr`,
        both with betas (0.95, 0.999); the discriminators are left out (stepped on `auxiliary_loss`)."""
        return [{"params": [*model.encoders.parameters(), *model.head.parameters()], "betas": self.BETAS},
                {"params": list(model.attention.parameters()), "lr": self.attention_lr, "betas": self.BETAS}]

    def loss_weights(self) -> dict[str, float]:
        return {"ddc_1": 1.0, "ddc_2": 1.0, "ddc_3": 1.0, "attention": 1.0, "generator": self.gamma}

    def auxiliary_optimizer(self) -> dict[str, Any]:
        return {"lr": self.discriminator_lr, "betas": self.DISCRIMINATOR_BETAS}

    def auxiliary_loss(self, model: nn.Module, out: dict[str, Any], batch: Batch, ctx: Ctx) -> torch.Tensor:
        """The discriminators' side of L_adv (one Adam step on it per batch), the encoders' outputs detached."""
        return sum(F.binary_cross_entropy_with_logits(real, torch.ones_like(real))
                   + F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake))
                   for real, fake in model.discriminator_logits([h.detach() for h in out["hs"]]))

    def loss_terms(self, model: nn.Module, out: dict[str, Any], batch: Batch, ctx: Ctx) -> dict[str, torch.Tensor]:
        A, hs = out["A"], out["hs"]
        K = gaussian_kernel(out["hidden"], self.rel_sigma)
        corners = torch.eye(A.shape[1], device=A.device, dtype=A.dtype)
        fakes = [fake for _, fake in model.discriminator_logits(hs)]
        return {
            "ddc_1": cauchy_schwarz_divergence(A, K),
            "ddc_2": flipped_orthogonality(A),
            "ddc_3": cauchy_schwarz_divergence(torch.exp(-torch.cdist(A, corners).pow(2)), K),
            "attention": kernel_alignment(out["fused"], hs, out["weights"], self.rel_sigma),
            "generator": sum(F.binary_cross_entropy_with_logits(fake, torch.ones_like(fake)) for fake in fakes),
        }

    def soft_assign(self, model: nn.Module, views: list[torch.Tensor]) -> torch.Tensor:
        return model(views)["A"]

    def embed(self, model: nn.Module, views: list[torch.Tensor]) -> torch.Tensor:
        """The attention-fused features the clustering head partitions."""
        return model(views)["fused"]

    def after_fit(self, views) -> None:
        self.fusion_weights_ = self.infer(self._tensors(views), lambda m, v: m(v)["weights"]).cpu().numpy()

