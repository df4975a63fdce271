"""Label-free selection among readings: the stability criterion and the count-feature rule."""

from __future__ import annotations

import numpy as np
import pytest

from mmc_core.experiments.selection import is_bag_of_words, preprocessing_rule, seed_stability


def test_stability_is_one_for_relabelled_copies_and_low_for_unrelated_partitions():
    p = np.repeat([0, 1, 2], 20)
    assert seed_stability([p, (p + 1) % 3, p]) == pytest.approx(1.0)  # ARI ignores the cluster names
    rng = np.random.default_rng(0)
    assert seed_stability([rng.integers(3, size=60) for _ in range(4)]) < 0.1
    assert np.isnan(seed_stability([p]))
    with pytest.raises(ValueError, match="different numbers of samples"):
        seed_stability([p, p[:-1]])


def test_count_views_are_told_from_continuous_ones():
    rng = np.random.default_rng(0)
    counts = rng.poisson(0.5, size=(50, 40)).astype(float)  # ~60% zeros
    assert is_bag_of_words(counts)
    assert not is_bag_of_words(counts + 0.5)  # not integers
    assert not is_bag_of_words(rng.random((50, 40)))  # continuous
    assert not is_bag_of_words(counts - 1)  # negative values
    assert not is_bag_of_words(counts + 1)  # integers but no zeros: not a sparse count
    weights = np.where(rng.random((50, 400)) < 0.95, 0.0, rng.random((50, 400)))  # tf-idf-like: 95% zeros
    assert is_bag_of_words(weights) and not is_bag_of_words(np.where(weights == 0, 0.0, weights)[:, :1] + 0.1)
    assert preprocessing_rule([counts, counts]) == "l2"
    assert preprocessing_rule([counts, rng.random((50, 3))]) == "minmax"
