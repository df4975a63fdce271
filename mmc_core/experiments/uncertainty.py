"""The one verdict rule: a comparison of two rows of seeds, with its 95% interval, decides a claim or a printed cell.

A row is a mean over seeds with its standard deviation and its n. A comparison "a exceeds b by more than a margin"
takes Welch's interval of the difference of the means (unequal variances, Welch-Satterthwaite degrees of freedom):
- "holds" when the whole interval lies above the margin,
- "does not hold" when it lies below,
- "inconclusive" when it spans the margin, or when a row has fewer than two seeds (no interval).
A claim made of several comparisons (every dataset, every other row) holds when all hold, does not hold when one
fails, and is inconclusive otherwise (`all_of`); an existential claim ("some deeper network does worse") the other
way round (`any_of`). A claim whose rows were not all run is "not decided", whatever the rows it has say. Rows with
fewer than MIN_SEEDS seeds are named in the claim ("short"). A printed cell is "within tolerance" only when the
interval of our mean lies inside printed +- tolerance (`cell_outcome`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterable, Mapping

import numpy as np
import pandas as pd
from scipy import stats

LEVEL = 0.95  # every interval the project states
MIN_SEEDS = 5  # a row with fewer seeds is named "short" in its claim
HOLDS, FAILS, INCONCLUSIVE, NOT_DECIDED = "holds", "does not hold", "inconclusive", "not decided"
SPANS, TOO_FEW = "interval spans the margin", "n too small for an interval"


@dataclass(frozen=True)
class Row:
    """One row of a table over seeds: its name, mean, standard deviation and n; `collapsed`: how many of its runs
    use fewer clusters than asked for (0 when not known)."""

    name: str
    mean: float
    std: float
    n: int
    collapsed: int = 0

    def text(self, digits: int = 3) -> str:
        flag = f", {self.collapsed} collapsed" if self.collapsed else ""
        return f"{self.name} {self.mean:.{digits}f} (n={self.n}{flag})"


def rows_of(summary: pd.DataFrame, index: str = "dataset", column: str = "row", metric: str = "acc"
            ) -> dict[str, dict[str, Row]]:
    """The summary's rows as {index value: {column value: Row}} (summaries: experiments.summarize, paper_rows,
    multiclust.summarize_concepts); one row per (index, column) pair, else an error naming it."""
    out: dict[str, dict[str, Row]] = {}
    for r in summary.to_dict("records"):
        key, name = r[index], str(r[column])
        if name in out.setdefault(key, {}):
            raise ValueError(f"Two summary rows for {index} {key!r}, {column} {name!r}: pass one per row.")
        std = r.get(f"{metric}_std", np.nan)
        collapsed = r.get("runs_collapsed", 0)
        out[key][name] = Row(name, float(r[f"{metric}_mean"]), float(np.nan if std is None else std),
                             int(r.get("n_seeds", 1)), 0 if pd.isna(collapsed) else int(collapsed))
    return out


def welch_interval(a: Row, b: Row, level: float = LEVEL) -> tuple[float, float, float]:
    """mean(a) - mean(b) and its Welch interval; NaN bounds when a row has fewer than two seeds."""
    diff = a.mean - b.mean
    if a.n < 2 or b.n < 2 or math.isnan(a.std) or math.isnan(b.std):
        return diff, math.nan, math.nan
    va, vb = a.std ** 2 / a.n, b.std ** 2 / b.n
    se = math.sqrt(va + vb)
    if se == 0.0:  # both rows constant over their seeds: the difference is exact
        return diff, diff, diff
    df = (va + vb) ** 2 / (va ** 2 / (a.n - 1) + vb ** 2 / (b.n - 1))
    half = float(stats.t.ppf(0.5 + level / 2, df)) * se
    return diff, diff - half, diff + half


def mean_interval(row: Row, level: float = LEVEL) -> tuple[float, float]:
    """The t interval of a row's mean; NaN bounds under two seeds."""
    if row.n < 2 or math.isnan(row.std):
        return math.nan, math.nan
    half = float(stats.t.ppf(0.5 + level / 2, row.n - 1)) * row.std / math.sqrt(row.n)
    return row.mean - half, row.mean + half


@dataclass(frozen=True)
class Comparison:
    """Does row a exceed row b by more than `margin`? Welch's interval of a - b decides (module docstring).
    scale: express the difference as a share of this value in the text (e.g. the full model's mean)."""

    a: Row
    b: Row
    margin: float = 0.0
    scale: float | None = None
    diff: float = field(init=False)
    low: float = field(init=False)
    high: float = field(init=False)

    def __post_init__(self) -> None:
        diff, low, high = welch_interval(self.a, self.b)
        object.__setattr__(self, "diff", diff)
        object.__setattr__(self, "low", low)
        object.__setattr__(self, "high", high)

    @property
    def outcome(self) -> str:
        if math.isnan(self.low):
            return INCONCLUSIVE
        return HOLDS if self.low > self.margin else FAILS if self.high < self.margin else INCONCLUSIVE

    @property
    def reason(self) -> str:
        """Why an inconclusive comparison is inconclusive ("" otherwise)."""
        if self.outcome != INCONCLUSIVE:
            return ""
        return TOO_FEW if math.isnan(self.low) else SPANS

    def interval_text(self) -> str:
        if self.scale:
            values = [v / self.scale for v in (self.diff, self.low, self.high)]
            return _interval(*values, "{:+.1%}")
        return _interval(self.diff, self.low, self.high, "{:+.3f}")

    def text(self) -> str:
        """'a 0.861 (n=5) vs b 0.829 (n=5): +0.032 [+0.010, +0.054]: holds'."""
        margin = "" if not self.margin else (f" (margin {self.margin / self.scale:+.0%})" if self.scale
                                             else f" (margin {self.margin:+.3f})")
        verdict = self.outcome + (f": {self.reason}" if self.reason else "")
        return f"{self.a.text()} vs {self.b.text()}: {self.interval_text()}{margin} -> {verdict}"


def _interval(value: float, low: float, high: float, fmt: str) -> str:
    if math.isnan(low):
        return f"{fmt.format(value)} [no interval]"
    return f"{fmt.format(value)} [{fmt.format(low)}, {fmt.format(high)}]"


def all_of(outcomes: Iterable[str]) -> str:
    """Every part must hold: one failure fails the claim, else one inconclusive part leaves it inconclusive."""
    outcomes = list(outcomes)
    if FAILS in outcomes:
        return FAILS
    return INCONCLUSIVE if INCONCLUSIVE in outcomes else HOLDS


def any_of(outcomes: Iterable[str]) -> str:
    """One part holding is enough; the claim fails only when every part fails."""
    outcomes = list(outcomes)
    if HOLDS in outcomes:
        return HOLDS
    return FAILS if outcomes and all(o == FAILS for o in outcomes) else INCONCLUSIVE


def short_rows(rows: Iterable[tuple[str, Row]], min_seeds: int = MIN_SEEDS) -> str:
    """'short rows (n < 5): Event remove both n=3' for the rows with fewer than min_seeds seeds ('' if none)."""
    short = dict.fromkeys(f"{where} {r.name} n={r.n}".strip() for where, r in rows if r.n < min_seeds)
    return f"short rows (n < {min_seeds}): {', '.join(short)}" if short else ""


def cell_outcome(row: Row, printed: float, tolerance: float) -> tuple[str, float, float]:
    """A printed cell against our row: "within tolerance" when the interval of our mean lies inside printed +-
    tolerance, "worse"/"better" when it lies wholly below/above that band, else "inconclusive" (also with one seed).
    Returns the verdict and the interval of ours - printed."""
    low, high = mean_interval(row)
    if math.isnan(low):
        return INCONCLUSIVE, math.nan, math.nan
    low, high = low - printed, high - printed
    if -tolerance <= low and high <= tolerance:
        return "within tolerance", low, high
    if high < -tolerance:
        return "worse", low, high
    if low > tolerance:
        return "better", low, high
    return INCONCLUSIVE, low, high


def gain_interval(gains: Mapping[float, Row], draws: int = 4000, seed: int = 0,
                  level: float = LEVEL) -> tuple[float, float, float]:
    """Spearman correlation of per-level gains with their level, and its interval under the gains' uncertainty
    (a parametric bootstrap: each gain drawn from a normal with its standard error; fixed seed, so reproducible)."""
    levels = np.asarray(sorted(gains))
    means = np.asarray([gains[s].mean for s in levels])
    ses = np.asarray([gains[s].std / math.sqrt(gains[s].n) if gains[s].n > 1 else np.nan for s in levels])
    rho = float(stats.spearmanr(levels, means).statistic)
    if np.isnan(ses).any():
        return rho, math.nan, math.nan
    draws_ = np.random.default_rng(seed).normal(means, ses, size=(draws, len(levels)))
    ranks = stats.rankdata(draws_, axis=1)
    level_ranks = stats.rankdata(levels)
    rhos = np.asarray([np.corrcoef(level_ranks, r)[0, 1] for r in ranks])
    tail = (1 - level) / 2
    return rho, float(np.quantile(rhos, tail)), float(np.quantile(rhos, 1 - tail))


def difference_row(a: Row, b: Row, name: str) -> Row:
    """a - b as a row of its own: its std over sqrt(n) is Welch's standard error of the difference (what
    gain_interval draws from), n the smaller row's n."""
    n = min(a.n, b.n)
    if n < 2:
        return Row(name, a.mean - b.mean, math.nan, n)
    se = math.sqrt(a.std ** 2 / a.n + b.std ** 2 / b.n)
    return Row(name, a.mean - b.mean, se * math.sqrt(n), n)
