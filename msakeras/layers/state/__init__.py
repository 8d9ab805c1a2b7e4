"""Non-gradient state layers: per-epoch memories, per-sample label tables."""

from msakeras.layers.state.batch_history_memory import BatchHistoryMemory
from msakeras.layers.state.unimodal_label_generator import (
    UnimodalLabelGenerator,
)

__all__ = ["BatchHistoryMemory", "UnimodalLabelGenerator"]
