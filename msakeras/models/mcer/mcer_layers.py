"""Blocks used only by MCER (registered, not re-exported)."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="msakeras")
class ZeroPerSample(keras.layers.Layer):
    """`(batch,)` float zeros, one per sample of the input (no gradient).

    MCER's stage-one model (`MCERModel.stage_one_model`, MMIM's
    two-stage fit) must accept the training batches, which carry `index`; this
    layer connects that input to the output with value zero.

    Call arguments:
        inputs: any tensor with a batch axis.

    Returns:
        float32 `(batch,)` zeros.
    """

    def call(self, inputs):
        return ops.zeros(ops.shape(inputs)[:1], dtype="float32")

    def compute_output_shape(self, inputs_shape):
        return (inputs_shape[0],)
