"""One-off, kept as the record of what was done to the shipped DDMC runs when DDMC adopted its label-free choices
(ddmc/07): beta 0.1 -> 1, and input scaling min-max -> the data rule (l2 rows on bags of words).

A run's identity is its method, dataset, the parameters it names, its resolved scaling and seed. The DDMC records
made before the change ran beta 0.1 without naming it, so under the new default their identity would claim beta 1.
This script files each of them under the run it is now: the same parameters with beta 0.1 named (the scaling is
recorded resolved already), which is the same computation, so the same labels. Then, where a run the DDMC batches of
scripts/reference_runs.py now ask for is the same computation as a shipped record (beta 1 named in the record; or
both beta-weighted terms, balance and agreement, switched off, so beta does not enter), the record is copied under
that run's path too. Each changed record says so in its provenance (`rekeyed`, `same_computation_as`).

    python scripts/rekey_ddmc_defaults.py [--store reference/runs]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from mmc_core.experiments.reference import iter_records, spec_of
from mmc_core.experiments.runner import RunSpec
from mmc_core.io import atomic_write_json
from mmc_core.methods.ddmc import CDL_TERMS, DDMC
from mmc_core.paths import REFERENCE_RUNS_DIR

OLD_BETA = 0.1
NEW_BETA = DDMC(2).beta


def computation(spec: RunSpec) -> tuple:
    """What a DDMC run computes: its parameters with beta filled in (dropped when no beta-weighted term is on), its
    resolved scaling, dataset, seed and outputs."""
    params: dict[str, Any] = {"beta": NEW_BETA, **spec.params}
    if set(CDL_TERMS) <= set(params.get("disable", ())):
        params.pop("beta")
    return (spec.dataset, spec.seed, spec.resolved_scaling(), tuple(sorted(spec.outputs)),
            repr(sorted(params.items())))


def needed_specs() -> list[RunSpec]:
    """The DDMC runs the notebooks' batches ask for under the new defaults."""
    sys.path.insert(0, str(Path(__file__).parent))
    from reference_runs import BATCHES

    return [s for name in ("ddmc-msrc", "ddmc-event", "ddmc-landuse", "ddmc-alpha-beta") for s in BATCHES[name]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", type=Path, default=REFERENCE_RUNS_DIR)
    args = parser.parse_args(argv)
    root = args.store
    records = [(path, record) for path, record in iter_records(root) if record["method"] == "ddmc"]
    rekeyed = 0
    by_computation: dict[tuple, tuple[Path, dict]] = {}
    for path, record in records:
        if "beta" not in record["params"]:
            record = {**record, "params": {**record["params"], "beta": OLD_BETA}}
            spec = spec_of(record)
            record["config_id"] = spec.config_id
            record["provenance"] = {**record["provenance"], "rekeyed": (
                f"made when DDMC's default beta was {OLD_BETA} and unnamed; filed with beta {OLD_BETA} named "
                "(the same computation) when the default became the label-free choice (ddmc/07)")}
            target = spec.cache_path(root)
            atomic_write_json(target, record)
            if target != path:
                path.unlink()
            path, rekeyed = target, rekeyed + 1
        by_computation[computation(spec_of(record))] = (path, record)
    copied = 0
    for spec in needed_specs():
        target = spec.cache_path(root)
        source = by_computation.get(computation(spec))
        if target.exists() or source is None:
            continue
        path, record = source
        record = {**record, "params": dict(spec.params), "config_id": spec.config_id,
                  "provenance": {**record["provenance"], "same_computation_as": str(path.relative_to(root))}}
        atomic_write_json(target, record)
        copied += 1
    print(f"{len(records)} DDMC records: {rekeyed} filed with beta {OLD_BETA} named, {copied} copied under a run the "
          "batches ask for")
    return 0


if __name__ == "__main__":
    sys.exit(main())
