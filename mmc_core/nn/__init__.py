"""Network blocks shared by every deep method: MLPs, per-view encoder/decoder stacks, the DDC cluster head and
the weighted-mean fusion."""

from .blocks import DDCHead, ViewDecoders, ViewEncoders, WeightedMeanFusion, mlp

__all__ = ["DDCHead", "ViewDecoders", "ViewEncoders", "WeightedMeanFusion", "mlp"]
