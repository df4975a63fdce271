"""Claims of the papers, re-tested: each gets a verdict computed from the reproduced numbers, with its evidence."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import pandas as pd

VERDICTS = ("holds", "does not hold", "mixed", "not testable here")


@dataclass(frozen=True)
class Claim:
    paper: str
    claim: str
    data: str
    verdict: str
    evidence: str

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {self.verdict!r}.")


def verdict_from(checks: list[bool]) -> str:
    """All checks pass: holds; none: does not hold; some: mixed; no checks (no data): not testable here."""
    if not checks:
        return "not testable here"
    return "holds" if all(checks) else "does not hold" if not any(checks) else "mixed"


def claims_frame(claims: list[Claim]) -> pd.DataFrame:
    return pd.DataFrame([asdict(c) for c in claims], columns=["paper", "claim", "data", "verdict", "evidence"])


def beats_all(rows: pd.DataFrame, method: str, metric: str = "acc") -> tuple[list[bool], list[str]]:
    """Per dataset: does `method`'s mean beat every other method's mean? rows: one row per (dataset, method)
    (experiments.paper_rows), with `<metric>_mean` columns."""
    checks, evidence = [], []
    for dataset, group in rows.groupby("dataset", sort=False):
        ours = group[group.method_label == method]
        others = group[group.method_label != method]
        if ours.empty or others.empty:
            continue
        best = others.loc[others[f"{metric}_mean"].idxmax()]
        value = float(ours[f"{metric}_mean"].iloc[0])
        checks.append(value > best[f"{metric}_mean"])
        evidence.append(f"{dataset}: {method} {value:.3f} vs best other {best.method_label} {best[f'{metric}_mean']:.3f}")
    return checks, evidence


def ordered(means: dict[str, float]) -> bool:
    """True when the values are strictly decreasing in the given order (e.g. full > AVG > w/o IV)."""
    values = list(means.values())
    return all(a > b for a, b in zip(values, values[1:]))
