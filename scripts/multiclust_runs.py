"""Compute the controlled-concept study's runs (mmc_core.multiclust.study) at the full profile into
<results>/multiclust; `python -m mmc_core reference ship` then copies them into reference/multiclust/.

    OMP_NUM_THREADS=1 python scripts/multiclust_runs.py ablation --jobs 4

The runs go through the main runner (experiments.runner.run_grid): --jobs worker processes, or the Dask cluster that
$MMC_DASK_SCHEDULER names.
"""

from __future__ import annotations

import argparse
import sys

from mmc_core.multiclust.runs import run_concepts
from mmc_core.multiclust.study import ablation_runs, planted_method_runs, reading_runs, sensitivity_runs

BATCHES = {"ablation": ablation_runs, "methods": planted_method_runs, "readings": reading_runs,
           "sensitivity": sensitivity_runs}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("batches", nargs="+", choices=sorted(BATCHES))
    parser.add_argument("--jobs", type=int, default=1, help="worker processes, one thread each")
    args = parser.parse_args(argv)
    for name in args.batches:
        runs = BATCHES[name]()
        print(f"== {name}: {len(runs)} runs", flush=True)
        run_concepts(runs, profile="full", n_jobs=args.jobs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
