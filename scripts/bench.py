"""Benchmark: seconds per epoch (measured) and per run (projected to the paper's epochs) of deep methods.

    python scripts/bench.py [--cases idmc:Handwritten sdcib:Event multidproxy:CIFAR-10 ...] [--epochs 3] [--device auto]

Multi-DProxy trains on frozen CLIP features, whose values do not change its cost: its cases time it on random unit
features of the image set's size at ViT-B/32's width (512) with 16 candidate words, so no CLIP weights are needed;
without candidate management (its three K-means on the proxies in a 1,000-epoch run are not part of an epoch's cost).

Times `fit` over a few epochs minus a 1-epoch fit, after a discarded first fit (first-call overheads excluded),
and prints a table. The per-run figure multiplies by each method's full training length (IDMC, SDCIB, DDMC 100 epochs;
MFLVC 200+50+50), so it is a projection, labelled as such. Run on an idle machine: other processes on the same cores slow every number.
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np
import pandas as pd
import torch

from mmc_core.data import load_dataset
from mmc_core.methods import make
from mmc_core.preprocessing import scale_views

FULL_EPOCHS = {"idmc": 100, "mflvc": 300, "simvc": 100, "comvc": 100, "sdcib": 100, "ddmc": 100,
               "multidproxy": 1000}
DEFAULT_CASES = ["idmc:Handwritten", "idmc:Scene-15", "mflvc:Handwritten", "mflvc:Scene-15", "sdcib:Event",
                 "ddmc:Event", "ddmc:MSRC-v1", "multidproxy:CMUface", "multidproxy:CIFAR-10"]
CONCEPT_IMAGES = {"CMUface": 624, "Card": 8029, "CIFAR-10": 10000}  # images (Card: the paper's full set)
CLIP_WIDTH, CANDIDATES, CONCEPT_CLUSTERS = 512, 16, 2
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


def time_concept_fit(n: int, epochs: int, device: str) -> float:
    """Multi-DProxy on random unit features of n images and 16 candidate words at CLIP's width (no pruning)."""
    from mmc_core.multiclust.multidproxy import MultiDProxy

    rng = np.random.default_rng(0)
    images, words = (rng.standard_normal((k, CLIP_WIDTH)).astype(np.float32) for k in (n, CANDIDATES))
    images, words = (X / np.linalg.norm(X, axis=1, keepdims=True) for X in (images, words))
    model = MultiDProxy(CONCEPT_CLUSTERS, random_state=0, epochs=epochs, device=device, dynamic=False)
    model.set_candidates(tuple(f"word{k}" for k in range(CANDIDATES)), words)
    start = time.perf_counter()
    model.fit([images])
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return time.perf_counter() - start


def per_epoch(fit, epochs: int) -> float:
    """Seconds per epoch: a fit of 1 + epochs epochs minus a 1-epoch fit, after a discarded first fit."""
    fit(1)  # first call: imports, allocator, kernel caches
    warm = fit(1)
    return (fit(1 + epochs) - warm) / epochs


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
    for method, name in cases:
        if method == "multidproxy":
            if name not in CONCEPT_IMAGES:
                parser.error(f"multidproxy cases name an image set: {', '.join(CONCEPT_IMAGES)}")
            n = CONCEPT_IMAGES[name]
            seconds = per_epoch(lambda e: time_concept_fit(n, e, device), args.epochs)
        else:
            ds = load_dataset(name)
            views, n = scale_views(ds.views, ds.scaling), len(ds.labels)
            seconds = per_epoch(lambda e: time_fit(method, views, ds.n_clusters, e, device), args.epochs)
        rows.append({"method": method, "dataset": name, "n": n, "device": device, "s/epoch": round(seconds, 3),
                     "s/run (projected)": round(seconds * FULL_EPOCHS.get(method, 100), 1),
                     "epochs/run": FULL_EPOCHS.get(method, 100)})
        print(pd.DataFrame(rows).tail(1).to_string(index=False, header=len(rows) == 1))
    print()
    print(pd.DataFrame(rows).to_markdown(index=False))


if __name__ == "__main__":
    main()
