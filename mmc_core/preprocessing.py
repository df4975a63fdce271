"""Per-view feature scaling applied before clustering (a per-dataset setting, see docs/protocol.md).

Every statistic is fitted on the whole dataset given (transductive, as the papers' code does), view by
view and feature by feature. Inputs are never modified; the result is a list of new float32 arrays.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from .estimator import check_views


def _minmax(X: np.ndarray) -> np.ndarray:
    """Each feature to [0, 1]; a constant feature becomes 0."""
    lo = X.min(axis=0)
    span = X.max(axis=0) - lo
    return np.divide(X - lo, span, out=np.zeros_like(X), where=span > 0)


def _zscore(X: np.ndarray) -> np.ndarray:
    """Each feature to mean 0, standard deviation 1 (population std); a constant feature becomes 0."""
    std = X.std(axis=0)
    return np.divide(X - X.mean(axis=0), std, out=np.zeros_like(X), where=std > 0)


def _l2(X: np.ndarray) -> np.ndarray:
    """Each row to unit Euclidean norm; an all-zero row stays zero."""
    norm = np.linalg.norm(X, axis=1, keepdims=True)
    return np.divide(X, norm, out=np.zeros_like(X), where=norm > 0)


_SCALERS: dict[str, Callable[[np.ndarray], np.ndarray] | None] = {
    "none": None,
    "minmax": _minmax,
    "zscore": _zscore,
    "l2": _l2,
}

SCALING_METHODS: tuple[str, ...] = tuple(_SCALERS)
FLOAT32_MAX = float(np.finfo(np.float32).max)


def check_float32_range(views: Sequence[np.ndarray]) -> None:
    """Refuse values beyond float32's range: finite in float64, they would become inf once cast to float32 (as
    scale_views' results and the deep methods' tensors are)."""
    for v, X in enumerate(views):
        peak = float(np.max(np.abs(X), initial=0.0))
        if peak > FLOAT32_MAX:
            raise ValueError(f"View {v} has values up to |x| = {peak:.3g}, beyond float32's range (|x| <= "
                             f"{FLOAT32_MAX:.3g}): cast to float32 they become inf. Scale the features first (e.g. "
                             "scaling 'minmax' or 'zscore', or divide the view by a constant).")


def scale_views(views: Sequence[np.ndarray], method: str = "none") -> list[np.ndarray]:
    """Scale every view with `method` (one of SCALING_METHODS); return float32 copies.

    "minmax": per feature to [0, 1]; "zscore": per feature to mean 0, std 1; "l2": each row to unit
    norm; "none": unchanged values. Statistics are computed in float64, then cast: a result beyond float32's range
    is refused (check_float32_range).
    """
    if method not in _SCALERS:
        raise ValueError(f"Unknown scaling method {method!r}; choose one of {', '.join(SCALING_METHODS)}.")
    scaler = _SCALERS[method]
    views = check_views(views)
    # The scalers build new arrays and astype copies, so the caller's arrays are never written to.
    scaled = [X if scaler is None else scaler(X) for X in views]
    check_float32_range(scaled)
    return [X.astype(np.float32) for X in scaled]


BY_FEATURE_TYPE = "by feature type"  # a method's default_scaling that follows the label-free data rule


def rule_scaling(entry) -> str:
    """The label-free data rule's scaling for a registered dataset: "l2" (per sample) when its views are bags of words
    (the registry's `bag_of_words` flag, which a test checks against experiments.selection.preprocessing_rule on the
    files), else "minmax" (per feature)."""
    return "l2" if entry.get("bag_of_words") else "minmax"


__all__ = ["BY_FEATURE_TYPE", "SCALING_METHODS", "check_float32_range", "rule_scaling", "scale_views"]
