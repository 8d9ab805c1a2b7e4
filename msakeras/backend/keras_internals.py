"""The one place msakeras reaches into Keras's private API.

Keras 3 (tested with 3.15) has no public way to do what these functions
do. Each says which private attribute it uses and why, so a Keras upgrade
that renames one breaks here, in one file, and nowhere else. Code outside
this module calls these functions, never the private attributes.
"""


def symbolic_build(model, data_batch):
    """Builds `model`'s compiled loss, metrics and optimizer from a batch.

    Uses `keras.Model._symbolic_build(data_batch=...)`, what `fit` runs on
    its first batch. Calling it ahead of `fit` builds everything without
    the data loader `fit` would open to peek at one batch (under torch
    that loader draws from the global generator, so a resumed run would
    draw differently from an uninterrupted one). Public alternatives
    (`optimizer.build`) leave the compiled metrics unbuilt.
    """
    model._symbolic_build(data_batch=data_batch)


def resolve_auto_jit_compile(model):
    """Keras's rule for `jit_compile="auto"` on this backend and device.

    Uses `keras.Model._resolve_auto_jit_compile()`: the rule is not
    public, and a report of what `"auto"` chose must follow Keras's own.
    An `MSAModel` answers `False` on a backend it cannot compile on.
    """
    return model._resolve_auto_jit_compile()


def seed_generator_states(model):
    """The `SeedGenerator` state variables of `model` and its sublayers.

    Uses `Layer._flatten_layers(include_self=True, recursive=True)` (the
    traversal Keras itself uses; `model.layers` is not recursive and
    omits the model) and `Layer._seed_generators` (the generators a layer
    tracks, e.g. `Dropout`'s; Keras excludes their states from
    `model.variables`, so `save_weights` misses them). Each state appears
    once, in traversal order (a generator shared by layers counts once).
    """
    states, seen = [], set()
    for layer in model._flatten_layers(include_self=True, recursive=True):
        for generator in getattr(layer, "_seed_generators", []):
            if id(generator.state) not in seen:
                seen.add(id(generator.state))
                states.append(generator.state)
    return states


def set_initial_epoch(model, epoch):
    """Makes the running `fit` continue at `epoch` (a restored backup).

    Uses `keras.Model._initial_epoch`, which `fit` reads after
    `on_train_begin`; Keras's own `BackupAndRestore` sets it the same way.
    """
    model._initial_epoch = epoch


def set_optimizer_variable_order(optimizer, var_list):
    """Pairs `optimizer.apply(grads)` without variables with `var_list`.

    Uses `Optimizer._trainable_variables` and
    `Optimizer._trainable_variables_indices` (the bookkeeping `apply`
    reads when no variables are passed) and `Optimizer._var_key` (its
    per-variable key). `_trainable_variables` is set past the optimizer's
    tracker, which would add the model's variables to the optimizer's own.
    """
    object.__setattr__(optimizer, "_trainable_variables", list(var_list))
    optimizer._trainable_variables_indices.clear()
    optimizer._trainable_variables_indices.update(
        {
            optimizer_variable_key(optimizer, variable): index
            for index, variable in enumerate(var_list)
        }
    )


def optimizer_variable_key(optimizer, variable):
    """The key an optimizer's bookkeeping dicts use for `variable`.

    Uses `Optimizer._var_key` (the variable's path, or its `id` for a
    backend tensor), the key of `MultiOptimizer._var_to_optimizer_idx`.
    """
    return optimizer._var_key(variable)
