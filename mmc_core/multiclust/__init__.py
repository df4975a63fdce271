"""Personalized multiple clustering (Multi-DProxy and its baselines) on frozen image and text features."""

from .evaluation import kmeans_scores, partition_scores
from .task import ConceptTask

__all__ = ["ConceptTask", "kmeans_scores", "partition_scores"]
