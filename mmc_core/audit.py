"""Auditing and shipping the reference store as a whole: run records (mmc_core.experiments.reference) and concept
run records (mmc_core.multiclust.runs) alike, every file against the store's manifest. It sits above both packages,
which is why it is not in either: the concept runs are built on the experiments' runner.
"""

from __future__ import annotations

import shutil
from functools import cache
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .experiments.reference import (PROVENANCE_KEYS, audit_record, iter_records, manifest_problems,
                                    read_json_record, record_paths)
from .multiclust.runs import audit_concept_record, audit_task
from .paths import REFERENCE_CONCEPT_RUNS_DIR, REFERENCE_DIR, REFERENCE_RUNS_DIR


def audit_store(root: str | Path = REFERENCE_DIR,
                dataset_labels: Callable[[str], np.ndarray | None] = lambda name: None) -> list[str]:
    """Every problem of the store, one line each naming its file: files that are not those of its manifest, run
    records (audit_record; scores recomputed where `dataset_labels` gives a dataset's labels) and concept run records
    (audit_concept_record, against the planted tasks rebuilt here) that are not consistent."""
    root = Path(root)
    labels_of = cache(dataset_labels)  # each dataset loaded once
    problems = manifest_problems(root)
    for folder in (root / REFERENCE_RUNS_DIR.name, root / REFERENCE_CONCEPT_RUNS_DIR.name):
        for path in record_paths(folder):
            try:
                record = read_json_record(path)
                labels = labels_of(record["dataset"]) if "dataset" in record else None
                problems += [f"{path.relative_to(root)}: {problem}"
                             for problem in audit_stored(path, record, folder, labels)]
            except (ValueError, KeyError, TypeError) as err:  # unreadable, or a field missing or of another type
                problems.append(f"{path.relative_to(root)}: cannot be audited ({type(err).__name__}: {err})")
    return problems


def audit_stored(path: Path, record: dict[str, Any], root: Path, labels: np.ndarray | None = None) -> list[str]:
    """What is wrong with a stored record under root: audit_record for a run's, audit_concept_record (against its
    task, where it can be rebuilt here) for a concept run's (which names a `task`)."""
    if "task" in record:
        return audit_concept_record(path, record, root, audit_task(record["task"]), PROVENANCE_KEYS)
    return audit_record(path, record, root, labels)


def ship(cache_dir: str | Path, store: str | Path = REFERENCE_RUNS_DIR, profile: str = "full") -> list[Path]:
    """Copy the cache's runs made at `profile` into the store (same relative path); returns the copied paths.
    A record already in the store is replaced only by the same run (its path is its identity). The cache's records
    are not taken on trust: if any record to copy fails the audit (audit_stored), nothing is copied and the
    ValueError names each record and its problem, since the manifest written after shipping would bless it."""
    cache_dir, store = Path(cache_dir), Path(store)
    todo = []
    for path, record in iter_records(cache_dir):
        target = store / path.relative_to(cache_dir)
        if record.get("provenance", {}).get("profile") == profile and (
                not target.exists() or target.read_bytes() != path.read_bytes()):
            todo.append((path, target, audit_stored(path, record, cache_dir)))
    problems = [f"{path}: {problem}" for path, _, found in todo for problem in found]
    if problems:
        raise ValueError(f"Nothing shipped from {cache_dir}: {len(problems)} problem(s) in its records (recompute "
                         f"those runs: delete their records and run them again):\n" + "\n".join(problems))
    for path, target, _ in todo:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        target.chmod(0o644)
    return [target for _, target, _ in todo]
