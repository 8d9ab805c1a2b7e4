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


def functional_layer_weights_path(model, layer):
    """The path under which `model.save` stores `layer`'s weights.

    Keras's `saving_lib` walks a functional model's `layers` first and
    names each entry after its class in snake case, numbered per class in
    `model.layers` order (`layers/dense`, `layers/dense_1`, ...; the
    private `saving_lib._get_unique_name` rule, `keras.src.utils.naming.
    to_snake_case`).
    """
    from keras.src.utils import naming

    used = {}
    for candidate in model.layers:
        name = naming.to_snake_case(type(candidate).__name__)
        index = used.get(name, -1) + 1
        used[name] = index
        if candidate is layer:
            return f"layers/{name}" if index == 0 else f"layers/{name}_{index}"
    raise ValueError(f"Layer {layer.name!r} is not in {model.name!r}.")


def redirect_moved_sublayers(store, layer_path, moved):
    """Lets a weights file of an older layout load into a composed layer.

    When sublayers that a model held itself (top-level layers of its
    graph) move into one composed layer, their weights move in the file
    from `layers/<class>[_i]` to `<layer_path>/<attribute>`. A file without
    `layer_path` (the older layout) is read with each
    `<layer_path>/<attribute>` redirected to the top-level group whose
    saved layer name is `moved[attribute]`, then to that group's own
    sublayers. Other files are left as they are.

    Uses private parts of `keras.src.saving.saving_lib`: the store handed
    to the model's `load_own_variables` is the file's `H5IOStore` itself,
    whose `get(path)` every later layer read goes through (`_load_state`),
    `has_path`, and its `h5_file` with the layer name Keras writes as the
    `name` attribute of each layer's `vars` group. Call it from the model's
    `load_own_variables` (the first read of a load). Other stores (`.npz`,
    sharded) are left as they are.

    Args:
        store: the store passed to the model's `load_own_variables`.
        layer_path: the composed layer's path (`functional_layer_weights_
            path`).
        moved: dict attribute of the composed layer -> the sublayer's name.
    """
    h5_file = getattr(store, "h5_file", None)
    if h5_file is None or not hasattr(store, "has_path"):
        return
    if store.has_path(layer_path) or "layers" not in h5_file:
        return
    groups = {}
    for key, group in h5_file["layers"].items():
        # Keras writes the name on the layer's `vars` group.
        attributes = group["vars"].attrs if "vars" in group else group.attrs
        name = attributes.get("name")
        if isinstance(name, bytes):
            name = name.decode()
        groups[name] = f"layers/{key}"
    redirects = {
        f"{layer_path}/{attribute}": groups[name]
        for attribute, name in moved.items()
        if name in groups
    }
    if not redirects:
        return
    read = store.get

    def redirected_get(path):
        for new, old in redirects.items():
            if path == new or path.startswith(new + "/"):
                return read(old + path[len(new) :])
        return read(path)

    # An instance attribute: this store only, for this load only.
    store.get = redirected_get
