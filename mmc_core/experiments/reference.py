"""The shipped reference store: full-profile run records kept in the repository (`reference/runs/`, and the concept
runs in `reference/multiclust/`), with the other shipped evidence under `reference/` (bench, diagnostics, ...).

Its layout is the run cache's (<dataset>/<method>/<config id>/seed<seed>.json), so the notebooks read it through
the runner in the `reference` profile. Here: reading the store, its manifest, and auditing one run record;
mmc_core.audit (above both experiments and multiclust) ships runs into it and audits the whole store, concept runs
included: every file against the store's manifest (reference/MANIFEST.tsv: path, sha256 and size of every file but
itself and README.md, so an edited, added or removed file is named), that every record is the run it is filed under,
that its scores follow from its labels, and that its provenance is complete — what CI runs on every change.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from ..data.tasks import image_set
from ..io import NotJsonObject, atomic_write_text, read_json_object
from ..metrics import evaluate
from ..paths import REFERENCE_CONCEPT_RUNS_DIR, REFERENCE_DIR, REFERENCE_RUNS_DIR
from .runner import RunSpec, partition_fields

PROVENANCE_KEYS = ("commit", "profile", "epochs_trained", "device", "threads", "wall_seconds", "packages")
SCORES = ("acc", "nmi", "pur", "ari", "ri", "f")
MANIFEST = "MANIFEST.tsv"  # under the store's root: one line per file, "path<TAB>sha256<TAB>size"
NOT_FINGERPRINTED = (MANIFEST, "README.md")  # the store's own files at its root, not evidence
MANIFEST_COMMAND = "python -m mmc_core reference manifest"


def record_paths(root: str | Path) -> list[Path]:
    """Every run record's path under root (<a>/<b>/<config id>/seed<seed>.json), in a stable order."""
    return sorted(Path(root).glob("*/*/*/seed*.json"))


def read_json_record(path: Path) -> dict[str, Any]:
    """One stored record; ValueError naming the file if it is not a JSON object."""
    try:
        return read_json_object(path)
    except NotJsonObject as err:
        if err.cause is None:
            raise ValueError(f"Run record {path} holds a JSON {err.found}, not a run record (an object).") from None
        raise ValueError(f"Run record {path} cannot be read ({err.cause}); restore it (`git checkout -- {path}` for a "
                         f"shipped one) or delete it.") from None


def iter_records(root: str | Path = REFERENCE_RUNS_DIR) -> Iterator[tuple[Path, dict[str, Any]]]:
    """Every run record under root, with its path, in a stable order."""
    for path in record_paths(root):
        yield path, read_json_record(path)


def concept_records(root: str | Path = REFERENCE_CONCEPT_RUNS_DIR) -> list[dict[str, Any]]:
    """The multiple-clustering runs' records under root (default: the shipped ones) with their image set as `dataset`,
    the key the report's provenance and the README's timings group records by."""
    return [{**record, "dataset": image_set(record["task"])} for _, record in iter_records(root)]


def spec_of(record: dict[str, Any]) -> RunSpec:
    """The run a record says it is."""
    return RunSpec(record["method"], record["dataset"], int(record["seed"]), record["params"], record["scaling"],
                   tuple(record.get("outputs", ())))


def fingerprinted_files(root: str | Path = REFERENCE_DIR) -> dict[str, Path]:
    """Every file under the store's root that its manifest lists, by its path relative to root."""
    root = Path(root)
    files = (p for p in sorted(root.rglob("*")) if p.is_file())
    return {rel: p for p in files if (rel := p.relative_to(root).as_posix()) not in NOT_FINGERPRINTED}


def fingerprint(path: Path) -> tuple[str, int]:
    """A file's sha256 and size in bytes."""
    data = path.read_bytes()
    return hashlib.sha256(data).hexdigest(), len(data)


def write_manifest(root: str | Path = REFERENCE_DIR) -> Path:
    """Record every file of the store (fingerprinted_files) in <root>/MANIFEST.tsv: run it (MANIFEST_COMMAND) after
    an intended change to the store, and commit the manifest with it."""
    root = Path(root)
    rows = [f"{rel}\t{sha}\t{size}" for rel, path in fingerprinted_files(root).items()
            for sha, size in [fingerprint(path)]]
    return atomic_write_text(root / MANIFEST, "\n".join(["path\tsha256\tsize", *rows]) + "\n")


def read_manifest(root: str | Path = REFERENCE_DIR) -> dict[str, tuple[str, int]]:
    """The manifest's (sha256, size) by path; ValueError naming the file and the fix if it cannot be read."""
    path = Path(root) / MANIFEST
    try:
        header, *lines = path.read_text().splitlines()
        rows = [line.split("\t") for line in lines]
        if header != "path\tsha256\tsize" or any(len(row) != 3 for row in rows):
            raise ValueError("not path<TAB>sha256<TAB>size lines under that header")
        return {rel: (sha, int(size)) for rel, sha, size in rows}
    except (OSError, ValueError) as err:
        raise ValueError(f"The store's manifest {path} cannot be read ({err}): restore it with `git checkout -- "
                         f"{path}`, or write it with `{MANIFEST_COMMAND}`.") from None


def manifest_problems(root: str | Path = REFERENCE_DIR) -> list[str]:
    """Every file of the store added, missing or changed since its manifest was written, one line each naming it."""
    root = Path(root)
    try:
        listed = read_manifest(root)
    except ValueError as err:
        return [str(err)]
    found = fingerprinted_files(root)
    problems = []
    for rel in sorted(listed.keys() | found.keys()):
        if rel not in found:
            problems.append(f"{rel}: listed in {MANIFEST} but missing")
        elif rel not in listed:
            problems.append(f"{rel}: not listed in {MANIFEST} (added)")
        elif (now := fingerprint(found[rel])) != listed[rel]:
            problems.append(f"{rel}: changed since {MANIFEST} was written (sha256 {now[0][:12]}, {now[1]} bytes; "
                            f"listed {listed[rel][0][:12]}, {listed[rel][1]} bytes)")
    return problems


def manifest_fix(root: str | Path = REFERENCE_DIR) -> str:
    """What to do about manifest problems: restore the files, or record an intended change."""
    return (f"Restore a file changed by mistake with `git checkout -- {Path(root)}/<path>`; if the change to the store "
            f"is intended, run `{MANIFEST_COMMAND}` and commit {Path(root) / MANIFEST} with it.")


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
