"""Loss terms shared by the deep methods, each written once."""

from .contrastive import info_nce, nt_xent
from .ddc import ddc_terms, gaussian_kernel
from .divergence import weighted_kl

__all__ = ["ddc_terms", "gaussian_kernel", "info_nce", "nt_xent", "weighted_kl"]
