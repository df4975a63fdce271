"""Command line: `python -m mmc_core datasets | methods | run METHOD DATASET | report | reference | reported`."""

from __future__ import annotations

import argparse
import json
import sys

import pandas as pd

from .data.registry import DatasetUnavailable

# What a user can cause and fix (a bad name, parameter, path or file): one line on stderr, exit 2, no traceback.
# TypeError is here because a bad parameter is one (e.g. an unknown keyword); --debug shows any traceback.
USER_ERRORS = (KeyError, ValueError, TypeError, OSError, DatasetUnavailable)


def _parse_params(items: list[str]) -> dict:
    """key=value pairs; values parsed as JSON when possible (numbers, true/false), else kept as strings."""
    params = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise SystemExit(f"--param expects key=value, got {item!r}.")
        try:
            params[key] = json.loads(value)
        except json.JSONDecodeError:
            params[key] = value
    return params


LISTING_WIDTH = 100  # `datasets` prints within this many columns


def format_datasets(table: pd.DataFrame, data_dir: str, sources: bool = False, width: int = LISTING_WIDTH) -> str:
    """The `datasets` listing of list_datasets(): one row per dataset (papers, n, k, view dims or an image set's
    clusterings, whether it is here), then how to obtain each dataset absent (every dataset with `sources`), wrapped
    so that no line is longer than `width`."""
    import textwrap

    def cell(value: object) -> str:
        return "-" if value is None or value is pd.NA or value == "" else str(value)

    rows = [("dataset", "papers", "n", "k", "view dims / clusterings", "here")]
    for r in table.itertuples(index=False):
        rows.append((r.name, cell(r.papers), cell(r.samples), cell(r.clusters),
                     cell(r.dims if r.kind == "multiview" else r.clusterings), "yes" if r.available else "no"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) if i in (0, 1, 4) else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths)))
             .rstrip() for row in rows]
    lines = [line if len(line) <= width else line[: width - 3] + "..." for line in lines]
    listed = table if sources else table[~table["available"]]
    if len(listed):
        lines.append("")
        lines.extend(textwrap.wrap("Source and how to obtain, for every dataset:" if sources else
                                   f"Source and how to obtain, for each dataset absent from {data_dir} (--sources: "
                                   f"every dataset):", width=width, break_on_hyphens=False))
        indent = " " * (widths[0] + 2)
        for r in listed.itertuples(index=False):
            lines.extend(textwrap.wrap(f"{r.name:<{widths[0]}}  {r.how_to_obtain}", width=width,
                                       subsequent_indent=indent, break_on_hyphens=False, break_long_words=True))
    return "\n".join(lines)


def cmd_datasets(args: argparse.Namespace) -> int:
    from .data import list_datasets
    from .paths import data_dir

    print(format_datasets(list_datasets(args.data_dir), str(data_dir(args.data_dir)), sources=args.sources))
    return 0


def cmd_methods(args: argparse.Namespace) -> int:
    from .methods import available, method_class

    for name in available():
        cls = method_class(name)
        doc = (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""
        print(f"{name:<12} {getattr(cls, 'reported_as', ''):<12} {doc}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from .data import list_datasets
    from .experiments import add_best_view, compare, format_mean_std, make_grid, run_grid, summarize
    from .methods import method_class
    from .reported import load_reported

    specs = make_grid([(args.method, _parse_params(args.param))], [args.dataset], args.seeds,
                      base_seed=args.base_seed, scaling=args.scaling)
    results = run_grid(specs, cache_dir=None if args.no_cache else "default", n_jobs=args.jobs,
                       data_dir=args.data_dir)
    summary = add_best_view(summarize(results))
    with pd.option_context("display.width", 200, "display.max_colwidth", 80):
        print(format_mean_std(summary, ("acc", "nmi", "pur", "ari")).to_string(index=False))
        label = getattr(method_class(args.method), "reported_as", args.method)
        reported = load_reported()
        reported = reported[(reported.dataset == summary.dataset.iloc[0]) & (reported.method == label)
                            & (reported.variant == "")]
        if reported.empty:
            print(f"\nNo paper reports {label} on {summary.dataset.iloc[0]}.")
        else:
            avail = set(list_datasets(args.data_dir).query("available").name)
            comp = compare(summary, reported, tolerance=args.tolerance, available=avail)
            print(f"\nAgainst the papers (tolerance {args.tolerance:.3f}):")
            print(comp[["paper", "table", "metric", "reported", "reproduced", "std", "diff", "verdict"]]
                  .round(3).to_string(index=False))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from .experiments import build_report
    from .experiments.report import SECTIONS_DIR, publish_report, report_differences, section_profiles
    from .paths import PROJECT_ROOT, results_dir

    root = results_dir(args.results_dir)
    if not root.is_dir():
        raise FileNotFoundError(f"results directory {root} does not exist: check --results-dir / $MMC_RESULTS_DIR, "
                                "or run `make report` or `make reproduce` to fill it.")
    if not any((root / SECTIONS_DIR).glob("*/meta.txt")):
        raise FileNotFoundError(f"results directory {root} holds no notebook sections ({SECTIONS_DIR}/*/meta.txt): "
                                "check --results-dir / $MMC_RESULTS_DIR, or run `make report` or `make reproduce`.")
    print(build_report(root))
    if section_profiles(root) != ["reference"]:
        return 0  # docs/report/ is the reference profile's report only
    dest = PROJECT_ROOT / args.docs_dir
    if args.check:
        stale = report_differences(root, dest)
        if stale:
            print(f"{args.docs_dir} differs from the report the shipped runs give ({len(stale)} file(s): "
                  f"{', '.join(stale[:8])}{' ...' if len(stale) > 8 else ''}): run `make report` and commit "
                  f"{args.docs_dir}.", file=sys.stderr)
            return 1
        print(f"{args.docs_dir} is up to date")
        return 0
    changed = publish_report(root, dest)
    print(f"{args.docs_dir}: {len(changed)} file(s) written or removed")
    return 0


def cmd_reported(args: argparse.Namespace) -> int:
    from .reported import MANIFEST, load_reported, write_manifest

    if args.write_manifest:
        print(f"wrote {write_manifest()}")
        return 0
    print(f"{len(load_reported())} reported values load, every file matching its {MANIFEST}")
    return 0


def cmd_readme(args: argparse.Namespace) -> int:
    from .experiments.readme import update_readme
    from .experiments.reference import concept_records, iter_records
    from .paths import REFERENCE_RUNS_DIR, results_dir

    root = results_dir(args.results_dir)
    records = [record for _, record in iter_records(REFERENCE_RUNS_DIR)] + concept_records()
    ok = update_readme(root, records, check=args.check)
    if args.check and not ok:
        print("README.md's generated blocks (claims, timings) differ from what the shipped runs give: run "
              "`make report && .venv/bin/python -m mmc_core readme` and commit README.md.", file=sys.stderr)
        return 1
    print("README.md is up to date" if args.check else "README.md's generated blocks written")
    return 0


def cmd_reference(args: argparse.Namespace) -> int:
    from .data import load_dataset
    from .experiments.reference import MANIFEST, audit_store, manifest_fix, record_paths, ship, write_manifest
    from .paths import REFERENCE_CONCEPT_RUNS_DIR, REFERENCE_DIR, REFERENCE_RUNS_DIR, results_dir

    if args.action == "ship":
        results = results_dir(args.results_dir)
        for cache, store in ((results / "cache", REFERENCE_RUNS_DIR),
                             (results / "multiclust", REFERENCE_CONCEPT_RUNS_DIR)):
            copied = ship(cache, store)
            print(f"shipped {len(copied)} new or changed run(s) from {cache} into {store}")
    if args.action in ("ship", "manifest"):
        print(f"wrote {write_manifest(REFERENCE_DIR)}: commit it with the store's files")
        return 0

    def dataset_labels(name: str) -> object:
        try:
            return load_dataset(name, data_dir=args.data_dir).labels
        except (DatasetUnavailable, FileNotFoundError, ValueError):
            return None  # data absent here: the scores cannot be recomputed, the rest is checked

    problems = audit_store(REFERENCE_DIR, dataset_labels)
    for problem in problems:
        print(problem)
    runs, concepts = len(record_paths(REFERENCE_RUNS_DIR)), len(record_paths(REFERENCE_CONCEPT_RUNS_DIR))
    print(f"{REFERENCE_DIR}: its {MANIFEST}, {runs} run(s) and {concepts} concept run(s) audited, "
          f"{len(problems)} problem(s)")
    if problems:
        print(manifest_fix(REFERENCE_DIR) + " A record that is not consistent was edited by hand: restore or "
              "recompute it (reference/README.md).", file=sys.stderr)
    return 1 if problems else 0


def cmd_verify(args: argparse.Namespace) -> int:
    from .experiments.verify import summary_table, verify, write_summary
    from .paths import results_dir

    verification = verify(budget_s=args.budget, limit=args.limit, jobs=args.jobs, sample_seed=args.sample_seed,
                          data_dir=args.data_dir)
    print(summary_table(verification))
    md, js = write_summary(verification, args.out or results_dir() / "verify")
    print(f"written: {md}, {js}")
    return 0 if verification.ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mmc_core", description=__doc__)
    parser.add_argument("--debug", action="store_true", help="show the full traceback of an error")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("datasets", help="the dataset registry, with availability in the data directory")
    p.add_argument("--data-dir", default=None, help="data directory (default $MMC_DATA_DIR or data/raw)")
    p.add_argument("--sources", action="store_true", help="say where every dataset comes from, not only the absent")
    p.set_defaults(func=cmd_datasets)
    p = sub.add_parser("methods", help="the registered clustering methods")
    p.set_defaults(func=cmd_methods)
    p = sub.add_parser("run", help="run one method on one dataset over seeds and print mean ± std")
    p.add_argument("method")
    p.add_argument("dataset")
    p.add_argument("--seeds", type=int, default=5, help="number of runs; seeds are base_seed + run")
    p.add_argument("--base-seed", type=int, default=0)
    p.add_argument("--scaling", default=None, choices=["none", "minmax", "zscore", "l2"],
                   help="feature scaling (default: the method's, else the dataset's)")
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE", help="method parameter")
    p.add_argument("--jobs", type=int, default=1, help="parallel worker processes")
    p.add_argument("--no-cache", action="store_true", help="recompute even if cached results exist")
    p.add_argument("--tolerance", type=float, default=0.02, help="|diff| within this counts as reproduced")
    p.add_argument("--data-dir", default=None)
    p.set_defaults(func=cmd_run)
    p = sub.add_parser("report", help="rebuild results/REPORT.md from the notebooks' saved sections; for the reference "
                                      "profile, copy it and its figures to docs/report (--check: compare instead)")
    p.add_argument("--results-dir", default=None)
    p.add_argument("--docs-dir", default="docs/report", help="the committed reference report (relative to the project)")
    p.add_argument("--check", action="store_true", help="fail when docs/report differs from the report built")
    p.set_defaults(func=cmd_report)
    p = sub.add_parser("readme", help="write README.md's claims and timings from the shipped runs (--check: compare)")
    p.add_argument("--check", action="store_true")
    p.add_argument("--results-dir", default=None, help="results directory holding the reference sections")
    p.set_defaults(func=cmd_readme)
    p = sub.add_parser("reference", help="ship finished full-profile runs into reference/runs (and concept runs into "
                                         "reference/multiclust), write reference/MANIFEST.tsv (ship does too), or "
                                         "audit the store against it")
    p.add_argument("action", choices=["ship", "manifest", "audit"])
    p.add_argument("--results-dir", default=None, help="results directory whose cache/ is shipped")
    p.add_argument("--data-dir", default=None)
    p.set_defaults(func=cmd_reference)
    p = sub.add_parser("reported", help="check data/reported/*.csv against MANIFEST.json (--write-manifest: "
                                        "record them after an intended edit)")
    p.add_argument("--write-manifest", action="store_true")
    p.set_defaults(func=cmd_reported)
    p = sub.add_parser("verify", help="re-compute a sample of the shipped runs (every method once, headline cells "
                                      "first) and compare them with their records")
    p.add_argument("--budget", type=float, default=None, metavar="SECONDS",
                   help="the sample's recorded single-thread seconds (default: about 30-60 min on 2 cores)")
    p.add_argument("--limit", type=int, default=None, help="at most this many runs")
    p.add_argument("--jobs", type=int, default=1, help="worker processes, one thread each")
    p.add_argument("--sample-seed", type=int, default=0, help="which seed of each chosen configuration is drawn")
    p.add_argument("--out", default=None, help="where summary.md and summary.json go (default <results>/verify)")
    p.add_argument("--data-dir", default=None)
    p.set_defaults(func=cmd_verify)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except USER_ERRORS as err:
        if args.debug:
            raise
        message = err.args[0] if isinstance(err, KeyError) and err.args else err  # KeyError's str() adds quotes
        print(f"error: {message} (--debug shows the traceback)", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
