"""Models. Reads: config `models` (embedded GGUF, local folder or hub id). Writes:
data/models/{model}/, a local Hugging Face folder, with its provenance record (weight hash).
"""


rule model:
    """Materialise one model as a local Hugging Face folder."""
    output:
        folder=directory(f"{DATA}/models/{{model}}"),
        record=f"{DATA}/models/{{model}}.prov.json",
    log:
        f"{RESULTS}/logs/models/{{model}}.log",
    conda:
        "../envs/cpu.yaml"
    resources:
        mem_mb=8000,
        runtime=60,
    params:
        src=lambda w: config["models"][w.model]["source"],
        revision=lambda w: config["models"][w.model]["revision"] or "",
    shell:
        "dart --rule model --wildcards model={wildcards.model:q} model {params.src:q}"
        " --revision={params.revision:q}"
        " -o {output.folder:q} > {log:q} 2>&1"
