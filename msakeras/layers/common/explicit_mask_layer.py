"""Base class for layers whose `mask` call argument is explicit data."""

import keras


class ExplicitMaskLayer(keras.layers.Layer):
    """A `Layer` whose `mask` call argument is an explicit input.

    msakeras passes `(batch, steps)` masks as ordinary call arguments and
    never uses Keras implicit masking. Keras still treats a `mask` argument
    as an implicit mask: without `supports_masking` it warns that the mask
    is destroyed. This base accepts it silently and attaches no mask to the
    outputs. Not registered: subclass it.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def compute_mask(self, inputs, previous_mask):
        return None
