"""The training-free rows of the Multi-DProxy tables, on a task's frozen CLIP features.

CLIP_GPT ("zero-shot") and CLIP_label ("with ground-truth labels") assign each image to the word whose prompt feature
is nearest by cosine: among the candidate words (an LLM's list) or among the concept's true class names. The result is a
fixed partition (`partition_`, scored by partition_scores). "K-means (CLIP)" clusters the image features themselves
(`features_`, scored by kmeans_scores): the representation that knows nothing of the user's concept.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from ..params import SEED, Options, validate_params
from .task import ConceptTask

REPORTED_AS = {"candidates": "CLIP_GPT", "classes": "CLIP_label"}


def unit_rows(X: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (cosine = dot product)."""
    X = np.asarray(X, dtype=np.float64)
    return X / np.linalg.norm(X, axis=1, keepdims=True)


class ClipZeroShot:
    """Zero-shot assignment to the nearest word's prompt feature: `words="candidates"` (CLIP_GPT) or `"classes"`
    (CLIP_label). Deterministic: random_state is accepted for the common interface and not used. After fit_task:
    `partition_` (n,), an index into `vocabulary_` (the words assigned among), so a word no image is nearest to simply
    names no cluster. `reported_as` depends on `words` (REPORTED_AS), so it is a property, not a class attribute."""

    parameter_constraints: ClassVar[dict[str, Any]] = {"words": Options(tuple(REPORTED_AS)), "random_state": SEED}

    def __init__(self, words: str = "candidates", random_state: int | None = 0):
        self.words = words
        self.random_state = random_state

    @property
    def reported_as(self) -> str:
        return REPORTED_AS[self.words]

    def fit_task(self, task: ConceptTask) -> "ClipZeroShot":
        validate_params(self)
        if self.words == "candidates":
            self.vocabulary_, word_features = task.candidates, task.candidate_features
        else:
            self.vocabulary_, word_features = task.class_names, task.class_features
        similarity = unit_rows(task.image_features) @ unit_rows(word_features).T
        self.partition_ = similarity.argmax(axis=1).astype(np.int64)
        return self


class ClipKMeans:
    """K-means on the CLIP image features: `features_` is the task's image features, unchanged (the evaluation runs
    K-means with seeds 0-9 on them). random_state is accepted for the common interface and not used."""

    reported_as: ClassVar[str] = "K-means (CLIP)"
    parameter_constraints: ClassVar[dict[str, Any]] = {"random_state": SEED}

    def __init__(self, random_state: int | None = 0):
        self.random_state = random_state

    def fit_task(self, task: ConceptTask) -> "ClipKMeans":
        validate_params(self)
        self.features_ = np.array(task.image_features, copy=True)
        return self
