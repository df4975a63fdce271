"""A personalized multiple-clustering task: one image set, one user concept (e.g. "colour"), frozen features.

Multiple clustering asks for one partition per concept of the same images. A task holds what every method of the
Multi-DProxy table works on: the images' frozen image features, the candidate words proposed for the concept (an
LLM's list in the papers; our own lists where none was published) with their frozen text features, and the true
class names of the concept (only CLIP_label, the zero-shot row "with ground-truth labels", may use them). The labels
are for scoring only. `prompt_encoder(tokens, path="full")` gives differentiable text features of the prompt with a
learnable token in place of "*" (Multi-MaP's proxy token), by CLIP's full text path ("full") or by the one Multi-MaP's
code runs ("authors": no positional embedding, no final LayerNorm; encoders.clip); it is None where the task has no
text encoder.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping

import numpy as np
import torch

PromptEncoder = Callable[..., torch.Tensor]  # (n, token_width) proxy tokens[, path] -> (n, d) text features


@dataclass(frozen=True)
class ConceptTask:
    """Everything a multiple-clustering method sees for one (image set, concept), plus the labels for scoring."""

    name: str  # "<image set>@<concept>", e.g. "CMUface@pose"
    concept: str
    image_features: np.ndarray  # (n, d), rows L2-normalised
    labels: np.ndarray  # (n,) ground truth of this concept: scoring only
    n_clusters: int
    candidates: tuple[str, ...]  # candidate words for the concept
    candidate_features: np.ndarray  # (K, d) text features of the candidates' prompts, rows L2-normalised
    class_names: tuple[str, ...]  # the concept's true class names (CLIP_label only)
    class_features: np.ndarray  # (M, d) text features of the class names' prompts
    encoder_id: str  # which frozen encoder made the features (model@weights), "synthetic" for planted data
    prompt_encoder: PromptEncoder | None = field(default=None, compare=False, repr=False)
    token_init: np.ndarray | None = field(default=None, compare=False, repr=False)  # (token_width,) proxy token start
    relevant: tuple[bool, ...] | None = None  # planted data only: which candidates name a class of the concept
    other_labels: Mapping[str, np.ndarray] = field(default_factory=dict, compare=False, repr=False)
    # the image set's other concepts' labels (scoring only: does a representation follow the asked concept or another?)
    # The words in the prompt encoder's input space (Multi-MaP's reference-word and concept-level constraints):
    candidate_tokens: np.ndarray | None = field(default=None, compare=False, repr=False)  # (K, token_width)
    concept_token: np.ndarray | None = field(default=None, compare=False, repr=False)  # (token_width,) concept word

    def __post_init__(self) -> None:
        n, d = self.image_features.shape
        if len(self.labels) != n:
            raise ValueError(f"{self.name}: {len(self.labels)} labels for {n} images.")
        if self.candidate_features.shape != (len(self.candidates), d):
            raise ValueError(f"{self.name}: candidate features {self.candidate_features.shape}, expected "
                             f"({len(self.candidates)}, {d}).")
        if self.class_features.shape != (len(self.class_names), d):
            raise ValueError(f"{self.name}: class features {self.class_features.shape}, expected "
                             f"({len(self.class_names)}, {d}).")
        if self.relevant is not None and len(self.relevant) != len(self.candidates):
            raise ValueError(f"{self.name}: {len(self.relevant)} relevance flags for {len(self.candidates)} candidates.")
        if self.candidate_tokens is not None and len(self.candidate_tokens) != len(self.candidates):
            raise ValueError(f"{self.name}: {len(self.candidate_tokens)} candidate tokens for {len(self.candidates)} "
                             f"candidates.")

    @property
    def n_samples(self) -> int:
        return int(self.image_features.shape[0])
