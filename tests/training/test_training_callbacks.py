"""`MSAModel.training_callbacks` / `auxiliary_optimizers` and the
`msakeras.training` components, on a tiny functional model."""

import keras
import numpy as np

from msakeras import training
from msakeras.layers.state import batch_history_memory
from msakeras.models import msa_model


class RecordEpochs(keras.callbacks.Callback):
    def __init__(self, tag, events):
        super().__init__()
        self.tag = tag
        self.events = events

    def on_epoch_begin(self, epoch, logs=None):
        self.events.append((self.tag, epoch))


class DeclaringModel(msa_model.MSAModel):
    """Declares one training callback and records what it was given."""

    def training_callbacks(self, x, y=None, batch_size=None, shuffle=True):
        self.given = (x, y, batch_size, shuffle)
        return [RecordEpochs("model", self.events)]


def _data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(8, 3)).astype("float32"), rng.normal(size=(8,))


def test_fit_runs_declared_callbacks_before_the_callers():
    inputs = keras.Input((3,))
    model = DeclaringModel(inputs, {"sentiment": keras.layers.Dense(1)(inputs)})
    model.events = []
    model.compile()
    x, y = _data()
    model.fit(
        x,
        y,
        batch_size=4,
        epochs=2,
        shuffle=False,
        verbose=0,
        callbacks=[RecordEpochs("user", model.events)],
    )
    assert model.events == [
        ("model", 0),
        ("user", 0),
        ("model", 1),
        ("user", 1),
    ]
    assert model.given[0] is x and model.given[1] is y
    assert model.given[2:] == (4, False)


def test_defaults_declare_nothing():
    inputs = keras.Input((3,))
    model = msa_model.MSAModel(inputs, keras.layers.Dense(1)(inputs))
    assert model.training_callbacks(None) == []
    assert model.auxiliary_optimizers() == []
    assert model.supports_replica_split is False


def test_epoch_start_reset_empties_the_memory():
    memory = batch_history_memory.BatchHistoryMemory(4, num_classes=2)
    memory.build((None, 2))
    memory.write(np.ones((3, 2), "float32"), np.ones((3, 2), "float32"))
    memory.increment()
    assert int(keras.ops.convert_to_numpy(memory.batch_counter)) == 1
    training.EpochStartReset([memory]).on_epoch_begin(0)
    assert int(keras.ops.convert_to_numpy(memory.batch_counter)) == 0
    _, weights = memory.read()
    assert float(np.sum(keras.ops.convert_to_numpy(weights))) == 0.0


def test_maximize_output_is_minus_the_output():
    y_pred = np.array([[1.5], [-2.0]], "float32")
    loss = training.MaximizeOutput(reduction=None)(np.zeros(2), y_pred)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loss), [-1.5, 2.0])
