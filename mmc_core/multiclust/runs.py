"""Runs of multiple-clustering methods on concept tasks, each cached as one JSON record, like the main runner's.

A run is (method, task, seed, parameters). Tasks are named "<set>@<concept>": "Planted<s>@colour" is the planted data
of generator seed s (mmc_core.multiclust.synthetic); a real image set ("CMUface@pose") needs a CLIP encoder, whose
id (model@weights) then joins the run's identity. A record holds the scores (NMI and RI: mean and standard deviation
over K-means seeds 0-9 for a representation; of the one partition for a zero-shot method), the scores of every
K-means seed and that seed-0 partition (so a reviewer can recompute them), the method's extra outputs (candidate
evolution), the NMI of the same partitions against the set's other concepts (`other_nmi`: a representation that
follows another concept than the one asked for shows there) and its provenance. Records live under
<root>/<task>/<method>/<config id>/seed<seed>.json, written atomically; the shipped ones in reference/multiclust/.
A ConceptRun is a run of the main runner (experiments.runner.Run): `run_concepts` reads, computes and caches concept
runs with `run_grid`, so they run in `n_jobs` processes or on a Dask cluster as the feature methods' runs do.
"""

from __future__ import annotations

import inspect
import time
from dataclasses import dataclass, field, replace
from functools import cache, partial
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from ..data.tasks import PLANTED, image_set
from ..experiments.provenance import run_provenance
from ..experiments.runner import config_hash, identity_params, run_grid
from ..kmeans import run_kmeans
from ..metrics import evaluate
from ..paths import REFERENCE_CONCEPT_RUNS_DIR, results_dir
from ..seeding import seed_everything
from .evaluation import KMEANS_SEEDS
from .synthetic import planted_concepts
from .task import ConceptTask

RECORD_VERSION = 1
REFERENCE_DIR = REFERENCE_CONCEPT_RUNS_DIR


def method_registry() -> dict[str, Callable[..., Any]]:
    """The multiple-clustering methods by run name (imported here: the methods pull in the trainer)."""
    from .multidproxy import MultiDProxy
    from .multimap import MultiMaP
    from .zeroshot import ClipKMeans, ClipZeroShot

    return {"kmeans-clip": ClipKMeans, "clip-gpt": partial(ClipZeroShot, words="candidates"),
            "clip-label": partial(ClipZeroShot, words="classes"), "multimap": MultiMaP, "multidproxy": MultiDProxy}


def build_method(name: str, task: ConceptTask, seed: int, params: Mapping[str, Any]) -> Any:
    """The method `name` for the task (its number of clusters, for the methods that take one) with the run's seed."""
    factory = method_registry()[name]
    takes_k = "n_clusters" in inspect.signature(factory).parameters
    return factory(**({"n_clusters": task.n_clusters} if takes_k else {}), random_state=seed, **params)


@cache
def planted_task(name: str) -> ConceptTask:
    """The task a "Planted<s>@<concept>" name stands for (built once per process)."""
    match = PLANTED.match(name)
    if match is None:
        raise ValueError(f"{name!r} is not a planted task name (Planted<generator seed>@<concept>, e.g. "
                         "'Planted1@colour').")
    return planted_concepts(seed=int(match["seed"])).task(match["concept"])


@dataclass(frozen=True)
class ConceptRun:
    """One run of a method on a concept task; `label` names its table row and `tasks` builds its task from the name
    where the run is computed (a process or Dask worker: picklable); neither is part of its identity."""

    method: str
    task: str
    seed: int
    params: Mapping[str, Any] = field(default_factory=dict)
    encoder: str = "synthetic"  # the encoder id (model@weights) of a real image task
    label: str | None = None
    tasks: Callable[[str], ConceptTask] = field(default=planted_task, compare=False, repr=False)

    @property
    def config(self) -> dict[str, Any]:
        return {"method": self.method, "task": self.task, "encoder": self.encoder,
                "params": dict(sorted(self.identity_params().items())), "version": RECORD_VERSION}

    def identity_params(self) -> dict[str, Any]:
        """The run's parameters as its identity holds them: as given but the device (runner.identity_params: where
        it is computed, not what), plus, on a real image task, the value (given
        or default) of each parameter the method declares as acting only through the text encoder
        (`text_encoder_parameters`, e.g. Multi-MaP's prompt_encoder, whose default changed): a record computed
        under another default is then never read back as this run. Planted tasks have no text encoder, so those
        parameters change nothing there and stay out (the shipped planted records keep their ids)."""
        if self.encoder == "synthetic":
            return identity_params(self.params)
        factory = method_registry().get(self.method)
        names = getattr(factory, "text_encoder_parameters", ())
        defaults = {name: inspect.signature(factory).parameters[name].default for name in names}
        return identity_params({**defaults, **self.params})

    @property
    def config_id(self) -> str:
        return config_hash(self.config)

    @property
    def dataset(self) -> str:
        """The image set the task is a concept of."""
        return image_set(self.task)

    def cache_path(self, root: Path) -> Path:
        return root / self.task.replace("@", "_") / self.method / self.config_id / f"seed{self.seed}.json"

    def execute(self, data_dir: str | None, profile: str | None) -> dict[str, Any]:
        """The run's record, computed on its task (`tasks` knows where the data is: data_dir is not used)."""
        return run_one(self, self.tasks(self.task), profile)


def score_run(model: Any, task: ConceptTask) -> dict[str, Any]:
    """The record's scores: K-means (seeds 0-9) on the learned features, or the method's one partition."""
    if hasattr(model, "features_"):
        fits = [run_kmeans(model.features_, task.n_clusters, seed).labels_ for seed in KMEANS_SEEDS]
    else:
        fits = [np.asarray(model.partition_)]
    per_seed = [evaluate(task.labels, pred) for pred in fits]
    out: dict[str, Any] = {"kmeans_seeds": len(fits)}
    for metric in ("nmi", "ri"):
        values = np.array([s[metric] for s in per_seed])
        out.update({metric: float(values.mean()), f"{metric}_std": float(values.std()),
                    f"{metric}_per_seed": values.round(6).tolist()})
    out["other_nmi"] = {concept: float(np.mean([evaluate(labels, pred)["nmi"] for pred in fits]))
                        for concept, labels in task.other_labels.items()}
    out["labels"] = np.asarray(fits[0]).tolist()
    return out


def audit_concept_record(path: Path, record: dict[str, Any], root: Path, task: ConceptTask | None,
                         provenance_keys: Sequence[str]) -> list[str]:
    """What is wrong with one stored concept run (empty: nothing), as the reference audit checks a run record: filed
    under another run's path or config id, incomplete provenance, labels not one per sample, summary scores that are
    not the mean and spread of its per-seed scores, and, when the task is given, a seed-0 partition whose scores
    (and, for a one-partition method, its other-concept NMI) are not the recorded ones."""
    run = ConceptRun(record["method"], record["task"], int(record["seed"]), record["params"], record["encoder"])
    problems = []
    if run.cache_path(root) != path:
        problems.append(f"filed under {path.relative_to(root)} but is the run "
                        f"{run.cache_path(root).relative_to(root)}")
    if record.get("config_id") != run.config_id:
        problems.append(f"config_id {record.get('config_id')} is not its config's ({run.config_id})")
    missing = [k for k in provenance_keys if k not in record.get("provenance", {})]
    if missing:
        problems.append(f"provenance lacks {missing}")
    labels = np.asarray(record["labels"])
    if len(labels) != record.get("n_samples"):
        problems.append(f"{len(labels)} labels for n_samples {record.get('n_samples')}")
    for metric in ("nmi", "ri"):
        per_seed = np.asarray(record[f"{metric}_per_seed"])
        stored = (record[metric], record[f"{metric}_std"], record["kmeans_seeds"])
        recomputed = (round(float(per_seed.mean()), 6), round(float(per_seed.std()), 6), len(per_seed))
        if recomputed[2] != stored[2] or not np.allclose(stored[:2], recomputed[:2], atol=2e-6):
            problems.append(f"{metric}, {metric}_std, kmeans_seeds do not follow from {metric}_per_seed (stored "
                            f"{stored}, recomputed {recomputed})")
    if task is not None and len(labels) == task.n_samples:
        again = evaluate(task.labels, labels)
        off = {f"{m}_per_seed[0]": (record[f"{m}_per_seed"][0], round(again[m], 6)) for m in ("nmi", "ri")
               if abs(record[f"{m}_per_seed"][0] - again[m]) > 1e-6}
        if record["kmeans_seeds"] == 1:  # the one partition is all other_nmi was computed from
            other = {c: evaluate(truth, labels)["nmi"] for c, truth in task.other_labels.items()}
            off.update({f"other_nmi[{c}]": (record["other_nmi"].get(c), round(v, 6))
                        for c, v in other.items() if not np.isclose(record["other_nmi"].get(c, -1), v)})
        if off:
            problems.append(f"scores do not follow from its labels (stored, recomputed): {off}")
    return problems


def audit_task(name: str) -> ConceptTask | None:
    """The task a stored run is audited against: a planted one is rebuilt here; a real image set's needs its data
    and CLIP features, so its records are audited without it (None)."""
    return planted_task(name) if PLANTED.match(name) else None


def method_outputs(model: Any) -> dict[str, Any]:
    """What a run records beyond its scores: Multi-DProxy's candidate evolution and surviving words."""
    keep = ("candidate_history_", "active_words_")
    return {name.rstrip("_"): getattr(model, name) for name in keep if hasattr(model, name)}


def run_one(run: ConceptRun, task: ConceptTask, profile: str | None) -> dict[str, Any]:
    seed_everything(run.seed)
    start = time.perf_counter()
    model = build_method(run.method, task, run.seed, run.params).fit_task(task)
    seconds = time.perf_counter() - start
    return {**run.config, "seed": run.seed, "config_id": run.config_id, "method_label": model.reported_as,
            "concept": task.concept, "n_samples": task.n_samples, "seconds": seconds, **score_run(model, task),
            "outputs": method_outputs(model), "provenance": run_provenance(model, profile, seconds)}


def run_concepts(runs: Sequence[ConceptRun], tasks: Callable[[str], ConceptTask] | None = None,
                 root: str | Path | None = None, compute: bool = True, profile: str | None = None,
                 progress: bool = True, keep_outputs: bool = False, n_jobs: int = 1,
                 scheduler: Any = None) -> pd.DataFrame:
    """Every run's record (from `root`, default <results>/multiclust, or computed and written there by
    experiments.runner.run_grid: `n_jobs` processes, or the Dask cluster `scheduler`, default $MMC_DASK_SCHEDULER);
    one row per run with its label (default: its method) and image set. compute=False only reads (runs not stored
    are left out). `tasks` builds a task by name (default: each run's own, the planted data's). keep_outputs: keep
    each run's extra outputs (candidate evolution) in an `outputs` column."""
    runs = [replace(run, tasks=tasks) for run in runs] if tasks is not None else list(runs)
    root = Path(root) if root is not None else results_dir() / "multiclust"
    frame = run_grid(runs, cache_dir=root, n_jobs=n_jobs, progress=progress, keep_labels=True, profile=profile,
                     compute=compute, scheduler=scheduler)
    if frame.empty:
        return pd.DataFrame()
    frame = frame.assign(label=frame["label"].fillna(frame["method"]), dataset=frame["task"].map(image_set))
    return frame.drop(columns=["labels", *([] if keep_outputs else ["outputs"])])
