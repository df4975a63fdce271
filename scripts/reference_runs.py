"""Compute the runs behind the shipped reference store, batch by batch, at the full profile (papers' epochs).

The specs are the ones the notebooks build at `profile="full"` (same methods, parameters and scaling, so the same
cache keys), narrowed to the seeds this CPU allows; results go to the run cache (`results/cache`), from which
`python -m mmc_core reference ship` copies them into `reference/runs/`. One worker per core:

    OMP_NUM_THREADS=1 python scripts/reference_runs.py --jobs 2 event-table msrc-idmc

`--list` prints the batches with their run counts. The seed counts are part of the recipe and stated in
reference/README.md.
"""

from __future__ import annotations

import argparse
import sys

from mmc_core.experiments import make_grid, run_grid
from mmc_core.experiments.runner import RunSpec
from mmc_core.experiments.claim_sets import DDMC_CLASSICAL, ddmc_shares
from mmc_core.methods.ddmc import DDMC
from mmc_core.methods.idmc import IDMC
from mmc_core.experiments.protocol import TRAINING_READINGS
from mmc_core.experiments.sensitivity import pair_specs, reading_specs
from mmc_core.experiments.silent_choices import study_readings
from mmc_core.methods.sdcib import SDCIB

FULL = {"device": "auto"}  # the notebooks' deep_params() at the full profile: the method's own epochs
CLASSICAL_SDCIB = ["km", "ncuts", "amkm", "amncuts", "coregmvsc", "rmkmc", "swmc", "onmsc"]
CLASSICAL_IDMC = ["km", "ncuts", "amkm"]
# the sensitivity study's readings (sdcib/08, idmc/08): SDCIB's every studied reading from its pre-selection default
# (min-max), and its preprocessing readings alone on the bag-of-words substitutes
SDCIB_READINGS = study_readings("sdcib")
SDCIB_SCALINGS = study_readings("sdcib", "input preprocessing")


def deep(method: str, datasets: list[str], seeds: int, **params) -> list[RunSpec]:
    return make_grid([(method, {**FULL, **params})], datasets, seeds)


STUDIES = {"sdcib": ["Event", "3Sources", "BBCSport"], "ddmc": ["MSRC-v1", "3Sources"]}  # sdcib/08, ddmc/07


def study_pairs() -> list[RunSpec]:
    """The pairs of each study's most influential readings (sensitivity.influential_pairs), found from its single
    readings' runs in the cache: run after `selection-readings` and `readings-study`."""
    specs = []
    for method, datasets in STUDIES.items():
        for dataset in datasets:
            singles = reading_specs(method, study_readings(method), [dataset], 5, FULL)
            results = run_grid(singles, progress=False, keep_labels=True, compute=False)
            if len(results) < len(singles):
                raise SystemExit(f"{method} on {dataset}: {len(results)} of the study's {len(singles)} single-reading "
                                 "runs are in the cache; run the batches selection-readings and readings-study first.")
            specs += pair_specs(method, results, [dataset], 5, FULL)
    return specs


def sdcib_variants(names: list[str], datasets: list[str], seeds: int) -> list[RunSpec]:
    return [s for v in names for s in deep("sdcib", datasets, seeds, **SDCIB.ABLATIONS[v])]


def idmc_claims(dataset: str, seeds: int) -> list[RunSpec]:
    """IDMC's Table 1 row and baselines, Table 2, Figure 3, plug-and-play, Figures 4 and 6 on one dataset."""
    specs = make_grid(CLASSICAL_IDMC, [dataset], 10) + make_grid(["amkm"], [dataset], 10, scaling="minmax")
    for method in ("simvc", "comvc", "mflvc", "idmc"):
        specs += deep(method, [dataset], seeds)
    for off in IDMC.ABLATIONS.values():
        specs += deep("idmc", [dataset], seeds, disable=list(off))
    for variant in IDMC.VARIANTS.values():
        specs += deep("idmc", [dataset], seeds, **variant)
    specs += deep("comvc_iv", [dataset], seeds)
    specs += make_grid([("idmc", FULL)], [dataset], 1, outputs=("history",))
    specs += make_grid([("idmc", FULL)], [dataset], 1, outputs=("interest",))
    return specs


def sdcib_claims(dataset: str, seeds: int, layer_seeds: int) -> list[RunSpec]:
    """SDCIB's ablation, hidden-layer and layer-count claims and its convergence run on one dataset."""
    specs = sdcib_variants(["full", "remove I(Y;Y)", "remove I(H;H)", "remove both", "no hidden"], [dataset], seeds)
    for layers in range(2, 8):
        specs += deep("sdcib", [dataset], layer_seeds, n_layers=layers)
    specs += make_grid([("sdcib", FULL)], [dataset], 1, outputs=("history",))
    return specs


def sdcib_balanced() -> list[RunSpec]:
    """SDCIB under its equipartition reading of I(Y^i; Y^j) (balance="sinkhorn", the default since the collapse
    study), in order of need: its Event row (20 seeds) and the reporting-protocol study's training readings (5 seeds
    each, sdcib/08); its ablation and hidden-layer rows on Event (3 seeds), convergence and t-SNE runs; on MSRC-v1 its
    row and claims (5 seeds), convergence and t-SNE runs; the alpha/beta grid on MSRC-v1 (seed 0); last, the layer
    counts on Event (2 seeds). Runs without the cluster-consistency term are the same computation under either
    reading: scripts/rekey_defaults.py copies them from the shipped ones."""
    event_layers = [s for L in range(2, 8) for s in deep("sdcib", ["Event"], 2, n_layers=L)]
    specs = deep("sdcib", ["Event"], 20)
    specs += [s for r in TRAINING_READINGS for s in deep("sdcib", ["Event"], 5, **r.params)]
    specs += [s for s in sdcib_claims("Event", 3, 2) if s not in event_layers]
    specs += make_grid([("sdcib", FULL)], ["Event"], 1, outputs=("tsne", "tsne_inputs"))
    specs += sdcib_claims("MSRC-v1", 5, 5)
    specs += make_grid([("sdcib", FULL)], ["MSRC-v1"], 1, outputs=("tsne", "tsne_inputs"))
    specs += [s for a in (0.1, 0.3, 0.5, 0.7, 0.9) for b in (0.01, 0.1, 1.0, 10.0)
              for s in deep("sdcib", ["MSRC-v1"], 1, alpha=a, beta=b)]
    return list({(s.config_id, s.seed): s for s in specs + event_layers}.values())


def ddmc_claims(dataset: str, seeds: int) -> list[RunSpec]:
    """DDMC's ablation rows (the full one is its main-table row), its fusion variant (ddmc/04) and its convergence
    run (ddmc/05) on one dataset."""
    specs = [s for row in DDMC.ABLATIONS.values() for s in deep("ddmc", [dataset], seeds, **row)]
    specs += deep("ddmc", [dataset], seeds, combine="fuse")
    return specs + make_grid([("ddmc", FULL)], [dataset], 1, outputs=("history",))


def ddmc_figures(dataset: str) -> list[RunSpec]:
    """The seed-0 run whose representation ddmc/06 draws at 0/25/50/75/100 epochs."""
    return make_grid([("ddmc", {**FULL, "snapshot_epochs": [0, 25, 50, 75, 100]})], [dataset], 1,
                     outputs=("tsne_snapshots",))


def ddmc_controlled(seeds: int) -> list[RunSpec]:
    """ddmc/04's controlled test: enhance and fuse on DDMC_CONTROLLED with a growing share of the other views' rows
    shuffled."""
    names = list(ddmc_shares("full"))
    return deep("ddmc", names, seeds) + deep("ddmc", names, seeds, combine="fuse")


def mosi(seeds: int = 5, mflvc_seeds: int = 1) -> list[RunSpec]:
    """The specs idmc/01, ddmc/04 and ddmc/01 build at the full profile on CMU-MOSI (one spec per run: the rows the
    notebooks share, KM, NCuts, AmKM, SiMVC, CoMVC, MFLVC and DDMC's enhance row, once). MFLVC (about 15 minutes a
    run here, its published 300 epochs) gets one seed: idmc/01 shows a dataset only with every row shipped, and names
    the row short."""
    on = ["CMU-MOSI"]
    specs = make_grid(DDMC_CLASSICAL, on, seeds) + make_grid(["amkm"], on, seeds, scaling="minmax")
    for method in ("simvc", "comvc", "idmc", "ddmc"):
        specs += deep(method, on, seeds)
    return specs + deep("ddmc", on, seeds, combine="fuse") + deep("mflvc", on, mflvc_seeds)


BATCHES = {
    # SDCIB's table, Event column (the one printed dataset present here): classical rows 20 seeds, SDCIB 20
    # seeds, SiMVC/CoMVC 5 seeds (a few minutes a run), the slow deep rows 2 seeds at their published epochs.
    "event-table": make_grid(CLASSICAL_SDCIB, ["Event"], 20) + deep("sdcib", ["Event"], 20)
    + deep("simvc", ["Event"], 5) + deep("comvc", ["Event"], 5),
    # the baselines notebook's scaling check on Event: KM and AmKM on min-max features too
    "event-minmax": make_grid(["km", "amkm"], ["Event"], 20, scaling="minmax"),
    # seed-0 runs that record what the t-SNE figures draw (IDMC Figure 5, SDCIB t-SNE)
    "figures": make_grid([(m, FULL) for m in ("simvc", "comvc", "mflvc", "idmc")], ["MSRC-v1"], 1, outputs=("tsne",))
    + make_grid([("sdcib", FULL)], ["MSRC-v1", "Event"], 1, outputs=("tsne", "tsne_inputs")),
    # SDCIB's alpha/beta grid (sdcib/02) on MSRC-v1, seed 0; SDCIB on Event under other readings (sdcib/08), seed 0
    "msrc-alpha-beta": [s for a in (0.1, 0.3, 0.5, 0.7, 0.9) for b in (0.01, 0.1, 1.0, 10.0)
                        for s in deep("sdcib", ["MSRC-v1"], 1, alpha=a, beta=b)],
    "event-readings": reading_specs("sdcib", SDCIB_READINGS, ["Event"], 1, FULL),
    "event-slow-1": deep("divide", ["Event"], 2) + deep("mflvc", ["Event"], 2),
    "event-slow-2": deep("dealmvc", ["Event"], 2) + deep("icmvc", ["Event"], 2),
    "event-claims": sdcib_claims("Event", 3, 2),
    "msrc-idmc": idmc_claims("MSRC-v1", 5),
    "msrc-sdcib": sdcib_claims("MSRC-v1", 5, 5) + make_grid(CLASSICAL_SDCIB, ["MSRC-v1"], 10)
    + deep("dealmvc", ["MSRC-v1"], 3) + deep("icmvc", ["MSRC-v1"], 3) + deep("divide", ["MSRC-v1"], 3),
    # DDMC (ddmc/01-06): its rows, ablation, fusion variant, convergence and figures on three datasets, 5 seeds; the
    # controlled uneven-quality test and the alpha/beta grid (seed 0) on MSRC-v1
    "ddmc-msrc": ddmc_claims("MSRC-v1", 5) + ddmc_controlled(5) + ddmc_figures("MSRC-v1")
    + [s for a in (0.01, 0.1, 1.0, 10.0) for b in (0.01, 0.1, 1.0, 10.0)
       for s in deep("ddmc", ["MSRC-v1"], 1, alpha=a, beta=b)],
    "ddmc-event": ddmc_claims("Event", 5) + ddmc_figures("Event"),
    "ddmc-landuse": ddmc_claims("LandUse-21", 5),
    # the DDMC table's baselines on MSRC-v1: SMCMB as the classical rows (10 seeds), the deep ones 5 seeds at their
    # published schedules (DEMVC's takes about two hours a run here: not run)
    "ddmc-baselines-msrc": make_grid(["smcmb"], ["MSRC-v1"], 10)
    + [s for m in ("scmvc", "sslnmvc", "eamc", "sem", "dealmvc", "icmvc", "divide") for s in deep(m, ["MSRC-v1"], 5)],
    # the DDMC table's third dataset: LandUse-21 (2,100 samples) with every classical row (10 seeds) and the deep rows
    # of a few minutes a run (5 seeds); the slower rows (10-60 minutes a run at this size) are named "not run"
    "ddmc-baselines-landuse": make_grid(CLASSICAL_SDCIB + ["smcmb"], ["LandUse-21"], 10)
    + deep("simvc", ["LandUse-21"], 5) + deep("comvc", ["LandUse-21"], 5),
    # DDMC's alpha/beta grid (ddmc/02) on the other two datasets of its claims, seed 0 as on MSRC-v1
    "ddmc-alpha-beta": [s for a in (0.01, 0.1, 1.0, 10.0) for b in (0.01, 0.1, 1.0, 10.0)
                        for s in deep("ddmc", ["Event", "LandUse-21"], 1, alpha=a, beta=b)],
    # label-free selection among readings (mmc_core.experiments.selection): SDCIB under every reading on Event, and
    # under each feature scaling on the bag-of-words substitutes, 3 seeds (stability needs several; Reuters-1200 takes
    # ~4 minutes a run here); IDMC's Eq. 15 readings on MSRC-v1, 5 seeds
    "selection-readings": reading_specs("sdcib", SDCIB_READINGS, ["Event"], 5, FULL)
    + reading_specs("idmc", study_readings("idmc"), ["MSRC-v1"], 5, FULL)
    + reading_specs("sdcib", SDCIB_SCALINGS, ["3Sources", "BBCSport", "Reuters-1200"], 3, FULL),
    # IDMC after adopting the ratio reading of Eq. 15 (chosen by seed stability): its runs on MSRC-v1 that depend on
    # Eq. 15 (main row, ablations, IDMC-AVG, CoMVC+IV, history, interest, t-SNE) and the study's fixed default
    "adopt-idmc": [s for s in idmc_claims("MSRC-v1", 5) if s.method in ("idmc", "comvc_iv")]
    + make_grid([("idmc", FULL)], ["MSRC-v1"], 1, outputs=("tsne",))
    + reading_specs("idmc", study_readings("idmc"), ["MSRC-v1"], 5, FULL),
    # SDCIB on Event after adopting the data rule's l2 rows: its table row (20 seeds), claims and t-SNE run
    "sdcib-event-l2": sdcib_claims("Event", 3, 2)
    + make_grid([("sdcib", FULL)], ["Event"], 1, outputs=("tsne", "tsne_inputs")) + deep("sdcib", ["Event"], 20),
    # Event's strongest DDMC-table baseline (MFLVC) to 5 seeds
    "ddmc-baselines-event": deep("mflvc", ["Event"], 5),
    # the readings study on two substitutes (sdcib/08: SDCIB on 3Sources and BBCSport; on Event these are the runs of
    # selection-readings) and DDMC's (ddmc/07: MSRC-v1 and 3Sources), every single reading, 5 seeds; then on every
    # studied dataset the pairs of the three readings that change the partitions most (a function: the pairs follow
    # from the single readings' runs)
    "readings-study": [s for method, datasets in STUDIES.items()
                       for s in reading_specs(method, study_readings(method), datasets, 5, FULL)],
    "readings-pairs": study_pairs,
    # IDMC's Eq. 15 readings on a second dense substitute (idmc/08: does seed stability pick the same reading?)
    "idmc-orl-readings": reading_specs("idmc", study_readings("idmc"), ["ORL"], 5, FULL),
    # CMU-MOSI (three genuine modalities: video, audio, text) in the notebooks whose claims are about modalities, 5
    # seeds: IDMC's Table 1 (idmc/01: its classical rows, AmKM on min-max inputs, SiMVC, CoMVC, IDMC; MFLVC 1 seed),
    # DDMC's enhance vs fuse (ddmc/04) and DDMC's main table (ddmc/01, partial: every classical row, SiMVC, CoMVC,
    # MFLVC, DDMC; its other deep rows are named "not run" in the claim)
    "mosi": mosi(),
    # SDCIB after the collapse study (balance="sinkhorn"): sdcib_balanced's runs, the most needed first
    "sdcib-balanced": sdcib_balanced(),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("batches", nargs="*", metavar="BATCH", help=f"one or more of: {', '.join(BATCHES)}")
    parser.add_argument("--list", action="store_true", help="print the batches and their run counts")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes (one per core), shared by the batches")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.batches) - set(BATCHES))
    if unknown:
        parser.error(f"unknown batch(es) {unknown}; choose from {', '.join(BATCHES)}")
    if args.list or not args.batches:
        for name, specs in BATCHES.items():
            print(f"{name:<14} {len(specs):>4} runs" if isinstance(specs, list) else f"{name:<14} found from the cache")
        return 0
    specs = []
    for name in args.batches:
        batch = BATCHES[name] if isinstance(BATCHES[name], list) else BATCHES[name]()
        print(f"== {name}: {len(batch)} runs", flush=True)
        specs += batch
    run_grid(specs, profile="full", n_jobs=args.jobs)  # runs already in the cache are read, not recomputed
    return 0


if __name__ == "__main__":
    sys.exit(main())
