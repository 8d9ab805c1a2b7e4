"""Every model trains under `mixed_bfloat16` like under float32.

`--mixed-precision` gives `mixed_bfloat16` on CPU. For each model a tiny
configuration is fitted for a few epochs from the same initial weights
under float32 and under mixed_bfloat16: every loss must be finite, and the
held-out MAE ("test score") of the mixed run must be within `TOLERANCE` of
the float32 run's (labels lie in [-3, 3]).
"""

import keras
import numpy as np
from absl.testing import parameterized

from msakeras.testing import TestCase
from tests.models.dashfusion import test_dashfusion_model as dashfusion
from tests.models.hycon import test_hycon_model as hycon
from tests.models.mmim import test_mmim_model as mmim
from tests.models.self_mi import test_self_mi_model as self_mi

TOLERANCE = 0.25  # absolute held-out MAE difference


def _split(x, y, count):
    head = {key: value[:count] for key, value in x.items()}
    tail = {key: value[count:] for key, value in x.items()}
    return (head, y[:count]), (tail, y[count:])


def _data(name):
    if name == "mmim":
        x, y = mmim.tiny_batch(num_samples=24, seed=1)
        return _split(x, y, 16)
    if name == "hycon":
        x, y = hycon.tiny_batch(num_samples=24, seed=1)
        return _split(x, y, 16)
    if name == "self_mi":
        x, y = self_mi.tiny_data(seed=1)
        count = (3 * len(y)) // 4
        return _split(x, y, count)
    train = dashfusion.tiny_data(batch=8, seed=1)
    test = dashfusion.tiny_data(batch=8, seed=2)
    return train, test


BUILDERS = {
    "mmim": lambda: mmim.tiny_model(fusion_dropout=0.0),
    "hycon": hycon.tiny_model,
    "self_mi": self_mi.tiny_model,
    "dashfusion": dashfusion.tiny_model,
}


def _train_and_score(name, policy):
    (x, y), (x_test, y_test) = _data(name)
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        keras.utils.set_random_seed(11)
        model = BUILDERS[name]()
        model.compile()
        history = model.fit(
            x, y, batch_size=8, epochs=4, shuffle=False, verbose=0
        )
        predictions = model.predict(x_test, batch_size=8, verbose=0)
    finally:
        keras.config.set_dtype_policy(previous)
    sentiment = np.asarray(predictions["sentiment"], "float32").reshape(-1)
    score = float(np.mean(np.abs(sentiment - y_test.reshape(-1))))
    return np.asarray(history.history["loss"], "float64"), score


class MixedPrecisionModelTest(TestCase):
    @parameterized.named_parameters(*[(name, name) for name in BUILDERS])
    def test_mixed_bfloat16_close_to_float32(self, name):
        losses_32, score_32 = _train_and_score(name, "float32")
        losses_16, score_16 = _train_and_score(name, "mixed_bfloat16")
        print(
            f"{name}: held-out MAE float32 {score_32:.4f}, mixed_bfloat16 "
            f"{score_16:.4f}; last loss {losses_32[-1]:.4f} / "
            f"{losses_16[-1]:.4f}"
        )
        self.assertTrue(np.all(np.isfinite(losses_16)), losses_16)
        self.assertTrue(np.isfinite(score_16))
        self.assertLessEqual(abs(score_16 - score_32), TOLERANCE)
