"""`BarberAgakovTwoStage`: MMIM's two-stage fit around a BA bound layer."""

import keras

from msakeras import training
from msakeras.layers.common import stop_gradient
from msakeras.layers.estimators import barber_agakov_bound
from msakeras.models import msa_model
from msakeras.optimizers import coupled_l2_adam
from msakeras.optimizers import global_clip_multi_optimizer


class BarberAgakovTwoStage:
    """The training procedure of a model composing a `BarberAgakovBound`.

    MMIM (Han et al., EMNLP 2021, §3.4) empties the bound's history
    memories at every epoch start and, in its two-stage fit, first
    maximises `lld_tv + lld_ta` over the critics alone (stage one) before
    the main epoch. This plain object (Keras does not track it; the
    stage-one model and optimizer are not the model's saved state) gives
    the model's `training_callbacks()` (`training.EpochStartReset`,
    `training.TwoStageFit`), `auxiliary_optimizers()` and stage-one model
    (`training.StageOne`) from explicit arguments.

    The stage-one model is a second functional graph over the model's own
    symbolic tensors: `inputs` (all of them, so it accepts the model's
    batches; inputs it does not read are allowed) to `features`, then the
    bound (optionally behind `StopGradient`), output the per-sample
    `lld_tv + lld_ta`. An `MSAModel`, so that its training forward goes
    through DDP on torch like the main model's.

    Args:
        model: the `MSAModel` (its name, `jit_compile` and `compiled`).
        bound: its `BarberAgakovBound` layer.
        inputs: the model's dict of `keras.Input`s.
        features: dict `text`, `vision`, `audio` of the symbolic features
            the bound reads in the model's graph.
        make_optimizer: callable `() -> optimizer` for stage one when
            `compile` was given none.
        enabled: bool. Whether `fit` runs stage one.
        stage_one_fraction: float in (0, 1]. Share of batches in stage one.
        stop_gradients: bool. Stop gradients at the critics' inputs in
            stage one (MMIM's `stage_one_gradients="critics"`).
    """

    def __init__(
        self,
        model,
        bound,
        inputs,
        features,
        make_optimizer,
        enabled,
        stage_one_fraction=1.0,
        stop_gradients=False,
    ):
        self.model = model
        self.bound = bound
        self.inputs = inputs
        self.features = dict(features)
        self.enabled = enabled
        self.stage_one_fraction = stage_one_fraction
        self.stop_gradients = stop_gradients
        self.stage_one = training.StageOne(
            self._build_stage_one, make_optimizer
        )

    def _build_stage_one(self):
        features = self.features
        if self.stop_gradients:
            features = {
                modality: stop_gradient.StopGradient(
                    name=f"stop_gradient_{modality}"
                )(value)
                for modality, value in features.items()
            }
        outputs = self.bound(
            features["text"], features["vision"], features["audio"]
        )
        return msa_model.MSAModel(
            self.inputs,
            keras.layers.Add(name="lld_sum")(
                [
                    outputs[f"lld_text_{modality}"]
                    for modality in barber_agakov_bound.MODALITIES
                ]
            ),
            name=f"{self.model.name}_stage_one",
        )

    def _model_arguments(self):
        model = self.model
        return {
            "jit_compile": model.jit_compile if model.compiled else None,
            "jit_compile_unsupported": model.jit_compile_unsupported,
        }

    def set_optimizers(self, optimizer, stage_one_optimizer, make_optimizers):
        """Resolves `"auto"` optimizers with `make_optimizers()`; returns
        the main one and holds the stage-one one (a fresh stage-one model).
        """
        if optimizer == "auto" or stage_one_optimizer == "auto":
            main, stage_one = make_optimizers()
            optimizer = main if optimizer == "auto" else optimizer
            if stage_one_optimizer == "auto":
                stage_one_optimizer = stage_one
        self.stage_one.set_optimizer(stage_one_optimizer)
        return optimizer

    def stage_one_model(self):
        """The compiled stage-one model (built on first use); its
        `jit_compile` follows the model's."""
        return self.stage_one.model(**self._model_arguments())

    def auxiliary_optimizers(self):
        """The stage-one optimizer when `fit` runs stage one (built here if
        stage one has not run yet, as `fit` would build it)."""
        if not self.enabled:
            return []
        return [self.stage_one.built_optimizer(**self._model_arguments())]

    def training_callbacks(self, x, y=None, batch_size=None, shuffle=True):
        """Empties the memories at every epoch start, then (when enabled)
        runs stage one."""
        callbacks = [
            training.EpochStartReset(self.bound.memory_layers().values())
        ]
        if self.enabled:
            callbacks.append(
                training.TwoStageFit(
                    self.stage_one_model,
                    x,
                    y,
                    batch_size=batch_size,
                    stage_one_fraction=self.stage_one_fraction,
                    shuffle=shuffle,
                )
            )
        return callbacks


def stage_one_optimizer(mi_learning_rate, l2_decay, global_clipnorm=None):
    """MMIM's stage-one optimizer: the critics alone, `CoupledL2Adam`.

    Every variable but the critics' (`MMILB_PATTERN`) is frozen
    (`SGD(0)`); with `global_clipnorm`, one global norm over all the
    gradients is clipped (`clip_grad_norm_(model.parameters(), clip)`).
    """
    return global_clip_multi_optimizer.GlobalClipMultiOptimizer(
        keras.optimizers.OptimizerMap(
            default_optimizer=keras.optimizers.SGD(0.0),
            optimizer_map={
                barber_agakov_bound.MMILB_PATTERN: (
                    coupled_l2_adam.CoupledL2Adam(
                        mi_learning_rate, l2_decay=l2_decay
                    )
                ),
            },
        ),
        global_clipnorm=global_clipnorm,
        name="stage_one_optimizer",
    )
