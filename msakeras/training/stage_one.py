"""`StageOne`: the stage-one view of a model and its optimizer."""

from msakeras.training import maximize_output


class StageOne:
    """Builds, compiles and holds the stage-one model of a two-stage fit.

    The stage-one model shares its layers with the main model (a second
    functional graph over the encoders and critics) and has an optimizer
    of its own, which is not part of the main model's saved state:
    `MSAModel.auxiliary_optimizers()` hands it to
    `msakeras.callbacks.ResumableBackup`. A plain object (Keras does not
    track it), owned by the model.

    Args:
        build_model: callable `() -> keras.Model` whose output is the
            per-sample objective to maximise (`MaximizeOutput`).
        make_optimizer: callable `() -> optimizer`, used when no optimizer
            was set (`set_optimizer`) before the first `model()`.
    """

    def __init__(self, build_model, make_optimizer):
        self._build_model = build_model
        self._make_optimizer = make_optimizer
        self._model = None
        self._optimizer = None

    @property
    def built_model(self):
        """The stage-one model if built, else `None` (builds nothing)."""
        return self._model

    def set_optimizer(self, optimizer):
        """Uses `optimizer` for stage one (a fresh stage-one model)."""
        self._optimizer = optimizer
        self._model = None

    def model(self, jit_compile=None, jit_compile_unsupported=None):
        """The compiled stage-one model (built on first use).

        Args:
            jit_compile: the main model's setting, which stage one follows
                (also when it changes after the first call); `None` (the
                main model is not compiled yet): `"auto"` when built, and
                left as it is afterwards.
            jit_compile_unsupported: the main model's
                `MSAModel.jit_compile_unsupported`.
        """
        if self._model is None:
            if self._optimizer is None:
                self._optimizer = self._make_optimizer()
            model = self._build_model()
            if jit_compile_unsupported is not None:
                model.jit_compile_unsupported = jit_compile_unsupported
            model.compile(
                optimizer=self._optimizer,
                loss=maximize_output.MaximizeOutput(),
                metrics=None,
                jit_compile="auto" if jit_compile is None else jit_compile,
            )
            self._model = model
        elif jit_compile is not None and self._model.jit_compile != jit_compile:
            self._model.jit_compile = jit_compile
        return self._model

    def built_optimizer(self, **model_arguments):
        """The stage-one optimizer, built over the stage-one variables.

        As `fit` would build it; for a resume that restores its state
        before the first stage one runs. `model_arguments` go to `model`.
        """
        model = self.model(**model_arguments)
        if not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)
        return model.optimizer
