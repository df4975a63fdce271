"""Planted concepts: image and word features whose answer is known, to test multiple-clustering methods without CLIP.

Two concepts are planted independently in each image's feature: every class of every concept owns a random unit
direction of the embedding space (all directions orthonormal), and an image's feature is
    v = normalise( sum_c strength_c * a_c[y_c] + noise * g / sqrt(dim) ),   g ~ N(0, I),
so each concept's partition is there, the stronger concept dominating plain K-means on v. A concept's candidate
words mimic an LLM's list for it: its class names (relevant) plus words of the same kind that name no class present
(distractors: directions no image carries). Every word of a concept shares the concept's own direction u_c (as CLIP's
prompts "a photo with a colour of red / blue / ..." share their wording) and carries word noise:
    c = normalise( a_c[k] (relevant) or e_q (distractor) + word_share * u_c + word_noise * g / sqrt(dim) ).
A method asked for one concept must recover that concept's partition, not the other's, and candidate management must
end with the relevant words. Drawn from numpy's generator with the given seed (default 0), so a task is fixed.

Planted data has no text encoder: for the methods that learn a token inside a prompt (Multi-MaP), the prompt encoder
is the identity (a token is its own text feature, by either of Multi-MaP's prompt paths), a word's token is its
feature and the concept word's token is the concept's shared direction u_c.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np
import torch

from .task import ConceptTask

DEFAULT_CONCEPTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # concept: (class names, distractor words of the same kind)
    "colour": (("red", "green", "blue"),
               ("purple", "orange", "pink", "brown", "grey", "white", "black", "cyan", "magenta")),
    "shape": (("circle", "square", "triangle", "star"),
              ("hexagon", "oval", "diamond", "cross", "heart", "arrow", "crescent", "pentagon", "ring", "spiral",
               "trapezoid", "octagon")),
}
DEFAULT_STRENGTHS = {"colour": 1.0, "shape": 1.5}  # shape dominates plain K-means on the image features


def identity(tokens: torch.Tensor, path: str = "full") -> torch.Tensor:
    """The planted data's prompt encoder: a token is its own text feature, whichever text path is asked for (there
    is no text encoder whose path could differ)."""
    return tokens


def _normalise(X: np.ndarray) -> np.ndarray:
    return X / np.linalg.norm(X, axis=-1, keepdims=True)


@dataclass(frozen=True)
class PlantedImages:
    """The planted data set; `task(concept)` is the ConceptTask asking for one concept."""

    image_features: np.ndarray  # (n, dim)
    labels: Mapping[str, np.ndarray]  # concept -> (n,) class index
    words: Mapping[str, tuple[tuple[str, ...], np.ndarray, tuple[bool, ...]]]  # concept -> (names, features, relevant)
    class_names: Mapping[str, tuple[str, ...]]
    concept_directions: Mapping[str, np.ndarray]  # concept -> u_c, the direction its words share
    name: str

    def task(self, concept: str) -> ConceptTask:
        if concept not in self.labels:
            raise ValueError(f"{self.name} has concepts {sorted(self.labels)}, not {concept!r}.")
        names, features, relevant = self.words[concept]
        classes = self.class_names[concept]
        class_rows = [names.index(c) for c in classes]
        return ConceptTask(name=f"{self.name}@{concept}", concept=concept, image_features=self.image_features,
                           labels=self.labels[concept], n_clusters=len(classes), candidates=names,
                           candidate_features=features, class_names=classes,
                           class_features=features[class_rows], encoder_id="synthetic", relevant=relevant,
                           other_labels={c: y for c, y in self.labels.items() if c != concept},
                           prompt_encoder=identity, token_init=features.mean(axis=0), candidate_tokens=features,
                           concept_token=self.concept_directions[concept])


def planted_concepts(n: int = 600, dim: int = 64, strengths: Mapping[str, float] | None = None, noise: float = 3.0,
                     word_share: float = 0.5, word_noise: float = 0.3,
                     concepts: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]] | None = None,
                     distractors_per_class: int = 3, seed: int = 0) -> PlantedImages:
    """Planted data as the module docstring says: `n` images, classes of each concept drawn uniformly and
    independently; each concept's candidate list holds its classes and `distractors_per_class` distractors per class
    (so 2^2 M words by default: two halvings of dynamic candidate management leave M).

    The default noise (3.0) was set, before any multiple-clustering method was run on the data, so that neither
    baseline is perfect: K-means on the image features finds the shape partition when asked for three clusters
    (colour NMI about 0.01), and zero-shot assignment to the class names reaches colour NMI about 0.77."""
    concepts = dict(concepts or DEFAULT_CONCEPTS)
    strengths = dict(strengths or DEFAULT_STRENGTHS)
    if set(strengths) != set(concepts):
        raise ValueError(f"strengths name {sorted(strengths)}, concepts are {sorted(concepts)}.")
    n_dirs = sum(len(classes) + distractors_per_class * len(classes) + 1 for classes, _ in concepts.values())
    if n_dirs > dim:
        raise ValueError(f"{n_dirs} orthonormal directions need dim >= {n_dirs}, got {dim}.")
    rng = np.random.default_rng(seed)
    basis = iter(np.linalg.qr(rng.standard_normal((dim, dim)))[0].T)  # orthonormal rows
    V = np.zeros((n, dim))
    labels, words, class_names, directions = {}, {}, {}, {}
    for concept, (classes, spare) in concepts.items():
        if len(spare) < distractors_per_class * len(classes):
            raise ValueError(f"{concept}: {len(spare)} distractor words, {distractors_per_class * len(classes)} needed.")
        class_dirs = np.array([next(basis) for _ in classes])
        y = rng.integers(len(classes), size=n)
        V += strengths[concept] * class_dirs[y]
        shared = next(basis)
        directions[concept] = shared.astype(np.float32)
        distractors = spare[:distractors_per_class * len(classes)]
        word_dirs = np.vstack([class_dirs, [next(basis) for _ in distractors]])
        features = _normalise(word_dirs + word_share * shared + word_noise * rng.standard_normal(word_dirs.shape)
                              / np.sqrt(dim))
        order = rng.permutation(len(word_dirs))  # relevant words not first: no method may rely on the order
        names = tuple(str(w) for w in np.array(classes + distractors)[order])
        relevant = tuple(bool(i < len(classes)) for i in order)
        labels[concept], class_names[concept] = y, tuple(classes)
        words[concept] = (names, features[order].astype(np.float32), relevant)
    V += noise * rng.standard_normal((n, dim)) / np.sqrt(dim)
    return PlantedImages(image_features=_normalise(V).astype(np.float32), labels=labels, words=words,
                         class_names=class_names, concept_directions=directions, name="Planted")
