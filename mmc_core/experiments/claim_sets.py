"""A paper's claims re-tested as one set under a given reading (e.g. another input scaling), for a readings study
to show which verdicts a reading changes: the same specs and claim functions as the claims' own notebooks, with the
reading applied to every run."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import pandas as pd

from ..data.derived import derived_name
from ..methods import method_class
from ..methods.ddmc import DDMC
from ..methods.sdcib import SDCIB
from .claims import (Claim, beats_every_baseline, best_layer_count, converges_fast, ddmc_ablation_ordered,
                     each_component_contributes, enhancement_beats_fusion, gain_grows_with_unevenness,
                     hidden_terms_help, more_layers_not_better, removing_both_hurts_most)
from .runner import make_grid
from .settings import RunSettings
from .tables import add_best_view, paper_rows, summarize

SDCIB_LAYERS = range(2, 8)  # sdcib/03's layer counts
SDCIB_VARIANTS = ["full", "remove I(Y;Y)", "remove I(H;H)", "remove both", "no hidden"]  # sdcib/04 and sdcib/05


def sdcib_claims(run: RunSettings, datasets: Sequence[str], scaling: str,
                 params: Mapping[str, Any] | None = None) -> list[Claim]:
    """SDCIB's ablation, hidden-layer, layer-count and convergence claims (sdcib/03-06) on `datasets`, every run on
    `scaling` and with `params` added (e.g. a readings study's fixed default)."""
    datasets, extra = list(datasets), dict(params or {})
    variants = summarize(run.grid(make_grid([("sdcib", run.deep_params(**SDCIB.ABLATIONS[v], **extra), v)
                                             for v in SDCIB_VARIANTS], datasets, run.seeds, scaling=scaling)))
    ablation = variants[variants.row != "no hidden"]
    hidden = variants[variants.row.isin(["full", "no hidden"])]
    layers = summarize(run.grid(make_grid([("sdcib", run.deep_params(n_layers=L, **extra), f"L={L}")
                                           for L in SDCIB_LAYERS], datasets, run.seeds, scaling=scaling)))
    runs = run.grid(make_grid([("sdcib", run.deep_params(**extra))], datasets, [0], scaling=scaling,
                              outputs=("history",)), keep_labels=True)
    histories = {r.dataset: pd.DataFrame(r.output_data["history"]) for r in runs.itertuples()}
    return [removing_both_hurts_most(ablation, run.profile), each_component_contributes(ablation, run.profile),
            hidden_terms_help(hidden, run.profile), best_layer_count(layers, SDCIB_LAYERS, run.profile),
            more_layers_not_better(layers, SDCIB_LAYERS, run.profile),
            converges_fast(histories, run.profile, "SDCIB", "rapid")]


DDMC_CLASSICAL = ["km", "ncuts", "amkm", "amncuts", "coregmvsc", "rmkmc", "swmc", "onmsc", "smcmb"]  # ddmc/01's rows
DDMC_DEEP = ["eamc", "demvc", "simvc", "comvc", "mflvc", "sem", "divide", "icmvc", "scmvc", "sslnmvc"]
DDMC_COMBINE = {"enhance": {}, "fuse": {"combine": "fuse"}}  # ddmc/04's rows
DDMC_CONTROLLED = "MSRC-v1"  # the dataset ddmc/04 degrades in its controlled test


def ddmc_shares(protocol: str) -> dict[str, float]:
    """ddmc/04's controlled datasets (the other views' rows shuffled) and their shuffled share."""
    shares = [0.0, 1.0] if protocol == "smoke" else [0.0, 0.25, 0.5, 0.75, 1.0]
    return {derived_name(DDMC_CONTROLLED, s): s for s in shares}


def ddmc_claims(run: RunSettings, datasets: Sequence[str], scaling: str | None = None,
                params: Mapping[str, Any] | None = None) -> list[Claim]:
    """DDMC's claims (ddmc/01 and 03-05) on `datasets`, every DDMC run with `params` added and on `scaling` (None:
    the method's own); the baselines as in ddmc/01. The controlled test runs on DDMC_CONTROLLED."""
    datasets, params = list(datasets), dict(params or {})

    def ddmc(rows: Mapping[str | None, Mapping[str, Any]], on: Sequence[str], seeds, outputs=()):
        return make_grid([("ddmc", {**run.deep_params(**p), **params}, r) for r, p in rows.items()], on, seeds,
                         scaling=scaling, outputs=outputs)

    table = summarize(run.grid(make_grid(DDMC_CLASSICAL, datasets, run.seeds)
                               + make_grid([(m, run.deep_params()) for m in DDMC_DEEP], datasets, run.seeds)
                               + ddmc({None: {}}, datasets, run.seeds), partial=True))
    expected = [method_class(m).reported_as for m in DDMC_CLASSICAL + DDMC_DEEP + ["ddmc"]]
    ablation = summarize(run.grid(ddmc(DDMC.ABLATIONS, datasets, run.seeds)))
    combine = summarize(run.grid(ddmc(DDMC_COMBINE, datasets, run.seeds)))
    shares = ddmc_shares(run.protocol)
    controlled = summarize(run.grid(ddmc(DDMC_COMBINE, list(shares), run.seeds)))
    runs = run.grid(ddmc({None: {}}, datasets, [0], outputs=("history",)), keep_labels=True)
    histories = {r.dataset: pd.DataFrame(r.output_data["history"]) for r in runs.itertuples()}
    return [beats_every_baseline(paper_rows(add_best_view(table)), "DDMC", datasets, run.profile, expected=expected),
            ddmc_ablation_ordered(ablation, run.profile), enhancement_beats_fusion(combine, run.profile),
            gain_grows_with_unevenness(controlled, shares, run.profile), converges_fast(histories, run.profile, "DDMC")]
