"""The Multi-DProxy paper's printed cells next to the runs on real images, with a verdict per cell.

Printed cells are NMI on concepts of Fruit, Card, CMUface, CIFAR-10 and Stanford Cars. A cell is "reported only" when
its method is not implemented; without CLIP weights (the shipped runs had none) nothing on images runs anywhere, so
the cell is "weights absent", or "data absent" when its images are not public either (the registry lists no file
that `make data` stages: Fruit, Stanford Cars) — a verdict that does not depend on the data of the machine reading
the shipped runs. With weights, a cell is "data absent" when its image set is not in the data directory, "random
weights: not compared" for the tiny random encoder (smoke), else compared within the profile's tolerance like every
other paper's cells.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..data import list_datasets
from ..data.registry import load_registry
from ..experiments.tables import cell_verdict


def compare_concepts(summary: pd.DataFrame | None, reported: pd.DataFrame, tolerance: float | None,
                     implemented: set[str], weights: str) -> pd.DataFrame:
    """summary: summarize_concepts of the image-task runs (None: none ran); weights: "real", "random" or "absent"."""
    public = {e.name for e in load_registry().values() if e.kind == "images" and e.files}
    here = public if weights == "absent" else set(list_datasets().query("available").name)
    rows = summary.itertuples() if summary is not None else ()
    index = {(r.dataset, r.method_label, r.concept.lower()): r for r in rows}
    records = []
    for r in reported.itertuples():
        mean = std = diff = low = high = np.nan
        n = 0
        hit = index.get((r.dataset, r.method, str(r.variant).lower()))
        if r.method not in implemented:
            verdict = "reported only"
        elif r.dataset not in here:
            verdict = "data absent"
        elif weights == "absent":
            verdict = "weights absent"
        elif hit is None:
            verdict = "not run"
        else:
            mean, std, n = hit.nmi_mean, hit.nmi_std, hit.n_seeds
            diff = mean - r.value
            verdict = "random weights: not compared"
            if weights != "random":
                verdict, low, high = cell_verdict(mean, std, n, r.value, tolerance)
        records.append({"paper": r.paper, "table": r.table, "dataset": r.dataset, "method": r.method,
                        "variant": r.variant, "metric": r.metric, "reported": r.value, "reproduced": mean,
                        "std": std, "n_seeds": n, "diff": diff, "diff_low": low, "diff_high": high,
                        "verdict": verdict, "collapsed": "", "erratum": False})
    return pd.DataFrame.from_records(records)
