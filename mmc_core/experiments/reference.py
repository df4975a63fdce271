"""The shipped reference store: full-profile run records kept in the repository (`reference/runs/`).

Its layout is the run cache's (<dataset>/<method>/<config id>/seed<seed>.json), so the notebooks read it through
the runner in the `reference` profile. `ship` copies finished full-profile runs from a cache into it; `audit` checks
that every record is the run it is filed under, that its scores follow from its labels, and that its provenance is
complete — what CI runs on every change.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from ..metrics import evaluate
from ..data.tasks import image_set
from ..paths import REFERENCE_CONCEPT_RUNS_DIR, REFERENCE_RUNS_DIR
from .runner import RunSpec, partition_fields

PROVENANCE_KEYS = ("commit", "profile", "epochs_trained", "device", "threads", "wall_seconds", "packages")
SCORES = ("acc", "nmi", "pur", "ari", "ri", "f")


def iter_records(root: str | Path = REFERENCE_RUNS_DIR) -> Iterator[tuple[Path, dict[str, Any]]]:
    """Every run record under root, with its path, in a stable order."""
    for path in sorted(Path(root).glob("*/*/*/seed*.json")):
        yield path, json.loads(path.read_text())


def concept_records(root: str | Path = REFERENCE_CONCEPT_RUNS_DIR) -> list[dict[str, Any]]:
    """The multiple-clustering runs' records under root (default: the shipped ones) with their image set as `dataset`,
    the key the report's provenance and the README's timings group records by."""
    return [{**record, "dataset": image_set(record["task"])} for _, record in iter_records(root)]


def spec_of(record: dict[str, Any]) -> RunSpec:
    """The run a record says it is."""
    return RunSpec(record["method"], record["dataset"], int(record["seed"]), record["params"], record["scaling"],
                   tuple(record.get("outputs", ())))


def ship(cache_dir: str | Path, store: str | Path = REFERENCE_RUNS_DIR, profile: str = "full") -> list[Path]:
    """Copy the cache's runs made at `profile` into the store (same relative path); returns the copied paths.
    A record already in the store is replaced only by the same run (its path is its identity)."""
    cache_dir, store = Path(cache_dir), Path(store)
    copied = []
    for path, record in iter_records(cache_dir):
        if record.get("provenance", {}).get("profile") != profile:
            continue
        target = store / path.relative_to(cache_dir)
        if not target.exists() or target.read_bytes() != path.read_bytes():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
            target.chmod(0o644)
            copied.append(target)
    return copied


def audit_record(path: Path, record: dict[str, Any], root: Path, labels: np.ndarray | None) -> list[str]:
    """What is wrong with one record (empty: nothing): filed under another run's path, scores that do not follow
    from its labels (when the dataset's labels are given), partition fields (clusters used, sizes) missing or not
    those of its labels, outputs named but not recorded, incomplete provenance."""
    problems = []
    spec = spec_of(record)
    if spec.cache_path(root) != path:
        problems.append(f"filed under {path.relative_to(root)} but is the run {spec.cache_path(root).relative_to(root)}")
    if record.get("config_id") != spec.config_id:
        problems.append(f"config_id {record.get('config_id')} is not its config's ({spec.config_id})")
    absent = sorted(set(spec.outputs) - set(record.get("output_data", {})))
    if absent:
        problems.append(f"records no data for its outputs {absent}")
    missing = [k for k in PROVENANCE_KEYS if k not in record.get("provenance", {})]
    if missing:
        problems.append(f"provenance lacks {missing}")
    if "labels" in record and "clusters_used" in record:
        expected = partition_fields(record["labels"], record.get("n_clusters", 0))
        off = {k: (record.get(k), v) for k, v in expected.items() if record.get(k) != v}
        if off:
            problems.append(f"partition fields do not follow from its labels (stored, recomputed): {off}")
    elif "labels" in record:
        problems.append("records no partition fields (n_clusters, clusters_used, cluster_sizes)")
    if labels is not None:
        pred = np.asarray(record["labels"])
        if len(pred) != len(labels):
            problems.append(f"{len(pred)} labels for {len(labels)} samples")
        else:
            scores = evaluate(labels, pred)
            off = {k: (record.get(k), round(scores[k], 6)) for k in SCORES if not np.isclose(record.get(k), scores[k])}
            if off:
                problems.append(f"scores do not follow from its labels (stored, recomputed): {off}")
    return problems
