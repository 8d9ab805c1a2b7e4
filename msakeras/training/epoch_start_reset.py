"""`EpochStartReset`: empties per-epoch state layers at every epoch start."""

import keras


class EpochStartReset(keras.callbacks.Callback):
    """Calls `reset()` on each of `layers` at the start of every epoch.

    For state that lives one epoch, such as the batch-history memories of
    MMIM's BA entropy (`BatchHistoryMemory`: the official loop empties
    them every epoch, so batch 0 computes no `H` and batch 1 computes but
    does not add it; Han et al., EMNLP 2021, eq. 6).

    Args:
        layers: layers with a `reset()` method.
    """

    def __init__(self, layers):
        super().__init__()
        self.layers = list(layers)

    def on_epoch_begin(self, epoch, logs=None):
        for layer in self.layers:
            layer.reset()
