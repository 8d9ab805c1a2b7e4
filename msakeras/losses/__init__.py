"""Parameter-free objectives: a per-sample function and a Loss class each."""

from msakeras.losses.gaussian_entropy import class_conditional_gaussian_entropy
from msakeras.losses.info_nce import InfoNCE
from msakeras.losses.info_nce import info_nce
