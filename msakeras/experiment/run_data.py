"""What a recipe run reads: the text encoder, the splits, data parallelism.

Every split goes through `msakeras.data.FeatureSequence` (train and valid
here; the test split behind `HeldOutTestSplit`'s seal).
"""

import functools

from msakeras import data as msa_data
from msakeras import layers
from msakeras.experiment.held_out_test_split import HeldOutTestSplit
from msakeras.experiment.run_callbacks import selection_rule
from msakeras.layers.encoders import backbone_vocabulary


def make_text_encoder(run, fine_tune=True):
    """`BertTextEncoder` over `--text-backbone` (default: bundled MiniLM)."""
    backbone = layers.load_bert_backbone(run.text_backbone)
    try:
        backbone_vocabulary.check_vocabulary_size(
            run.data,
            run.attributes.get("text_vocabulary"),
            run.text_backbone,
            backbone.vocabulary_size,
        )
    except ValueError as error:
        raise SystemExit(str(error)) from None
    return layers.BertTextEncoder(
        backbone, fine_tune=fine_tune, name="text_encoder"
    )


def make_datasets(run, model, seed):
    """Train / valid `FeatureSequence`s and the sealed `HeldOutTestSplit`.

    Under `--distribute` each process reads only its shard of every global
    batch of the training split (`batch_size` is the global batch); the
    valid and test splits are read whole by every process.
    """
    input_keys = [tensor.name for tensor in model.inputs]
    batch_size = run.hyperparameters["batch_size"]
    setup = data_parallel(run)

    def split(name, shuffle, max_samples=None, sharded=True):
        return msa_data.FeatureSequence(
            run.data,
            name,
            batch_size=batch_size,
            input_keys=input_keys,
            shuffle=shuffle,
            seed=seed,
            max_samples=max_samples,
            shard_index=setup.process_index if sharded else 0,
            shard_count=setup.process_count if sharded else 1,
        )

    return (
        split("train", True, run.max_train_samples),
        # Validation whole in every process: the same val_mae everywhere,
        # so checkpoint and early-stopping decisions agree across processes.
        selection_rule(run).check_validation_data(
            split("valid", False, sharded=False)
        ),
        HeldOutTestSplit(run.data, "test"),
    )


def data_parallel(run):
    """The `DataParallelSetup` of `--distribute`, made once per run."""
    return _data_parallel_setup(run.distribute)


@functools.lru_cache(maxsize=None)
def _data_parallel_setup(mode):
    """One `DataParallelSetup` per mode and process (the engine's process
    group is set up once)."""
    from msakeras.backend import distribute

    setup = distribute.setup_data_parallel(mode)
    if setup.engine != "none":
        print(f"data parallel: {setup}")
    return setup


def check_data_parallel(model, setup):
    """Refuses a model whose objective is not yet split-safe (TF, torch).

    On TensorFlow and torch each replica computes the loss on its slice of
    the batch; a model's objective terms that need the whole batch
    (in-batch contrastive losses, batch statistics) must gather it, and
    its extra loss terms must be scaled for the engine's reduction. Models
    that do so say `supports_replica_split = True` (MMIM). JAX's
    `keras.distribution` runs one program over the global batch, so every
    model is exact there.
    """
    if setup.num_replicas == 1 or setup.engine == "jax-data-parallel":
        return
    # A plain `keras.Model` declares neither attribute: refused.
    if not getattr(model, "supports_replica_split", False):
        reason = getattr(model, "replica_split_refusal", None) or (
            "its objective computes batch-level terms per replica (not "
            "gathered over replicas, not scaled for the gradient reduction)"
        )
        raise SystemExit(
            f"{type(model).__name__} does not support --distribute on "
            f"{setup.engine} yet: {reason}; two replicas would not train "
            "the same model as one device. Use the JAX backend (exact for "
            "every model), one device, or MMIM."
        )


def test_split(run):
    """The sealed `HeldOutTestSplit` of `run.data` (nothing read yet)."""
    return HeldOutTestSplit(run.data, "test")


def train_split(run, input_keys=None, shuffle=False, seed=0):
    """The training split as the run reads it (`--max-train-samples`,
    `batch_size`): for sizes, schedules and training-data wrappers."""
    return msa_data.FeatureSequence(
        run.data,
        "train",
        batch_size=run.hyperparameters["batch_size"],
        input_keys=input_keys,
        shuffle=shuffle,
        seed=seed,
        max_samples=run.max_train_samples,
    )


def train_sample_count(run):
    """Samples of the training split the run trains on."""
    return train_split(run).num_samples


def train_steps_per_epoch(run):
    """Batches of `batch_size` per training epoch."""
    return len(train_split(run))


def model_from_preset(model_class, run, settings=None, **arguments):
    """`model_class.from_preset("<model>_<dataset>", ...)` for this run.

    What every recipe passes: the text encoder of `--text-backbone`
    (`make_text_encoder`), the file's `audio_dim`/`vision_dim`, the run's
    table (`settings`, default `run.hyperparameters`: the preset with the
    run's changes; `run`: the run's `RunSettings`) and the model's name;
    `arguments` adds the recipe's own constructor arguments (its flags,
    data-derived sizes).
    """
    settings = run.hyperparameters if settings is None else settings
    return model_class.from_preset(
        f"{run.model_name}_{run.dataset}",
        text_encoder=make_text_encoder(run),
        audio_dim=run.attributes["audio_dim"],
        vision_dim=run.attributes["vision_dim"],
        name=run.model_name,
        **arguments,
        **dict(settings),
    )
