"""Inference throughput and training peak RSS, msakeras vs MMSA 2.2.1's MMIM.

Two modes, both side by side with MMSA through the `throughput.py` harness
(its dataset writer, encoder folders, MMSA set-up and table helpers):

`--mode inference`: MMIM's forward pass in eval mode over the test split of
one synthetic MOSI-shaped dataset (text 50 tokens, audio 375 x 5, vision
500 x 20; `throughput.prepare`), the same batches of `--batch-size` on both
sides. msakeras runs the `msakeras.predict` path (`.keras` loaded without
optimizer state, `predict_on_batch`, one row per `--compile` mode); MMSA
runs its `AMIO` MMIM under `model.eval()` and `torch.no_grad()`, as its
`do_test`. Weights are the untrained ones of each framework (speed does not
depend on their values). Per run: one warm-up pass, then `--passes` timed
passes; samples/s is the median pass. Every configuration runs in its own
process, msakeras next to MMSA, repeated `--repeats` times (A B A B ...).

`--mode memory`: the peak resident memory (`ru_maxrss` of the child, from
`os.wait4`) of a training run: `recipes/mmim.py --epochs 1` on the embedded
synthetic MOSI set under `--backends`, against MMSA's MMIM trained one epoch
(then its validation pass) on the same arrays written as an MMSA pickle,
with the same bundled MiniLM, batch 32. Peak RSS does not depend on the
machine's load; wall seconds are printed beside it only.

Wall clock is the measure; `/proc/loadavg` is recorded at the start and end
and every run's 1-minute load beside it; a load above the core count is
flagged BUSY. Rows are appended to
`benchmarks/inference_memory_{inference,memory}.csv`.

    OMP_NUM_THREADS=1 python benchmarks/inference_memory.py --mode inference \
        --mmsa-python /work/mmsa-venv/bin/python [--encoders minilm]
    OMP_NUM_THREADS=1 python benchmarks/inference_memory.py --mode memory \
        --mmsa-python /work/mmsa-venv/bin/python
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import throughput  # noqa: E402  (the shared harness)


# --- inference workers ------------------------------------------------------
def time_passes(run_batch, batches, passes):
    """`(warm-up seconds, seconds of each of `passes` timed passes)`.

    The warm-up pass holds tracing and compilation (`--compile on`).
    """
    start = time.perf_counter()
    for batch in batches:
        run_batch(batch)
    warmup = time.perf_counter() - start
    seconds = []
    for _ in range(passes):
        start = time.perf_counter()
        for batch in batches:
            run_batch(batch)
        seconds.append(time.perf_counter() - start)
    return warmup, seconds


def infer_msakeras(options):
    sys.path.insert(0, os.path.join(ROOT, "recipes"))
    import common
    import keras

    import msakeras
    from msakeras import predict

    if keras.config.backend() == "torch":
        import torch

        torch.set_num_threads(options.threads)
    recipe = __import__("mmim")
    args = recipe.parse_args(
        [
            "--data",
            options.data,
            "--text-backbone",
            options.encoder_path,
            "--output-dir",
            os.path.join(options.workdir, "runs"),
        ]
    )
    common.set_precision(args)
    keras.utils.set_random_seed(0)
    path = os.path.join(options.workdir, f"mmim_{keras.config.backend()}.keras")
    recipe.build_model(args).save(path)
    jit_compile = predict.resolve_jit_compile(options.compile)
    predictor = predict.load_predictor(path, jit_compile=jit_compile)
    split = msakeras.data.load_split(options.data, "test")
    size = options.batch_size
    batches = [
        {
            name: predict._cast(name, split[name][start : start + size])
            for name in predictor.input_specs
        }
        for start in range(0, len(split["label"]), size)
    ]
    warmup, seconds = time_passes(
        lambda batch: predictor(batch, size), batches, options.passes
    )
    return {
        "warmup_seconds": warmup,
        "seconds": seconds,
        "samples": len(split["label"]),
        "jit_compile": jit_compile,
        "versions": f"keras {keras.__version__}",
    }


def infer_mmsa(options):
    import torch

    _, dataloader, model, _, _ = throughput.build_mmsa(options)
    model.eval()
    batches = [
        (
            batch["text"],
            (batch["audio"], batch["audio_lengths"]),
            (batch["vision"], batch["vision_lengths"]),
        )
        for batch in dataloader["test"]
    ]

    def run_batch(batch):
        with torch.no_grad():
            return model(*batch)["M"]

    warmup, seconds = time_passes(run_batch, batches, options.passes)
    return {
        "warmup_seconds": warmup,
        "seconds": seconds,
        "samples": sum(len(batch[0]) for batch in batches),
        "jit_compile": False,
        "versions": f"MMSA 2.2.1, torch {torch.__version__}",
    }


# --- memory: a recipe run and an MMSA run as children -----------------------
def child_peak(command, env):
    """Runs `command`; returns `(returncode, peak_rss_mb, wall_s, stderr)`."""
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as stderr:
        process = subprocess.Popen(
            command,
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        stderr.seek(0)
        tail = stderr.read()[-3000:]
    return (
        process.returncode,
        usage.ru_maxrss / 1024,
        time.perf_counter() - start,
        tail,
    )


def embedded_mmsa_pickle(options):
    """MMSA pickle of the recipes' embedded synthetic MOSI file."""
    sys.path.insert(0, ROOT)
    import msakeras

    data = msakeras.data.ensure_synthetic_dataset("mosi")
    splits = {
        name: msakeras.data.load_split(data, name)
        for name in ("train", "valid", "test")
    }
    path = os.path.join(options.workdir, "embedded_mosi_mmsa.pkl")
    throughput.write_mmsa_pickle(splits, path)
    return data, path, len(splits["train"]["label"])


def environment(options, backend):
    return dict(
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


def memory_runs(options, repeat):
    data, mmsa_data, num_train = embedded_mmsa_pickle(options)
    minilm = throughput.encoder_folder(options, "minilm")
    runs = [("msakeras", backend) for backend in options.backends.split(",")]
    if options.mmsa_python:
        runs.insert(1, ("mmsa", "torch"))
    rows = []
    for framework, backend in runs:
        if framework == "msakeras":
            command = [
                sys.executable,
                os.path.join(ROOT, "recipes", "mmim.py"),
                "--epochs",
                "1",
                "--output-dir",
                os.path.join(options.workdir, "memory_runs"),
            ]
        else:
            command = [
                options.mmsa_python,
                os.path.abspath(__file__),
                "--worker",
                "mmsa-train",
                "--mmsa-data",
                mmsa_data,
                "--encoder-path",
                minilm,
                "--num-train",
                str(num_train),
                "--workdir",
                options.workdir,
                "--threads",
                str(options.threads),
            ]
        load_before = os.getloadavg()[0]
        code, peak, wall, tail = child_peak(
            command, environment(options, backend)
        )
        row = {
            "mode": "memory",
            "framework": framework,
            "backend": backend,
            "repeat": repeat,
            "peak_rss_mb": round(peak),
            "wall_s": round(wall, 1),
            "load_before": round(load_before, 2),
            "load_after": round(os.getloadavg()[0], 2),
        }
        if code != 0:
            row["error"] = throughput.exception_line(tail)
            print(tail, file=sys.stderr)
        print(json.dumps(row), flush=True)
        rows.append(row)
    return rows


def train_mmsa_one_epoch(options):
    """MMSA's MMIM: one training epoch and its validation pass."""
    options.model = "mmim"
    options.batch_size = 32
    _, dataloader, model, trainer, _ = throughput.build_mmsa(options)
    original_test = trainer.do_test

    def test_then_stop(*args, **kwargs):
        original_test(*args, **kwargs)
        raise throughput._StopTraining

    trainer.do_test = test_then_stop
    try:
        trainer.do_train(model, dataloader)
    except throughput._StopTraining:
        pass


# --- inference orchestration ------------------------------------------------
def inference_runs(options, repeat):
    runs = []
    for encoder, encoder_path in options.encoder_paths.items():
        configurations = [
            ("msakeras", backend, compile)
            for backend in options.backends.split(",")
            for compile in options.compile_modes.split(",")
        ]
        if options.mmsa_python:
            configurations.insert(1, ("mmsa", "torch", "off"))
        for framework, backend, compile in configurations:
            runs.append((framework, backend, compile, encoder, encoder_path))
    rows = []
    for framework, backend, compile, encoder, encoder_path in runs:
        result_path = os.path.join(options.workdir, "inference_result.json")
        if os.path.exists(result_path):
            os.remove(result_path)
        python = options.mmsa_python if framework == "mmsa" else sys.executable
        command = [
            python,
            os.path.abspath(__file__),
            "--worker",
            f"{framework}-infer",
            "--encoder-path",
            encoder_path,
            "--compile",
            compile,
            "--result",
            result_path,
            *options.forward,
        ]
        load_before = os.getloadavg()[0]
        completed = subprocess.run(
            command,
            env=environment(options, backend),
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        row = {
            "mode": "inference",
            "framework": framework,
            "backend": backend,
            "compile": compile,
            "encoder": encoder,
            "batch_size": options.batch_size,
            "repeat": repeat,
            "load_before": round(load_before, 2),
            "load_after": round(os.getloadavg()[0], 2),
        }
        if completed.returncode != 0:
            row["error"] = throughput.exception_line(completed.stderr)
            print(completed.stderr[-3000:], file=sys.stderr)
        else:
            with open(result_path) as handle:
                result = json.load(handle)
            median = statistics.median(result["seconds"])
            row.update(
                samples=result["samples"],
                samples_per_s=round(result["samples"] / median, 2),
                pass_seconds=" ".join(f"{s:.2f}" for s in result["seconds"]),
                warmup_seconds=round(result["warmup_seconds"], 2),
                jit_compile=result["jit_compile"],
                versions=result["versions"],
            )
        print(json.dumps(row), flush=True)
        rows.append(row)
    return rows


def report(options, frame, load_start, load_end):
    cores = os.cpu_count()
    loads = [
        float(load_start.split()[0]),
        float(load_end.split()[0]),
        *frame.get("load_before", []),
        *frame.get("load_after", []),
    ]
    text = (
        f"{frame.date.iloc[0]} UTC, mode {options.mode}, {cores} cores, "
        f"{options.threads} thread(s) per run, {options.repeats} "
        f"interleaved repeat(s).\n/proc/loadavg at start: {load_start}; "
        f"at end: {load_end}.\n"
    )
    if max(loads) > cores:
        text += (
            f"**BUSY machine: 1-minute load reached {max(loads):.1f} on "
            f"{cores} cores; wall-clock figures are disturbed.**\n"
        )
    ok = frame[frame["error"].isna()] if "error" in frame else frame
    if options.mode == "inference":
        keys = ["framework", "backend", "compile", "encoder"]
        column = "samples_per_s"
    else:
        keys = ["framework", "backend"]
        column = "peak_rss_mb"
    text += f"\n{column}: median [min-max] over the repeats\n"
    for key, group in ok.groupby(keys, sort=False):
        text += f"  {' '.join(map(str, key))}: "
        text += throughput.spread(list(group[column])) + "\n"
    peers = ok[ok.framework == "mmsa"]
    for key, group in ok[ok.framework == "msakeras"].groupby(keys, sort=False):
        ratios = []
        for _, row in group.iterrows():
            peer = peers[peers["repeat"] == row["repeat"]]
            if options.mode == "inference":
                peer = peer[peer.encoder == row.encoder]
            if len(peer):
                ratios.append(row[column] / peer.iloc[0][column])
        if ratios:
            text += (
                f"  ratio msakeras/MMSA {' '.join(map(str, key))}: "
                f"{throughput.spread(ratios)}\n"
            )
    if "error" in frame:
        for _, row in frame[frame["error"].notna()].iterrows():
            text += f"  failed: {row.framework} {row.backend}: {row.error}\n"
    print(text)
    return text


def orchestrate(options):
    os.makedirs(options.workdir, exist_ok=True)
    load_start = throughput.loadavg_line()
    if options.mode == "inference":
        options.model = "mmim"
        options.data, options.mmsa_data = throughput.prepare(options)
        options.encoder_paths = {
            encoder: throughput.encoder_folder(options, encoder)
            for encoder in options.encoders.split(",")
        }
        options.forward = throughput.worker_arguments(
            options, "--passes", options.passes
        )
    rows = []
    for repeat in range(options.repeats):
        work = inference_runs if options.mode == "inference" else memory_runs
        rows += work(options, repeat)
    load_end = throughput.loadavg_line()
    frame = throughput.append_rows(
        rows,
        options.csv
        or os.path.join(HERE, f"inference_memory_{options.mode}.csv"),
    )
    report(options, frame, load_start, load_end)
    return frame


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("inference", "memory"))
    parser.add_argument("--backends", default="torch")
    parser.add_argument("--encoders", default="minilm,bert-2x128")
    parser.add_argument(
        "--compile-modes",
        default="off,on",
        help="msakeras.predict --compile values to run (comma list)",
    )
    parser.add_argument("--mmsa-python", default=os.environ.get("MMSA_PYTHON"))
    parser.add_argument("--num-train", type=int, default=32)
    parser.add_argument("--num-valid", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--encoder-python", default=sys.executable)
    parser.add_argument("--csv")
    parser.add_argument(
        "--workdir",
        default=os.path.join(tempfile.gettempdir(), "msa_bench_infer"),
    )
    # worker-only arguments
    parser.add_argument(
        "--worker",
        choices=("msakeras-infer", "mmsa-infer", "mmsa-train"),
    )
    parser.add_argument("--compile", default="off")
    parser.add_argument("--encoder-path")
    parser.add_argument("--data")
    parser.add_argument("--mmsa-data")
    parser.add_argument("--result")
    options = parser.parse_args(argv)
    options.model = "mmim"
    if options.worker is None:
        if options.mode is None:
            parser.error("--mode inference or --mode memory")
        return orchestrate(options)
    if options.worker == "mmsa-train":
        return train_mmsa_one_epoch(options)
    work = infer_msakeras if options.worker == "msakeras-infer" else infer_mmsa
    result = work(options)
    with open(options.result, "w") as handle:
        json.dump(result, handle)
    return result


if __name__ == "__main__":
    main()
