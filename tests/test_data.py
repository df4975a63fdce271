"""Tests of the dataset registry, the loaders and the `make data` fetcher (mmc_core.data).

Staged data is found through mmc_core.paths.data_dir() ($MMC_DATA_DIR); a test that needs a staged file skips
with the reason when it is absent. Every other test builds small MAT or .npy files and a temporary registry in
tmp_path, so the error paths are checked without any staged data.
"""

from __future__ import annotations

import hashlib
import shutil
import zipfile
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest
import scipy.io
import scipy.sparse
import yaml

from mmc_core import paths
from mmc_core.data import (
    DatasetUnavailable, DataSchemaError, UnknownDatasetError, get_entry, list_datasets, load_dataset,
    load_image_dataset, load_registry, verify_image_manifest,
)
from mmc_core.data import fetch as fetch_mod
from mmc_core.__main__ import LISTING_WIDTH, format_datasets
from mmc_core.data.loaders import file_container
from mmc_core.data.registry import is_available, parent_view_indices

CANONICAL = {
    "Caltech-5V", "Caltech-2V", "Caltech-3V", "Caltech-4V", "Caltech2M", "Caltech3M", "Crosstask", "Captions",
    "MIRFlickr", "ESP-Game", "Flickr", "IAPR", "IAPR-100", "Event", "Fruit", "Card", "CMUface", "CIFAR-10",
    "Stanford-Cars", "Handwritten", "MSRC-v1", "Scene-15", "LandUse-21", "BDGP", "BBCSport", "BBCSport-v73",
    "3Sources", "ORL", "Reuters-1200", "Wikipedia", "Prokaryotic", "Synthetic3d", "CMU-MOSI",
}

# Known answers from data/raw/SOURCES.md (independent of the registry): n, dims, classes.
STAGED = {
    "Event": (1579, [1000, 1000, 1000], 8),
    "Handwritten": (2000, [240, 76, 216, 47, 64, 6], 10),
    "MSRC-v1": (210, [24, 576, 512, 256, 254], 7),
    "Scene-15": (4485, [20, 59, 40], 15),
    "LandUse-21": (2100, [20, 59, 40], 21),
    "BDGP": (2500, [1000, 500], 5),
    "BBCSport": (544, [3183, 3203], 5),
    "BBCSport-v73": (544, [3183, 3203], 5),
    "3Sources": (169, [3560, 3631, 3068], 6),
    "ORL": (400, [512, 59, 864, 254], 40),
    "Reuters-1200": (1200, [2000] * 5, 6),
    "Wikipedia": (2866, [128, 10], 10),
    "Prokaryotic": (551, [393, 3, 438], 4),
    "Synthetic3d": (600, [3, 3, 3], 3),
    "CMU-MOSI": (1284, [60, 60, 60], 7),
}
CLASS_COUNTS = {  # per 0-based class, from SOURCES.md
    "Event": [194, 200, 137, 236, 182, 250, 190, 190],
    "3Sources": [56, 21, 11, 18, 51, 12],
    "Prokaryotic": [313, 91, 35, 112],
    "BBCSport": [62, 104, 193, 124, 61],
    "CMU-MOSI": [3, 117, 245, 416, 277, 222, 4],  # sentiment levels -3..3
}


# ----------------------------------------------------------------------------------------------- helpers


def need_staged(name: str) -> None:
    """Skip unless the staged files of `name` are in the data dir."""
    entry = get_entry(name)
    if not is_available(entry, paths.data_dir()):
        pytest.skip(f"{name}: staged file absent in {paths.data_dir()} (set MMC_DATA_DIR or run `make data`)")


def file_spec(root: Path, rel: str) -> dict[str, Any]:
    data = (root / rel).read_bytes()
    return {"path": rel, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def mv_entry(name: str, files: list[dict], samples: int, dims: list[int], clusters: int,
             **fmt: Any) -> dict[str, Any]:
    fmt = {"layout": "cell", "views": "X", "labels": "Y", "orientation": "samples_first", **fmt}
    return {"name": name, "kind": "multiview", "papers": ["substitute"], "samples": samples, "clusters": clusters,
            "dims": dims, "files": files, "format": fmt, "scaling": "minmax",
            "source": {"repo": "example/fake-repo", "path": "fake.mat", "commit": "0" * 40}}


@pytest.fixture
def use_registry(tmp_path, monkeypatch):
    """Point the registry at a temporary YAML holding the given entries."""
    def write(entries: list[dict]) -> Path:
        path = tmp_path / "registry.yaml"
        path.write_text(yaml.safe_dump({"datasets": entries}, sort_keys=False))
        monkeypatch.setattr(paths, "REGISTRY_FILE", path)
        return path
    return write


def save_cell_mat(path: Path, views: list[Any], labels: np.ndarray, key: str = "X", label_key: str = "Y") -> None:
    cell = np.empty((1, len(views)), dtype=object)
    for i, view in enumerate(views):
        cell[0, i] = view
    path.parent.mkdir(parents=True, exist_ok=True)
    scipy.io.savemat(path, {key: cell, label_key: labels.reshape(-1, 1)})


def small_views(n: int = 12, dims: tuple[int, ...] = (4, 3), seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.random((n, d)) for d in dims]


def one_file_dataset(root: Path, use_registry, views=None, labels=None, name="Toy", **entry_kw) -> str:
    """Write a cell-layout MAT file under root and register it; returns the dataset name."""
    views = small_views() if views is None else views
    labels = np.repeat([1, 2, 3], views[0].shape[0] // 3) if labels is None else labels
    save_cell_mat(root / "toy" / "toy.mat", views, labels)
    spec = file_spec(root, "toy/toy.mat")
    kw = {"samples": views[0].shape[0], "dims": [v.shape[1] for v in views], "clusters": len(np.unique(labels))}
    kw.update(entry_kw)
    use_registry([mv_entry(name, [spec], **kw)])
    return name


# ----------------------------------------------------------------------------------------------- registry


def test_registry_lists_every_canonical_name():
    assert set(load_registry()) == CANONICAL


def test_registry_is_parsed_once():
    assert load_registry() is load_registry()


def test_registry_caltech_subsets_name_the_right_views():
    parent = get_entry("Caltech-5V")
    expected = {"Caltech-2V": [0, 1], "Caltech2M": [0, 1], "Caltech-3V": [0, 1, 4], "Caltech3M": [0, 1, 4],
                "Caltech-4V": [0, 1, 4, 3]}
    for name, idx in expected.items():
        entry = get_entry(name)
        assert entry.subset_of == "Caltech-5V" and not entry.files
        assert parent_view_indices(entry, parent) == idx
        assert list(entry.dims) == [parent.dims[i] for i in idx]
    assert list(get_entry("Caltech-4V").dims) == [40, 254, 928, 512]


def test_registry_records_staged_checksums_and_paper_sizes():
    assert get_entry("Event").files[0].sha256.startswith("543a1301")
    assert get_entry("Caltech-5V").files[0].bytes == 39514064
    assert (get_entry("IAPR").dims, get_entry("IAPR-100").dims) == ((1200, 500), (100, 100))
    assert get_entry("Card").samples == 8029 and get_entry("CMUface").clusterings["identity"].clusters == 20
    assert get_entry("Caltech-2V").paper_samples == 1440 and get_entry("Caltech2M").paper_samples is None


def test_entries_also_read_like_the_yaml_mapping():
    entry = get_entry("Event")
    assert entry["dims"] == (1000, 1000, 1000) and entry.get("scaling", "none") == "minmax"
    assert entry.get("paper_samples", 1579) == 1579 and entry.get("no_such_field", 7) == 7
    with pytest.raises(KeyError):
        entry["no_such_field"]


def test_get_entry_is_case_insensitive_and_suggests():
    assert get_entry("event").name == "Event"
    assert get_entry("caltech_2v").name == "Caltech-2V"
    with pytest.raises(UnknownDatasetError, match="Did you mean.*Handwritten") as info:
        get_entry("Handwriten")
    assert "Available:" in str(info.value)


def test_registry_rejects_unknown_keys(use_registry):
    entry = mv_entry("Bad", [], samples=3, dims=[2], clusters=1)
    entry["sampels"] = 3
    use_registry([entry])
    with pytest.raises(DataSchemaError, match="unknown keys.*sampels"):
        load_registry()


def test_list_datasets_reports_availability(tmp_path):
    empty = list_datasets(tmp_path)
    assert set(empty["name"]) == CANONICAL and not empty["available"].any()
    assert {"papers", "samples", "clusters", "dims", "kind", "substitute", "how_to_obtain"} <= set(empty.columns)
    row = empty.set_index("name").loc["Caltech-3V"]
    assert row["dims"] == "40/254/928" and "Caltech-5V" in row["how_to_obtain"]
    assert empty.set_index("name").loc["Handwritten", "substitute"]
    (tmp_path / "Event").mkdir()
    for name in ("view1.mat", "view2.mat", "view3.mat"):
        (tmp_path / "Event" / name).write_bytes(b"x")  # presence only: the listing hashes nothing
    assert list_datasets(tmp_path).set_index("name").loc["Event", "available"]


# ----------------------------------------------------------------------------------------------- staged data


@pytest.mark.parametrize("name", sorted(STAGED))
def test_staged_dataset_loads_with_documented_shape(name):
    need_staged(name)
    n, dims, k = STAGED[name]
    ds = load_dataset(name)
    assert (ds.n_samples, ds.dims, ds.n_clusters) == (n, dims, k)
    assert ds.dims == list(get_entry(name).dims)
    assert all(v.dtype == np.float32 and v.shape[0] == n and v.flags.c_contiguous for v in ds.views)
    assert ds.labels.dtype == np.int64 and ds.labels.shape == (n,)
    assert ds.labels.min() == 0 and ds.labels.max() == k - 1 and np.unique(ds.labels).size == k
    assert len(ds.view_names) == len(dims) and ds.scaling == "minmax"
    if name in CLASS_COUNTS:
        assert np.bincount(ds.labels).tolist() == CLASS_COUNTS[name]


def test_registry_container_matches_staged_files():
    for entry in load_registry().values():
        if entry.kind == "multiview" and entry.files and is_available(entry, paths.data_dir()):
            for spec in entry.files:
                assert file_container(paths.data_dir() / spec.path) == entry.format.container, spec.path


def test_cmu_mosi_is_video_audio_text_with_sentiment_levels_as_classes():
    need_staged("CMU-MOSI")
    ds = load_dataset("CMU-MOSI")
    assert ds.view_names == ["video", "audio", "text"] and ds.n_views == 3
    raw = np.load(paths.data_dir() / "CMU-MOSI" / "labels.npy")
    assert sorted(set(raw.tolist())) == list(range(-3, 4))
    assert np.array_equal(ds.labels, raw + 3)  # level -3 is class 0, ..., level 3 is class 6
    for view, name in zip(ds.views, ds.view_names):  # the views as stored, in the registered order
        assert np.array_equal(view, np.load(paths.data_dir() / "CMU-MOSI" / f"{name}.npy"))
    entry = get_entry("CMU-MOSI")
    assert entry.scaling == "minmax" and not entry.bag_of_words and entry.source["repo"] == "Xiaoqiang-Yan/TIB"


def test_a_corrupted_copy_of_cmu_mosi_is_refused(tmp_path):
    need_staged("CMU-MOSI")
    mirror, dest = tmp_path / "mirror", tmp_path / "data"
    shutil.copytree(paths.data_dir() / "CMU-MOSI", mirror / "CMU-MOSI")
    for path in (mirror / "CMU-MOSI").iterdir():
        path.chmod(0o644)  # the staged copy may be read-only
    assert load_dataset("CMU-MOSI", data_dir=mirror).n_samples == 1284
    text = mirror / "CMU-MOSI" / "text.npy"
    data = bytearray(text.read_bytes())
    data[-1] ^= 0xFF  # same size, one feature value changed
    text.unlink()
    text.write_bytes(bytes(data))
    with pytest.raises(DataSchemaError, match=r"CMU-MOSI: sha256 mismatch for .*text\.npy.*make data"):
        load_dataset("CMU-MOSI", data_dir=mirror)
    [result] = fetch_mod.fetch(["CMU-MOSI"], mirror=mirror, data_dir=dest, download=False)
    assert result.status == "failed" and "text.npy" in result.detail and "corrupted mirror file refused" in result.detail
    assert not (dest / "CMU-MOSI" / "text.npy").exists() and no_temp_files(dest)


def test_mat_v73_copy_of_bbcsport_matches_the_v5_copy():
    need_staged("BBCSport")
    need_staged("BBCSport-v73")
    v5, v73 = load_dataset("BBCSport"), load_dataset("BBCSport-v73")
    assert np.array_equal(v5.labels, v73.labels)
    for a, b in zip(v5.views, v73.views):  # same documents and terms: same non-zero pattern once transposed
        assert np.array_equal(a > 0, b > 0)


def test_staged_image_sets_have_documented_label_counts():
    for name in ("CMUface", "CIFAR-10", "Card"):
        need_staged(name)
    faces = load_image_dataset("CMUface")
    assert faces.n_samples == 624 and all(p.name.endswith("_4.pgm") for p in faces.paths)
    assert np.bincount(faces.labels["pose"]).tolist() == [157, 155, 156, 156]  # left right straight up
    assert np.bincount(faces.labels["glasses"]).tolist() == [313, 311]
    assert len(np.unique(faces.labels["identity"])) == 20
    assert load_image_dataset("CMUface", resolution=1).n_samples == 633
    cifar = load_image_dataset("CIFAR-10")
    assert cifar.n_samples == 10000
    assert np.bincount(cifar.labels["type"]).tolist() == [4000, 6000]
    assert np.bincount(cifar.labels["environment"]).tolist() == [7000, 2000, 1000]
    cards = load_image_dataset("Card")
    assert cards.n_samples == 520 and set(np.bincount(cards.labels["order"])) == {40}
    assert np.bincount(cards.labels["suits"]).tolist() == [130] * 4


# ----------------------------------------------------------------------------------------------- subsets


def test_caltech_subsets_resolve_to_views_of_a_fake_caltech5v(tmp_path, use_registry):
    dims = [40, 254, 1984, 512, 928]
    n = 21
    labels = np.repeat(np.arange(1, 8), 3)
    # view X<i> is filled with the value i, so a loaded view tells which parent view it came from
    (tmp_path / "Caltech-5V").mkdir()
    variables = {f"X{i + 1}": np.full((n, d), i + 1.0) for i, d in enumerate(dims)}
    scipy.io.savemat(tmp_path / "Caltech-5V" / "Caltech-5V.mat", {**variables, "Y": labels.reshape(1, -1)})
    real = yaml.safe_load(Path(paths.REGISTRY_FILE).read_text())["datasets"]
    entries = [dict(e, samples=n) for e in real if e["name"].startswith("Caltech")]
    entries[0]["files"] = [file_spec(tmp_path, "Caltech-5V/Caltech-5V.mat")]
    use_registry(entries)
    expected = {"Caltech-5V": [1, 2, 3, 4, 5], "Caltech-2V": [1, 2], "Caltech2M": [1, 2], "Caltech-3V": [1, 2, 5],
                "Caltech3M": [1, 2, 5], "Caltech-4V": [1, 2, 5, 4]}
    for name, ids in expected.items():
        ds = load_dataset(name, data_dir=tmp_path)
        assert [int(v[0, 0]) for v in ds.views] == ids
        assert ds.dims == [dims[i - 1] for i in ids] and ds.n_clusters == 7
        assert np.array_equal(ds.labels, labels - 1)
    assert load_dataset("Caltech-4V", data_dir=tmp_path).view_names == ["WM", "CENTRIST", "LBP", "GIST"]


# ----------------------------------------------------------------------------------------------- formats


def test_sparse_cells_are_densified_and_gapped_labels_become_0_based(tmp_path, use_registry):
    views = [scipy.sparse.csc_matrix(np.eye(6)[:, :5]), np.arange(12.0).reshape(6, 2)]
    name = one_file_dataset(tmp_path, use_registry, views=views, labels=np.array([9, 2, 5, 9, 2, 5.0]))
    ds = load_dataset(name, data_dir=tmp_path)
    assert isinstance(ds.views[0], np.ndarray) and ds.views[0].dtype == np.float32
    assert np.array_equal(ds.views[0], np.eye(6)[:, :5])
    assert ds.labels.tolist() == [2, 0, 1, 2, 0, 1]


def test_features_first_cells_and_label_cells_are_handled(tmp_path, use_registry):
    views = small_views(n=6, dims=(4, 3))
    labels = np.array([1, 1, 2, 2, 3, 3])
    label_cell = np.empty((1, 2), dtype=object)
    label_cell[0, 0] = label_cell[0, 1] = labels.reshape(-1, 1)
    cell = np.empty((1, 2), dtype=object)
    cell[0, 0], cell[0, 1] = views[0].T, views[1].T
    (tmp_path / "toy").mkdir()
    scipy.io.savemat(tmp_path / "toy" / "toy.mat", {"data": cell, "truelabel": label_cell})
    use_registry([mv_entry("Toy", [file_spec(tmp_path, "toy/toy.mat")], samples=6, dims=[4, 3], clusters=3,
                           views="data", labels="truelabel", orientation="features_first")])
    ds = load_dataset("Toy", data_dir=tmp_path)
    assert np.allclose(ds.views[0], views[0]) and ds.labels.tolist() == [0, 0, 1, 1, 2, 2]


def test_label_key_is_detected_when_the_registry_omits_it(tmp_path, use_registry):
    views = small_views(n=6)
    save_cell_mat(tmp_path / "toy" / "toy.mat", views, np.array([1, 1, 2, 2, 3, 3]), label_key="gnd")
    use_registry([mv_entry("Toy", [file_spec(tmp_path, "toy/toy.mat")], samples=6, dims=[4, 3], clusters=3,
                           labels=None)])
    assert load_dataset("Toy", data_dir=tmp_path).labels.tolist() == [0, 0, 1, 1, 2, 2]


def test_mat_v73_cells_of_references_are_transposed_back(tmp_path, use_registry):
    dense = np.arange(15.0).reshape(5, 3)  # (n, d) as MATLAB sees it
    sparse = scipy.sparse.csc_matrix(np.eye(5, 4))
    (tmp_path / "toy").mkdir()
    with h5py.File(tmp_path / "toy" / "toy.mat", "w") as f:
        refs = f.create_group("#refs#")
        a = refs.create_dataset("a", data=dense.T)  # HDF5 stores MATLAB arrays transposed
        b = refs.create_group("b")
        b.attrs["MATLAB_sparse"] = 5
        b.create_dataset("data", data=sparse.data)
        b.create_dataset("ir", data=sparse.indices.astype(np.uint64))
        b.create_dataset("jc", data=sparse.indptr.astype(np.uint64))
        x = f.create_dataset("X", shape=(1, 2), dtype=h5py.ref_dtype)
        x[0, 0], x[0, 1] = a.ref, b.ref
        f.create_dataset("Y", data=np.array([[1.0, 1.0, 2.0, 2.0, 2.0]]))
    use_registry([mv_entry("Toy73", [file_spec(tmp_path, "toy/toy.mat")], samples=5, dims=[3, 4], clusters=2,
                           container="mat-v7.3")])
    ds = load_dataset("Toy73", data_dir=tmp_path)
    assert np.array_equal(ds.views[0], dense) and np.array_equal(ds.views[1], np.eye(5, 4))
    assert ds.labels.tolist() == [0, 0, 1, 1, 1]


def per_view_files(root: Path, second_labels: np.ndarray) -> list[dict]:
    (root / "ev").mkdir()
    labels = np.array([1, 1, 2, 2])
    for i, lab in enumerate((labels, second_labels), start=1):
        scipy.io.savemat(root / "ev" / f"view{i}.mat", {"fea": np.full((4, 3), float(i)), "gnd": lab.reshape(-1, 1)})
    return [file_spec(root, f"ev/view{i}.mat") for i in (1, 2)]


def test_per_view_files_load_in_order(tmp_path, use_registry):
    files = per_view_files(tmp_path, np.array([1, 1, 2, 2]))
    use_registry([mv_entry("Ev", files, samples=4, dims=[3, 3], clusters=2, layout="per_view", views="fea",
                           labels="gnd")])
    ds = load_dataset("Ev", data_dir=tmp_path)
    assert [v[0, 0] for v in ds.views] == [1.0, 2.0] and ds.labels.tolist() == [0, 0, 1, 1]


def test_per_view_files_with_different_labels_are_rejected(tmp_path, use_registry):
    files = per_view_files(tmp_path, np.array([1, 2, 1, 2]))
    use_registry([mv_entry("Ev", files, samples=4, dims=[3, 3], clusters=2, layout="per_view", views="fea",
                           labels="gnd")])
    with pytest.raises(DataSchemaError, match="view2.mat differ from"):
        load_dataset("Ev", data_dir=tmp_path)


def npy_dataset(root: Path, use_registry, views=None, labels=None, name="Npy", **entry_kw) -> str:
    """Write a set of .npy arrays (one per view, plus the labels) under root and register them (container npy)."""
    views = small_views(dims=(4, 3, 2)) if views is None else views
    labels = np.repeat([-1, 0, 1], views[0].shape[0] // 3).astype(np.int32) if labels is None else labels
    (root / "npy").mkdir(parents=True, exist_ok=True)
    names = [f"npy/view{i}.npy" for i in range(1, len(views) + 1)]
    for rel, view in zip(names, views):
        np.save(root / rel, view)
    np.save(root / "npy" / "labels.npy", labels)
    files = [file_spec(root, rel) for rel in (*names, "npy/labels.npy")]
    kw = {"samples": views[0].shape[0], "dims": [v.shape[1] for v in views], "clusters": len(np.unique(labels)),
          "container": "npy", "layout": "keys", "views": names, "labels": "npy/labels.npy"}
    kw.update(entry_kw)
    use_registry([mv_entry(name, files, **kw)])
    return name


def test_npy_arrays_load_in_the_registered_view_order(tmp_path, use_registry):
    views = [np.full((6, d), float(d), dtype=np.float32) for d in (4, 3, 2)]
    name = npy_dataset(tmp_path, use_registry, views=views)
    entry = yaml.safe_load(Path(paths.REGISTRY_FILE).read_text())["datasets"][0]
    entry["format"]["views"] = entry["format"]["views"][::-1]  # text-audio-video order: dims follow the order
    entry["dims"] = [2, 3, 4]
    use_registry([entry])
    ds = load_dataset(name, data_dir=tmp_path)
    assert ds.dims == [2, 3, 4] and [v[0, 0] for v in ds.views] == [2.0, 3.0, 4.0]
    assert ds.labels.tolist() == [0, 0, 1, 1, 2, 2] and ds.labels.dtype == np.int64
    assert all(file_container(tmp_path / f["path"]) == "npy" for f in entry["files"])


@pytest.mark.parametrize("case, pattern", [
    ("unnamed_file", "must name every registered file exactly once"),
    ("layout", "container npy needs layout keys"),
    ("too_few_dims", "3 view files for 2 dims"),
])
def test_registry_rejects_an_inconsistent_npy_format(tmp_path, use_registry, case, pattern):
    name = npy_dataset(tmp_path, use_registry)
    entry = yaml.safe_load(Path(paths.REGISTRY_FILE).read_text())["datasets"][0]
    if case == "unnamed_file":
        entry["format"]["views"] = entry["format"]["views"][:2]
        entry["dims"] = entry["dims"][:2]
    elif case == "layout":
        entry["format"].update(layout="cell", views="X")  # a MAT-style format over .npy files
    else:
        entry["dims"] = entry["dims"][:2]
    use_registry([entry])
    with pytest.raises(DataSchemaError, match=pattern):
        load_dataset(name, data_dir=tmp_path)


def test_unreadable_or_pickled_npy_with_matching_checksum_gives_a_clear_error(tmp_path, use_registry):
    name = npy_dataset(tmp_path, use_registry)
    entry = yaml.safe_load(Path(paths.REGISTRY_FILE).read_text())["datasets"][0]
    view = tmp_path / "npy" / "view2.npy"
    view.write_bytes(view.read_bytes()[:60])  # a truncated array, registered as such
    entry["files"][1] = file_spec(tmp_path, "npy/view2.npy")
    use_registry([entry])
    with pytest.raises(DataSchemaError, match=r"Npy: cannot read .*view2\.npy as a NumPy \.npy array") as info:
        load_dataset(name, data_dir=tmp_path)
    assert info.value.__cause__ is not None
    np.save(view, np.array([{"a": 1}] * 6, dtype=object), allow_pickle=True)  # loading it would run pickle
    entry["files"][1] = file_spec(tmp_path, "npy/view2.npy")
    use_registry([entry])
    with pytest.raises(DataSchemaError, match=r"cannot read .*view2\.npy.*pickle"):
        load_dataset(name, data_dir=tmp_path)


def test_npy_schema_errors_name_the_label_file(tmp_path, use_registry):
    name = npy_dataset(tmp_path, use_registry, labels=np.repeat([1, 2, 3, 4], 3), clusters=3)
    with pytest.raises(DataSchemaError, match=r"4 classes in .*labels\.npy, the registry says 3"):
        load_dataset(name, data_dir=tmp_path)
    name = npy_dataset(tmp_path, use_registry, labels=np.arange(11) % 3, clusters=3)
    with pytest.raises(DataSchemaError, match=r"11 labels for 12 samples in .*labels\.npy \(views: .*view1\.npy\)"):
        load_dataset(name, data_dir=tmp_path)


def test_npy_checksum_mismatch_is_refused(tmp_path, use_registry):
    name = npy_dataset(tmp_path, use_registry)
    labels = tmp_path / "npy" / "labels.npy"
    data = bytearray(labels.read_bytes())
    data[-1] ^= 0x01  # same size: a changed label
    labels.unlink()
    labels.write_bytes(bytes(data))
    with pytest.raises(DataSchemaError, match=r"Npy: sha256 mismatch for .*labels\.npy"):
        load_dataset(name, data_dir=tmp_path)


# ----------------------------------------------------------------------------------------------- verification


def test_checksum_mismatch_names_the_file(tmp_path, use_registry):
    name = one_file_dataset(tmp_path, use_registry)
    path = tmp_path / "toy" / "toy.mat"
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF  # same size, different content
    corrupted = tmp_path / "toy" / "toy2.mat"
    corrupted.write_bytes(bytes(data))
    corrupted.replace(path)  # a new inode and mtime: no stale cached hash
    with pytest.raises(DataSchemaError, match=r"sha256 mismatch for .*toy\.mat.*make data"):
        load_dataset(name, data_dir=tmp_path)


def test_truncated_file_gives_a_clear_error(tmp_path, use_registry):
    name = one_file_dataset(tmp_path, use_registry)
    path = tmp_path / "toy" / "toy.mat"
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(DataSchemaError, match=r"toy\.mat has 100 bytes.*truncated"):
        load_dataset(name, data_dir=tmp_path)


@pytest.mark.parametrize("writer", ["v5", "v7.3"])
def test_unreadable_file_with_matching_checksum_gives_a_clear_error(tmp_path, use_registry, writer):
    (tmp_path / "toy").mkdir()
    path = tmp_path / "toy" / "toy.mat"
    if writer == "v5":
        save_cell_mat(path, small_views(), np.repeat([1, 2, 3], 4))
    else:
        with h5py.File(path, "w") as f:
            f.create_dataset("X", data=np.zeros((2, 3)))
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    use_registry([mv_entry("Toy", [file_spec(tmp_path, "toy/toy.mat")], samples=12, dims=[4, 3], clusters=3)])
    with pytest.raises(DataSchemaError, match=r"Toy: cannot read .*toy\.mat.*truncated, damaged") as info:
        load_dataset("Toy", data_dir=tmp_path)
    assert info.value.__cause__ is not None  # the raw scipy/h5py error stays attached for debugging


@pytest.mark.parametrize("case, pattern", [
    ("n_mismatch", "different numbers of samples"),
    ("nan", "NaN or inf"),
    ("dims", r"view dims \[4, 3\] .* differ"),
    ("clusters", "3 classes .* registry says 4"),
    ("samples", "12 samples, the registry says 13"),
    ("labels_length", "11 labels for 12 samples"),
])
def test_schema_violations_raise_data_schema_error(tmp_path, use_registry, case, pattern):
    views, labels, overrides = small_views(), np.repeat([1, 2, 3], 4), {}
    if case == "n_mismatch":
        views[1] = views[1][:10]
    elif case == "nan":
        views[0][3, 1] = np.nan
    elif case == "dims":
        overrides = {"dims": [4, 5]}
    elif case == "clusters":
        overrides = {"clusters": 4}
    elif case == "samples":
        overrides = {"samples": 13}
    else:
        labels = labels[:11]
    name = one_file_dataset(tmp_path, use_registry, views=views, labels=labels, **overrides)
    with pytest.raises(DataSchemaError, match=pattern) as info:
        load_dataset(name, data_dir=tmp_path)
    assert "Toy" in str(info.value) and "toy.mat" in str(info.value)


def test_absent_dataset_names_its_source_and_the_fix(tmp_path):
    with pytest.raises(DatasetUnavailable) as info:
        load_dataset("Handwritten", data_dir=tmp_path)
    message = str(info.value)
    assert "zskong/Multi-view-data" in message and "handwritten.mat" in message and "make data" in message
    with pytest.raises(DatasetUnavailable, match="Caltech-2V is a view subset of Caltech-5V.*liangsishan"):
        load_dataset("Caltech-2V", data_dir=tmp_path)
    with pytest.raises(DatasetUnavailable, match="ESP-Game.*Not public"):
        load_dataset("ESP-Game", data_dir=tmp_path)
    with pytest.raises(DataSchemaError, match="load_image_dataset"):
        load_dataset("CMUface", data_dir=tmp_path)


def test_datasets_command_fits_the_width_and_lists_cmu_mosi(tmp_path):
    table = list_datasets(tmp_path)
    for sources in (False, True):
        text = format_datasets(table, str(tmp_path / ("long-directory-name" * 6)), sources=sources)
        assert max(map(len, text.splitlines())) <= LISTING_WIDTH
        row = next(line for line in text.splitlines() if line.startswith("CMU-MOSI "))
        assert row.split() == ["CMU-MOSI", "substitute", "1284", "7", "60/60/60", "no"]
        assert "github.com/Xiaoqiang-Yan/TIB" in text and "python -m mmc_core.data.fetch CMU-MOSI" in text


# ----------------------------------------------------------------------------------------------- image sets

FAKE_FACES = ["faces/an2i/an2i_left_happy_open_4.pgm", "faces/an2i/an2i_up_sad_sunglasses_4.pgm",
              "faces/tammo/tammo_straight_angry_open_4.pgm", "faces/tammo/tammo_straight_angry_open.pgm",
              "faces/tammo/tammo_right_neutral_open.bad"]


def fake_cmuface(root: Path) -> dict:
    """A 5-file CMUface directory with its manifest; returns the registry entry pointing at it."""
    base = root / "cmuface"
    lines = []
    for i, rel in enumerate(FAKE_FACES):
        (base / rel).parent.mkdir(parents=True, exist_ok=True)
        (base / rel).write_bytes(b"P5 fake %d" % i)
        lines.append(f"{hashlib.sha256((base / rel).read_bytes()).hexdigest()}  ./{rel}")
    (base / "MANIFEST.sha256").write_text("\n".join(lines) + "\n")
    entry = dict(next(e for e in yaml.safe_load(Path(paths.REGISTRY_FILE).read_text())["datasets"]
                      if e["name"] == "CMUface"))
    entry["files"] = [file_spec(root, "cmuface/MANIFEST.sha256")]
    return entry


def test_image_labels_are_parsed_from_cmuface_file_names(tmp_path, use_registry):
    use_registry([fake_cmuface(tmp_path)])
    ds = load_image_dataset("CMUface", data_dir=tmp_path)
    assert [p.name for p in ds.paths] == [Path(r).name for r in sorted(FAKE_FACES[:3])]
    assert ds.labels["identity"].tolist() == [0, 0, 19]  # an2i, an2i, tammo in the registry's order
    assert [ds.class_names["pose"][i] for i in ds.labels["pose"]] == ["left", "up", "straight"]
    assert ds.labels["glasses"].tolist() == [0, 1, 0]
    assert load_image_dataset("CMUface", data_dir=tmp_path, resolution=1).n_samples == 1  # .bad is not an image


def test_image_manifest_verification_detects_a_corrupted_image(tmp_path, use_registry):
    use_registry([fake_cmuface(tmp_path)])
    assert len(verify_image_manifest("CMUface", data_dir=tmp_path)) == len(FAKE_FACES)
    victim = tmp_path / "cmuface" / FAKE_FACES[1]
    victim.unlink()
    victim.write_bytes(b"P5 tampered")
    with pytest.raises(DataSchemaError, match="an2i_up_sad_sunglasses_4.pgm"):
        verify_image_manifest("CMUface", data_dir=tmp_path)


# ----------------------------------------------------------------------------------------------- fetch


def no_temp_files(root: Path) -> bool:
    return not [p for p in root.rglob("*") if p.name.startswith(".")]


def test_fetch_copies_from_a_mirror_and_verifies(tmp_path, use_registry):
    mirror, dest = tmp_path / "mirror", tmp_path / "data"
    one_file_dataset(mirror, use_registry)
    [result] = fetch_mod.fetch(mirror=mirror, data_dir=dest)
    assert (result.name, result.status) == ("Toy", "fetched")
    assert (dest / "toy" / "toy.mat").read_bytes() == (mirror / "toy" / "toy.mat").read_bytes()
    assert load_dataset("Toy", data_dir=dest).n_samples == 12
    assert no_temp_files(dest)
    assert fetch_mod.fetch(mirror=mirror, data_dir=dest)[0].status == "present"
    assert fetch_mod.main(["--mirror", str(mirror), "--data-dir", str(dest)]) == 0


def test_fetch_refuses_a_corrupted_mirror_file(tmp_path, use_registry, capsys):
    mirror, dest = tmp_path / "mirror", tmp_path / "data"
    one_file_dataset(mirror, use_registry)
    path = mirror / "toy" / "toy.mat"
    data = path.read_bytes()
    path.write_bytes(data[:-1] + bytes([data[-1] ^ 0xFF]))
    [result] = fetch_mod.fetch(mirror=mirror, data_dir=dest)
    assert result.status == "failed" and "corrupted mirror file refused" in result.detail
    assert not (dest / "toy" / "toy.mat").exists() and no_temp_files(dest)
    assert fetch_mod.main(["--mirror", str(mirror), "--data-dir", str(dest), "--no-download"]) == 1
    assert "failed" in capsys.readouterr().out


def test_fetch_downloads_from_the_registry_url_and_zip_archives(tmp_path, use_registry):
    src, dest = tmp_path / "src", tmp_path / "data"
    one_file_dataset(src, use_registry)
    spec = file_spec(src, "toy/toy.mat")
    with zipfile.ZipFile(tmp_path / "bundle.zip", "w") as zf:
        zf.write(src / "toy" / "toy.mat", "inner/toy.mat")
    zip_spec = file_spec(tmp_path, "bundle.zip")
    archive = {"url": (tmp_path / "bundle.zip").as_uri(), "bytes": zip_spec["bytes"], "sha256": zip_spec["sha256"],
               "member": "inner/toy.mat"}
    views = {"samples": 12, "dims": [4, 3], "clusters": 3}
    use_registry([mv_entry("Direct", [dict(spec, url=(src / "toy" / "toy.mat").as_uri())], **views),
                  mv_entry("Zipped", [dict(spec, path="zipped/toy.mat", archive=archive)], **views)])
    results = {r.name: r.status for r in fetch_mod.fetch(data_dir=dest)}
    assert results == {"Direct": "fetched", "Zipped": "fetched"}
    assert load_dataset("Zipped", data_dir=dest).dims == [4, 3] and no_temp_files(dest)


def test_fetch_copies_and_verifies_image_sets(tmp_path, use_registry):
    mirror, dest = tmp_path / "mirror", tmp_path / "data"
    use_registry([fake_cmuface(mirror)])
    [result] = fetch_mod.fetch(mirror=mirror, data_dir=dest)
    assert result.status == "fetched" and len(verify_image_manifest("CMUface", data_dir=dest)) == len(FAKE_FACES)
    assert no_temp_files(dest)
    shutil.rmtree(dest)
    (mirror / "cmuface" / FAKE_FACES[0]).write_bytes(b"tampered")
    [result] = fetch_mod.fetch(mirror=mirror, data_dir=dest)
    assert result.status == "failed" and "refused" in result.detail
    assert not (dest / "cmuface").exists() and no_temp_files(dest)


def test_fetch_reports_absent_datasets_without_failing(tmp_path, use_registry):
    entry = mv_entry("NoFile", [], samples=3, dims=[2], clusters=1)
    entry["source"] = {"how": "Ask the authors."}
    use_registry([entry])
    [result] = fetch_mod.fetch(data_dir=tmp_path)
    assert (result.status, result.detail) == ("absent", "Ask the authors.")
    assert fetch_mod.main(["--data-dir", str(tmp_path)]) == 0
