#!/bin/sh
# The prepared GPU check, one call of at most 10 minutes on one GPU, everything written to one folder:
#   1. device.log       what `auto` and DEVICE train on (python -m mmc_core device), nvidia-smi, torch's kernels
#   2. cuda-tests.log   tests/test_cuda.py: every deep method trains on the GPU, seeds together match their runs
#   3. bench.log        the seed benchmark's timings (what `make bench DEVICE=cuda BENCH_KEEP=1` times; called directly,
#                       since make's `data` and `venv` prerequisites need a network), S = 1, 5, 20, the methods that
#                       train together first, each kept as it ends; bench.json: the kept table
#   4. notebook.log     one notebook at the full profile on the GPU (scripts/run_notebook_plain.py: no Jupyter needed);
#                       results.tar.gz: its results folder (run records with their GPU provenance, sections)
#   summary.txt         each step's exit status and seconds; the script exits 1 when any step failed
# Each step has its own time limit, so one that hangs leaves the others their time.
#
#   scripts/gpu_check.sh [FOLDER]          FOLDER: default $OUT, else results/gpu_check
#
# Settings (environment): DEVICE (cuda), PROFILE (full), NOTEBOOK (notebooks/idmc/01_table1_main.ipynb), DATASETS
# (MSRC-v1), METHODS (the notebook's methods, default all), BENCH_SEEDS ("1 5 20"), BENCH_EPOCHS (3), BENCH_METHODS
# (every deep method), BENCH_KEEP (1: write reference/bench/<device>.json and copy it), PY (.venv/bin/python where it
# exists, else python3), TESTS (tests/test_cuda.py). The data the steps read (Event, Handwritten, and DATASETS) must
# be in data/raw or $MMC_DATA_DIR.
# tests/test_gpu_check.py runs this script on the CPU with tiny settings, so a first call on a GPU cannot fail on a typo.
set -u
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-${OUT:-$root/results/gpu_check}}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
cd "$root"
if [ -z "${PY:-}" ]; then
  if [ -x .venv/bin/python ]; then PY=.venv/bin/python; else PY=python3; fi
fi
DEVICE="${DEVICE:-cuda}"
PROFILE="${PROFILE:-full}"
NOTEBOOK="${NOTEBOOK:-notebooks/idmc/01_table1_main.ipynb}"
DATASETS="${DATASETS:-MSRC-v1}"
BENCH_SEEDS="${BENCH_SEEDS:-1 5 20}"
BENCH_EPOCHS="${BENCH_EPOCHS:-3}"
BENCH_KEEP="${BENCH_KEEP-1}"  # set and empty: measured, not kept
export PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}" OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" PYTHONUNBUFFERED=1
export MMC_RESULTS_DIR="$out/results"
# step NAME LIMIT_SECONDS FUNCTION: run the function (this script again, under timeout) with its output in NAME.log,
# its status and time in summary.txt
step() {
  name=$1 limit=$2
  shift 2
  start=$(date +%s)
  GPU_CHECK_STEP=$1 timeout "$limit" sh "$root/scripts/gpu_check.sh" "$out" >"$out/$name.log" 2>&1
  status=$?
  line="$name: exit $status, $(($(date +%s) - start)) s (limit $limit s)"
  [ "$status" -eq 124 ] && line="$line, TIMED OUT"
  echo "$line" | tee -a "$out/summary.txt"
  [ "$status" -eq 0 ] || failed=1
}

devices() {
  "$PY" -m mmc_core device --device "$DEVICE" || return 1
  "$PY" -c "import torch; from mmc_core.deep.device import resolved_name; print('device auto:', resolved_name('auto'));
print('torch', torch.__version__, 'CUDA', torch.version.cuda, 'kernels', torch.cuda.get_arch_list())"
  if command -v nvidia-smi >/dev/null; then nvidia-smi; else echo "nvidia-smi: absent"; fi
}

bench() {
  # shellcheck disable=SC2086  # BENCH_SEEDS and BENCH_METHODS are lists
  # --no-ops: the op count is the CPU's, device-free and shipped (reference/bench/ops.json), and takes minutes
  "$PY" scripts/bench.py --device "$DEVICE" --no-ops --seeds $BENCH_SEEDS --epochs "$BENCH_EPOCHS" \
    ${BENCH_METHODS:+--methods $BENCH_METHODS} ${BENCH_KEEP:+--keep}
}

cuda_tests() {
  "$PY" -m pytest "${TESTS:-tests/test_cuda.py}" -q -rA -n 0 -p no:cacheprovider
}

notebook() {
  "$PY" scripts/run_notebook_plain.py "$NOTEBOOK" -p profile "$PROFILE" -p device "$DEVICE" -p datasets "$DATASETS" \
    -p methods "${METHODS:-None}"
}

if [ -n "${GPU_CHECK_STEP:-}" ]; then  # one step, run by `step` under its time limit
  "$GPU_CHECK_STEP"
  exit $?
fi
failed=0
: >"$out/summary.txt"
step device 60 devices
step cuda-tests 180 cuda_tests
step bench 170 bench
kind=cpu
case "$DEVICE" in cuda*) kind=cuda ;; esac
if [ -n "$BENCH_KEEP" ] && [ -f "reference/bench/$kind.json" ]; then  # what it kept, even if cut short
  cp "reference/bench/$kind.json" "$out/bench.json"
fi
step notebook 170 notebook
if [ -d "$MMC_RESULTS_DIR" ]; then
  tar -czf "$out/results.tar.gz" -C "$out" results && rm -rf "$MMC_RESULTS_DIR"
fi
echo "all steps passed: $([ "$failed" -eq 0 ] && echo yes || echo no)" | tee -a "$out/summary.txt"
exit "$failed"
