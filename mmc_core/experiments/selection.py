"""Label-free choices among readings of what a paper leaves open.

Two rules that never look at labels:
- a data-driven one for preprocessing: bag-of-words views (counts: non-negative integers, many zeros; or term
  weights such as tf-idf: non-negative, nearly all zeros) are normalised per sample (l2 rows), other views per
  feature (min-max), decided from the features' type alone (`preprocessing_rule`, kept in mmc_core.preprocessing:
  every estimator applies it for the reading "by feature type");
- a model-selection criterion for the rest: the reading whose seeds agree most with each other, i.e. the highest mean
  pairwise ARI of the seeds' partitions (`seed_stability`) — a reading whose result depends less on the seed.
The reading labels would pick is reported beside it, marked "oracle", and never adopted silently
(experiments.sensitivity.select applies both rules to a study's runs).
"""

from __future__ import annotations

from itertools import combinations
from typing import Sequence

import numpy as np
from sklearn.metrics import adjusted_rand_score

from ..preprocessing import is_bag_of_words, preprocessing_rule  # the data rule lives with the scalers it picks

__all__ = ["is_bag_of_words", "preprocessing_rule", "seed_stability"]


def seed_stability(partitions: Sequence[Sequence[int]]) -> float:
    """Mean ARI over every pair of the seeds' partitions of the same samples (1: every seed gives the same
    partition); NaN with fewer than two seeds."""
    if len(partitions) < 2:
        return float("nan")
    lengths = {len(p) for p in partitions}
    if len(lengths) != 1:
        raise ValueError(f"The partitions cover different numbers of samples: {sorted(lengths)}.")
    return float(np.mean([adjusted_rand_score(a, b) for a, b in combinations(partitions, 2)]))
