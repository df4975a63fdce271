"""One trainer for every deep method."""

from .trainer import DeepClusterer, Stage, resolve_device

__all__ = ["DeepClusterer", "Stage", "resolve_device"]
