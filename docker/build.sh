#!/bin/sh
# Build the image from this checkout with its commit baked in (run records made in the image name it), then say how
# long the build took and how large the image is. Arguments go to `build` as they are.
#   docker/build.sh                                            docker, the CUDA base image, tag mmc-repro
#   ENGINE=podman docker/build.sh --build-arg BASE_IMAGE=localhost/bookworm-base     a local base (README, Container)
#   PROXY_CA=/etc/ssl/certs/ca-certificates.crt ENGINE=podman docker/build.sh ...    behind a TLS re-signing proxy only
set -eu
cd "$(dirname "$0")/.."
engine="${ENGINE:-docker}"
tag="${TAG:-mmc-repro}"
# The same reading as mmc_core.experiments.provenance.code_version: the commit, +dirty when mmc_core differs from it.
commit="$(git rev-parse HEAD)"
if [ -n "$(git status --porcelain --untracked-files=no -- mmc_core)" ]; then
  commit="$commit+dirty"
fi

set -- --build-arg MMC_COMMIT="$commit" --tag "$tag" "$@"
# --- Only behind a TLS re-signing proxy (podman/buildah: docker's build takes no --volume). pip in the build must
# trust the proxy's CA: a pip.conf naming it is mounted where pip reads its global configuration, for the build only.
pipconf=""
if [ -n "${PROXY_CA:-}" ]; then
  pipconf="$(mktemp -d)"
  trap 'rm -rf "$pipconf"' EXIT
  cp "$PROXY_CA" "$pipconf/proxy-ca.crt"
  printf '[global]\ncert = /etc/xdg/pip/proxy-ca.crt\n' > "$pipconf/pip.conf"
  chmod -R a+rX "$pipconf"
  set -- --volume "$pipconf:/etc/xdg/pip:ro" "$@"
fi
# --- end of the proxy-only part

start="$(date +%s)"
"$engine" build "$@" .
seconds=$(( $(date +%s) - start ))
bytes="$("$engine" image inspect --format '{{.Size}}' "$tag")"
echo "built $tag at $commit in $seconds s; image size $bytes bytes"
