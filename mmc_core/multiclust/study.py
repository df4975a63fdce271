"""The controlled-concept study: Multi-DProxy, its ablation rows and its baselines on planted data whose answer is
known, and the same runs on real image tasks where CLIP weights are given.

Generator seeds 1-5 give five independent draws of the planted data (mmc_core.multiclust.synthetic); each run uses
its draw's seed as the method's seed too. Generator seed 0 is kept for choosing readings (multidproxy.INTERPRETATION)
and never enters a verdict. Both concepts are asked for: colour (the weaker signal in the image features) and shape.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..experiments.silent_choices import HELD_OUT, SILENT_CHOICES, study_readings
from .multidproxy import MultiDProxy
from .runs import ConceptRun
from .task import ConceptTask

STUDY_SEEDS = (1, 2, 3, 4, 5)
CONCEPTS = ("colour", "shape")


def planted_name(seed: int, concept: str) -> str:
    return f"Planted{seed}@{concept}"


def ablation_runs(seeds: tuple[int, ...] = STUDY_SEEDS, **params: Any) -> list[ConceptRun]:
    """Every ablation row of the paper (MultiDProxy.ABLATIONS) on both concepts and every seed; `params` (e.g.
    epochs at a short profile) apply to every row."""
    return [ConceptRun("multidproxy", planted_name(seed, concept), seed, {**params, **row}, label=name)
            for name, row in MultiDProxy.ABLATIONS.items() for concept in CONCEPTS for seed in seeds]


METHODS = {  # run name -> the row it stands for (the paper's names; K-means (CLIP) is the concept-blind reference)
    "kmeans-clip": "K-means (CLIP)", "clip-gpt": "CLIP_GPT", "clip-label": "CLIP_label", "multimap": "Multi-MaP",
    "multidproxy": "Multi-DProxy",
}
TRAINED = {"multimap", "multidproxy"}  # the methods that take trainer parameters (epochs, device)


def method_runs(tasks: list[str], seeds: tuple[int, ...], encoder: str = "synthetic",
                methods: tuple[str, ...] = tuple(METHODS), **params: Any) -> list[ConceptRun]:
    """Every method on every task and seed; `params` (trainer parameters of a profile) go to the trained methods."""
    return [ConceptRun(m, task, seed, params if m in TRAINED else {}, encoder, METHODS[m])
            for m in methods for task in tasks for seed in seeds]


def planted_tasks(seed: int) -> list[str]:
    return [planted_name(seed, concept) for concept in CONCEPTS]


def planted_method_runs(seeds: tuple[int, ...] = STUDY_SEEDS, **params: Any) -> list[ConceptRun]:
    """Every method on both planted concepts, one planted draw per seed (its own seed)."""
    return [r for seed in seeds for r in method_runs(planted_tasks(seed), (seed,), **params)]


def image_ablation_runs(tasks: list[str], seeds: tuple[int, ...], encoder: str, **params: Any) -> list[ConceptRun]:
    """The ablation rows on real image tasks."""
    return [ConceptRun("multidproxy", task, seed, {**params, **row}, encoder, name)
            for name, row in MultiDProxy.ABLATIONS.items() for task in tasks for seed in seeds]


def relevant_words(task: ConceptTask) -> set[str]:
    """The candidates that name a class of the concept (known on planted data only)."""
    if task.relevant is None:
        raise ValueError(f"{task.name}: which candidates are relevant is known on planted data only.")
    return {word for word, flag in zip(task.candidates, task.relevant) if flag}


def survivors(results: pd.DataFrame) -> pd.DataFrame:
    """Per Multi-DProxy run (results with outputs kept): the words kept at each pruning, and the final list."""
    rows = []
    for r in results.sort_values(["concept", "seed"]).itertuples():
        history = r.outputs["candidate_history"]
        rows.append({"run": f"{r.task} seed {r.seed}",
                     **{f"kept at epoch {h['epoch']}": ", ".join(sorted(h["kept"])) for h in history},
                     "final": sorted(r.outputs["active_words"])})
    return pd.DataFrame(rows)


READINGS = {  # the readings compared on the selection draw (generator seed 0) before the study ran
    "chosen (L_c with its positive pair)": {},
    **{r.name: dict(r.params) for c in SILENT_CHOICES if c.method == "multidproxy" and c.selection == HELD_OUT
       for r in c.studied},
}
SELECTION_SEED = 0


def reading_runs(**params: Any) -> list[ConceptRun]:
    """Multi-DProxy under each reading of READINGS on both concepts of the selection draw (seed 0)."""
    return [ConceptRun("multidproxy", planted_name(SELECTION_SEED, concept), SELECTION_SEED, {**params, **row},
                       label=name) for name, row in READINGS.items() for concept in CONCEPTS]


def sensitivity_runs(seeds: tuple[int, ...] = STUDY_SEEDS, **params: Any) -> list[ConceptRun]:
    """Multi-DProxy under its fixed default and each studied reading of its silent choices (silent_choices), one
    choice at a time, on both concepts of the study's draws; the fixed default is the ablation table's full row."""
    return [ConceptRun("multidproxy", planted_name(seed, concept), seed, {**params, **r.params}, label=name)
            for name, r in study_readings("multidproxy").items() for concept in CONCEPTS for seed in seeds]
