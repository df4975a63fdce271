# mmc-repro: one recipe for the local virtual environment, CI and the container image.
#   make test                      unit tests + every notebook at smoke (papermill) + nbval against the shipped runs
#   make report                    results/REPORT.md and figures from the shipped reference runs (trains nothing)
#   make reproduce PROFILE=quick   execute every notebook with papermill, then write results/REPORT.md
#   make reproduce PROFILE=full SEEDS=5 DATASETS=MSRC-v1 NOTEBOOKS=notebooks/idmc/02_table2_ablation.ipynb  (narrowed)
#   make reproduce PROFILE=full DEVICE=cuda JOBS=4   on a GPU: seeds together where a method can, 4 runs at a time
#   make data DATA_MIRROR=DIR      fill the data directory from a local mirror (else download), checking sha256
#   make weights                   OpenAI's CLIP ViT-B-32 (Multi-DProxy's frozen encoder) into WEIGHTS_DIR, checking sha256
#   make reproduce PROFILE=full CLIP_WEIGHTS=data/raw/clip/ViT-B-32.pt NOTEBOOKS="$(ls notebooks/multidproxy/*)"  (images)
#   make lab                       JupyterLab on the notebooks
#   make bench                     aten ops and host syncs per step, and seconds per epoch: per method, and S = 1,
#                                  5, 20 seeds one by one vs together; the full profile's projected time
#                                  (BENCH_KEEP=1 keeps the tables for the README)
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

PYTHON      ?= python3
VENV        ?= .venv
PY          := $(VENV)/bin/python
# The data and results folders: the environment's MMC_DATA_DIR / MMC_RESULTS_DIR where set (the container image sets
# both, so the library, Make and Lab agree), else folders of the checkout.
DATA_DIR    ?= $(or $(MMC_DATA_DIR),$(CURDIR)/data/raw)
DATA_MIRROR ?=
WEIGHTS_DIR ?= $(DATA_DIR)/clip
RESULTS_DIR ?= $(or $(MMC_RESULTS_DIR),$(CURDIR)/results)
PROFILE     ?= smoke
DEVICE      ?= auto
NOTEBOOKS   ?= $(shell find notebooks -name '*.ipynb' -not -path '*/.ipynb_checkpoints/*' | sort)
PYTEST_ARGS ?=
# pytest-xdist processes for the unit tests and nbval (one per core; a test file or notebook stays on one worker)
TEST_WORKERS ?= 2
SEEDS       ?=
DATASETS    ?=
# Narrow `make reproduce` (every notebook takes seeds and datasets): SEEDS=10 DATASETS=MSRC-v1,Handwritten
NARROW      := $(if $(SEEDS),-p seeds $(SEEDS)) $(if $(DATASETS),-p datasets $(DATASETS))
# Multi-DProxy's notebooks on real images: CLIP_WEIGHTS=path/to/ViT-B-32.pt (what `make weights` fetches), or
# hf-hub:<repo> in the local cache; CLIP_MODEL names the open_clip config the weights were trained with.
CLIP_WEIGHTS ?=
CLIP_MODEL  ?= ViT-B-32-quickgelu
CLIP        := $(if $(CLIP_WEIGHTS),-p clip_weights $(CLIP_WEIGHTS) -p clip_model $(CLIP_MODEL))
LAB_PORT    ?= 8888

# DASK_SCHEDULER=tcp://host:8786: every notebook's run grid executes on that Dask cluster (README: Running on a cluster)
DASK_SCHEDULER ?=
export MMC_DASK_SCHEDULER := $(DASK_SCHEDULER)
# SEEDS_TOGETHER: a cell's seeds train as one batched computation where the method can (IDMC, DDMC, SDCIB, EAMC,
# SiMVC, CoMVC, SCMVC, SSLNMVC, ICMVC; mmc_core.deep.seeds): 1 always, 0 never, unset on a CUDA GPU only: one kernel launch
# for all seeds per op; records equal to the sequential runs' within float tolerance (on the CPU one by one stays bit-equal)
SEEDS_TOGETHER ?=
export MMC_SEEDS_TOGETHER := $(SEEDS_TOGETHER)
# JOBS=4: each notebook's run grid in 4 processes (its n_jobs; the multidproxy notebooks' concept runs too); on a GPU
# they share it, so the runs of methods whose seeds cannot train together run concurrently
JOBS        ?=
export MMC_DATA_DIR := $(DATA_DIR)
export MMC_RESULTS_DIR := $(RESULTS_DIR)
export HF_HUB_OFFLINE := 1
export PYTHONHASHSEED := 0

.PHONY: venv lock data weights test unit smoke nbval reproduce report checked-outputs lab bench clean help

help:
	@sed -n '2,12p' Makefile

# The environment: created on first use, re-installed when the lock changes. Every package comes from
# requirements.lock, pinned and checked against its sha256 (wheels only: nothing is built from source).
$(VENV)/.installed: requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --require-hashes --only-binary :all: -r requirements.lock
	$(PY) -m pip install --no-deps --no-build-isolation -e .
	touch $@

venv: $(VENV)/.installed

# Re-resolve requirements.lock from requirements.txt (after changing a pin): every package an install on Python 3.11
# or newer resolves, on any platform, with the sha256 of each file. uv runs from a throwaway environment.
UV_VERSION ?= 0.13.9
lock:
	tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && $(PYTHON) -m venv "$$tmp" \
	  && "$$tmp/bin/pip" install --quiet uv==$(UV_VERSION) \
	  && "$$tmp/bin/uv" pip compile requirements.txt --universal --python-version 3.11 --generate-hashes \
	     --only-binary :all: --custom-compile-command "make lock" --quiet --output-file requirements.lock

data: venv
	$(PY) -m mmc_core.data.fetch --data-dir "$(DATA_DIR)" $(if $(DATA_MIRROR),--mirror "$(DATA_MIRROR)",)

# weights: the CLIP checkpoint load_encoder("ViT-B-32-quickgelu", "$(WEIGHTS_DIR)/ViT-B-32.pt") reads; a file already
# there with the right sha256 is kept. Without network it prints the URL and sha256 to fetch it by hand.
weights: venv
	$(PY) -m mmc_core.encoders.fetch --dest "$(WEIGHTS_DIR)"

unit: venv
	$(PY) -m pytest tests -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

# smoke: every notebook executed at the smoke profile (a few epochs; two notebooks at a time, one per core), proving
# the compute path runs and draws its figures; the executed notebooks must contain images and results/figures must
# hold the PNGs (tests/test_figures.py).
smoke: data
	tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	printf '%s\n' $(NOTEBOOKS) | MMC_RESULTS_DIR=$$tmp xargs -P 2 -I{} sh -c \
	  'out="$$MMC_RESULTS_DIR/notebooks/$$(echo {} | cut -d/ -f2-)"; mkdir -p "$$(dirname "$$out")"; \
	   $(PY) -m papermill -k python3 --cwd "$$(dirname {})" -p profile smoke --no-progress-bar {} "$$out" \
	     > "$$out.log" 2>&1 || { cat "$$out.log"; echo "smoke failed: {}"; exit 1; }; echo "smoke ok: {}"' || exit 1; \
	MMC_EXECUTED_NOTEBOOKS=$$tmp/notebooks MMC_FIGURES_DIR=$$tmp/figures $(PY) -m pytest tests/test_figures.py -q

# nbval re-executes each notebook as committed: its parameters cell holds the `reference` profile, which reads the
# shipped runs (reference/runs/) and computes nothing; the output stored in each `# NBVAL_CHECK_OUTPUT` cell (the
# printed-vs-reproduced table and the claims' verdicts) must come out the same. Results go to a throw-away directory.
# Afterwards the README's generated blocks must match what those runs give (python -m mmc_core readme --check), and
# the committed report docs/report/ what they build (report --check). The data directory is an empty folder: the
# shipped runs are read without the data, as in a fresh clone.
nbval: venv
	tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; mkdir "$$tmp/no-data"; \
	MMC_RESULTS_DIR=$$tmp MMC_DATA_DIR=$$tmp/no-data $(PY) -m pytest --nbval-lax --nbval-current-env \
	  --nbval-sanitize-with tests/nbval_sanitize.cfg -p no:cacheprovider -n $(TEST_WORKERS) --dist loadfile \
	  $(NOTEBOOKS) $(PYTEST_ARGS); \
	$(PY) -m mmc_core readme --check --results-dir "$$tmp"; \
	$(PY) -m mmc_core report --check --results-dir "$$tmp"

test: data unit smoke nbval

reproduce: data
	mkdir -p "$(RESULTS_DIR)/notebooks"
	for nb in $(NOTEBOOKS); do \
	  out="$(RESULTS_DIR)/notebooks/$${nb#notebooks/}"; mkdir -p "$$(dirname "$$out")"; \
	  echo "== $$nb (profile $(PROFILE))"; \
	  case "$$nb" in notebooks/multidproxy/*) extra="$(CLIP)";; *) extra="";; esac; \
	  $(PY) -m papermill -k python3 --cwd "$$(dirname "$$nb")" -p profile $(PROFILE) -p device $(DEVICE) $(NARROW) \
	    $(if $(JOBS),-p n_jobs $(JOBS)) $$extra "$$nb" "$$out"; \
	done
	$(PY) -m mmc_core report --results-dir "$(RESULTS_DIR)"

# report: every notebook in the reference profile (reads the shipped runs, trains nothing; no data needed), then
# REPORT.md, copied with the figures it shows to docs/report/ (committed; `make nbval` checks it). Sections and figures
# of earlier runs are removed first. A notebook that fails prints the end of its log (the error) and stops the report.
report: venv
	rm -rf "$(RESULTS_DIR)/sections" "$(RESULTS_DIR)/figures"
	mkdir -p "$(RESULTS_DIR)/notebooks"
	printf '%s\n' $(NOTEBOOKS) | xargs -P 2 -I{} sh -c 'out="$(RESULTS_DIR)/notebooks/$$(echo {} | cut -d/ -f2-)"; \
	  mkdir -p "$$(dirname "$$out")"; $(PY) -m papermill -k python3 --cwd "$$(dirname {})" -p profile reference \
	    --no-progress-bar {} "$$out" > "$$out.log" 2>&1 \
	    || { tail -n 40 "$$out.log"; echo "failed: {} (log $$out.log, notebook $$out)"; exit 255; }'
	$(PY) -m mmc_core report --results-dir "$(RESULTS_DIR)" --publish

# After `make report`: store each notebook's outputs (tables, figures, the checked verdicts nbval compares, "What we
# found") in the notebook itself, normalised (scripts/store_outputs.py), so the committed notebooks show the reference
# results unrun. `make report && make checked-outputs` regenerates them all.
checked-outputs:
	for nb in $(NOTEBOOKS); do \
	  $(PY) scripts/store_outputs.py "$$nb" "$(RESULTS_DIR)/notebooks/$${nb#notebooks/}"; \
	done

lab: venv
	$(VENV)/bin/jupyter lab --ip=0.0.0.0 --port=$(LAB_PORT) --no-browser $(if $(filter 0,$(shell id -u)),--allow-root) \
	  notebooks

bench: data
	OMP_NUM_THREADS=$${OMP_NUM_THREADS:-1} $(PY) scripts/bench.py --device $(DEVICE) $(if $(BENCH_KEEP),--keep)

# verify: re-compute a sample of the shipped runs at the full protocol (every method once, the papers' main-table
# cells first) and compare each with its record: exact on the CPU kind that made it, else within its configuration's
# seed spread (mmc_core/verify.py). By default 70 runs, about 25 min with JOBS=2 on 2 idle cores by the
# records' times; narrow it with VERIFY_BUDGET=<recorded seconds> or VERIFY_LIMIT=<runs>. Writes
# $(RESULTS_DIR)/verify/summary.md and summary.json (reference/verify/ holds a measured one).
VERIFY_BUDGET ?=
VERIFY_LIMIT ?=
.PHONY: verify
verify: data
	OMP_NUM_THREADS=1 $(PY) -m mmc_core verify --jobs $(or $(JOBS),1) --out "$(RESULTS_DIR)/verify" \
	  $(if $(VERIFY_BUDGET),--budget $(VERIFY_BUDGET)) $(if $(VERIFY_LIMIT),--limit $(VERIFY_LIMIT))

clean:
	rm -rf "$(RESULTS_DIR)" .pytest_cache
