"""Concept runs: identity, caching, records a reviewer can recompute, and the shipped controlled-study store."""

from __future__ import annotations

import json

import numpy as np
import pytest
from cache_records import records

from mmc_core.experiments.provenance import cpu_identity
from mmc_core.experiments.reference import PROVENANCE_KEYS
from mmc_core.metrics import evaluate
from mmc_core.multiclust import runs as r
from mmc_core.multiclust.synthetic import planted_concepts

SHIPPED = sorted(r.REFERENCE_DIR.glob("*/*/*/seed*.json"))


def test_planted_task_names_are_checked():
    assert r.planted_task("Planted3@shape").n_clusters == 4
    with pytest.raises(ValueError, match="Planted<generator seed>@<concept>"):
        r.planted_task("Planted@shape")
    with pytest.raises(ValueError, match="not 'size'"):
        r.planted_task("Planted1@size")


def test_the_label_is_not_part_of_a_runs_identity():
    a = r.ConceptRun("clip-label", "Planted1@colour", 1, label="row A")
    b = r.ConceptRun("clip-label", "Planted1@colour", 1, label="row B")
    assert a.config_id == b.config_id
    assert a.config_id != r.ConceptRun("clip-label", "Planted1@colour", 1, {"x": 1}).config_id
    assert a.config_id != r.ConceptRun("clip-label", "Planted1@colour", 1, encoder="ViT@abc").config_id


def test_a_run_is_computed_once_and_read_back(tmp_path, monkeypatch):
    run = r.ConceptRun("clip-label", "Planted1@colour", 1, label="CLIP_label")
    first = r.run_concepts([run], root=tmp_path, progress=False)
    monkeypatch.setattr(r, "run_one", lambda *a: pytest.fail("a cached run was recomputed"))
    again = r.run_concepts([run], root=tmp_path, progress=False)
    assert first.nmi.iloc[0] == again.nmi.iloc[0] and again.label.iloc[0] == "CLIP_label"
    assert again.dataset.iloc[0] == "Planted"


def test_a_record_filed_under_another_run_is_refused(tmp_path):
    run = r.ConceptRun("clip-label", "Planted1@colour", 1)
    r.run_concepts([run], root=tmp_path, progress=False)
    other = r.ConceptRun("clip-gpt", "Planted1@colour", 1)
    path = other.cache_path(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text(run.cache_path(tmp_path).read_text())
    with pytest.raises(ValueError, match=f"{path}.*not the run it is filed under"):
        r.run_concepts([other], root=tmp_path, progress=False)


CHEAP_GRID = [r.ConceptRun(method, "Planted1@colour", seed, params, label=label) for seed in (1, 2)
              for method, params, label in [("clip-label", {}, "CLIP_label"), ("kmeans-clip", {}, None),
                                            ("multidproxy", {"epochs": 1, "device": "cpu"}, "Multi-DProxy")]]


def test_a_concept_grid_in_processes_gives_the_records_of_one_process(tmp_path, monkeypatch):
    """n_jobs=2 computes the runs in worker processes (the parent's run_one is never called) and writes the records,
    rows, labels and paths that n_jobs=1 writes: a run that lost its task builder, seed or label on the way to a
    worker, or a worker's record filed under another path, fails here."""
    one = r.run_concepts(CHEAP_GRID, root=tmp_path / "one", progress=False)
    monkeypatch.setattr(r, "run_one", lambda *a: pytest.fail("n_jobs=2 computed a run in the parent process"))
    two = r.run_concepts(CHEAP_GRID, root=tmp_path / "two", progress=False, n_jobs=2)
    assert records(tmp_path / "two") == records(tmp_path / "one") and len(records(tmp_path / "one")) == 6
    order = ["config_id", "seed"]
    volatile = ["seconds", "provenance"]
    assert (two.drop(columns=volatile).sort_values(order).reset_index(drop=True)
            .equals(one.drop(columns=volatile).sort_values(order).reset_index(drop=True)))
    assert set(one.label) == {"CLIP_label", "kmeans-clip", "Multi-DProxy"} and set(one.dataset) == {"Planted"}


def test_scores_follow_from_the_partitions_and_other_concepts_are_scored():
    """A representation is scored over K-means seeds 0-9; a zero-shot partition once; both against the other concept."""
    data = planted_concepts(n=200, seed=2)
    task = data.task("colour")

    class Features:
        features_ = data.image_features

    class Partition:
        partition_ = data.labels["shape"]  # the other concept's partition, exactly

    rep = r.score_run(Features(), task)
    assert rep["kmeans_seeds"] == 10 and len(rep["nmi_per_seed"]) == 10
    assert rep["nmi"] == pytest.approx(np.mean(rep["nmi_per_seed"]), abs=1e-6)
    fixed = r.score_run(Partition(), task)
    assert fixed["kmeans_seeds"] == 1 and fixed["other_nmi"]["shape"] == pytest.approx(1.0)
    assert fixed["nmi"] == pytest.approx(evaluate(task.labels, data.labels["shape"])["nmi"])


def test_store_holds_the_controlled_study():
    assert len(SHIPPED) >= 70, "reference/multiclust lacks the controlled study (scripts/multiclust_runs.py)"


def audit(path, record) -> list[str]:
    return r.audit_concept_record(path, record, r.REFERENCE_DIR, r.audit_task(record["task"]), PROVENANCE_KEYS)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(r.REFERENCE_DIR)))
def test_shipped_records_are_intact(path):
    """Filed under its own identity, complete provenance, summary scores from the per-seed ones, and its seed-0
    partition scored as recorded (audit_concept_record, what `reference audit` runs)."""
    assert audit(path, json.loads(path.read_text())) == []


def test_the_concept_audit_catches_an_edited_record():
    """Each check of audit_concept_record can fail: a moved seed, a summary score, a label, a zero-shot run's
    other-concept NMI, a provenance entry."""
    path = next(p for p in SHIPPED if json.loads(p.read_text())["kmeans_seeds"] == 1)
    record = json.loads(path.read_text())
    labels = list(record["labels"])
    labels[:20] = [(label + 1) % (max(labels) + 1) for label in labels[:20]]
    other_nmi = {concept: 0.5 for concept in record["other_nmi"]}
    for edit, problem in [({"seed": record["seed"] + 100}, "filed under"), ({"nmi": record["nmi"] + 0.01}, "nmi, "),
                          ({"labels": labels}, "nmi_per_seed[0]"), ({"other_nmi": other_nmi}, "other_nmi["),
                          ({"provenance": {}}, "provenance lacks")]:
        assert any(problem in p for p in audit(path, {**record, **edit})), edit


def test_a_shipped_multidproxy_run_recomputes():
    """Retrain one shipped run from scratch: the same labels on the same kind of CPU. Elsewhere the float order of
    the kernels differs and candidate pruning can take another path (measured: an Intel Xeon gives NMI 0.706 for the
    0.651 made on an AMD EPYC), so the run must land as close to the shipped one as the configuration's shipped runs
    on the other planted draws lie to each other (3 standard deviations of their NMI, at least 0.05)."""
    path = next((p for p in SHIPPED if "multidproxy" in p.parts and "Planted1_colour" in p.parts
                 and json.loads(p.read_text())["params"] == {}), None)
    if path is None:
        pytest.skip("the full Multi-DProxy run on Planted1@colour is not shipped")
    record = json.loads(path.read_text())
    run = r.ConceptRun(record["method"], record["task"], record["seed"], {**record["params"], "device": "cpu"})
    again = r.run_one(run, r.planted_task(run.task), profile=None)
    if record["provenance"]["cpu"] == cpu_identity():
        assert again["labels"] == record["labels"]
        recorded_outputs = json.loads(json.dumps(again["outputs"], default=lambda o: o.tolist()))
        assert recorded_outputs == record["outputs"], "its candidate evolution differs when re-computed"
    else:
        draws = [json.loads(p.read_text())["nmi"] for p in SHIPPED if "multidproxy" in p.parts
                 and p.parts[-4].endswith("_colour") and json.loads(p.read_text())["params"] == {}]
        assert len(draws) >= 3, "the configuration's other draws are shipped"
        assert again["nmi"] == pytest.approx(record["nmi"], abs=max(0.05, 3 * float(np.std(draws, ddof=1))))
