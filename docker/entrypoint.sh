#!/bin/sh
# Container entrypoint: check that the results folder can be written before a long run starts, give users that
# run the image as their own uid (docker run --user "$(id -u):$(id -g)") a writable HOME, say which device the runs
# will train on (loudly when DEVICE=auto falls back to the CPU: no --gpus, a driver older than torch's CUDA needs, a
# GPU without kernels in this torch build), then run the command.
set -e
results="${MMC_RESULTS_DIR:-/work/results}"
if [ -e "$results" ] && [ ! -w "$results" ]; then
  echo "error: $results is not writable by uid $(id -u) (a host folder mounted there is owned by someone else," >&2
  echo "  e.g. created by docker as root). Either run as its owner: docker run --user \"\$(id -u):\$(id -g)\" ...," >&2
  echo "  or make it writable on the host: sudo chown -R 1000:1000 results (the image's default user is uid 1000)." >&2
  exit 1
fi
if [ ! -w "${HOME:-/nonexistent}" ]; then
  export HOME=/tmp/home
  mkdir -p "$HOME"
fi
device="${DEVICE:-auto}"
for arg in "$@"; do  # `docker run ... make reproduce DEVICE=cuda` names it as a make variable
  case "$arg" in DEVICE=*) device="${arg#DEVICE=}" ;; esac
done
python="${MMC_PYTHON:-/work/.venv/bin/python}"
if [ "$device" != cpu ] && [ -x "$python" ]; then
  (cd "$(dirname "$0")/.." && "$python" -m mmc_core device --device "$device" >&2) || true  # a refused GPU: the run
  # itself stops with the reason
fi
exec "$@"
