"""Stage 4, fine-tuning. Reads: results/datasets/{dataset}.parquet and the base model's
folder data/models/{base}/. Writes: results/models/{base}--{dataset}/ (a plain Hugging
Face folder with training.json, loss.csv, loss.png and a model card; `--s{seed}` is
appended to the name when several seeds are configured) and its provenance record.
Checkpoints live in results/models/{name}.work/ while training runs, so a killed job
resumes from its last one.
"""


rule train:
    """Fine-tune one base model on one dataset (DeepSpeed ZeRO-3 on GPUs, PyTorch on CPU)."""
    input:
        dataset=lambda w: f"{RESULTS}/datasets/{WF.train_spec(w.tuned)['dataset']}.parquet",
        base=lambda w: f"{DATA}/models/{WF.train_spec(w.tuned)['base']}",
    output:
        folder=report(
            directory(f"{RESULTS}/models/{{tuned}}"),
            patterns=["{plot}.png"],
            caption="../report/model.rst",
            category="Models",
            labels={"model": "{tuned}", "item": "{plot}"},
        ),
        record=f"{RESULTS}/models/{{tuned}}.prov.json",
    log:
        f"{RESULTS}/logs/train/{{tuned}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/train/{{tuned}}.tsv"
    conda:
        "../envs/train.yaml"
    threads: 2
    resources:
        mem_mb=16000,
        runtime=1440,
        gpu=lambda w: WF.train_spec(w.tuned)["hparams"]["gpus"],
    params:
        hparams=lambda w: canonical_json(WF.train_spec(w.tuned)["hparams"]),
        seed=lambda w: WF.train_spec(w.tuned)["seed"],
        report_to=config["train"]["report_to"],
        train_version=code_versions.train(),
    shell:
        "dart --rule train --wildcards tuned={wildcards.tuned:q} train"
        " --dataset {input.dataset:q} --base {input.base:q}"
        " --hyperparams-json {params.hparams:q} --seed {params.seed:q}"
        " --threads {threads:q} --report-to {params.report_to:q}"
        " --name {wildcards.tuned:q} -o {output.folder:q} > {log:q} 2>&1"
