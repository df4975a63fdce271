"""Every choice a paper leaves open, per method, as data: the reading we adopt, the alternatives considered, why,
how the adopted one is chosen without labels, and which alternatives the sensitivity study runs.

`silent_choices()` is the table (the sensitivity notebooks print it; docs/readings.md has the prose);
`study_readings(method)` gives the readings a sensitivity study runs, the pre-selection default first, each as a
(scaling, parameters) change from it, one choice at a time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import pandas as pd

FIXED_DEFAULT = "fixed default"  # the reading every notebook ran before any selection among readings

# How an adopted reading is chosen without labels
FIXED = "fixed before any run (paper's family defaults)"
DATA_RULE = "data rule (feature type, selection.preprocessing_rule)"
STABILITY = "seed stability (mean pairwise ARI, selection.seed_stability)"
HELD_OUT = "the planted selection draw (generator seed 0, held out of every verdict), by its known answer"


@dataclass(frozen=True)
class Reading:
    """One alternative run by the sensitivity study: a scaling and/or parameters changed from the fixed default."""

    name: str
    scaling: str | None = None  # None: the fixed default's scaling
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SilentChoice:
    method: str
    choice: str
    adopted: str
    alternatives: str
    why: str
    selection: str = FIXED
    studied: tuple[Reading, ...] = ()


SILENT_CHOICES: tuple[SilentChoice, ...] = (
    # ------------------------------------------------------------------ SDCIB (slides only)
    SilentChoice("sdcib", "input preprocessing", "per-row l2 for bag-of-words views, per-feature min-max otherwise",
                 "raw, per-feature min-max, per-feature z-score, per-row l2",
                 "counts and term weights differ by document length; per-sample normalisation is the usual treatment "
                 "of bags of words, min-max the DDC family's for dense descriptors",
                 DATA_RULE, (Reading("l2-normalised rows", "l2"), Reading("z-scored features", "zscore"),
                             Reading("raw features", "none"))),
    SilentChoice("sdcib", "hidden width", "256", "128, 256, 512",
                 "the slides give no widths; 256 is the DDC family's representation width",
                 FIXED, (Reading("width 512", params={"width": 512}), Reading("width 128", params={"width": 128}))),
    SilentChoice("sdcib", "alpha (compression-relevance vs consistency)", "0.5", "0.1-0.9",
                 "midpoint of (0, 1); kept after a 3-seed check on the MSRC-v1 substitute",
                 FIXED, (Reading("alpha 0.2", params={"alpha": 0.2}), Reading("alpha 0.8", params={"alpha": 0.8}))),
    SilentChoice("sdcib", "beta (relevance weight)", "1", "0.01-10 on a log scale",
                 "the neutral weight; the slides' heatmap has no grid values",
                 FIXED, (Reading("beta 0.1", params={"beta": 0.1}), Reading("beta 10", params={"beta": 10.0}))),
    SilentChoice("sdcib", "estimator of I(Y;H)", "MINE (Donsker-Varadhan)", "Donsker-Varadhan, Jensen-Shannon",
                 "the slides name a neural estimator per view and layer; MINE is the common one",
                 FIXED, (Reading("JSD estimator", params={"bound": "jsd"}),)),
    SilentChoice("sdcib", "InfoNCE temperature of I(H;H)", "0.5", "0.1-1.0",
                 "the usual value for cosine critics; kept after the MSRC-v1 check",
                 FIXED, (Reading("tau 1.0", params={"tau": 1.0}),)),
    SilentChoice("sdcib", "batch, epochs, learning rate", "batch 256, 100 epochs, Adam 1e-3 halved at mid-training",
                 "full batch with 500 epochs and lr 1e-4; batch 100, 100 epochs, lr 1e-3",
                 "the DDC family's schedule; not studied here (each alternative costs a full set of runs)"),
    SilentChoice("sdcib", "model selection", "last epoch", "last epoch, lowest loss",
                 "the last epoch needs no labels and no validation set; lowest loss is an option of the trainer "
                 "(selection='min_loss'), not studied"),
    # ------------------------------------------------------------------ IDMC (full paper)
    SilentChoice("idmc", "Eq. 15 (label-consistency factor)", "exp(c_i) / zeta, the ratio the text describes",
                 "exp(c_i - zeta) as printed (the fixed default until the readings study); the ratio",
                 "the printed formula subtracts a linear-scale zeta from a log-scale c_i; the ratio is what the text "
                 "says, and its seeds agree more with each other (idmc/08)",
                 STABILITY, (Reading("Eq. 15 as a ratio", params={"label_term": "ratio"}),)),
    SilentChoice("idmc", "network widths", "encoders 512-512-256, fusion 256", "any",
                 "the paper names the parts, not their sizes; the DDC family's widths"),
    SilentChoice("idmc", "learning rate and its schedule", "Adam 1e-3, halved at mid-training",
                 "constant; step; cosine", "'adaptively updated' read as a step schedule"),
    SilentChoice("idmc", "input preprocessing", "per-feature min-max", "raw, min-max, z-score, l2",
                 "the DDC family's; no dataset of IDMC's claims here is a bag of words, so the data rule agrees"),
    SilentChoice("idmc", "model selection", "last epoch", "last epoch, lowest loss", "needs no labels"),
    # ------------------------------------------------------------------ DDMC (slides only)
    SilentChoice("ddmc", "input preprocessing", "per-row l2 for bag-of-words views, per-feature min-max otherwise",
                 "raw, per-feature min-max, per-feature z-score, per-row l2",
                 "as SDCIB's; min-max everywhere (the DDC family's) was the fixed default before ddmc/07",
                 DATA_RULE, (Reading("l2-normalised rows", "l2"), Reading("z-scored features", "zscore"),
                             Reading("raw features", "none"))),
    SilentChoice("ddmc", "alpha (weight of the compression, redundancy and contrast terms)", "0.1", "0.01-10",
                 "set before any run so that the diversity terms do not swamp the DDC loss; the grid is drawn in "
                 "ddmc/02 (seed 0), never used to choose",
                 FIXED, (Reading("alpha 1", params={"alpha": 1.0}),)),
    SilentChoice("ddmc", "beta (weight of the balance and agreement terms)", "1",
                 "0.01-10; 0.1 (as alpha, the fixed default before ddmc/07)",
                 "the most stable single reading on the dense substitute (MSRC-v1) in ddmc/07",
                 STABILITY, (Reading("beta 1", params={"beta": 1.0}),)),
    SilentChoice("ddmc", "how D^dm is enhanced", "E = D^dm + 0.5 mean of the other views' Z^m",
                 "sum, mean, concatenation, attention", "the slides do not say; the dominant view keeps twice the "
                 "weight of the others' mean",
                 FIXED, (Reading("gamma 1 (equal weight)", params={"gamma": 1.0}),)),
    SilentChoice("ddmc", "InfoNCE temperature", "0.5", "0.1-1.0", "the usual value for cosine critics",
                 FIXED, (Reading("tau 1.0", params={"tau": 1.0}),)),
    SilentChoice("ddmc", "dominant modality", "highest K-means silhouette of the view (no labels)",
                 "a prior; the best view by labels (oracle)", "label-free"),
    # ------------------------------------------------------------------ Multi-DProxy (summary only)
    SilentChoice("multidproxy", "L_c's positive pair", "-log(e^{s_ii} / sum_j e^{s_ij})",
                 "as printed (log-sum over j != i, no positive)",
                 "compared on the planted selection draw (generator seed 0) before the study: as printed, nothing ties "
                 "F to the concept (multidproxy/05)", HELD_OUT,
                 (Reading("L_c as printed (no positive pair)", params={"contrast": "printed"}),)),
    SilentChoice("multidproxy", "what L_a aligns", "F (fused feature), as printed", "F, the proxy w",
                 "the printed one; the other is shown on the selection draw", HELD_OUT,
                 (Reading("L_a on the proxy instead of F", params={"alignment": "proxy"}),)),
    SilentChoice("multidproxy", "temperatures (the gate lambda's tau, L_c's sigma)", "0.5, 0.5", "0.1-1.0 each",
                 "the usual value for cosines, set before any run; not studied (each reading is ten 1,000-epoch runs)"),
    SilentChoice("multidproxy", "features", "frozen pooled CLIP embeddings", "patch tokens; text tower in the loop",
                 "makes 1,000 epochs affordable; attention over one token per modality is stated"),
)


def silent_choices(method: str | None = None) -> pd.DataFrame:
    """The silent choices (of one method, or all) as a table, with the readings each study runs."""
    rows = [{"method": c.method, "choice": c.choice, "adopted": c.adopted, "alternatives": c.alternatives,
             "why": c.why, "chosen by": c.selection, "studied": ", ".join(r.name for r in c.studied) or "-"}
            for c in SILENT_CHOICES if method is None or c.method == method]
    if not rows:
        raise ValueError(f"No silent choices recorded for {method!r}; methods: "
                         f"{sorted({c.method for c in SILENT_CHOICES})}.")
    return pd.DataFrame(rows)


FIXED_DEFAULTS = {  # per method, the reading every notebook ran before the readings study (explicit, so that its
    # runs keep their identity after a label-free choice became the default)
    "sdcib": Reading(FIXED_DEFAULT, "minmax"),
    "idmc": Reading(FIXED_DEFAULT, "minmax", {"label_term": "paper"}),
    "ddmc": Reading(FIXED_DEFAULT, "minmax", {"beta": 0.1}),
    "multidproxy": Reading(FIXED_DEFAULT),  # frozen CLIP features, no scaling
}
PAIR = " + "  # joins the names of the two readings a pair combines


def study_readings(method: str, choice: str | None = None) -> dict[str, Reading]:
    """The readings a sensitivity study of `method` runs: its fixed default (FIXED_DEFAULTS), then every studied
    alternative (of one `choice`, or of all), each the fixed default with one choice changed."""
    if method not in FIXED_DEFAULTS:
        raise ValueError(f"No readings study of {method!r}; studied: {sorted(FIXED_DEFAULTS)}.")
    fixed = FIXED_DEFAULTS[method]
    readings = {FIXED_DEFAULT: fixed}
    for c in SILENT_CHOICES:
        if c.method == method and choice in (None, c.choice):
            readings.update({r.name: Reading(r.name, r.scaling or fixed.scaling, {**fixed.params, **r.params})
                             for r in c.studied})
    if len(readings) == 1:
        raise ValueError(f"No studied readings of {method!r} for {choice!r}.")
    return readings


def reading_choice(method: str, reading: str) -> SilentChoice | None:
    """The silent choice a studied reading belongs to (None for the fixed default)."""
    return next((c for c in SILENT_CHOICES if c.method == method and any(r.name == reading for r in c.studied)), None)


def paired_reading(method: str, first: str, second: str) -> Reading:
    """The fixed default with the changes of two studied readings of different choices (a pair of the study)."""
    a, b = (study_readings(method)[name] for name in (first, second))
    fixed = FIXED_DEFAULTS[method]
    choices = [reading_choice(method, name) for name in (first, second)]
    if None in choices:
        raise ValueError(f"A pair combines two studied readings; {first!r} or {second!r} is the fixed default.")
    if choices[0].choice == choices[1].choice:
        raise ValueError(f"{first!r} and {second!r} are readings of one choice; a pair changes two choices.")
    scaling = b.scaling if a.scaling == fixed.scaling else a.scaling
    changes = [{k: v for k, v in r.params.items() if k not in fixed.params or fixed.params[k] != v} for r in (a, b)]
    return Reading(f"{first}{PAIR}{second}", scaling, {**fixed.params, **changes[0], **changes[1]})


def is_pair(reading: str) -> bool:
    return PAIR in reading
