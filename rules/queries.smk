"""Stage 1, queries. Reads: a raw source per config `queries` entry (local file, hub
dataset id, or the embedded generator). Writes: data/queries/{source}.parquet with its
provenance record and stats.
"""


rule queries:
    """Ingest one query source, deduplicated against the sources listed before it."""
    input:
        unpack(lambda w: WF.query_source_inputs(w.source)),
    output:
        table=f"{DATA}/queries/{{source}}.parquet",
        record=f"{DATA}/queries/{{source}}.parquet.prov.json",
        stats=f"{DATA}/queries/{{source}}.stats.json",
    log:
        f"{RESULTS}/logs/queries/{{source}}.log",
    conda:
        "../envs/cpu.yaml"
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        fmt=lambda w: config["queries"][w.source]["format"],
        src=lambda w: config["queries"][w.source]["source"],
        split=lambda w: config["queries"][w.source]["split"],
        subset=lambda w: config["queries"][w.source]["subset"] or "",
        revision=lambda w: config["queries"][w.source]["revision"] or "",
        columns=lambda w: column_args(config["queries"][w.source]),
        queries_version=code_versions.queries(),
        n=lambda w: config["queries"][w.source]["n"],
        limit=lambda w: config["queries"][w.source]["limit"] or "",
        max_chars=lambda w: config["queries"][w.source]["max_chars"] or "",
        too_long=lambda w: config["queries"][w.source]["too_long"],
    shell:
        "dart --rule queries --wildcards source={wildcards.source:q} queries {params.src:q}"
        " --format {params.fmt:q} --split {params.split:q} --n {params.n:q}"
        " --subset={params.subset:q} --revision={params.revision:q} --limit={params.limit:q}"
        " --max-chars={params.max_chars:q} --too-long {params.too_long:q}"
        " --columns {params.columns} --dedupe-against {input.earlier:q}"
        " --name {wildcards.source:q} -o {output.table:q} --stats {output.stats:q} > {log:q} 2>&1"
