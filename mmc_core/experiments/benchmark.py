"""The seed benchmark (`make bench`) and the full profile's projected time, both rendered into the README.

`measure_case` times, in one process, S seeds of one (method, dataset) trained one by one and trained together
(mmc_core.deep.seeds) for S in SEED_COUNTS; `scripts/bench.py` writes the measurements with their date and device
to reference/bench/<device>.json, and `bench_block` renders them. `full_profile_estimate` projects the full profile
(20 seeds for every cell of the reference store) from what each cell's shipped runs cost (their recorded wall time)
and the measured ratio of training together to one by one.
"""

from __future__ import annotations

import json
import textwrap
import time
from pathlib import Path
from typing import Any, Sequence

import pandas as pd
import torch

from ..deep.opcount import per_step
from ..deep.seeds import fit_seeds, why_not_together
from ..methods import make
from ..nn import dense_adjacency
from ..paths import PROJECT_ROOT
from .profiles import get_profile

BENCH_DIR = PROJECT_ROOT / "reference" / "bench"
OPS_FILE = "ops.json"  # in BENCH_DIR: the op/sync counts (device-free), apart from the timings (<device>.json)
SEED_COUNTS = (1, 5, 20)
OPS_BATCH = 128  # rows per training step of the op count
OPS_TARGET = 1.5  # at most this many times one seed's ops per step, for S seeds together
WIDTH = 116  # the documents' prose width


def _synchronized(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def measure_case(method: str, dataset: str, views: list, n_clusters: int, seed_counts: Sequence[int], epochs: int,
                 device: str) -> list[dict[str, Any]]:
    """Seconds per epoch of S seeds one by one and together, for each S: fits of `epochs` epochs (setup and
    labelling included, as in a real run), after a discarded warm-up fit; one row per S. A method that cannot train
    its seeds together is timed for one seed only (one by one, S seeds cost S times one)."""
    params = {"epochs": epochs, "device": device}
    make(method, n_clusters, random_state=0, **params).fit(views)  # warm-up: imports, allocator, kernel caches
    reason = why_not_together(make(method, n_clusters, **params))
    rows = []
    for size in seed_counts if reason is None else seed_counts[:1]:
        start = time.perf_counter()
        for seed in range(size):
            make(method, n_clusters, random_state=seed, **params).fit(views)
        _synchronized(device)
        alone = (time.perf_counter() - start) / epochs
        together = None
        if reason is None:
            start = time.perf_counter()
            fit_seeds([make(method, n_clusters, random_state=seed, **params) for seed in range(size)], views)
            _synchronized(device)
            together = (time.perf_counter() - start) / epochs
        rows.append({"method": method, "dataset": dataset, "seeds": size, "one by one (s/epoch)": round(alone, 3),
                     "together (s/epoch)": None if together is None else round(together, 3),
                     "together / one by one": None if together is None else round(together / alone, 2),
                     "S seeds together / 1 seed": None, "why not together": reason})
    single = rows[0]["one by one (s/epoch)"] if seed_counts[0] == 1 else None
    for row in rows:
        if single and row["together (s/epoch)"] is not None:
            row["S seeds together / 1 seed"] = round(row["together (s/epoch)"] / single, 2)
    return rows


def measure_ops(method: str, dataset: str, views: list, n_clusters: int, seed_counts: Sequence[int],
                batch_size: int = OPS_BATCH, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Aten ops and host syncs per training step (`opcount.per_step`: one epoch of batches of `batch_size`, on the
    CPU) for S seeds, one row per S: one by one (S steps of one seed: S times one seed's count) and together
    (`fit_seeds`: one step trains every seed on its own batch), with together's ops over one seed's; a method that
    cannot train its seeds together says why. params: the method's own (default: its defaults). Counted on the path a
    GPU runs: graph propagations dense (`dense_adjacency`), as they are off the CPU."""
    def build(seed: int, size: int) -> Any:
        return make(method, n_clusters, random_state=seed, **{**(params or {}), "epochs": 1, "batch_size": size,
                                                               "device": "cpu"})

    with dense_adjacency():  # the path a GPU runs
        one = per_step(lambda rows, size: build(0, size).fit(rows), views, batch_size)
        reason = why_not_together(build(0, batch_size))
        out = []
        for seeds in seed_counts:
            together = None
            if reason is None:
                def fit_together(rows: Sequence, size: int, seeds: int = seeds) -> None:
                    fit_seeds([build(s, size) for s in range(seeds)], rows)

                together = per_step(fit_together, views, batch_size)
            out.append({"method": method, "dataset": dataset, "seeds": seeds, "batch": batch_size,
                        "one by one (ops/step)": seeds * one.ops, "together (ops/step)": together and together.ops,
                        "together / 1 seed (ops)": together and round(together.ops / one.ops, 2),
                        "one by one (syncs/step)": seeds * one.syncs,
                        "together (syncs/step)": together and together.syncs,
                        "syncing ops (1 seed)": one.sync_ops, "syncing ops (together)": together and together.sync_ops,
                        "why not together": reason})
    return out


def ops_table(kept: dict[str, Any]) -> pd.DataFrame:
    """The op/sync rows as a narrow table (`-` where the method does not train together)."""
    columns = {"method": "method", "seeds": "S", "one by one (ops/step)": "1 by 1 ops", "together (ops/step)":
               "together ops", "together / 1 seed (ops)": "together / 1 seed", "one by one (syncs/step)":
               "1 by 1 syncs", "together (syncs/step)": "together syncs"}
    table = pd.DataFrame(kept["rows"], dtype=object)[list(columns)].rename(columns=columns)
    return table.where(table.notna(), "-")


def ops_block() -> str:
    """The op/sync benchmark's document block: the table, what it measured, the syncs left and why not together."""
    path = BENCH_DIR / OPS_FILE
    if not path.exists():
        return "No op count kept: run `make bench BENCH_KEEP=1`."
    kept = json.loads(path.read_text())
    rows = kept["rows"]
    syncing = sorted({f"`{r['method']}`: " + ", ".join(f"{k} {v:g}" for k, v in r["syncing ops (1 seed)"].items())
                      for r in rows if r["syncing ops (1 seed)"]})
    apart = sorted({f"`{r['method']}`: {r['why not together']}" for r in rows if r["why not together"]})
    intro = (f"Per training step, counted on the CPU (torch {kept['torch']}; {kept['date']}, commit "
             f"{kept['commit'][:7]}; batches of {rows[0]['batch']}; one by one = S times one seed's step; graphs "
             "dense, as a GPU builds them): aten ops (each a kernel launch on a GPU, views included) and host syncs "
             f"(the host waits for the GPU). Target: S = 20 together at most {OPS_TARGET:g} x one seed's ops, no sync.")
    parts = [textwrap.fill(intro, WIDTH) + "\n\n" + ops_table(kept).to_markdown(index=False)]
    for title, lines in (("Host syncs per step left (one seed):", syncing), ("Not trained together:", apart)):
        if lines:
            parts.append(title + "\n\n" + "\n".join(textwrap.fill(line, WIDTH, initial_indent="- ",
                                                                     subsequent_indent="  ") for line in lines))
    return "\n\n".join(parts)


def bench_path(device: str) -> Path:
    """Where the benchmark of a device kind ("cpu", "cuda") is kept."""
    return BENCH_DIR / f"{'cuda' if device.startswith('cuda') else 'cpu'}.json"


def merge_bench(kept: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    """The kept benchmark with the newly measured methods' rows replaced (rows without their own stamp take the
    file's); a different device, thread count or fit length starts anew."""
    same = ("device", "threads", "epochs", "torch")
    if kept is None or any(kept.get(key) != new[key] for key in same):
        return new
    measured = {row["method"] for row in new["rows"]}
    old = [{"date": kept.get("date"), "commit": kept.get("commit"), **row} for row in kept["rows"]
           if row["method"] not in measured]
    rows = sorted(old + new["rows"], key=lambda row: (row["method"], row["seeds"]))
    return {**{k: v for k, v in new.items() if k not in ("date", "commit")}, "rows": rows}


def load_benches() -> list[dict[str, Any]]:
    """Every kept benchmark (CPU first)."""
    paths = sorted(p for p in BENCH_DIR.glob("*.json") if p.name != OPS_FILE) if BENCH_DIR.is_dir() else []
    return [json.loads(p.read_text()) for p in paths]


def bench_table(bench: dict[str, Any]) -> pd.DataFrame:
    """One benchmark's rows as a table (a method that cannot train together shows its reason once)."""
    table = pd.DataFrame(bench["rows"]).drop(columns=["date", "commit"], errors="ignore")
    table["together (s/epoch)"] = table["together (s/epoch)"].astype(object).where(
        table["together (s/epoch)"].notna(), "-")
    for column in ("together / one by one", "S seeds together / 1 seed"):
        table[column] = table[column].astype(object).where(table[column].notna(), "-")
    table["why not together"] = table["why not together"].fillna("")
    return table


def ratio_at(bench: dict[str, Any], method: str, seeds: int) -> float:
    """Measured time of `seeds` seeds together over one by one (1.0 where the method does not train together or was
    not measured)."""
    for row in bench["rows"]:
        if row["method"] == method and row["seeds"] == seeds and row["together / one by one"] is not None:
            return float(row["together / one by one"])
    return 1.0


def full_profile_estimate(records: list[dict[str, Any]], bench: dict[str, Any] | None) -> pd.DataFrame:
    """Per method: the cells of the reference store, the full profile's runs (20 seeds per cell), their projected
    hours one by one (each cell's median recorded wall seconds per run x runs) and with seeds together (x the
    benchmark's ratio at 20 seeds for the method; 1 where it does not train together)."""
    seeds = get_profile("full").seeds
    rows = pd.DataFrame([{"method": r["method"], "cell": (r["dataset"], r["config_id"]),
                          "seconds": r["provenance"]["wall_seconds"]} for r in records if "provenance" in r])
    if rows.empty:
        return pd.DataFrame()
    cells = rows.groupby(["method", "cell"]).seconds.median().reset_index()
    cells["one by one"] = cells.seconds * seeds / 3600
    cells["ratio"] = [ratio_at(bench, m, seeds) if bench else 1.0 for m in cells.method]
    cells["together"] = cells["one by one"] * cells.ratio
    table = cells.groupby("method").agg(cells=("cell", "size"), hours_alone=("one by one", "sum"),
                                        hours_together=("together", "sum"), ratio=("ratio", "first"))
    table.insert(1, "runs", table.cells * seeds)
    table.loc["all"] = [table.cells.sum(), table.runs.sum(), table.hours_alone.sum(), table.hours_together.sum(),
                        float("nan")]
    table = table.rename(columns={"hours_alone": "hours one by one", "hours_together": "hours, seeds together",
                                  "ratio": "together / one by one (20 seeds)"})
    return table.reset_index().round(2)


def full_profile_cpu_hours() -> float | None:
    """What the full profile costs on the CPU, one run after another (its seeds are not trained together there):
    `full_profile_estimate`'s total from the shipped runs' recorded times; None when no run is shipped."""
    from .reference import concept_records, iter_records

    records = [record for _, record in iter_records()] + concept_records()
    estimate = full_profile_estimate(records, None)
    return None if estimate.empty else float(estimate.set_index("method").loc["all", "hours one by one"])


SHORT_HEADERS = {"one by one (s/epoch)": "1 by 1 s/epoch", "together (s/epoch)": "together s/epoch",
                 "together / one by one": "together / 1 by 1", "S seeds together / 1 seed": "S vs 1 seed"}


def bench_block(records: list[dict[str, Any]]) -> str:
    """The benchmark's document block: each kept benchmark's table with its date and device (a method that cannot
    train together is listed under the table with its reason, so rows stay narrow), then the full-profile projection
    from the CPU benchmark."""
    benches = load_benches()
    if not benches:
        return "No benchmark kept: run `make bench BENCH_KEEP=1`.\n\n" + ops_block()
    parts = [ops_block()]
    for bench in benches:
        dates = sorted({row["date"] for row in bench["rows"]})
        commits = sorted({row["commit"][:7] for row in bench["rows"]})
        table = bench_table(bench)
        reasons = table.loc[table["why not together"] != "", ["method", "why not together"]].drop_duplicates()
        table = table.drop(columns="why not together").rename(columns=SHORT_HEADERS)
        parts.append(f"**{bench['device']}** ({bench['threads']} thread(s); torch {bench['torch']}; measured "
                     f"{', '.join(dates)} at commit {', '.join(commits)}; fits of {bench['epochs']} epochs, "
                     "per epoch):\n\n" + table.to_markdown(index=False))
        if not reasons.empty:
            parts.append("Not trained together:\n\n" + "\n".join(
                f"- `{row.method}`: {row._2}" for row in reasons.itertuples()))
    cpu = next((b for b in benches if b["device_kind"] == "cpu"), None)
    estimate = full_profile_estimate(records, cpu)
    if not estimate.empty:
        parts.append("Full profile, projected (20 seeds for every cell of the reference store; cost per run = the "
                     "cell's median recorded wall seconds on this CPU, one thread; seeds together = that x the "
                     "benchmark's ratio at 20 seeds):\n\n" + estimate.astype(object).fillna("").rename(columns={
                         "hours, seeds together": "hours together",
                         "together / one by one (20 seeds)": "ratio at 20 seeds"}).to_markdown(index=False))
    return "\n\n".join(parts)
