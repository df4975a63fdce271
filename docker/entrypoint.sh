#!/bin/sh
# Container entrypoint: check that the results folder can be written before a long run starts, give users that
# run the image as their own uid (docker run --user "$(id -u):$(id -g)") a writable HOME, then run the command.
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
exec "$@"
