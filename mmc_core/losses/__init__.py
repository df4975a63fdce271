"""Loss terms shared by the deep methods, each written once."""

from .contrastive import info_nce, nt_xent
from .ddc import ddc_terms, gaussian_kernel
from .divergence import weighted_kl
from .information import (NeuralMIEstimator, gaussian_channel_information, iic_mutual_information,
                          infonce_mutual_information)

__all__ = ["NeuralMIEstimator", "ddc_terms", "gaussian_channel_information", "gaussian_kernel",
           "iic_mutual_information", "info_nce", "infonce_mutual_information", "nt_xent", "weighted_kl"]
