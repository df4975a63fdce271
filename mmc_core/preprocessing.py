"""Per-view feature scaling applied before clustering (a per-dataset setting, see docs/protocol.md).

Every statistic is fitted on the whole dataset given (transductive, as the papers' code does), view by
view and feature by feature. Inputs are never modified; the result is a list of new float32 arrays.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from .methods.base import check_views


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


def scale_views(views: Sequence[np.ndarray], method: str = "none") -> list[np.ndarray]:
    """Scale every view with `method` (one of SCALING_METHODS); return float32 copies.

    "minmax": per feature to [0, 1]; "zscore": per feature to mean 0, std 1; "l2": each row to unit
    norm; "none": unchanged values. Statistics are computed in float64, then cast.
    """
    if method not in _SCALERS:
        raise ValueError(f"Unknown scaling method {method!r}; choose one of {', '.join(SCALING_METHODS)}.")
    scaler = _SCALERS[method]
    # The scalers build new arrays and astype copies, so the caller's arrays are never written to.
    return [(X if scaler is None else scaler(X)).astype(np.float32) for X in check_views(views)]


__all__ = ["SCALING_METHODS", "scale_views"]
