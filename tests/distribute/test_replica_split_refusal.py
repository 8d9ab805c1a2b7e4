"""Recipes refuse `--distribute` on TF/torch for models that are not split-safe.

Each such model says *why* (its `replica_split_refusal`), and the recipe's
error carries that reason; MMIM is split-safe and passes, and JAX's
`keras.distribution` (one program over the global batch) passes every model.
"""

import pytest

from msakeras import models
from msakeras.backend import distribute
from msakeras.experiment import run_data

REFUSING = {
    models.HyConModel: "contrastive",
    models.DashFusionModel: "ContrastivePairSampler",
    models.SelfMIModel: "CPC InfoNCE",
    models.MCERModel: "KL terms",
}


def _Stand(model_class):
    """A stand-in (same class name) with the attributes the check reads."""
    attributes = {
        "supports_replica_split": model_class.supports_replica_split,
        "replica_split_refusal": getattr(
            model_class, "replica_split_refusal", None
        ),
    }
    return type(model_class.__name__, (), attributes)()


@pytest.mark.parametrize("engine", ["tf-mirrored", "torch-ddp"])
@pytest.mark.parametrize(
    "model_class", list(REFUSING), ids=lambda c: c.__name__
)
def test_refusal_names_the_model_and_its_reason(model_class, engine):
    setup = distribute.DataParallelSetup(engine, num_replicas=2)
    stand = _Stand(model_class)
    with pytest.raises(SystemExit) as raised:
        run_data.check_data_parallel(stand, setup)
    message = str(raised.value)
    assert model_class.__name__ in message
    assert engine in message
    assert REFUSING[model_class] in message
    assert model_class.replica_split_refusal in message


@pytest.mark.parametrize(
    "model_class", list(REFUSING), ids=lambda c: c.__name__
)
def test_jax_and_one_device_never_refuse(model_class):
    stand = _Stand(model_class)
    run_data.check_data_parallel(
        stand, distribute.DataParallelSetup("jax-data-parallel", num_replicas=2)
    )
    run_data.check_data_parallel(
        stand, distribute.DataParallelSetup("torch-ddp", num_replicas=1)
    )


def test_mmim_is_split_safe():
    assert models.MMIMModel.supports_replica_split
    run_data.check_data_parallel(
        _Stand(models.MMIMModel),
        distribute.DataParallelSetup("tf-mirrored", num_replicas=2),
    )
