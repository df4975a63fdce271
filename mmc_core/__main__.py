"""Command line: `python -m mmc_core datasets | methods | run METHOD DATASET | report | reference | reported`.

`run` takes a feature method on a multi-view dataset (`run km Synthetic3d`) or a concept method on a concept task,
one concept of an image set or of the planted data (`run multidproxy Planted1@colour`, `run multidproxy CMUface@pose
--clip-weights PATH`). Listings and tables fit LISTING_WIDTH columns (long text wrapped, what still does not fit cut,
ending "…"); --wide prints them whole."""

from __future__ import annotations

import argparse
import inspect
import json
import re
import sys
import tempfile
import textwrap
from contextlib import nullcontext
from functools import partial
from typing import Any, Callable

import numpy as np
import pandas as pd

from .data.registry import DatasetUnavailable

# What a user can cause and fix (a bad name, parameter, path or file): one line on stderr, exit 2, no traceback.
# TypeError is here because a bad parameter is one (e.g. an unknown keyword); --debug shows any traceback.
USER_ERRORS = (KeyError, ValueError, TypeError, OSError, DatasetUnavailable)


def user_errors() -> tuple[type[Exception], ...]:
    """USER_ERRORS, missing CLIP weights once the encoders are loaded (not imported before: open_clip is slow), and
    an unusable GPU asked for once the device module is (it imports torch)."""
    clip = sys.modules.get("mmc_core.encoders.clip")
    device = sys.modules.get("mmc_core.deep.device")
    return (USER_ERRORS + ((clip.WeightsUnavailable,) if clip is not None else ())
            + ((device.DeviceUnavailable,) if device is not None else ()))


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


LISTING_WIDTH = 100  # every listing (`datasets`, `methods`, `run`'s tables) prints within this many columns
MIN_CELL = 15  # a text column is never narrowed below this (a "mean ± std" cell is 13 characters)


def render_table(frame: pd.DataFrame, width: int | None = LISTING_WIDTH, digits: int = 3) -> str:
    """`frame` as text without its index (numbers right-aligned, floats to `digits`), no line longer than `width`
    (None: as wide as it is): the widest text columns are narrowed first, never below MIN_CELL, their cells wrapped
    onto more lines; what still does not fit is cut (ending "…")."""
    numeric = [pd.api.types.is_numeric_dtype(frame[c]) for c in frame.columns]
    rows = [[str(c) for c in frame.columns]] + [
        [_cell(value, digits) for value in row] for row in frame.itertuples(index=False)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(numeric))]
    while width is not None and sum(widths) + 2 * (len(widths) - 1) > width:
        text_columns = [i for i, is_number in enumerate(numeric) if not is_number and widths[i] > MIN_CELL]
        if not text_columns:
            break
        widest = max(text_columns, key=widths.__getitem__)
        widths[widest] = max(MIN_CELL, widths[widest] - (sum(widths) + 2 * (len(widths) - 1) - width))
    lines = []
    for row in rows:
        wrapped = [textwrap.wrap(cell, w, break_on_hyphens=False) or [""] for cell, w in zip(row, widths)]
        for k in range(max(map(len, wrapped))):
            parts = [(cell[k] if k < len(cell) else "").rjust(w) if is_number else
                     (cell[k] if k < len(cell) else "").ljust(w) for cell, w, is_number in zip(wrapped, widths, numeric)]
            lines.append(cut("  ".join(parts).rstrip(), width))
    return "\n".join(lines)


def hoist_constant(frame: pd.DataFrame, columns: tuple[str, ...]) -> tuple[str, pd.DataFrame]:
    """("column value, ..." of those `columns` that hold one value in every row, the frame without them): a run's
    dataset, method and scaling said once above its table instead of on every row."""
    constant = [c for c in columns if frame[c].nunique(dropna=False) == 1]
    return ", ".join(f"{c} {frame[c].iloc[0]}" for c in constant), frame.drop(columns=constant)


def _cell(value: object, digits: int) -> str:
    if isinstance(value, float):
        return "NaN" if np.isnan(value) else f"{value:.{digits}f}"
    return str(value)


def cut(line: str, width: int | None) -> str:
    """The line, cut to `width` characters (ending "…") if longer; None: whole."""
    return line if width is None or len(line) <= width else line[: width - 1] + "…"


def wrap(text: str, width: int | None, indent: str = "") -> list[str]:
    """The text as lines of at most `width` characters (None: one line), later lines indented."""
    if width is None:
        return [text]
    return textwrap.wrap(text, width=width, subsequent_indent=indent, break_on_hyphens=False) or [""]


def format_datasets(table: pd.DataFrame, data_dir: str, sources: bool = False,
                    width: int | None = LISTING_WIDTH) -> str:
    """The `datasets` listing of list_datasets(): one row per dataset (papers, n, k, view dims or an image set's
    clusterings, whether it is here), then how to obtain each dataset absent (every dataset with `sources`), wrapped
    so that no line is longer than `width` (None: unwrapped)."""

    def cell(value: object) -> str:
        return "-" if value is None or value is pd.NA or value == "" else str(value)

    rows = [("dataset", "papers", "n", "k", "view dims / clusterings", "here")]
    for r in table.itertuples(index=False):
        rows.append((r.name, cell(r.papers), cell(r.samples), cell(r.clusters),
                     cell(r.dims if r.kind == "multiview" else r.clusterings), "yes" if r.available else "no"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) if i in (0, 1, 4) else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths)))
             .rstrip() for row in rows]
    lines = [cut(line, width) for line in lines]
    listed = table if sources else table[~table["available"]]
    if len(listed):
        lines.append("")
        lines.extend(wrap("Source and how to obtain, for every dataset:" if sources else
                          f"Source and how to obtain, for each dataset absent from {data_dir} (--sources: "
                          f"every dataset):", width))
        indent = " " * (widths[0] + 2)
        for r in listed.itertuples(index=False):
            lines.extend(wrap(f"{r.name:<{widths[0]}}  {r.how_to_obtain}", width, indent))
    return "\n".join(lines)


def cmd_datasets(args: argparse.Namespace) -> int:
    from .data import list_datasets
    from .paths import data_dir

    print(format_datasets(list_datasets(args.data_dir), str(data_dir(args.data_dir)), sources=args.sources,
                          width=_width(args)))
    return 0


def _width(args: argparse.Namespace) -> int | None:
    return None if getattr(args, "wide", False) else LISTING_WIDTH


SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\"`])")
SUMMARY_CHARS = 160  # a method's description: its opening sentences up to this length (always the first)


def first_paragraph(doc: str | None) -> str:
    """A docstring's first paragraph on one line."""
    return " ".join(inspect.cleandoc(doc or "").split("\n\n")[0].split())


def method_summary(cls: type, shares_module: bool) -> str:
    """What a method is, in whole sentences (the first, then as many as fit SUMMARY_CHARS): from its module's
    docstring (the method's name and source) when the module holds this method alone, else from the class's own
    (e.g. KM and AmKM share a module)."""
    doc = cls.__doc__ if shares_module else sys.modules[cls.__module__].__doc__
    first, *rest = SENTENCE_END.split(first_paragraph(doc))
    for sentence in rest:
        if len(first) + 1 + len(sentence) > SUMMARY_CHARS:
            break
        first += " " + sentence
    return first


def method_rows(methods: dict[str, tuple[type, str]]) -> list[tuple[str, str, str]]:
    """(name, reported as, summary) per method; `methods`: name -> (class, the name the papers' tables use)."""
    modules = [cls.__module__ for cls, _ in methods.values()]
    return [(name, reported, method_summary(cls, modules.count(cls.__module__) > 1))
            for name, (cls, reported) in methods.items()]


def feature_methods() -> dict[str, tuple[type, str]]:
    """The methods of multi-view datasets (mmc_core.methods): name -> (class, reported name)."""
    from .methods import available, method_class

    return {name: (method_class(name), getattr(method_class(name), "reported_as", name)) for name in available()}


def concept_methods() -> dict[str, tuple[type, str]]:
    """The methods of concept tasks (mmc_core.multiclust): name -> (class, reported name: the study's row)."""
    from .multiclust.runs import method_registry
    from .multiclust.study import METHODS

    return {name: (factory.func if isinstance(factory, partial) else factory, METHODS[name])
            for name, factory in method_registry().items()}


FEATURE_HELP = ("Feature methods: `run METHOD DATASET` on a multi-view dataset (`datasets` lists them, with each "
                "set's view dims).")
CONCEPT_HELP = ("Concept methods: `run METHOD SET@CONCEPT` on one concept of an image set (e.g. CMUface@pose; "
                "its features come from CLIP: --clip-weights PATH) or of the planted data, which needs no download "
                "(Planted<draw>@colour or Planted<draw>@shape, e.g. Planted1@colour).")


def format_methods(width: int | None = LISTING_WIDTH) -> str:
    """The `methods` listing: feature methods, then concept methods, each under a line saying how to run it and a
    header; whole descriptions, wrapped under their column (None: one line each)."""
    lines: list[str] = []
    for help_text, methods in ((FEATURE_HELP, feature_methods()), (CONCEPT_HELP, concept_methods())):
        rows = method_rows(methods)
        name_w = max(len(r[0]) for r in rows + [("method", "", "")])
        reported_w = max(len(r[1]) for r in rows + [("", "reported as", "")])
        indent = " " * (name_w + reported_w + 4)
        lines += [*([""] if lines else []), *wrap(help_text, width),
                  f"{'method':<{name_w}}  {'reported as':<{reported_w}}  description"]
        for name, reported, summary in rows:
            lines += wrap(f"{name:<{name_w}}  {reported:<{reported_w}}  {summary}", width, indent)
    return "\n".join(lines)


def cmd_methods(args: argparse.Namespace) -> int:
    print(format_methods(_width(args)))
    return 0


def cmd_device(args: argparse.Namespace) -> int:
    """Say what a run with this device trains on here; warn when `auto` falls back to the CPU although torch was
    built for CUDA (with the full profile's cost there); exit 1 when a GPU asked for by name cannot be used."""
    from .deep.device import resolved_name
    from .experiments.settings import device_warning

    used = resolved_name(args.device)
    print(f"device {args.device}: {used}")
    warning = device_warning(args.device)
    if warning is not None:
        print(f"WARNING: {warning}", file=sys.stderr)
    return 1 if used.startswith("refused") else 0


def cmd_run(args: argparse.Namespace) -> int:
    """A feature method on a multi-view dataset, or a concept method on a concept task (SET@CONCEPT)."""
    from .experiments.settings import check_device
    from .params import constructor_parameters

    params = _parse_params(args.param)
    concept, feature = concept_methods(), feature_methods()
    method = args.method.lower()
    trained = {name for name, (cls, _) in {**feature, **concept}.items() if "device" in constructor_parameters(cls)}
    if method in trained:  # where it will train, said before it starts: a CPU fallback warned, an unusable GPU refused
        check_device(str(params.get("device", "auto")))
    if method in concept:
        return run_concept_method(args, method, params)
    if method not in feature:
        raise KeyError(f"Unknown method {args.method!r}. Feature methods: {', '.join(feature)}; concept methods: "
                       f"{', '.join(concept)} (`python -m mmc_core methods` describes them).")
    if "@" in args.dataset:
        raise ValueError(f"{args.dataset} is a concept task (SET@CONCEPT), and {args.method} is a feature method, "
                         f"which clusters a multi-view dataset's views: run a concept method on it "
                         f"({', '.join(concept)}), e.g. `python -m mmc_core run kmeans-clip {args.dataset}`.")
    return run_feature_method(args, params)


def run_feature_method(args: argparse.Namespace, params: dict[str, Any]) -> int:
    from .data import list_datasets
    from .experiments import add_best_view, compare, format_mean_std, make_grid, run_grid, summarize
    from .methods import method_class
    from .reported import load_reported

    specs = make_grid([(args.method, params)], [args.dataset], args.seeds, base_seed=args.base_seed,
                      scaling=args.scaling)
    results = run_grid(specs, cache_dir=None if args.no_cache else "default", n_jobs=args.jobs,
                       data_dir=args.data_dir)
    summary = add_best_view(summarize(results))
    width = _width(args)
    heading, table = hoist_constant(format_mean_std(summary, ("acc", "nmi", "pur", "ari")),
                                    ("dataset", "method", "scaling", "n_seeds"))
    print(*wrap(heading, width), render_table(table, width), sep="\n")
    label = getattr(method_class(args.method), "reported_as", args.method)
    reported = load_reported()
    reported = reported[(reported.dataset == summary.dataset.iloc[0]) & (reported.method == label)
                        & (reported.variant == "")]
    if reported.empty:
        print(f"\nNo paper reports {label} on {summary.dataset.iloc[0]}.")
        return 0
    avail = set(list_datasets(args.data_dir).query("available").name)
    comp = compare(summary, reported, tolerance=args.tolerance, available=avail)
    print(f"\nAgainst the papers (tolerance {args.tolerance:.3f}):")
    print(render_table(comp[["paper", "table", "metric", "reported", "reproduced", "std", "diff", "verdict"]]
                       .round(3), width))
    return 0


def run_concept_method(args: argparse.Namespace, method: str, params: dict[str, Any]) -> int:
    """Seeds base_seed.. of a concept method on one task, cached like the notebooks' runs (results/multiclust), then
    NMI and RI over the seeds and, on a real image set, the Multi-DProxy paper's cell."""
    from .data.tasks import PLANTED
    from .multiclust.compare import compare_concepts
    from .multiclust.runs import ConceptRun, planted_task, run_concepts
    from .multiclust.study import METHODS
    from .multiclust.summary import report_table, summarize_concepts
    from .reported import load_reported

    if args.scaling is not None:
        raise ValueError("--scaling applies to feature methods; a concept method runs on a task's unit-norm CLIP (or "
                         "planted) features.")
    if PLANTED.match(args.dataset):
        task, build, encoder_id, weights = args.dataset, planted_task, "synthetic", "planted"
        planted_task(task)  # a concept the planted data lacks is an error before any run
    else:
        task, build, encoder_id, weights = image_task(args, method, params)
    seeds = range(args.base_seed, args.base_seed + args.seeds)
    runs = [ConceptRun(method, task, seed, params, encoder_id, METHODS[method]) for seed in seeds]
    with tempfile.TemporaryDirectory() if args.no_cache else nullcontext() as scratch:  # None: results/multiclust
        results = run_concepts(runs, build, root=scratch, n_jobs=args.jobs)
    summary = summarize_concepts(results)
    width = _width(args)
    if weights == "random":
        print(*wrap(f"{encoder_id} has RANDOM weights: this checks that the pipeline runs; the numbers mean nothing.",
                    width), sep="\n")
    print(render_table(report_table(summary), width))
    if weights == "planted":
        print("", *wrap("No paper reports the planted data: it is this artifact's controlled test, whose answer is "
                        "known (notebooks/multidproxy/05_controlled_concepts.ipynb).", width), sep="\n")
        return 0
    dataset, concept = task.split("@")
    reported = load_reported(paper="Multi-DProxy", table="main")
    reported = reported[(reported.dataset == dataset) & (reported.method == METHODS[method])
                        & (reported.variant.str.lower() == concept.lower())]
    if reported.empty:
        print(f"\nThe Multi-DProxy paper reports no {METHODS[method]} cell on {task}.")
        return 0
    comp = compare_concepts(summary, reported, args.tolerance, set(METHODS.values()), weights)
    print(f"\nAgainst the Multi-DProxy paper (tolerance {args.tolerance:.3f}):")
    print(render_table(comp[["dataset", "method", "variant", "metric", "reported", "reproduced", "std", "diff",
                             "verdict"]].round(3), width))
    return 0


def image_task(args: argparse.Namespace, method: str,
               params: dict[str, Any]) -> tuple[str, Callable[[str], Any], str, str]:
    """(canonical task name, task builder, encoder id, "real" or "random") of a task SET@CONCEPT on a registered image
    set, after checking the set, its concept, its images and the CLIP weights, in that order (cheapest first)."""
    from .data import get_entry, load_image_dataset

    name, at, concept = args.dataset.partition("@")
    entry = get_entry(name)
    if entry.kind != "images":
        raise ValueError(f"{entry.name} is a multi-view dataset, and {method} is a concept method: run it on a task "
                         f"SET@CONCEPT of an image set (`python -m mmc_core datasets` lists them with their concepts) "
                         f"or of the planted data (e.g. Planted1@colour); on {entry.name} run a feature method "
                         f"(e.g. `python -m mmc_core run km {entry.name}`).")
    if not at or concept not in entry.clusterings:
        raise ValueError(f"{method} clusters one concept of an image set: name the task {entry.name}@<concept>, "
                         f"the concepts of {entry.name} being {', '.join(entry.clusterings)} "
                         f"(got {args.dataset!r}).")
    load_image_dataset(entry.name, args.data_dir, verify=False)  # absent images: DatasetUnavailable says how to get them
    if args.clip_weights is None:
        raise FileNotFoundError(clip_weights_help(f"{entry.name}@{concept}"))
    from .deep import resolve_device
    from .encoders import KNOWN_WEIGHTS, load_encoder
    from .multiclust.images import build_task

    model = args.clip_model or KNOWN_WEIGHTS["openai-ViT-B-32"].model
    encoder = load_encoder(model, args.clip_weights, device=str(resolve_device(params.get("device", "auto"))))

    def build(task: str) -> Any:
        return build_task(entry.name, task.split("@")[1], encoder, args.data_dir)

    return f"{entry.name}@{concept}", build, encoder.id, "random" if encoder.is_random else "real"


def clip_weights_help(task: str) -> str:
    """Why a real image task cannot run without CLIP weights, and the ways to provide them."""
    from .encoders import KNOWN_WEIGHTS
    from .encoders.clip import TINY_MODEL, weights_dir

    known = KNOWN_WEIGHTS["openai-ViT-B-32"]
    return (f"{task} is a task on real images: its features come from a CLIP encoder, and no CLIP weights were given. "
            f"Pass --clip-weights PATH (OpenAI's {known.filename}, for --clip-model {known.model}, the default; "
            f"`make weights` downloads it to {weights_dir() / known.filename} where a network exists), or "
            f"--clip-weights hf-hub:<org>/<repo> for a model in the local Hugging Face cache. To check the pipeline "
            f"only: --clip-model {TINY_MODEL} --clip-weights none (random weights: the numbers mean nothing).")


def cmd_report(args: argparse.Namespace) -> int:
    from .experiments import build_report
    from .experiments.report import (NOTEBOOKS_DIR, SECTIONS_DIR, publish_report, report_differences,
                                     section_profiles)
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
    built, notebooks = len(list((root / SECTIONS_DIR).glob("*/meta.txt"))), len(list(NOTEBOOKS_DIR.glob("*/*.ipynb")))
    if (args.check or args.publish) and built < notebooks:
        print(f"{args.docs_dir} not {'checked' if args.check else 'written'}: this report covers {built} of the "
              f"{notebooks} notebooks (NOTEBOOKS narrowed?), and {args.docs_dir} is the whole reference report.")
        return 0
    if args.check:
        stale = report_differences(root, dest)
        if stale:
            print(f"{args.docs_dir} differs from the report the shipped runs give ({len(stale)} file(s): "
                  f"{', '.join(stale[:8])}{' ...' if len(stale) > 8 else ''}): run `make report` and commit "
                  f"{args.docs_dir}.", file=sys.stderr)
            return 1
        print(f"{args.docs_dir} is up to date")
        return 0
    if args.publish:
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
    from .experiments.readme import update_documents
    from .experiments.reference import concept_records, iter_records
    from .paths import PROJECT_ROOT, REFERENCE_RUNS_DIR, results_dir

    root = results_dir(args.results_dir)
    records = [record for _, record in iter_records(REFERENCE_RUNS_DIR)] + concept_records()
    stale = [str(path.relative_to(PROJECT_ROOT)) for path in update_documents(root, records, check=args.check)]
    if args.check and stale:
        print(f"{', '.join(stale)}: generated blocks differ from what the shipped runs give: run "
              "`make report && .venv/bin/python -m mmc_core readme` and commit them.", file=sys.stderr)
        return 1
    if args.check:
        print("README.md, docs/claims.md and docs/timings.md are up to date")
    else:
        print(f"generated blocks written: {', '.join(stale) or 'nothing changed'}")
    return 0


def cmd_reference(args: argparse.Namespace) -> int:
    from .data import load_dataset
    from .audit import audit_store, ship
    from .experiments.reference import MANIFEST, manifest_fix, record_paths, write_manifest
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
    from .verify import summary_table, verify, write_summary
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
    wide = argparse.ArgumentParser(add_help=False)
    wide.add_argument("--wide", action="store_true",
                      help=f"print tables and listings whole (default: within {LISTING_WIDTH} columns)")
    p = sub.add_parser("datasets", parents=[wide], help="the dataset registry, with availability in the data directory")
    p.add_argument("--data-dir", default=None, help="data directory (default $MMC_DATA_DIR or data/raw)")
    p.add_argument("--sources", action="store_true", help="say where every dataset comes from, not only the absent")
    p.set_defaults(func=cmd_datasets)
    p = sub.add_parser("methods", parents=[wide],
                       help="the clustering methods: feature methods (multi-view datasets) and concept methods")
    p.set_defaults(func=cmd_methods)
    p = sub.add_parser("device", help="what a run with this device trains on here, and why not a GPU")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N (default auto)")
    p.set_defaults(func=cmd_device)
    p = sub.add_parser("run", parents=[wide], help="run one method on one dataset or concept task over seeds and "
                                                   "print mean ± std")
    p.add_argument("method", help="a method `methods` lists")
    p.add_argument("dataset", help="a multi-view dataset (feature methods) or a task SET@CONCEPT (concept methods), "
                                   "e.g. CMUface@pose or Planted1@colour")
    p.add_argument("--seeds", type=int, default=5, help="number of runs; seeds are base_seed + run")
    p.add_argument("--base-seed", type=int, default=0)
    p.add_argument("--scaling", default=None, choices=["none", "minmax", "zscore", "l2"],
                   help="feature scaling (default: the method's, else the dataset's)")
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE", help="method parameter")
    p.add_argument("--jobs", type=int, default=1, help="parallel worker processes")
    p.add_argument("--no-cache", action="store_true", help="recompute even if cached results exist")
    p.add_argument("--tolerance", type=float, default=0.02, help="|diff| within this counts as reproduced")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--clip-model", default=None,
                   help="an image task's CLIP model, an open_clip config (default: the one of OpenAI's ViT-B-32 "
                        "weights, which `make weights` fetches)")
    p.add_argument("--clip-weights", default=None, metavar="PATH|hf-hub:REPO|none",
                   help="an image task's CLIP weights (none: random, to check the pipeline only)")
    p.set_defaults(func=cmd_run)
    p = sub.add_parser("report", help="rebuild results/REPORT.md from the notebooks' saved sections; for the reference "
                                      "profile, --publish copies it and its figures to docs/report, --check compares")
    p.add_argument("--results-dir", default=None)
    p.add_argument("--docs-dir", default="docs/report", help="the committed reference report (relative to the project)")
    p.add_argument("--check", action="store_true", help="fail when docs/report differs from the report built")
    p.add_argument("--publish", action="store_true", help="copy the reference report to docs/report (make report)")
    p.set_defaults(func=cmd_report)
    p = sub.add_parser("readme", help="write the generated blocks of README.md, docs/claims.md, docs/timings.md "
                                      "(--check: compare)")
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
                   help="the sample's recorded single-thread seconds (default 3000: every method once, 70 runs)")
    p.add_argument("--limit", type=int, default=None, help="at most this many runs")
    p.add_argument("--jobs", type=int, default=1, help="worker processes, one thread each")
    p.add_argument("--sample-seed", type=int, default=0, help="which seed of each chosen configuration is drawn")
    p.add_argument("--out", default=None, help="where summary.md and summary.json go (default <results>/verify)")
    p.add_argument("--data-dir", default=None)
    p.set_defaults(func=cmd_verify)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except Exception as err:
        if args.debug or not isinstance(err, user_errors()):
            raise
        message = err.args[0] if isinstance(err, KeyError) and err.args else err  # KeyError's str() adds quotes
        print(f"error: {message} (--debug shows the traceback)", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
