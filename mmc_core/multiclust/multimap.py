"""Multi-MaP: Multi-Modal Proxy Learning Towards Personalized Visual Multiple Clustering (Yao, Qian, Hu; CVPR 2024,
arXiv:2404.15655; public code github.com/Alexander-Yao/Multi-MaP). On a frozen CLIP, each image i gets a learnable
proxy token w_i in the text encoder's input space; the prompt "<template with w_i in place of *>" is encoded into
t_i = h(prompt; w_i), which is pulled towards the image feature x_i, while w_i is kept near the concept word u
(concept-level constraint) and near the image's reference word z_i, the candidate word whose prompt feature is nearest
to x_i (reference-word constraint):

    L = mean_i (1 - cos(x_i, t_i)) + alpha * MSE(w_i, u) + beta * MSE(w_i, z_i)

(MSE = mean squared difference over the batch and the token's coordinates). K-means on the t_i gives the clustering.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..deep import Batch
from ..deep.engine import Ctx
from ..params import Interval, Options
from .concept_clusterer import ConceptClusterer
from .task import ConceptTask
from .words import MULTIMAP_COMMIT
from .zeroshot import unit_rows

INTERPRETATION = f"""Our readings of Multi-MaP, from its public code (main.py and parse.py at {MULTIMAP_COMMIT[:7]}, the
README's commands) and the paper's Figure 2 as quoted in public summaries (its full text is not available here). The
loss is main.py's: torch's CosineEmbeddingLoss with target 1 (= mean 1 - cos, no negative pairs) plus alpha and beta
times MSELoss; the summaries call the alignment term contrastive, but the code has no negatives, and we follow the code.
The reference word z_i is the candidate whose prompt feature (template with the word) is nearest to the image feature,
as Figure 2's caption says ("according to the similarity between the prompt embeddings t_i and the image embeddings
x_i"); main.py compares the image with the bare words' features instead. z_i is chosen once, before training. main.py's
MSE targets, and the proxies' start, are text-encoder *outputs* (the features of the bare concept word and of z_i) used
as input tokens, which only type-checks because ViT-B/32's token width and embedding width are both 512; we take both
targets in the token space the proxy lives in, as the mean of the word's token embeddings (the code's own
`reference_word_embedding`), and start each proxy at its z_i (init="reference"; init="mean" starts every proxy at the
task's token_init, the mean of the candidate words' tokens, the single shared start of the authors' later
main_eval.py, 7fb6105). The concept word u is the name of the code's data folder (words.py: concept_word). Defaults from
parse.py: alpha = beta = 0.2, lr 0.005, batch 20, 50 epochs, weight decay 0 (the README's per-dataset settings are in
PUBLISHED_SETTINGS). The code's optimiser is Adagrad; the shared trainer's is Adam, which we run with betas (0, 0.999):
without momentum a proxy moves only in the batches that hold its image, as under Adagrad (with momentum every proxy
would keep drifting after its batch); constant lr, no weight decay. The code's batches are fixed contiguous blocks
shuffled as blocks; ours are reshuffled samples. The representation is the unit-norm prompt features t_i with the
learned proxies: main.py computes exactly these after training (it clusters nothing itself), and main_eval.py prints
their K-means scores first of five (then word, end-of-text, image and concatenated features' scores) without saying
which the paper reports. The prompt features t_i are computed as the code's encode_text_with_learnt_tokens computes them
(prompt_encoder="authors"): the token embeddings with the proxy in place of "*", CLIP's text transformer under its
causal mask, the end-of-text token's row, the projection, with no positional embedding and no final LayerNorm (CLIP's
own encode_text adds the first and applies the second); prompt_encoder="full" runs CLIP's full text path instead
(the default until a check against the code found the difference; on ViT-B/32 that check found the two features
60-94% apart)."""

# The README's commands, as MultiMaP keyword arguments (their Adagrad weight decays, 5e-5 and 1e-5, are not applied).
PUBLISHED_SETTINGS: dict[str, dict[str, float]] = {
    "Fruit": {"lr": 0.005, "alpha": 0.3, "beta": 0.4},
    "Card": {"lr": 0.005, "alpha": 0.2, "beta": 0.3},
}

INITS = ("reference", "mean")
# Text paths of a prompt holding the proxy (encoders.clip.PROMPT_PATHS, not imported here: open_clip loads only where a
# CLIP task is built): the code's encode_text_with_learnt_tokens, or CLIP's full encode_text
PROMPT_ENCODERS = ("authors", "full")


class ProxyTokens(nn.Module):
    """The per-image proxy tokens (an n x token_width table looked up by sample index) and the constraint targets:
    each image's reference-word token (a buffer, looked up by the same index) and the concept word's token."""

    def __init__(self, start: torch.Tensor, reference_tokens: torch.Tensor, concept_token: torch.Tensor):
        super().__init__()
        self.proxies = nn.Embedding.from_pretrained(start.clone(), freeze=False)
        self.register_buffer("reference_tokens", reference_tokens.clone())
        self.register_buffer("concept_token", concept_token.clone())

    def forward(self, index: torch.Tensor) -> torch.Tensor:
        return self.proxies(index)


class MultiMaP(ConceptClusterer):
    """Multi-MaP (module docstring and INTERPRETATION) on a ConceptTask with a prompt encoder: `fit_task(task)`.
    Named loss terms, each switchable off by `disable`: alignment (1 - cos(x_i, t_i), weight 1), concept (MSE to the
    concept word's token, weight alpha), reference (MSE to the reference word's token, weight beta). Parameters:
    alpha, beta, init ("reference" or "mean", the proxies' start), prompt_encoder ("authors": the text path of the
    authors' code, no positional embedding and no final LayerNorm; "full": CLIP's own; planted tasks, whose prompt
    encoder is the identity, compute the same under both), encode_chunk (prompts per text-encoder call at
    inference); trainer parameters via **kwargs. Transductive: the proxies belong to the fitted images. After fit:
    `features_` (the t_i, what K-means clusters), `reference_` (each image's reference word, an index into the
    task's candidates)."""

    reported_as: ClassVar[str] = "Multi-MaP"
    inference_chunk: ClassVar[int | None] = None  # embed needs every image's index: it chunks the prompts itself
    trainer_defaults: ClassVar[dict[str, Any]] = {"epochs": 50, "batch_size": 20, "lr": 0.005, "lr_gamma": 1.0}
    parameter_constraints: ClassVar[dict[str, Any]] = {
        "alpha": Interval(float, 0), "beta": Interval(float, 0), "init": Options(INITS),
        "prompt_encoder": Options(PROMPT_ENCODERS), "encode_chunk": Interval(int, 1),
    }
    # Parameters that act only through a real text encoder: a run on real images carries their value in its identity
    # even when left at the default (runs.ConceptRun.config), so that a record computed under another default is
    # not read back as this computation; planted runs, where they change nothing, keep the ids they shipped with.
    text_encoder_parameters: ClassVar[tuple[str, ...]] = ("prompt_encoder",)

    def __init__(self, n_clusters: int, random_state: int | None = 0, alpha: float = 0.2, beta: float = 0.2,
                 init: str = "reference", prompt_encoder: str = "authors", encode_chunk: int = 256, **kwargs):
        super().__init__(n_clusters, random_state, **kwargs)
        self.alpha, self.beta, self.init, self.encode_chunk = alpha, beta, init, encode_chunk
        self.prompt_encoder = prompt_encoder

    # ----------------------------------------------------------------- task face
    def take_task(self, task: ConceptTask) -> None:
        """Multi-MaP needs the task's words and prompt encoder."""
        missing = [name for name in ("prompt_encoder", "candidate_tokens", "concept_token")
                   if getattr(task, name) is None]
        if self.init == "mean" and task.token_init is None:
            missing.append("token_init")
        if missing:
            raise ValueError(f"Multi-MaP learns a proxy token inside the prompt, so it needs the task's text encoder "
                             f"side, but {task.name} has no {', '.join(missing)}. Build the task with a CLIP encoder "
                             f"(mmc_core.multiclust.images.build_task), or give a planted task these fields.")
        self._task = task

    # ----------------------------------------------------------------- the contract
    def _fit(self, views: list[np.ndarray]) -> None:
        task = getattr(self, "_task", None)
        if task is None:
            raise RuntimeError("Multi-MaP needs the concept's words and prompt encoder: use fit_task(task).")
        if len(views) != 1 or views[0].shape != task.image_features.shape:
            raise ValueError(f"Multi-MaP takes one view, the task's image features {task.image_features.shape}; got "
                             f"{[X.shape for X in views]}.")
        similarity = unit_rows(views[0]) @ unit_rows(task.candidate_features).T
        self.reference_ = similarity.argmax(axis=1)
        super()._fit(views)

    def build(self, dims: list[int]) -> nn.Module:
        task = self._task
        reference = torch.as_tensor(np.asarray(task.candidate_tokens)[self.reference_], dtype=torch.float32)
        if self.init == "reference":
            start = reference
        else:
            start = torch.as_tensor(task.token_init, dtype=torch.float32).expand_as(reference)
        return ProxyTokens(start, reference, torch.as_tensor(task.concept_token, dtype=torch.float32).flatten())

    def trainable_parameters(self, model: nn.Module) -> list[dict[str, Any]]:
        """The proxies alone, under Adam without momentum (INTERPRETATION)."""
        return [{"params": list(model.proxies.parameters()), "betas": (0.0, 0.999)}]

    def prompt_features(self, proxies: torch.Tensor) -> torch.Tensor:
        """t: the unit-norm text features of the prompt with each proxy token in place of the placeholder, by the
        text path `prompt_encoder` names."""
        return F.normalize(self._task.prompt_encoder(proxies, self.prompt_encoder), dim=1)

    def forward(self, model: nn.Module, batch: Batch, ctx: Ctx) -> dict[str, torch.Tensor]:
        w = model(batch.index)
        return {"w": w, "t": self.prompt_features(w)}

    def loss_weights(self) -> dict[str, float]:
        return {"alignment": 1.0, "concept": self.alpha, "reference": self.beta}

    def loss_terms(self, model: nn.Module, out: dict[str, torch.Tensor], batch: Batch,
                   ctx: Ctx) -> dict[str, torch.Tensor]:
        w = out["w"]
        return {
            "alignment": (1 - F.cosine_similarity(batch[0], out["t"], dim=1)).mean(),
            "concept": F.mse_loss(w, model.concept_token.expand_as(w)),
            "reference": F.mse_loss(w, model.reference_tokens[batch.index]),
        }

    def embed(self, model: nn.Module, views: list[torch.Tensor]) -> torch.Tensor:
        """The t_i of the fitted images (their proxies are all there is: transductive), `encode_chunk` at a time."""
        n = model.proxies.num_embeddings
        self.check_fitted_images(n, len(views[0]))
        index = torch.arange(n, device=views[0].device)
        return torch.cat([self.prompt_features(model(chunk)) for chunk in torch.split(index, self.encode_chunk)])
