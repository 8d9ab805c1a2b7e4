"""`MultiOptimizer` that clips one global norm over every group."""

import keras
from keras import ops

from msakeras.backend import distribute
from msakeras.backend import keras_internals

# Path prefixes left out of the slot order: `SelfMMFeatureEncoder`
# (Self-MI's and MCER's `self_mm_features`) took the audio / vision
# encoders, fusion and post layers that those models held until then.
SLOT_ORDER_TRANSPARENT = ("self_mm_features/",)


def slot_order_key(path):
    """The variable path the slot layout sorts by (`build`)."""
    for prefix in SLOT_ORDER_TRANSPARENT:
        if path.startswith(prefix):
            return path[len(prefix) :]
    return path


def densify(gradient):
    """A dense tensor for a sparse (`indices`/`values`) gradient."""
    if (
        gradient is not None
        and hasattr(gradient, "indices")
        and hasattr(gradient, "dense_shape")
    ):
        return ops.scatter(
            ops.expand_dims(gradient.indices, -1),
            gradient.values,
            gradient.dense_shape,
        )
    return gradient


def clip_by_global_norm_like_torch(gradients, max_norm):
    """Scales gradients as `torch.nn.utils.clip_grad_norm_(params, max_norm)`.

    One L2 norm over all gradients; when it exceeds `max_norm`, every
    gradient is multiplied by `max_norm / (norm + 1e-6)`.

    Sparse gradients (TensorFlow's `IndexedSlices` of embedding lookups,
    whose rows repeat when a token repeats) are summed into dense tensors
    first, as PyTorch's dense embedding gradients are; summing the squares
    of unaggregated rows would misjudge the norm.

    Returns:
        `(clipped_gradients, global_norm)`.
    """
    gradients = [densify(gradient) for gradient in gradients]
    squares = [
        ops.sum(ops.square(ops.cast(gradient, "float32")))
        for gradient in gradients
        if gradient is not None
    ]
    global_norm = ops.sqrt(ops.sum(ops.stack(squares)))
    scale = ops.minimum(1.0, max_norm / (global_norm + 1e-6))
    clipped = [
        None if gradient is None else gradient * ops.cast(scale, gradient.dtype)
        for gradient in gradients
    ]
    return clipped, global_norm


@keras.saving.register_keras_serializable(package="msakeras")
class GlobalClipMultiOptimizer(keras.optimizers.MultiOptimizer):
    """`keras.optimizers.MultiOptimizer` with one global-norm clip.

    Keras's `MultiOptimizer` hands each group to its own optimizer, and each
    optimizer clips only its own group. The reference code of MMIM clips
    with `torch.nn.utils.clip_grad_norm_(model.parameters(), clip)` — one
    norm over every parameter, including groups that are not stepped in
    that phase — and then steps one or more optimizers. This class
    reproduces that: the joint norm is computed over all gradients it
    receives, they are scaled as torch does, then dispatched per group.

    Args:
        optimizer_map: `keras.optimizers.OptimizerMap` (regex keys over
            `variable.path`) or a callable, as `MultiOptimizer`.
        global_clipnorm: float or `None`. Joint clipping norm over all
            groups. Defaults to `None` (no joint clipping).
        loss_scale_factor, name: as `MultiOptimizer`.

    Example:

    ```python
    optimizer = GlobalClipMultiOptimizer(
        keras.optimizers.OptimizerMap(
            default_optimizer=CoupledL2Adam(1e-3, l2_decay=1e-4),
            optimizer_map={".*/text_encoder/.*": CoupledL2Adam(5e-5)}),
        global_clipnorm=5.0)
    ```
    """

    def __init__(
        self,
        optimizer_map,
        global_clipnorm=None,
        loss_scale_factor=None,
        name=None,
    ):
        super().__init__(
            optimizer_map, loss_scale_factor=loss_scale_factor, name=name
        )
        if global_clipnorm is not None and global_clipnorm <= 0:
            raise ValueError(
                "`global_clipnorm` must be positive or None; received "
                f"{global_clipnorm}."
            )
        self.joint_clipnorm = global_clipnorm

    def build(self, var_list):
        """Builds the sub-optimizers over `var_list` sorted by path.

        `MultiOptimizer` builds each sub-optimizer in the order of
        `var_list`, and `save_own_variables` writes the slots by position.
        The model's variable order differs between backends (torch tracks
        modules in another order than TensorFlow), so a file saved under
        one backend loaded slots into the wrong variables under another.
        Building from the paths' sorted order makes the slot layout a
        function of the variable paths alone, the same on every backend.
        The sort key drops the prefixes of `SLOT_ORDER_TRANSPARENT`
        (composed layers whose sublayers a model once held itself), so
        files saved before the composition keep their slot layout.
        """
        if self.built:
            return
        var_list = list(var_list)
        paths = [variable.path for variable in var_list]
        if len(set(paths)) != len(paths):
            duplicates = sorted({p for p in paths if paths.count(p) > 1})
            raise ValueError(
                "GlobalClipMultiOptimizer needs unique variable paths to "
                f"order its state; duplicated: {duplicates}."
            )
        super().build(
            sorted(var_list, key=lambda variable: slot_order_key(variable.path))
        )
        # `apply(grads)` without variables pairs `grads` with the caller's
        # order, so the bookkeeping keeps that order.
        keras_internals.set_optimizer_variable_order(self, var_list)

    def load_own_variables(self, store):
        """Loads the saved state, refusing a layout that does not fit.

        Keras assigns slots by position and, on a shape mismatch, raises
        after some slots were already overwritten. Every shape is checked
        first, so a mismatch leaves the optimizer untouched.
        """
        variables = self.variables
        if len(store.keys()) == len(variables):
            for index, variable in enumerate(variables):
                saved_shape = tuple(store[str(index)].shape)
                if saved_shape != tuple(variable.shape):
                    raise ValueError(
                        f"Optimizer {self.name!r}: saved state {index} has "
                        f"shape {saved_shape} but {variable.path!r} has "
                        f"shape {tuple(variable.shape)}; the file was "
                        "written with a different variable order."
                    )
        super().load_own_variables(store)

    def apply(self, grads, trainable_variables=None):
        grads = list(grads)
        if not grads:
            return
        if self.joint_clipnorm:
            # TensorFlow replicas hold per-replica gradients here, and each
            # inner optimizer sums them over the replicas only when it
            # steps; the clipped norm must be that of the summed (global)
            # gradient. So sum first, clip, and hand the inner optimizers
            # `1 / replicas` of the result, which their own sum restores.
            # (torch DDP has averaged already; JAX is global.)
            grads = [densify(gradient) for gradient in grads]
            reduced = distribute.all_reduce_sum(grads)
            replicas = 1 if reduced is grads else distribute.replica_count()
            grads, _ = clip_by_global_norm_like_torch(
                reduced, self.joint_clipnorm
            )
            if replicas > 1:
                grads = [
                    None if gradient is None else gradient / replicas
                    for gradient in grads
                ]
        if trainable_variables is None:
            trainable_variables = self._trainable_variables
        if not self.built:
            self.build(trainable_variables)
        # Dispatch per group; a group whose gradients are all `None` is not
        # stepped (PyTorch skips parameters without `.grad`), where Keras's
        # MultiOptimizer would hand it to a sub-optimizer that raises.
        groups = [[] for _ in self._inner_optimizers]
        for gradient, variable in zip(grads, trainable_variables):
            if gradient is None:
                continue
            index = self._var_to_optimizer_idx[
                keras_internals.optimizer_variable_key(self, variable)
            ]
            groups[index].append((gradient, variable))
        for optimizer, pairs in zip(self._inner_optimizers, groups):
            if pairs:
                optimizer.apply(
                    [gradient for gradient, _ in pairs],
                    [variable for _, variable in pairs],
                )
        self._iterations.assign_add(1)

    def get_config(self):
        return {**super().get_config(), "global_clipnorm": self.joint_clipnorm}
