"""Sensitivity of a method's results to its silent choices, the label-free choice among them, and the ledger.

A study runs the method under each reading of `silent_choices.study_readings` (one choice changed at a time, the
same seeds for every reading) on the runner. From those runs:
- `influential_pairs`: the pairs of the readings that change the partitions most, run next;
- `sensitivity`: per dataset and reading, mean ± std ACC / NMI, the seeds' stability (mean pairwise ARI), the
  change from the fixed default (what a tornado chart draws) and how much the reading changes the partitions
  (measured without labels);
- `select`: per dataset, the label-free choice (the data rule fixes the preprocessing, then the most stable of the
  readings on it), the stability criterion's choice alone, and the reading labels would pick (the "oracle", shown,
  never adopted);
- `ledger`: per printed cell, printed | fixed default | label-free selected | oracle;
- `claims_by_column`: the claims that rest on the method's row, re-tested under each ledger column's reading.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Iterable, Mapping

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score

from ..data import get_entry
from .claims import Claim
from .runner import RunSpec, make_grid
from .selection import seed_stability
from .silent_choices import FIXED_DEFAULT, Reading, is_pair, paired_reading, reading_choice, study_readings
from .tables import summarize

if TYPE_CHECKING:
    from .settings import RunSettings

STUDY_SEEDS = 5  # seeds per reading on the printed datasets (the ledger's columns)
SUBSTITUTE_SEEDS = 3  # seeds per reading on the substitutes that test the label-free choice
SHOWN = ["dataset", "reading", "scaling", "seeds", "acc_mean", "acc_std", "nmi_mean", "nmi_std", "stability",
         "clusters_used", "partition_change", "d_acc"]  # the columns of a sensitivity table a notebook prints
PAIRED = 3  # the most influential single readings (of distinct choices) whose pairs a study runs
LEDGER_COLUMNS = ("printed", "fixed default", "label-free selected", "oracle (by labels, not adopted)")


def reading_specs(method: str, readings: Mapping[str, Reading], datasets: Iterable[str], seeds: int | list[int],
                  params: Mapping | None = None) -> list[RunSpec]:
    """The runs of a sensitivity study: every reading on every dataset with the same seeds, each run labelled by its
    reading. params: the profile's trainer parameters (epochs, device)."""
    datasets = list(datasets)
    return [s for name, r in readings.items()
            for s in make_grid([(method, {**(params or {}), **r.params}, name)], datasets, seeds, scaling=r.scaling)]


def sensitivity_study(run: RunSettings, method: str, datasets: list[str], seeds: int, n_jobs: int = 1,
                      readings: Mapping[str, Reading] | None = None) -> pd.DataFrame:
    """The runs of a study, with their partitions: every reading (default: every studied one of `method`) on every
    dataset, then on each dataset the pairs of the readings that changed its partitions most (influential_pairs)."""
    readings = readings or study_readings(method)
    singles = run.grid(reading_specs(method, readings, datasets, seeds, run.deep_params()), n_jobs=n_jobs,
                       keep_labels=True)
    pairs = pair_specs(method, singles, datasets, seeds, run.deep_params())
    return pd.concat([singles, run.grid(pairs, n_jobs=n_jobs, keep_labels=True)], ignore_index=True)


def pair_specs(method: str, singles: pd.DataFrame, datasets: Iterable[str], seeds: int | list[int],
               params: Mapping | None = None) -> list[RunSpec]:
    """The runs of each dataset's influential pairs, found from its single readings' runs (with their partitions)."""
    table = sensitivity(singles)
    return [s for d in datasets for s in reading_specs(method, influential_pairs(method, table, d), [d], seeds, params)]


def sensitivity(results: pd.DataFrame, base: str = FIXED_DEFAULT) -> pd.DataFrame:
    """Per dataset and reading (the runs' label): seeds, mean/std ACC and NMI, seed stability, and the change of mean
    ACC and NMI from the `base` reading. results: run rows with labels (run_grid(..., keep_labels=True)); every reading
    of a dataset must have the base's seeds, so that a difference is the reading's and not the seeds'."""
    if "labels" not in results:
        raise ValueError("The seeds' partitions are needed for their stability: run the grid with keep_labels=True.")
    rows = []
    for (dataset, reading), runs in results.groupby(["dataset", "label"], sort=False):
        runs = runs.sort_values("seed")
        rows.append({"dataset": dataset, "reading": reading, "scaling": runs.scaling.iloc[0],
                     "seeds": len(runs), "seed_list": tuple(runs.seed),
                     "acc_mean": runs.acc.mean(), "acc_std": runs.acc.std(),
                     "nmi_mean": runs.nmi.mean(), "nmi_std": runs.nmi.std(),
                     "stability": seed_stability([np.asarray(p) for p in runs.labels]),
                     "clusters_used": float(np.mean([len(np.unique(p)) for p in runs.labels]))})
    order = {name: i for i, name in enumerate(dict.fromkeys(results.dataset))}
    table = pd.DataFrame(rows)  # per dataset (as they come): the base reading first, then the others by name
    table = (table.assign(_d=table.dataset.map(order), _other=table.reading != base)
             .sort_values(["_d", "_other", "reading"]).drop(columns=["_d", "_other"]).reset_index(drop=True))
    for dataset, part in table.groupby("dataset", sort=False):
        if base not in set(part.reading):
            raise ValueError(f"{dataset}: no runs of the base reading {base!r} to measure the others against.")
        base_seeds = part.loc[part.reading == base, "seed_list"].iloc[0]
        other = part[part.seed_list != base_seeds]
        if not other.empty:
            raise ValueError(f"{dataset}: readings {list(other.reading)} ran other seeds than {base!r} "
                             f"{list(base_seeds)}; run every reading on the same seeds.")
    baseline = table[table.reading == base].set_index("dataset")
    table["d_acc"] = table.acc_mean - table.dataset.map(baseline.acc_mean)
    table["d_nmi"] = table.nmi_mean - table.dataset.map(baseline.nmi_mean)
    table["partition_change"] = [_partition_change(results, d, r, base) for d, r in zip(table.dataset, table.reading)]
    return table.drop(columns="seed_list")


def influential_pairs(method: str, table: pd.DataFrame, dataset: str, n: int = PAIRED) -> dict[str, Reading]:
    """Every pair of the `n` single readings that change the partitions most on `dataset` (partition_change: measured
    without labels), one per choice: the combinations a study runs next, to see whether two changes together reach
    further than either alone."""
    part = table[(table.dataset == dataset) & (table.reading != FIXED_DEFAULT) & ~table.reading.map(is_pair)]
    top: dict = {}
    for reading in part.sort_values("partition_change", ascending=False, kind="stable").reading:
        top.setdefault(reading_choice(method, reading).choice, reading)
    names = list(top.values())[:n]
    if len(names) < 2:
        raise ValueError(f"{dataset}: fewer than two studied choices to pair.")
    pairs = [paired_reading(method, a, b) for i, a in enumerate(names) for b in names[i + 1:]]
    return {p.name: p for p in pairs}


def _partition_change(results: pd.DataFrame, dataset: str, reading: str, base: str) -> float:
    """1 - mean ARI between the reading's and the base's partition of each seed: how much the reading changes the
    clustering, measured without labels (0: the same partitions)."""
    runs = results[results.dataset == dataset]
    mine = runs[runs.label == reading].set_index("seed").labels
    theirs = runs[runs.label == base].set_index("seed").labels
    return 1.0 - float(np.mean([adjusted_rand_score(theirs[s], mine[s]) for s in mine.index]))


def select(table: pd.DataFrame, rule: Mapping[str, str] | None = None, base: str = FIXED_DEFAULT) -> pd.DataFrame:
    """Per dataset: the label-free choice, the stability criterion's choice over every reading, and the oracle's.

    rule: dataset -> the scaling the data rule gives (selection.preprocessing_rule); the label-free choice is the most
    stable reading run on that scaling (every reading when a dataset has no rule). A reading whose partitions use
    fewer than half of the k clusters asked for is collapsed, and stable for that reason alone (every seed puts
    everything together): the criterion passes over it. The oracle is the highest mean ACC. cost: oracle ACC minus the
    choice's ACC (what choosing without labels loses on this data). Pairs (two choices changed) are candidates of the
    oracle only: a label-free default changes one choice at a time, each on its own evidence."""
    rows = []
    for dataset, part in table.groupby("dataset", sort=False):
        part = part.set_index("reading", drop=False)
        singles = part[~part.reading.map(is_pair)]
        scaling = (rule or {}).get(dataset)
        candidates = singles[singles.scaling == scaling] if scaling else singles
        if candidates.empty:
            raise ValueError(f"{dataset}: the data rule gives scaling {scaling!r}, but no reading ran on it.")
        k = get_entry(dataset)["clusters"]
        chosen = _most_stable(candidates, k, base)
        stable = _most_stable(singles, k, base)
        oracle = part.acc_mean.idxmax()
        rows.append({"dataset": dataset, "rule scaling": scaling or "-", "fixed default": base,
                     "label-free choice": chosen, "stability choice": stable, "oracle choice": oracle,
                     "default acc": part.loc[base, "acc_mean"], "label-free acc": part.loc[chosen, "acc_mean"],
                     "stability acc": part.loc[stable, "acc_mean"], "oracle acc": part.loc[oracle, "acc_mean"],
                     "label-free = oracle": chosen == oracle, "stability = oracle": stable == oracle,
                     "label-free cost": part.loc[oracle, "acc_mean"] - part.loc[chosen, "acc_mean"],
                     "stability cost": part.loc[oracle, "acc_mean"] - part.loc[stable, "acc_mean"],
                     "seeds": int(part.seeds.min())})
    return pd.DataFrame(rows)


def agreement(choice: pd.DataFrame) -> str:
    """One line: on how many datasets the label-free choice and the stability criterion alone agree with the oracle,
    and the mean ACC each gives up against it."""
    n = len(choice)
    return (f"label-free choice = oracle on {int(choice['label-free = oracle'].sum())} of {n} datasets (mean ACC cost "
            f"{choice['label-free cost'].mean():.3f}); stability criterion alone = oracle on "
            f"{int(choice['stability = oracle'].sum())} of {n} (mean ACC cost {choice['stability cost'].mean():.3f})")


def adopted_fit(table: pd.DataFrame, choice: pd.DataFrame, adopted: str) -> str:
    """One line: per dataset, whether the reading adopted as the method's default (one for every dataset) is that
    dataset's label-free choice, and the mean ACC of each where they differ. The criterion picks per dataset; a
    default cannot, so a reader should see where the two part."""
    acc = table.set_index(["dataset", "reading"]).acc_mean
    if not all((c.dataset, adopted) in acc.index for c in choice.itertuples()):
        raise ValueError(f"The adopted reading {adopted!r} was not run on every dataset of the study.")
    parts = []
    for c in choice.to_dict("records"):
        chosen, dataset = c["label-free choice"], c["dataset"]
        parts.append(f"{dataset}: picks the default" if chosen == adopted else
                     f"{dataset}: picks {chosen} ({acc[dataset, chosen]:.3f}) over the default "
                     f"{adopted} ({acc[dataset, adopted]:.3f})")
    return f"the default ({adopted}) against each dataset's label-free choice: " + "; ".join(parts)


def choice_tags(choice: pd.DataFrame, dataset: str) -> dict[str, str]:
    """Reading -> which choices fell on it on one dataset (for the tornado chart's labels)."""
    c = choice.set_index("dataset").loc[dataset]
    tags: dict[str, list[str]] = {}
    for key, tag in (("label-free choice", "label-free"), ("oracle choice", "oracle")):
        tags.setdefault(c[key], []).append(tag)
    return {reading: ", ".join(names) for reading, names in tags.items()}


def reading_rows(results: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Per reading, the method's summary rows (tables.summarize; one per dataset) as the main table's row of the
    method, so that a claim can be re-tested under that reading."""
    summary = summarize(results)
    return {reading: rows.assign(row="") for reading, rows in summary.groupby("row", sort=False)}


def _most_stable(part: pd.DataFrame, n_clusters: int, base: str) -> str:
    """The most stable reading among those not collapsed (all of them, if every one is); on a tie the base reading,
    then the first in the study's order (no change without evidence)."""
    if part.stability.isna().all():
        raise ValueError("Seed stability needs at least two seeds per reading.")
    spread = part[part.clusters_used >= n_clusters / 2]
    pool = spread if not spread.empty else part
    best = pool[pool.stability == pool.stability.max()].index
    return base if base in best else best[0]


def ledger(table: pd.DataFrame, choice: pd.DataFrame, printed: Mapping[tuple[str, str], float], paper: str,
           method: str, metrics: tuple[str, ...] = ("acc", "nmi")) -> pd.DataFrame:
    """Per dataset and metric (ACC, NMI) of `method`: printed | fixed default | label-free selected | oracle (the
    reading of highest mean ACC), each named with its mean ± std over the same seeds, and how far the label-free
    choice and the best reading on that metric are from the printed value (is it reachable by some reading, and by
    one chosen without labels?). printed: (dataset, metric) -> the paper's value; a dataset the paper does not print
    (a substitute) says so and has no gap."""
    rows = []
    for _, c in choice.iterrows():
        part = table[table.dataset == c["dataset"]].set_index("reading")
        for metric in metrics:
            value = printed.get((c["dataset"], metric))
            mean = part[f"{metric}_mean"]
            cell = lambda reading: f"{reading}: {mean[reading]:.3f} ± {part.loc[reading, f'{metric}_std']:.3f}"
            gap = (lambda x: np.nan) if value is None else (lambda x: round(x - value, 3))
            rows.append({"paper": paper, "method": method, "dataset": c["dataset"], "cell": metric.upper(),
                         "seeds": c["seeds"],
                         LEDGER_COLUMNS[0]: "not printed (substitute)" if value is None else f"{value:.3f}",
                         LEDGER_COLUMNS[1]: cell(c["fixed default"]), LEDGER_COLUMNS[2]: cell(c["label-free choice"]),
                         LEDGER_COLUMNS[3]: cell(c["oracle choice"]),
                         "label-free - printed": gap(mean[c["label-free choice"]]),
                         "best reading - printed": gap(mean.max())})
    return pd.DataFrame(rows)


CHOICE_COLUMNS = {LEDGER_COLUMNS[1]: "fixed default", LEDGER_COLUMNS[2]: "label-free choice",
                  LEDGER_COLUMNS[3]: "oracle choice"}


def claims_by_column(choice: pd.DataFrame, reading_rows: Mapping[str, pd.DataFrame], others: pd.DataFrame,
                     test: Callable[[pd.DataFrame], list[Claim]], method: str) -> pd.DataFrame:
    """The claims `test` makes from a table's rows (paper_rows: one row per dataset and method), re-tested with
    `method`'s row taken from each ledger column's reading on each dataset (claims_by_reading's rows). reading_rows:
    reading -> the method's rows under it; others: every other method's rows."""
    def under(key: str) -> tuple[str, Callable[[], list[Claim]]]:
        method_rows = pd.concat([reading_rows[c[key]][reading_rows[c[key]].dataset == c["dataset"]]
                                 for _, c in choice.iterrows()], ignore_index=True)
        return ", ".join(dict.fromkeys(choice[key])), lambda: test(pd.concat([others, method_rows], ignore_index=True))

    return claims_by_reading({column: under(key) for column, key in CHOICE_COLUMNS.items()}, method,
                             seeds=int(choice.seeds.min()))


def claims_by_reading(claims_at: Mapping[str, tuple[str, Callable[[], list[Claim]]]], method: str,
                      seeds: int | str = "as in its notebook") -> pd.DataFrame:
    """Ledger rows for claims re-tested under each ledger column's reading: claims_at maps a ledger column to (its
    reading, a function returning the claims under it; claim_sets for a notebook's claims); a column without one says
    "not run under this reading". Each cell holds "verdict (reading): evidence"; `verdict changed` says whether the
    verdict differs between the columns that ran."""
    rows: dict[str, dict] = {}
    for column in LEDGER_COLUMNS[1:]:
        if column not in claims_at:
            continue
        reading, make_claims = claims_at[column]
        for claim in make_claims():
            row = rows.setdefault(claim.claim, {"paper": claim.paper, "method": method, "dataset": claim.data,
                                                "cell": f"claim: {claim.claim}", "seeds": seeds,
                                                LEDGER_COLUMNS[0]: "claimed by the paper", "_verdicts": set()})
            row[column] = f"{claim.verdict} ({reading}): {claim.evidence}"
            row["_verdicts"].add(claim.verdict)
    out = pd.DataFrame(list(rows.values()))
    for column in LEDGER_COLUMNS[1:]:
        if column not in out:
            out[column] = "not run under this reading"
    out["verdict changed"] = out.pop("_verdicts").map(lambda v: len(v) > 1)
    return out
