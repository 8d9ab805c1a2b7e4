"""`MSAModel`: the functional base class of every msakeras model."""

import inspect
import warnings

import keras
from keras import ops

from msakeras.backend import distribute
from msakeras.backend import keras_internals
from msakeras.models import presets as presets_lib


class MSAModel(keras.Model):
    """Functional model whose compiled loss and metrics see `sentiment`.

    Subclasses build a functional graph from named dict inputs to a dict of
    outputs that always holds `sentiment` `(batch, 1)`. The compiled loss and
    metrics are routed to `y_pred["sentiment"]`, so a user passes plain
    labels `y` of shape `(batch,)` or `(batch, 1)` to `fit`. Objectives that
    combine several outputs are added by overriding `auxiliary_loss`;
    `compute_loss` adds it to the compiled loss and every `add_loss` term of
    the layers.

    `compile()` with no arguments gives Adam(1e-3), MAE loss and an MAE
    metric (`mae`, `val_mae`), the MMSA selection criterion.

    `compile(jit_compile=...)` is Keras's own argument: XLA under
    TensorFlow, `jax.jit` under JAX, `torch.compile` under torch. A model
    whose step a backend cannot compile names the backend and the reason
    in `jit_compile_unsupported`; there `"auto"` resolves to `False` and
    `True` warns and runs uncompiled (`jit_compile` may also be set after
    `compile()`, before `fit`; stage models follow it).

    Example:

    ```python
    model = msakeras.models.MMIMModel(text_encoder=..., audio_dim=5,
                                      vision_dim=20)
    model.compile()
    model.fit(train_dataset, validation_data=valid_dataset, epochs=10)
    ```
    """

    def __init__(self, *args, trainable=True, **kwargs):
        # `Functional.__init__(trainable=True)` (every `from_config`: the
        # config holds `trainable`) sets `trainable` on every sublayer,
        # unfreezing the frozen ones (the BERT pooler): the reloaded model
        # would have more trainable variables than the saved one, and its
        # optimizer state would be skipped. Only freezing is passed on.
        super().__init__(*args, **kwargs)
        if not trainable:
            self.trainable = False

    #: bool. Data parallel on TensorFlow / torch is exact: `compute_loss`
    #: gathers what needs the global batch and scales its extra terms for
    #: the engine's reduction (`msakeras.backend.distribute`). Recipes
    #: refuse `--distribute` there otherwise (JAX is exact for every
    #: model). A class attribute, declared by the subclasses that support
    #: it (MMIM).
    supports_replica_split = False
    #: str or None. Why this model's objective is not split-safe, shown
    #: when `--distribute` is refused (None: a generic reason).
    replica_split_refusal = None

    # Backend -> why its compiled train step is refused (see the class
    # docstring); empty: every backend compiles the step.
    jit_compile_unsupported = {}

    @property
    def jit_compile(self):
        return keras.Model.jit_compile.fget(self)

    @jit_compile.setter
    def jit_compile(self, value):
        reason = self.jit_compile_unsupported.get(keras.config.backend())
        if value is True and reason:
            warnings.warn(
                f"{type(self).__name__}: jit_compile=True is not supported "
                f"under {keras.config.backend()} ({reason}); running "
                "uncompiled.",
                stacklevel=2,
            )
            value = False
        keras.Model.jit_compile.fset(self, value)
        # A later change (e.g. a recipe's `--compile`) rebuilds the step.
        self.train_function = None
        self.test_function = None
        self.predict_function = None

    def _resolve_auto_jit_compile(self):
        # Keras's hook for `jit_compile="auto"` (no public one; read it
        # through `msakeras.backend.keras_internals.resolve_auto_jit_compile`).
        if self.jit_compile_unsupported.get(keras.config.backend()):
            return False
        return super()._resolve_auto_jit_compile()

    # --- training procedure (`msakeras.training`) --------------------------
    training_procedure = None
    """The component that carries out a training procedure beyond one
    optimizer step per batch, or `None`: an object with
    `training_callbacks(x, y, batch_size, shuffle)` and
    `auxiliary_optimizers()` (e.g. MMIM's and MCER's
    `models.common.barber_agakov_two_stage.BarberAgakovTwoStage`). The two
    methods below delegate to it."""

    def training_callbacks(self, x, y=None, batch_size=None, shuffle=True):
        """Callbacks that carry out this model's training procedure.

        `fit` runs them before the caller's callbacks, so a procedure that
        is more than one optimizer step per batch (MMIM's two-stage fit,
        per-epoch state resets) runs inside plain `model.fit`. Defaults to
        those of `training_procedure`, or none.

        Args:
            x, y, batch_size, shuffle: as passed to `fit`.

        Returns:
            list of `keras.callbacks.Callback`.
        """
        if self.training_procedure is None:
            return []
        return self.training_procedure.training_callbacks(
            x, y, batch_size=batch_size, shuffle=shuffle
        )

    def auxiliary_optimizers(self):
        """Optimizers besides `self.optimizer` whose state a resume needs.

        Optimizers outside Keras's tracking (not in `save_weights`), e.g.
        MMIM's stage-one optimizer; `msakeras.callbacks.ResumableBackup`
        saves and restores their variables. Defaults to those of
        `training_procedure`, or none.

        Returns:
            list of built optimizers.
        """
        if self.training_procedure is None:
            return []
        return self.training_procedure.auxiliary_optimizers()

    # --- saving ----------------------------------------------------------
    def moved_layers(self):
        """Composed layers whose sublayers this model once held itself.

        Each has a `moved_sublayers()` (`{attribute: layer name}`);
        `.keras` and `.weights.h5` files saved in the older layout load
        (`keras_internals.redirect_moved_sublayers`). Defaults to none.
        """
        return []

    def load_own_variables(self, store):
        for layer in self.moved_layers():
            keras_internals.redirect_moved_sublayers(
                store,
                keras_internals.functional_layer_weights_path(self, layer),
                layer.moved_sublayers(),
            )
        super().load_own_variables(store)

    def fit(
        self,
        x=None,
        y=None,
        batch_size=None,
        epochs=1,
        verbose="auto",
        callbacks=None,
        validation_split=0.0,
        validation_data=None,
        shuffle=True,
        **kwargs,
    ):
        """`keras.Model.fit` with `training_callbacks()` run first."""
        callbacks = [
            *self.training_callbacks(
                x, y, batch_size=batch_size, shuffle=shuffle
            ),
            *(callbacks or []),
        ]
        return super().fit(
            x,
            y,
            batch_size=batch_size,
            epochs=epochs,
            verbose=verbose,
            callbacks=callbacks,
            validation_split=validation_split,
            validation_data=validation_data,
            shuffle=shuffle,
            **kwargs,
        )

    def __setattr__(self, name, value):
        # Torch: subclasses set layers before `Module.__init__` has run
        # (inside `keras.Model.__init__`), which torch refuses; such
        # attributes are stored plainly. They are still tracked first, as
        # Keras does on the other backends: tracking order is the order of
        # `trainable_variables`, which optimizers save slots by, so a
        # `.keras` file saved under torch restores its optimizer state
        # under TensorFlow and JAX.
        if keras.config.backend() == "torch" and "_modules" not in vars(self):
            if name != "_tracker":
                if not hasattr(self, "_tracker"):
                    self._initialize_tracker()
                value = self._tracker.track(value)
            return object.__setattr__(self, name, value)
        return super().__setattr__(name, value)

    def __call__(self, *args, **kwargs):
        # torch DDP: the training forward goes through the DDP wrapper so
        # its backward hooks average the gradients (msakeras.backend.
        # distribute); `None` everywhere else.
        outputs = distribute.torch_forward(self, args, kwargs)
        if outputs is not None:
            return outputs
        return super().__call__(*args, **kwargs)

    def compute_loss(
        self, x=None, y=None, y_pred=None, sample_weight=None, training=True
    ):
        """The compiled loss on `supervised_prediction(y_pred, y)` (plus
        every `add_loss` term of the layers), plus `auxiliary_loss`."""
        loss = super().compute_loss(
            x=x,
            y=y,
            y_pred=self.supervised_prediction(y_pred, y),
            sample_weight=sample_weight,
            training=training,
        )
        auxiliary = self.auxiliary_loss(x, y, y_pred, training)
        if auxiliary is None:
            return loss
        return loss + ops.cast(auxiliary, loss.dtype)

    def auxiliary_loss(self, x, y, y_pred, training):
        """The model's objective beyond the compiled loss.

        Overridden by the models whose objective combines several outputs
        (contrastive, mutual-information and label-generation terms); it
        updates the trackers of its terms and returns their weighted sum
        (a scalar), or None where there is nothing to add (the default).
        `y` is None in `predict`-like calls; `training` is False in
        `evaluate`.
        """
        return None

    def supervised_prediction(self, y_pred, y):
        """What the compiled loss and metrics see: `y_pred["sentiment"]`.

        DashFusion keeps only the anchor rows of a batch that also holds
        its contrastive partners.
        """
        return self._sentiment(y_pred)

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        return super().compute_metrics(
            x,
            y,
            self.supervised_prediction(y_pred, y),
            sample_weight=sample_weight,
        )

    def compile(self, optimizer="auto", loss="auto", metrics="auto", **kwargs):
        if optimizer == "auto":
            optimizer = keras.optimizers.Adam(learning_rate=1e-3)
        if loss == "auto":
            loss = keras.losses.MeanAbsoluteError()
        if metrics == "auto":
            metrics = [keras.metrics.MeanAbsoluteError(name="mae")]
        super().compile(
            optimizer=optimizer, loss=loss, metrics=metrics, **kwargs
        )

    def compile_from_config(self, config):
        # Keras skips re-compiling on load when `compile()` is overridden.
        config = keras.saving.deserialize_keras_object(config)
        self.compile(**config)
        if self.built and self.optimizer is not None:
            self.optimizer.build(self.trainable_variables)

    # --- presets (`msakeras/models/<model>/<model>_presets.py`) ----------
    presets_module = None
    """The model's presets module, declared once per model class. It
    defines `PRESETS` (`{preset name: table}`), `PRESET_CONSTRUCTOR_KEYS`
    (`{table key: constructor argument}`), `PRESET_COMPILE_KEYS` (keys for
    the optimizer only, not in the table) and `compile_arguments(model,
    settings)` (the paper's optimizers); `__init_subclass__` reads them
    into the attributes below."""
    # `{preset name: table}`, read-only; empty for a plain `MSAModel`.
    presets = presets_lib.preset_tables({})
    # `{table key: constructor argument}` for the keys that build the model.
    preset_constructor_keys = {}
    # Keys `from_preset` accepts for the optimizer only (not in the table).
    preset_compile_keys = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        module = cls.__dict__.get("presets_module")
        if module is None:
            return
        cls.presets = presets_lib.preset_tables(module.PRESETS)
        cls.preset_constructor_keys = module.PRESET_CONSTRUCTOR_KEYS
        cls.preset_compile_keys = tuple(module.PRESET_COMPILE_KEYS)

    @classmethod
    def preset_compile_arguments(cls, model, settings):
        """`compile` arguments (the paper's optimizers) from a preset table:
        the presets module's `compile_arguments`, none without one."""
        if cls.presets_module is None:
            return {}
        return cls.presets_module.compile_arguments(model, settings)

    @classmethod
    def from_preset(
        cls,
        preset,
        *,
        text_encoder,
        audio_dim,
        vision_dim,
        compile=True,
        **overrides,
    ):
        """Builds the model with a preset's settings (`cls.presets`).

        Args:
            preset: a name from `cls.presets`, e.g. `"mmim_mosi"`.
            text_encoder, audio_dim, vision_dim: as the constructor.
            compile: compile with the preset's optimizers (as the recipes).
            **overrides: table keys to replace (`learning_rate=5e-4`) or
                constructor arguments the table does not hold (`name=...`).
        """
        settings, arguments = presets_lib.resolve_preset(cls, preset, overrides)
        model = cls(
            text_encoder,
            audio_dim=audio_dim,
            vision_dim=vision_dim,
            **arguments,
        )
        if compile:
            model.compile(**cls.preset_compile_arguments(model, settings))
        return model

    @staticmethod
    def _sentiment(y_pred):
        if isinstance(y_pred, dict):
            return y_pred["sentiment"]
        return y_pred

    config_attribute_names = {}
    """`{constructor argument: attribute}` where a subclass keeps an
    argument under another name (`get_config`); a dotted name reads it
    from a sublayer (`"self_mm_features.fusion_dim"`)."""

    def get_config(self):
        """The constructor's arguments, read back from the model.

        Each argument of the subclass's `__init__` is stored on the model
        under its own name (or the name `config_attribute_names` gives);
        sub-models (the text encoder) are serialized, and Keras's `name`,
        `trainable` and `dtype` come first. A plain functional `MSAModel`
        (no `text_encoder` argument) gives Keras's functional config.
        """
        config = super().get_config()
        parameters = inspect.signature(type(self).__init__).parameters
        if "text_encoder" not in parameters:
            return config
        variadic = (
            inspect.Parameter.VAR_POSITIONAL,
            inspect.Parameter.VAR_KEYWORD,
        )
        for name, parameter in parameters.items():
            if name == "self" or parameter.kind in variadic:
                continue
            value = self
            for attribute in self.config_attribute_names.get(name, name).split(
                "."
            ):
                value = getattr(value, attribute)
            if isinstance(value, keras.layers.Layer):
                value = self.serialize_sublayer(value)
            config[name] = value
        return config

    @staticmethod
    def serialize_sublayer(layer):
        """Serialize a user-swappable sub-model (e.g. the text encoder)."""
        return keras.layers.serialize(layer)

    @staticmethod
    def deserialize_sublayer(config):
        if isinstance(config, dict):
            return keras.layers.deserialize(config)
        return config

    @classmethod
    def from_config(cls, config):
        """`cls(**config)` with the `text_encoder` entry deserialized.

        A config without `text_encoder` (a plain functional `MSAModel`)
        goes to `keras.Model.from_config`.
        """
        if "text_encoder" not in config:
            return super().from_config(config)
        config = dict(config)
        config["text_encoder"] = cls.deserialize_sublayer(
            config["text_encoder"]
        )
        return cls(**config)


def sequence_inputs(audio_dim, vision_dim):
    """The named `keras.Input`s shared by the BERT-text models.

    Token ids and padding mask of the text, and audio and vision frame
    sequences with their masks (any sequence lengths).
    """
    return {
        "text_token_ids": keras.Input(
            (None,), dtype="int32", name="text_token_ids"
        ),
        "text_padding_mask": keras.Input(
            (None,), dtype="int32", name="text_padding_mask"
        ),
        "audio": keras.Input((None, audio_dim), name="audio"),
        "audio_mask": keras.Input((None,), dtype="int32", name="audio_mask"),
        "vision": keras.Input((None, vision_dim), name="vision"),
        "vision_mask": keras.Input((None,), dtype="int32", name="vision_mask"),
    }
