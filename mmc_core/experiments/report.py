"""Collect what the notebooks wrote into one Markdown reproduction report.

Each notebook saves a *section*: its comparison with the papers (long form: one reported cell a row), its own
mean ± std table, and optionally claims with verdicts. `build_report` puts every section side by side.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

import pandas as pd

from ..io import atomic_write, atomic_write_text
from ..paths import results_dir

SECTIONS_DIR = "sections"


def save_section(
    name: str,
    title: str,
    comparison: pd.DataFrame | None = None,
    summary: pd.DataFrame | None = None,
    claims: pd.DataFrame | None = None,
    notes: str = "",
    profile: str = "",
    out_dir: str | Path | None = None,
) -> Path:
    """Write one notebook's tables to <results>/sections/<name>/ (atomically, file by file)."""
    folder = results_dir(out_dir) / SECTIONS_DIR / name
    for stem, frame in (("comparison", comparison), ("summary", summary), ("claims", claims)):
        if frame is not None:
            atomic_write(folder / f"{stem}.csv", lambda tmp, f=frame: f.to_csv(tmp, index=False))
    meta = f"title: {title}\nprofile: {profile}\nwritten: {_dt.datetime.now().isoformat(timespec='seconds')}\n"
    atomic_write_text(folder / "meta.txt", meta)
    atomic_write_text(folder / "notes.md", notes)
    return folder


def side_by_side(comparison: pd.DataFrame) -> pd.DataFrame:
    """Reported and reproduced next to each other: one row per (paper, table, dataset, method, variant, metric)."""
    cols = ["paper", "table", "dataset", "method", "variant", "metric", "reported", "reproduced", "std",
            "n_seeds", "diff", "verdict"]
    out = comparison[cols].copy()
    for c in ("reported", "reproduced", "std", "diff"):
        out[c] = out[c].map(lambda x: "" if pd.isna(x) else f"{x:+.3f}" if c == "diff" else f"{x:.3f}")
    out.loc[comparison["erratum"].astype(bool), "verdict"] += " (printed cell is an erratum)"
    return out


def verdict_counts(comparison: pd.DataFrame) -> pd.DataFrame:
    return comparison.groupby(["paper", "verdict"]).size().rename("cells").reset_index()


def _read_meta(folder: Path) -> dict[str, str]:
    meta = {}
    for line in (folder / "meta.txt").read_text().splitlines():
        key, _, value = line.partition(": ")
        meta[key] = value
    return meta


def build_report(out_dir: str | Path | None = None, only_ran: bool = True) -> Path:
    """Write <results>/REPORT.md from every saved section. only_ran: list only cells this run produced or
    could not produce for lack of data, leaving out the 'reported only' cells of methods not implemented."""
    root = results_dir(out_dir)
    sections = sorted(p for p in (root / SECTIONS_DIR).glob("*") if (p / "meta.txt").exists())
    lines = ["# Reproduction report", "",
             f"Generated {_dt.datetime.now().isoformat(timespec='seconds')} from {len(sections)} notebook section(s).",
             "Values are fractions in [0, 1]; reproduced = mean over seeds (std beside it); diff = reproduced - "
             "reported. Rows marked *oracle* chose something (e.g. the best single view) using the labels, as the "
             "papers' own rows do.", ""]
    if not sections:
        lines.append("No sections found: run `make reproduce` first.")
    claims = [pd.read_csv(f / "claims.csv") for f in sections if (f / "claims.csv").exists()]
    if claims:
        overview = pd.concat(claims, ignore_index=True)[["paper", "claim", "data", "verdict"]]
        lines += ["## Claims overview", "", overview.to_markdown(index=False), ""]
    for folder in sections:
        meta = _read_meta(folder)
        lines += [f"## {meta.get('title', folder.name)}", "", f"Notebook section `{folder.name}`, profile "
                  f"`{meta.get('profile', '?')}`, written {meta.get('written', '?')}.", ""]
        notes = (folder / "notes.md").read_text().strip() if (folder / "notes.md").exists() else ""
        if notes:
            lines += [notes, ""]
        if (folder / "summary.csv").exists():
            lines += ["### Reproduced (mean ± std over seeds)", "",
                      pd.read_csv(folder / "summary.csv").fillna("").to_markdown(index=False), ""]
        if (folder / "comparison.csv").exists():
            comp = pd.read_csv(folder / "comparison.csv", dtype={"variant": str}).fillna({"variant": ""})
            if only_ran:
                comp = comp[comp["verdict"] != "reported only"]
            lines += ["### Reported vs reproduced", "", side_by_side(comp).to_markdown(index=False), "",
                      "Verdicts: " + ", ".join(f"{r.verdict}: {r.cells}" for r in verdict_counts(comp).itertuples()),
                      ""]
        if (folder / "claims.csv").exists():
            lines += ["### Claims", "", pd.read_csv(folder / "claims.csv").to_markdown(index=False), ""]
    return atomic_write_text(root / "REPORT.md", "\n".join(lines) + "\n")
