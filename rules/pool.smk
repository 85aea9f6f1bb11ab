"""Stage 2, the sampling pool of each synthesis setup `{synth}`, in rounds.

Reads: data/queries/*.parquet, data/models/{model}/, results/pool/{synth}/recipes.json
(the recipes of the datasets cut from the pool) and budget.json (its budget, if any), both
written when a run starts. Writes, per
round r under results/pool/{synth}/round{r}/: plan.parquet and
plan.json (a checkpoint), gen/shard{s}.parquet (every response), verified/shard{s}.parquet
(every response with its verdict), tally.parquet (cumulative per query); and
results/pool/{synth}/pool.json (rounds, totals, queries that ran out of trials, how it
ended); results/pool/{synth}/estimate.json and estimate.md (the cost forecast made from
round 0: `snakemake results/pool/{synth}/estimate.json` runs the pilot round alone).
"""


checkpoint plan:
    """Plan round r from the tally of the rounds before it."""
    input:
        queries=lambda w: WF.synth_queries(w.synth),
        tally=lambda w: WF.previous_tally(w.synth, w.round) or [],
    output:
        plan=f"{POOL}/{{synth}}/round{{round}}/plan.parquet",
        summary=f"{POOL}/{{synth}}/round{{round}}/plan.json",
        records=records_of(f"{POOL}/{{synth}}/round{{round}}/plan", ".parquet", ".json"),
    log:
        f"{RESULTS}/logs/pool/{{synth}}/round{{round}}/plan.log",
    conda:
        "../envs/cpu.yaml"
    params:
        seed=config["seed"],
        cap=lambda w: config["synth"][w.synth]["cap"],
        per_round_max=lambda w: config["synth"][w.synth]["per_round_max"],
        shards=lambda w: config["synth"][w.synth]["shards"],
        shard_min_trials=lambda w: config["synth"][w.synth]["shard_min_trials"],
        max_rounds=lambda w: config["synth"][w.synth]["max_rounds"],
        tally=lambda w: WF.previous_tally_option(w.synth, w.round, "--tally"),
        # a file, not an input: a changed recipe never re-plans a finished round (a raised
        # target grows the pool by new rounds: WF.dataset_inputs)
        recipes=lambda w: WF.recipes_file(w.synth),
        # the same for the budget: lowering it re-plans nothing, raising it grows the pool
        budget=lambda w: WF.budget_file(w.synth),
        planner_version=code_versions.planner(),
    shell:
        "dart --rule plan --wildcards synth={wildcards.synth:q},round={wildcards.round:q}"
        " plan --queries {input.queries:q} {params.tally} --recipes {params.recipes:q}"
        " --budget-file {params.budget:q}"
        " --round {wildcards.round:q} --seed {params.seed:q} --cap {params.cap:q}"
        " --per-round-max {params.per_round_max:q} --shards {params.shards:q}"
        " --shard-min-trials {params.shard_min_trials:q}"
        " --max-rounds {params.max_rounds:q} -o {output.plan:q} --summary {output.summary:q}"
        " > {log:q} 2>&1"


rule generate:
    """Generate one shard of a round's trials (GPU with vllm, CPU with transformers)."""
    input:
        # Through the checkpoint: while a round is re-planned (e.g. after a re-grade) its
        # shards wait for the new plan, and rerun only if it changed (same checksum: kept).
        plan=lambda w: checkpoints.plan.get(synth=w.synth, round=w.round).output.plan,
        queries=lambda w: WF.synth_queries(w.synth),
        # no model for the simulated engine (`--model ''`): nothing to download
        model=lambda w: WF.synth_model_inputs(w.synth),
    output:
        shard=f"{POOL}/{{synth}}/round{{round}}/gen/shard{{shard}}.parquet",
        record=record_of(f"{POOL}/{{synth}}/round{{round}}/gen/shard{{shard}}.parquet"),
    log:
        f"{RESULTS}/logs/pool/{{synth}}/round{{round}}/generate{{shard}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/pool/{{synth}}/round{{round}}/generate{{shard}}.tsv"
    conda:
        lambda w: engine_env(config["synth"][w.synth]["engine"])
    threads: 2
    resources:
        mem_mb=6000,
        runtime=240,
        gpu=lambda w: engine_gpus(
            config["synth"][w.synth]["engine"],
            config["synth"][w.synth]["engine_options"],
        ),
    params:
        engine=lambda w: config["synth"][w.synth]["engine"],
        template=lambda w: config["synth"][w.synth]["template"],
        sampling=synth_value("sampling"),
        options=synth_value("engine_options"),
        chunk_size=lambda w: config["synth"][w.synth]["chunk_size"],
        template_version=lambda w: code_versions.template(
            config["synth"][w.synth]["template"]
        ),
        engine_version=lambda w: code_versions.engine(
            config["synth"][w.synth]["engine"]
        ),
    shell:
        "dart --rule generate --wildcards synth={wildcards.synth:q},round={wildcards.round:q},shard={wildcards.shard:q}"
        " generate --plan {input.plan:q} --shard {wildcards.shard:q} --queries {input.queries:q}"
        " --engine {params.engine:q} --model={input.model:q} --template {params.template:q}"
        " --sampling-json {params.sampling:q} --engine-options-json {params.options:q}"
        " --chunk-size {params.chunk_size:q} --threads {threads:q} --gpus {resources.gpu:q}"
        " -o {output.shard:q} > {log:q} 2>&1"


rule verify:
    """Grade one generation shard; every row is kept with its verdict."""
    input:
        generated=f"{POOL}/{{synth}}/round{{round}}/gen/shard{{shard}}.parquet",
        queries=lambda w: WF.synth_queries(w.synth),
    output:
        shard=f"{POOL}/{{synth}}/round{{round}}/verified/shard{{shard}}.parquet",
        record=record_of(
            f"{POOL}/{{synth}}/round{{round}}/verified/shard{{shard}}.parquet"
        ),
    log:
        f"{RESULTS}/logs/pool/{{synth}}/round{{round}}/verify{{shard}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/pool/{{synth}}/round{{round}}/verify{{shard}}.tsv"
    conda:
        "../envs/cpu.yaml"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=120,
    params:
        timeout=config["grader"]["timeout"],
        memory_mb=config["grader"]["memory_mb"],
        grader_version=code_versions.grader(),
    shell:
        "dart --rule verify --wildcards synth={wildcards.synth:q},round={wildcards.round:q},shard={wildcards.shard:q}"
        " verify {input.generated:q} --queries {input.queries:q} -o {output.shard:q}"
        " --workers {threads:q} --timeout {params.timeout:q}"
        " --memory-mb {params.memory_mb:q} > {log:q} 2>&1"


rule tally:
    """Add a round's verified shards to the cumulative per-query tally."""
    input:
        unpack(lambda w: WF.tally_inputs(w.synth, w.round)),
    output:
        tally=f"{POOL}/{{synth}}/round{{round}}/tally.parquet",
        record=record_of(f"{POOL}/{{synth}}/round{{round}}/tally.parquet"),
    log:
        f"{RESULTS}/logs/pool/{{synth}}/round{{round}}/tally.log",
    conda:
        "../envs/cpu.yaml"
    params:
        previous=lambda w: WF.previous_tally_option(w.synth, w.round, "--previous"),
        tally_version=code_versions.tally(),
    shell:
        "dart --rule tally --wildcards synth={wildcards.synth:q},round={wildcards.round:q}"
        " tally {params.previous} --verified {input.verified:q} --queries {input.queries:q}"
        " -o {output.tally:q} > {log:q} 2>&1"


rule pool:
    """The finished pool: every round until no query needs more or the round limit."""
    input:
        unpack(lambda w: WF.pool_inputs(w.synth)),
    output:
        pool=report(
            f"{POOL}/{{synth}}/pool.json",
            caption="../report/pool.rst",
            category="Pool",
            labels=lambda w: pool_report_labels(config, w.synth),
        ),
        record=record_of(f"{POOL}/{{synth}}/pool.json"),
    log:
        f"{RESULTS}/logs/pool/{{synth}}/pool.log",
    conda:
        "../envs/cpu.yaml"
    params:
        plans=input_param("plans"),
        tally=input_param("tally"),
        contamination=lambda w, input: quoted(getattr(input, "contamination", [])),
    shell:
        "dart --rule pool --wildcards synth={wildcards.synth:q}"
        " pool --plans {params.plans} --tally {params.tally}"
        " --contamination {params.contamination} -o {output.pool:q} > {log:q} 2>&1"


rule estimate:
    """Forecast the pool's cost from round 0 (the pilot): the planner run forward."""
    input:
        unpack(lambda w: WF.estimate_inputs(w.synth)),
    output:
        estimate=report(
            f"{POOL}/{{synth}}/estimate.json",
            caption="../report/estimate.rst",
            category="Pool",
            labels=lambda w: estimate_report_labels(config, w.synth),
        ),
        markdown=f"{POOL}/{{synth}}/estimate.md",
        records=records_of(f"{POOL}/{{synth}}/estimate", ".json", ".md"),
    log:
        f"{RESULTS}/logs/pool/{{synth}}/estimate.log",
    conda:
        "../envs/cpu.yaml"
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        seed=config["seed"],
        cap=lambda w: config["synth"][w.synth]["cap"],
        per_round_max=lambda w: config["synth"][w.synth]["per_round_max"],
        max_rounds=lambda w: config["synth"][w.synth]["max_rounds"],
        recipes=lambda w: canonical_json(pool_recipes(config, w.synth)),
        # read as the planner reads it (a file): a lowered budget reruns nothing
        budget=lambda w: WF.budget_file(w.synth),
        gpus=lambda w: engine_gpus(
            config["synth"][w.synth]["engine"],
            config["synth"][w.synth]["engine_options"],
        ),
        queries=input_param("queries"),
        tally=input_param("tally"),
        # the budget's value too: a forecast under another budget is another forecast
        # (nothing reads estimate.json, so this reruns the estimate alone)
        budget_value=lambda w: canonical_json(config["synth"][w.synth]["budget"]),
        planner_version=code_versions.planner(),
        tally_version=code_versions.tally(),
        estimate_version=code_versions.estimate(),
    shell:
        "dart --rule estimate --wildcards synth={wildcards.synth:q}"
        " estimate --queries {params.queries} --tally {params.tally}"
        " --recipes {params.recipes:q} --budget-file {params.budget:q}"
        " --cap {params.cap:q} --per-round-max {params.per_round_max:q}"
        " --max-rounds {params.max_rounds:q} --seed {params.seed:q} --gpus {params.gpus:q}"
        " --name {wildcards.synth:q} -o {output.estimate:q} --markdown {output.markdown:q}"
        " > {log:q} 2>&1"
