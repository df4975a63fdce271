"""Extra outputs a run can record beside its labels, for the figures that need more than a partition.

A run asks for them by name (`RunSpec.outputs`); each is computed from the fitted model right after training and
stored in the run record, so a figure can be redrawn from a shipped run without training anything:

- history: the loss terms and ACC/NMI/PUR per epoch (labels given to `fit` only to score each epoch);
- tsne: a 2-D t-SNE of the representation the method clusters (`model.transform`), with the classes to colour it;
- tsne_inputs: a 2-D t-SNE of the concatenated input views as the method scaled them (the "before training"
  picture), with the classes;
- interest: IDMC's interest values of one fixed batch of 100 samples, per view (Figure 6);
- tsne_snapshots: a 2-D t-SNE of the representation at each epoch of the run's `snapshot_epochs` (a deep method's
  parameter), with the classes — the picture of a representation forming during training.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

INTEREST_BATCH = 100  # samples in the Figure 6 batch, drawn with numpy seed 0


def tsne_2d(X: np.ndarray) -> np.ndarray:
    """t-SNE to two dimensions with fixed settings (seed 0, PCA init, perplexity capped for small n)."""
    from sklearn.manifold import TSNE

    perplexity = float(min(30, max(2, len(X) // 4)))
    return TSNE(n_components=2, random_state=0, init="pca", perplexity=perplexity).fit_transform(X)


def interest_batch(n_samples: int) -> np.ndarray:
    """The fixed batch of Figure 6: the first 100 of a seed-0 permutation of the samples."""
    return np.random.default_rng(0).permutation(n_samples)[:INTEREST_BATCH]


def _history(model: Any, views: list[np.ndarray], labels: np.ndarray) -> dict[str, list]:
    return model.history_.to_dict(orient="list")


def _tsne(model: Any, views: list[np.ndarray], labels: np.ndarray) -> dict[str, list]:
    return {"xy": np.round(tsne_2d(model.transform(views)), 3).tolist(), "classes": labels.tolist()}


def _tsne_inputs(model: Any, views: list[np.ndarray], labels: np.ndarray) -> dict[str, list]:
    return {"xy": np.round(tsne_2d(np.hstack(model.scaler_.transform(views))), 3).tolist(), "classes": labels.tolist()}


def _interest(model: Any, views: list[np.ndarray], labels: np.ndarray) -> list[list[float]]:
    batch = interest_batch(len(views[0]))
    return [np.asarray(v, dtype=float).round(6).tolist() for v in model.interest_of([X[batch] for X in views])]


def _tsne_snapshots(model: Any, views: list[np.ndarray], labels: np.ndarray) -> dict[str, Any]:
    snapshots = getattr(model, "snapshots_", {})
    if not snapshots:
        raise ValueError("The output tsne_snapshots needs a deep method run with snapshot_epochs, e.g. "
                         "params {'snapshot_epochs': [0, 50, 100]}.")
    return {"epochs": sorted(snapshots), "xy": [np.round(tsne_2d(snapshots[e]), 3).tolist() for e in sorted(snapshots)],
            "classes": labels.tolist()}


OUTPUTS: dict[str, Callable[[Any, list[np.ndarray], np.ndarray], Any]] = {
    "history": _history, "tsne": _tsne, "tsne_inputs": _tsne_inputs, "interest": _interest,
    "tsne_snapshots": _tsne_snapshots,
}
NEEDS_LABELS = {"history"}  # outputs for which fit() is given the labels (to score each epoch, never to train)


def check_outputs(names: tuple[str, ...]) -> tuple[str, ...]:
    unknown = sorted(set(names) - set(OUTPUTS))
    if unknown:
        raise ValueError(f"Unknown run output(s) {unknown}; choose from {', '.join(OUTPUTS)}.")
    return tuple(names)


def compute_outputs(names: tuple[str, ...], model: Any, views: list[np.ndarray], labels: np.ndarray
                    ) -> dict[str, Any]:
    """The named outputs of a fitted model, from the raw views it was fitted on (the model scales them as at fit;
    labels only colour t-SNE points; they never reach the model)."""
    return {name: OUTPUTS[name](model, views, labels) for name in names}
