# mmc-repro container: a CUDA runtime base, the project's one install recipe (`make venv`), `make reproduce` by default.
#   docker build -t mmc-repro .
#   docker run --init --gpus all --user "$(id -u):$(id -g)" -v /path/to/datasets:/data -v $PWD/results:/work/results mmc-repro
#   docker run --init --gpus all -p 8888:8888 -v /path/to/datasets:/data mmc-repro make lab            # JupyterLab
# DATA_DIR=/data is the Makefile's data directory inside the image (mount datasets there, or let `make data` fill it).
# BASE_IMAGE can point at any Debian/Ubuntu image whose python3 is 3.10 or newer (the default base brings 3.12), e.g. a
# local debootstrap base to test the build without registry access; torch's wheels bring their own CUDA libraries, the
# base needs only the driver.
ARG BASE_IMAGE=nvidia/cuda:13.0.2-runtime-ubuntu24.04
FROM ${BASE_IMAGE}

ENV DEBIAN_FRONTEND=noninteractive \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    DATA_DIR=/data \
    HF_HUB_OFFLINE=1
# No matplotlib backend is set here: notebooks must keep the inline backend (a non-interactive backend set in the
# environment would stop their figures from showing); headless scripts fall back to Agg by themselves.

# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv python3-dev make git ca-certificates \
 && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 1000 mmc && mkdir -p /work /data && chown mmc:mmc /work /data
USER mmc
WORKDIR /work

# Same recipe as on the host: the Makefile creates the environment from requirements.txt.
COPY --chown=mmc:mmc requirements.txt pyproject.toml Makefile ./
COPY --chown=mmc:mmc mmc_core/__init__.py mmc_core/__init__.py
RUN make venv PYTHON=python3 VENV=/work/.venv

COPY --chown=mmc:mmc . .

EXPOSE 8888
# The entrypoint checks that results/ is writable (a root-owned host folder mounted there is not) and gives a user
# run with --user "$(id -u):$(id -g)" a writable HOME; then it runs the command.
ENTRYPOINT ["/work/docker/entrypoint.sh"]
CMD ["make", "reproduce"]
