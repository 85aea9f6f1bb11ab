"""`dart audit`: lineage, tampering, staleness, another checkout's files, one row.

The first tests build a three-step lineage with the real `dart` command; the slow ones
audit the small real run of tests/small_workflow.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from dart.errors import DartError
from dart.lineage import versions
from dart.lineage.audit import audit
from dart.lineage.records import write_record


def _lineage(run_dart, tmp_path):
    raw = tmp_path / "raw.jsonl"
    raw.write_text('{"question": "What is 2+2?", "answer": "#### 4"}\n')
    run_dart("queries", "raw.jsonl", "--format", "gsm8k", "-o", "q.parquet", check=True)
    run_dart(
        "queries",
        "7",
        "--format",
        "generated",
        "--n",
        "20",
        "-o",
        "gen.parquet",
        "--dedupe-against",
        "q.parquet",
        check=True,
    )
    # A downstream artifact made from both (as a later stage would).
    both = pl.concat(
        [pl.read_parquet(tmp_path / "q.parquet"), pl.read_parquet(tmp_path / "gen.parquet")]
    )
    both.write_parquet(tmp_path / "all.parquet")
    return raw


def test_clean_lineage_passes(run_dart, tmp_path, monkeypatch):
    _lineage(run_dart, tmp_path)
    monkeypatch.chdir(tmp_path)
    write_record("all.parquet", step="test", inputs=["q.parquet", "gen.parquet"])
    proc = run_dart("audit", "all.parquet")
    assert proc.returncode == 0, proc.stdout
    assert "raw.jsonl  [source]" in proc.stdout
    assert "OK:" in proc.stdout


def test_one_changed_byte_upstream_is_named(run_dart, tmp_path, monkeypatch):
    raw = _lineage(run_dart, tmp_path)
    monkeypatch.chdir(tmp_path)
    write_record("all.parquet", step="test", inputs=["q.parquet", "gen.parquet"])
    data = bytearray(raw.read_bytes())
    data[15] ^= 0x01  # one byte of the raw source
    raw.write_bytes(bytes(data))
    proc = run_dart("audit", "all.parquet")
    assert proc.returncode == 1
    assert "FAILED: raw.jsonl: modified" in proc.stdout


def test_modified_intermediate_and_missing(run_dart, tmp_path, monkeypatch):
    _lineage(run_dart, tmp_path)
    monkeypatch.chdir(tmp_path)
    write_record("all.parquet", step="test", inputs=["q.parquet", "gen.parquet"])
    with open("gen.parquet", "r+b") as fh:
        fh.seek(10)
        byte = fh.read(1)
        fh.seek(10)
        fh.write(bytes([byte[0] ^ 0xFF]))
    _, problem = audit("all.parquet")
    assert problem is not None and problem.path == "gen.parquet" and problem.status == "modified"
    (tmp_path / "gen.parquet").unlink()
    proc = run_dart("audit", "all.parquet")
    assert proc.returncode == 1 and "FAILED: gen.parquet: missing" in proc.stdout


def test_rebuilt_input_makes_consumer_stale(run_dart, tmp_path, monkeypatch):
    _lineage(run_dart, tmp_path)
    monkeypatch.chdir(tmp_path)
    write_record("all.parquet", step="test", inputs=["q.parquet", "gen.parquet"])
    # Rebuild gen.parquet with other contents: its own record is fine, the consumer's is not.
    run_dart("queries", "8", "--format", "generated", "--n", "20", "-o", "gen.parquet", check=True)
    _, problem = audit("all.parquet")
    assert problem is not None and problem.path == "gen.parquet" and problem.status == "stale"


def test_file_without_record(run_dart, tmp_path):
    (tmp_path / "x.txt").write_text("x")
    proc = run_dart("audit", "x.txt")
    assert proc.returncode == 1 and "no provenance record" in proc.stdout


# --------------------------------------------------------------------------- a real run

WORKFLOW_ENV = ("DART_SNAKEFILE", "DART_CONFIGFILES")


def _audit(env, cwd, *args):
    return subprocess.run(
        [sys.executable, "-m", "dart.cli", "audit", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def _flip_byte(path: Path, at: int = 20) -> None:
    data = bytearray(path.read_bytes())
    data[at] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.mark.slow
def test_records_keep_root_versions_and_workflow(small_run, small_run_built):
    rec = json.loads((small_run / "results/pool/tiny/round0/verified/shard0.parquet.prov.json")
                     .read_text())  # fmt: skip
    assert rec["workflow"]["root"] == str(small_run_built)  # where it was built
    assert rec["workflow"]["snakefile"].endswith("Snakefile")
    assert rec["versions"] == {"grader": versions.grader()}
    gen = json.loads((small_run / "results/pool/tiny/round0/gen/shard0.parquet.prov.json")
                     .read_text())  # fmt: skip
    assert gen["versions"] == versions.pick("template:dart-synth", "engine:transformers")


@pytest.mark.slow
def test_tampered_intermediate_is_named(small_run, dart_env, tmp_path):
    work = small_run
    shard = work / "results/pool/tiny/round1/verified/shard1.parquet"
    _flip_byte(shard)
    proc = _audit(dart_env, work, "results/datasets/uniform.parquet", "--no-snakemake")
    assert proc.returncode == 1
    assert "FAILED: results/pool/tiny/round1/verified/shard1.parquet: modified" in proc.stdout
    assert f"root: {work} (derived from the audited file's location" in proc.stdout


@pytest.mark.slow
def test_changed_recipe_param_reports_that_dataset_stale(small_run, dart_env, tmp_path):
    from small_workflow import edit_config

    work = small_run  # records name config.yaml under the root
    edit_config(work, lambda cfg: cfg["datasets"]["vrt"].update(trials=3))
    proc = _audit(dart_env, work, "results/datasets/vrt.parquet", "--json")
    doc = json.loads(proc.stdout)
    stale = {s["path"]: s["why"] for s in doc["stale"]}
    assert proc.returncode == 1, proc.stdout[-3000:]
    assert stale == {
        "results/datasets/vrt.parquet": ["rule params changed (snakemake --list-changes params)"]
    }
    other = _audit(dart_env, work, "results/datasets/uniform.parquet")
    assert other.returncode == 0, other.stdout[-3000:]
    assert "snakemake view of" in other.stdout


@pytest.mark.slow
def test_grader_bump_reports_verified_shards_stale_like_snakemake(small_run, dart_env):
    from small_workflow import with_overrides

    env = with_overrides(dart_env, {"grader": "9.9.9"})
    proc = _audit(env, small_run, "results/datasets/uniform.parquet", "--json")
    assert proc.returncode == 1
    doc = json.loads(proc.stdout)
    stale = {s["path"]: s["why"] for s in doc["stale"]}
    verified = {str(p.relative_to(small_run))
                for p in small_run.glob("results/pool/tiny/round*/verified/shard*.parquet")}  # fmt: skip
    assert set(stale) == verified, stale
    for path, why in stale.items():
        assert why[0] == f"code version grader {versions.grader()} -> 9.9.9"
        # Snakemake names round 0's; later rounds wait behind re-planned checkpoints.
        asked = "rule params changed (snakemake --list-changes params)" in why
        assert asked == ("round0/" in path), (path, why)


@pytest.mark.slow
def test_audit_from_another_checkout_uses_the_recorded_root(small_run, dart_env, tmp_path):
    from small_workflow import copy_run

    a = copy_run(small_run, tmp_path / "A")
    b = copy_run(small_run, tmp_path / "B")
    tampered = a / "data/queries/digits.parquet"
    _flip_byte(tampered)
    proc = _audit(dart_env, b, str(a / "results/datasets/vrt.parquet"), "--no-snakemake")
    assert proc.returncode == 1, proc.stdout[-3000:]
    assert f"FAILED: {tampered}: modified" in proc.stdout
    assert f"root: {a} " in proc.stdout
    clean = _audit(dart_env, b, "results/datasets/vrt.parquet", "--no-snakemake")
    assert clean.returncode == 0, clean.stdout[-3000:]


@pytest.mark.slow
def test_row_leads_to_its_generation_and_verdict(small_run, dart_env):
    proc = _audit(dart_env, small_run, "results/datasets/uniform.parquet", "--row", "1", "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    info = json.loads(proc.stdout)
    row = pl.read_parquet(small_run / "results/datasets/uniform.parquet").row(0, named=True)
    gen_file = small_run / info["generation"]["file"]
    assert f"round{row['round']}/gen/shard{row['shard']}.parquet" in str(gen_file)
    gen = pl.read_parquet(gen_file).filter(pl.col("sample_id") == row["sample_id"])
    assert info["generation"]["response"] == gen["response"][0] == row["response"]
    assert info["verification"]["verdict"] == "correct"
    assert (info["trial"], info["seed"]) == (row["trial"], row["seed"])
    assert info["grader_version"] == versions.grader()
    assert info["template_version"] == versions.template("dart-synth")
    text = _audit(dart_env, small_run, "results/datasets/uniform.parquet", "--row", "1")
    assert "raw response:" in text.stdout and "verdict=correct" in text.stdout
    bad = _audit(dart_env, small_run, "results/datasets/uniform.parquet", "--row", "99999")
    assert bad.returncode == 2 and "out of range" in bad.stderr and "Traceback" not in bad.stderr


# --------------------------------------------------------------------------- versions


def test_version_overrides(monkeypatch):
    monkeypatch.setenv("DART_VERSION_OVERRIDES", '{"grader": "x", "template:alpaca": "y"}')
    assert versions.grader() == "x" and versions.lookup("template:alpaca") == "y"
    assert versions.compare({"grader": "x", "assembly": "0"}) == [
        ("assembly", "0", versions.assembly())
    ]
    monkeypatch.setenv("DART_VERSION_OVERRIDES", "[1]")
    with pytest.raises(DartError, match="DART_VERSION_OVERRIDES"):
        versions.grader()


def test_versions_import_only_version_leaves():
    """Snakemake reads versions at every parse: no stage, no polars, no model stack."""
    code = (
        "import sys, dart.lineage.versions as v; v.current(); "
        "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('dart', 'polars', 'numpy', 'torch', 'transformers', 'matplotlib', 'vllm'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = out.stdout.split()
    stages = ("models", "pool", "decontam", "datasets", "train", "evaluate", "summary")
    heavy = [m for m in loaded if not m.startswith("dart")]
    above = [m for m in loaded if m.split(".")[1:2] and m.split(".")[1] in stages]
    assert not heavy, heavy
    assert all(m.count(".") == 1 or m.endswith(".version") for m in above), above


def test_records_name_versions_by_step(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("out.txt").write_text("x")
    rec = write_record("out.txt", step="verify")
    assert rec["versions"] == {"grader": versions.grader()}
    assert rec["workflow"]["root"] == str(tmp_path)
    rec = write_record("out.txt", step="generate",
                       params={"engine": "transformers", "template": {"name": "dart-synth"}})  # fmt: skip
    assert set(rec["versions"]) == {"engine:transformers", "template:dart-synth"}
    assert write_record("out.txt", step="queries")["versions"] == {"queries": versions.queries()}
    assert write_record("out.txt", step="test")["versions"] == {}
    monkeypatch.setenv("DART_VERSION_OVERRIDES", '{"grader": "2"}')
    rec = write_record("out.txt", step="verify")
    assert rec["versions"] == {"grader": "2"} and rec["version_overrides"] == {"grader": "2"}
    _, problem = audit("out.txt", ask_snakemake=False)
    assert problem is None
    monkeypatch.delenv("DART_VERSION_OVERRIDES")
    node, problem = audit("out.txt", ask_snakemake=False)
    assert problem is not None and problem.status == "stale"
    assert node.stale == [f"code version grader 2 -> {versions.grader()}"]


# --------------------------------------------------------------------------- weights hash


def test_weights_hash_ignores_everything_but_the_weights(tmp_path):
    from dart.lineage.records import hash_path, weights_sha256

    for name, extra in (("a", "{}"), ("b", '{"train_seconds": 3.2}')):
        (tmp_path / name).mkdir()
        (tmp_path / name / "model.safetensors").write_bytes(b"same weights")
        (tmp_path / name / "timing.json").write_text(extra)
    a, b = tmp_path / "a", tmp_path / "b"
    assert weights_sha256(a) == weights_sha256(b) and hash_path(a) != hash_path(b)
    (b / "model-00002.safetensors").write_bytes(b"more")
    assert weights_sha256(b) != weights_sha256(a)
    assert weights_sha256(tmp_path) is None


def test_evaluation_records_the_models_own_weights_hash_and_audit_checks_it(
    tmp_path, monkeypatch, capsys
):
    """Issue 14 item 6: the result's ``weights_sha256`` hashed the whole model folder
    (timing files included), never equal to the model record's weights hash."""
    from dart import cli
    from dart.engines.tiny import build_tiny_model
    from dart.lineage.records import read_record, sha256_file

    monkeypatch.chdir(tmp_path)
    build_tiny_model(tmp_path / "tiny", seed=0)
    steps = [
        ["model", "tiny", "-o", "m"],
        ["benchmark", "generated", "1007", "--n", "2", "-o", "b.parquet"],
        ["evaluate", "generate", "--benchmark", "b.parquet", "--model", "m", "--template",
         "alpaca", "--max-new-tokens", "4", "--threads", "1", "-o", "m.gen.parquet"],
        ["evaluate", "score", "--generations", "m.gen.parquet", "--benchmark", "b.parquet",
         "--benchmark-name", "b", "--model-name", "m", "--workers", "1", "-o", "m.json",
         "--items", "m.items.jsonl"],
    ]  # fmt: skip
    for argv in steps:
        assert cli.main(argv) == 0, argv
    own = sha256_file(tmp_path / "m" / "model.safetensors")
    model = read_record(tmp_path / "m")
    assert model["model"]["weights_sha256"] == own != model["sha256"]
    assert read_record(tmp_path / "m.gen.parquet")["model"]["weights_sha256"] == own
    assert json.loads((tmp_path / "m.json").read_text())["weights_sha256"] == own
    capsys.readouterr()
    assert cli.main(["audit", "m.json", "--no-snakemake"]) == 0, capsys.readouterr().out
    # a generation record that names another hash (the folder's, as before) is caught
    gen_record = tmp_path / "m.gen.parquet.prov.json"
    doc = json.loads(gen_record.read_text())
    doc["model"]["weights_sha256"] = model["sha256"]
    gen_record.write_text(json.dumps(doc))
    capsys.readouterr()
    assert cli.main(["audit", "m.json", "--no-snakemake"]) == 1
    out = capsys.readouterr().out
    assert "FAILED: m.json: stale: weights_sha256" in out, out
    assert "m.gen.parquet  [stale]  sha256:" in out and f"is not m's weights hash {own[:12]}" in out


# --------------------------------------------------------------------------- issue 22 item 10


@pytest.mark.parametrize("as_json", [False, True])
def test_a_failed_snakemake_check_is_not_ok(tmp_path, monkeypatch, capsys, as_json):
    """``dart audit`` said OK, exit 0, when its own ``--list-changes params`` failed."""
    from dart import cli

    monkeypatch.chdir(tmp_path)
    Path("out.txt").write_text("x")
    Path("Snakefile").write_text("rule make:\n    output: 'out.txt'\n    shell: 'touch {output}'\n")
    record = write_record("out.txt", step="test")
    record.update(rule="make", workflow={**record["workflow"], "snakefile": "Snakefile"})
    Path("out.txt.prov.json").write_text(json.dumps(record))
    flags = ["--json"] if as_json else []
    assert cli.main(["audit", "out.txt", *flags]) == 0, capsys.readouterr().out  # check made
    assert "0 output(s) with changed params" in capsys.readouterr().out
    Path("Snakefile").write_text("rule make:\n    output 'out.txt'\n")  # Snakemake fails on it
    assert cli.main(["audit", "out.txt", *flags]) == 1
    out = capsys.readouterr().out
    if as_json:
        doc = json.loads(out)
        assert doc["ok"] is False and "list-changes params failed" in doc["snakemake"][0]
    else:
        assert "FAILED: the rule-params check could not be made" in out
        assert "snakemake --list-changes params failed" in out and "OK:" not in out
    assert cli.main(["audit", "out.txt", "--no-snakemake", *flags]) == 0
