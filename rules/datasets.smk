"""Stage 3, datasets. Reads: a finished pool (every verified shard of every round) and
its queries. Writes: results/datasets/{dataset}.parquet (+ .prov.json) and
results/datasets/{dataset}/ (README.md dataset card, stats.json, PNG plots).
"""


rule dataset:
    """Assemble one dataset from its pool with its recipe."""
    input:
        unpack(lambda w: WF.dataset_inputs(w.dataset)),
        # their own input functions: planned (and shown by a dry run) before the rounds
        contamination=lambda w: WF.contamination_files(
            config["datasets"][w.dataset]["synth"]
        ),
        plans=lambda w: WF.plan_files(config["datasets"][w.dataset]["synth"]),
    output:
        table=f"{RESULTS}/datasets/{{dataset}}.parquet",
        card=report(
            f"{RESULTS}/datasets/{{dataset}}/README.md",
            caption="../report/dataset_card.rst",
            category="Datasets",
            subcategory="{dataset}",
            labels={"dataset": "{dataset}", "item": "card"},
        ),
        stats=report(
            f"{RESULTS}/datasets/{{dataset}}/stats.json",
            caption="../report/dataset_stats.rst",
            category="Datasets",
            subcategory="{dataset}",
            labels=lambda w: dataset_report_labels(config, w.dataset),
        ),
        plots=report(
            directory(f"{RESULTS}/datasets/{{dataset}}/plots"),
            patterns=["{figure}.png"],
            caption="../report/dataset_plot.rst",
            category="Datasets",
            subcategory="{dataset}",
            labels={"dataset": "{dataset}", "item": "{figure}"},
        ),
        records=[
            record_of(f"{RESULTS}/datasets/{{dataset}}.parquet"),
            *records_of(f"{RESULTS}/datasets/{{dataset}}/", "README.md", "stats.json"),
        ],
    log:
        f"{RESULTS}/logs/datasets/{{dataset}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/datasets/{{dataset}}.tsv"
    conda:
        "../envs/cpu.yaml"
    resources:
        # peak RSS 1.5-2.2 GB at the paper's size (2.8M pool rows, ~590k kept; bench/RESULTS.md)
        mem_mb=4000,
        runtime=60,
    params:
        # quoted() shell-quotes each file (a list, so not :q below)
        queries=lambda w: quoted(
            WF.synth_queries(config["datasets"][w.dataset]["synth"])
        ),
        verified=input_param("verified"),
        pool_summary=input_param("pool"),
        contamination=lambda w, input: quoted(list(getattr(input, "contamination", []))),
        recipe=lambda w: canonical_json(recipe_config(config, w.dataset)),
        cap=lambda w: config["synth"][config["datasets"][w.dataset]["synth"]]["cap"],
        decontaminate=lambda w: (
            "--decontaminate"
            if config["datasets"][w.dataset]["decontaminate"]
            else "--no-decontaminate"
        ),
        description=lambda w: config["datasets"][w.dataset]["description"],
        license=lambda w: config["datasets"][w.dataset]["license"],
        assembly_version=code_versions.assembly(),
    shell:
        "dart --rule dataset --wildcards dataset={wildcards.dataset:q}"
        " assemble --queries {params.queries} --verified {params.verified}"
        " --recipe-json {params.recipe:q} --name {wildcards.dataset:q} --cap {params.cap:q}"
        " --pool-summary {params.pool_summary}"
        " -o {output.table:q} --card {output.card:q} --stats {output.stats:q}"
        " --plots {output.plots:q} --contamination {params.contamination}"
        " {params.decontaminate:q} --description={params.description:q}"
        " --license={params.license:q} > {log:q} 2>&1"
