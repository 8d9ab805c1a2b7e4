"""Per-backend test configuration: `--run_large`, backend markers, threads."""

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import pytest  # noqa: E402

if keras.config.backend() == "torch":
    import torch

    torch.set_num_threads(1)


def pytest_addoption(parser):
    parser.addoption(
        "--run_large",
        action="store_true",
        default=False,
        help="also run tests marked `large`",
    )


def pytest_collection_modifyitems(config, items):
    backend = keras.config.backend()
    skip_large = pytest.mark.skip(reason="large test: pass --run_large")
    for item in items:
        if "large" in item.keywords and not config.getoption("--run_large"):
            item.add_marker(skip_large)
        marker = item.get_closest_marker("requires_backend")
        if marker is not None and backend not in marker.args:
            item.add_marker(
                pytest.mark.skip(
                    reason=f"requires backend {marker.args}, have {backend}"
                )
            )
