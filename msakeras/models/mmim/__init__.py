"""MMIM: MultiModal InfoMax (Han et al., EMNLP 2021)."""

from msakeras.models.mmim.mmim_model import MMIMModel
from msakeras.models.mmim.mmim_training import MaximizeOutput
from msakeras.models.mmim.mmim_training import MMIMTwoStageCallback
from msakeras.models.mmim.mmim_training import StopGradient
