"""The text a notebook's checked cell prints: every compared cell (printed | ours ± std | Δ | verdict) and every
claim's verdict with its evidence. nbval compares it, in the reference profile, with the output stored in the
notebook, so a change that moves a shipped number or a verdict fails CI until the notebook is re-stored on purpose.
"""

from __future__ import annotations

import pandas as pd

UNCOMPARED = ("data absent", "reported only", "not run", "weights absent", "random weights: not compared")


def cell_table(comparison: pd.DataFrame) -> pd.DataFrame:
    """The compared cells of a comparison (experiments.compare), formatted: one row a printed cell."""
    done = comparison[~comparison.verdict.isin(UNCOMPARED)]
    return pd.DataFrame({
        "dataset": done.dataset,
        "row": [f"{m} [{v}]" if v else m for m, v in zip(done.method, done.variant.fillna(""))],
        "metric": done.metric.str.upper(),
        "printed": done.reported.map("{:.3f}".format),
        "ours": [f"{m:.3f} ± {0.0 if pd.isna(s) else s:.3f} (n={int(n)})" for m, s, n in
                 zip(done.reproduced, done["std"], done.n_seeds)],
        "Δ points": (100 * done["diff"]).map("{:+.1f}".format),
        "verdict": done.verdict,
    })


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
