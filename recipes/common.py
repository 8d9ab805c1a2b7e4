"""What every recipe does first, and the run library under its old names.

A recipe imports this module before `msakeras`: under torch or JAX nothing
in a training process needs TensorFlow (export runs in a child), so it is
kept out (`msakeras.backend.tensorflow_guard`; ~0.66 GB resident and ~3.6 s
of start-up; `--tensorboard` lets it back in), and the frameworks' native
log noise is turned off before Keras loads one (`msakeras._framework_logs`).

The run library itself lives in `msakeras.experiment` (one job per module:
`recipe_arguments`, `run_settings`, `device_settings`, `run_data`,
`run_callbacks`, `seed_loop`, `checkpoint_scoring`, `run_records`,
`run_results`, `best_seed_export`); the names below keep older scripts working.
"""

import os

os.environ.setdefault("MSAKERAS_KEEP_TENSORFLOW_OUT", "1")

from msakeras import _framework_logs  # noqa: E402

_framework_logs.set_quiet_defaults()  # also when imported by a script

# Compatibility names (benchmarks/throughput.py and older scripts).
from msakeras.experiment.best_seed_export import best_validation_seed  # noqa: E402, F401
from msakeras.experiment.best_seed_export import export_models  # noqa: E402, F401
from msakeras.experiment.checkpoint_scoring import checkpoint_evaluator  # noqa: E402, F401
from msakeras.experiment.checkpoint_scoring import evaluate_checkpoint  # noqa: E402, F401
from msakeras.experiment.checkpoint_scoring import ridge_baselines  # noqa: E402, F401
from msakeras.experiment.checkpoint_scoring import unimodal_head_scores  # noqa: E402, F401
from msakeras.experiment.device_settings import apply_jit_compile  # noqa: E402, F401
from msakeras.experiment.device_settings import has_gpu  # noqa: E402, F401
from msakeras.experiment.device_settings import resolve_jit_compile  # noqa: E402, F401
from msakeras.experiment.device_settings import set_precision  # noqa: E402, F401
from msakeras.experiment.recipe_arguments import DATASETS  # noqa: E402, F401
from msakeras.experiment.recipe_arguments import DEFAULT_SEEDS  # noqa: E402, F401
from msakeras.experiment.recipe_arguments import base_parser  # noqa: E402, F401
from msakeras.experiment.recipe_arguments import finish_args  # noqa: E402, F401
from msakeras.experiment.run_callbacks import SELECTION  # noqa: E402, F401
from msakeras.experiment.run_callbacks import selection_rule  # noqa: E402, F401
from msakeras.experiment.run_callbacks import standard_callbacks  # noqa: E402, F401
from msakeras.experiment.run_callbacks import tensorboard_callback  # noqa: E402, F401
from msakeras.experiment.run_data import check_data_parallel  # noqa: E402, F401
from msakeras.experiment.run_data import data_parallel  # noqa: E402, F401
from msakeras.experiment.run_data import make_datasets  # noqa: E402, F401
from msakeras.experiment.run_data import make_text_encoder  # noqa: E402, F401
from msakeras.experiment.run_data import test_split  # noqa: E402, F401
from msakeras.experiment.run_records import check_resume_settings  # noqa: E402, F401
from msakeras.experiment.run_records import curves_title  # noqa: E402, F401
from msakeras.experiment.run_records import finished_scores  # noqa: E402, F401
from msakeras.experiment.run_records import logged_history  # noqa: E402, F401
from msakeras.experiment.run_records import plot_curves  # noqa: E402, F401
from msakeras.experiment.run_records import run_directory  # noqa: E402, F401
from msakeras.experiment.run_records import run_record  # noqa: E402, F401
from msakeras.experiment.run_records import write_run_record  # noqa: E402, F401
from msakeras.experiment.run_results import RUN_MANAGEMENT  # noqa: E402, F401
from msakeras.experiment.run_results import results_directory  # noqa: E402, F401
from msakeras.experiment.run_results import update_results_table  # noqa: E402, F401
from msakeras.experiment.run_results import write_results  # noqa: E402, F401
from msakeras.experiment.seed_loop import seal_and_score  # noqa: E402, F401
from msakeras.experiment.seed_loop import train_seeds  # noqa: E402, F401

callbacks = standard_callbacks
