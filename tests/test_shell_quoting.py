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
    "quotes": 'it\'s "PWNED"',
    "semicolon": "mit; touch PWNED",
}


def _rules() -> set[str]:
    text = "".join(p.read_text() for p in (ROOT / "rules").glob("*.smk"))
    return set(re.findall(r"^(?:rule|checkpoint) (\w+):", text, re.M))


#: A params function whose value is already shell-quoted words (dart.workflow.quoted):
#: its placeholder goes on the line without ``:q``.
PRE_QUOTED = re.compile(r"quoted\(|input_param\(|previous_tally_option\(|column_args\(")


def test_every_placeholder_of_every_shell_line_is_quoted():
    """Each ``{...}`` of a rule's shell line has ``:q``, or is a params value that
    ``dart.workflow.quoted`` built (a list of words)."""
    unquoted = []
    for path in sorted((ROOT / "rules").glob("*.smk")):
        for rule in re.split(r"\n(?=(?:rule|checkpoint) )", path.read_text()):
            head, _, shell = rule.partition("    shell:\n")
            params = head.partition("    params:\n")[2]
            for name in re.findall(r"\{([A-Za-z_][\w.]*)\}", shell):
                key = name.removeprefix("params.")
                made = re.search(rf"^        {key}=(.*)$", params, re.M)
                if not (name.startswith("params.") and made and PRE_QUOTED.search(made[1])):
                    unquoted.append(f"{path.name}: {name}")
    assert not unquoted, unquoted


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
    value instead of the whole value (alone, in a path, after ``--flag=`` or ``key=``)."""
    words = shlex.split(line)
    return [w for w in words if "PWNED" in w and not any(h in w for h in HOSTILE.values())]


def _hostile_config(cfg: dict, root: Path) -> None:
    """Hostile values in every free text the rules pass on: paths (the data and results
    folders, a table source), column names, hub ids, splits, revisions, card texts."""
    h = HOSTILE
    cfg["data_dir"], cfg["results_dir"] = f"data {h['quotes']}", f"res {h['subshell']}"
    raw = root / f"raw {h['backticks']}.jsonl"
    raw.write_text(json.dumps({h["space"]: "What is 1+1?", h["subshell"]: "2"}) + "\n")
    digits = cfg["queries"]["digits"]
    digits.update(source=str(raw), columns={"query": h["space"], "gold": h["subshell"]},
                  split=h["quotes"], subset=h["semicolon"], revision=h["backticks"])  # fmt: skip
    cfg["queries"]["hub"] = {"format": "gsm8k", "source": f"openai/gsm8k {h['subshell']}",
                             "split": h["space"], "revision": h["backticks"]}  # fmt: skip
    cfg["models"]["tiny"]["revision"] = h["backticks"]
    for spec in cfg["datasets"].values():
        spec.update(description=h["quotes"], license=h["semicolon"])
    cfg["benchmarks"] = {"hb": {"type": "gsm8k", "source": f"openai/gsm8k {h['subshell']}",
                                "split": h["space"], "revision": h["backticks"]}}  # fmt: skip
    cfg["train"] = {"models": {"tiny": {"max_length": 128, "global_batch": 1, "epochs": 1}}}
    cfg["eval"] = {"engine": "transformers", "max_new_tokens": 8,
                   "engine_options": {"revision": h["semicolon"]}}  # fmt: skip


def _check_lines(out: str) -> dict[str, list[str]]:
    lines = _shell_lines(out)
    for rule, rendered in sorted(lines.items()):
        for line in rendered:
            assert not _broken_words(line), (rule, _broken_words(line), line)
    return lines


@pytest.mark.slow
def test_every_rule_quotes_hostile_values_on_its_shell_line(small_run, repo_root, dart_env):
    """Two dry runs: a fresh folder with hostile values everywhere renders every job the
    DAG knows before the pool's first plan; the built small run renders the pool's jobs
    behind the plan checkpoint (the sampling ones with a hostile engine option)."""
    fresh = small_run.parent / "fresh"
    fresh.mkdir()
    cfg = yaml.safe_load((small_run / "config.yaml").read_text())
    _hostile_config(cfg, fresh)
    (fresh / "config.yaml").write_text(yaml.safe_dump(cfg))
    proc = snakemake(repo_root, fresh, dart_env, "-n", "-p")
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    lines = _check_lines(proc.stdout)
    assert sum(line.count("PWNED") for ls in lines.values() for line in ls) >= 20

    proc = snakemake(repo_root, small_run, dart_env, "-n", "-p", "--forcerun", "pool")
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    pool_lines = _check_lines(proc.stdout)  # the pool's job: its files, quoted()
    edit_config(small_run, lambda c: c["synth"]["tiny"]["engine_options"].update(
        revision=HOSTILE["semicolon"]))  # fmt: skip
    proc = snakemake(repo_root, small_run, dart_env, "-n", "-p")
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    pool_lines.update(_check_lines(proc.stdout))
    assert any("PWNED" in line for line in pool_lines["generate"])
    rendered = set(lines) | set(pool_lines)
    assert rendered == _rules(), f"rules not rendered: {_rules() - rendered}"
    assert not list(fresh.rglob("*PWNED")) and not list(small_run.rglob("*PWNED"))


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
                "columns": {
                    "query": h["space"],
                    "gold": h["subshell"],
                    "subject": h["semicolon"],
                    "id": h["backticks"],
                },  # fmt: skip
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
