"""Stage 5, evaluation. Reads: each configured benchmark's source (a hub id, a local file
in its published schema, or an embedded generator) and each evaluated model's folder
(data/models/{model}/ for a base model, results/models/{base}--{dataset}/ for a
fine-tune). Writes: data/benchmarks/{benchmark}.parquet (the common item table),
results/eval/{model}/{benchmark}.gen.parquet (greedy generations),
results/eval/{model}/{benchmark}.json (accuracy, intervals, breakdowns) and
results/eval/{model}/{benchmark}.items.jsonl (one row per item).
"""


rule benchmark:
    """Read one benchmark into the common item table."""
    input:
        unpack(lambda w: WF.benchmark_source_inputs(w.benchmark)),
    output:
        table=f"{DATA}/benchmarks/{{benchmark}}.parquet",
        stats=f"{DATA}/benchmarks/{{benchmark}}.stats.json",
    log:
        "logs/benchmarks/{benchmark}.log",
    conda:
        "../envs/cpu.yaml"
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        kind=lambda w: config["benchmarks"][w.benchmark]["type"],
        src=lambda w: config["benchmarks"][w.benchmark]["source"],
        split=lambda w: config["benchmarks"][w.benchmark]["split"] or "",
        subset=lambda w: config["benchmarks"][w.benchmark]["subset"] or "",
        revision=lambda w: config["benchmarks"][w.benchmark]["revision"] or "",
        limit=lambda w: config["benchmarks"][w.benchmark]["limit"] or "",
        n=lambda w: config["benchmarks"][w.benchmark]["n"],
        benchmark_version=code_versions.benchmark(),
    shell:
        "dart --rule benchmark --wildcards benchmark={wildcards.benchmark}"
        " benchmark {params.kind} {params.src:q} --name {wildcards.benchmark}"
        " --split={params.split:q} --subset={params.subset:q} --revision={params.revision:q}"
        " --limit={params.limit:q} --n {params.n}"
        " -o {output.table:q} > {log:q} 2>&1"


rule eval_generate:
    """Greedy generations of one model on one benchmark (GPU with vllm, CPU with transformers)."""
    input:
        benchmark=lambda w: WF.benchmark_file(w.benchmark),
        model=lambda w: WF.model_folder(w.emodel),
    output:
        f"{RESULTS}/eval/{{emodel}}/{{benchmark}}.gen.parquet",
    log:
        "logs/eval/{emodel}/{benchmark}.generate.log",
    benchmark:
        "benchmarks/eval/{emodel}/{benchmark}.generate.tsv"
    conda:
        engine_env(config["eval"]["engine"])
    threads: 2
    resources:
        mem_mb=6000,
        runtime=240,
        gpu=engine_gpus(config["eval"]["engine"], config["eval"]["engine_options"]),
    params:
        engine=config["eval"]["engine"],
        template=lambda w: eval_template(config, w.emodel),
        max_new_tokens=config["eval"]["max_new_tokens"],
        options=canonical_json(config["eval"]["engine_options"]),
        template_version=lambda w: code_versions.template(
            eval_template(config, w.emodel)
        ),
        engine_version=code_versions.engine(config["eval"]["engine"]),
        evaluate_version=code_versions.evaluate(),
    shell:
        "dart --rule eval_generate --wildcards model={wildcards.emodel},benchmark={wildcards.benchmark}"
        " evaluate generate --benchmark {input.benchmark:q} --model {input.model:q}"
        " --engine {params.engine} --template {params.template:q}"
        " --max-new-tokens {params.max_new_tokens} --engine-options-json {params.options:q}"
        " --threads {threads} --gpus {resources.gpu} -o {output:q} > {log:q} 2>&1"


rule eval_score:
    """Score one model's generations on one benchmark with the grader."""
    input:
        generations=f"{RESULTS}/eval/{{emodel}}/{{benchmark}}.gen.parquet",
        benchmark=lambda w: WF.benchmark_file(w.benchmark),
    output:
        result=report(
            f"{RESULTS}/eval/{{emodel}}/{{benchmark}}.json",
            caption="../report/eval_result.rst",
            category="Evaluation",
            subcategory="{emodel}",
            labels={"model": "{emodel}", "benchmark": "{benchmark}"},
        ),
        per_item=f"{RESULTS}/eval/{{emodel}}/{{benchmark}}.items.jsonl",
    log:
        "logs/eval/{emodel}/{benchmark}.score.log",
    benchmark:
        "benchmarks/eval/{emodel}/{benchmark}.score.tsv"
    conda:
        "../envs/cpu.yaml"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        options=lambda w: canonical_json(config["benchmarks"][w.benchmark]["options"]),
        timeout=config["grader"]["timeout"],
        memory_mb=config["grader"]["memory_mb"],
        grader_version=code_versions.grader(),
        scoring_version=code_versions.scoring(),
        second_opinion=config["eval"]["second_opinion"],
    shell:
        "dart --rule eval_score --wildcards model={wildcards.emodel},benchmark={wildcards.benchmark}"
        " evaluate score --generations {input.generations:q} --benchmark {input.benchmark:q}"
        " --benchmark-name {wildcards.benchmark} --model-name {wildcards.emodel}"
        " --options-json {params.options:q} --workers {threads} --timeout {params.timeout}"
        " --memory-mb {params.memory_mb} --second-opinion {params.second_opinion}"
        " -o {output.result:q} --items {output.per_item:q}"
        " > {log:q} 2>&1"
