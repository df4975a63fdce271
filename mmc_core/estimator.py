"""The estimator face every clustering method shares: fit / predict / fit_predict on a list of views."""

from __future__ import annotations

import hashlib
import warnings
from typing import Any, ClassVar, Sequence

import numpy as np

from .params import SEED, Interval, NoneValue, Options, validate_params
from .preprocessing import DEFAULT_SCALING, SCALING_READINGS, ViewScaler, resolve_scaling
from .views import check_views


def select_view(views: Sequence[np.ndarray], view: int) -> np.ndarray:
    """The view a single-view method works on; a clear error when `view` is not a valid index."""
    if not 0 <= view < len(views):
        raise ValueError(
            f"view={view} is out of range: the data has {len(views)} view(s), valid indices 0..{len(views) - 1}."
        )
    return views[view]


def warn_constant_views(views: Sequence[np.ndarray]) -> None:
    """Warn about a view whose every feature is constant: it carries no information, and a method given only such
    views returns a partition of the row order, not of the data (the fit goes on: the warning says so)."""
    constant = [v for v, X in enumerate(views) if len(X) > 1 and not np.any(X != X[0])]
    for v in constant:
        consequence = ("every view is, so the partition follows the order of the rows, not the data"
                       if len(constant) == len(views) else "the partition comes from the other views alone")
        warnings.warn(f"View {v} is constant (every feature has zero variance over the {len(views[v])} samples): it "
                      f"carries no information for clustering, and {consequence}. Check how it was loaded, or drop "
                      "it.", UserWarning, stacklevel=4)


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
    `default_scaling` is the method's reading of the feature scaling (mmc_core.preprocessing), applied when
    `scaling` is None (None: the dataset's registered scaling in the runner, DEFAULT_SCALING without a dataset).
    `parameter_constraints` (mmc_core.params) states what every constructor parameter accepts; it is checked at
    fit. random_state: an integer seed, or None for a fresh one drawn at fit (the same for every method); the
    seed used is `seed_`. scaling: how `fit` scales the views before clustering (preprocessing.SCALING_READINGS:
    "none", "minmax", "zscore", "l2", or "by feature type" for the label-free data rule), None for the method's
    reading; the scaling applied is `scaling_`, its statistics (fitted on the data given to `fit`) are kept in
    `scaler_` and applied to the data given to `predict`. The views are clustered in float32 precision, as the
    experiment runner's are.
    """

    reported_as: ClassVar[str]
    per_view: ClassVar[bool] = False
    default_scaling: ClassVar[str | None] = None
    parameter_constraints: ClassVar[dict[str, Any]] = {"n_clusters": Interval(int, 1), "random_state": SEED,
                                                       "scaling": [NoneValue(), Options(SCALING_READINGS)]}

    def __init__(self, n_clusters: int, random_state: int | None = 0, scaling: str | None = None):
        self.n_clusters = n_clusters
        self.random_state = random_state
        self.scaling = scaling

    def fit(self, Xs: Sequence[np.ndarray], y: np.ndarray | None = None) -> "MultiViewClusterer":
        """Cluster the views. `y` is never used to cluster: deep methods only record per-epoch metrics with it
        (convergence plots); the other methods ignore it."""
        self._fit(self._begin_fit(Xs, y))
        self.labels_ = np.asarray(self.labels_, dtype=np.int64)
        return self

    def _begin_fit(self, Xs: Sequence[np.ndarray], y: np.ndarray | None) -> list[np.ndarray]:
        """Everything `fit` does before the method's own `_fit`: check parameters and data, fit the scaling, draw the
        seed, note what `predict` checks later; returns the validated views, scaled."""
        validate_params(self)
        views = check_views(Xs)
        warn_constant_views(views)
        if views[0].shape[0] < self.n_clusters:
            raise ValueError(f"{views[0].shape[0]} samples cannot form {self.n_clusters} clusters.")
        if y is not None and len(y) != views[0].shape[0]:
            raise ValueError(f"y has {len(y)} labels for {views[0].shape[0]} samples.")
        self.n_views_ = len(views)
        self.n_features_ = [X.shape[1] for X in views]
        self.scaling_ = resolve_scaling(self.scaling_reading(), views)
        self.scaler_ = ViewScaler(self.scaling_).fit(views)
        views = self._scaled(views)
        self._fit_fingerprint = _fingerprint(views)
        self._monitor_labels = None if y is None else np.asarray(y)
        self.seed_ = resolve_seed(self.random_state)
        return views

    def scaling_reading(self) -> str:
        """The scaling this estimator applies: its `scaling`, else the method's `default_scaling`, else
        DEFAULT_SCALING ("by feature type" is decided from the views at fit)."""
        return self.scaling or type(self).default_scaling or DEFAULT_SCALING

    def _scaled(self, views: list[np.ndarray]) -> list[np.ndarray]:
        """Validated views scaled with the fitted statistics: float32 values, held as float64 for the methods."""
        return [X.astype(np.float64) for X in self.scaler_.transform(views)]

    def fit_predict(self, Xs: Sequence[np.ndarray], y: np.ndarray | None = None) -> np.ndarray:
        return self.fit(Xs, y).labels_

    def predict(self, Xs: Sequence[np.ndarray]) -> np.ndarray:
        """Cluster labels of `Xs`, scaled with the statistics fitted at `fit` (transductive methods: the fitted data
        only)."""
        return np.asarray(self._predict(self._check_fitted_views(Xs)), dtype=np.int64)

    def _check_fitted_views(self, Xs: Sequence[np.ndarray]) -> list[np.ndarray]:
        """New data as the fitted model reads it: validated (same number of views and features as at fit), then
        scaled with the statistics fitted at fit."""
        if not hasattr(self, "labels_"):
            raise RuntimeError(f"{type(self).__name__} is not fitted yet: call fit(Xs) first.")
        views = check_views(Xs, self.n_views_)
        dims = [X.shape[1] for X in views]
        if dims != self.n_features_:
            raise ValueError(f"Views have {dims} features; the model was fitted on {self.n_features_}.")
        return self._scaled(views)

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

    def __init__(self, n_clusters: int, random_state: int | None = 0, view: int = 0, scaling: str | None = None):
        super().__init__(n_clusters, random_state, scaling)
        self.view = view

    def _fit(self, views: list[np.ndarray]) -> None:
        self._fit_view(select_view(views, self.view))

    def _fit_view(self, X: np.ndarray) -> None:  # pragma: no cover - abstract
        raise NotImplementedError
