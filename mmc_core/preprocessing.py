"""Per-view feature scaling applied before clustering: every method's estimator applies its own reading (its
`scaling` parameter), so the library and the experiment runner give one result (see docs/protocol.md).

A scaler's statistics are fitted on the data given to `fit` (transductive, as the papers' code does), view by view
and feature by feature, and kept: new samples are scaled with them. Inputs are never modified; results are new
float32 arrays. The label-free data rule (`preprocessing_rule`) picks "l2" for bag-of-words views, else "minmax".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from .views import check_views

Stats = tuple[np.ndarray, ...]


def _minmax_stats(X: np.ndarray) -> Stats:
    lo = X.min(axis=0)
    return lo, X.max(axis=0) - lo


def _minmax(X: np.ndarray, lo: np.ndarray, span: np.ndarray) -> np.ndarray:
    """Each feature to [0, 1] over the fitted samples; a constant feature becomes 0."""
    return np.divide(X - lo, span, out=np.zeros_like(X), where=span > 0)


def _zscore_stats(X: np.ndarray) -> Stats:
    return X.mean(axis=0), X.std(axis=0)


def _zscore(X: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """Each feature to mean 0, standard deviation 1 (population std) over the fitted samples; a constant feature
    becomes 0."""
    return np.divide(X - mean, std, out=np.zeros_like(X), where=std > 0)


def _no_stats(X: np.ndarray) -> Stats:
    return ()


def _l2(X: np.ndarray) -> np.ndarray:
    """Each row to unit Euclidean norm; an all-zero row stays zero."""
    norm = np.linalg.norm(X, axis=1, keepdims=True)
    return np.divide(X, norm, out=np.zeros_like(X), where=norm > 0)


# name -> (statistics of one view, the view scaled with them)
_SCALERS: dict[str, tuple[Callable[[np.ndarray], Stats], Callable[..., np.ndarray]]] = {
    "none": (_no_stats, lambda X: X),
    "minmax": (_minmax_stats, _minmax),
    "zscore": (_zscore_stats, _zscore),
    "l2": (_no_stats, _l2),
}

SCALING_METHODS: tuple[str, ...] = tuple(_SCALERS)
BY_FEATURE_TYPE = "by feature type"  # a reading that follows the label-free data rule (preprocessing_rule)
SCALING_READINGS: tuple[str, ...] = (*SCALING_METHODS, BY_FEATURE_TYPE)  # what an estimator's `scaling` accepts
DEFAULT_SCALING = "minmax"  # a method without its own reading, given no dataset entry to take one from
FLOAT32_MAX = float(np.finfo(np.float32).max)
COUNT_ZERO_SHARE = 0.3  # counts (integers): at least this share of zeros
TERM_WEIGHT_ZERO_SHARE = 0.9  # weighted bags of words (non-integer): at least this share of zeros


def check_float32_range(views: Sequence[np.ndarray]) -> None:
    """Refuse values beyond float32's range: finite in float64, they would become inf once cast to float32 (as every
    estimator's scaled views and the deep methods' tensors are)."""
    for v, X in enumerate(views):
        peak = float(np.max(np.abs(X), initial=0.0))
        if peak > FLOAT32_MAX:
            raise ValueError(f"View {v} has values up to |x| = {peak:.3g}, beyond float32's range (|x| <= "
                             f"{FLOAT32_MAX:.3g}): cast to float32 they become inf. Scale the features first (e.g. "
                             "scaling 'minmax' or 'zscore', or divide the view by a constant).")


def is_bag_of_words(X: np.ndarray) -> bool:
    """Whether a view is a bag of words: non-negative, and either integers with at least COUNT_ZERO_SHARE of zeros
    (counts) or at least TERM_WEIGHT_ZERO_SHARE of zeros (term weights). Dense descriptors and histograms have
    almost no zeros."""
    X = np.asarray(X)
    if not X.size or (X < 0).any():
        return False
    zeros = (X == 0).mean()
    return bool(zeros >= TERM_WEIGHT_ZERO_SHARE or (zeros >= COUNT_ZERO_SHARE and np.array_equal(X, np.round(X))))


def preprocessing_rule(views: Sequence[np.ndarray]) -> str:
    """The label-free data rule: "l2" (per-sample normalisation) when every view is a bag of words, else "minmax"."""
    return "l2" if all(is_bag_of_words(X) for X in views) else "minmax"


def rule_scaling(entry: Any) -> str:
    """The data rule's scaling for a registered dataset, from the registry's `bag_of_words` flag (a test checks the
    flag against `preprocessing_rule` on the dataset's files, so it is the decision an estimator makes from them)."""
    return "l2" if entry.get("bag_of_words") else "minmax"


def resolve_scaling(reading: str, views: Sequence[np.ndarray]) -> str:
    """The scaling method a reading names for these views: the data rule decides "by feature type"."""
    return preprocessing_rule(views) if reading == BY_FEATURE_TYPE else reading


@dataclass(eq=False)
class ViewScaler:
    """One scaling method (one of SCALING_METHODS) fitted view by view: `fit` keeps each view's statistics
    (min-max: per-feature minimum and range; zscore: mean and std; l2 and none: nothing), `transform` applies them
    to these or new samples of the same views and returns float32 copies. Statistics are computed in float64, then
    the result is cast: a result beyond float32's range is refused (check_float32_range)."""

    method: str = "none"

    def __post_init__(self) -> None:
        if self.method not in _SCALERS:
            raise ValueError(f"Unknown scaling method {self.method!r}; choose one of {', '.join(SCALING_METHODS)}.")

    def fit(self, views: Sequence[np.ndarray]) -> "ViewScaler":
        stats_of, _ = _SCALERS[self.method]
        views = check_views(views)
        self.stats_ = [stats_of(X) for X in views]
        self.n_features_ = [X.shape[1] for X in views]
        return self

    def transform(self, views: Sequence[np.ndarray]) -> list[np.ndarray]:
        if not hasattr(self, "stats_"):
            raise RuntimeError("ViewScaler is not fitted yet: call fit(views) first.")
        views = check_views(views, len(self.stats_))
        dims = [X.shape[1] for X in views]
        if dims != self.n_features_:
            raise ValueError(f"Views have {dims} features; the scaler was fitted on {self.n_features_}.")
        _, apply = _SCALERS[self.method]
        # Each scaler builds new arrays and astype copies, so the caller's arrays are never written to.
        scaled = [apply(X, *stats) for X, stats in zip(views, self.stats_)]
        check_float32_range(scaled)
        return [X.astype(np.float32) for X in scaled]

    def fit_transform(self, views: Sequence[np.ndarray]) -> list[np.ndarray]:
        return self.fit(views).transform(views)


def scale_views(views: Sequence[np.ndarray], method: str = "none") -> list[np.ndarray]:
    """Scale every view with `method` (one of SCALING_METHODS), statistics from these views; return float32 copies.

    "minmax": per feature to [0, 1]; "zscore": per feature to mean 0, std 1; "l2": each row to unit norm; "none":
    unchanged values.
    """
    return ViewScaler(method).fit_transform(views)


__all__ = [
    "BY_FEATURE_TYPE", "DEFAULT_SCALING", "SCALING_METHODS", "SCALING_READINGS", "ViewScaler", "check_float32_range",
    "is_bag_of_words", "preprocessing_rule", "resolve_scaling", "rule_scaling", "scale_views",
]
