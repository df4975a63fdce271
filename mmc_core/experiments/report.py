"""Collect what the notebooks wrote into one Markdown reproduction report.

Each notebook saves a *section*: its comparison with the papers (long form: one reported cell a row), its own
mean ± std table, and optionally claims with verdicts. `build_report` opens with a per-paper summary, then the
claims, the runs whose partitions use fewer clusters than asked for, each section's cells in the papers' layout with
its figures, the provenance of the runs, and each interpretation once.

The reference profile's report is committed (docs/report/: REPORT.md and the PNGs it shows): `publish_report` copies
it there, `report_differences` says where the committed copy differs from what the shipped runs give. The text
carries no time stamp or path of the machine, so a fresh clone rebuilds it byte for byte.
"""

from __future__ import annotations

import datetime as _dt
import fnmatch
import re
import shutil
from pathlib import Path

import nbformat

import pandas as pd

from ..io import atomic_write, atomic_write_text
from ..paths import PROJECT_ROOT, results_dir
from .markdown import claims_markdown, ledger_markdown, narrow_table, protocol_markdown, wrap_block
from .runner import with_partition_fields
from .tables import COMPARED, NOT_COMPARED
from .uncertainty import FAILS, HOLDS, INCONCLUSIVE, NOT_DECIDED
from .verdicts import delta_text

SECTIONS_DIR = "sections"
FIGURES_DIR = "figures"
DOCS_REPORT_DIR = PROJECT_ROOT / "docs" / "report"  # the committed reference report
NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"
_SECTION_CALL = re.compile(r'save_section\(\s*"([^"]+)"')
_FIGURE_CALL = re.compile(r'save_figure\(\s*\w+\s*,\s*"([^"]+)"\s*,\s*f?"([^"]+)"')


def save_section(
    name: str,
    title: str,
    comparison: pd.DataFrame | None = None,
    summary: pd.DataFrame | None = None,
    claims: pd.DataFrame | None = None,
    ledger: pd.DataFrame | None = None,
    protocol: pd.DataFrame | None = None,
    notes: str = "",
    profile: str = "",
    out_dir: str | Path | None = None,
) -> Path:
    """Write one notebook's tables to <results>/sections/<name>/ (atomically, file by file)."""
    folder = results_dir(out_dir) / SECTIONS_DIR / name
    for stem, frame in (("comparison", comparison), ("summary", summary), ("claims", claims), ("ledger", ledger),
                        ("protocol", protocol)):
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


def _sections(root: Path) -> list[Path]:
    return sorted(p for p in (root / SECTIONS_DIR).glob("*") if (p / "meta.txt").exists())


def _read(folder: Path, stem: str) -> pd.DataFrame | None:
    path = folder / f"{stem}.csv"
    return pd.read_csv(path, dtype={"variant": str}).fillna({"variant": ""}) if path.exists() else None


def _section_tables(root: Path, stem: str) -> list[pd.DataFrame]:
    """One table (claims, ledger, ...) of every section that saved it, in section order, with its section's name."""
    return [table.assign(section=f.name) for f in _sections(root) if (table := _read(f, stem)) is not None]


def all_claims(root: Path) -> pd.DataFrame:
    """Every claim of every section, in section order."""
    frames = _section_tables(root, "claims")
    columns = ["paper", "claim", "data", "verdict", "evidence", "section"]
    return pd.concat(frames, ignore_index=True).fillna("")[columns] if frames else pd.DataFrame(columns=columns)


LEDGER_INTRO = ("Per printed cell with data here, and per substitute a readings study ran on (no printed value): the "
                "printed value, our result under the reading fixed before any run, under the reading chosen without "
                "labels (data rule for preprocessing, then seed stability; for Multi-DProxy, the choice made on its "
                "held-out planted draw), and under the reading the labels would pick (*oracle*: shown, never "
                "adopted); each the mean ± std over the same seeds. A printed value that only the oracle column "
                "reaches is not reproducible by a user without labels. Where the label-free choice differs from the "
                "fixed default it became the method's default (SDCIB, IDMC, DDMC); the claim rows re-test the paper's "
                "claims under both, and `verdict changed` marks those whose verdict the adoption changed.")


def _stacked(root: Path, stem: str, shown: list[str] | None = None) -> pd.DataFrame:
    """Every section's table `stem`, in section order, in the `shown` columns (default: all) and its section last."""
    frames = _section_tables(root, stem)
    if not frames:
        return pd.DataFrame()
    table = pd.concat(frames, ignore_index=True).fillna("")
    return table[[c for c in (shown or table.columns) if c in table and c != "section"] + ["section"]]


def all_ledgers(root: Path) -> pd.DataFrame:
    """Every section's readings ledger (sensitivity.ledger), in section order."""
    return _stacked(root, "ledger")


PROTOCOL_INTRO = ("SDCIB's main row read under each reporting protocol (experiments.protocol: the epoch a run reports, "
                  "how N runs become one number, NMI's normalisation) and under the IDMC/DDMC/SDCIB group's training "
                  "schedule, one change at a time, beside the printed values; *oracle* rows choose by the labels and "
                  "are never adopted; `ACC gap closed`: the share of our row's gap to the print a reading closes.")


def all_protocols(root: Path) -> pd.DataFrame:
    """Every section's reporting-protocol table (protocol.protocol_ledger), in section order, in the shown columns."""
    from .protocol import PROTOCOL_SHOWN

    return _stacked(root, "protocol", PROTOCOL_SHOWN)


def summary_table(comparisons: pd.DataFrame, claims: pd.DataFrame) -> pd.DataFrame:
    """Per paper: printed cells compared (within tolerance / better / worse), cells not compared by reason, and
    claims by verdict — the report's first tables (summary_lines lays them out narrow)."""
    papers = sorted(set(comparisons.get("paper", [])) | set(claims.get("paper", [])))
    rows = []
    for paper in papers:
        comp = comparisons[comparisons.paper == paper] if not comparisons.empty else comparisons
        comp = comp.drop_duplicates(["table", "dataset", "method", "variant", "metric"]) if not comp.empty else comp
        cl = claims[claims.paper == paper]
        count = lambda frame, col, value: int((frame[col] == value).sum()) if not frame.empty else 0
        rows.append({
            "paper": paper,
            "cells compared": sum(count(comp, "verdict", v) for v in COMPARED),
            "within tolerance": count(comp, "verdict", "within tolerance"), "better": count(comp, "verdict", "better"),
            "worse": count(comp, "verdict", "worse"), "inconclusive cells": count(comp, "verdict", INCONCLUSIVE),
            "data absent": count(comp, "verdict", "data absent"),
            "weights absent": count(comp, "verdict", "weights absent"),
            "not run": count(comp, "verdict", "not run"),
            "short training: not compared": count(comp, "verdict", NOT_COMPARED),
            "claims hold": count(cl, "verdict", HOLDS), "do not hold": count(cl, "verdict", FAILS),
            "inconclusive": count(cl, "verdict", INCONCLUSIVE), "not decided": count(cl, "verdict", NOT_DECIDED),
            "untestable here": count(cl, "verdict", "not testable here"),
        })
    return pd.DataFrame(rows)


CELL_COLUMNS = {"cells compared": "compared", "within tolerance": "within tol.", "inconclusive cells": "inconclusive",
                "short training: not compared": "short training"}
CLAIM_COLUMNS = {"claims hold": "hold", "do not hold": "do not hold", "inconclusive": "inconclusive",
                 "not decided": "not decided", "untestable here": "untestable here"}


def summary_lines(comparisons: pd.DataFrame, claims: pd.DataFrame) -> list[str]:
    """The summary as two narrow tables: printed cells by verdict (and not compared, by reason), claims by verdict."""
    table = summary_table(comparisons, claims)
    if table.empty:
        return []
    cells = table.drop(columns=list(CLAIM_COLUMNS)).rename(columns=CELL_COLUMNS)
    claim_counts = table[["paper", *CLAIM_COLUMNS]].rename(columns=CLAIM_COLUMNS)
    return ["**Printed cells** (compared: ours has an interval to set against the print)", "",
            narrow_table(cells, keys=1), "", "**Claims**", "", narrow_table(claim_counts, keys=1), ""]


def paper_layout(comparison: pd.DataFrame) -> list[str]:
    """A section's compared cells in the paper's layout: per (table, dataset) one Markdown table, methods as rows,
    per metric printed | ours ± std (n) | Δ points; absent datasets and rows not run collapsed into one line each."""
    lines = []
    ran = comparison[comparison.verdict.isin((*COMPARED, NOT_COMPARED))]
    for (table, dataset), cells in ran.groupby(["table", "dataset"], sort=False):
        out = pd.DataFrame(index=pd.Index(dict.fromkeys(
            f"{m} [{v}]" if v else m for m, v in zip(cells.method, cells.variant)), name="row"))
        for c in cells.itertuples():
            row, metric = (f"{c.method} [{c.variant}]" if c.variant else c.method), c.metric.upper()
            out.loc[row, f"{metric} printed"] = f"{c.reported:.3f}"
            out.loc[row, f"{metric} ours"] = f"{c.reproduced:.3f} ± {0.0 if pd.isna(c.std) else c.std:.3f} ({int(c.n_seeds)})"
            mark = {"worse": " ✗", INCONCLUSIVE: " ?"}.get(c.verdict, "")
            out.loc[row, f"{metric} Δ"] = delta_text(c.diff, getattr(c, "diff_low", float("nan")),
                                                     getattr(c, "diff_high", float("nan"))) + mark
            note = getattr(c, "collapsed", "")
            if isinstance(note, str) and note:  # a section read back from CSV has NaN where there is no note
                out.loc[row, "⚠ partitions"] = note
        lines += [f"**{table} table, {dataset}** (ours: mean ± std over seeds (seeds); Δ in points with its 95% "
                  "interval; ✗ worse than the tolerance, ? inconclusive; ⚠ runs using fewer clusters than asked)",
                  "", narrow_table(out.fillna("").reset_index(), disable_numparse=True), ""]
    absent = sorted(set(comparison.loc[comparison.verdict == "data absent", "dataset"]))
    if absent:
        lines += [f"Data absent here: {', '.join(absent)} — `python -m mmc_core datasets` says how to obtain each; "
                  "with the data in place, `make reproduce PROFILE=full` fills these columns.", ""]
    no_weights = sorted(set(comparison.loc[comparison.verdict == "weights absent", "dataset"]))
    if no_weights:
        lines += [f"CLIP weights absent: the images of {', '.join(no_weights)} are public (`make data` stages them), "
                  "but their cells need CLIP's frozen features; `make reproduce PROFILE=full CLIP_WEIGHTS=<ViT-B-32.pt>` "
                  "(README) fills them.", ""]
    missing = comparison[comparison.verdict == "not run"].drop_duplicates(["dataset", "method", "variant"])
    if not missing.empty:
        rows = ", ".join(f"{r.method}{f' [{r.variant}]' if r.variant else ''} on {r.dataset}"
                         for r in missing.itertuples())
        lines += [f"Not run (data here, no run in this profile): {rows}.", ""]
    return lines


def degenerate_partitions(records: list[dict]) -> pd.DataFrame:
    """Per method, dataset and kind of run (its main row, or other parameters) whose runs do not all use the k
    clusters asked for: runs, how many use fewer, and the clusters used (min / median / max) — a collapsed partition
    with a plausible ACC is a defect until explained."""
    rows = pd.DataFrame([{"method": r.get("method_label", r["method"]), "dataset": r["dataset"],
                          "runs of": run_kind(r), "k": r["n_clusters"], "used": r["clusters_used"]}
                         for r in map(with_partition_fields, _dataset_runs(records)) if "clusters_used" in r])
    if rows.empty:
        return rows
    grouped = rows.groupby(["method", "dataset", "runs of", "k"], sort=True).used
    table = pd.DataFrame({"runs": grouped.size(), "runs using < k": grouped.apply(lambda u: int((u < u.name[3]).sum())),
                          "clusters used (min / median / max)": grouped.agg(
                              lambda u: f"{u.min()} / {u.median():g} / {u.max()}")}).reset_index()
    return table[table["runs using < k"] > 0].reset_index(drop=True)


def _dataset_runs(records: list[dict]) -> list[dict]:
    """The runs of a method on a registered dataset (not Multi-DProxy's concept runs, whose clusters are the task's)."""
    return [r for r in records if "task" not in r]


def run_kind(record: dict) -> str:
    """'main row' for a run of the method's defaults (its row in the papers' tables), else 'other parameters' (studies,
    ablations, readings)."""
    params = record.get("params") or {}
    return "main row" if not set(params) - {"device", "view"} and not record.get("outputs") else "other parameters"


def partition_lines(records: list[dict]) -> list[str]:
    """The report's section on degenerate partitions."""
    table = degenerate_partitions(records)
    cells = len({(r.get("method"), r["dataset"]) for r in _dataset_runs(records) if "labels" in r})
    if table.empty:
        return [f"Every run of every method x dataset cell ({cells}) uses all k clusters.", ""]
    return [f"Runs whose partition uses fewer clusters than the k asked for ({len(table)} of {cells} method x dataset "
            "cells; the other cells use all k in every run). Their rows are flagged ⚠ in every table; a collapsed "
            "partition caps ACC well below what the same features allow.", "",
            narrow_table(table), ""]


def devices_used(prov: pd.DataFrame) -> list[str]:
    """The devices the runs trained on, a GPU with its name, driver and CUDA ('cuda:0 (NVIDIA H100, driver 580.65,
    CUDA 13.0)'), from the runs' provenance (experiments.provenance)."""
    gpu = [prov[key] if key in prov else pd.Series(None, index=prov.index) for key in ("gpu", "driver", "cuda")]
    return sorted({device if pd.isna(name) else f"{device} ({name}, driver {driver}, CUDA {cuda})"
                   for device, name, driver, cuda in zip(prov.device, *gpu)})


def provenance_lines(records: list[dict]) -> list[str]:
    """Where the runs behind the report come from: counts, seeds, code commits, devices, threads, versions, time."""
    if not records:
        return ["No run records found for this profile.", ""]
    prov = pd.DataFrame([{**r["provenance"], "method": r["method"], "dataset": r["dataset"], "seed": r["seed"]}
                         for r in records if "provenance" in r])
    if prov.empty:
        return [f"{len(records)} run records, without provenance (made before records carried it).", ""]
    packages = pd.DataFrame(list(prov.packages)).drop_duplicates()
    return [f"- runs: {len(prov)} ({prov.groupby(['method', 'dataset']).ngroups} method x dataset cells, seeds "
            f"{prov.seed.min()}-{prov.seed.max()}), {prov.wall_seconds.sum() / 3600:.1f} CPU-hours of training",
            f"- code commits: {', '.join(f'`{c[:12]}`' for c in sorted(set(prov.commit)))}",
            f"- devices: {', '.join(devices_used(prov))}; threads per run: "
            f"{', '.join(map(str, sorted(set(prov.threads))))}; machine: {', '.join(sorted(set(prov.machine)))}",
            "- packages: " + "; ".join(", ".join(f"{k} {v}" for k, v in row.items()) for row in
                                       packages.to_dict(orient="records")), ""]


def baseline_departure_lines(width: int = 100) -> list[str]:
    """The section "Baselines: departures from the authors' code", written from silent_choices.SILENT_CHOICES: per
    baseline, one bullet per departure (choice: ours; authors'; why), wrapped to `width` columns."""
    import textwrap

    from .silent_choices import baseline_departures

    table = baseline_departures()
    lines = ["## Baselines: departures from the authors' code", "",
             *textwrap.wrap("Where a baseline differs from its authors' public code (EAMC: from the re-implementation "
                            "built on code its authors sent), and where a check against that code made us follow it "
                            "(authors' \"the same\"), as listed in `mmc_core/experiments/silent_choices.py`; each is "
                            "fixed before any run and not studied. The class docstrings give the details.",
                            width, break_on_hyphens=False), ""]
    for method, rows in table.groupby("method", sort=False):
        lines.append(f"**{method}**")
        for choice, ours, authors, why in rows[["choice", "ours", "authors'", "why"]].itertuples(index=False):
            lines.append(textwrap.fill(f"- {choice}: ours {ours}; authors' {authors}; why: {why}", width,
                                       subsequent_indent="  ", break_on_hyphens=False))
        lines.append("")
    return lines


def report_records(root: Path, profiles: list[str]) -> list[dict]:
    """The run records behind sections of these profiles: the reference store, or the results cache's runs."""
    from ..paths import REFERENCE_RUNS_DIR
    from .reference import concept_records, iter_records

    if profiles == ["reference"]:
        return [record for _, record in iter_records(REFERENCE_RUNS_DIR)] + concept_records()
    return [record for record in [r for _, r in iter_records(root / "cache")] + concept_records(root / "multiclust")
            if record.get("provenance", {}).get("profile") in profiles]


def figure_patterns(notebooks: Path = NOTEBOOKS_DIR) -> dict[str, list[str]]:
    """Per section, the figures its notebook saves as glob patterns "<paper>/<name>" (an f-string's fields as *),
    read from the notebooks' source: which figure belongs under which section of the report."""
    patterns: dict[str, list[str]] = {}
    for path in sorted(notebooks.glob("*/*.ipynb")):
        source = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
        sections = _SECTION_CALL.findall(source)
        figures = [f"{paper}/{re.sub(r'{[^}]*}', '*', name)}" for paper, name in _FIGURE_CALL.findall(source)]
        if sections and figures:
            patterns.setdefault(sections[0], []).extend(figures)
    return patterns


def section_figures(figures_root: Path, sections: list[str], notebooks: Path = NOTEBOOKS_DIR
                    ) -> tuple[dict[str, list[str]], list[str]]:
    """Each section's figures ("<paper>/<name>" of the PNGs under figures_root; a figure goes to the section whose
    pattern names it most literally) and the figures no section's notebook saves."""
    patterns = figure_patterns(notebooks)
    owned: dict[str, list[str]] = {name: [] for name in sections}
    rest = []
    for png in sorted(figures_root.glob("*/*.png")):
        key = png.relative_to(figures_root).with_suffix("").as_posix()
        matches = [(len(pattern.replace("*", "")), section) for section, found in patterns.items() if section in owned
                   for pattern in found if fnmatch.fnmatchcase(key, pattern)]
        (owned[max(matches)[1]] if matches else rest).append(key)
    return owned, rest


def figure_lines(keys: list[str]) -> list[str]:
    """Markdown showing the figures (PNG, relative to the report; the PDF lies beside each in results/figures)."""
    return [line for key in keys for line in (f"![{key}]({FIGURES_DIR}/{key}.png)", f"`{key}`", "")]


def section_profiles(root: Path) -> list[str]:
    """The profiles of the saved sections under root (['reference'] for `make report`)."""
    return sorted({_read_meta(f).get("profile", "?") for f in _sections(root)})


def report_files(root: Path) -> dict[str, bytes]:
    """The report as committed: REPORT.md and every PNG it shows (path relative to the report -> bytes)."""
    text = (root / "REPORT.md").read_bytes()
    shown = re.findall(rf"\]\(({FIGURES_DIR}/[^)]+\.png)\)", text.decode())
    return {"REPORT.md": text, **{key: (root / key).read_bytes() for key in shown}}


def publish_report(root: Path, dest: Path = DOCS_REPORT_DIR) -> list[str]:
    """Copy the report built under root (REPORT.md and the PNGs it shows) to dest, removing figures it no longer
    shows; returns the files that changed."""
    files = report_files(root)
    changed = report_differences(root, dest)
    for old in (dest / FIGURES_DIR).glob("**/*.png") if (dest / FIGURES_DIR).exists() else ():
        if old.relative_to(dest).as_posix() not in files:
            old.unlink()
    for key, data in files.items():
        if key in changed:
            atomic_write(dest / key, lambda tmp, data=data: Path(tmp).write_bytes(data))
    return changed


def report_differences(root: Path, dest: Path = DOCS_REPORT_DIR) -> list[str]:
    """Files of the committed report at dest that differ from the report built under root (changed, missing or no
    longer shown), sorted."""
    files = report_files(root)
    committed = {p.relative_to(dest).as_posix() for p in dest.glob("**/*") if p.is_file()} if dest.exists() else set()
    changed = {key for key, data in files.items() if key not in committed or (dest / key).read_bytes() != data}
    return sorted(changed | (committed - set(files)))


def build_report(out_dir: str | Path | None = None, records: list[dict] | None = None) -> Path:
    """Write <results>/REPORT.md from every saved section: a per-paper summary first, then the claims, each
    section's tables in the papers' layout with its figures, the provenance of the runs and each method's
    interpretation once, prose wrapped to readme.WIDTH columns (tables are not). records: the run records behind it
    (for the provenance block)."""
    root = results_dir(out_dir)
    sections = _sections(root)
    metas = {f: _read_meta(f) for f in sections}
    profiles = sorted({m.get("profile", "?") for m in metas.values()})
    if records is None:
        records = report_records(root, profiles)
    comparisons = [c for f in sections if (c := _read(f, "comparison")) is not None]
    comparisons = pd.concat(comparisons, ignore_index=True) if comparisons else pd.DataFrame()
    claims = all_claims(root)
    source = ("the shipped reference runs (`reference/runs/`); nothing was trained to write it"
              if profiles == ["reference"] else f"the runs of profile(s) {', '.join(profiles)} in the results cache")
    lines = ["# Reproduction report", "",
             f"Built from {len(sections)} notebook section(s), from {source}. Values are fractions in [0, 1]; ours = mean ± std over seeds (seed count in "
             "brackets); Δ = ours − printed, in points. Rows marked *oracle* chose something (e.g. the best single "
             "view) using the labels, as the papers' own rows do.", ""]
    if not sections:
        lines.append("No sections found: run `make report` (shipped runs) or `make reproduce` first.")
    if "smoke" in profiles:
        lines += ["**Smoke profile**: a few epochs say nothing about the papers, so no cell or claim gets a verdict "
                  "(\"short training: not compared\", \"not testable here\").", ""]
    lines += ["## Summary", ""] + summary_lines(comparisons, claims)
    if not claims.empty:
        lines += ["## Claims", "", claims_markdown(claims), ""]
    lines += ["## Degenerate partitions", ""] + partition_lines(records or [])
    ledgers = all_ledgers(root)
    if not ledgers.empty:
        lines += ["## Readings ledger", "", LEDGER_INTRO, "", ledger_markdown(ledgers), ""]
    protocols = all_protocols(root)
    if not protocols.empty:
        lines += ["## Reporting protocol", "", PROTOCOL_INTRO, "", protocol_markdown(protocols), ""]
    interpretations: dict[str, list[str]] = {}
    figures_root = root / FIGURES_DIR
    owned, unowned = section_figures(figures_root, [f.name for f in sections])
    for folder in sections:
        meta = metas[folder]
        lines += [f"## {meta.get('title', folder.name)}", "",
                  f"Notebook section `{folder.name}`, profile `{meta.get('profile', '?')}`.", ""]
        notes = (folder / "notes.md").read_text().strip() if (folder / "notes.md").exists() else ""
        if notes:
            interpretations.setdefault(notes, []).append(meta.get("title", folder.name))
            lines += [f"Readings: see [Interpretations](#interpretations) ({len(interpretations)}).", ""]
        comp = _read(folder, "comparison")
        if comp is not None:
            lines += paper_layout(comp)
        summary = _read(folder, "summary")
        if summary is not None and "dataset" in summary:
            compared = set(comp.loc[comp.reproduced.notna(), "dataset"]) if comp is not None else set()
            rest = summary[~summary.dataset.isin(compared)]
            if not rest.empty:
                if comp is not None:
                    lines += ["**Datasets without printed values here** (substitutes: the claims are re-tested "
                              "on them)", ""]
                lines += [narrow_table(rest.fillna("")), ""]
        lines += figure_lines(owned[folder.name])
    if unowned:
        lines += ["## Other figures", "", "Figures in the results directory that no notebook's source saves "
                  "(left from an earlier version of a notebook?).", ""] + figure_lines(unowned)
    lines += baseline_departure_lines()
    lines += ["## Provenance", ""] + provenance_lines(records or [])
    if interpretations:
        lines += ["## Interpretations", ""]
        for k, (text, titles) in enumerate(interpretations.items(), 1):
            lines += [f"**({k})** used by: {'; '.join(titles)}", "", text, ""]
    return atomic_write_text(root / "REPORT.md", wrap_block("\n".join(lines)) + "\n")
