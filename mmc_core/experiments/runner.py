"""Run grids of (method x dataset x seed x config) with a per-run result cache.

Each run is identified by its method, dataset, parameters, scaling and recorded outputs (the config id) and its
seed; the device it trains on is not part of it (as the number of jobs: where a run is computed, not what it is), its
record's provenance names it. Its record is written atomically to
<cache>/<dataset>/<method>/<config id>/seed<seed>.json as soon as it finishes, so an interrupted grid resumes where it
stopped and a finished run is never recomputed. The shipped
reference runs (`reference/runs/`) use the same layout: a grid can be read from them without computing anything.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Protocol, Sequence

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from ..data import canonical_name, get_entry, load_dataset
from ..data.registry import unavailable
from ..deep.device import gpu_problem
from ..deep.seeds import fit_seeds, why_not_together
from ..io import NotJsonObject, atomic_write_json, ensure_writable_dir, read_json_object
from ..methods import make, method_class
from ..metrics import evaluate
from ..paths import results_dir
from ..preprocessing import BY_FEATURE_TYPE, rule_scaling
from ..seeding import seed_everything
from .outputs import NEEDS_LABELS, check_outputs, compute_outputs
from .provenance import run_provenance

RESULT_VERSION = 1  # bump when the meaning of a cached result changes, so stale caches are not reused
PLACEMENT_PARAMS = ("device",)  # say where a run is computed, not what it computes: outside its identity


def identity_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """A run's parameters as its identity holds them, sorted: all but those saying where it is computed
    (PLACEMENT_PARAMS), so that a run made on a GPU is the run that `auto`, the reference store and the report read."""
    return {name: value for name, value in sorted(params.items()) if name not in PLACEMENT_PARAMS}


def config_hash(config: Mapping[str, Any]) -> str:
    """A run configuration's id: the first 12 hex digits of the SHA-1 of its sorted JSON."""
    return hashlib.sha1(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()[:12]


@dataclass(frozen=True)
class RunSpec:
    """One run: a method with parameters on a dataset with one seed."""

    method: str
    dataset: str
    seed: int
    params: Mapping[str, Any] = field(default_factory=dict)
    scaling: str | None = None  # None: the method's default_scaling, else the dataset's registry default
    outputs: tuple[str, ...] = ()  # extra outputs recorded with the run (experiments.outputs), e.g. ("history",)
    label: str | None = None  # the table row the run stands for (e.g. an ablation's name); not part of its identity

    def __post_init__(self) -> None:
        """The registry's spelling of the dataset, so "event" and "Event" share one cache tree and paper cells; a
        scaling among the parameters is refused (it would enter the run's identity twice)."""
        object.__setattr__(self, "dataset", canonical_name(self.dataset))
        if "scaling" in self.params:
            raise ValueError(f"{self.method}: give the scaling as RunSpec(scaling=...) or make_grid(scaling=...), not "
                             f"among the parameters (got params scaling={self.params['scaling']!r}).")

    def resolved_scaling(self) -> str:
        """Explicit scaling, else the method's own (classical baselines run on raw features; "by feature type": the
        label-free data rule, preprocessing.rule_scaling), else the dataset's."""
        if self.scaling is not None:
            return self.scaling
        method_default = getattr(method_class(self.method), "default_scaling", None)
        if method_default == BY_FEATURE_TYPE:
            return rule_scaling(get_entry(self.dataset))
        return method_default or get_entry(self.dataset).get("scaling", "minmax")

    @property
    def config(self) -> dict[str, Any]:
        config = {
            "method": self.method.lower(),
            "dataset": self.dataset,
            "params": identity_params(self.params),
            "scaling": self.resolved_scaling(),
            "version": RESULT_VERSION,
        }
        if self.outputs:
            config["outputs"] = sorted(check_outputs(self.outputs))
        return config

    @property
    def config_id(self) -> str:
        return config_hash(self.config)

    def cache_path(self, cache_dir: Path) -> Path:
        return cache_dir / self.dataset / self.method.lower() / self.config_id / f"seed{self.seed}.json"

    def execute(self, data_dir: str | None, profile: str | None) -> dict[str, Any]:
        """The run's record, computed (`run_one`)."""
        return run_one(self, data_dir, profile)


class Run(Protocol):
    """What `run_grid` needs of a run: a RunSpec (a method on a dataset's feature views) or a
    mmc_core.multiclust.runs.ConceptRun (a concept method on an image set's concept), so both share one cache, one
    reader of stored records, `n_jobs` processes and Dask. A run's identity is its `config` (hashed: `config_id`)
    and `seed`; `label` names its table row; `execute` computes its record where the job runs (picklable: it
    carries what it needs to load its data)."""

    method: str
    seed: int
    params: Mapping[str, Any]
    label: str | None

    @property
    def dataset(self) -> str: ...

    @property
    def config(self) -> dict[str, Any]: ...

    @property
    def config_id(self) -> str: ...

    def cache_path(self, cache_dir: Path) -> Path: ...

    def execute(self, data_dir: str | None, profile: str | None) -> dict[str, Any]: ...


MethodEntry = str | tuple[str, Mapping[str, Any]] | tuple[str, Mapping[str, Any], str]


def make_grid(
    methods: Iterable[MethodEntry],
    datasets: Iterable[str],
    seeds: int | Sequence[int],
    base_seed: int = 0,
    scaling: str | None = None,
    outputs: tuple[str, ...] = (),
) -> list[RunSpec]:
    """All runs of methods x datasets x seeds. A method is a name, (name, params) or (name, params, label): the
    label names the table row its runs stand for (summarize groups by it). Single-view methods (class attribute
    `per_view`) are expanded over every view of the dataset unless a `view` parameter is given. Seeds are
    base_seed + run."""
    seed_list = [base_seed + r for r in range(seeds)] if isinstance(seeds, int) else list(seeds)
    methods = list(methods)  # iterated once per dataset
    specs = []
    for dataset in datasets:
        n_views = len(feature_dims(dataset))
        for m in methods:
            name, params, label = ((m, {}, None) if isinstance(m, str)
                                   else (m[0], dict(m[1]), m[2] if len(m) > 2 else None))
            variants = [params]
            if getattr(method_class(name), "per_view", False) and "view" not in params:
                variants = [{**params, "view": v} for v in range(n_views)]
            specs += [RunSpec(name, dataset, s, p, scaling, outputs, label) for p in variants for s in seed_list]
    return specs


def feature_dims(dataset: str) -> tuple[int, ...]:
    """The registered view dimensions of a multi-view dataset, which the methods of a grid cluster. An image set has
    none (its concepts are clustered by the concept methods, mmc_core.multiclust); a dataset without a public file
    has none registered (DatasetUnavailable says how to obtain it)."""
    entry = get_entry(dataset)
    if entry.kind != "multiview":
        concepts = ", ".join(entry.clusterings)
        raise ValueError(f"{entry.name} is an image set (concepts: {concepts}), not multi-view features: the "
                         f"methods of a grid cluster feature views. Cluster one of its concepts with a concept method "
                         f"on the task '{entry.name}@<concept>' instead (mmc_core.multiclust; on the command line: "
                         f"`python -m mmc_core run multidproxy {entry.name}@{next(iter(entry.clusterings), 'concept')}"
                         f"`, and `python -m mmc_core methods` lists the concept methods).")
    if entry.dims is None:
        raise unavailable(entry, None)
    return entry.dims


def label_runs(results: pd.DataFrame, specs: Sequence[RunSpec]) -> pd.DataFrame:
    """The results with a `label` column taken from the specs (matched by config id): a stored record carries no
    label, so one run can stand for different rows in different notebooks. A config given two labels is an error."""
    labels: dict[str, str | None] = {}
    for spec in specs:
        if labels.setdefault(spec.config_id, spec.label) != spec.label:
            raise ValueError(f"One run configuration has two labels, {labels[spec.config_id]!r} and {spec.label!r} "
                             f"({spec.method} {dict(spec.params)}): give each row its own configuration.")
    if results.empty:
        return results.assign(label=pd.Series(dtype=object))
    return results.assign(label=results["config_id"].map(labels))


@lru_cache(maxsize=8)
def _dataset(name: str, data_dir: str | None):
    ds = load_dataset(name, data_dir=data_dir)
    return ds.views, ds.labels, ds.n_clusters


def build_model(spec: RunSpec, n_clusters: int) -> Any:
    """The spec's estimator, given the scaling the spec resolves to: the estimator scales the raw views itself, as
    `make(...).fit(views)` does for a library user."""
    return make(spec.method, n_clusters=n_clusters, random_state=spec.seed, scaling=spec.resolved_scaling(),
                **spec.params)


def run_one(spec: RunSpec, data_dir: str | None = None, profile: str | None = None) -> dict[str, Any]:
    """Fit the method on the dataset and score it against the labels (labels are used only for scoring, and to
    score each epoch when the run records its history). The record carries its provenance (experiments.provenance)."""
    views, labels, n_clusters = _dataset(spec.dataset, data_dir)
    seed_everything(spec.seed)
    model = build_model(spec, n_clusters)
    start = time.perf_counter()
    pred = model.fit_predict(views, y=labels if NEEDS_LABELS & set(spec.outputs) else None)
    return _record(spec, model, pred, time.perf_counter() - start, start, views, labels, profile)


def check_one_cell_specs(specs: Sequence[RunSpec]) -> None:
    """run_together's precondition: specs that differ only in seed, each seed once; else a ValueError naming what
    differs."""
    if not specs:
        raise ValueError("run_together needs at least one run.")
    facets = {"method": lambda s: s.method.lower(), "dataset": lambda s: s.dataset,
              "parameters": lambda s: repr(sorted(s.params.items())), "scaling": RunSpec.resolved_scaling,
              "outputs": lambda s: repr(sorted(s.outputs))}
    differing = [name for name, facet in facets.items() if len({facet(s) for s in specs}) > 1]
    if differing:
        raise ValueError(f"run_together trains the seeds of one cell; these runs also differ in "
                         f"{', '.join(differing)}: group them by config_id (run_grid does) and call it per group.")
    seeds = [s.seed for s in specs]
    if len(set(seeds)) < len(seeds):
        raise ValueError(f"run_together was given a seed more than once ({sorted(seeds)}): each seed is one run.")


def run_together(specs: Sequence[RunSpec], data_dir: str | None = None,
                 profile: str | None = None) -> list[dict[str, Any]]:
    """The runs of one cell (specs that differ only in seed) with their seeds trained together
    (mmc_core.deep.seeds); each record is the one `run_one` gives, but for the timing: `seconds` is the cell's
    training time shared equally among its seeds, and the provenance names the seeds trained together. Specs that
    are not one cell (another method, dataset, parameter set, scaling or outputs, or a seed twice) are refused:
    trained together they would all run on the first one's data and be filed under the others' names."""
    check_one_cell_specs(specs)
    first = specs[0]
    views, labels, n_clusters = _dataset(first.dataset, data_dir)
    models = [build_model(s, n_clusters) for s in specs]
    start = time.perf_counter()
    fit_seeds(models, views)
    share = (time.perf_counter() - start) / len(specs)
    records = []
    for spec, model in zip(specs, models):
        record = _record(spec, model, model.labels_, share, time.perf_counter() - share, views, labels, profile)
        record["provenance"]["seeds_trained_together"] = [s.seed for s in specs]
        records.append(record)
    return records


def _record(spec: RunSpec, model: Any, pred: np.ndarray, seconds: float, start: float, views: list[np.ndarray],
            labels: np.ndarray, profile: str | None) -> dict[str, Any]:
    """A fitted run's record: its configuration, scores, labels, extra outputs and provenance (wall time since
    `start`)."""
    extras = compute_outputs(spec.outputs, model, views, labels)
    return {
        **spec.config,
        "method_label": getattr(type(model), "reported_as", spec.method),
        "seed": spec.seed,
        "config_id": spec.config_id,
        "seconds": seconds,
        "n_samples": int(len(labels)),
        **evaluate(labels, pred),
        "nmi_geometric": geometric_nmi(labels, pred),
        **partition_fields(pred, model.n_clusters),
        "labels": np.asarray(pred).tolist(),
        **training_record(model, labels),
        **({"output_data": extras} if extras else {}),
        "provenance": run_provenance(model, profile, time.perf_counter() - start),
    }


def partition_fields(labels: Sequence[int] | np.ndarray, n_clusters: int) -> dict[str, Any]:
    """What a partition uses of the k clusters asked for: k, how many clusters hold a sample, and each cluster's
    size (index = cluster label). A run with clusters_used < n_clusters is flagged wherever it is shown."""
    sizes = np.bincount(np.asarray(labels, dtype=np.int64), minlength=n_clusters)
    return {"n_clusters": int(n_clusters), "clusters_used": int((sizes > 0).sum()), "cluster_sizes": sizes.tolist()}


LABEL_SCORES = ("acc", "nmi", "pur")  # per-epoch scores a history holds when labels were given: not training data


def geometric_nmi(truth: np.ndarray, pred: np.ndarray) -> float:
    """NMI normalised by the geometric mean of the entropies (the IDMC/DDMC/SDCIB group's code); `nmi` is ours,
    the arithmetic mean (scikit-learn's default)."""
    return evaluate(truth, pred, nmi_average="geometric")["nmi"]


def training_record(model: Any, truth: np.ndarray) -> dict[str, Any]:
    """A deep run's training as the reporting protocols need it: the per-epoch loss terms and total
    (`loss_history`) and, per label-free epoch-selection criterion (engine.EpochSelection), the epoch chosen, its
    partition and that partition's scores (`epoch_labels`; scored like the run, so the protocols are read from the
    store without the data); nothing for a method without a training history."""
    history = getattr(model, "history_", None)
    if history is None:
        return {}
    out: dict[str, Any] = {"loss_history": history.drop(columns=[c for c in LABEL_SCORES if c in history])
                           .to_dict("records")}
    chosen = getattr(model, "epoch_labels_", {})
    if chosen:
        out["epoch_labels"] = {name: {"epoch": int(c["epoch"]), "value": float(c["value"]),
                                      "labels": np.asarray(c["labels"]).tolist(),
                                      "scores": {**evaluate(truth, c["labels"]),
                                                 "nmi_geometric": geometric_nmi(truth, c["labels"])}}
                               for name, c in chosen.items()}
    return out


def runs_on_gpu(spec: RunSpec) -> bool:
    """Whether a run trains on a CUDA GPU: its device parameter (default auto) as the trainer resolves it here (a
    GPU asked for by name counts even when unusable: its fit then refuses with the reason)."""
    device = str(spec.params.get("device", "auto"))
    return device.startswith("cuda") or (device == "auto" and gpu_problem() is None)


def cells_together(specs: Sequence[RunSpec]) -> tuple[list[list[RunSpec]], list[RunSpec]]:
    """The specs split into cells whose seeds can train together (two or more seeds of one configuration, a method
    that declares it, no outputs that need labels during training) and the rest, run one by one."""
    cells: dict[str, list[RunSpec]] = {}
    alone: list[RunSpec] = []
    for spec in specs:
        cls = method_class(spec.method) if isinstance(spec, RunSpec) else None  # a concept run trains alone
        batchable = getattr(cls, "trains_seeds_together", False) and not NEEDS_LABELS & set(spec.outputs)
        if batchable and why_not_together(cls(2, **spec.params)) is None:
            cells.setdefault(spec.config_id, []).append(spec)
        else:
            alone.append(spec)
    together = [cell for cell in cells.values() if len(cell) > 1]
    alone += [cell[0] for cell in cells.values() if len(cell) == 1]
    return together, alone


def _run_job(specs: Sequence[Run], cache_dir: Path | None, data_dir: str | None, threads: int | None,
             profile: str | None) -> list[dict]:
    """One unit of a grid's work, its records written to the cache as soon as they exist: a cell's seeds trained
    together (two or more specs: `run_together`) or one run (its `execute`). threads: the BLAS threads it may use
    (None: as set)."""
    limit = nullcontext()
    if threads is not None:
        from threadpoolctl import threadpool_limits

        limit = threadpool_limits(threads)
    with limit:
        results = run_together(specs, data_dir, profile) if len(specs) > 1 else [specs[0].execute(data_dir, profile)]
    if cache_dir is not None:
        for spec, result in zip(specs, results):
            atomic_write_json(spec.cache_path(cache_dir), result)
    return results


def read_record(spec: Any, path: Path) -> dict[str, Any]:
    """A stored run record, checked against the spec it is filed under (a RunSpec, or any run with `config` and
    `seed`, as multiclust's ConceptRun); any problem names the file."""
    try:
        record = read_json_object(path)
    except NotJsonObject as err:
        problem = (f"cannot be read ({err.cause})" if err.cause is not None
                   else f"holds a JSON {err.found}, not a run record (an object)")
        raise ValueError(f"Run record {path} {problem}; delete it to recompute the run.") from None
    expected = {**spec.config, "seed": spec.seed}
    found = {key: record.get(key) for key in expected}
    if json.dumps(found, sort_keys=True, default=str) != json.dumps(expected, sort_keys=True, default=str):
        raise ValueError(f"Run record {path} is not the run it is filed under (expected {expected}, found "
                         f"{found}); delete it to recompute the run.")
    return record


def with_partition_fields(record: dict[str, Any]) -> dict[str, Any]:
    """A record with its partition fields (`partition_fields`), computed from its stored labels where a record
    written before they existed lacks them (k from the registry); a concept run's record (its task, not a dataset,
    names its data) is returned as stored."""
    if "clusters_used" in record or "labels" not in record or "dataset" not in record:
        return record
    return {**record, **partition_fields(record["labels"], get_entry(record["dataset"])["clusters"])}


DASK_ENV = "MMC_DASK_SCHEDULER"
SEEDS_TOGETHER_ENV = "MMC_SEEDS_TOGETHER"


def _on_dask(scheduler: Any, jobs: Sequence[Sequence[Run]], cache: Path | None, data_dir: str | None,
             profile: str | None) -> Iterable[list[dict]]:
    """The jobs' records (`_run_job`), computed on the Dask cluster `scheduler` (a Client or an address), in
    completion order; one BLAS thread per job, as for local processes. Submitted to the cluster directly: joblib's
    dask backend runs the jobs here, in this process, when the cluster has one thread."""
    from dask.distributed import Client, as_completed

    client = scheduler if isinstance(scheduler, Client) else Client(scheduler)
    try:
        futures = [client.submit(_run_job, job, cache, data_dir, 1, profile, pure=False) for job in jobs]
        yield from (future.result() for future in as_completed(futures))
    finally:
        if client is not scheduler:
            client.close()


def _announced(jobs: Sequence[Sequence[Run]], bar: tqdm) -> Iterator[Sequence[Run]]:
    """The jobs in order, each named on the progress bar while it runs."""
    for job in jobs:
        first = job[0]
        bar.set_postfix_str(f"{first.method} {first.dataset} " + (f"{len(job)} seeds together" if len(job) > 1
                                                                   else f"seed {first.seed}"))
        yield job


def run_grid(
    specs: Sequence[Run],
    cache_dir: str | Path | None = "default",
    n_jobs: int = 1,
    data_dir: str | None = None,
    progress: bool = True,
    keep_labels: bool = False,
    profile: str | None = None,
    compute: bool = True,
    scheduler: Any = None,
    seeds_together: bool | None = None,
) -> pd.DataFrame:
    """Run every spec not already in the cache; return one row per run (cached and new), labelled by its spec. A
    spec is a RunSpec or a concept run (multiclust.runs.ConceptRun, `Run`): both are cached, parallel and on Dask alike.

    cache_dir: "default" = <results>/cache, None = no cache. n_jobs > 1 runs the grid's jobs in parallel
    processes, each limited to one BLAS thread (two 2-thread processes on 2 cores run slower than one); on a GPU the
    processes share it, so the runs of methods whose seeds cannot train together still keep it busy (concurrent
    runs: `make reproduce DEVICE=cuda JOBS=4`). profile: recorded in each new run's provenance. compute=False only
    reads: runs absent from the cache are left out (reference mode).
    scheduler: run the grid on a Dask cluster (joblib's dask backend) — a `dask.distributed.Client`, or a scheduler
    address ("tcp://host:8786"); default $MMC_DASK_SCHEDULER if set. Each worker writes its runs into the cache, so
    the cache and the data directory must be on storage every worker sees; an interrupted grid resumes from the
    cache as a local one does.
    seeds_together: train the seeds of a cell together where the method can (mmc_core.deep.seeds: one batched
    computation, one job; per seed the same record but for its timing), the other runs one job each, wherever the
    jobs run (here, in processes, on Dask). None: as $MMC_SEEDS_TOGETHER says ("1" always, "0" never), and where it
    says nothing, for the runs that train on a CUDA GPU (`runs_on_gpu`: their device, `auto` resolved in this
    process; on the CPU the benchmark measures no gain: README, "Seeds trained together").
    """
    scheduler = scheduler if scheduler is not None else os.environ.get(DASK_ENV) or None
    if seeds_together is None:
        asked = os.environ.get(SEEDS_TOGETHER_ENV, "")
        seeds_together = asked == "1" if asked in ("0", "1") else None
    cache = results_dir() / "cache" if cache_dir == "default" else (Path(cache_dir) if cache_dir else None)
    data_dir = str(data_dir) if data_dir is not None else None
    done, todo = [], []
    for spec in specs:
        path = spec.cache_path(cache) if cache else None
        if path is not None and path.exists():
            done.append(with_partition_fields(read_record(spec, path)))
        else:
            todo.append(spec)
    if not compute:
        todo = []
    if todo and cache is not None:
        ensure_writable_dir(cache, "set MMC_RESULTS_DIR to a writable directory, pass another cache_dir, or fix the "
                                   "directory's permissions")
    # Closed on error too, so an error message starts on a line of its own.
    with tqdm(total=len(done) + len(todo), initial=len(done), desc="runs", disable=not progress, unit="run") as bar:
        if seeds_together is None:
            on_gpu = [runs_on_gpu(spec) for spec in todo]
            cells, alone = cells_together([spec for spec, gpu in zip(todo, on_gpu) if gpu])
            alone += [spec for spec, gpu in zip(todo, on_gpu) if not gpu]
        else:
            cells, alone = cells_together(todo) if seeds_together else ([], todo)
        jobs = [*cells, *([spec] for spec in alone)]
        if scheduler is not None and jobs:
            finished = _on_dask(scheduler, jobs, cache, data_dir, profile)
        elif n_jobs == 1:
            finished = (_run_job(job, cache, data_dir, None, profile) for job in _announced(jobs, bar))
        else:
            from joblib import Parallel, delayed

            tasks = (delayed(_run_job)(job, cache, data_dir, 1, profile) for job in jobs)
            finished = Parallel(n_jobs=n_jobs, return_as="generator_unordered")(tasks)
        for results in finished:
            done.extend(results)
            bar.update(len(results))
    frame = label_runs(pd.DataFrame(done), specs)
    if not keep_labels:
        bulky = ("labels", "output_data", "epoch_labels", "loss_history", "cluster_sizes")
        frame = frame.drop(columns=[c for c in bulky if c in frame])
    return frame
