"""Per-model presets: the paper's settings of a model, per dataset, once.

As keras-hub's `from_preset`: each model folder holds `<model>_presets.py`
with one table per preset name `<model>_<dataset>` (e.g. `mmim_mosi`). A
table holds the constructor arguments, the optimizer settings and the
training-loop settings (`batch_size`, `epochs`, `patience`) the recipes
read. `MSAModel.from_preset` builds (and compiles) a model from it:

```python
model = msakeras.models.MMIMModel.from_preset(
    "mmim_mosi", text_encoder=encoder, audio_dim=5, vision_dim=20
)
```

A presets module also holds what the recipe's runs change around those
tables (`presets_module`): `EMBEDDED_DEFAULTS`, the no-argument run's
changes (embedded synthetic data, CPU-sized), and, where the paper has
them, its ablation rows (`ABLATIONS` or `ABLATION_SWITCHES`) and a
checkpoint `SELECTION` rule other than the best `val_mae`.
"""

import importlib
import inspect
import types


class PresetError(ValueError):
    """An unknown preset name or override key."""


def preset_tables(presets):
    """A read-only view of `{preset name: table}` (for `Model.presets`)."""
    return types.MappingProxyType(
        {name: types.MappingProxyType(dict(t)) for name, t in presets.items()}
    )


def dataset_tables(presets, model_name):
    """`{dataset: table}` (copies) from `{"<model>_<dataset>": table}`."""
    prefix = f"{model_name}_"
    return {
        name[len(prefix) :]: dict(table)
        for name, table in presets.items()
        if name.startswith(prefix)
    }


def presets_module(model_name):
    """The module `msakeras.models.<model>.<model>_presets` of a model.

    Raises:
        PresetError: when `model_name` has no presets module.
    """
    module_name = f"msakeras.models.{model_name}.{model_name}_presets"
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name not in (module_name, module_name.rsplit(".", 1)[0]):
            raise
        raise PresetError(
            f"No presets for model {model_name!r}: {module_name} does not "
            "exist."
        ) from None


def recipe_tables(model_name):
    """`{dataset: table}` (copies) of a model's presets, as recipes read
    them (`presets_module(model_name).PRESETS`)."""
    return dataset_tables(presets_module(model_name).PRESETS, model_name)


def resolve_preset(model_class, preset, overrides):
    """Returns `(settings, constructor_arguments)` of a preset.

    `overrides` may replace table keys (`learning_rate=5e-4`) or add
    constructor arguments the table does not hold (`name="mmim"`).
    """
    presets = model_class.presets
    if preset not in presets:
        raise PresetError(
            f"{model_class.__name__}.from_preset: unknown preset {preset!r}; "
            f"known presets: {sorted(presets)}."
        )
    settings = dict(presets[preset])
    parameters = set(inspect.signature(model_class.__init__).parameters)
    parameters -= {"self", "text_encoder", "audio_dim", "vision_dim"}
    parameters -= {"args", "kwargs"}
    parameters |= {"name", "trainable", "dtype"}  # keras.Model's keywords
    mapped = model_class.preset_constructor_keys
    compile_keys = set(model_class.preset_compile_keys)
    unknown = sorted(
        key
        for key in overrides
        if key not in settings
        and key not in compile_keys
        and (key not in parameters or key in mapped.values())
    )
    if unknown:
        raise PresetError(
            f"{model_class.__name__}.from_preset({preset!r}): unknown "
            f"override key(s) {unknown}; known keys: the preset's "
            f"{sorted(settings | dict.fromkeys(compile_keys))} and the "
            f"constructor's {sorted(parameters - set(mapped.values()))}."
        )
    extra = {
        k: v
        for k, v in overrides.items()
        if k not in settings and k not in compile_keys
    }
    settings.update(
        {
            k: v
            for k, v in overrides.items()
            if k in settings or k in compile_keys
        }
    )
    arguments = {
        argument: settings[key]
        for key, argument in mapped.items()
        if key in settings
    }
    arguments.update(extra)
    return settings, arguments
