"""Data-parallel training on each backend's own engine.

`model.fit` stays the training loop on every backend; this module only
picks and wires the engine the backend already has:

- JAX: `keras.distribution.DataParallel` over a device mesh (one SPMD
  program over the global batch; `keras.distribution.initialize()` first
  on several hosts). Nothing in the models changes: every op already sees
  the global batch.
- TensorFlow: `tf.distribute.MirroredStrategy` (one process, all local
  devices; `MultiWorkerMirroredStrategy` with `TF_CONFIG` across hosts).
  Build and compile the model inside `setup.scope()`. Each replica runs
  the step on its slice of the global batch and Keras sums the gradients
  across replicas, so every loss term is scaled by `1 / replicas`.
- torch: `torch.distributed` with `DistributedDataParallel` (DDP), one
  process per device launched by `torchrun`. `model.fit` runs in every
  process on that process's shard of the data; `MSAModel.__call__` sends
  the training forward pass through a DDP wrapper of the model so DDP
  averages the gradients in the backward pass.

Objectives that are not a mean of per-sample terms (in-batch contrastive
losses, the GMM entropy of MMIM, per-sample label tables) call
`gather_replicas` to see the global batch, with gradients flowing back to
each replica's rows, so N replicas compute what one device computes on
the same global batch.
"""

import contextlib
import os

import keras

MODES = ("none", "auto", "data-parallel")


class DataParallelSetup:
    """What a training script needs to know about the chosen engine.

    Attributes:
        engine: str. `"none"`, `"jax-data-parallel"`,
            `"tf-mirrored"`, `"tf-multi-worker"` or `"torch-ddp"`.
        num_replicas: int. Replicas sharing one global batch.
        process_index, process_count: int. This process and the number of
            processes (torch: one per replica; JAX multi-host, TF
            multi-worker: one per host).
        strategy: the `tf.distribute.Strategy` (TensorFlow) or `None`.
        distribution: the `keras.distribution.Distribution` (JAX) or
            `None`.
    """

    def __init__(
        self,
        engine="none",
        num_replicas=1,
        process_index=0,
        process_count=1,
        strategy=None,
        distribution=None,
    ):
        self.engine = engine
        self.num_replicas = num_replicas
        self.process_index = process_index
        self.process_count = process_count
        self.strategy = strategy
        self.distribution = distribution

    def scope(self):
        """Context to build and compile the model in (TF strategy scope)."""
        if self.strategy is not None:
            return self.strategy.scope()
        return contextlib.nullcontext()

    def per_process_batch_size(self, global_batch_size):
        """The batch each process feeds to `fit` for a global batch.

        JAX and TensorFlow split the batch a process feeds across its
        local devices themselves; torch DDP runs one process per replica.
        """
        if global_batch_size % self.num_replicas:
            raise ValueError(
                f"The global batch size ({global_batch_size}) must be "
                f"divisible by the number of replicas ({self.num_replicas})."
            )
        return global_batch_size // self.process_count

    @property
    def is_chief(self):
        """True in the process that writes checkpoints and records."""
        return self.process_index == 0

    def __repr__(self):
        return (
            f"DataParallelSetup(engine={self.engine!r}, "
            f"num_replicas={self.num_replicas}, "
            f"process={self.process_index}/{self.process_count})"
        )


def setup_data_parallel(mode="auto"):
    """Configures the backend's data-parallel engine.

    Call once, before building the model.

    Args:
        mode: `"none"` (one device), `"auto"` (data parallel when more than
            one device or process is available, else none) or
            `"data-parallel"` (data parallel even on one device).

    Returns:
        A `DataParallelSetup`.
    """
    if mode not in MODES:
        raise ValueError(f"`mode` must be one of {MODES}; received {mode!r}.")
    if mode == "none":
        return DataParallelSetup()
    backend = keras.config.backend()
    if backend == "jax":
        return _setup_jax(mode)
    if backend == "tensorflow":
        return _setup_tensorflow(mode)
    if backend == "torch":
        return _setup_torch(mode)
    raise ValueError(f"No data-parallel engine for backend {backend!r}.")


def _setup_jax(mode):
    import jax

    if "KERAS_DISTRIBUTION_JOB_ADDRESSES" in os.environ:
        # Multi-host, before anything touches the devices:
        # `keras.distribution.initialize` reads
        # KERAS_DISTRIBUTION_JOB_ADDRESSES (the coordinator's address),
        # KERAS_DISTRIBUTION_NUM_PROCESSES and KERAS_DISTRIBUTION_PROCESS_ID.
        keras.distribution.initialize()
    devices = keras.distribution.list_devices()
    if mode == "auto" and len(devices) == 1:
        return DataParallelSetup()
    distribution = keras.distribution.DataParallel(devices=devices)
    keras.distribution.set_distribution(distribution)
    return DataParallelSetup(
        "jax-data-parallel",
        num_replicas=len(devices),
        process_index=jax.process_index(),
        process_count=jax.process_count(),
        distribution=distribution,
    )


def _setup_tensorflow(mode):
    import tensorflow as tf

    if "TF_CONFIG" in os.environ:
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
        resolver = strategy.cluster_resolver
        return DataParallelSetup(
            "tf-multi-worker",
            num_replicas=strategy.num_replicas_in_sync,
            process_index=resolver.task_id,
            process_count=len(
                resolver.cluster_spec().as_dict().get("worker", [None])
            ),
            strategy=strategy,
        )
    gpus = tf.config.list_logical_devices("GPU")
    devices = [device.name for device in gpus] or [
        device.name for device in tf.config.list_logical_devices("CPU")
    ]
    if mode == "auto" and len(devices) == 1:
        return DataParallelSetup()
    strategy = tf.distribute.MirroredStrategy(devices)
    return DataParallelSetup(
        "tf-mirrored",
        num_replicas=strategy.num_replicas_in_sync,
        strategy=strategy,
    )


def _setup_torch(mode):
    import torch
    import torch.distributed as dist

    launched = "WORLD_SIZE" in os.environ and "RANK" in os.environ
    if not dist.is_initialized():
        if not launched:
            if mode == "auto":
                return DataParallelSetup()
            raise RuntimeError(
                "Data parallel on the torch backend runs one process per "
                "device: launch the script with `torchrun "
                "--nproc-per-node=N ...` (README, 'Training on more than "
                "one device')."
            )
        on_gpu = torch.cuda.is_available()
        if on_gpu:
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", 0)))
        dist.init_process_group("nccl" if on_gpu else "gloo")
    world_size = dist.get_world_size()
    if mode == "auto" and world_size == 1:
        return DataParallelSetup()
    return DataParallelSetup(
        "torch-ddp",
        num_replicas=world_size,
        process_index=dist.get_rank(),
        process_count=world_size,
    )


# --- inside a training step ------------------------------------------------
def _torch_world_size():
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return dist.get_world_size()
    return 1


def replica_count():
    """Replicas whose gradients the engine adds up after the step.

    1 on JAX (the step is one program over the global batch) and outside
    any distribution.
    """
    backend = keras.config.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.distribute.get_strategy().num_replicas_in_sync
    if backend == "torch":
        return _torch_world_size()
    return 1


def _is_symbolic(value):
    if isinstance(value, keras.KerasTensor):
        return True
    device = getattr(value, "device", None)
    return getattr(device, "type", None) == "meta"


def gather_replicas(value):
    """Concatenates `value` over the replicas along axis 0 (differentiable).

    The identity with one replica, on JAX (already global) and on symbolic
    tensors. Rows come in replica order, i.e. the order of the global
    batch. Gradients flow back to each replica's own rows: TensorFlow's
    `ReplicaContext.all_gather` and `torch.distributed.nn.all_gather`
    sum the incoming gradients over replicas.
    """
    backend = keras.config.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        context = tf.distribute.get_replica_context()
        if context is None or context.num_replicas_in_sync == 1:
            return value
        return context.all_gather(value, axis=0)
    if backend == "torch":
        if _torch_world_size() == 1 or _is_symbolic(value):
            return value
        import torch
        from torch.distributed.nn import functional

        return torch.cat(functional.all_gather(value.contiguous()), dim=0)
    return value


def scale_loss_for_replicas(value):
    """Scales a loss term computed per replica for the engine's reduction.

    TensorFlow sums the replicas' gradients, so a term is divided by the
    number of replicas (as Keras does for compiled losses). torch DDP
    averages and JAX is global: unchanged.
    """
    if keras.config.backend() == "tensorflow":
        count = replica_count()
        if count > 1:
            return value * (1.0 / count)
    return value


def all_reduce_sum(values):
    """Sums a list of tensors over the replicas (TensorFlow replica context).

    Returns the list unchanged outside a TensorFlow replica context with
    more than one replica. Used where a quantity over the global gradient
    (a global norm) is needed before the optimizer's own reduction.
    """
    if keras.config.backend() != "tensorflow":
        return values
    import tensorflow as tf

    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return values
    present = [value for value in values if value is not None]
    if not present:
        return values
    reduced = iter(context.all_reduce(tf.distribute.ReduceOp.SUM, present))
    return [None if value is None else next(reduced) for value in values]


# --- torch: the training forward through DDP --------------------------------
def torch_forward(model, args, kwargs):
    """Runs the training forward of `model` through its DDP wrapper.

    Returns `None` when no DDP wrapper applies (other backends, one
    process, inference), in which case the caller runs the plain call.
    The wrapper is created on the first training call in every process
    (DDP's constructor is collective and broadcasts rank 0's weights).
    """
    if keras.config.backend() != "torch" or not kwargs.get("training"):
        return None
    if model.__dict__.get("_in_data_parallel_forward"):
        return None
    if _torch_world_size() == 1 or any(
        _is_symbolic(value) for value in keras.tree.flatten((args, kwargs))
    ):
        return None
    wrapper = model.__dict__.get("_data_parallel_wrapper")
    if wrapper is None:
        from torch.nn.parallel import DistributedDataParallel

        # `static_graph`: the parameters a model's loss reaches are the
        # same at every step but not all of them (MMIM's stage-1 view
        # never reaches the critics' entropy projection); DDP learns the
        # set at the first step. (`find_unused_parameters=True` fails on
        # that view with "gradient which is undefined" under gloo.)
        wrapper = DistributedDataParallel(model, static_graph=True)
        object.__setattr__(model, "_data_parallel_wrapper", wrapper)
    object.__setattr__(model, "_in_data_parallel_forward", True)
    try:
        return wrapper(*args, **kwargs)
    finally:
        object.__setattr__(model, "_in_data_parallel_forward", False)
