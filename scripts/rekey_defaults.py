"""Kept as the record of what was done to the shipped runs when a method's default changed. Run once per change,
right after the default changed and before any run under the new default is shipped (those do not name the parameter
either, and would be filed under the old value).

A run's identity is its method, dataset, the parameters it names, its resolved scaling and seed. Records made before
a default changed ran the old value without naming it, so under the new default their identity would claim the new
one. This script files each of them under the run it is now: the same parameters with the old value named (the
scaling is recorded resolved already), which is the same computation, so the same labels. Then, where a run the
method's batches of scripts/reference_runs.py now ask for is the same computation as a shipped record (the changed
parameter has no effect on it), the record is copied under that run's path too. Each changed record says so in its
provenance (`rekeyed`, `same_computation_as`).

- ddmc: beta 0.1 -> 1 and min-max -> the data rule, when DDMC adopted its label-free choices (ddmc/07); beta does
  not enter when both beta-weighted terms (balance and agreement) are switched off.
- sdcib: balance "none" (IIC's exact cluster MI) -> "sinkhorn" (under equipartition), after the collapse study
  (scripts/sdcib_collapse.py); balance does not enter when the cluster-consistency term is switched off.

    python scripts/rekey_defaults.py ddmc|sdcib [--store reference/runs]
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from mmc_core.experiments.reference import iter_records, spec_of
from mmc_core.experiments.runner import RunSpec
from mmc_core.io import atomic_write_json
from mmc_core.methods.ddmc import CDL_TERMS
from mmc_core.paths import REFERENCE_RUNS_DIR


@dataclass(frozen=True)
class Change:
    parameter: str
    old: Any
    new: Any
    why: str
    batches: tuple[str, ...]  # the batches of scripts/reference_runs.py that ask for runs under the new default
    inert: Callable[[Mapping[str, Any]], bool]  # True where the parameter does not enter the computation


CHANGES = {
    "ddmc": Change("beta", 0.1, 1.0, "the default became the label-free choice (ddmc/07)",
                   ("ddmc-msrc", "ddmc-event", "ddmc-landuse", "ddmc-alpha-beta"),
                   lambda params: set(CDL_TERMS) <= set(params.get("disable", ()))),
    "sdcib": Change("balance", "none", "sinkhorn", "the collapse study made the equipartition reading the default",
                    ("sdcib-balanced",), lambda params: "cluster_consistency" in params.get("disable", ())),
}


def computation(spec: RunSpec, change: Change) -> tuple:
    """What a run computes: its parameters with the changed one filled in (dropped where it does not enter), its
    resolved scaling, dataset, seed and outputs."""
    params: dict[str, Any] = {change.parameter: change.new, **spec.params}
    if change.inert(params):
        params.pop(change.parameter)
    return (spec.dataset, spec.seed, spec.resolved_scaling(), tuple(sorted(spec.outputs)),
            json.dumps(params, sort_keys=True))  # JSON: a tuple and a list of the same names are one parameter


def needed_specs(change: Change) -> list[RunSpec]:
    """The runs the method's batches ask for under the new default."""
    sys.path.insert(0, str(Path(__file__).parent))
    from reference_runs import BATCHES

    return [s for name in change.batches for s in BATCHES[name]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("method", choices=sorted(CHANGES))
    parser.add_argument("--store", type=Path, default=REFERENCE_RUNS_DIR)
    args = parser.parse_args(argv)
    root, change = args.store, CHANGES[args.method]
    records = [(path, record) for path, record in iter_records(root) if record["method"] == args.method]
    rekeyed = 0
    by_computation: dict[tuple, tuple[Path, dict]] = {}
    for path, record in records:
        if change.parameter not in record["params"] and "same_computation_as" not in record["provenance"]:
            record = {**record, "params": {**record["params"], change.parameter: change.old}}
            spec = spec_of(record)
            record["config_id"] = spec.config_id
            record["provenance"] = {**record["provenance"], "rekeyed": (
                f"made when {args.method}'s default {change.parameter} was {change.old!r} and unnamed; filed with "
                f"{change.parameter} {change.old!r} named (the same computation) when {change.why}")}
            target = spec.cache_path(root)
            atomic_write_json(target, record)
            if target != path:
                path.unlink()
            path, rekeyed = target, rekeyed + 1
        by_computation[computation(spec_of(record), change)] = (path, record)
    copied = 0
    for spec in needed_specs(change):
        target = spec.cache_path(root)
        source = by_computation.get(computation(spec, change))
        if target.exists() or source is None:
            continue
        path, record = source
        record = {**record, "params": dict(spec.params), "config_id": spec.config_id,
                  "provenance": {**record["provenance"], "same_computation_as": str(path.relative_to(root))}}
        atomic_write_json(target, record)
        copied += 1
    print(f"{len(records)} {args.method} records: {rekeyed} filed with {change.parameter} {change.old!r} named, "
          f"{copied} copied under a run the batches ask for")
    return 0


if __name__ == "__main__":
    sys.exit(main())
