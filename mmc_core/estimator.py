"""The estimator face every clustering method shares: fit / predict / fit_predict on a list of views."""

from __future__ import annotations

import hashlib
import warnings
from typing import Any, ClassVar, Sequence

import numpy as np

from .params import SEED, Interval, validate_params


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


def select_view(views: Sequence[np.ndarray], view: int) -> np.ndarray:
    """The view a single-view method works on; a clear error when `view` is not a valid index."""
    if not 0 <= view < len(views):
        raise ValueError(
            f"view={view} is out of range: the data has {len(views)} view(s), valid indices 0..{len(views) - 1}."
        )
    return views[view]


def warn_constant_views(views: Sequence[np.ndarray]) -> None:
    """Warn about a view whose every feature is constant: it carries no information, and a method given only such
    views returns a partition of the row order, not of the data."""
    for v, X in enumerate(views):
        if len(X) > 1 and not np.any(X != X[0]):
            warnings.warn(f"View {v} is constant (every feature has zero variance over the {len(X)} samples): it "
                          "carries no information for clustering. Check how it was loaded, or drop it.",
                          UserWarning, stacklevel=4)


def resolve_seed(random_state: int | None) -> int:
    """The seed a fit uses: random_state itself, or a fresh one from the OS's entropy when it is None."""
    if random_state is None:
        return int(np.random.SeedSequence().generate_state(1)[0])
    return int(random_state)


def _fingerprint(views: Sequence[np.ndarray]) -> str:
    """Digest of the views' shapes and values: tells whether `predict` is given the data seen by `fit`."""
    h = hashlib.blake2b(digest_size=16)
    for X in views:
        h.update(repr(X.shape).encode())
        h.update(np.ascontiguousarray(X, dtype=np.float64).tobytes())
    return h.hexdigest()


class MultiViewClusterer:
    """Base class: subclasses set `labels_` in `_fit(views)`; `predict` returns them for the fitted data.

    Transductive methods (spectral, co-regularised) cannot label new samples; `predict` on other data
    raises. Methods that can (K-means family) override `_predict`.
    Class attributes: `reported_as` is the label the papers' tables use; `per_view = True` marks a
    single-view method (parameter `view`) that the experiment runner expands over the views;
    `default_scaling` is the feature scaling the runner applies when none is asked for (None: the dataset's).
    `parameter_constraints` (mmc_core.params) states what every constructor parameter accepts; it is checked at
    fit. random_state: an integer seed, or None for a fresh one drawn at fit (the same for every method); the
    seed used is `seed_`.
    """

    reported_as: ClassVar[str]
    per_view: ClassVar[bool] = False
    default_scaling: ClassVar[str | None] = None
    parameter_constraints: ClassVar[dict[str, Any]] = {"n_clusters": Interval(int, 1), "random_state": SEED}

    def __init__(self, n_clusters: int, random_state: int | None = 0):
        self.n_clusters = n_clusters
        self.random_state = random_state

    def fit(self, Xs: Sequence[np.ndarray], y: np.ndarray | None = None) -> "MultiViewClusterer":
        """Cluster the views. `y` is never used to cluster: deep methods only record per-epoch metrics with it
        (convergence plots); the other methods ignore it."""
        self._fit(self._begin_fit(Xs, y))
        self.labels_ = np.asarray(self.labels_, dtype=np.int64)
        return self

    def _begin_fit(self, Xs: Sequence[np.ndarray], y: np.ndarray | None) -> list[np.ndarray]:
        """Everything `fit` does before the method's own `_fit`: check parameters and data, draw the seed, note
        what `predict` checks later; returns the validated views."""
        validate_params(self)
        views = check_views(Xs)
        warn_constant_views(views)
        if views[0].shape[0] < self.n_clusters:
            raise ValueError(f"{views[0].shape[0]} samples cannot form {self.n_clusters} clusters.")
        if y is not None and len(y) != views[0].shape[0]:
            raise ValueError(f"y has {len(y)} labels for {views[0].shape[0]} samples.")
        self.n_views_ = len(views)
        self.n_features_ = [X.shape[1] for X in views]
        self._fit_fingerprint = _fingerprint(views)
        self._monitor_labels = None if y is None else np.asarray(y)
        self.seed_ = resolve_seed(self.random_state)
        return views

    def fit_predict(self, Xs: Sequence[np.ndarray], y: np.ndarray | None = None) -> np.ndarray:
        return self.fit(Xs, y).labels_

    def predict(self, Xs: Sequence[np.ndarray]) -> np.ndarray:
        return np.asarray(self._predict(self._check_fitted_views(Xs)), dtype=np.int64)

    def _check_fitted_views(self, Xs: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Validated views of new data for a fitted model: same number of views and features as at fit."""
        if not hasattr(self, "labels_"):
            raise RuntimeError(f"{type(self).__name__} is not fitted yet: call fit(Xs) first.")
        views = check_views(Xs, self.n_views_)
        dims = [X.shape[1] for X in views]
        if dims != self.n_features_:
            raise ValueError(f"Views have {dims} features; the model was fitted on {self.n_features_}.")
        return views

    def _fit(self, views: list[np.ndarray]) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _predict(self, views: list[np.ndarray]) -> np.ndarray:
        if _fingerprint(views) == self._fit_fingerprint:
            return self.labels_
        raise NotImplementedError(
            f"{type(self).__name__} is transductive: it labels only the data it was fitted on. "
            "Call fit_predict on the new data instead."
        )

    def get_params(self) -> dict:
        """Constructor parameters (for run identification and repr)."""
        return {k: v for k, v in vars(self).items() if not k.endswith("_") and not k.startswith("_")}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"


class SingleViewClusterer(MultiViewClusterer):
    """A single-view method applied to view `view` of the data; the runner expands it over every view."""

    per_view = True
    parameter_constraints: ClassVar[dict[str, Any]] = {"view": Interval(int, 0)}

    def __init__(self, n_clusters: int, random_state: int | None = 0, view: int = 0):
        super().__init__(n_clusters, random_state)
        self.view = view

    def _fit(self, views: list[np.ndarray]) -> None:
        self._fit_view(select_view(views, self.view))

    def _fit_view(self, X: np.ndarray) -> None:  # pragma: no cover - abstract
        raise NotImplementedError
