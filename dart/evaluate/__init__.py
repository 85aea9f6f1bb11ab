"""Evaluation (DAG stage 5): benchmark registry and loaders, greedy generation, scoring.

    dart benchmark gsm8k openai/gsm8k -o data/benchmarks/gsm8k.parquet
    dart evaluate generate --benchmark data/benchmarks/gsm8k.parquet --model FOLDER \\
        --engine transformers --template base-few-shot --max-new-tokens 2048 \\
        -o results/eval/smollm2-135m/gsm8k.gen.parquet
    dart evaluate score --generations results/eval/smollm2-135m/gsm8k.gen.parquet \\
        --benchmark data/benchmarks/gsm8k.parquet --benchmark-name gsm8k \\
        --model-name smollm2-135m -o results/eval/smollm2-135m/gsm8k.json \\
        --items results/eval/smollm2-135m/gsm8k.items.jsonl

Modules: ``items`` (the common item table), ``loaders`` (published schemas),
``embedded`` (generated benchmarks), ``benchmarks`` (the registry), ``generation``,
``numeric`` and ``scoring`` (benchmark-specific comparison), ``results`` (metrics),
``version`` (``EVAL_VERSION``, a leaf), and the
CLI modules.
"""
