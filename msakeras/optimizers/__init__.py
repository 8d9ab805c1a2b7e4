"""Optimizers with the PyTorch semantics the reference code relies on."""

from msakeras.optimizers.coupled_l2_adam import CoupledL2Adam
from msakeras.optimizers.global_clip_multi_optimizer import (
    GlobalClipMultiOptimizer,
)
from msakeras.optimizers.global_clip_multi_optimizer import (
    clip_by_global_norm_like_torch,
)
from msakeras.optimizers.variable_patterns import variables_pattern
