# mmc-repro container: a CUDA runtime base, the project's one install recipe (`make venv` from requirements.lock),
# `make reproduce` by default.
#   docker/build.sh                  docker build with the checkout's commit baked in (MMC_COMMIT); prints time and size
#   mkdir -p results                 (yours: a folder docker creates is root-owned and the image cannot write to it)
#   docker run --init --gpus all --user "$(id -u):$(id -g)" -v /path/to/datasets:/data \
#     -v "$PWD/results:/work/results" mmc-repro
#   docker run --init --gpus all --user "$(id -u):$(id -g)" -p 8888:8888 -v /path/to/datasets:/data \
#     -v "$PWD/results:/work/results" -v "$PWD/notebooks:/work/notebooks" mmc-repro make lab     # JupyterLab
# MMC_DATA_DIR=/data and MMC_RESULTS_DIR=/work/results are where every entry point looks (the library, Make, papermill,
# Lab's kernels): mount the datasets and a results folder there.
# BASE_IMAGE can point at any Debian/Ubuntu image whose python3 is 3.11 or newer (the default base brings 3.12), e.g. a
# local debootstrap base to test the build without registry access; torch's wheels bring their own CUDA libraries, the
# base needs only the driver.
ARG BASE_IMAGE=nvidia/cuda:13.0.2-runtime-ubuntu24.04
FROM ${BASE_IMAGE}

ENV DEBIAN_FRONTEND=noninteractive \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    MMC_DATA_DIR=/data \
    MMC_RESULTS_DIR=/work/results \
    HF_HUB_OFFLINE=1
# No matplotlib backend is set here: notebooks must keep the inline backend (a non-interactive backend set in the
# environment would stop their figures from showing); headless scripts fall back to Agg by themselves.

# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv python3-dev make git ca-certificates \
 && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 1000 mmc && mkdir -p /work/results /data && chown -R mmc:mmc /work /data
USER mmc
WORKDIR /work

# Same recipe as on the host: the Makefile installs requirements.lock, every package pinned and hash-checked.
# Behind a TLS re-signing proxy only, pip needs that proxy's CA: docker/build.sh (PROXY_CA=FILE, podman only) mounts
# a pip.conf naming it at /etc/xdg/pip for the build; nothing of it stays in the image. Elsewhere nothing is mounted.
COPY --chown=mmc:mmc requirements.lock pyproject.toml Makefile ./
COPY --chown=mmc:mmc mmc_core/__init__.py mmc_core/__init__.py
RUN make venv PYTHON=python3 VENV=/work/.venv

COPY --chown=mmc:mmc . .

# The build context has no .git: the commit comes in as a build argument (docker/build.sh passes it) and is what run
# records name as their commit (mmc_core/experiments/provenance.py); .image-files lists the files the image was built
# with, which the repository tests read in place of `git ls-files`.
ARG MMC_COMMIT=unknown
LABEL org.opencontainers.image.revision="${MMC_COMMIT}"
ENV MMC_COMMIT="${MMC_COMMIT}"
RUN find . \( -path ./.venv -o -name '*.egg-info' -o -path ./results \) -prune -o -type f -printf '%P\n' > .image-files

EXPOSE 8888
# The entrypoint checks that results/ is writable (a root-owned host folder mounted there is not) and gives a user
# run with --user "$(id -u):$(id -g)" a writable HOME; then it runs the command.
ENTRYPOINT ["/work/docker/entrypoint.sh"]
CMD ["make", "reproduce"]
