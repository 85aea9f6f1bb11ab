"""Stage 6, the summary. Reads: every configured results/eval/{model}/{benchmark}.json.
Writes: results/summary.md, results/summary.csv and results/summary.png (one row per
model, one column per benchmark plus the average, the paper's numbers beside ours).
"""


rule summary:
    """Tabulate every evaluation result, with the published numbers where they apply."""
    input:
        results=WF.eval_results(),
    output:
        md=report(
            f"{RESULTS}/summary.md",
            caption="../report/summary.rst",
            category="Summary",
            labels={"item": "table"},
        ),
        csv=report(
            f"{RESULTS}/summary.csv",
            caption="../report/summary.rst",
            category="Summary",
            labels={"item": "csv"},
        ),
        png=report(
            f"{RESULTS}/summary.png",
            caption="../report/summary.rst",
            category="Summary",
            labels={"item": "summary chart"},
        ),
        records=records_of(f"{RESULTS}/summary", ".md", ".csv", ".png"),
    log:
        f"{RESULTS}/logs/summary.log",
    conda:
        "../envs/cpu.yaml"
    params:
        models=canonical_json(WF.summary_models()),
    shell:
        "dart --rule summary summarize --inputs {input.results:q}"
        " --models-json {params.models:q} -o {output.md:q} --csv {output.csv:q}"
        " --png {output.png:q} > {log:q} 2>&1"
