"""Datasets: the registry (data/registry.yaml), verified loaders, and `make data` (mmc_core.data.fetch).

    >>> from mmc_core.data import load_dataset, list_datasets
    >>> ds = load_dataset("Event")          # files checked against the registry's sha256, then the schema
    >>> ds.n_samples, ds.dims, ds.n_clusters
    (1579, [1000, 1000, 1000], 8)

The data directory is `$MMC_DATA_DIR`, else <project>/data/raw (see mmc_core.paths.data_dir).
"""

from mmc_core.data.loaders import (
    Dataset, ImageDataset, load_dataset, load_image_dataset, read_manifest, verify_image_manifest,
)
from mmc_core.data.registry import (
    DatasetEntry, DatasetUnavailable, DataSchemaError, UnknownDatasetError, canonical_name, get_entry,
    how_to_obtain, list_datasets, load_registry,
)

__all__ = [
    "Dataset", "DatasetEntry", "DatasetUnavailable", "DataSchemaError", "ImageDataset", "UnknownDatasetError",
    "canonical_name", "get_entry", "how_to_obtain", "list_datasets", "load_dataset", "load_image_dataset",
    "load_registry", "read_manifest", "verify_image_manifest",
]
