"""Tables of concept runs: mean and spread over seeds per (row, concept), and the display form."""

from __future__ import annotations

import numpy as np
import pandas as pd


def other_concept_nmi(results: pd.DataFrame) -> pd.Series:
    """Per run, the highest NMI of its partitions against a concept other than the one asked for (NaN if none)."""
    return results["other_nmi"].map(lambda d: max(d.values()) if isinstance(d, dict) and d else np.nan)


def summarize_concepts(results: pd.DataFrame) -> pd.DataFrame:
    """One row per (image set, label, concept): mean and std over seeds of NMI and RI on the asked concept, the mean NMI on the
    set's other concept (`other_nmi_mean`: high means the representation follows another concept), every seed's NMI
    (`nmi_seeds`, for the figures) and the number of seeds. `results`: run_concepts' frame."""
    frame = results.assign(other=other_concept_nmi(results))
    grouped = frame.groupby(["dataset", "label", "method_label", "concept"], sort=False)
    out = grouped.agg(nmi_mean=("nmi", "mean"), nmi_std=("nmi", "std"), ri_mean=("ri", "mean"), ri_std=("ri", "std"),
                      other_nmi_mean=("other", "mean"), other_nmi_std=("other", "std"),
                      nmi_seeds=("nmi", tuple), n_seeds=("seed", "nunique"), seconds=("seconds", "mean"))
    return out.reset_index()


def mean_std(means: pd.Series, stds: pd.Series, digits: int = 3) -> list[str]:
    """'mean ± std' strings (a single seed's missing std shown as 0)."""
    return [f"{m:.{digits}f} ± {0.0 if np.isnan(s) else s:.{digits}f}" for m, s in zip(means, stds)]


def format_concepts(summary: pd.DataFrame, digits: int = 3) -> pd.DataFrame:
    """'mean ± std' strings for display, one column per concept and metric."""
    rows = summary.assign(NMI=mean_std(summary.nmi_mean, summary.nmi_std, digits),
                          RI=mean_std(summary.ri_mean, summary.ri_std, digits),
                          **{"NMI on the other concept": summary.other_nmi_mean.round(digits)})
    table = rows.pivot(index="label", columns="concept", values=["NMI", "RI", "NMI on the other concept"])
    order = list(dict.fromkeys(summary.label))
    return table.loc[order].rename_axis(index="row")


def report_table(summary: pd.DataFrame, digits: int = 3) -> pd.DataFrame:
    """The summary as the report shows it: one row per (image set, row, concept), 'mean ± std' cells."""
    return pd.DataFrame({
        "dataset": summary.dataset, "row": summary.label, "concept": summary.concept,
        "NMI": mean_std(summary.nmi_mean, summary.nmi_std, digits), "RI": mean_std(summary.ri_mean, summary.ri_std, digits),
        "NMI on the other concept": summary.other_nmi_mean.round(digits), "seeds": summary.n_seeds,
    })


def concept_sensitivity(summary: pd.DataFrame, base: str) -> pd.DataFrame:
    """Per asked concept and reading (summarize_concepts' rows, labelled by reading): the NMI on the asked and on the
    other concept, and the change of mean NMI from the `base` reading (what a tornado chart draws), on the same
    draws. `dataset` names the planted sets and the concept asked for."""
    table = summary.assign(dataset=[f"planted, asked {c}" for c in summary.concept],
                           reading=summary.label, seeds=summary.n_seeds)
    base_nmi = table[table.reading == base].set_index("dataset").nmi_mean
    if set(base_nmi.index) != set(table.dataset):
        raise ValueError(f"No runs of the base reading {base!r} on {sorted(set(table.dataset) - set(base_nmi.index))}.")
    table["d_nmi"] = table.nmi_mean - table.dataset.map(base_nmi)
    table = table.assign(_other=table.reading != base).sort_values(["dataset", "_other"], kind="stable")
    return table[["dataset", "reading", "seeds", "nmi_mean", "nmi_std", "other_nmi_mean", "d_nmi"]].reset_index(drop=True)


def held_out_choice(table: pd.DataFrame, base: str) -> pd.DataFrame:
    """Per asked concept (concept_sensitivity's rows): the `base` reading, which the held-out selection draw chose
    before the study, as the choice made without the study's labels, and the reading of highest mean NMI on the
    study's draws as the oracle (sensitivity.ledger's `choice`)."""
    rows = []
    for dataset, part in table.groupby("dataset", sort=False):
        part = part.set_index("reading")
        rows.append({"dataset": dataset, "fixed default": base, "label-free choice": base,
                     "oracle choice": part.nmi_mean.idxmax(), "seeds": int(part.seeds.min())})
    return pd.DataFrame(rows)
