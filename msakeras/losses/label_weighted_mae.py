"""`label_weighted_mae`: Self-MM's tanh-weighted unimodal L1 (eq. 17).

`unimodal_task_loss` sums it over the tasks of a ULGM label state.
"""

import keras
from keras import ops


def label_weighted_mae(unimodal_labels, predictions, multimodal_labels):
    """Self-MM / Self-MI unimodal task loss, one value per sample.

    For a unimodal head with prediction `ŷ_s`, generated label `y_s` and the
    human multimodal label `y_m` (Self-MI eq. 17, Self-MM eq. 10):

        `tanh(|y_s − y_m|) · |ŷ_s − y_s|`.

    The weight and the labels are detached (`ops.stop_gradient`), so only
    the prediction receives gradients. The fusion task's term of eq. 17 is
    the plain MAE `|ŷ_m − y_m|`, i.e. this function with weight 1.

    Args:
        unimodal_labels: float `(batch,)` or `(batch, 1)`. `y_s`.
        predictions: float `(batch,)` or `(batch, 1)`. `ŷ_s`.
        multimodal_labels: float `(batch,)` or `(batch, 1)`. `y_m`.

    Returns:
        float `(batch,)`.

    Reference:
        Nguyen et al., "Self-MI", PACLIC 37, 2023, eq. 17; Yu et al.,
        "Self-MM", AAAI 2021, https://arxiv.org/abs/2102.04830
    """
    y_s = ops.stop_gradient(
        ops.reshape(ops.cast(unimodal_labels, "float32"), (-1,))
    )
    y_m = ops.stop_gradient(
        ops.reshape(ops.cast(multimodal_labels, "float32"), (-1,))
    )
    y_hat = ops.reshape(ops.cast(predictions, "float32"), (-1,))
    return ops.tanh(ops.abs(y_s - y_m)) * ops.abs(y_hat - y_s)


def unimodal_task_loss(
    label_state, index, multimodal_labels, y_pred, keys, generated_labels=None
):
    """`Σ_k mean_i tanh(|y_k − y_m|)·|ŷ_k − y_k|`; updates `label_state`.

    Self-MM's unimodal tasks (Self-MM eq. 13, Self-MI eq. 17, MCER eqs.
    32–33 for SLGM and CLGM) over the labels `y_k` of a ULGM label state
    (`UnimodalLabelGenerator`): the labels are those before this batch's
    update (MMSA order), then the state is updated with the batch.

    Args:
        label_state: a `UnimodalLabelGenerator` whose modalities are
            `keys`.
        index: int `(batch,)`. Training-sample ids.
        multimodal_labels: float `(batch,)`. `y_m`.
        y_pred: dict with `fused_embedding` and, per key `k`,
            `<k>_embedding` and `<k>_sentiment`.
        keys: sequence of str. The unimodal tasks.
        generated_labels: dict key -> float `(batch,)` or None: ULG_MI's
            candidate labels (None: ULGM's relative-distance rule).

    Returns:
        float scalar.
    """
    labels = label_state.update(
        index,
        multimodal_labels,
        {
            "fusion": y_pred["fused_embedding"],
            **{key: y_pred[f"{key}_embedding"] for key in keys},
        },
        generated_labels=generated_labels,
    )
    return sum(
        ops.mean(
            label_weighted_mae(
                labels[key], y_pred[f"{key}_sentiment"], multimodal_labels
            )
        )
        for key in keys
    )


@keras.saving.register_keras_serializable(package="msakeras")
class LabelWeightedMAE(keras.losses.Loss):
    """Tanh-weighted L1 of a unimodal head (Self-MI eq. 17).

    Call as `loss(y_true, y_pred)` where `y_true` stacks the generated
    unimodal label and the multimodal label, `(batch, 2)` =
    `[y_s, y_m]`, and `y_pred` is the unimodal prediction `(batch, 1)`.
    Wraps `msakeras.losses.label_weighted_mae`.

    Args:
        reduction: str. Keras loss reduction. Defaults to
            `"sum_over_batch_size"` (Self-MM's mean).
        name: str. Defaults to `"label_weighted_mae"`.
        dtype: Dtype of the loss computation. Defaults to `None`.

    Example:

    ```python
    loss = msakeras.losses.LabelWeightedMAE()
    value = loss(np.stack([text_labels, labels], -1), text_predictions)
    ```
    """

    def __init__(
        self,
        reduction="sum_over_batch_size",
        name="label_weighted_mae",
        dtype=None,
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def call(self, y_true, y_pred):
        return label_weighted_mae(y_true[:, 0], y_pred, y_true[:, 1])

    def get_config(self):
        return super().get_config()
