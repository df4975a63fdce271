"""Frozen CLIP encoders (open_clip) for Multi-DProxy, and their cached features; see clip.py and features.py."""

from mmc_core.encoders.clip import KNOWN_WEIGHTS, ClipEncoder, WeightsUnavailable, WeightsUnreadable, load_encoder
from mmc_core.encoders.features import image_features, text_features

__all__ = ["KNOWN_WEIGHTS", "ClipEncoder", "WeightsUnavailable", "WeightsUnreadable", "image_features", "load_encoder",
           "text_features"]
