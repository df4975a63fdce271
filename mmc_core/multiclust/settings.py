"""What a Multi-DProxy notebook's parameters cell resolves to: profile, seeds, epochs, device and the CLIP encoder.

Real image tasks need CLIP weights, which a user provides (clip_weights = a file path, "hf-hub:<repo>" in the local
cache, or `make weights` where a network exists). Without them the real-image rows are "weights absent" and only the
planted-data study runs — except at the smoke profile, which proves the image pipeline runs with the tiny random
encoder (`mmc-tiny-clip`, weights "none") and compares nothing. Random weights are used only when asked for by name
or at smoke, and every table built on them says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import pandas as pd

from ..data.registry import is_available, load_registry
from ..experiments.profiles import Profile, get_profile
from ..deep.device import resolved_name
from ..experiments.settings import check_choice, check_device, trainer_params, whole_number
from ..paths import data_dir
from .runs import REFERENCE_DIR, ConceptRun, planted_task, run_concepts
from .study import STUDY_SEEDS
from .task import ConceptTask

SMOKE_ENCODER = ("mmc-tiny-clip", "none")
SMOKE_SETS = ("CMUface",)  # the image set whose concepts the smoke profile runs (small: 624 images)


def image_sets_here() -> dict[str, tuple[str, ...]]:
    """The image sets of the paper that are here (staged, or supplied by the user: Fruit, Stanford Cars) with their
    concepts (the registry's clusterings)."""
    root = data_dir()
    return {e.name: tuple(e.clusterings) for e in load_registry().values()
            if e.kind == "images" and is_available(e, root)}


@dataclass
class ConceptSettings:
    profile: Profile
    seeds: tuple[int, ...]  # planted-data seeds 1..n (generator and method; 0 is kept for readings); image tasks too
    epochs: int | None  # None: the method's own (1,000 for Multi-DProxy)
    device: str
    encoder: Any | None  # a ClipEncoder, or None when no weights were given
    encoder_note: str  # what the image rows are computed with, or why they are not
    n_jobs: int = 1  # processes the runs are computed in (runner.run_grid; $MMC_DASK_SCHEDULER: on that cluster)
    built_tasks: dict[str, ConceptTask] = field(default_factory=dict, repr=False)  # image_task's, by name

    def params(self, **row: Any) -> dict[str, Any]:
        """A row's parameters under this profile (experiments.settings.trainer_params; the device is not part of a
        run's identity: runner.identity_params)."""
        return trainer_params(self.epochs, self.device, **row)

    def run(self, runs: Sequence[ConceptRun], tasks: Callable[[str], ConceptTask] = planted_task,
            keep_outputs: bool = False) -> pd.DataFrame:
        """The runs' records: read from reference/multiclust at the reference profile, else computed (cached) in
        n_jobs processes, or on the Dask cluster $MMC_DASK_SCHEDULER names."""
        if not self.profile.computes:
            return run_concepts(runs, tasks, root=REFERENCE_DIR, compute=False, progress=False,
                                keep_outputs=keep_outputs)
        return run_concepts(runs, tasks, profile=self.profile.name, keep_outputs=keep_outputs, n_jobs=self.n_jobs)

    @property
    def weights(self) -> str:
        """"real", "random" (the tiny or an explicitly random encoder) or "absent" (no image task runs)."""
        return "absent" if self.encoder is None else "random" if self.encoder.is_random else "real"

    def image_task(self, name: str) -> ConceptTask:
        """The real image task "<set>@<concept>" on this encoder's cached features (built once per process)."""
        from .images import build_task

        if name not in self.built_tasks:
            dataset, concept = name.split("@")
            self.built_tasks[name] = build_task(dataset, concept, self.encoder)
        return self.built_tasks[name]

    @property
    def image_tasks(self) -> list[str]:
        """The real image tasks this run covers: none without an encoder, CMUface's at smoke, else every one here."""
        if self.encoder is None:
            return []
        sets = image_sets_here()
        if self.profile.name == "smoke":
            sets = {name: concepts for name, concepts in sets.items() if name in SMOKE_SETS}
        return [f"{name}@{concept}" for name, concepts in sets.items() for concept in concepts]

    @property
    def comparable(self) -> bool:
        """Whether image-task numbers may be set against the paper's: real weights, at a profile that compares."""
        return self.encoder is not None and not self.encoder.is_random and self.profile.compares

    def describe(self) -> str:
        used = resolved_name(self.device) if self.profile.computes else "nothing computed"
        return (f"profile {self.profile.name}: seeds {list(self.seeds)}, epochs {self.epochs or 'as in the paper'}, "
                f"device {self.device}: {used}\nimage tasks: {self.encoder_note}")


def resolve_concept_settings(profile: str, seeds: int | None, epochs: int | None, device: str,
                             clip_model: str, clip_weights: str | None, n_jobs: int = 1) -> ConceptSettings:
    """Check the parameters (as every notebook does), then load the encoder when weights are given."""
    check_choice(profile, device)
    prof = get_profile(profile)
    if prof.computes:
        check_device(device, with_cost=prof.name == "full")
    n_seeds = whole_number("seeds", seeds, prof.seeds)
    epochs = whole_number("epochs", epochs, prof.epochs) or prof.epochs
    n_jobs = whole_number("n_jobs", n_jobs, 1) or 1
    count = n_seeds or (prof.seeds if prof.name == "smoke" else len(STUDY_SEEDS))  # the study ships 5 seeds
    study_seeds = tuple(range(1, count + 1))
    if prof.name == "smoke" and clip_weights is None:
        clip_model, clip_weights = SMOKE_ENCODER
    if clip_weights is None:
        return ConceptSettings(prof, study_seeds, epochs, device, None,
                               "weights absent — no CLIP weights were given (clip_weights=PATH to OpenAI's "
                               "ViT-B-32.pt with clip_model='ViT-B-32-quickgelu', or 'hf-hub:<repo>' in the local "
                               "cache; `make weights` fetches them where a network exists)", n_jobs)
    if not prof.computes:
        return ConceptSettings(prof, study_seeds, epochs, device, None,
                               "not shipped — the reference profile reads shipped runs, and none on real images "
                               "exist (no CLIP weights on the machines that made them); run profile full", n_jobs)
    from ..deep import resolve_device
    from ..encoders import load_encoder

    encoder = load_encoder(clip_model, clip_weights, device=str(resolve_device(device)))  # where the methods train
    note = (f"{encoder.id} — RANDOM weights: checks that the pipeline runs; the numbers mean nothing"
            if encoder.is_random else f"{encoder.id}")
    return ConceptSettings(prof, study_seeds, epochs, device, encoder, note, n_jobs)
