"""Turn per-run results into mean ± std tables and compare them with the papers' reported tables."""

from __future__ import annotations

import json
from typing import Sequence

import numpy as np
import pandas as pd

from ..data import DatasetUnavailable, load_dataset
from ..dominance import choose_dominant
from ..metrics import METRICS
from ..preprocessing import scale_views
from .runner import identity_params
from .uncertainty import INCONCLUSIVE, Row, cell_outcome

ORACLE_BEST_VIEW = "best view (oracle: picked by ACC against labels)"

NOT_COMPARED = "short training: not compared"
COMPARED = ("within tolerance", "better", "worse", INCONCLUSIVE)
VERDICTS = (*COMPARED, NOT_COMPARED, "data absent", "not run", "reported only")


def cell_verdict(mean: float, std: float, n: int, printed: float, tolerance: float | None
                 ) -> tuple[str, float, float]:
    """The verdict on one reproduced cell (uncertainty.cell_outcome: the 95% interval of our mean over n seeds
    inside printed +- tolerance, wholly below or above it, or neither: inconclusive) and the interval of ours -
    printed; no tolerance (the smoke profile) compares nothing."""
    if tolerance is None:
        return NOT_COMPARED, np.nan, np.nan
    return cell_outcome(Row("", mean, std, int(n)), printed, tolerance)


def collapse_note(runs_collapsed: float, n_seeds: float, min_used: float, k: float) -> str:
    """'3/20 runs < 8 clusters (min 5)' for a row whose runs use fewer clusters than asked for, else ''."""
    if not runs_collapsed or pd.isna(runs_collapsed):
        return ""
    return f"{int(runs_collapsed)}/{int(n_seeds)} runs < {int(k)} clusters (min {int(min_used)})"


def _variant(row: pd.Series) -> str:
    """A readable name for a run's configuration: the parameters of its identity, e.g. 'view=2' (not where it ran:
    the device)."""
    return ", ".join(f"{k}={v}" for k, v in identity_params(_params(row)).items())


def _params(row: pd.Series) -> dict:
    return row["params"] if isinstance(row["params"], dict) else json.loads(row["params"] or "{}")


def summarize(results: pd.DataFrame, metrics: tuple[str, ...] = METRICS) -> pd.DataFrame:
    """Mean, std, count and every seed's value (<metric>_seeds, a tuple) over seeds, per (dataset, method, row,
    variant, scaling).

    `row` is the runs' label (make_grid's (name, params, label) entries: the printed row a configuration stands
    for, e.g. an ablation's name, matching the `variant` column of the reported tables); runs without a label
    stand for the method's main row ("").
    """
    if results.empty:
        raise ValueError("No results to summarise: the run grid was empty.")
    df = results.copy()
    df["variant"] = df.apply(_variant, axis=1)
    df["row"] = df["label"].fillna("") if "label" in df else ""
    keys = ["dataset", "method", "method_label", "row", "variant", "scaling"]
    grouped = df.groupby(keys, sort=False)
    out = grouped[list(metrics)].agg(["mean", "std"])
    out.columns = [f"{m}_{stat}" for m, stat in out.columns]
    for m in metrics:  # every seed's value, for the figures' dots
        out[f"{m}_seeds"] = grouped[m].agg(tuple)
    out["n_seeds"] = grouped.size()
    out["seconds_mean"] = grouped["seconds"].mean()
    if "clusters_used" in df:  # degenerate partitions: runs that use fewer clusters than asked for
        df["_collapsed"] = df.clusters_used < df.n_clusters
        out["runs_collapsed"] = df.groupby(keys, sort=False)["_collapsed"].sum().astype(int)
        out["min_clusters_used"] = grouped["clusters_used"].min()
        out["n_clusters"] = grouped["n_clusters"].max()
    return out.reset_index()


def add_best_view(summary: pd.DataFrame, by: str = "acc") -> pd.DataFrame:
    """For single-view methods run on every view (variant 'view=v'), add the row of the view with the best mean
    `by`. That choice uses the labels, so the row is marked as an oracle — the papers' "best view" rows are the same."""
    per_view = summary[summary["variant"].str.fullmatch(r"view=\d+")]
    best_rows = []
    for _, group in per_view.groupby(["dataset", "method", "scaling"], sort=False):
        best = group.loc[group[f"{by}_mean"].idxmax()].copy()
        best["variant"] = f"{ORACLE_BEST_VIEW}: {best['variant']}"
        best_rows.append(best)
    return pd.concat([summary, pd.DataFrame(best_rows)], ignore_index=True) if best_rows else summary


def paper_rows(summary: pd.DataFrame) -> pd.DataFrame:
    """The one row per (dataset, method) that stands for the papers' printed row: the oracle best view for
    single-view methods, the run itself otherwise (methods run with one configuration)."""
    is_per_view = summary["variant"].str.fullmatch(r"view=\d+")
    rows = summary[~is_per_view].copy()
    dup = rows.duplicated(["dataset", "method_label", "row", "scaling"], keep=False)
    if dup.any():
        clash = rows.loc[dup, ["dataset", "method_label", "variant"]].to_string(index=False)
        raise ValueError(f"Several configurations stand for the same printed row; pass one per method:\n{clash}")
    return rows


def format_mean_std(summary: pd.DataFrame, metrics: tuple[str, ...] = ("acc", "nmi", "pur"), digits: int = 3):
    """A display table with 'mean ± std' strings."""
    out = summary[["dataset", "method_label", "variant", "scaling", "n_seeds"]].copy()
    for m in metrics:
        out[m] = [f"{a:.{digits}f} ± {0.0 if np.isnan(s) else s:.{digits}f}" for a, s in
                  zip(summary[f"{m}_mean"], summary[f"{m}_std"])]
    return out.rename(columns={"method_label": "method"})


def compare(
    summary: pd.DataFrame,
    reported: pd.DataFrame,
    tolerance: float | None,
    implemented: set[str] | None = None,
    available: set[str] | None = None,
) -> pd.DataFrame:
    """Every reported cell next to its reproduction: difference (reproduced - reported), its 95% interval over the
    seeds, a verdict (cell_verdict) and, where some of the row's runs use fewer clusters than asked for, a note.

    implemented: method labels this artifact can run (others are "reported only"); available: datasets present
    here (others are "data absent"); a cell that could run but was not part of this grid is "not run".
    tolerance None (the smoke and quick profiles) gives reproduced cells no verdict: "short training: not compared".
    """
    ours = paper_rows(summary) if not summary.empty else summary
    index = {(r.dataset, r.method_label, r.row): r for r in ours.itertuples()} if not ours.empty else {}
    records = []
    for r in reported.itertuples():
        mean = std = low = high = np.nan
        n, collapsed = 0, ""
        hit = index.get((r.dataset, r.method, getattr(r, "variant", "") or ""))
        if hit is not None and f"{r.metric}_mean" in ours.columns:
            mean, std, n = getattr(hit, f"{r.metric}_mean"), getattr(hit, f"{r.metric}_std"), hit.n_seeds
            diff = mean - r.value
            verdict, low, high = cell_verdict(mean, std, n, r.value, tolerance)
            collapsed = collapse_note(getattr(hit, "runs_collapsed", 0), n, getattr(hit, "min_clusters_used", 0),
                                      getattr(hit, "n_clusters", 0))
        elif implemented is not None and r.method not in implemented:
            diff, verdict = np.nan, "reported only"
        elif available is not None and r.dataset not in available:
            diff, verdict = np.nan, "data absent"
        else:
            diff, verdict = np.nan, "not run"
        records.append({
            "paper": r.paper, "table": r.table, "dataset": r.dataset, "method": r.method,
            "variant": getattr(r, "variant", ""), "metric": r.metric, "reported": r.value,
            "reproduced": mean, "std": std, "n_seeds": n, "diff": diff, "diff_low": low, "diff_high": high,
            "verdict": verdict, "collapsed": collapsed, "erratum": bool(getattr(r, "erratum", False)),
        })
    return pd.DataFrame.from_records(records)


def dominance_table(datasets: Sequence[str], seed: int = 0) -> pd.DataFrame:
    """Per dataset, the view DDMC takes as dominant without labels (highest K-means silhouette of the view, scaled
    as DDMC's runs scale it: the scores its seed-`seed` run compared; no run records them), every view's silhouette
    (empty for a view the rule leaves out) and the views left out with the reason; a dataset whose files are not here
    says so."""
    from .runner import RunSpec

    rows = []
    for name in datasets:
        try:
            ds = load_dataset(name)
        except DatasetUnavailable:
            rows.append({"dataset": name, "dominant view": "data not here"})
            continue
        scaling = RunSpec("ddmc", name, seed).resolved_scaling()
        choice = choose_dominant(scale_views(ds.views, scaling), ds.n_clusters, seed)
        rows.append({"dataset": name, "scaling": scaling,
                     "dominant view": f"{choice.view} ({ds.view_names[choice.view]})",
                     "left out": "; ".join(f"{v} ({ds.view_names[v]}): {why}" for v, why in choice.left_out),
                     **{f"silhouette {v} ({n})": round(s, 3) for v, (n, s) in enumerate(zip(ds.view_names,
                                                                                           choice.scores))}})
    return pd.DataFrame(rows).set_index("dataset")
