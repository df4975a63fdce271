"""Kept as the record of what was done to the shipped runs when the device left a run's identity.

A run's identity (its config id, the folder its records are filed under) held the device it was asked to train on
(`auto`, `cpu`, `cuda`), so one computation had three ids: runs made with DEVICE=cuda were never read by the reference
profile, and `auto` on a GPU read CPU runs. The device now says where a run is computed, not what it is
(runner.identity_params; the record's provenance names the device it trained on). This script files every record
under the id its stored configuration has without the device, and rewrites the record's `params` and `config_id` to
match. Records that meet under one new id (the same run asked for with two devices) must be the same computation:
identical but for their provenance and timing, seed by seed; otherwise nothing is written and the clashes are listed.
Run once, in the commit that takes the device out of the identity; a second run finds nothing to do.

    python scripts/rekey_device.py [--store reference/runs] [--concepts reference/multiclust]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Callable

from mmc_core.experiments.reference import iter_records, spec_of
from mmc_core.io import atomic_write_json
from mmc_core.multiclust.runs import ConceptRun
from mmc_core.paths import REFERENCE_CONCEPT_RUNS_DIR, REFERENCE_RUNS_DIR

WHERE_AND_WHEN = ("params", "config_id", "provenance", "seconds")  # may differ between records of one computation

Identity = Callable[[dict[str, Any], Path], tuple[Path, dict[str, Any]]]  # record, root -> its path, config fields


def dataset_run(record: dict[str, Any], root: Path) -> tuple[Path, dict[str, Any]]:
    """A run record's path and config fields under the current identity (runner.RunSpec)."""
    spec = spec_of(record)
    return spec.cache_path(root), {**spec.config, "config_id": spec.config_id}


def concept_run(record: dict[str, Any], root: Path) -> tuple[Path, dict[str, Any]]:
    """A concept run record's path and config fields under the current identity (multiclust.runs.ConceptRun)."""
    run = ConceptRun(record["method"], record["task"], int(record["seed"]), record["params"], record["encoder"])
    return run.cache_path(root), {**run.config, "config_id": run.config_id}


def computation(record: dict[str, Any]) -> str:
    """What a record computed: everything but where and when (WHERE_AND_WHEN), as canonical JSON."""
    return json.dumps({k: v for k, v in record.items() if k not in WHERE_AND_WHEN}, sort_keys=True)


def plan(root: Path, identity: Identity) -> tuple[dict[Path, list[tuple[Path, dict]]], list[str]]:
    """The store's records grouped by the path they belong under now, and the clashes: groups whose records are not
    one computation."""
    groups: dict[Path, list[tuple[Path, dict]]] = {}
    for path, record in iter_records(root):
        groups.setdefault(identity(record, root)[0], []).append((path, record))
    clashes = [f"{target.relative_to(root)} <- {', '.join(str(p.relative_to(root)) for p, _ in members)}"
               for target, members in groups.items() if len({computation(r) for _, r in members}) > 1]
    return groups, clashes


def rekey(root: Path, identity: Identity) -> tuple[int, int]:
    """Move and rewrite the store's records (see the module docstring); returns (records rewritten, files removed).
    Refuses (SystemExit) before writing anything when records that meet under one id differ."""
    groups, clashes = plan(root, identity)
    if clashes:
        raise SystemExit(f"{root}: records that meet under one id are not the same computation; nothing written:\n"
                         + "\n".join(clashes))
    rewritten = removed = 0
    for target, members in groups.items():
        path, record = next(((p, r) for p, r in members if p == target), members[0])  # keep one already in place
        new = {**record, **identity(record, root)[1]}
        if path != target or new != record:
            atomic_write_json(target, new)
            rewritten += 1
        for old, _ in members:
            if old != target:
                old.unlink()
                removed += 1
                for folder in (old.parent, old.parent.parent):
                    if folder.is_dir() and not any(folder.iterdir()):
                        folder.rmdir()
    return rewritten, removed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", type=Path, default=REFERENCE_RUNS_DIR)
    parser.add_argument("--concepts", type=Path, default=REFERENCE_CONCEPT_RUNS_DIR)
    args = parser.parse_args(argv)
    for root, identity in ((args.store, dataset_run), (args.concepts, concept_run)):
        rewritten, removed = rekey(root, identity)
        print(f"{root}: {rewritten} records rewritten under their device-free id, {removed} old files removed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
