"""MMIM: MultiModal InfoMax (Han et al., EMNLP 2021)."""

from msakeras.layers.common.stop_gradient import StopGradient
from msakeras.models.mmim.mmim_model import MMIMModel
from msakeras.training.maximize_output import MaximizeOutput
