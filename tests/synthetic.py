"""Planted multi-view data shared by the method tests (imported by test modules; pytest puts tests/ on sys.path)."""

from __future__ import annotations

import numpy as np

from mmc_core.preprocessing import scale_views


def blobs(rng: np.random.Generator, y: np.ndarray, dim: int, separation: float, std: float) -> np.ndarray:
    """One view: a Gaussian blob per class, the first two centres `separation` apart."""
    centres = rng.normal(size=(y.max() + 1, dim))
    centres *= separation / np.linalg.norm(centres[0] - centres[1])
    return centres[y] + std * rng.normal(size=(y.size, dim))


def three_view_blobs(n_per: int) -> tuple[list[np.ndarray], np.ndarray]:
    """3 well-separated clusters seen in 3 views of different dimension and noise level (raw features)."""
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(3), n_per)
    return [blobs(rng, y, 4, 8.0, 1.0), blobs(rng, y, 7, 8.0, 1.5), blobs(rng, y, 2, 8.0, 2.0)], y


def two_view_minmax() -> tuple[list[np.ndarray], np.ndarray]:
    """3 clusters x 60 samples, two views (20 and 30 features): cluster centre + unit Gaussian noise, min-max."""
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(3), 60)
    views = [2.0 * rng.normal(size=(3, d))[y] + rng.normal(size=(180, d)) for d in (20, 30)]
    return scale_views(views, "minmax"), y


def unequal_clusters(k: int = 8, smallest: int = 30, step: int = 10) -> tuple[list[np.ndarray], np.ndarray]:
    """k clusters of unequal sizes (smallest, smallest + step, ...), two views (16 and 24 features): a
    well-separated centre per cluster + unit Gaussian noise, min-max scaled."""
    rng = np.random.default_rng(1)
    y = np.repeat(np.arange(k), [smallest + step * c for c in range(k)])
    views = [3.0 * rng.normal(size=(k, d))[y] + rng.normal(size=(y.size, d)) for d in (16, 24)]
    return scale_views(views, "minmax"), y
