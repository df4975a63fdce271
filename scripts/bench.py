"""Benchmark: seconds per epoch (measured) and per run (projected to the paper's epochs) of deep methods.

    python scripts/bench.py [--cases idmc:Handwritten sdcib:Event ...] [--epochs 3] [--device auto]

Times `fit` over a few epochs minus a 1-epoch fit, after a discarded first fit (first-call overheads excluded),
and prints a table. The per-run figure multiplies by each method's full training length (IDMC, SDCIB, DDMC 100 epochs;
MFLVC 200+50+50), so it is a projection, labelled as such. Run on an idle machine: other processes on the same cores slow every number.
"""

from __future__ import annotations

import argparse
import platform
import time

import pandas as pd
import torch

from mmc_core.data import load_dataset
from mmc_core.methods import make
from mmc_core.preprocessing import scale_views

FULL_EPOCHS = {"idmc": 100, "mflvc": 300, "simvc": 100, "comvc": 100, "sdcib": 100, "ddmc": 100}
DEFAULT_CASES = ["idmc:Handwritten", "idmc:Scene-15", "mflvc:Handwritten", "mflvc:Scene-15", "sdcib:Event",
                 "ddmc:Event", "ddmc:MSRC-v1"]
BATCH = {"mflvc": 256}  # MFLVC's published batch size; the others use their own default


def time_fit(method: str, views, n_clusters: int, epochs: int, device: str) -> float:
    params = {"epochs": epochs, "device": device}
    if method in BATCH:
        params["batch_size"] = BATCH[method]
    start = time.perf_counter()
    make(method, n_clusters, random_state=0, **params).fit(views)
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", nargs="+", default=DEFAULT_CASES, help="method:dataset pairs")
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs (after one warm-up epoch)")
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    device = ("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device
    where = torch.cuda.get_device_name() if device.startswith("cuda") else f"CPU ({torch.get_num_threads()} threads)"
    print(f"device: {where}; torch {torch.__version__}; {platform.processor() or platform.machine()}")
    cases = [case.split(":", 1) for case in args.cases]
    if any(len(case) != 2 for case in cases):
        parser.error("each case is METHOD:DATASET, e.g. sdcib:Event")
    rows = []
    for name in dict.fromkeys(dataset for _, dataset in cases):
        ds = load_dataset(name)
        views = scale_views(ds.views, ds.scaling)
        for method in [m for m, dataset in cases if dataset == name]:
            time_fit(method, views, ds.n_clusters, 1, device)  # first call: imports, allocator, kernel caches
            warm = time_fit(method, views, ds.n_clusters, 1, device)
            total = time_fit(method, views, ds.n_clusters, 1 + args.epochs, device)
            per_epoch = (total - warm) / args.epochs
            rows.append({"method": method, "dataset": name, "n": len(ds.labels), "device": device,
                         "s/epoch": round(per_epoch, 2),
                         "s/run (projected)": round(per_epoch * FULL_EPOCHS.get(method, 100), 1),
                         "epochs/run": FULL_EPOCHS.get(method, 100)})
            print(pd.DataFrame(rows).tail(1).to_string(index=False, header=len(rows) == 1))
    print()
    print(pd.DataFrame(rows).to_markdown(index=False))


if __name__ == "__main__":
    main()
