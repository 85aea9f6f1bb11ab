from __future__ import annotations

import pytest
import yaml

from dart.config import load, schema, validate
from dart.errors import DartError


def test_default_config_validates_and_fills_defaults(repo_root):
    cfg = load(repo_root / "config.yaml")
    assert cfg["seed"] == 1234
    gen = cfg["queries"]["generated"]
    assert gen["split"] == "train" and gen["limit"] is None  # filled from the schema
    assert cfg["models"]["smollm2-135m"]["revision"] is None


def test_every_key_has_description_and_default():
    root = schema()
    assert root["$schema"].endswith("2020-12/schema")

    def walk(node, where):
        for key, sub in node.get("properties", {}).items():
            sub = root["$defs"][sub["$ref"].split("/")[-1]] if "$ref" in sub else sub
            assert "description" in sub, f"{where}.{key} has no description"
            assert "default" in sub, f"{where}.{key} has no default"
            walk(sub, f"{where}.{key}")
        extra = node.get("additionalProperties")
        if isinstance(extra, dict) and "$ref" in extra:
            walk(root["$defs"][extra["$ref"].split("/")[-1]], f"{where}.*")

    walk(root, "config")


@pytest.mark.parametrize(
    ("config", "named"),
    [
        ({"sed": 1}, "sed"),
        ({"queries": {"g": {"format": "generated", "sorce": "7"}}}, "queries.g.sorce"),
        ({"queries": {"g": {"format": "csvx", "source": "7"}}}, "queries.g.format"),
        ({"seed": "one"}, "seed"),
        ({"queries": {"g": {"format": "generated", "n": "many"}}}, "queries.g.n"),
        ({"models": {"m": {"revision": "main"}}}, "models.m"),
    ],
)
def test_bad_config_names_the_key(config, named):
    with pytest.raises(DartError, match=named.replace(".", r"\.")):
        validate(config, source="cfg.yaml")


def test_load_names_the_file(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({"queries": {"g": {"format": "generated", "oops": 1}}}))
    with pytest.raises(DartError, match=r"c\.yaml: unknown key queries\.g\.oops"):
        load(path)


def test_config_verb_writes_merged(run_dart, tmp_path, repo_root):
    out = tmp_path / "merged.yaml"
    proc = run_dart("config", str(repo_root / "config.yaml"), "-o", str(out), check=True)
    assert proc.returncode == 0
    assert yaml.safe_load(out.read_text())["queries"]["generated"]["split"] == "train"


def _pipeline(**extra):
    cfg = {
        "queries": {"g": {"format": "generated", "source": "7"}},
        "models": {"m": {"source": "embedded:smollm2"}},
        "synth": {"s": {"model": "m", "queries": ["g"]}},
        "datasets": {"u": {"synth": "s", "recipe": "uniform", "k": 2}},
        "benchmarks": {"held": {"type": "generated", "source": "8"}},
    }
    cfg.update(extra)
    return cfg


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda c: c["synth"]["s"].update(model="nope"), r"synth\.s\.model: model 'nope'"),
        (lambda c: c["synth"]["s"].update(queries=["g", "gone"]), r"synth\.s\.queries: .*'gone'"),
        (lambda c: c["datasets"]["u"].update(synth="pool2"), r"datasets\.u\.synth: .*'pool2'"),
        (lambda c: c.update(train={"models": {"x": {}}}), r"train\.models: base model 'x'"),
        (
            lambda c: c.update(train={"models": {"m": {}}, "datasets": ["v"]}),
            r"train\.datasets: dataset 'v'",
        ),
        (
            lambda c: c.update(train={"models": {"m": {}}, "pairs": ["m--v"]}),
            r"train\.pairs: dataset 'v'",
        ),
        (lambda c: c.update(eval={"benchmarks": ["math"]}), r"eval\.benchmarks: benchmark 'math'"),
        (lambda c: c.update(eval={"models": ["m--u"]}), r"eval\.models: model 'm--u'.*train block"),
        (
            lambda c: c.update(decontamination={"benchmarks": ["gsm"]}),
            r"decontamination\.benchmarks: benchmark 'gsm'",
        ),
        (
            lambda c: c.update(train={"models": {"m": {"epocs": 1}}}),
            r"unknown key train\.models\.m\.epocs",
        ),
    ],
)
def test_cross_references_name_the_key(change, named):
    cfg = _pipeline()
    change(cfg)
    with pytest.raises(DartError, match=named):
        validate(cfg, source="cfg.yaml")


@pytest.mark.parametrize(
    ("models", "datasets", "named"),
    [
        (["a", "a--x"], ["y"], "key models.a--x: a model name may not hold '--'"),
        (["a"], ["x--y", "y"], "key datasets.x--y: a dataset name may not hold '--'"),
        (["a-"], ["x"], "key models.a-: a model name may not hold '--' or end in '-'"),
    ],
)
def test_fine_tune_names_cannot_collide(models, datasets, named):
    """Issue 22 item 3: models {a, a--x} on datasets {x--y, y} planned three fine-tunes
    for four pairs (a on x--y and a--x on y are both a--x--y)."""
    cfg = _pipeline()
    cfg["models"] = {m: {"source": "embedded:smollm2"} for m in models}
    cfg["synth"]["s"]["model"] = models[0]
    cfg["datasets"] = {d: {"synth": "s", "recipe": "uniform", "k": 2} for d in datasets}
    cfg["train"] = {"models": {m: {} for m in models}}
    with pytest.raises(DartError) as err:
        validate(cfg, source="cfg.yaml")
    assert str(err.value).startswith(f"cfg.yaml: {named}")


def test_dart_config_refuses_a_double_dash_name(run_dart, tmp_path):
    cfg = _pipeline()
    cfg["datasets"]["x--y"] = cfg["datasets"]["u"]
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(cfg))
    proc = run_dart("config", "c.yaml")
    assert proc.returncode == 2 and "key datasets.x--y: a dataset name" in proc.stderr


def test_finetuned_names_and_eval_matrix():
    from dart.config import eval_benchmarks, eval_models, eval_template, finetuned_models

    cfg = validate(_pipeline(train={"models": {"m": {}}}))
    assert finetuned_models(cfg) == {"m--u": {"base": "m", "dataset": "u", "seed": 42}}
    assert eval_models(cfg) == ["m", "m--u"] and eval_benchmarks(cfg) == ["held"]
    assert eval_template(cfg, "m") == "base-few-shot" and eval_template(cfg, "m--u") == "alpaca"
    two = validate(_pipeline(train={"models": {"m": {}}, "seeds": [1, 2]}))
    assert list(finetuned_models(two)) == ["m--u--s1", "m--u--s2"]
    assert validate(_pipeline(eval={"models": ["m--u"]}, train={"models": {"m": {}}}))


def test_command_line_strings_are_coerced_to_schema_types():
    # snakemake --config 'grader={"memory_mb": "4096"}' hands nested values over as strings
    cfg = validate(_pipeline(grader={"memory_mb": "4096", "timeout": "2.5"}, seed="7"))
    assert cfg["grader"] == {"memory_mb": 4096, "timeout": 2.5} and cfg["seed"] == 7
    hp = {"packing": "false", "batch_unit": "samples", "epochs": "2"}
    cfg = validate(_pipeline(train={"models": {"m": hp}}))
    assert cfg["train"]["models"]["m"]["packing"] is False
    with pytest.raises(DartError, match=r"grader\.memory_mb"):
        validate(_pipeline(grader={"memory_mb": "lots"}))


@pytest.mark.parametrize("text", ["none", "null", "~", "None", "NULL"])
def test_only_a_real_yaml_null_is_null(text):
    """Issue 22 item 8: ``subset: "none"`` became no subset, without a word."""
    source = {"format": "gsm8k", "source": "openai/gsm8k", "subset": text, "revision": text}
    cfg = validate(_pipeline(queries={"g": source}))
    assert cfg["queries"]["g"]["subset"] == text and cfg["queries"]["g"]["revision"] == text
    real = yaml.safe_load("subset: null\nrevision: ~\n")
    cfg = validate(_pipeline(queries={"g": {**source, **real}}))
    assert cfg["queries"]["g"]["subset"] is None and cfg["queries"]["g"]["revision"] is None


def test_a_yaml_null_from_the_command_line_is_null():
    """``snakemake --config`` hands every nested scalar over as text (YAML's base
    loader): there, and only there, "null" and "~" are YAML's nulls."""
    given = {"queries": {"g": {"format": "gsm8k", "source": "openai/gsm8k", "subset": "null",
                               "revision": "~", "split": "none"}}}  # fmt: skip
    cfg = validate(_pipeline(**given), command_line=given)
    g = cfg["queries"]["g"]
    assert (g["subset"], g["revision"], g["split"]) == (None, None, "none")
    other = validate(_pipeline(**given), command_line={"seed": "3"})
    assert other["queries"]["g"]["subset"] == "null"


def test_snakemake_config_null_reaches_the_rule_as_null(tmp_path, repo_root, dart_env):
    import subprocess
    import sys

    cfg = {"queries": {"g": {"format": "gsm8k", "source": "openai/gsm8k", "subset": "main"}}}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(cfg))

    def dry_run(*config):
        return subprocess.run(
            [sys.executable, "-m", "snakemake", "data/queries/g.parquet", "-n", "-p",
             "-s", str(repo_root / "Snakefile"), "--directory", str(tmp_path),
             "--configfile", str(tmp_path / "config.yaml"), *config],
            cwd=tmp_path, env=dart_env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip

    assert "--subset=main " in dry_run().stdout
    override = "queries={g: {format: gsm8k, source: openai/gsm8k, subset: null}}"
    proc = dry_run("--config", override)
    assert "--subset= " in proc.stdout, proc.stdout + proc.stderr


def test_train_hyperparameters_in_the_schema_match_dart_train():
    from dataclasses import fields

    from dart.train.hyperparams import CHOICES, Hyperparams

    props = schema()["$defs"]["train_hparams"]["properties"]
    assert list(props) == [f.name for f in fields(Hyperparams)]
    for f in fields(Hyperparams):
        assert props[f.name]["default"] == f.default, f.name
        if f.name in CHOICES:
            assert tuple(props[f.name]["enum"]) == CHOICES[f.name], f.name
    merged = validate(_pipeline(train={"models": {"m": {}}}))["train"]["models"]["m"]
    assert Hyperparams.from_dict(merged).to_dict() == merged  # the rule's JSON parses as is


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ({"eval": {"base_template": "fewshot"}}, r"eval\.base_template: prompt template 'fewshot'"),
        ({"train": {"models": {"m": {"template": "alpacca"}}}}, r"train\.models\.m\.template"),
    ],
)
def test_unknown_template_names_the_key(extra, named):
    with pytest.raises(DartError, match=named):
        validate(_pipeline(**extra))


# --------------------------------------------------------------------------- one spelling

#: Free-form maps whose values no schema types (engine options, scoring options).
FREE_FORM = {"engine_options", "options"}


def _respell(value, *, as_text: bool):
    """Every number spelled the other way (5 <-> 5.0); with as_text, every scalar as the
    string `snakemake --config` hands over for a nested value."""
    if isinstance(value, dict):
        return {k: v if k in FREE_FORM else _respell(v, as_text=as_text) for k, v in value.items()}
    if isinstance(value, list):
        return [_respell(v, as_text=as_text) for v in value]
    if value is None:
        return "null" if as_text else None  # Snakemake's base loader: text
    if isinstance(value, bool):
        return str(value).lower() if as_text else value
    if isinstance(value, int):
        return str(float(value)) if as_text else float(value)
    if isinstance(value, float):
        spelled = int(value) if value.is_integer() else value
        return str(spelled) if as_text else spelled
    return value


@pytest.mark.parametrize("paper", [False, True], ids=["config.yaml", "config.paper.yaml"])
@pytest.mark.parametrize("as_text", [False, True], ids=["numbers", "--config strings"])
def test_every_block_has_one_spelling_per_value(repo_root, paper, as_text):
    """The same value gives the same config (and so the same params) however spelled:
    `5` or `5.0` in a file, `"5"` from --config, in every config block."""
    cfg = load(repo_root / ("config.paper.yaml" if paper else "config.yaml"))
    for block in cfg:
        respelled = {**cfg, block: _respell(cfg[block], as_text=as_text)}
        given = {block: respelled[block]} if as_text else None
        assert validate(respelled, command_line=given) == cfg, block
    assert isinstance(cfg["grader"]["timeout"], float) and isinstance(cfg["seed"], int)


@pytest.mark.parametrize(
    ("hparams", "named"),
    [
        ({"global_batch": 6, "micro_batch": 4}, "global_batch=6 is not divisible"),
        ({"lr_scheduler": "reduce_lr_on_plateau"}, "lr_scheduler"),
        ({"lr_scheduler": "cosine_with_min_lr"}, "lr_scheduler"),
        ({"lr_scheduler": "warmup_stable_decay"}, "lr_scheduler"),
        ({"gpus": 0, "precision": "fp16"}, "fp16"),
    ],
)
def test_a_fine_tune_would_refuse_it_so_the_config_does(
    hparams, named, run_dart, tmp_path, repo_root
):
    cfg = yaml.safe_load((repo_root / "config.yaml").read_text())
    cfg["train"]["models"]["smollm2-135m"].update(hparams)
    with pytest.raises(DartError, match=rf"train\.models\.smollm2-135m.*{named}"):
        validate(cfg)
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(cfg))
    proc = run_dart("config", str(path))
    assert proc.returncode == 2 and "train.models.smollm2-135m" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
