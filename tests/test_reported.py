"""The transcribed tables: schema, shapes of the printed tables, errata flags, and clear errors on bad files.

No paper number is typed here: values are read through load_reported; the tests assert counts and
structural facts of the printed tables (shapes, repeated rows, which cells contradict PUR >= ACC).
"""

import csv
import re
from pathlib import Path

import pytest

from mmc_core.paths import REPORTED_DIR
from mmc_core.reported import (
    COLUMNS,
    KEY,
    ReportedDataError,
    errata,
    load_reported,
    pivot_reported,
    reported_value,
)

# (methods or variants, datasets or clusterings, metrics) of each printed table, excluding derived rows.
SHAPES = {
    ("IDMC", "table1"): (14, 5, 3),
    ("IDMC", "table2"): (5, 5, 3),
    ("SDCIB", "main"): (15, 4, 2),
    ("SDCIB", "layers"): (6, 4, 2),
    ("SDCIB", "ablation"): (4, 4, 2),
    ("SDCIB", "hidden"): (2, 4, 2),
    ("DDMC", "main"): (19, 5, 2),
    ("DDMC", "ablation"): (4, 5, 2),
    ("Multi-DProxy", "main"): (6, 5, 1),
    ("Multi-DProxy", "zero_shot"): (3, 3, 1),
}
ROW_VARIANTS = {
    ("IDMC", "table2"): {"w/o L_recon", "w/o L_align", "w/o L_KL", "w/o L_DDC", "full"},
    ("SDCIB", "layers"): {f"L={n}" for n in range(2, 8)},
    ("SDCIB", "ablation"): {"remove I(Y;Y)", "remove I(H;H)", "remove both", "full"},
    ("SDCIB", "hidden"): {"no hidden", "full"},
    ("DDMC", "ablation"): {"DDC", "DDC+FDL", "DDC+CDL", "full"},
}
DATASETS = {
    "Caltech2M", "Caltech3M", "Crosstask", "Captions", "MIRFlickr", "Caltech-2V", "Caltech-3V",
    "Caltech-4V", "Event", "IAPR", "ESP-Game", "Flickr", "IAPR-100", "Fruit", "Card", "CMUface",
    "CIFAR-10", "Stanford-Cars",
}
METHODS = {
    "KM", "Ncuts", "AmKM", "AmNcuts", "CoregMVSC", "RMKMC", "SwMC", "ONMSC", "SMCMB", "EAMC", "DEMVC",
    "SiMVC", "CoMVC", "MFLVC", "SPDMC", "DealMVC", "DIVIDE", "ICMVC", "CCMVC", "SSLNMVC", "SEM", "SCMVC",
    "IDMC", "DDMC", "SDCIB", "MSC", "ENRC", "AugDMC", "Multi-MaP", "Multi-Sub", "Multi-DProxy",
    "CLIP_GPT", "CLIP_label",
}
CELL = ["paper", "table", "dataset", "method", "variant"]


@pytest.fixture(scope="module")
def df():
    return load_reported()


def _cells(frame, cols=("dataset", "variant", "metric")):
    """{(dataset, variant, metric): value} of one printed row."""
    return {tuple(r[c] for c in cols): r["value"] for _, r in frame.iterrows()}


# ---------- schema ----------

def test_columns_and_types(df):
    assert list(df.columns) == [*COLUMNS, "erratum", "erratum_reason"]
    assert df["value"].dtype == float
    assert df["erratum"].dtype == bool
    assert set(df["metric"]) <= {"acc", "nmi", "pur", "ri"}
    assert set(df["dataset"]) <= DATASETS
    assert set(df["method"]) <= METHODS
    assert not df[list(KEY)].duplicated().any()


def test_every_value_is_a_fraction(df):
    assert df["value"].between(0.0, 1.0).all()


def test_csv_values_are_exact_decimals():
    """The files hold the printed digits as fractions (0.347), never float noise (0.34700000000000003)."""
    for path in sorted(Path(REPORTED_DIR).glob("*.csv")):
        with open(path, newline="") as f:
            for line, row in enumerate(csv.DictReader(f), start=2):
                assert re.fullmatch(r"[01]\.\d{1,4}", row["value"]), f"{path.name}:{line} {row['value']}"


def test_one_file_per_paper(df):
    names = {p.name for p in Path(REPORTED_DIR).glob("*.csv")}
    assert names == {"idmc.csv", "ddmc.csv", "sdcib.csv", "multidproxy.csv"}
    assert set(df["paper"]) == {"IDMC", "DDMC", "SDCIB", "Multi-DProxy"}


# ---------- shapes of the printed tables ----------

def test_row_count_per_table_is_rows_times_columns(df):
    counts = df.groupby(["paper", "table"]).size().to_dict()
    assert counts == {k: r * c * m for k, (r, c, m) in SHAPES.items()}


@pytest.mark.parametrize("key", sorted(SHAPES))
def test_each_table_is_a_full_grid(df, key):
    """Distinct rows x columns x metrics equals the printed shape, so with unique keys no cell is missing."""
    n_rows, n_cols, n_metrics = SHAPES[key]
    t = df[(df["paper"] == key[0]) & (df["table"] == key[1])]
    # Multi-DProxy's variant names a clustering (a column); elsewhere it names a row.
    row_key, col_key = (["method"], ["dataset", "variant"]) if key[0] == "Multi-DProxy" else (
        ["method", "variant"], ["dataset"])
    shape = (len(t[row_key].drop_duplicates()), len(t[col_key].drop_duplicates()), t["metric"].nunique())
    assert shape == (n_rows, n_cols, n_metrics)
    assert len(t) == n_rows * n_cols * n_metrics


@pytest.mark.parametrize("key", sorted(ROW_VARIANTS))
def test_ablation_rows_are_named_variants_of_the_papers_method(df, key):
    t = df[(df["paper"] == key[0]) & (df["table"] == key[1])]
    assert set(t["variant"]) == ROW_VARIANTS[key]
    assert set(t["method"]) == {key[0]}


def test_main_tables_have_empty_variant(df):
    main = df[df["table"].isin(["table1", "main"]) & (df["paper"] != "Multi-DProxy")]
    assert (main["variant"] == "").all()
    mdp = df[df["paper"] == "Multi-DProxy"]
    assert set(mdp["variant"]) == {"Color", "Species", "Suits", "Identity", "Type"}


@pytest.mark.parametrize("paper, main, table, variant", [
    ("IDMC", "table1", "table2", "full"),
    ("DDMC", "main", "ablation", "full"),
    ("SDCIB", "main", "layers", "L=4"),
    ("SDCIB", "main", "ablation", "full"),
    ("SDCIB", "main", "hidden", "full"),
])
def test_full_model_row_repeats_the_main_table(df, paper, main, table, variant):
    """Each paper prints its full model twice; the two transcriptions must agree cell by cell."""
    a = df[(df["paper"] == paper) & (df["table"] == main) & (df["method"] == paper)]
    b = df[(df["paper"] == paper) & (df["table"] == table) & (df["variant"] == variant)]
    cols = ("dataset", "metric")
    assert len(a) == len(b) > 0
    assert _cells(a, cols) == _cells(b, cols)


def test_multidproxy_zero_shot_repeats_main_where_they_overlap(df):
    mdp = df[(df["paper"] == "Multi-DProxy") & (df["method"] == "Multi-DProxy")]
    main, zs = _cells(mdp[mdp["table"] == "main"]), _cells(mdp[mdp["table"] == "zero_shot"])
    shared = set(main) & set(zs)
    assert len(shared) == 2
    assert all(main[k] == zs[k] for k in shared)


def test_sdcib_main_own_row_is_best_in_every_column(df):
    """SDCIB prints its row bold in every column of the main table (and its ours-vs-best row is positive)."""
    t = df[(df["paper"] == "SDCIB") & (df["table"] == "main")]
    best = t.groupby(["dataset", "metric"])["value"].max()
    own = t[t["method"] == "SDCIB"].set_index(["dataset", "metric"])["value"]
    assert (own == best.loc[own.index]).all()


# ---------- errata ----------

def test_errata_flag_the_three_known_table1_cells(df):
    flagged = errata(df)
    table1 = flagged[flagged["table"] == "table1"]
    assert set(zip(table1["dataset"], table1["method"])) == {
        ("MIRFlickr", "IDMC"), ("Caltech3M", "DealMVC"), ("Captions", "MFLVC")}
    assert (flagged["pur"] < flagged["acc"]).all()


def test_errata_elsewhere_only_the_repeated_idmc_row(df):
    """Table 2's full-model row reprints Table 1's IDMC row, so its MIRFlickr cell carries the same erratum."""
    flagged = errata(df)
    others = flagged[flagged["table"] != "table1"]
    assert [tuple(r) for r in others[CELL].to_numpy()] == [("IDMC", "table2", "MIRFlickr", "IDMC", "full")]


def test_erratum_column_marks_only_acc_and_pur_of_flagged_cells(df):
    marked = df[df["erratum"]]
    assert len(marked) == 2 * len(errata(df))
    assert set(marked["metric"]) == {"acc", "pur"}
    assert (marked["erratum_reason"].str.contains("purity can never be below accuracy")).all()
    assert (df.loc[~df["erratum"], "erratum_reason"] == "").all()


def test_rule_matches_a_direct_check(df):
    """The flag is exactly 'PUR < ACC in the same printed cell', recomputed independently."""
    acc = df[df["metric"] == "acc"].set_index(CELL)["value"]
    pur = df[df["metric"] == "pur"].set_index(CELL)["value"]
    direct = {k for k in pur.index if pur[k] < acc[k]}
    assert direct == {tuple(r) for r in errata(df)[CELL].to_numpy()}


# ---------- lookups and views ----------

def test_filters(df):
    sub = load_reported(paper="SDCIB", table="layers")
    assert set(sub["paper"]) == {"SDCIB"} and set(sub["table"]) == {"layers"}
    assert len(load_reported(paper="DDMC")) == len(df[df["paper"] == "DDMC"])
    with pytest.raises(ValueError, match="unknown paper"):
        load_reported(paper="SDCIBB")


def test_reported_value_lookup(df):
    row = df[(df["paper"] == "IDMC") & (df["table"] == "table1")].iloc[0]
    assert reported_value("IDMC", row["dataset"], row["method"], row["metric"]) == row["value"]
    assert reported_value("IDMC", row["dataset"], row["method"], row["metric"], df=df) == row["value"]
    assert reported_value("IDMC", "Flickr", "IDMC", "acc") is None
    assert reported_value("DDMC", "Caltech-3V", "KM", "pur") is None


def test_reported_value_prefers_main_table_and_asks_when_ambiguous(df):
    main = reported_value("SDCIB", "Event", "SDCIB", "acc", df=df)
    assert reported_value("SDCIB", "Event", "SDCIB", "acc", table="hidden", variant="full", df=df) == main
    with pytest.raises(ValueError, match="pass `table`"):
        reported_value("SDCIB", "Event", "SDCIB", "acc", variant="full", df=df)
    fruit = reported_value("Multi-DProxy", "Fruit", "Multi-DProxy", "nmi", variant="Color", df=df)
    assert fruit == reported_value("Multi-DProxy", "Fruit", "Multi-DProxy", "nmi", table="main",
                                   variant="Color", df=df)


@pytest.mark.parametrize("key", sorted(SHAPES))
def test_pivot_has_printed_shape(df, key):
    n_rows, n_cols, n_metrics = SHAPES[key]
    wide = pivot_reported(df[(df["paper"] == key[0]) & (df["table"] == key[1])])
    assert wide.shape == (n_rows, n_cols * n_metrics)
    assert not wide.isna().any().any()


def test_pivot_keeps_printed_order(df):
    t = df[(df["paper"] == "IDMC") & (df["table"] == "table1")]
    wide = pivot_reported(t)
    assert list(wide.index.get_level_values("method")) == list(dict.fromkeys(t["method"]))
    assert wide.columns[0] == (t["dataset"].iloc[0], t["metric"].iloc[0])


# ---------- bad files give clear errors ----------

GOOD = [
    ["IDMC", "table1", "Caltech2M", "KM", "acc", "0.5", "", ""],
    ["IDMC", "table1", "Caltech2M", "KM", "pur", "0.6", "", ""],
]


def _write(path: Path, rows, header=COLUMNS):
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def test_synthetic_good_file_loads(tmp_path):
    _write(tmp_path / "x.csv", GOOD)
    out = load_reported(directory=tmp_path)
    assert len(out) == 2 and not out["erratum"].any()


def test_synthetic_pur_below_acc_is_flagged_not_fixed(tmp_path):
    _write(tmp_path / "x.csv", [GOOD[0], [*GOOD[1][:5], "0.4", "", ""]])
    out = load_reported(directory=tmp_path)
    assert out["erratum"].all()
    assert sorted(out["value"]) == [0.4, 0.5]


def test_percentage_value_is_rejected(tmp_path):
    _write(tmp_path / "bad.csv", [GOOD[0], [*GOOD[1][:5], "56.5", "", ""]])
    with pytest.raises(ReportedDataError, match=r"bad\.csv, line 3: value '56\.5'.*0\.565"):
        load_reported(directory=tmp_path)


def test_non_numeric_value_is_rejected(tmp_path):
    _write(tmp_path / "bad.csv", [[*GOOD[0][:5], "n/a", "", ""]])
    with pytest.raises(ReportedDataError, match=r"bad\.csv, line 2: value 'n/a'"):
        load_reported(directory=tmp_path)


def test_missing_column_is_rejected(tmp_path):
    _write(tmp_path / "bad.csv", [r[:7] for r in GOOD], header=COLUMNS[:7])
    with pytest.raises(ReportedDataError, match=r"bad\.csv: columns must be.*missing \['note'\]"):
        load_reported(directory=tmp_path)


def test_duplicate_key_is_rejected_across_files(tmp_path):
    _write(tmp_path / "a.csv", GOOD)
    _write(tmp_path / "b.csv", [[*GOOD[0][:5], "0.7", "", ""]])
    with pytest.raises(ReportedDataError, match=r"duplicate key.*a\.csv line 2; .*b\.csv line 2"):
        load_reported(directory=tmp_path)


@pytest.mark.parametrize("col, bad, message", [
    (0, "IDMCC", "unknown paper 'IDMCC'"),
    (1, "main", "unknown table 'main' for IDMC"),
    (4, "ACC", "unknown metric 'ACC'"),
    (3, " ", "empty method"),
])
def test_unknown_names_are_rejected(tmp_path, col, bad, message):
    row = list(GOOD[0])
    row[col] = bad
    _write(tmp_path / "bad.csv", [row])
    with pytest.raises(ReportedDataError, match=rf"bad\.csv, line 2: {re.escape(message)}"):
        load_reported(directory=tmp_path)


def test_empty_directory_is_rejected(tmp_path):
    with pytest.raises(ReportedDataError, match="no \\*.csv"):
        load_reported(directory=tmp_path)
