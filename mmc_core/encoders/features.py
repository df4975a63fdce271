"""Frozen CLIP features, computed once per (inputs, encoder) and cached, so that K-means seeds and repeated runs never
re-encode.

Layout under the results directory (mmc_core.paths.results_dir()):
    features/<dataset>[_r<resolution>]/<encoder.id>.npy     image features, rows in load_image_dataset's order
    features/texts/<sha256 of the texts, 16 hex>/<encoder.id>.npy     text features, rows in the list's order
Each array has a JSON sidecar (<encoder.id>.json: model, weights id, count, sha256 of the inputs), written before the
array, and each file is written atomically. A cached array is used only when its sidecar records exactly what would be
computed now; otherwise FeatureCacheMismatch names the file to delete. An encoder with random weights has its own id
(`<model>@random`), so its features are cached apart and never stand in for real ones.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from mmc_core import paths
from mmc_core.data.loaders import load_image_dataset
from mmc_core.encoders.clip import ClipEncoder
from mmc_core.io import atomic_write, atomic_write_json, ensure_writable_dir


class FeatureCacheMismatch(RuntimeError):
    """A cached feature file does not record the inputs or encoder asked for now (the message names it)."""


def features_dir() -> Path:
    return paths.results_dir() / "features"


def image_features(dataset: str, encoder: ClipEncoder, data_dir: str | os.PathLike | None = None,
                   resolution: int | None = None, progress: bool = True) -> np.ndarray:
    """(n_images, embed_dim) unit-norm features of a registered image set, rows in load_image_dataset's order."""
    images = load_image_dataset(dataset, data_dir, resolution)
    relative = [p.relative_to(images.root).as_posix() for p in images.paths]
    record = {"dataset": images.name, "resolution": resolution, "model": encoder.model_name,
              "weights_id": encoder.weights_id, "n_images": len(relative), "image_paths_sha256": _sha256_json(relative)}
    folder = images.name + (f"_r{resolution}" if resolution is not None else "")
    return _cached(features_dir() / folder / f"{encoder.id}.npy", record, (len(relative), encoder.embed_dim),
                   lambda: encoder.encode_images(images.paths, progress=progress))


def text_features(texts: Sequence[str], encoder: ClipEncoder) -> np.ndarray:
    """(n_texts, embed_dim) unit-norm features of `texts`, rows in their order."""
    texts = list(texts)
    digest = _sha256_json(texts)
    record = {"model": encoder.model_name, "weights_id": encoder.weights_id, "n_texts": len(texts),
              "texts_sha256": digest, "texts": texts}
    return _cached(features_dir() / "texts" / digest[:16] / f"{encoder.id}.npy", record,
                   (len(texts), encoder.embed_dim), lambda: encoder.encode_texts(texts))


def _sha256_json(items: list[str]) -> str:
    """sha256 of a list of strings, encoded unambiguously (as JSON: a newline inside an item cannot fake a split)."""
    return hashlib.sha256(json.dumps(items, ensure_ascii=False).encode("utf-8")).hexdigest()


def _cached(path: Path, record: dict[str, Any], shape: tuple[int, int],
            compute: Callable[[], np.ndarray]) -> np.ndarray:
    """The array at `path` if its sidecar holds `record` and it has `shape`; else compute it, write the sidecar, then
    the array (an interrupted write leaves a sidecar without an array: a cache miss, not a stale hit)."""
    sidecar = path.with_suffix(".json")
    if path.is_file():
        features = np.load(path)
        _check(path, sidecar, record, features.shape == shape)
        return features
    ensure_writable_dir(path.parent, "set MMC_RESULTS_DIR to a writable directory")
    features = compute()
    atomic_write_json(sidecar, record)
    atomic_write(path, lambda tmp: _save(tmp, features))
    return features


def _check(path: Path, sidecar: Path, record: dict[str, Any], shape_ok: bool) -> None:
    """FeatureCacheMismatch naming `path` unless `sidecar` holds `record` and the array has the expected shape."""
    recorded = json.loads(sidecar.read_text(encoding="utf-8")) if sidecar.is_file() else None
    if recorded == record and shape_ok:
        return
    if recorded is None:
        why = f"its sidecar {sidecar.name} is missing"
    elif recorded != record:
        differ = sorted(k for k in record.keys() | recorded.keys() if record.get(k) != recorded.get(k))
        why = f"its sidecar records other {', '.join(differ)}"
    else:
        why = "the array's shape is not (count, the encoder's embed_dim)"
    raise FeatureCacheMismatch(f"The cached features {path} are not those asked for ({why}). Delete {path} and "
                               f"{sidecar.name} next to it, then run again to recompute them.")


def _save(tmp: Path, features: np.ndarray) -> None:
    with open(tmp, "wb") as handle:  # a file object: np.save given a path would append ".npy" to the temporary name
        np.save(handle, np.ascontiguousarray(features, dtype=np.float32))
