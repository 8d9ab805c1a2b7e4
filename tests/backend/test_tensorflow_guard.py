"""Under torch or JAX a recipe process trains without loading TensorFlow.

keras-hub imports TensorFlow whenever it is installed; the recipes set
`MSAKERAS_KEEP_TENSORFLOW_OUT=1` so that `import msakeras` blocks it. Each
case runs in a fresh interpreter (the guard acts at import time).
"""

import json
import os
import subprocess
import sys

from msakeras.testing import TestCase

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))

TRAIN_WITHOUT_TENSORFLOW = """
import json, sys
sys.path.insert(0, "recipes")
import common  # sets MSAKERAS_KEEP_TENSORFLOW_OUT before importing msakeras
import msakeras
from msakeras.backend import tensorflow_guard
from msakeras.testing import tiny_text_encoder

model = msakeras.models.MMIMModel(
    tiny_text_encoder(), audio_dim=3, vision_dim=4,
    audio_hidden_dim=4, vision_hidden_dim=4, fusion_dim=8,
)
model.compile()
splits, _ = msakeras.data.generate_synthetic_splits(
    "mosi", num_train=4, num_valid=1, num_test=1, text_length=8,
    audio_steps=6, vision_steps=5, audio_dim=3, vision_dim=4,
    vocabulary_size=50,
)
x = {t.name: splits["train"][t.name] for t in model.inputs}
y = splits["train"]["label"]
model.fit(x, y, batch_size=4, epochs=1, verbose=0)
jax_loaded = sys.modules.get("jax") is not None
blocked_import = False
try:
    import tensorflow  # noqa: F401
except ImportError:
    blocked_import = True
loaded_before = blocked_import
tensorflow_guard.allow_tensorflow()
import tensorflow  # noqa: E402,F811
print(json.dumps({
    "blocked_while_training": loaded_before,
    "jax_loaded": jax_loaded,
    "loaded_after_allow": sys.modules.get("tensorflow") is not None,
}))
"""


def run_python(arguments, backend, **environment):
    """`python ARGUMENTS` in a fresh interpreter under `backend`, the guard
    variable unset unless `environment` sets it; raises on failure."""
    env = dict(os.environ, KERAS_BACKEND=backend, PYTHONPATH=ROOT)
    env.pop("MSAKERAS_KEEP_TENSORFLOW_OUT", None)
    env.update(environment)
    result = subprocess.run(
        [sys.executable, *arguments],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode != 0:
        raise AssertionError(result.stderr[-3000:])
    return result


def run(code, backend, **environment):
    result = run_python(["-c", code], backend, **environment)
    return json.loads(result.stdout.strip().splitlines()[-1])


class TensorFlowGuardTest(TestCase):
    def test_recipe_process_trains_under_torch_without_tensorflow(self):
        outcome = run(TRAIN_WITHOUT_TENSORFLOW, "torch")
        self.assertTrue(outcome["blocked_while_training"])
        # Keras imports JAX whenever installed (orbax callback): kept out.
        self.assertFalse(outcome["jax_loaded"])
        # `--tensorboard` lifts the block: TensorFlow loads again.
        self.assertTrue(outcome["loaded_after_allow"])

    def test_plain_import_leaves_tensorflow_alone(self):
        # A user's program that imports msakeras keeps TensorFlow usable.
        outcome = run(
            "import json, sys, msakeras, tensorflow\n"
            "print(json.dumps(sys.modules['tensorflow'] is not None))",
            "torch",
        )
        self.assertTrue(outcome)

    def test_never_blocks_under_the_tensorflow_backend(self):
        outcome = run(
            "import json, sys, msakeras\n"
            "from msakeras.backend import tensorflow_guard\n"
            "print(json.dumps(tensorflow_guard.tensorflow_blocked()))",
            "tensorflow",
            MSAKERAS_KEEP_TENSORFLOW_OUT="1",
        )
        self.assertFalse(outcome)
