"""Stage 6, the summary. Reads: every configured results/eval/{model}/{benchmark}.json
and the .items.jsonl beside it. Writes: results/summary.md, results/summary.csv,
results/summary.png and results/summary_levels.png (one row per model, one column per
benchmark plus the average, intervals and n, the paper's numbers beside ours, paired
comparisons on the same items, accuracy by level).
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
        levels=report(
            f"{RESULTS}/summary_levels.png",
            caption="../report/summary.rst",
            category="Summary",
            labels={"item": "accuracy by level"},
        ),
    log:
        "logs/summary.log",
    conda:
        "../envs/cpu.yaml"
    params:
        models=canonical_json(WF.summary_models()),
        paper_diff=canonical_json(paper_differences(config)),
    shell:
        "dart --rule summary summarize --inputs {input.results:q}"
        " --models-json {params.models:q} --paper-diff-json {params.paper_diff:q} -o {output.md:q} --csv {output.csv:q}"
        " --png {output.png:q} --levels-png {output.levels:q} > {log:q} 2>&1"
