"""Loss terms shared by the deep methods, each written once."""

from .clustering import cluster_balance, reconstruction_mse, sinkhorn_targets, soft_target_cross_entropy
from .contrastive import info_nce, nt_xent
from .ddc import ddc_terms, gaussian_kernel
from .divergence import weighted_kl
from .information import (NeuralMIEstimator, gaussian_channel_information, iic_mutual_information,
                          infonce_mutual_information)

__all__ = ["NeuralMIEstimator", "cluster_balance", "ddc_terms", "gaussian_channel_information", "gaussian_kernel",
           "iic_mutual_information", "info_nce", "infonce_mutual_information", "nt_xent", "reconstruction_mse",
           "sinkhorn_targets", "soft_target_cross_entropy", "weighted_kl"]
