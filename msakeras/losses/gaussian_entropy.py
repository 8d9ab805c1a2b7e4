"""`class_conditional_gaussian_entropy`: MMIM's GMM entropy
(docs/building_blocks.md)."""

from keras import backend
from keras import ops


def class_conditional_gaussian_entropy(
    vectors, class_weights, min_samples, epsilon=1e-6
):
    """Per-class Gaussian entropies (constants dropped) of weighted vectors.

    For every class `c` (a column of `class_weights`, 0/1 membership; a row
    may belong to no class, e.g. a zero-labelled sample or an empty memory
    row) this fits a Gaussian by maximum likelihood, as MMIM's `MMILB`
    does (paper eq. 5, but with the full covariance of the official code,
    not the paper's diagonal):

        `N_c = Σ_i w_ic`,  `μ_c = Σ_i w_ic e_i / N_c`,
        `Σ_c = Σ_i w_ic (e_i - μ_c)(e_i - μ_c)ᵀ / N_c` (biased),

    and returns `h_c = ½ logdet(Σ_c + epsilon·I)`, the entropy of
    `N(μ_c, Σ_c)` (paper eq. 6) without its constant `½ k log(2πe)`.

    Mapping to MMIM: with equal priors `w_pos = w_neg = ½` (eq. 7, 8),
    `H(Y) = ½ (h_pos + h_neg) = ¼ (logdet Σ_pos + logdet Σ_neg)`, i.e.
    `0.5 * ops.sum(entropies)` over the two valid classes, with the
    constants `log 2` and `½ k log(2πe)` dropped as in the official code.

    GAP (numerical guard, not in the official code): `epsilon·I` is added
    before the log-determinant, and a class with fewer than
    `max(min_samples, 1)` members (MMIM: `min_samples = k + 1` with
    `k = d_y // 4`, below which `Σ_c` is singular) is marked invalid and
    its entropy is exactly 0. Its covariance is swapped for the identity
    before `slogdet`, so neither the value nor the gradients are NaN.
    The caller decides what to do with invalid classes (skip `H`, log).

    The statistics are computed in float32 at least (float16/bfloat16
    inputs are upcast); `ops.slogdet` runs on TensorFlow, torch and JAX
    with gradients and, unlike a Cholesky factorisation, never raises on
    a matrix that is not numerically positive definite.

    Args:
        vectors: float `(n, k)`. The projected vectors `e = tanh(P y)`,
            history rows and current rows together.
        class_weights: float `(n, C)`. Membership of each row in each class
            (1 = member, 0 = not; empty rows are all-zero).
        min_samples: int. Fewest members for a class to be valid.
        epsilon: float. Ridge added to each covariance's diagonal.
            Defaults to `1e-6`.

    Returns:
        Tuple `(entropies, valid)`: float `(C,)` per-class `h_c` (0 where
        invalid) and bool `(C,)` validity.

    Reference:
        Han et al., EMNLP 2021, eqs. 5-8, https://arxiv.org/abs/2109.00412
    """
    vectors = ops.convert_to_tensor(vectors)
    dtype = backend.standardize_dtype(vectors.dtype)
    if dtype in ("float16", "bfloat16") or not dtype.startswith("float"):
        dtype = "float32"
    vectors = ops.cast(vectors, dtype)
    class_weights = ops.cast(class_weights, dtype)

    counts = ops.sum(class_weights, axis=0)  # (C,)
    valid = ops.logical_and(
        ops.greater_equal(counts, ops.cast(max(min_samples, 1), dtype)),
        ops.greater(counts, 0.0),
    )
    safe_counts = ops.maximum(counts, 1.0)
    means = ops.matmul(ops.transpose(class_weights), vectors)
    means = means / safe_counts[:, None]  # (C, k)
    centered = vectors[None, :, :] - means[:, None, :]  # (C, n, k)
    weighted = centered * ops.transpose(class_weights)[:, :, None]
    covariances = (
        ops.matmul(ops.transpose(weighted, (0, 2, 1)), centered)
        / safe_counts[:, None, None]
    )  # (C, k, k)

    width = vectors.shape[-1]
    if width is None:
        width = ops.shape(vectors)[-1]
    identity = ops.eye(width, dtype=dtype)
    covariances = covariances + epsilon * identity[None]
    # Invalid classes get the identity (logdet 0), so no NaN reaches the
    # gradient through `ops.where`.
    covariances = ops.where(valid[:, None, None], covariances, identity[None])
    _, log_determinants = ops.slogdet(covariances)
    entropies = ops.where(
        valid, 0.5 * log_determinants, ops.zeros_like(log_determinants)
    )
    return entropies, valid
