"""Decontamination. Reads: data/queries/{source}.parquet and every benchmark checked
against (data/benchmarks/*.parquet). Writes: data/decontam/{source}.parquet (one row per
flagged query, benchmark and item: exact match or word n-gram overlap) and
data/decontam/{source}.stats.json (counts per benchmark).
"""


rule decontam:
    """Check one query source against the configured benchmarks."""
    input:
        queries=lambda w: WF.queries_file(w.source),
        benchmarks=[WF.benchmark_file(b) for b in WF.decontam_benchmarks()],
    output:
        table=f"{DATA}/decontam/{{source}}.parquet",
        stats=f"{DATA}/decontam/{{source}}.stats.json",
        records=records_of(f"{DATA}/decontam/{{source}}", ".parquet", ".stats.json"),
    log:
        f"{RESULTS}/logs/decontam/{{source}}.log",
    conda:
        "../envs/cpu.yaml"
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        ngram=config["decontamination"]["ngram"],
        min_overlap=config["decontamination"]["min_overlap"],
        numbers=(
            "--numbers-must-agree"
            if config["decontamination"]["numbers_must_agree"]
            else "--no-numbers-must-agree"
        ),
        decontam_version=code_versions.decontam(),
    shell:
        "dart --rule decontam --wildcards source={wildcards.source:q}"
        " decontam --queries {input.queries:q} --benchmarks {input.benchmarks:q}"
        " --ngram {params.ngram:q} --min-overlap {params.min_overlap:q} {params.numbers:q} -o {output.table:q} --stats {output.stats:q} > {log:q} 2>&1"
