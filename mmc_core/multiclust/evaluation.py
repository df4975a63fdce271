"""How the multiple-clustering field scores a representation: per concept, K-means on the learned features with
seeds 0-9, NMI and RI of each partition against the concept's labels, averaged over the seeds."""

from __future__ import annotations

import numpy as np

from ..kmeans import run_kmeans
from ..metrics import evaluate

KMEANS_SEEDS = tuple(range(10))


def kmeans_scores(features: np.ndarray, labels: np.ndarray, n_clusters: int,
                  seeds: tuple[int, ...] = KMEANS_SEEDS) -> dict[str, float]:
    """Mean NMI and RI (and their standard deviations over the K-means seeds) of K-means on `features`."""
    scores = [evaluate(labels, run_kmeans(features, n_clusters, seed).labels_) for seed in seeds]
    out = {}
    for metric in ("nmi", "ri"):
        values = np.array([s[metric] for s in scores])
        out[metric], out[f"{metric}_std"] = float(values.mean()), float(values.std())
    return out


def partition_scores(labels: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    """NMI and RI of one fixed partition (zero-shot assignment: no K-means seeds to average over)."""
    score = evaluate(labels, pred)
    return {"nmi": score["nmi"], "ri": score["ri"], "nmi_std": 0.0, "ri_std": 0.0}
