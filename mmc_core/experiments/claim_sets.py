"""A paper's claims re-tested as one set under a given reading (e.g. another input scaling), for a readings study
to show which verdicts a reading changes: the same specs and claim functions as the claims' own notebooks, with the
reading applied to every run."""

from __future__ import annotations

from typing import Sequence

import pandas as pd

from ..methods.sdcib import SDCIB
from .claims import (Claim, best_layer_count, converges_fast, each_component_contributes, hidden_terms_help,
                     more_layers_not_better, removing_both_hurts_most)
from .runner import make_grid
from .settings import RunSettings
from .tables import summarize

SDCIB_LAYERS = range(2, 8)  # sdcib/03's layer counts
SDCIB_VARIANTS = ["full", "remove I(Y;Y)", "remove I(H;H)", "remove both", "no hidden"]  # sdcib/04 and sdcib/05


def sdcib_claims(run: RunSettings, datasets: Sequence[str], scaling: str) -> list[Claim]:
    """SDCIB's ablation, hidden-layer, layer-count and convergence claims (sdcib/03-06) on `datasets`, every run on
    `scaling`."""
    datasets = list(datasets)
    variants = summarize(run.grid(make_grid([("sdcib", run.deep_params(**SDCIB.ABLATIONS[v]), v)
                                             for v in SDCIB_VARIANTS], datasets, run.seeds, scaling=scaling)))
    ablation = variants[variants.row != "no hidden"]
    hidden = variants[variants.row.isin(["full", "no hidden"])]
    layers = summarize(run.grid(make_grid([("sdcib", run.deep_params(n_layers=L), f"L={L}") for L in SDCIB_LAYERS],
                                          datasets, run.seeds, scaling=scaling)))
    runs = run.grid(make_grid([("sdcib", run.deep_params())], datasets, [0], scaling=scaling, outputs=("history",)),
                    keep_labels=True)
    histories = {r.dataset: pd.DataFrame(r.output_data["history"]) for r in runs.itertuples()}
    return [removing_both_hurts_most(ablation, run.profile), each_component_contributes(ablation, run.profile),
            hidden_terms_help(hidden, run.profile), best_layer_count(layers, SDCIB_LAYERS, run.profile),
            more_layers_not_better(layers, SDCIB_LAYERS, run.profile),
            converges_fast(histories, run.profile, "SDCIB", "rapid")]
