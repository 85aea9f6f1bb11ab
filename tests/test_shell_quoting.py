"""Config values reach the rules' shell lines quoted (issue 22 item 1).

``columns: {gold: "answer$(touch PWNED)"}`` used to reach the queries rule's shell line
unquoted, and running the rule created the file. Every rule's rendered shell line of a
dry run with hostile values (spaces, ``$(...)``, backticks, quotes, ``;``) must keep
each value one intact word, and one real job runs with them.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import polars as pl
import pytest
import yaml
from small_workflow import edit_config, snakemake

ROOT = Path(__file__).resolve().parents[1]
#: Every hostile value holds PWNED, so a fragment of one on a shell line is easy to find.
HOSTILE = {
    "space": "the problem PWNED",
    "subshell": "answer$(touch PWNED)",
    "backticks": "main`touch PWNED`",
    "quotes": "it's \"PWNED\"",
    "semicolon": "mit; touch PWNED",
}


def _rules() -> set[str]:
    text = "".join(p.read_text() for p in (ROOT / "rules").glob("*.smk"))
    return set(re.findall(r"^(?:rule|checkpoint) (\w+):", text, re.M))


def _shell_lines(out: str) -> dict[str, list[str]]:
    """rule -> the shell lines a dry run printed for its jobs."""
    lines: dict[str, list[str]] = {}
    for line in out.splitlines():
        match = re.search(r"\bdart --rule (\w+) ", line)
        if match:
            lines.setdefault(match.group(1), []).append(line.strip())
    return lines


def _broken_words(line: str) -> list[str]:
    """The words of ``line`` (as the shell splits it) that hold a fragment of a hostile
    value instead of the whole value (alone, or after ``--flag=`` or ``key=``)."""
    words = shlex.split(line)
    whole = tuple(HOSTILE.values())
    return [w for w in words if "PWNED" in w and not w.endswith(whole)]


def _hostile_config(cfg: dict) -> None:
    h = HOSTILE
    digits = cfg["queries"]["digits"]
    digits["columns"] = {"query": h["space"], "gold": h["subshell"]}
    digits.update(split=h["quotes"], subset=h["semicolon"], revision=h["backticks"])
    cfg["models"]["tiny"]["revision"] = h["backticks"]
    for spec in cfg["datasets"].values():
        spec.update(description=h["quotes"], license=h["semicolon"])
    cfg["benchmarks"] = {"hb": {"type": "gsm8k", "source": f"openai/gsm8k {h['subshell']}",
                                "split": h["space"], "revision": h["backticks"]}}  # fmt: skip
    cfg["train"] = {"models": {"tiny": {"max_length": 128, "global_batch": 1, "epochs": 1}}}
    cfg["eval"] = {"engine": "transformers", "max_new_tokens": 8}


@pytest.mark.slow
def test_every_rule_quotes_hostile_values_on_its_shell_line(small_run, repo_root, dart_env):
    work = small_run
    edit_config(work, _hostile_config)
    proc = snakemake(repo_root, work, dart_env, "-n", "-p", "--forceall")
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    lines = _shell_lines(proc.stdout)
    assert set(lines) == _rules(), f"rules not rendered: {_rules() - set(lines)}"
    seen = 0
    for rule, rendered in sorted(lines.items()):
        for line in rendered:
            assert not _broken_words(line), (rule, _broken_words(line), line)
            seen += line.count("PWNED")
    assert seen >= 10  # the hostile values did reach the lines checked
    assert not list(work.rglob("PWNED"))


def test_one_real_job_with_hostile_values(tmp_path, repo_root, dart_env):
    """The queries rule ingests a table whose column names hold a space, ``$(...)``,
    a backtick, quotes and ``;``: the job succeeds and runs nothing of them."""
    h = HOSTILE
    raw = tmp_path / "raw dir" / f"{h['quotes']}.jsonl"
    raw.parent.mkdir()
    raw.write_text(
        json.dumps({h["space"]: "What is 2+2?", h["subshell"]: "4", h["semicolon"]: "easy",
                    h["backticks"]: "q1"}) + "\n"
    )  # fmt: skip
    cfg = {
        "queries": {
            "hostile": {
                "format": "table",
                "source": str(raw),
                "columns": {"query": h["space"], "gold": h["subshell"],
                            "subject": h["semicolon"], "id": h["backticks"]},  # fmt: skip
            }
        }
    }
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(cfg))
    proc = snakemake(repo_root, tmp_path, dart_env, "data/queries/hostile.parquet")
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert not list(tmp_path.rglob("PWNED")) and not (repo_root / "PWNED").exists()
    row = pl.read_parquet(tmp_path / "data/queries/hostile.parquet").row(0, named=True)
    assert (row["query"], row["gold"], row["subject"], row["source_id"]) == (
        "What is 2+2?", "4", "easy", "q1"
    )  # fmt: skip
