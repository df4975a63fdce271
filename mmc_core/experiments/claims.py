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


def converges_early(history: pd.DataFrame, share: float = 0.8, acc_range: float = 0.05) -> tuple[bool, str] | None:
    """The "fast/rapid convergence" check on one run's history: at least `share` of the total loss decrease
    happens in the first 20% of epochs, and ACC varies by less than `acc_range` over the last quarter.
    None when the run is too short (< 5 epochs) to say anything."""
    n = len(history)
    if n < 5:
        return None
    drop_total = history.total.iloc[0] - history.total.min()
    early = history.total.iloc[0] - history.total.iloc[: max(1, n // 5)].min()
    late_acc = history.acc.iloc[-max(1, n // 4):]
    spread = late_acc.max() - late_acc.min()
    ok = bool(drop_total > 0 and early >= share * drop_total and spread < acc_range)
    return ok, (f"{early / drop_total if drop_total > 0 else 0:.0%} of the loss decrease in the first 20% of "
                f"epochs; last-quarter ACC range {spread:.3f}")


def mass_share(weights) -> float:
    """Fraction of samples that together hold half of the total weight (small = sparse)."""
    import numpy as np

    s = np.sort(np.asarray(weights, dtype=float))[::-1]
    return float((np.searchsorted(np.cumsum(s), 0.5 * s.sum()) + 1) / len(s))
