"""`BatchHistoryMemory`: MMIM's per-epoch history memory
(docs/building_blocks.md)."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="msakeras")
class BatchHistoryMemory(keras.layers.Layer):
    """Rows of the previous batch kept for the next batch's statistics.

    MMIM estimates each class's Gaussian (paper eq. 5) from the current
    batch plus a history memory of earlier batches of the same epoch,
    without which training diverged (paper §5.2 ablation). This layer
    holds that memory as non-trainable weights so it is saved with the
    model and updated inside a compiled train step on any backend:

    - `vectors` `(capacity, dim)`: stored (detached) vectors,
    - `class_weights` `(capacity, num_classes)`: class membership of each
      stored row (an all-zero row is empty or belongs to no class),
    - `batch_counter` int32 scalar: batches seen this epoch.

    `write` replaces the stored rows with the current batch's rows
    (official `mem_size=1`: only the previous batch is kept). A batch with
    more than `capacity` rows keeps its first `capacity` rows; a smaller
    one leaves the remaining rows empty (zero weights). The official
    memory stores only the positive and negative rows; here every row is
    stored and zero-labelled rows carry zero weights, which gives the same
    statistics. GAP: `mem_size > 1` (a FIFO of several batches) is not
    implemented. Under data parallelism the model writes the gathered
    global batch, the same on every replica (the variables aggregate as
    `"only_first_replica"`). The model calls `reset()` at the start of
    every epoch (the official memory is emptied per epoch) and
    `increment()` once per batch; `batch_counter` tells it which batches
    skip the entropy term.

    The layer is used through these methods; `call` returns its input
    unchanged and exists so that calling the layer on a `(batch, dim)`
    tensor in a functional graph builds and tracks it. Alternatively call
    `build((None, dim))` and assign it as a model attribute. Variables are
    created in `build`, so build before the first traced step.

    Args:
        capacity: int. Number of stored rows, e.g. `batch_size * mem_size`.
            Defaults to `128`.
        num_classes: int. Number of classes (columns of `class_weights`).
            Defaults to `2` (MMIM: positive, negative).

    Call arguments:
        inputs: float `(batch, dim)`. Returned unchanged.

    Example:

    ```python
    memory = BatchHistoryMemory(capacity=32, name="visual_memory")
    memory.build((None, 4))
    history, history_weights = memory.read()
    memory.write(projection, membership)  # after computing the loss
    memory.increment()
    ```

    Reference:
        Han et al., EMNLP 2021, §3.4 and Algorithm 1,
        https://arxiv.org/abs/2109.00412
    """

    def __init__(self, capacity=128, num_classes=2, **kwargs):
        super().__init__(**kwargs)
        if capacity < 1 or num_classes < 1:
            raise ValueError(
                "`capacity` and `num_classes` must be at least 1; received "
                f"capacity={capacity}, num_classes={num_classes}."
            )
        self.capacity = capacity
        self.num_classes = num_classes

    def build(self, input_shape):
        dim = input_shape[-1]
        if dim is None:
            raise ValueError(
                f"The vector width must be known; received {input_shape}."
            )
        self.dim = dim
        self.vectors = self.add_weight(
            shape=(self.capacity, dim),
            initializer="zeros",
            trainable=False,
            aggregation="only_first_replica",
            name="vectors",
        )
        self.class_weights = self.add_weight(
            shape=(self.capacity, self.num_classes),
            initializer="zeros",
            trainable=False,
            aggregation="only_first_replica",
            name="class_weights",
        )
        self.batch_counter = self.add_weight(
            shape=(),
            initializer="zeros",
            dtype="int32",
            trainable=False,
            aggregation="only_first_replica",
            name="batch_counter",
        )
        self.built = True

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def read(self):
        """Returns the stored `(vectors, class_weights)`, detached."""
        return (
            ops.stop_gradient(ops.convert_to_tensor(self.vectors)),
            ops.stop_gradient(ops.convert_to_tensor(self.class_weights)),
        )

    def write(self, vectors, class_weights):
        """Replaces the stored rows with the (detached) rows of a batch."""
        if vectors.shape[-1] is not None and vectors.shape[-1] != self.dim:
            raise ValueError(
                f"Expected vectors of width {self.dim}; received "
                f"{tuple(vectors.shape)}."
            )
        if (
            class_weights.shape[-1] is not None
            and class_weights.shape[-1] != self.num_classes
        ):
            raise ValueError(
                f"Expected class weights of width {self.num_classes}; "
                f"received {tuple(class_weights.shape)}."
            )
        self.vectors.assign(self._fit_rows(vectors, self.vectors))
        self.class_weights.assign(
            self._fit_rows(class_weights, self.class_weights)
        )

    def _fit_rows(self, rows, variable):
        # Pad with empty rows, then keep the first `capacity`: no Python
        # branch on the (possibly unknown) batch size.
        rows = ops.stop_gradient(ops.cast(rows, variable.dtype))
        padding = ops.zeros(variable.shape, dtype=variable.dtype)
        padded = ops.concatenate([rows, padding], axis=0)
        return ops.slice(padded, (0, 0), variable.shape)

    def increment(self):
        """Adds one to `batch_counter`."""
        self.batch_counter.assign(
            self.batch_counter + ops.ones((), dtype="int32")
        )

    def reset(self):
        """Empties the memory and zeroes `batch_counter`."""
        # `ops.zeros(shape)`: JAX's `zeros_like` rejects a Keras variable.
        self.vectors.assign(ops.zeros(self.vectors.shape, self.vectors.dtype))
        self.class_weights.assign(
            ops.zeros(self.class_weights.shape, self.class_weights.dtype)
        )
        self.batch_counter.assign(ops.zeros((), dtype="int32"))

    def get_config(self):
        return {
            **super().get_config(),
            "capacity": self.capacity,
            "num_classes": self.num_classes,
        }
