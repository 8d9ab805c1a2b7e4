"""Variational information bottleneck encoder (MIB `cmib.py::fusion`)."""

import keras
from keras import ops

from msakeras import losses


@keras.saving.register_keras_serializable(package="msakeras")
class VariationalBottleneck(keras.layers.Layer):
    """Stochastic encoder `z = μ + σ ⊙ ε` with a KL penalty to `N(0, I)`.

    MIB's VIB head (`docs/building_blocks.md`), used by MCER's M-MIB and S-MIB
    (MCER eqs. 3–9, 23–29):

    - `g = ReLU(W_g u + b_g)` (`hidden_dim`, MIB 1024);
    - `μ = W_μ g + b_μ`, `σ = softplus(W_σ g + b_σ − sigma_shift)`
      (MIB: shift 5, so σ starts small);
    - training: `z = μ + σ ⊙ ε`, `ε ~ N(0, I)` from this layer's
      `keras.random.SeedGenerator`; inference: `z = μ` (DECISION,
      docs/building_blocks.md:
      deterministic `predict`/export; MIB samples at test time too, which
      `sample_at_inference=True` restores);
    - `noise_source` (attribute, not serialized): `None` (default) draws
      `ε` as above; a callable `(shape, dtype) -> array` supplies `ε`
      instead (the cross-backend equivalence test draws it from NumPy so
      that TensorFlow, torch and JAX sample the same `z`);
    - training only: `self.add_loss(kl_weight · KL)` with MIB's
      `KL = ½ · mean_{batch, dims}(μ² + σ² − 2 log σ − 1)`
      (`msakeras.losses.gaussian_kl`). `kl_weight` is where a model puts
      its α / β (MCER eq. 33).

    Args:
        latent_dim: int. Width of `z` (MIB: the input width).
        hidden_dim: int. Width of `g`. Defaults to `1024` (MIB).
        kl_weight: float. Factor of the KL term added with `add_loss`.
            Defaults to `1.0`.
        sigma_shift: float. Subtracted before the softplus. Defaults to
            `5.0` (MIB).
        sample_at_inference: bool. Sample `z` at inference as MIB does.
            Defaults to `False`.
        seed: int or None. Seed of the noise generator. Defaults to `None`.
        **kwargs: Standard `keras.layers.Layer` arguments.

    Call arguments:
        inputs: float `(batch, features)`. `u`.
        training: bool. Sample and add the KL term when true.

    Returns:
        float `(batch, latent_dim)`: `z`.

    Example:

    ```python
    bottleneck = msakeras.layers.VariationalBottleneck(8, hidden_dim=16,
                                                       kl_weight=1.9)
    z = bottleneck(np.ones((4, 8), "float32"), training=True)
    bottleneck.losses  # [1.9 * KL]
    ```

    Reference:
        Mai, Zeng, Hu, "Multimodal Information Bottleneck: Learning Minimal
        Sufficient Unimodal and Multimodal Representations", IEEE TMM 2022,
        https://arxiv.org/abs/2210.17444, code:
        https://github.com/TmacMai/Multimodal-Information-Bottleneck
    """

    def __init__(
        self,
        latent_dim,
        hidden_dim=1024,
        kl_weight=1.0,
        sigma_shift=5.0,
        sample_at_inference=False,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        for argument, value in (
            ("latent_dim", latent_dim),
            ("hidden_dim", hidden_dim),
        ):
            if not isinstance(value, int) or value < 1:
                raise ValueError(
                    f"`{argument}` must be a positive int; received {value!r}."
                )
        if kl_weight < 0:
            raise ValueError(f"`kl_weight` must be >= 0; received {kl_weight}.")
        self.latent_dim = latent_dim
        self.hidden_dim = hidden_dim
        self.kl_weight = float(kl_weight)
        self.sigma_shift = float(sigma_shift)
        self.sample_at_inference = bool(sample_at_inference)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.noise_source = None
        self.hidden_dense = keras.layers.Dense(
            hidden_dim,
            activation="relu",
            dtype=self.dtype_policy,
            name="hidden_dense",
        )
        self.mean_dense = keras.layers.Dense(
            latent_dim, dtype=self.dtype_policy, name="mean_dense"
        )
        self.scale_dense = keras.layers.Dense(
            latent_dim, dtype=self.dtype_policy, name="scale_dense"
        )

    def build(self, inputs_shape):
        if inputs_shape[-1] is None:
            raise ValueError(
                f"The input width must be known; received {inputs_shape}."
            )
        self.hidden_dense.build(inputs_shape)
        hidden_shape = tuple(inputs_shape[:-1]) + (self.hidden_dim,)
        self.mean_dense.build(hidden_shape)
        self.scale_dense.build(hidden_shape)

    def call(self, inputs, training=None):
        hidden = self.hidden_dense(inputs)
        mean = self.mean_dense(hidden)
        scale = ops.softplus(self.scale_dense(hidden) - self.sigma_shift)
        if training:
            self.add_loss(
                self.kl_weight * ops.mean(losses.gaussian_kl(mean, scale))
            )
        if training or self.sample_at_inference:
            return mean + scale * self.sample_noise(mean)
        return mean

    def sample_noise(self, mean):
        """`ε ~ N(0, I)` shaped like `mean`, from `noise_source` if set."""
        shape = tuple(ops.shape(mean))
        dtype = keras.backend.standardize_dtype(mean.dtype)
        if self.noise_source is not None:
            return ops.convert_to_tensor(
                self.noise_source(shape, dtype), dtype=dtype
            )
        return keras.random.normal(shape, dtype=dtype, seed=self.seed_generator)

    def compute_output_shape(self, inputs_shape):
        return tuple(inputs_shape[:-1]) + (self.latent_dim,)

    def get_config(self):
        return {
            **super().get_config(),
            "latent_dim": self.latent_dim,
            "hidden_dim": self.hidden_dim,
            "kl_weight": self.kl_weight,
            "sigma_shift": self.sigma_shift,
            "sample_at_inference": self.sample_at_inference,
            "seed": self.seed,
        }
