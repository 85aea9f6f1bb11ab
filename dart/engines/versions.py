"""Code versions of the engines, importable without torch, transformers or vllm.

Snakemake reads these while it builds the DAG (``dart.lineage.versions``), so this module must
stay free of heavy imports. Bump a version whenever a change can alter generated text.

    python -c "from dart.engines.versions import DECODER_VERSION; print(DECODER_VERSION)"
"""

#: Version of the transformers engine's own decode loop (``dart.engines.hf``).
DECODER_VERSION = "slot-refill/2"
#: Version of our mapping onto vLLM (``dart.engines.vllm``: sampling_kwargs and
#: completion_from_output); the vllm package version is tracked beside it.
VLLM_MAPPING_VERSION = "1"
#: Version of the openai engine's request mapping (``dart.engines.openai``: request_body
#: and completion_from_response); the server's model and version are recorded beside it.
OPENAI_CLIENT_VERSION = "1"
#: Version of the simulated engine (``dart.engines.simulated``: outcome draws, texts,
#: lengths and the paper-scale calibration).
SIMULATED_VERSION = "1"
