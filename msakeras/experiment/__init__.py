"""Experiment workflow: run receipts, validation-only selection, the
held-out test split, paired seed comparisons, robustness and profiles.

The recipes' run library lives here too, one job per module (imported as
modules, not re-exported): `recipe_arguments` (flags, resolved by
`finish_args`), `run_settings` (the typed, read-only `RunSettings` every
other module reads), `device_settings` (precision, `--compile`), `run_data`
(text encoder, splits, data parallelism), `run_callbacks` (standard
callbacks, selection rule), `seed_loop` (build, `train`, seal, test once),
`checkpoint_scoring` (scores, ridge baselines), `run_records` (`run.json`,
resume checks, curves), `run_results` (summary, cross-model table) and
`best_seed_export` (`--export`).
"""

from msakeras.experiment.held_out_test_split import HeldOutTestData
from msakeras.experiment.held_out_test_split import HeldOutTestSplit
from msakeras.experiment.held_out_test_split import TestSplitAccessError
from msakeras.experiment.held_out_test_split import model_inputs
from msakeras.experiment.held_out_test_split import predict_arrays
from msakeras.experiment.modality_robustness import add_noise
from msakeras.experiment.modality_robustness import plot_robustness
from msakeras.experiment.modality_robustness import remove_modality
from msakeras.experiment.modality_robustness import robustness_table
from msakeras.experiment.model_profile import parameter_table
from msakeras.experiment.model_profile import profile_model
from msakeras.experiment.resume_settings import check_or_record
from msakeras.experiment.resume_settings import run_settings
from msakeras.experiment.run_arguments import check_run_arguments
from msakeras.experiment.run_lock import RunLock
from msakeras.experiment.run_lock import RunLockError
from msakeras.experiment.run_lock import hold_run_lock
from msakeras.experiment.run_receipt import RECEIPT_FIELDS
from msakeras.experiment.run_receipt import file_sha256
from msakeras.experiment.run_receipt import git_state
from msakeras.experiment.run_receipt import library_versions
from msakeras.experiment.run_receipt import run_receipt
from msakeras.experiment.seed_comparison import compare_runs
from msakeras.experiment.seed_comparison import load_run_scores
from msakeras.experiment.seed_comparison import paired_statistics
from msakeras.experiment.selection_rule import SealedSelection
from msakeras.experiment.selection_rule import SelectionError
from msakeras.experiment.selection_rule import SelectionRule
