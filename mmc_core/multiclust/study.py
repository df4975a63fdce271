"""The controlled-concept study: Multi-DProxy and its ablation rows on planted data whose answer is known.

Generator seeds 1-5 give five independent draws of the planted data (mmc_core.multiclust.synthetic); each run uses
its draw's seed as the method's seed too. Generator seed 0 is kept for choosing readings (multidproxy.INTERPRETATION)
and never enters a verdict. Both concepts are asked for: colour (the weaker signal in the image features) and shape.
"""

from __future__ import annotations

from typing import Any

from .multidproxy import MultiDProxy
from .runs import ConceptRun

STUDY_SEEDS = (1, 2, 3, 4, 5)
CONCEPTS = ("colour", "shape")


def planted_name(seed: int, concept: str) -> str:
    return f"Planted{seed}@{concept}"


def ablation_runs(seeds: tuple[int, ...] = STUDY_SEEDS, **params: Any) -> list[ConceptRun]:
    """Every ablation row of the paper (MultiDProxy.ABLATIONS) on both concepts and every seed; `params` (e.g.
    epochs at a short profile) apply to every row."""
    return [ConceptRun("multidproxy", planted_name(seed, concept), seed, {**params, **row}, label=name)
            for name, row in MultiDProxy.ABLATIONS.items() for concept in CONCEPTS for seed in seeds]
