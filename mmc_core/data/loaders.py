"""Load registered datasets: multi-view MAT or .npy files into a `Dataset`, image sets into an `ImageDataset`.

Every load first checks each file against the registry (size and sha256), then reads it, then checks the schema
(same n in every view, one label per sample, the registered dims, samples and number of classes, finite values).
Any failure is a `DataSchemaError` naming the dataset, the file and the fix; an absent file is a
`DatasetUnavailable`. Features are returned raw (float32, dense): the default preprocessing is
`Dataset.scaling`, applied by the caller.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import h5py
import numpy as np
import scipy.io
import scipy.sparse

from mmc_core import paths
from mmc_core.data.derived import derive, split_derived
from mmc_core.data.registry import (
    MANIFEST_NAME, USER_LABELS, DatasetEntry, DatasetUnavailable, DataSchemaError, canonical_name, check_file,
    describe_source, fetch_hint, get_entry, parent_view_indices, sha256_file, unavailable,
)

LABEL_KEYS = ("Y", "y", "gnd", "truelabel")


@dataclass(frozen=True)
class Dataset:
    """A multi-view dataset: `views` are dense float32 (n, d_v) arrays, `labels` 0-based int64 of length n."""

    name: str
    views: list[np.ndarray]
    labels: np.ndarray
    n_clusters: int
    view_names: list[str]
    scaling: str

    @property
    def n_samples(self) -> int:
        return int(self.labels.shape[0])

    @property
    def n_views(self) -> int:
        return len(self.views)

    @property
    def dims(self) -> list[int]:
        return [int(v.shape[1]) for v in self.views]


@dataclass(frozen=True)
class ImageDataset:
    """An image set for multiple clustering: image paths and one 0-based int64 label array per clustering."""

    name: str
    root: Path
    paths: list[Path]
    labels: dict[str, np.ndarray]
    class_names: dict[str, list[str]]

    @property
    def n_samples(self) -> int:
        return len(self.paths)


# ---------------------------------------------------------------------------------------- MAT and .npy reading


NPY_MAGIC = b"\x93NUMPY"


def mat_container(path: Path) -> str:
    """'mat-v7.3' for an HDF5-based MAT file, else 'mat-v5' (what scipy.io.loadmat reads)."""
    return "mat-v7.3" if h5py.is_hdf5(path) else "mat-v5"


def file_container(path: Path) -> str:
    """The registry's `format.container` of a data file: 'npy' for a NumPy .npy array, else its MAT version."""
    with open(path, "rb") as handle:
        if handle.read(len(NPY_MAGIC)) == NPY_MAGIC:
            return "npy"
    return mat_container(path)


def _cell_items(cell: np.ndarray) -> list[Any]:
    if cell.ndim != 2 or min(cell.shape) != 1:
        raise ValueError(f"expected a (1, V) or (V, 1) cell array, got shape {cell.shape}")
    return list(cell.ravel())


def _read_v5(path: Path, keys: Sequence[str]) -> dict[str, Any]:
    raw = scipy.io.loadmat(path, variable_names=list(keys))
    out: dict[str, Any] = {}
    for key in keys:
        if key in raw:
            value = raw[key]
            out[key] = _cell_items(value) if isinstance(value, np.ndarray) and value.dtype == object else value
    return out


def _h5_value(handle: h5py.File, obj: h5py.Dataset | h5py.Group) -> Any:
    """A v7.3 variable in MATLAB orientation: arrays transposed back, sparse groups to csc, cells to lists."""
    if isinstance(obj, h5py.Group):
        if "MATLAB_sparse" not in obj.attrs:
            raise ValueError(f"unsupported MATLAB object {obj.name} (struct?)")
        n_rows = int(obj.attrs["MATLAB_sparse"])
        jc = np.asarray(obj["jc"][()], dtype=np.int64)
        data = obj["data"][()] if "data" in obj else np.zeros(0)
        ir = obj["ir"][()] if "ir" in obj else np.zeros(0, dtype=np.int64)
        return scipy.sparse.csc_array((data, ir, jc), shape=(n_rows, len(jc) - 1))
    if h5py.check_dtype(ref=obj.dtype) is not None:
        return [_h5_value(handle, handle[ref]) for ref in _cell_items(obj[()])]
    return np.asarray(obj[()]).T


def _read_v73(path: Path, keys: Sequence[str]) -> dict[str, Any]:
    with h5py.File(path, "r") as handle:
        return {key: _h5_value(handle, handle[key]) for key in keys if key in handle}


def read_mat(entry: DatasetEntry, path: Path, keys: Sequence[str]) -> dict[str, Any]:
    """The variables `keys` present in a MAT file (v5 or v7.3), cells as lists; read errors become DataSchemaError."""
    reader = _read_v73 if mat_container(path) == "mat-v7.3" else _read_v5
    try:
        return reader(path, keys)
    except Exception as exc:  # scipy/h5py raise many types; the user needs one clear message
        raise DataSchemaError(
            f"{entry.name}: cannot read {path} as a MAT file ({type(exc).__name__}: {exc}). The file is truncated, "
            f"damaged or not a MAT file; re-fetch it with {fetch_hint(entry.name)}."
        ) from exc


def read_npy(entry: DatasetEntry, path: Path) -> np.ndarray:
    """The array of a .npy file (never unpickled: object arrays are refused); read errors become DataSchemaError."""
    try:
        array = np.load(path, allow_pickle=False)
        if not isinstance(array, np.ndarray):  # an .npz archive opens as a mapping
            raise ValueError(f"an archive ({type(array).__name__}), not a single array")
    except Exception as exc:  # numpy raises ValueError / OSError / EOFError; the user needs one clear message
        raise DataSchemaError(
            f"{entry.name}: cannot read {path} as a NumPy .npy array ({type(exc).__name__}: {exc}). The file is "
            f"truncated, damaged or not a .npy file; re-fetch it with {fetch_hint(entry.name)}."
        ) from exc
    return array


def _require(entry: DatasetEntry, path: Path, variables: dict[str, Any], key: str) -> Any:
    if key not in variables:
        raise DataSchemaError(f"{entry.name}: variable {key!r} not found in {path}; the registry format does not "
                              f"match the file (re-fetch with `make data`, or fix data/registry.yaml)")
    return variables[key]


def _label_vector(entry: DatasetEntry, path: Path, variables: dict[str, Any], keys: Sequence[str]) -> np.ndarray:
    """The first label variable of `keys` as a 1-D array; a cell must hold identical copies (BDGP's truelabel)."""
    value = _require(entry, path, variables, next((k for k in keys if k in variables), keys[0]))
    if isinstance(value, list):
        copies = [np.asarray(v).ravel() for v in value]
        if any(c.shape != copies[0].shape or not np.array_equal(c, copies[0]) for c in copies[1:]):
            raise DataSchemaError(f"{entry.name}: the label cell in {path} holds different label vectors")
        value = copies[0]
    array = np.asarray(value)
    if array.ndim > 1 and sorted(array.shape)[-2] != 1:
        raise DataSchemaError(f"{entry.name}: labels in {path} have shape {array.shape}, expected a vector")
    return array.ravel()


def _dense(entry: DatasetEntry, path: Path, view: Any, transpose: bool) -> np.ndarray:
    array = view.toarray() if scipy.sparse.issparse(view) else np.asarray(view)
    if array.ndim != 2 or array.dtype == object:
        raise DataSchemaError(f"{entry.name}: a view in {path} is not a 2-D numeric matrix (shape {array.shape})")
    return np.ascontiguousarray((array.T if transpose else array), dtype=np.float32)


def _read_npy_views(entry: DatasetEntry, files: list[Path]) -> tuple[list[np.ndarray], np.ndarray, list[Path], Path]:
    """Views and raw labels of a set of .npy arrays (container npy: `views`/`labels` name registered files)."""
    fmt = entry.format
    assert fmt is not None and isinstance(fmt.views, tuple) and fmt.labels  # checked by the registry parser
    by_path = {spec.path: path for spec, path in zip(entry.files, files)}
    transpose = fmt.orientation == "features_first"
    origins = [by_path[view] for view in fmt.views]
    views = [_dense(entry, path, read_npy(entry, path), transpose) for path in origins]
    label_path = by_path[fmt.labels]
    labels = _label_vector(entry, label_path, {"labels": read_npy(entry, label_path)}, ("labels",))
    return views, labels, origins, label_path


def _read_views(entry: DatasetEntry, files: list[Path]) -> tuple[list[np.ndarray], np.ndarray, list[Path], Path]:
    """Views (dense float32, samples first), raw labels, for each view the file it came from, and the labels' file."""
    fmt = entry.format
    assert fmt is not None  # the registry parser requires a format for entries with files
    if fmt.container == "npy":
        return _read_npy_views(entry, files)
    transpose = fmt.orientation == "features_first"
    label_keys = (fmt.labels,) if fmt.labels else LABEL_KEYS
    views, origins, labels = [], [], None
    if fmt.layout == "per_view":
        for path in files:
            variables = read_mat(entry, path, (fmt.views, *label_keys))
            views.append(_dense(entry, path, _require(entry, path, variables, fmt.views), transpose))
            origins.append(path)
            these = _label_vector(entry, path, variables, label_keys)
            if labels is not None and (these.shape != labels.shape or not np.array_equal(these, labels)):
                raise DataSchemaError(f"{entry.name}: labels in {path} differ from those in {files[0]}; the per-view "
                                      f"files must describe the same samples in the same order (re-fetch them)")
            labels = these
        return views, labels, origins, files[0]
    path = files[0]
    view_keys = fmt.views if isinstance(fmt.views, tuple) else (fmt.views,)
    variables = read_mat(entry, path, (*view_keys, *label_keys))
    raw_views = ([_require(entry, path, variables, k) for k in view_keys] if fmt.layout == "keys"
                 else _require(entry, path, variables, fmt.views))
    if not isinstance(raw_views, list):
        raise DataSchemaError(f"{entry.name}: variable {fmt.views!r} in {path} is not a cell array of views")
    views = [_dense(entry, path, v, transpose) for v in raw_views]
    return views, _label_vector(entry, path, variables, label_keys), [path] * len(views), path


def _check_schema(entry: DatasetEntry, views: list[np.ndarray], labels: np.ndarray, origins: list[Path],
                  label_origin: Path | None = None) -> None:
    """Raise DataSchemaError unless the arrays match the registry entry (`label_origin`: the labels' file, when it is
    not the first view's)."""
    label_origin = origins[0] if label_origin is None else label_origin
    fix = f"re-fetch with {fetch_hint(entry.name)}, or correct data/registry.yaml if the registry is wrong"
    ns = [v.shape[0] for v in views]
    if len(set(ns)) != 1:
        raise DataSchemaError(f"{entry.name}: views have different numbers of samples {ns} "
                              f"(files {sorted(set(map(str, origins)))}); {fix}")
    n = ns[0]
    if labels.shape[0] != n:
        where = str(origins[0]) if label_origin == origins[0] else f"{label_origin} (views: {origins[0]})"
        raise DataSchemaError(f"{entry.name}: {labels.shape[0]} labels for {n} samples in {where}; {fix}")
    if n != entry.samples:
        raise DataSchemaError(f"{entry.name}: {origins[0]} has {n} samples, the registry says {entry.samples}; {fix}")
    dims = tuple(v.shape[1] for v in views)
    if dims != entry.dims:
        raise DataSchemaError(f"{entry.name}: view dims {list(dims)} in {origins[0]} differ from the registry's "
                              f"{list(entry.dims or ())}; {fix}")
    for view, origin in zip(views, origins):
        if not np.isfinite(view).all():
            raise DataSchemaError(f"{entry.name}: a view in {origin} contains NaN or inf; {fix}")
    if labels.dtype.kind not in "biuf" or (labels.dtype.kind == "f" and not np.isfinite(labels).all()):
        raise DataSchemaError(f"{entry.name}: labels in {label_origin} are not finite numbers; {fix}")
    k = np.unique(labels).size
    if k != entry.clusters:
        raise DataSchemaError(f"{entry.name}: {k} classes in {label_origin}, the registry says {entry.clusters}; "
                              f"{fix}")


def _zero_based(labels: np.ndarray) -> np.ndarray:
    """Map the sorted distinct label values to 0..k-1 (handles 1-based, float and gapped labels)."""
    return np.unique(labels, return_inverse=True)[1].astype(np.int64).ravel()


def load_dataset(name: str, data_dir: str | os.PathLike | None = None) -> Dataset:
    """Load a registered multi-view dataset (files verified against the registry; view subsets resolved), or a derived
    one (mmc_core.data.derived: a registered dataset with views degraded for a controlled experiment)."""
    base, share = split_derived(canonical_name(name))
    if share is not None:
        return derive(load_dataset(base, data_dir), share)
    entry = get_entry(name)
    if entry.kind != "multiview":
        raise DataSchemaError(f"{entry.name} is an image set: use load_image_dataset({entry.name!r})")
    source = get_entry(entry.subset_of) if entry.subset_of else entry
    if not source.files:
        raise unavailable(entry, None)
    root = paths.data_dir(data_dir)
    try:
        files = [check_file(source, spec, root) for spec in source.files]
    except DatasetUnavailable as exc:
        if entry.subset_of is None:
            raise
        raise DatasetUnavailable(f"{entry.name} is a view subset of {source.name}. {exc}") from None
    views, labels, origins, label_origin = _read_views(source, files)
    _check_schema(source, views, labels, origins, label_origin)
    view_names = list(source.view_names or (f"view{i + 1}" for i in range(len(views))))
    if entry.subset_of:
        idx = parent_view_indices(entry, source)
        views, origins, view_names = [views[i] for i in idx], [origins[i] for i in idx], [view_names[i] for i in idx]
        _check_schema(entry, views, labels, origins, label_origin)
    return Dataset(name=entry.name, views=views, labels=_zero_based(labels), n_clusters=int(entry.clusters),
                   view_names=list(entry.view_names or view_names), scaling=str(entry.scaling))


# ----------------------------------------------------------------------------------------------- image sets


def read_manifest(path: Path) -> list[tuple[str, str]]:
    """(sha256, relative path) pairs of a `sha256sum` listing (paths may hold spaces; a leading './' is dropped)."""
    pairs = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        digest, sep, rel = line[:64], line[64:66], line[66:]
        if sep not in ("  ", " *") or len(digest) != 64 or not rel:
            raise DataSchemaError(f"{path}, line {number}: not a `sha256sum` line: {line!r}")
        pairs.append((digest.lower(), rel[2:] if rel.startswith("./") else rel))
    return pairs


def verify_manifest_dir(entry: DatasetEntry, directory: Path) -> list[str]:
    """Check `directory`/MANIFEST.sha256 against the registry, then every file it lists; return the listed paths."""
    manifest = directory / MANIFEST_NAME
    spec = entry.files[0]
    if not manifest.is_file():
        raise unavailable(entry, manifest)
    if sha256_file(manifest) != spec.sha256:
        raise DataSchemaError(f"{entry.name}: sha256 mismatch for {manifest}: the registry says {spec.sha256} "
                              f"(a different or edited manifest); re-fetch with {fetch_hint(entry.name)}")
    return verify_listed(entry, directory)


def verify_listed(entry: DatasetEntry, directory: Path) -> list[str]:
    """Check every file `directory`/MANIFEST.sha256 lists against its sha256; return the listed paths."""
    manifest = directory / MANIFEST_NAME
    listed = read_manifest(manifest)
    for digest, rel in listed:
        path = directory / rel
        if not path.is_file():
            raise DataSchemaError(f"{entry.name}: {path} is listed in {manifest} but missing; re-fetch with "
                                  f"{fetch_hint(entry.name)}")
        if sha256_file(path) != digest:
            raise DataSchemaError(f"{entry.name}: sha256 mismatch for {path} (listed in {MANIFEST_NAME}); the file "
                                  f"is corrupted: re-fetch with {fetch_hint(entry.name)}")
    return [rel for _, rel in listed]


def verify_image_manifest(name: str, data_dir: str | os.PathLike | None = None) -> list[str]:
    """Check an image set: MANIFEST.sha256 against the registry, then every listed file; returns the listed paths."""
    entry = get_entry(name)
    if entry.kind != "images":
        raise DataSchemaError(f"{entry.name} is not an image set: use load_dataset({entry.name!r})")
    if not entry.files:
        raise unavailable(entry, None)
    return verify_manifest_dir(entry, paths.data_dir(data_dir) / str(entry.directory))


def _cmuface_labels(rel: str, resolution: int) -> dict[str, str] | None:
    """Labels from faces/<user>/<user>_<pose>_<expression>_<eyes>[_<scale>].pgm, or None if not at `resolution`."""
    if not rel.endswith(".pgm"):
        return None
    parts = Path(rel).stem.split("_")
    scale = int(parts[4]) if len(parts) == 5 else 1
    if scale != resolution or len(parts) not in (4, 5):
        return None
    return {"identity": parts[0], "pose": parts[1], "emotion": parts[2], "glasses": parts[3]}


def _cifar_labels(rel: str, entry: DatasetEntry) -> dict[str, str] | None:
    """Labels of test/<class>/<n>.jpg through the registry's class -> type / environment maps."""
    parts = Path(rel).parts
    if len(parts) != 3 or not rel.endswith(".jpg"):
        return None
    return {key: (c.map or {}).get(parts[1], parts[1]) for key, c in entry.clusterings.items()}


def _card_labels(rel: str) -> dict[str, str] | None:
    """Labels of <split>/<rank> of <suit>/<n>.jpg."""
    parts = Path(rel).parts
    if len(parts) != 3 or not rel.endswith(".jpg"):
        return None
    rank, _, suit = parts[1].partition(" of ")
    return {"order": rank, "suits": suit}


def load_image_dataset(name: str, data_dir: str | os.PathLike | None = None, resolution: int | None = None,
                       verify: bool = True) -> ImageDataset:
    """Image paths of a registered image set and its label arrays, one per clustering (class order = registry).

    CMUface: `resolution` picks 4 (32x30, the default), 2 (64x60) or 1 (128x120). The quarter-resolution set is the
    default because it is complete in the same way as the half-resolution one (624 shots; the full-resolution one
    mixes 633 shots with 7 glitched `.bad` files), it is the version classically used with this data (Mitchell's
    face exercises), and CLIP resizes every image to 224 px anyway. Which resolution the papers used is not stated.
    CIFAR-10: the class -> environment (land/air/water) map is in data/registry.yaml and is our choice (frog -> land).
    `verify=True` checks every image's sha256 against MANIFEST.sha256 (cached per file, so a second call is fast).
    """
    entry = get_entry(name)
    if entry.kind != "images":
        raise DataSchemaError(f"{entry.name} is not an image set: use load_dataset({entry.name!r})")
    if resolution is not None and entry.name != "CMUface":
        raise ValueError(f"resolution applies to CMUface only, not {entry.name}")
    root = paths.data_dir(data_dir)
    if not entry.files:
        return load_user_images(entry, root)
    manifest = check_file(entry, entry.files[0], root)
    listed = verify_image_manifest(entry.name, root) if verify else [rel for _, rel in read_manifest(manifest)]
    parsers: dict[str, Callable[[str], dict[str, str] | None]] = {
        "CMUface": lambda rel: _cmuface_labels(rel, resolution or 4),
        "CIFAR-10": lambda rel: _cifar_labels(rel, entry),
        "Card": _card_labels,
    }
    if entry.name not in parsers:
        raise DataSchemaError(f"{entry.name}: no label parser is written for this image set yet")
    found = sorted((rel, lab) for rel in listed if (lab := parsers[entry.name](rel)) is not None)
    if not found:
        raise DataSchemaError(f"{entry.name}: no images found in {manifest} (resolution {resolution})")
    return _image_dataset(entry, manifest.parent, found)


def _image_dataset(entry: DatasetEntry, root: Path, found: list[tuple[str, dict[str, str]]]) -> ImageDataset:
    """The ImageDataset of (relative path, {clustering: class name}) pairs: class indices in the registry's order
    (sorted names where the registry does not list the classes); a name the registry does not list is an error."""
    labels, class_names = {}, {}
    for key, clustering in entry.clusterings.items():
        values = [lab[key] for _, lab in found]
        classes = list(clustering.classes or sorted(set(values)))
        unknown = sorted(set(values) - set(classes))
        if unknown:
            raise DataSchemaError(f"{entry.name}: {key} labels {unknown} are not in the registry's classes {classes}")
        index = {c: i for i, c in enumerate(classes)}
        labels[key] = np.array([index[v] for v in values], dtype=np.int64)
        class_names[key] = classes
    return ImageDataset(name=entry.name, root=root, paths=[root / rel for rel, _ in found], labels=labels,
                        class_names=class_names)


def user_images_help(entry: DatasetEntry, directory: Path) -> str:
    return (f"{entry.name} has no public copy: put its images under {directory}/ with {USER_LABELS} (a `path` column "
            f"relative to that folder, then one column per clustering: {', '.join(entry.clusterings)}) and "
            f"{MANIFEST_NAME} (`sha256sum` of every other file there, {USER_LABELS} included). How to obtain the "
            f"images: {describe_source(entry)}")


def read_user_labels(entry: DatasetEntry, path: Path) -> list[tuple[int, dict[str, str]]]:
    """labels.csv's rows with the line each ends on: a `path` column and one per clustering, at least one row, each
    image once (a repeated path would load one file twice; a header alone would give an empty set)."""
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        rows = [(reader.line_num, row) for row in reader]
        columns = reader.fieldnames or []
    missing = [c for c in ("path", *entry.clusterings) if c not in columns]
    if missing:
        raise DataSchemaError(f"{entry.name}: {USER_LABELS} lacks the column(s) {missing}. "
                              + user_images_help(entry, path.parent))
    if not rows:
        raise DataSchemaError(f"{entry.name}: {path} has its header on line 1 and no row after it: list one row per "
                              f"image (path, {', '.join(entry.clusterings)}).")
    first_line: dict[str, int] = {}
    for line, row in rows:
        if row["path"] in first_line:
            raise DataSchemaError(f"{entry.name}: {path} line {line} names {row['path']} again (first on line "
                                  f"{first_line[row['path']]}): list each image once.")
        first_line[row["path"]] = line
    return rows


def load_user_images(entry: DatasetEntry, root: Path) -> ImageDataset:
    """An image set a user supplies (no public file to register): <data dir>/<directory>/ with labels.csv and
    MANIFEST.sha256; every listed file is checked against its sha256 (the manifest itself cannot be checked against the
    registry, having no public original), labels.csv must be listed and name only listed images (read_user_labels)."""
    directory = root / str(entry.directory)
    if not (directory / MANIFEST_NAME).is_file() or not (directory / USER_LABELS).is_file():
        raise DatasetUnavailable(user_images_help(entry, directory))
    listed = set(verify_listed(entry, directory))
    if USER_LABELS not in listed:
        raise DataSchemaError(f"{entry.name}: {USER_LABELS} is not listed in {directory / MANIFEST_NAME}; "
                              f"rewrite the manifest with sha256sum over every file")
    rows = [row for _, row in read_user_labels(entry, directory / USER_LABELS)]
    unlisted = sorted({row["path"] for row in rows} - listed)
    if unlisted:
        raise DataSchemaError(f"{entry.name}: {USER_LABELS} names images not in {MANIFEST_NAME}: {unlisted[:3]}")
    found = sorted((row["path"], {c: row[c] for c in entry.clusterings}) for row in rows)
    return _image_dataset(entry, directory, found)
