"""Tables of concept runs: mean and spread over seeds per (row, concept), and the display form."""

from __future__ import annotations

import numpy as np
import pandas as pd


def other_concept_nmi(results: pd.DataFrame) -> pd.Series:
    """Per run, the highest NMI of its partitions against a concept other than the one asked for (NaN if none)."""
    return results["other_nmi"].map(lambda d: max(d.values()) if isinstance(d, dict) and d else np.nan)


def summarize_concepts(results: pd.DataFrame) -> pd.DataFrame:
    """One row per (image set, label, concept): mean and std over seeds of NMI and RI on the asked concept, the mean NMI on the
    set's other concept (`other_nmi_mean`: high means the representation follows another concept) and the number of
    seeds. `results`: run_concepts' frame."""
    frame = results.assign(other=other_concept_nmi(results))
    grouped = frame.groupby(["dataset", "label", "method_label", "concept"], sort=False)
    out = grouped.agg(nmi_mean=("nmi", "mean"), nmi_std=("nmi", "std"), ri_mean=("ri", "mean"), ri_std=("ri", "std"),
                      other_nmi_mean=("other", "mean"), n_seeds=("seed", "nunique"), seconds=("seconds", "mean"))
    return out.reset_index()


def format_concepts(summary: pd.DataFrame, digits: int = 3) -> pd.DataFrame:
    """'mean ± std' strings for display, one column per concept and metric."""
    def cell(mean: float, std: float) -> str:
        return f"{mean:.{digits}f} ± {0.0 if np.isnan(std) else std:.{digits}f}"

    rows = summary.assign(NMI=[cell(m, s) for m, s in zip(summary.nmi_mean, summary.nmi_std)],
                          RI=[cell(m, s) for m, s in zip(summary.ri_mean, summary.ri_std)],
                          **{"NMI on the other concept": summary.other_nmi_mean.round(digits)})
    table = rows.pivot(index="label", columns="concept", values=["NMI", "RI", "NMI on the other concept"])
    order = list(dict.fromkeys(summary.label))
    return table.loc[order].rename_axis(index="row")
