"""The reporting protocols read from run records (experiments.protocol), the label-free epoch choices the trainer
keeps (engine.EpochSelection) and the partition fields every record carries."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from synthetic import two_view_minmax

from mmc_core.experiments.protocol import (LABEL_FREE, MIN_CLUSTER, MIN_TOTAL, ORACLE, OURS, protocol_ledger,
                                           protocol_rows)
from mmc_core.experiments.runner import partition_fields
from mmc_core.methods import make


def _record(seed: int, acc: float, final_loss: float, cluster_value: float, cluster_acc: float) -> dict:
    scores = lambda a: {"acc": a, "nmi": a / 2, "nmi_geometric": a / 2 + 0.01}
    return {"seed": seed, **scores(acc), "loss_history": [{"total": final_loss + 1.0}, {"total": final_loss}],
            "epoch_labels": {MIN_TOTAL: {"epoch": 1, "value": final_loss, "labels": [0, 1], "scores": scores(acc)},
                             MIN_CLUSTER: {"epoch": 3 + seed, "value": cluster_value, "labels": [0, 1],
                                           "scores": scores(cluster_acc)}}}


RECORDS = [_record(0, 0.50, -1.0, -5.0, 0.40), _record(1, 0.40, -3.0, -2.0, 0.60), _record(2, 0.60, -2.0, -1.0, 0.70)]


def test_protocol_rows_select_by_loss_without_labels_and_mark_the_oracle():
    rows = {r["reported as"]: r for r in protocol_rows(RECORDS, {"acc": 0.565, "nmi": 0.364})}
    assert rows["last epoch, mean"]["ACC"] == "0.500 ± 0.100" and rows["last epoch, mean"]["selection"] == LABEL_FREE
    assert rows["lowest cluster-loss epoch, mean"]["ACC"].startswith("0.567")
    assert rows["best of 3 by final loss"]["ACC"] == "0.400"  # seed 1 has the lowest final loss, not the best ACC
    cluster = rows["best of 3 by cluster loss, its epoch"]
    assert cluster["ACC"] == "0.400" and cluster["epochs chosen"] == "3"  # seed 0's cluster loss is lowest
    best = rows["best of 3 by ACC"]
    assert best["ACC"] == "0.600" and best["selection"] == ORACLE
    assert rows["last epoch, mean"]["ACC - printed"] == pytest.approx(0.5 - 0.565, abs=1e-3)
    assert rows["last epoch, mean"]["NMI (geom.) - printed"] == pytest.approx(0.26 - 0.364, abs=1e-3)


def test_a_training_reading_shows_its_mean_and_the_groups_rule_only():
    rows = protocol_rows(RECORDS, {"acc": 0.565}, "batch 100", full=False)
    assert [r["reported as"] for r in rows] == ["last epoch, mean", "best of 3 by cluster loss, its epoch"]


def test_records_without_kept_epochs_give_only_what_they_hold():
    old = [{k: v for k, v in r.items() if k not in ("epoch_labels", "loss_history")} for r in RECORDS]
    rows = protocol_rows(old, {"acc": 0.565})
    assert [r["reported as"] for r in rows] == ["last epoch, mean", "best of 3 by ACC"]


def test_protocol_ledger_says_how_much_of_the_gap_each_row_closes():
    results = pd.DataFrame([{**r, "dataset": "Event", "label": OURS} for r in RECORDS])
    table = protocol_ledger(results, {("Event", "acc"): 0.565, ("Event", "nmi"): 0.364})
    assert table["ACC gap closed"].iloc[0] == "0%" and table["printed ACC"].iloc[0] == 0.565
    oracle = table[table.selection == ORACLE].iloc[0]
    assert oracle["ACC gap closed"] == f"{1 - (0.6 - 0.565) / (0.5 - 0.565):.0%}"


def test_the_trainer_keeps_the_lowest_loss_epochs_partition():
    views, y = two_view_minmax()
    model = make("sdcib", n_clusters=3, random_state=0, width=32, n_layers=2, critic_widths=(16,), epochs=6,
                 batch_size=45).fit(views)
    history, kept = model.history_, model.epoch_labels_
    assert set(kept) == {MIN_TOTAL, MIN_CLUSTER}
    assert kept[MIN_TOTAL]["epoch"] == int(history.total.idxmin())
    assert kept[MIN_CLUSTER]["epoch"] == int(history.cluster_consistency.idxmin())
    last = len(history) - 1
    if kept[MIN_TOTAL]["epoch"] == last:  # the last epoch's partition is the fitted one
        np.testing.assert_array_equal(kept[MIN_TOTAL]["labels"], model.labels_)
    refit = make("sdcib", n_clusters=3, random_state=0, width=32, n_layers=2, critic_widths=(16,), epochs=6,
                 batch_size=45).fit(views)
    np.testing.assert_array_equal(refit.labels_, model.labels_)  # (that training is unchanged by them: the
    # shipped runs, made before partitions were kept, recompute to the same labels: test_reference)


def test_a_kmeans_readout_keeps_no_epoch_partitions():
    views, _ = two_view_minmax()
    model = make("sem", n_clusters=3, random_state=0, encoder_widths=(16,), feature_dim=8, high_feature_dim=4,
                 epochs=2, batch_size=60, kmeans_n_init=1).fit(views)
    assert model.epoch_labels_ == {}


def test_partition_fields_count_clusters_used_and_their_sizes():
    assert partition_fields([0, 0, 2, 2, 2], 4) == {"n_clusters": 4, "clusters_used": 2, "cluster_sizes": [2, 0, 3, 0]}


def test_degenerate_partitions_count_dataset_runs_and_skip_concept_runs():
    from mmc_core.experiments.report import degenerate_partitions

    runs = [{"method": "sdcib", "method_label": "SDCIB", "dataset": "Event", "params": {"device": "auto"},
             "labels": [0, 1], "n_clusters": 8, "clusters_used": used, "cluster_sizes": []} for used in (8, 5)]
    concept = {"method": "multidproxy", "task": "Planted1@colour", "dataset": "Planted", "labels": [0, 0, 1]}
    table = degenerate_partitions(runs + [concept])
    assert table.to_dict("records") == [{"method": "SDCIB", "dataset": "Event", "runs of": "main row", "k": 8,
                                         "runs": 2, "runs using < k": 1,
                                         "clusters used (min / median / max)": "5 / 6.5 / 8"}]
