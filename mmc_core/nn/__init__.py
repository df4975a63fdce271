"""Network blocks shared by every deep method: MLPs, per-view encoder/decoder stacks, the DDC cluster head, view
fusions, neighbourhood graphs and the multi-level autoencoder of the MFLVC family."""

from .autoencoders import MultiLevelAutoencoder
from .blocks import DDCHead, ViewDecoders, ViewEncoders, mlp
from .fusion import SampleAttentionFusion, ViewAttentionFusion, WeightedMeanFusion
from .graphs import dense_adjacency, knn_graph, normalized_adjacency, symmetric_knn

__all__ = ["DDCHead", "MultiLevelAutoencoder", "SampleAttentionFusion", "ViewAttentionFusion", "ViewDecoders",
           "ViewEncoders", "WeightedMeanFusion", "dense_adjacency", "knn_graph", "mlp", "normalized_adjacency",
           "symmetric_knn"]
