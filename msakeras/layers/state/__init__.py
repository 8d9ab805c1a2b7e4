"""msakeras.layers.state."""

from msakeras.layers.state.batch_history_memory import BatchHistoryMemory

__all__ = ["BatchHistoryMemory"]
