"""Stage 6, the summary. Reads: every configured results/eval/{model}/{benchmark}.json.
Writes: results/summary.md, results/summary.csv and results/summary.png (one row per
model, one column per benchmark plus the average, the paper's numbers beside ours).
"""


rule summary:
    """Tabulate every evaluation result, with the published numbers where they apply."""
    input:
        results=eval_results(),
    output:
        md=f"{RESULTS}/summary.md",
        csv=f"{RESULTS}/summary.csv",
        png=f"{RESULTS}/summary.png",
    log:
        "logs/summary.log",
    conda:
        "../envs/cpu.yaml"
    params:
        models=json.dumps(summary_models(), sort_keys=True),
    shell:
        "dart --rule summary summarize --inputs {input.results:q}"
        " --models-json {params.models:q} -o {output.md:q} --csv {output.csv:q}"
        " --png {output.png:q} > {log:q} 2>&1"
