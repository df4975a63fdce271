"""One preprocessing path: `make(...).fit(raw views)` scales the views as the experiment runner's run of the method
does, so the library face and the artifact give the same partition (each test failed when only the runner scaled)."""

import numpy as np
import pytest
from synthetic import blobs

from mmc_core.data import list_datasets, load_dataset
from mmc_core.deep.seeds import fit_seeds
from mmc_core.experiments.runner import RunSpec, run_one
from mmc_core.methods import make
from mmc_core.metrics import evaluate
from mmc_core.preprocessing import BY_FEATURE_TYPE, scale_views

AVAILABLE = set(list_datasets().query("available").name)
TINY = {"epochs": 2, "device": "cpu"}


def needs(name: str):
    return pytest.mark.skipif(name not in AVAILABLE, reason=f"{name} is not in data/raw (make data)")


@pytest.mark.parametrize("method, dataset, params, scaling", [
    pytest.param("amkm", "MSRC-v1", {}, "none", marks=needs("MSRC-v1")),  # classical: raw features
    pytest.param("idmc", "MSRC-v1", TINY, "minmax", marks=needs("MSRC-v1")),  # the method's own reading
    pytest.param("simvc", "MSRC-v1", TINY, "minmax", marks=needs("MSRC-v1")),  # no reading: the registry's
    pytest.param("ddmc", "MSRC-v1", {**TINY, "epochs": 6}, "minmax", marks=needs("MSRC-v1")),  # the data rule
])
def test_library_on_raw_views_gives_the_runners_partition(method, dataset, params, scaling):
    ds = load_dataset(dataset)
    record = run_one(RunSpec(method, dataset, 0, params))
    model = make(method, n_clusters=ds.n_clusters, random_state=0, **params)
    labels = model.fit_predict(ds.views)
    assert labels.tolist() == record["labels"]
    assert record["scaling"] == model.scaling_ == scaling


@needs("MSRC-v1")
def test_readme_snippet_scores_as_the_runner():
    """The README's "Using the library" snippet (IDMC on MSRC-v1, seed 0), its epochs cut for the test: the score
    printed is the runner's (the snippet's was far lower when only the runner scaled)."""
    ds = load_dataset("MSRC-v1")
    model = make("idmc", n_clusters=ds.n_clusters, random_state=0, **TINY)
    scores = evaluate(ds.labels, model.fit_predict(ds.views))
    assert scores["acc"] == run_one(RunSpec("idmc", "MSRC-v1", 0, TINY))["acc"]


def test_runner_keeps_scaling_out_of_the_hashed_parameters():
    with pytest.raises(ValueError, match=r"RunSpec\(scaling=\.\.\.\)"):
        RunSpec("idmc", "MSRC-v1", 0, {"scaling": "l2"})


def offset_blobs() -> tuple[list[np.ndarray], np.ndarray]:
    """Two clusters in two views whose features sit far from [0, 1] (offset 1000, spread 50)."""
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 30)
    return [1000.0 + 50.0 * blobs(rng, y, 4, 4.0, 1.0), 1000.0 + 50.0 * blobs(rng, y, 3, 4.0, 1.0)], y


def test_predict_scales_new_samples_with_the_statistics_fitted_at_fit():
    """Samples of one cluster, predicted alone: scaled on their own they would be stretched over [0, 1] and split."""
    views, y = offset_blobs()
    model = make("amkm", 2, scaling="minmax").fit(views)
    one_cluster = np.flatnonzero(model.labels_ == model.labels_[0])
    assert (model.predict([X[one_cluster] for X in views]) == model.labels_[0]).all()
    lo, span = model.scaler_.stats_[0]
    np.testing.assert_array_equal(lo, views[0].min(axis=0))
    np.testing.assert_array_equal(span, views[0].max(axis=0) - views[0].min(axis=0))


def test_deep_predict_and_transform_scale_as_fit():
    views, _ = offset_blobs()
    model = make("simvc", 2, encoder_widths=(16,), **TINY).fit(views)
    np.testing.assert_array_equal(model.predict(views), model.labels_)
    np.testing.assert_allclose(model.transform([X[:7] for X in views]), model.transform(views)[:7], rtol=1e-5)


def test_none_opts_out_and_names_are_checked():
    views, _ = offset_blobs()
    model = make("idmc", 2, scaling="none", encoder_widths=(16,), fusion_widths=(8,), **TINY).fit(views)
    assert model.scaling_ == "none"
    np.testing.assert_array_equal(model.scaler_.transform(views)[0], views[0].astype(np.float32))
    with pytest.raises(ValueError, match="parameter scaling='standard' is invalid.*'minmax'"):
        make("idmc", 2, scaling="standard").fit(views)


def test_the_data_rule_is_decided_from_the_views():
    """DDMC and SDCIB read "by feature type": l2 rows for bags of words (counts with many zeros), else min-max."""
    rng = np.random.default_rng(0)
    counts = [rng.poisson(0.3, (40, 30)).astype(float) for _ in range(2)]
    dense = [rng.normal(size=(40, 5)) for _ in range(2)]
    small = {"epochs": 1, "device": "cpu", "n_layers": 1, "width": 8, "critic_widths": (8,)}
    assert make("sdcib", 2).scaling_reading() == BY_FEATURE_TYPE
    assert make("sdcib", 2, **small).fit(counts).scaling_ == "l2"
    assert make("sdcib", 2, **small).fit(dense).scaling_ == "minmax"


def test_seeds_trained_together_are_scaled():
    """fit_seeds on raw views: the partitions of the same seeds trained together on min-max-scaled views with the
    scaling switched off (IDMC's reading; the batched path is compared with itself, as it is not bit-equal to
    sequential fits)."""
    views, _ = offset_blobs()
    params = {"encoder_widths": (16,), "fusion_widths": (8,), "batch_size": 30, **TINY}
    together = fit_seeds([make("idmc", 2, random_state=s, **params) for s in (0, 1)], views)
    scaled = fit_seeds([make("idmc", 2, random_state=s, scaling="none", **params) for s in (0, 1)],
                       scale_views(views, "minmax"))
    for model, reference in zip(together, scaled):
        assert model.scaling_ == "minmax" and reference.scaling_ == "none"
        np.testing.assert_array_equal(model.labels_, reference.labels_)
