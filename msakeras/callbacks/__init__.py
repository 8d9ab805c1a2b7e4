"""Training callbacks: non-finite loss guard, atomic checkpoints, resume."""

from msakeras.callbacks.atomic_files import atomic_output_path
from msakeras.callbacks.atomic_model_checkpoint import AtomicModelCheckpoint
from msakeras.callbacks.epoch_csv_logger import EpochCSVLogger
from msakeras.callbacks.non_finite_loss_guard import NonFiniteLossError
from msakeras.callbacks.non_finite_loss_guard import NonFiniteLossGuard
from msakeras.callbacks.progress_bar import ProgressBar
from msakeras.callbacks.resumable_backup import ResumableBackup
