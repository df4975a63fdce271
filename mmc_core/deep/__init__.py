"""The deep-method engine: the trainer, the contract a deep method fulfils (mmc_core.deep.engine), and shared
training blocks (K-means readout, pseudo-label fine-tuning). Imports nothing from mmc_core.methods."""

from .engine import Batch, DeepClusterer, Stage, index_batches, resolve_device, split_epochs
from .readout import KMeansReadout, student_t

__all__ = ["Batch", "DeepClusterer", "KMeansReadout", "Stage", "index_batches", "resolve_device", "split_epochs",
           "student_t"]
