#!/usr/bin/env bash
# The GPU check (bench/gpu_check.py): vLLM sampling and evaluation where vLLM is installed,
# DeepSpeed ZeRO-3 fine-tunes packed and padded, tok/s and peak memory. Without CUDA it
# says it skipped and exits 0. Runs with the machine's own python3 (or $PYTHON), from
# the repository root, with nothing installed: `make gpu-wheels` beforehand makes wheels/
# (DeepSpeed and its requirements for Python 3.12) to carry to a machine that lacks them.
#
#   bash bench/gpu_check.sh --gpus 2 --out gpu_check.json
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
exec "${PYTHON:-python3}" bench/gpu_check.py "$@"
