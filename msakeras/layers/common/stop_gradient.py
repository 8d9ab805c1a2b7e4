"""`StopGradient`: `ops.stop_gradient` as a layer."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="msakeras")
class StopGradient(keras.layers.Layer):
    """Identity in the forward pass, no gradient backwards.

    Self-MI stops the gradient of `L_gen` into the fusion representation
    `Z^m` (`docs/models/self_mi.md` DECISION): the ULG_MI generator reads
    `G^s(stop_gradient(Z^m))`. MMIM's stage-1 view with
    `stage_one_gradients="critics"` stops the gradients at the critics'
    inputs (paper §3.4: stage 1 trains the critics alone).

    Call arguments:
        inputs: any tensor.

    Returns:
        `inputs`, detached from the gradient tape.

    Example:

    ```python
    detached = msakeras.layers.StopGradient()(features)
    ```
    """

    def call(self, inputs):
        return ops.stop_gradient(inputs)

    def compute_output_shape(self, input_shape):
        return input_shape
