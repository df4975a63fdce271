"""Benchmark: seconds per epoch of each deep method on its main dataset, S seeds one by one and together, and the
aten ops and host syncs per training step (counted on the CPU: what a GPU would launch and wait for).

    python scripts/bench.py [--methods idmc ddmc ...] [--seeds 1 5 20] [--epochs 3] [--device auto] [--keep]
                            [--ops-only | --no-ops]

For each method (IDMC on Handwritten, the others on Event) and S in --seeds: S fits one after another and one fit of
the S seeds together (mmc_core.deep.seeds), timed in the same process after a warm-up fit; a method that cannot train
its seeds together is timed for one seed (and says why). Per epoch = fit time / epochs, setup and labelling
included. --keep writes the rows, each with its date and commit, to reference/bench/<cpu|cuda>.json (replacing the
rows of the methods measured again, on the same device and settings; anything else starts the file anew), from which
`python -m mmc_core readme` writes the README's benchmark and the full profile's projected time. Run on an idle
machine with OMP_NUM_THREADS=1 (make bench does): other processes on the same cores slow every number. The op counts
(mmc_core.deep.opcount.per_step, batches of 128, one epoch) do not depend on the load or the device; --keep writes
them to reference/bench/ops.json (all methods measured anew replace the file's rows of those methods).
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from pathlib import Path

import torch
from tqdm.auto import tqdm

from mmc_core.data import load_dataset
from mmc_core.deep import DeepClusterer
from mmc_core.deep.device import DeviceUnavailable, cpu_fallback_warning, resolve_device
from mmc_core.dominance import choose_dominant
from mmc_core.experiments.benchmark import (BENCH_DIR, OPS_FILE, SEED_COUNTS, bench_path, bench_table, measure_case,
                                            measure_ops, merge_bench, ops_table)
from mmc_core.experiments.provenance import code_version, cpu_identity, thread_count
from mmc_core.io import atomic_write_text
from mmc_core.methods import available, method_class
from mmc_core.preprocessing import scale_views

MAIN_DATASET = {"idmc": "Handwritten"}  # the others: Event, the one dataset the SDCIB and DDMC papers share here
# the methods that train their seeds together first: a run cut short (the GPU check's time limit) has their rows
DEEP = sorted((m for m in available() if issubclass(method_class(m), DeepClusterer)),
              key=lambda m: (not getattr(method_class(m), "trains_seeds_together", False), m))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--methods", nargs="+", default=DEEP, choices=DEEP, metavar="METHOD")
    parser.add_argument("--seeds", nargs="+", type=int, default=list(SEED_COUNTS))
    parser.add_argument("--epochs", type=int, default=3, help="epochs per timed fit")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--keep", action="store_true", help="write reference/bench/<device>.json for the README")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--ops-only", action="store_true", help="count ops and syncs per step, time nothing")
    which.add_argument("--no-ops", action="store_true", help="time only")
    args = parser.parse_args()
    stamp = {"date": datetime.date.today().isoformat(), "commit": code_version()}  # the code that runs, at start
    try:
        device = str(resolve_device(args.device))  # as every run resolves it: `cuda` without a usable GPU is refused
    except DeviceUnavailable as err:
        sys.exit(f"bench: {err}")
    fallback = cpu_fallback_warning(args.device)
    if fallback and not args.ops_only:
        print(fallback, file=sys.stderr)
    if not args.no_ops:
        count_ops(args.methods, sorted(args.seeds), stamp, args.keep)
    if args.ops_only:
        return
    where = torch.cuda.get_device_name() if device.startswith("cuda") else f"CPU: {cpu_identity()}"
    print(f"{where}; {thread_count()} thread(s); torch {torch.__version__}")
    setting = {"device": where, "device_kind": "cuda" if device.startswith("cuda") else "cpu",
               "torch": torch.__version__, "threads": thread_count(), "epochs": args.epochs}
    rows = []
    for method in tqdm(args.methods, desc="bench", unit="method"):
        name = MAIN_DATASET.get(method, "Event")
        ds = load_dataset(name)
        views = scale_views(ds.views, ds.scaling)
        measured = measure_case(method, name, views, ds.n_clusters, sorted(args.seeds), args.epochs, device)
        for row in measured:
            tqdm.write(f"{method} on {name}, {row['seeds']} seed(s): {row['one by one (s/epoch)']} s/epoch one by one, "
                       f"{row['together (s/epoch)'] or '-'} together")
        stamped = [{**row, **stamp} for row in measured]
        rows += stamped
        if args.keep:  # after every method: a run cut short keeps what it measured
            keep_timings({**setting, "rows": stamped}, bench_path(device))
    print()
    print(bench_table({**setting, "rows": rows}).to_markdown(index=False))
    if args.keep:
        print(f"kept in {bench_path(device)}; `python -m mmc_core readme` writes it into README.md")


def keep_timings(bench: dict, path: Path) -> None:
    """Merge one method's timings into the kept file (merge_bench: a new device or setting starts it anew)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    kept = merge_bench(json.loads(path.read_text()) if path.exists() else None, bench)
    atomic_write_text(path, json.dumps(kept, indent=1) + "\n")  # whole, even if killed


def count_ops(methods: list[str], seeds: list[int], stamp: dict[str, str], keep: bool) -> None:
    """Ops and syncs per step of every method, S seeds one by one and together; kept in reference/bench/ops.json.
    DDMC's dominant view is fixed to the one its rule picks on all rows: per_step's fits see fewer rows, where the
    rule may pick otherwise per seed, and seeds of different networks train in separate groups."""
    rows = []
    for method in tqdm(methods, desc="ops", unit="method"):
        name = MAIN_DATASET.get(method, "Event")
        ds = load_dataset(name)
        views = scale_views(ds.views, ds.scaling)
        params = {"dominant": choose_dominant(views, ds.n_clusters, 0, None).view} if method == "ddmc" else None
        rows += measure_ops(method, name, views, ds.n_clusters, seeds, params=params)
    path = BENCH_DIR / OPS_FILE
    kept = json.loads(path.read_text()) if path.exists() else {"rows": []}
    others = [row for row in kept["rows"] if row["method"] not in methods] if kept.get("torch") == torch.__version__ \
        else []
    new = {"torch": torch.__version__, **stamp,
           "rows": sorted(others + rows, key=lambda row: (row["method"], row["seeds"]))}
    print(ops_table({"rows": rows}).to_markdown(index=False))
    if keep:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(new, indent=1) + "\n")
        print(f"kept in {path}")


if __name__ == "__main__":
    main()
