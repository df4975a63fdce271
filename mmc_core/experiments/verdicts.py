"""The text a notebook's checked cell prints: every compared cell (printed | ours ± std | Δ | verdict) and every
claim's verdict with its evidence. nbval compares it, in the reference profile, with the output stored in the
notebook, so a change that moves a shipped number or a verdict fails CI until the notebook is re-stored on purpose.
"""

from __future__ import annotations

import pandas as pd

UNCOMPARED = ("data absent", "reported only", "not run", "weights absent", "random weights: not compared")


def delta_text(diff: float, low: float, high: float) -> str:
    """ours - printed in points with its 95% interval: '-11.7 [-14.0, -9.4]' ('-11.7 [n<2]' without one)."""
    if pd.isna(low):
        return f"{100 * diff:+.1f} [n<2]"
    return f"{100 * diff:+.1f} [{100 * low:+.1f}, {100 * high:+.1f}]"


def cell_table(comparison: pd.DataFrame) -> pd.DataFrame:
    """The compared cells of a comparison (experiments.compare), formatted: one row a printed cell, with the 95%
    interval of the difference and, when some of a row's runs use fewer clusters than asked for, a column saying so."""
    done = comparison[~comparison.verdict.isin(UNCOMPARED)]
    low = done["diff_low"] if "diff_low" in done else pd.Series(float("nan"), index=done.index)
    high = done["diff_high"] if "diff_high" in done else low
    table = pd.DataFrame({
        "dataset": done.dataset,
        "row": [f"{m} [{v}]" if v else m for m, v in zip(done.method, done.variant.fillna(""))],
        "metric": done.metric.str.upper(),
        "printed": done.reported.map("{:.3f}".format),
        "ours": [f"{m:.3f} ± {0.0 if pd.isna(s) else s:.3f} (n={int(n)})" for m, s, n in
                 zip(done.reproduced, done["std"], done.n_seeds)],
        "Δ points [95% CI]": [delta_text(d, lo, hi) for d, lo, hi in zip(done["diff"], low, high)],
        "verdict": done.verdict,
    })
    if "collapsed" in done and done.collapsed.fillna("").astype(bool).any():
        table["degenerate partitions"] = done.collapsed.fillna("")
    return table


def verdict_table(comparison: pd.DataFrame | None = None, claims: pd.DataFrame | None = None) -> str:
    """Plain text of the compared cells (and a count of those not compared, by reason) and the claims."""
    parts = []
    if comparison is not None:
        cells = cell_table(comparison)
        parts.append(cells.to_string(index=False) if not cells.empty else "no printed cell compared")
        others = comparison[comparison.verdict.isin(UNCOMPARED)].verdict.value_counts()
        if not others.empty:
            parts.append("not compared: " + ", ".join(f"{v} {n}" for v, n in others.items()))
    if claims is not None:
        parts += [f"claim: {c.claim} [{c.data}] -> {c.verdict}" + (f"\n  {c.evidence}" if c.evidence else "")
                  for c in claims.itertuples()]
    return "\n".join(parts)
