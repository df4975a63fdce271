"""Frozen CLIP features, computed once per (inputs, encoder) and cached, so that K-means seeds and repeated runs never
re-encode.

Layout under the results directory (mmc_core.paths.results_dir()):
    features/<dataset>[_r<resolution>]/<encoder.id>.npy     image features, rows in load_image_dataset's order
    features/texts/<sha256 of the texts, 16 hex>/<encoder.id>.npy     text features, rows in the list's order
Each array has a JSON sidecar (<encoder.id>.json: model, weights id, count, sha256 of the inputs, and the sha256 of the
array file itself), written before the array, and each file is written atomically. A cached array is used only when
its sidecar records exactly what would be computed now (otherwise FeatureCacheMismatch names the file to delete) and
the file is the one written then: an array edited, truncated or damaged since (or cached before its checksum was
recorded) is recomputed with a FeatureCacheWarning naming it. An encoder with random weights has its own id
(`<model>@random`), so its features are cached apart and never stand in for real ones.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import warnings
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from mmc_core import paths
from mmc_core.data.loaders import load_image_dataset
from mmc_core.encoders.clip import ClipEncoder
from mmc_core.io import NotJsonObject, atomic_write, atomic_write_json, ensure_writable_dir, read_json_object


ARRAY_SHA256 = "array_sha256"  # the sidecar's checksum of the .npy file's bytes


class FeatureCacheMismatch(RuntimeError):
    """A cached feature file does not record the inputs or encoder asked for now (the message names it)."""


class FeatureCacheWarning(UserWarning):
    """A cached feature file is not the one its sidecar records, so it is recomputed (the message names it)."""


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
    """The array at `path` if its sidecar holds `record` and the array's sha256, and it has `shape`; else compute it,
    write the sidecar (with the new array's sha256), then the array (an interrupted write leaves a sidecar without an
    array: a cache miss, not a stale hit)."""
    sidecar = path.with_suffix(".json")
    if path.is_file():
        stored = _read_sidecar(path, sidecar)
        _check(path, sidecar, record, stored)
        data = path.read_bytes()
        if stored.get(ARRAY_SHA256) == _sha256(data):
            features = np.load(io.BytesIO(data), allow_pickle=False)
            if features.shape == shape:
                return features
            raise FeatureCacheMismatch(f"The cached features {path} are not those asked for (the array's shape "
                                       f"{features.shape} is not {shape}: count, the encoder's embed_dim). Delete "
                                       f"{path} and {sidecar.name} next to it, then run again to recompute them.")
        why = ("its sidecar records no checksum of it (cached by an older version)" if ARRAY_SHA256 not in stored
               else "it was edited, truncated or damaged since it was written (its sha256 is not the one its sidecar "
                    "records)")
        warnings.warn(f"The cached features {path} are not used: {why}. They are computed again and replace it.",
                      FeatureCacheWarning, stacklevel=3)
    ensure_writable_dir(path.parent, "set MMC_RESULTS_DIR to a writable directory")
    data = _npy_bytes(compute())
    atomic_write_json(sidecar, {**record, ARRAY_SHA256: _sha256(data)})
    atomic_write(path, lambda tmp: tmp.write_bytes(data))
    return np.load(io.BytesIO(data), allow_pickle=False)


def _read_sidecar(path: Path, sidecar: Path) -> dict[str, Any]:
    """The sidecar's record; FeatureCacheMismatch naming both files if it is missing or cannot be read."""
    fix = f"Delete {path} and {sidecar.name} next to it, then run again to recompute them."
    if not sidecar.is_file():
        raise FeatureCacheMismatch(f"The cached features {path} are not those asked for (its sidecar {sidecar.name} "
                                   f"is missing). {fix}")
    try:
        return read_json_object(sidecar)
    except NotJsonObject as err:
        problem = f"cannot be read ({err.cause})" if err.cause is not None else "is not a JSON object"
        raise FeatureCacheMismatch(f"The sidecar {sidecar} of the cached features {path} {problem}. {fix}") from None


def _check(path: Path, sidecar: Path, record: dict[str, Any], stored: dict[str, Any]) -> None:
    """FeatureCacheMismatch naming `path` unless the sidecar's record (`stored`, less the array's checksum) is
    `record`: what would be computed now."""
    recorded = {k: v for k, v in stored.items() if k != ARRAY_SHA256}
    if recorded == record:
        return
    differ = sorted(k for k in record.keys() | recorded.keys() if record.get(k) != recorded.get(k))
    raise FeatureCacheMismatch(f"The cached features {path} are not those asked for (its sidecar records other "
                               f"{', '.join(differ)}). Delete {path} and {sidecar.name} next to it, then run again "
                               f"to recompute them.")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _npy_bytes(features: np.ndarray) -> bytes:
    """The .npy file of the features as float32, in memory (its sha256 goes into the sidecar, written first)."""
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(features, dtype=np.float32))
    return buffer.getvalue()
