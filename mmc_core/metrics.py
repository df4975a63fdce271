"""Clustering metrics as the papers use them: ACC (Hungarian), NMI, PUR, ARI, RI, F.

All are fractions in [0, 1] except ARI, which is chance-adjusted and lies in [-1, 1]."""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn import metrics as skm

METRICS = ("acc", "nmi", "pur", "ari", "ri", "f")


def _label_vector(labels, name: str) -> np.ndarray:
    """`labels` as a 1-D array; None, a scalar or a matrix is refused (each would otherwise score a perfect 1.0 or
    be flattened into a different labelling)."""
    if labels is None:
        raise TypeError(f"{name} is None; expected a 1-D array of labels, one per sample.")
    array = np.asarray(labels)
    if array.ndim == 0:
        raise TypeError(f"{name} is the scalar {labels!r}; expected a 1-D array of labels, one per sample.")
    if array.ndim != 1:
        raise ValueError(f"{name} has shape {array.shape}; expected a 1-D array of labels, one per sample "
                         "(flatten a column vector with .ravel() first).")
    return array


def _check_labels(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    y_true = _label_vector(y_true, "y_true")
    y_pred = _label_vector(y_pred, "y_pred")
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has {y_true.size} labels but y_pred has {y_pred.size}; they must match.")
    if y_true.size == 0:
        raise ValueError("Cannot evaluate an empty labelling.")
    return y_true, y_pred


def contingency(y_true, y_pred) -> np.ndarray:
    """Counts of (true class, predicted cluster) pairs: rows = classes, columns = clusters."""
    y_true, y_pred = _check_labels(y_true, y_pred)
    return skm.cluster.contingency_matrix(y_true, y_pred)


def accuracy(y_true, y_pred) -> float:
    """Best one-to-one matching of clusters to classes (Hungarian algorithm), as a fraction of samples."""
    c = contingency(y_true, y_pred)
    rows, cols = linear_sum_assignment(-c)
    return float(c[rows, cols].sum() / c.sum())


def purity(y_true, y_pred) -> float:
    """Each cluster votes for its majority class; many clusters may pick the same class, so PUR >= ACC."""
    c = contingency(y_true, y_pred)
    return float(c.max(axis=0).sum() / c.sum())


def pair_f_score(y_true, y_pred) -> float:
    """F-measure over sample pairs: precision/recall of 'same cluster' against 'same class'."""
    c = contingency(y_true, y_pred).astype(np.float64)
    same_both = (c * (c - 1)).sum() / 2
    same_pred = (c.sum(axis=0) * (c.sum(axis=0) - 1)).sum() / 2
    same_true = (c.sum(axis=1) * (c.sum(axis=1) - 1)).sum() / 2
    if same_both == 0:
        return 0.0
    precision, recall = same_both / same_pred, same_both / same_true
    return float(2 * precision * recall / (precision + recall))


def evaluate(y_true, y_pred, nmi_average: str = "arithmetic") -> dict[str, float]:
    """All metrics of the papers' tables. `nmi_average`: arithmetic (sklearn default, MFLVC family) or geometric
    (DDC/SiMVC family), min, max."""
    y_true, y_pred = _check_labels(y_true, y_pred)
    return {
        "acc": accuracy(y_true, y_pred),
        "nmi": float(skm.normalized_mutual_info_score(y_true, y_pred, average_method=nmi_average)),
        "pur": purity(y_true, y_pred),
        "ari": float(skm.adjusted_rand_score(y_true, y_pred)),
        "ri": float(skm.rand_score(y_true, y_pred)),
        "f": pair_f_score(y_true, y_pred),
    }
