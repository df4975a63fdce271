"""A ConceptTask for a registered image set (CMUface, Card, CIFAR-10, ...) on a frozen CLIP encoder.

The image features, the candidate words' and the class names' prompt features come from the feature cache
(mmc_core.encoders: computed once per encoder); the words and the prompt template from words.py. The task also carries
what Multi-MaP needs of the text encoder: a differentiable prompt encoder for a proxy token in place of "*", and the
words' token embeddings (the mean of each word's token embeddings).
"""

from __future__ import annotations

import os

import numpy as np
import torch

from ..data.loaders import load_image_dataset
from ..encoders import ClipEncoder, image_features, text_features
from .task import ConceptTask, PromptEncoder
from .words import class_words, word_list


def prompt_encoder(encoder: ClipEncoder, template: str) -> PromptEncoder:
    """proxy tokens (n, token_width) -> text features (n, embed_dim), not normalised, of `template` with each token in
    place of its placeholder; differentiable in the tokens, returned on the tokens' device whatever the encoder's.
    `path`: CLIP's full text path ("full") or Multi-MaP's code's ("authors"; ClipEncoder.encode_prompts_with_token)."""
    def encode(tokens: torch.Tensor, path: str = "full") -> torch.Tensor:
        return encoder.encode_prompts_with_token(template, tokens, path).to(tokens.device)
    return encode


def word_tokens(encoder: ClipEncoder, words: tuple[str, ...] | list[str]) -> np.ndarray:
    """(len(words), token_width) float32: each word's mean token embedding."""
    return np.stack([encoder.word_token_embedding(w).float().cpu().numpy() for w in words]).astype(np.float32)


def build_task(dataset: str, concept: str, encoder: ClipEncoder, data_dir: str | os.PathLike | None = None,
               resolution: int | None = None) -> ConceptTask:
    """The task asking for `concept` of the image set `dataset`, with `encoder`'s features (cached); `resolution`:
    CMUface's (see load_image_dataset). The class names are the registry's classes as words (words.class_words); the
    image set's other clusterings go into `other_labels`."""
    words = word_list(dataset, concept)
    images = load_image_dataset(dataset, data_dir, resolution)
    features = image_features(dataset, encoder, data_dir, resolution)
    classes = class_words(dataset, concept, images.class_names[concept])
    candidate_tokens = word_tokens(encoder, words.words)
    return ConceptTask(
        name=f"{images.name}@{concept}", concept=concept, image_features=features, labels=images.labels[concept],
        n_clusters=len(classes), candidates=words.words,
        candidate_features=text_features(words.prompts(words.words), encoder), class_names=classes,
        class_features=text_features(words.prompts(classes), encoder), encoder_id=encoder.id,
        prompt_encoder=prompt_encoder(encoder, words.template), token_init=candidate_tokens.mean(axis=0),
        other_labels={c: y for c, y in images.labels.items() if c != concept},
        candidate_tokens=candidate_tokens, concept_token=word_tokens(encoder, [words.concept_word])[0],
    )
