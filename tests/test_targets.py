"""What one target plans (Snakemake dry runs; nothing is executed).

- `snakemake results/eval/<model>/<benchmark>.json` plans only what that file needs: its
  model (and, for a fine-tune, its dataset, pool and base model) and its benchmark;
- the paper's setup (config.paper.yaml) is a valid config whose whole DAG plans, with
  hub sources replaced by small local files in the published schemas, and GPU rules ask
  for GPUs while CPU rules do not.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.slow


def _dry_run(repo_root: Path, workdir: Path, env, *targets: str) -> str:
    cmd = [
        sys.executable, "-m", "snakemake", *targets, "-n", "--cores", "2",
        "-s", str(repo_root / "Snakefile"), "--directory", str(workdir),
        "--configfile", str(workdir / "config.yaml"),
    ]  # fmt: skip
    proc = subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout + proc.stderr


def _jobs(text: str) -> list[dict[str, str]]:
    """Each planned job's rule, outputs, wildcards and resources, from the dry-run log."""
    jobs = []
    for block in re.split(r"\n(?=(?:local)?(?:rule|checkpoint) \w+:)", text):
        head = re.match(r"(?:local)?(?:rule|checkpoint) (\w+):", block)
        if not head:
            continue
        fields = dict(re.findall(r"^\s+(output|wildcards|resources): (.*)$", block, re.M))
        jobs.append({"rule": head.group(1), **fields})
    return jobs


def _two_of_everything(tmp_path: Path) -> dict:
    src = tmp_path / "q.jsonl"
    src.write_text(json.dumps({"question": "What is 1+1?", "answer": "#### 2"}) + "\n")
    return {
        "queries": {"q": {"format": "gsm8k", "source": str(src)}},
        "models": {"alpha": {"source": "embedded:smollm2"}, "beta": {"source": "embedded:smollm2"}},
        "synth": {"s": {"model": "alpha", "queries": ["q"]}},
        "datasets": {
            "uni": {"synth": "s", "recipe": "uniform", "k": 1},
            "p2d": {"synth": "s", "recipe": "prop2diff", "k_p": 2},
        },
        "train": {"models": {"alpha": {}, "beta": {}}},
        "benchmarks": {
            "held": {"type": "generated", "source": "11", "n": 10},
            "words": {"type": "word-problems", "source": "12", "n": 10},
        },
        # a dataset needs its queries checked against the benchmarks listed here (all by
        # default), so a dataset's result plans those benchmarks' files too
        "decontamination": {"benchmarks": ["held"]},
    }


@pytest.mark.parametrize(
    ("target", "wanted", "absent"),
    [
        (
            "beta--uni/held",
            {"beta", "uni", "held", "plan", "train"},
            {"p2d", "words", "alpha--uni"},
        ),
        ("beta/words", {"beta", "words"}, {"alpha", "uni", "p2d", "held", "plan", "train"}),
    ],
)
def test_one_result_plans_only_what_it_needs(repo_root, dart_env, tmp_path, target, wanted, absent):
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(_two_of_everything(tmp_path)))
    text = _dry_run(repo_root, tmp_path, dart_env, f"results/eval/{target}.json")
    jobs = _jobs(text)
    planned = " ".join(f"{j['rule']} {j.get('output', '')} {j.get('wildcards', '')}" for j in jobs)
    names = set(re.findall(r"[\w.-]+", planned))
    assert wanted <= names, (wanted - names, planned)
    assert not absent & names, (absent & names, planned)
    assert sum(j["rule"] == "summary" for j in jobs) == 0


def _published_files(root: Path) -> dict[str, Path]:
    """One or two rows of each source in its published schema (DESIGN.md section 11)."""
    rows = {
        "math.jsonl": {"problem": "What is $1+1$?", "solution": "$\\boxed{2}$", "level": "Level 1", "type": "Algebra"},
        "gsm8k.jsonl": {"question": "Tom has 3 apples and eats 1. How many are left?", "answer": "3-1=2\n#### 2"},
        "collegemath.jsonl": {"data_source": "college", "question_number": "1", "question": "Find $2x$ at $x=1$.", "answer": "$2$", "data_topic": "algebra"},
        "olympiadbench.json": [{"id": 1, "subfield": "Algebra", "context": None, "question": "Find $x$ with $x+1=2$.", "solution": ["$x=1$"], "final_answer": ["$1$"], "is_multiple_answer": False, "unit": None, "answer_type": "Numerical", "error": None}],
        "theoremqa.json": [{"Question": "Is 7 prime?", "Answer": True, "Answer_type": "bool", "Picture": None, "id": "t1", "theorem": "prime", "subfield": "number theory"}],
        "deepmind-mathematics.json": [{"question": "Calculate 2 + 3.", "answer": "5"}],
    }  # fmt: skip
    out = {}
    for name, content in rows.items():
        path = root / name
        if name.endswith(".jsonl"):
            path.write_text(json.dumps(content) + "\n")
        else:
            path.write_text(json.dumps(content))
        out[name.split(".")[0]] = path
    return out


def test_paper_config_plans_the_whole_dag_with_gpus_where_due(repo_root, dart_env, tmp_path):
    cfg = yaml.safe_load((repo_root / "config.paper.yaml").read_text())
    files = _published_files(tmp_path)
    cfg["queries"]["math"] = {"format": "math", "source": str(files["math"])}
    cfg["queries"]["gsm8k"] = {"format": "gsm8k", "source": str(files["gsm8k"])}
    for name, spec in cfg["benchmarks"].items():
        spec.update(source=str(files[name]), split=None, subset=None)
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(cfg))
    started = time.perf_counter()
    jobs = _jobs(_dry_run(repo_root, tmp_path, dart_env))
    seconds = time.perf_counter() - started
    counts: dict[str, int] = {}
    for job in jobs:
        counts[job["rule"]] = counts.get(job["rule"], 0) + 1
    assert counts["train"] == 12 and counts["dataset"] == 3 and counts["benchmark"] == 6
    assert counts["eval_generate"] == counts["eval_score"] == 16 * 6
    assert counts["summary"] == 1
    for job in jobs:
        gpus = re.search(r"\bgpu=(\d+)", job.get("resources", ""))
        if job["rule"] in ("train", "eval_generate"):
            assert gpus and int(gpus.group(1)) >= 1, job
        else:
            assert not gpus or gpus.group(1) == "0", job
    assert seconds < 60, f"paper-scale dry run took {seconds:.1f}s"
