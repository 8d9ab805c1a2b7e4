"""`MMILB`: MMIM's Barber-Agakov lower-bound critic
(`docs/building_blocks.md`)."""

import math

import keras
from keras import ops

from msakeras.losses import loss_precision


@keras.saving.register_keras_serializable(package="msakeras")
class MMILB(keras.layers.Layer):
    """Barber-Agakov critic `q(y|x)` and entropy projection of MMIM.

    MMIM bounds `I(X; Y) >= E[log q(y|x)] + H(Y)` (paper eq. 3) for the
    pairs (text, visual) and (text, acoustic) with a diagonal Gaussian
    `q(y|x) = N(y | μ(x), exp(logvar(x)))`:

        `μ(x) = W2 ReLU(W1 x)`, `logvar(x) = V2 ReLU(V1 x)`

    (`W1, V1: d_x -> hidden_dim`, `W2, V2: hidden_dim -> d_y`; no final
    activation on `logvar`: the official `mmilb_last_activation='Tanh'`
    is never applied). The layer returns the per-sample log-likelihood
    (the batch mean is `lld` of eq. 4, `L_lld = -lld`) and the entropy
    projection `e = tanh(P y)` (`P: d_y -> entropy_projection_dim`, with
    bias, the official `entropy_prj`) whose class-conditional Gaussians
    give `H(Y)` (eqs. 5-8, `msakeras.losses.class_conditional_gaussian_
    entropy`). The projection is not detached; the model detaches what it
    stores in its `BatchHistoryMemory`.

    DECISION (`docs/building_blocks.md`): by default the log-likelihood is the
    official code's form `Σ_k -(μ_k(x) - y_k)² / (2 exp(logvar_k(x)))`,
    which omits `-½ logvar_k - ½ log 2π` of a true Gaussian
    log-likelihood; maximising it drives `logvar -> +∞`.
    `full_gaussian_nll=True` adds both terms (the paper's `log q(y|x)`).
    In the official training `P` belongs to the stage-1 optimizer's group
    but stage 1 computes no entropy, and the stage-2 optimizer does not
    hold it: `P` never leaves its initialisation. So `P` is frozen
    (non-trainable) by default, in every model and training mode: trained
    by a pass that *maximises* `H`, it would learn to spread the
    projections rather than measure them (`train_entropy_projection=True`
    lets it train). Gradients of `H` still reach `y`. Kernels are
    Xavier-normal (official init); biases are zeros (GAP: PyTorch's
    default is uniform).

    Args:
        hidden_dim: int. Width of the two hidden layers. Defaults to `None`,
            the width of `y` (official).
        full_gaussian_nll: bool. Whether to return the full Gaussian
            log-likelihood instead of the official code's form. Defaults to
            `False`.
        entropy_projection_dim: int. Width `k` of the entropy projection.
            Defaults to `None`, `d_y // 4` (official).
        kernel_initializer: str or initializer. Kernel initializer of every
            dense sublayer. Defaults to `"glorot_normal"` (Xavier-normal).
        train_entropy_projection: bool. Whether `P` is trainable. Defaults
            to `False`, the official behaviour (`P` stays at its
            initialisation).

    Call arguments:
        x: float `(batch, d_x)`. The conditioning vector (text `[CLS]`).
        y: float `(batch, d_y)`. The predicted vector (visual or acoustic
            encoder output).

    Returns:
        dict with `log_likelihood` float `(batch,)` (per sample, summed over
        the `d_y` components) and `entropy_projection` float
        `(batch, entropy_projection_dim)`.

    Example:

    ```python
    critic = MMILB()
    outputs = critic(text_cls, visual_embedding)  # (4, 768), (4, 16)
    outputs["log_likelihood"].shape  # (4,)
    outputs["entropy_projection"].shape  # (4, 4)
    ```

    Reference:
        Han et al., "Improving Multimodal Fusion with Hierarchical Mutual
        Information Maximization for Multimodal Sentiment Analysis",
        EMNLP 2021, eqs. 3-9, https://arxiv.org/abs/2109.00412
    """

    def __init__(
        self,
        hidden_dim=None,
        full_gaussian_nll=False,
        entropy_projection_dim=None,
        kernel_initializer="glorot_normal",
        train_entropy_projection=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.train_entropy_projection = bool(train_entropy_projection)
        self.hidden_dim = hidden_dim
        self.full_gaussian_nll = full_gaussian_nll
        self.entropy_projection_dim = entropy_projection_dim
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def _dense(self, units, activation, name):
        initializer = keras.initializers.get(
            keras.initializers.serialize(self.kernel_initializer)
        )
        return keras.layers.Dense(
            units,
            activation=activation,
            kernel_initializer=initializer,
            dtype=self.dtype_policy,
            name=name,
        )

    def _widths(self, y_shape):
        y_dim = y_shape[-1]
        if y_dim is None:
            raise ValueError(
                f"The width of `y` must be known; received {y_shape}."
            )
        hidden_dim = self.hidden_dim or y_dim
        projection_dim = self.entropy_projection_dim or y_dim // 4
        if projection_dim < 1:
            raise ValueError(
                f"The entropy projection width `y_dim // 4` is "
                f"{projection_dim} for `y` of width {y_dim}; pass "
                "`entropy_projection_dim` >= 1."
            )
        return y_dim, hidden_dim, projection_dim

    def build(self, x_shape, y_shape):
        y_dim, hidden_dim, projection_dim = self._widths(y_shape)
        self.mean_hidden = self._dense(hidden_dim, "relu", "mean_hidden")
        self.mean_output = self._dense(y_dim, None, "mean_output")
        self.log_variance_hidden = self._dense(
            hidden_dim, "relu", "log_variance_hidden"
        )
        self.log_variance_output = self._dense(
            y_dim, None, "log_variance_output"
        )
        self.entropy_projection = self._dense(
            projection_dim, "tanh", "entropy_projection"
        )
        hidden_shape = tuple(x_shape[:-1]) + (hidden_dim,)
        self.mean_hidden.build(x_shape)
        self.mean_output.build(hidden_shape)
        self.log_variance_hidden.build(x_shape)
        self.log_variance_output.build(hidden_shape)
        self.entropy_projection.build(y_shape)
        self.entropy_projection.trainable = self.train_entropy_projection
        self.built = True

    def call(self, x, y):
        # float32 under mixed precision: `exp(-log_variance)` of a
        # 16-bit log-variance overflows float16 and rounds in bfloat16.
        mean = loss_precision.at_least_float32(
            self.mean_output(self.mean_hidden(x))
        )
        log_variance = loss_precision.at_least_float32(
            self.log_variance_output(self.log_variance_hidden(x))
        )
        y = ops.cast(y, mean.dtype)
        # Official code: -(mu - y)^2 / 2 / exp(logvar), no log-variance term.
        log_likelihood = -0.5 * ops.square(mean - y) * ops.exp(-log_variance)
        if self.full_gaussian_nll:
            log_likelihood = log_likelihood - 0.5 * (
                log_variance + math.log(2.0 * math.pi)
            )
        return {
            "log_likelihood": ops.sum(log_likelihood, axis=-1),
            "entropy_projection": self.entropy_projection(y),
        }

    def compute_output_shape(self, x_shape, y_shape):
        _, _, projection_dim = self._widths(y_shape)
        batch = tuple(y_shape[:-1])
        return {
            "log_likelihood": batch,
            "entropy_projection": batch + (projection_dim,),
        }

    def get_config(self):
        return {
            **super().get_config(),
            "hidden_dim": self.hidden_dim,
            "full_gaussian_nll": self.full_gaussian_nll,
            "entropy_projection_dim": self.entropy_projection_dim,
            "kernel_initializer": keras.initializers.serialize(
                self.kernel_initializer
            ),
            "train_entropy_projection": self.train_entropy_projection,
        }
