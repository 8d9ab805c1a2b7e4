"""A stack of gated cross-modal transformer layers for one modality pair."""

import keras
from keras import ops

from msakeras.layers.encoders import bigru_mean_pooling
from msakeras.layers.estimators import modality_discriminator
from msakeras.layers.fusion import (
    gated_cross_modal_transformer_layer as _LAYER_MODULE,
)


@keras.saving.register_keras_serializable(package="msakeras")
class GatedCrossModalTransformer(keras.layers.Layer):
    """BBFN's "complementation module" for a pair `(p, q)`, both directions.

    MCER eqs. 10–22 (`docs/building_blocks.md`, `docs/models/mcer.md`). For each
    of `num_layers`
    levels `i`:

    1. control vectors `x_p^i`, `x_q^i` (`(batch, d)`): at level 1 a
       linear map of each modality's summary vector (BBFN); from level 2,
       `BiGRUMeanPooling` (BiGRU over the previous level's output, masked
       mean, directions averaged; MCER eq. 11). DECISION: BBFN's linear
       level-1 control, which saves one BiGRU per modality;
       `first_control="bigru"` runs the BiGRU on the input sequences at
       level 1 too, as MCER eq. 11 states for every level.
    2. a `ModalityDiscriminator` per level on `[x_p^i; x_q^i]` (logits,
       target 0 for `p`, 1 for `q`; the loss is the model's, eq. 21);
    3. two `GatedCrossModalTransformerLayer`s, `p` attending to `q` and
       `q` attending to `p`, each with its query's and context's masks.

    Args:
        num_layers: int. `L`, levels. Defaults to `2` (GAP,
        docs/models/mcer.md).
        num_heads: int. Heads per attention. Defaults to `5` (BBFN).
        dropout: float. Residual/FFN dropout. Defaults to `0.1`.
        attention_dropout: float. Attention-weight dropout. Defaults to
            `0.1`.
        post_ln: bool. MCER's post-LN arrangement. Defaults to `False`.
        first_control: `"linear"` or `"bigru"`. Level-1 control vectors.
            Defaults to `"linear"`.
        **kwargs: Standard `keras.layers.Layer` arguments.

    Call arguments:
        first: float `(batch, steps_p, d)`. `M_p^0`.
        second: float `(batch, steps_q, d)`. `M_q^0`.
        first_summary: float `(batch, d)`. `h_p` (sequence encoder).
        second_summary: float `(batch, d)`. `h_q`.
        first_mask: optional int `(batch, steps_p)`, 1 = valid.
        second_mask: optional int `(batch, steps_q)`, 1 = valid.

    Returns:
        dict with `"first"` `(batch, steps_p, d)` and `"second"`
        `(batch, steps_q, d)` (the last level's sequences, zero at padded
        steps, no final LayerNorm, as BBFN) and `"discriminator_logits"`
        `(batch, num_layers, 2)`.

    Example:

    ```python
    pair = msakeras.layers.GatedCrossModalTransformer(num_layers=2,
                                                      num_heads=2)
    outputs = pair(text_seq, audio_seq, text_summary, audio_summary,
                   first_mask=text_mask, second_mask=audio_mask)
    ```

    Reference:
        [Han et al., 2021, BBFN](https://arxiv.org/abs/2107.13669), code:
        https://github.com/declare-lab/BBFN; Zhao et al., "MCER", IJCNN
        2024, §III-D.
    """

    def __init__(
        self,
        num_layers=2,
        num_heads=5,
        dropout=0.1,
        attention_dropout=0.1,
        post_ln=False,
        first_control="linear",
        **kwargs,
    ):
        super().__init__(**kwargs)
        if not isinstance(num_layers, int) or num_layers < 1:
            raise ValueError(
                f"`num_layers` must be a positive int; received {num_layers!r}."
            )
        if first_control not in ("linear", "bigru"):
            raise ValueError(
                "`first_control` must be 'linear' or 'bigru'; received "
                f"{first_control!r}."
            )
        self.num_layers = num_layers
        self.num_heads = num_heads
        self.dropout = float(dropout)
        self.attention_dropout = float(attention_dropout)
        self.post_ln = bool(post_ln)
        self.first_control = first_control

        def gated(name):
            layer_class = _LAYER_MODULE.GatedCrossModalTransformerLayer
            return layer_class(
                num_heads,
                dropout=dropout,
                attention_dropout=attention_dropout,
                post_ln=post_ln,
                dtype=self.dtype_policy,
                name=name,
            )

        self.first_layers = [
            gated(f"first_layer_{i}") for i in range(num_layers)
        ]
        self.second_layers = [
            gated(f"second_layer_{i}") for i in range(num_layers)
        ]
        self.discriminators = [
            modality_discriminator.ModalityDiscriminator(
                dtype=self.dtype_policy, name=f"discriminator_{i}"
            )
            for i in range(num_layers)
        ]

    def build(
        self,
        first_shape,
        second_shape,
        first_summary_shape,
        second_summary_shape,
        first_mask_shape=None,
        second_mask_shape=None,
    ):
        width = first_shape[-1]
        if width is None or second_shape[-1] != width:
            raise ValueError(
                "`first` and `second` must have the same known width; "
                f"received {first_shape} and {second_shape}."
            )
        batch = first_shape[0]
        control_shape = (batch, width)
        self.first_controls, self.second_controls = [], []
        for i in range(self.num_layers):
            for side, controls in (
                ("first", self.first_controls),
                ("second", self.second_controls),
            ):
                name = f"{side}_control_{i}"
                if i == 0 and self.first_control == "linear":
                    control = keras.layers.Dense(
                        width, dtype=self.dtype_policy, name=name
                    )
                    control.build(
                        first_summary_shape
                        if side == "first"
                        else second_summary_shape
                    )
                else:
                    control = bigru_mean_pooling.BiGRUMeanPooling(
                        width, dtype=self.dtype_policy, name=name
                    )
                    control.build(
                        first_shape if side == "first" else second_shape
                    )
                controls.append(control)
            self.discriminators[i].build(control_shape, control_shape)
            self.first_layers[i].build(
                first_shape, second_shape, control_shape, control_shape
            )
            self.second_layers[i].build(
                second_shape, first_shape, control_shape, control_shape
            )

    def call(
        self,
        first,
        second,
        first_summary,
        second_summary,
        first_mask=None,
        second_mask=None,
        training=None,
    ):
        logits = []
        for i in range(self.num_layers):
            if i == 0 and self.first_control == "linear":
                first_control = self.first_controls[i](first_summary)
                second_control = self.second_controls[i](second_summary)
            else:
                first_control = self.first_controls[i](
                    first, mask=first_mask, training=training
                )
                second_control = self.second_controls[i](
                    second, mask=second_mask, training=training
                )
            logits.append(self.discriminators[i](first_control, second_control))
            first, second = (
                self.first_layers[i](
                    first,
                    second,
                    first_control,
                    second_control,
                    query_mask=first_mask,
                    context_mask=second_mask,
                    training=training,
                ),
                self.second_layers[i](
                    second,
                    first,
                    second_control,
                    first_control,
                    query_mask=second_mask,
                    context_mask=first_mask,
                    training=training,
                ),
            )
        return {
            "first": first,
            "second": second,
            "discriminator_logits": ops.stack(logits, axis=1),
        }

    def compute_output_shape(
        self,
        first_shape,
        second_shape,
        first_summary_shape,
        second_summary_shape,
        first_mask_shape=None,
        second_mask_shape=None,
    ):
        return {
            "first": tuple(first_shape),
            "second": tuple(second_shape),
            "discriminator_logits": (first_shape[0], self.num_layers, 2),
        }

    def get_config(self):
        return {
            **super().get_config(),
            "num_layers": self.num_layers,
            "num_heads": self.num_heads,
            "dropout": self.dropout,
            "attention_dropout": self.attention_dropout,
            "post_ln": self.post_ln,
            "first_control": self.first_control,
        }
