"""Training procedures as components a model declares.

A model's procedure beyond one optimizer step per batch lives here, not in
an overridden `fit`: `MSAModel.training_callbacks()` returns these
components and `MSAModel.fit` runs them before the caller's callbacks.

Vocabulary: MMIM's *two-stage fit* (Han et al., EMNLP 2021, §3.4) runs
*stage one* (the likelihood critics alone, `stage_one_*` names) at every
epoch start, then *stage two* (everything else, the main `fit` epoch).
"""

from msakeras.training.epoch_start_reset import EpochStartReset
from msakeras.training.maximize_output import MaximizeOutput
from msakeras.training.stage_one import StageOne
from msakeras.training.two_stage_fit import TwoStageFit
