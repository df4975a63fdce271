"""Derived datasets for controlled experiments: a registered dataset whose views, all but its best one, have a share
of their rows shuffled — the views' correspondence broken for that share of samples, so their quality falls evenly
from intact (share 0) to no information about the samples (share 1) while each view's own structure is unchanged.

Named "<base>~shuffled<share>", e.g. "MSRC-v1~shuffled0.5"; accepted wherever a dataset name is (the runner, the
cache, the reference store). The kept view is the one with the highest K-means silhouette on min-max scaled features
(seed 0; no labels), which a view's row shuffling cannot change, so a method choosing its dominant view the same way
finds it again. The shuffled rows are drawn with numpy seed 0, separately per view.
"""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np

from ..dominance import choose_dominant
from ..preprocessing import scale_views

PATTERN = re.compile(r"^(?P<base>.+)~shuffled(?P<share>\d*\.?\d+)$")


def split_derived(name: str) -> tuple[str, float | None]:
    """(base name, shuffled share) of a derived name; (name, None) for any other name."""
    match = PATTERN.match(name)
    if match is None:
        return name, None
    share = float(match["share"])
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"{name!r}: the shuffled share must be between 0 and 1, got {share}.")
    return match["base"], share


def derived_name(base: str, share: float) -> str:
    return f"{base}~shuffled{share:g}"


def kept_view(views: list[np.ndarray], n_clusters: int) -> int:
    """The view left intact: highest K-means silhouette on min-max scaled features (seed 0)."""
    return choose_dominant(scale_views(views, "minmax"), n_clusters, seed=0).view


def shuffle_rows(views: list[np.ndarray], keep: int, share: float) -> list[np.ndarray]:
    """Copies of the views in which every view but `keep` has round(share * n) of its rows permuted among
    themselves (numpy seed 0, drawn per view)."""
    rng = np.random.default_rng(0)
    n = views[0].shape[0]
    out = []
    for v, X in enumerate(views):
        X = X.copy()
        if v != keep:
            rows = rng.choice(n, size=int(round(share * n)), replace=False)
            X[rows] = X[rng.permutation(rows)]
        out.append(X)
    return out


def derive(dataset, share: float):
    """The dataset with its views degraded as the module docstring says (a new Dataset, named derived_name)."""
    keep = kept_view(dataset.views, dataset.n_clusters)
    return replace(dataset, name=derived_name(dataset.name, share), views=shuffle_rows(dataset.views, keep, share))
