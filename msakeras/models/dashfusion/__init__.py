"""DashFusion (Wen et al., TNNLS 2025): model, layers, hyperparameters."""

from msakeras.models.dashfusion.dashfusion_hyperparameters import (
    DASHFUSION_HYPERPARAMETERS,
)
from msakeras.models.dashfusion.dashfusion_hyperparameters import (
    LinearWarmupLinearDecay,
)
from msakeras.models.dashfusion.dashfusion_hyperparameters import (
    make_dashfusion_optimizer,
)
from msakeras.models.dashfusion.dashfusion_model import DashFusionModel
