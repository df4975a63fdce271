"""Validation of the list of per-view arrays every method and scaler takes."""

from __future__ import annotations

from typing import Sequence

import numpy as np


def check_views(Xs: Sequence[np.ndarray], n_views: int | None = None) -> list[np.ndarray]:
    """Validate a list of per-view arrays (n_samples, n_features_v): same n, finite, 2-D; return float arrays."""
    if isinstance(Xs, np.ndarray) or not isinstance(Xs, (list, tuple)):
        raise TypeError(
            "Xs must be a list of per-view arrays [X1, X2, ...], each (n_samples, n_features); "
            f"got {type(Xs).__name__}. Wrap a single view as [X]."
        )
    if len(Xs) == 0:
        raise ValueError("Xs is empty: pass at least one view.")
    if n_views is not None and len(Xs) != n_views:
        raise ValueError(f"Expected {n_views} views (as seen by fit), got {len(Xs)}.")
    views = []
    for v, X in enumerate(Xs):
        X = np.asarray(X)
        if X.ndim != 2:
            raise ValueError(f"View {v} has shape {X.shape}; each view must be 2-D (n_samples, n_features).")
        if not np.issubdtype(X.dtype, np.number):
            raise TypeError(f"View {v} has dtype {X.dtype}; views must be numeric.")
        if not np.all(np.isfinite(X)):
            raise ValueError(f"View {v} contains NaN or inf; clean or impute it before clustering.")
        views.append(X.astype(np.float64, copy=False))
    n = {X.shape[0] for X in views}
    if len(n) != 1:
        raise ValueError(f"Views disagree on the number of samples: {[X.shape[0] for X in views]}.")
    return views
