"""Every choice a paper leaves open, per method, as data: the reading we adopt, the alternatives considered, why,
how the adopted one is chosen without labels, and which alternatives the sensitivity study runs.

`silent_choices()` is the table (the sensitivity notebooks print it; docs/readings.md has the prose);
`study_readings(method)` gives the readings a sensitivity study runs, the pre-selection default first, each as a
(scaling, parameters) change from it, one choice at a time. The baselines' entries record where each departs from
its authors' code (`baseline_departures()`, printed by results/REPORT.md); no study runs them.
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
    SilentChoice("sdcib", "estimator of I(Y^i;Y^j) (cluster consistency)",
                 "under equipartition: view j's assignments balanced by Sinkhorn-Knopp are the targets of view i's, "
                 "log K - cross-entropy (balance='sinkhorn')",
                 "IIC's exact MI of the joint of the soft assignments (balance='none', the reading before the collapse "
                 "study)",
                 "with IIC's MI the partition used 3-6 of Event's 8 clusters: clusters emptied in the first ~6 epochs "
                 "never return once the softmax saturates, where IIC's gradient vanishes (scripts/sdcib_collapse.py; "
                 "ablating relevance, feature consistency, compression or the bound does not prevent it); the "
                 "equipartition reading is SeLa's reading of label-sample information; the public code of the "
                 "group's DCIB (Xiaoqiang-Yan/TNNLS-DCIB) keeps the MI of the views' cluster outputs and adds a "
                 "cross-entropy to Sinkhorn-balanced hard labels (its 'uniform distribution constraint')",
                 "cluster usage (all K clusters on every seed) and the marginal entropy of the partition, measured "
                 "without labels (scripts/sdcib_collapse.py); never ACC/NMI. The sensitivity study (sdcib/08) ran "
                 "before this choice, on balance='none' (its fixed default); the adopted reading's runs are the "
                 "notebooks' and the reporting-protocol study's"),
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
    # ------------------------------------------------------------------ Baselines: departures from the authors' code
    # (or, for EAMC, from the re-implementation built on it), and where a check against that code made us follow it
    # (SEM's K-means, Multi-MaP's prompt encoder). `adopted` is ours, `alternatives` the authors' value; each is fixed
    # before any run and not studied. The class docstrings give the details.
    SilentChoice("eamc", "learning rates", "encoders and head 1e-5, attention 1e-4, discriminators 1e-3",
                 "6e-5 encoders, 2e-5 discriminators (mvc's RGB-D experiment, whose 200-200-500 widths we use)",
                 "mvc's defaults.py values, which its other experiments (MNIST, Fashion, COIL) keep; RGB-D's are "
                 "tuned to one data set, not here; the shipped EAMC runs used the defaults"),
    SilentChoice("eamc", "alternation of the two players", "per batch: one discriminator step, one encoder step",
                 "encoders on even batches, discriminators on odd ones (mvc); both every batch (DeepMVC)",
                 "the shared trainer steps every batch; DeepMVC's version does the same"),
    SilentChoice("eamc", "gradient clipping", "none", "encoders' gradient norm clipped at 0.5",
                 "the shared trainer does not clip"),
    SilentChoice("eamc", "reported epoch", "the last", "the epoch of lowest total loss",
                 "the protocol's label-free choice for every method; selection='min_loss' gives mvc's"),
    SilentChoice("eamc", "last incomplete batch", "kept", "dropped", "the shared trainer keeps it"),
    SilentChoice("sem", "K-means above 10,000 samples", "the code's MiniBatchKMeans (batches of 5000)",
                 "the same (metric.py); full K-means at any size is an option (minibatch_kmeans_above=None)",
                 "follows the code; no data set here has more than 2,100 samples, so no shipped run changes"),
    SilentChoice("sem", "Adam state at the first contrastive epoch", "fresh (later epochs: fresh, as the code)",
                 "the pre-training state carried over", "the trainer starts every stage with a fresh Adam"),
    SilentChoice("sem", "contrastive schedule", "4 iterations x 100 epochs (train.py's defaults) everywhere",
                 "set per data set (DHA 1 x 300, CCV 4 x 50, NUSWIDE 4 x 25, ...)",
                 "the defaults, the setting of its Caltech runs; the other data sets are not here"),
    SilentChoice("sem", "options", "InfoNCE, CMI weights, plain autoencoder, times_for_K 1 (the code's defaults)",
                 "also PSCL, RINCE; JSD, MMD weights; denoising, masked autoencoders; other times_for_K",
                 "the defaults are the method; the rest are the code's ablations"),
    SilentChoice("sslnmvc", "cosine eps of the cluster-level contrast", "1e-12 (F.normalize, shared NT-Xent)",
                 "1e-8 (torch's CosineSimilarity)",
                 "one NT-Xent for every method; differs only for cluster columns of norm below 1e-8"),
    SilentChoice("sslnmvc", "Adam state", "fresh per stage", "one Adam for both stages",
                 "the trainer starts every stage with a fresh Adam"),
    SilentChoice("sslnmvc", "last incomplete batch", "kept", "dropped (drop_last=True)",
                 "the shared trainer keeps it"),
    SilentChoice("sslnmvc", "contrastive epochs", "50 (the argument default)", "10 to 150, set per data set",
                 "the code's default; its per-data-set values are tuned to those data sets"),
    SilentChoice("sslnmvc", "seed", "the fit's random_state", "a fixed seed per data set",
                 "seeds are the protocol's"),
    SilentChoice("demvc", "KL divergence's clipping", "log clamped at 1e-9 (shared weighted_kl)",
                 "Keras' KL: P and Q clipped to [1e-7, 1]",
                 "the shared KL; differs only for assignments below 1e-7"),
    SilentChoice("demvc", "Adam epsilon", "1e-8 (torch)", "1e-7 (Keras)", "torch's default"),
    SilentChoice("demvc", "cluster-stage batches", "reshuffled every epoch", "the samples in their stored order",
                 "the shared trainer shuffles every stage"),
    SilentChoice("demvc", "image views", "fully connected autoencoders", "convolutional autoencoders",
                 "every data set here is vectors"),
    SilentChoice("comvc", "negative sampling, more than two views", "one draw per anchor serves its positives",
                 "one draw per anchor-positive pair", "one draw per anchor of the shared NT-Xent"),
    SilentChoice("comvc", "negatives, more than two views", "from every view (shared NT-Xent)",
                 "one pair of views at a time, negatives from that pair",
                 "one NT-Xent for every method; the same for two views"),
    SilentChoice("comvc", "the contrast's two directions", "averaged, with or without sampling",
                 "summed without sampling, averaged with it", "so that the option changes only the negatives"),
    SilentChoice("mflvc", "entropy term", "once per view (the paper's)", "once per view and pair",
                 "the paper's sum; the same for two views"),
    SilentChoice("mflvc", "fine-tuning cross-entropy", "on the log of the assignments",
                 "a second softmax over the assignments", "the assignments are already a softmax"),
    SilentChoice("mflvc", "batches", "mini-batch fine-tuning, last smaller batch kept",
                 "one full batch for fine-tuning, last smaller batch dropped", "the shared trainer"),
    SilentChoice("mflvc", "cosine eps of the cluster-level contrast", "1e-12 (F.normalize, shared NT-Xent)",
                 "1e-8 (torch's CosineSimilarity)",
                 "one NT-Xent for every method; differs only for cluster columns of norm below 1e-8"),
    SilentChoice("dealmvc", "attention's view token", "the batch mean of H^v (a d-vector per view)",
                 "each sample's mean over H^v's features (a vector as long as the batch)",
                 "the code's token only works at one batch size"),
    SilentChoice("dealmvc", "attention and prior nets", "trained by the calibration losses",
                 "never stepped (their optimisers never step); weights detached",
                 "so that the fusion is learned, as the paper's attention"),
    SilentChoice("dealmvc", "fused feature", "normalised", "not normalised; weights sum to 1/V",
                 "unnormalised, the global term is lowest with all weight on one view (seen on Event)"),
    SilentChoice("dealmvc", "global assignments P", "the views' assignments fused with the same weights",
                 "the label head on the fused feature", "the code's only fits when the two widths are equal"),
    SilentChoice("dealmvc", "graph consistency", "every pair of views", "every pair only for two or three views",
                 "the code's loop"),
    SilentChoice("dealmvc", "log of S", "log_softmax", "log(S + 1e-7)", "numerically safer"),
    SilentChoice("dealmvc", "batches", "last smaller batch kept; mini-batch fine-tuning",
                 "last batch dropped; one full batch for fine-tuning", "the shared trainer"),
    SilentChoice("dealmvc", "final labels", "K-means on the fused feature H",
                 "argmax of the views' mean assignment (labels_from='assignments')",
                 "nothing aligns the views' cluster indices; their mean can mix clusters (seen on planted data)"),
    SilentChoice("icmvc", "graph normalisation", "symmetric, D^-1/2 (A + I) D^-1/2", "rows of A + I, L2",
                 "the standard GCN propagation"),
    SilentChoice("icmvc", "instance loss over chunks", "averaged", "summed",
                 "a per-batch loss whose scale does not grow with n"),
    SilentChoice("icmvc", "latent width", "512 everywhere", "128, 256 or 512 by data set",
                 "512, as for Scene-15 and Handwritten"),
    SilentChoice("divide", "learning-rate warm-up", "none", "20 epochs", "the shared trainer has none"),
    SilentChoice("divide", "Adam betas", "(0.9, 0.999)", "(0.9, 0.99)", "the shared trainer's"),
    SilentChoice("divide", "hidden layers' bias", "kept", "none", "redundant before BatchNorm"),
    SilentChoice("divide", "loss normalisation", "mean over anchors", "divided by n^2",
                 "a loss per sample"),
    SilentChoice("divide", "last incomplete batch", "kept", "dropped", "the shared trainer keeps it"),
    SilentChoice("divide", "input scaling", "per-feature min-max", "z-score",
                 "the runner's scaling of every deep method"),
    SilentChoice("scmvc", "reported epoch", "the last (K-means on H)", "the epoch of best ACC against the labels",
                 "selection by labels is not copied"),
    SilentChoice("scmvc", "Adam state", "fresh per stage", "one Adam for both stages",
                 "the trainer starts every stage with a fresh Adam"),
    SilentChoice("scmvc", "last incomplete batch", "kept", "dropped (drop_last=True)",
                 "the shared trainer keeps it"),
    SilentChoice("scmvc", "contrastive epochs", "50 (the argument default)", "10 to 100, set per data set",
                 "the code's default; its per-data-set values are tuned to those data sets"),
    SilentChoice("scmvc", "seed", "the fit's random_state", "a fixed seed per data set",
                 "seeds are the protocol's"),
    SilentChoice("smcmb", "each sample's QP", "exact NNLS (Lawson-Hanson), row renormalised",
                 "MATLAB's interior-point quadprog", "exact; an interior point is never exactly 0"),
    SilentChoice("smcmb", "K-means of the anchors", "scikit-learn, random-sample init, 20 iterations, 2 restarts",
                 "litekmeans, the same settings, restart by summed distance", "the closest in Python"),
    SilentChoice("smcmb", "K-means of the Tcut embeddings", "k-means++ (2 or 3 restarts), up to 300 iterations",
                 "MATLAB's kmeans, stopped at 50 and 100 iterations", "mmc_core.kmeans, shared"),
    SilentChoice("smcmb", "anchors no sample uses", "left out of their graph's cut",
                 "none arise (interior-point solutions are never exactly 0)",
                 "exact QP solutions can leave an anchor unused"),
    SilentChoice("smcmb", "a graph with fewer used anchors than k", "cut into as many clusters as used anchors",
                 "as many as the distinct values of one column of Z", "what the graph can separate"),
    SilentChoice("swmc", "initial view weights", "equal (1/V)", "random", "deterministic"),
    SilentChoice("onmsc", "view weights gamma", "on the simplex (>= 0)", "sum to 1 only",
                 "a negative weight makes the combination no Laplacian"),
    SilentChoice("onmsc", "eigenvectors", "smallest algebraic eigenvalues", "smallest magnitude (eigs)",
                 "they minimise the trace; 2 L - H H^T can have negative eigenvalues"),
    SilentChoice("onmsc", "kernel preprocessing", "none", "clipping extreme values, completing empty rows",
                 "Gaussian kernels are bounded and have no empty rows"),
    SilentChoice("onmsc", "lam", "1 (2^0, fixed)", "the best of 2^-15..2^15 by the labels",
                 "selection by labels is not copied"),
    SilentChoice("multimap", "prompt encoder", "the code's: no positional embedding, no final LayerNorm",
                 "the same; CLIP's full encode_text is an option (prompt_encoder='full', our former default)",
                 "follows the code; planted tasks compute the same under both, so no shipped run changes"),
    SilentChoice("multimap", "optimiser", "Adam, betas (0, 0.999), constant lr",
                 "Adagrad (weight decay 0; the README's 5e-5, 1e-5)",
                 "the shared trainer's Adam; without momentum a proxy moves only in its image's batches"),
    SilentChoice("multimap", "constraint targets, proxies' start", "token space: words' mean token embeddings; z_i",
                 "text-encoder outputs used as tokens", "type-checks only because ViT-B/32's widths are both 512"),
    SilentChoice("multimap", "reference word z_i", "nearest candidate by prompt feature (Figure 2)",
                 "nearest by the bare word's feature (main.py)", "the paper's caption"),
    SilentChoice("multimap", "batches", "reshuffled samples", "fixed contiguous blocks, shuffled as blocks",
                 "the shared trainer"),
)

PAPER_METHODS = ("idmc", "sdcib", "ddmc", "multidproxy")  # the four papers' methods; every other entry is a baseline's


def baseline_departures() -> pd.DataFrame:
    """The baselines' departures from their authors' code: method, choice, ours, authors', why (one row each)."""
    return pd.DataFrame([{"method": c.method, "choice": c.choice, "ours": c.adopted, "authors'": c.alternatives,
                          "why": c.why} for c in SILENT_CHOICES if c.method not in PAPER_METHODS])


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
    "sdcib": Reading(FIXED_DEFAULT, "minmax", {"balance": "none"}),
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
