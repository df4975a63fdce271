"""The four papers' printed tables, read from data/reported/*.csv and validated.

The numbers are data, transcribed once (see data/reported/README.md) and fingerprinted in MANIFEST.json; every
comparison with a paper reads them from here. Loading never changes a value: printed inconsistencies are flagged
(`erratum`), not fixed.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pandas as pd

from mmc_core.io import atomic_write_json
from mmc_core.paths import REPORTED_DIR

COLUMNS = ("paper", "table", "dataset", "method", "metric", "value", "variant", "note")
KEY = ("paper", "table", "dataset", "method", "variant", "metric")
CELL = ("paper", "table", "dataset", "method", "variant")
METRICS = ("acc", "nmi", "pur", "ri")
TABLES: dict[str, tuple[str, ...]] = {
    "IDMC": ("table1", "table2"),
    "DDMC": ("main", "ablation"),
    "SDCIB": ("main", "layers", "ablation", "hidden"),
    "Multi-DProxy": ("main", "zero_shot"),
}
MAIN_TABLE = {"IDMC": "table1", "DDMC": "main", "SDCIB": "main", "Multi-DProxy": "main"}
# Papers whose `variant` names a clustering of the dataset (a column of the printed table), not a row.
VARIANT_IS_CLUSTERING = frozenset({"Multi-DProxy"})
PUR_BELOW_ACC = "printed PUR {pur} < ACC {acc}: purity can never be below accuracy"
MANIFEST = "MANIFEST.json"  # per CSV its sha256 and number of data rows (write_manifest)
WRITE_MANIFEST = "python -m mmc_core reported --write-manifest"


class ReportedDataError(ValueError):
    """A reported-results CSV breaks the schema or its manifest; the message names the file (and line) and the fix."""


def _fingerprint(path: Path) -> dict[str, object]:
    data = path.read_bytes()
    return {"sha256": hashlib.sha256(data).hexdigest(), "rows": max(len(data.splitlines()) - 1, 0)}


def write_manifest(directory: str | os.PathLike = REPORTED_DIR) -> Path:
    """Record every CSV's sha256 and row count in <directory>/MANIFEST.json: run it after an intended edit."""
    directory = Path(directory)
    return atomic_write_json(directory / MANIFEST, {f.name: _fingerprint(f) for f in sorted(directory.glob("*.csv"))})


def verify_manifest(directory: str | os.PathLike = REPORTED_DIR) -> None:
    """Check every CSV against MANIFEST.json, so a truncated or stray file is refused instead of loading with cells
    missing; the error names the file, how to restore it and how to accept an intended edit."""
    directory = Path(directory)
    manifest_path = directory / MANIFEST
    accept = f"if the change is intended, run `{WRITE_MANIFEST}` and commit {MANIFEST} with it"
    try:
        manifest = json.loads(manifest_path.read_text())
    except (OSError, ValueError) as err:
        raise ReportedDataError(f"{manifest_path} cannot be read ({err}). Restore it with `git checkout -- "
                                f"{manifest_path}`, or {accept}.") from None
    files = {f.name: f for f in directory.glob("*.csv")}
    for name in sorted(set(manifest) | set(files)):
        path = directory / name
        if name not in files:
            raise ReportedDataError(f"{path} is listed in {manifest_path} but missing. Restore it with "
                                    f"`git checkout -- {path}`, or, if it was removed on purpose, {accept}.")
        if name not in manifest:
            raise ReportedDataError(f"{path} is not listed in {manifest_path}: {accept}; otherwise remove the file.")
        found, expected = _fingerprint(path), manifest[name]
        if found != expected:
            raise ReportedDataError(
                f"{path} does not match {manifest_path}: {found['rows']} data rows and sha256 {found['sha256']}, "
                f"the manifest records {expected.get('rows')} rows and sha256 {expected.get('sha256')} (the file "
                f"was truncated or edited). Restore it with `git checkout -- {path}`, or {accept}.")


def _read_csv(path: Path) -> pd.DataFrame:
    """One CSV, every column as text, each row tagged with its file and line for error messages."""
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in COLUMNS if c not in df.columns]
    unknown = [c for c in df.columns if c not in COLUMNS]
    if missing or unknown:
        raise ReportedDataError(
            f"{path}: columns must be exactly {', '.join(COLUMNS)}; "
            f"missing {missing or 'none'}, unknown {unknown or 'none'}. Fix the header line."
        )
    df = df[list(COLUMNS)].copy()
    df["_source"] = f"{path}"
    df["_line"] = range(2, len(df) + 2)
    return df


def _fail(row: pd.Series, problem: str, fix: str) -> None:
    raise ReportedDataError(f"{row['_source']}, line {row['_line']}: {problem}. {fix}")


def _validate(df: pd.DataFrame) -> pd.DataFrame:
    """Check every row against the schema and return it with `value` as float."""
    values = pd.to_numeric(df["value"], errors="coerce")
    for idx, row in df.iterrows():
        if row["paper"] not in TABLES:
            _fail(row, f"unknown paper {row['paper']!r}", f"Use one of {sorted(TABLES)}")
        if row["table"] not in TABLES[row["paper"]]:
            _fail(row, f"unknown table {row['table']!r} for {row['paper']}",
                  f"Use one of {list(TABLES[row['paper']])}")
        if row["metric"] not in METRICS:
            _fail(row, f"unknown metric {row['metric']!r}", f"Use one of {list(METRICS)} (lowercase)")
        for col in ("dataset", "method"):
            if not row[col].strip():
                _fail(row, f"empty {col}", f"Give the canonical {col} name")
        value = values[idx]
        if pd.isna(value) or not 0.0 <= value <= 1.0:
            _fail(row, f"value {row['value']!r} is not a number in [0, 1]",
                  "Write fractions (a printed 56.5% is 0.565)")
    dup = df.duplicated(list(KEY), keep=False)
    if dup.any():
        first = df[dup].iloc[0]
        lines = df[dup & (df[list(KEY)] == first[list(KEY)]).all(axis=1)]
        where = "; ".join(f"{s} line {n}" for s, n in zip(lines["_source"], lines["_line"]))
        raise ReportedDataError(
            f"duplicate key {dict(first[list(KEY)])} at {where}. Keep one row per "
            f"({', '.join(KEY)}); use `variant` to tell ablation or setting rows apart."
        )
    out = df.copy()
    out["value"] = values.astype(float)
    return out


def _flag_errata(df: pd.DataFrame) -> pd.DataFrame:
    """Add `erratum`/`erratum_reason`: the ACC and PUR rows of a printed cell whose PUR < ACC."""
    acc = df[df["metric"] == "acc"].set_index(list(CELL))["value"]
    pur = df[df["metric"] == "pur"].set_index(list(CELL))["value"]
    both = pd.concat({"acc": acc, "pur": pur}, axis=1, join="inner")
    bad = both[both["pur"] < both["acc"]]
    reasons = pd.DataFrame({
        "erratum_reason": [PUR_BELOW_ACC.format(pur=p, acc=a) for a, p in zip(bad["acc"], bad["pur"])],
        "metric": [("acc", "pur")] * len(bad),
    }, index=bad.index).explode("metric").reset_index()
    out = df.merge(reasons, on=[*CELL, "metric"], how="left")
    out["erratum"] = out["erratum_reason"].notna()
    out["erratum_reason"] = out["erratum_reason"].where(out["erratum"], "").astype(str)
    return out[[*df.columns, "erratum", "erratum_reason"]]


def load_reported(
    paper: str | None = None,
    table: str | None = None,
    directory: str | os.PathLike = REPORTED_DIR,
) -> pd.DataFrame:
    """All reported cells (long form, one row per value), validated, with the erratum flags.

    `paper` and `table` filter the result; `directory` holds the CSVs (every *.csv in it is read). The files are
    first checked against the directory's MANIFEST.json (verify_manifest), which data/reported must have.
    """
    directory = Path(directory)
    files = sorted(directory.glob("*.csv"))
    if not files:
        raise ReportedDataError(f"no *.csv in {directory}: point `directory` at data/reported")
    if (directory / MANIFEST).exists() or directory.resolve() == REPORTED_DIR.resolve():
        verify_manifest(directory)
    df = _validate(pd.concat([_read_csv(f) for f in files], ignore_index=True))
    df = _flag_errata(df).drop(columns=["_source", "_line"])
    if paper is not None:
        if paper not in TABLES:
            raise ValueError(f"unknown paper {paper!r}; use one of {sorted(TABLES)}")
        df = df[df["paper"] == paper]
    if table is not None:
        df = df[df["table"] == table]
    return df.reset_index(drop=True)


def errata(df: pd.DataFrame | None = None) -> pd.DataFrame:
    """The flagged printed cells, one line each: where, the ACC and PUR as printed, and why."""
    df = load_reported() if df is None else df
    flagged = df[df["erratum"]]
    if flagged.empty:
        return pd.DataFrame(columns=[*CELL, "acc", "pur", "erratum_reason"])
    wide = flagged.pivot_table(index=[*CELL, "erratum_reason"], columns="metric", values="value",
                               aggfunc="first", sort=False).reset_index()
    return wide[[*CELL, "acc", "pur", "erratum_reason"]].rename_axis(columns=None)


def reported_value(
    paper: str,
    dataset: str,
    method: str,
    metric: str,
    table: str | None = None,
    variant: str = "",
    df: pd.DataFrame | None = None,
) -> float | None:
    """One printed value as a fraction, or None when the paper does not report it.

    With `table=None` every table of the paper is searched; a cell found in several tables (a main-table
    row repeated in an ablation table) resolves to the paper's main table, otherwise pass `table`.
    """
    if paper not in TABLES:
        raise ValueError(f"unknown paper {paper!r}; use one of {sorted(TABLES)}")
    df = load_reported(paper=paper) if df is None else df[df["paper"] == paper]
    hit = df[(df["dataset"] == dataset) & (df["method"] == method)
             & (df["metric"] == metric) & (df["variant"] == variant)]
    if table is not None:
        hit = hit[hit["table"] == table]
    elif len(hit) > 1:
        main = hit[hit["table"] == MAIN_TABLE[paper]]
        if main.empty:
            raise ValueError(f"{paper} {dataset} {method} {metric} variant={variant!r} is in tables "
                             f"{sorted(hit['table'])}; pass `table` to choose one")
        hit = main
    return float(hit["value"].iloc[0]) if len(hit) else None


def pivot_reported(df: pd.DataFrame) -> pd.DataFrame:
    """Wide view for display, in printed order: rows (paper, table, variant, method), columns (dataset, metric).

    For papers whose variant is a clustering (Multi-DProxy) the column reads "Fruit (Color)" instead.
    """
    if df.empty:
        raise ValueError("nothing to pivot: the frame is empty (check the paper/table filter)")
    view = df[["paper", "table", "variant", "method", "dataset", "metric", "value"]].copy()
    as_column = view["paper"].isin(VARIANT_IS_CLUSTERING) & (view["variant"] != "")
    view.loc[as_column, "dataset"] = view["dataset"] + " (" + view["variant"] + ")"
    view.loc[as_column, "variant"] = ""
    index, columns = ["paper", "table", "variant", "method"], ["dataset", "metric"]
    rows = list(dict.fromkeys(view[index].itertuples(index=False, name=None)))
    cols = list(dict.fromkeys(view[columns].itertuples(index=False, name=None)))
    wide = view.pivot(index=index, columns=columns, values="value")
    return wide.reindex(index=pd.MultiIndex.from_tuples(rows, names=index),
                        columns=pd.MultiIndex.from_tuples(cols, names=columns))
