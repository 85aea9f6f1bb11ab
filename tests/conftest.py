"""Shared fixtures: the repository root, an environment whose PATH finds `dart`, the models
and built runs that several tests read, and the one Slurm cluster of a test run.

`make pytest` runs the suite on two worker processes (pytest-xdist, ``--dist loadgroup``).
What a test run builds once is built once under xdist too: ``build_once`` lets the first
worker that asks build a session fixture in the run's common folder while the others wait
and reuse it, and ``pytest_collection_modifyitems`` below sends the tests that share a
module-scoped fixture, or a resource of which the machine has one (the Slurm cluster), to
the same worker. A new test needs nothing of its own for this: its fixtures say where it runs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from build_once import build_once

ROOT = Path(__file__).resolve().parent.parent

# -- which worker runs what (pytest-xdist --dist loadgroup) ---------------------------------

#: Session fixtures of which there can be one per machine, not one per worker: every test
#: that uses one runs on the same worker.
ONE_PER_MACHINE = {"slurm_cluster": "slurm"}
#: Groups and tests sent out first (a group's name or a test's id starting with one of
#: these; the longest first, measured: bench/RESULTS.md "Test suite time"), so that no
#: long one starts last while the other worker idles. Then the groups and tests marked
#: slow, then the rest, each in collection order.
LONGEST_FIRST = ("slurm", "tests/test_workflow.py", "tests/test_pool_workflow.py")


def _groups(items: list[pytest.Item]) -> dict[str, str]:
    """Each test's group (a nodeid -> name): the tests that use the same module- or
    class-scoped fixture share their file's group, those that use a ONE_PER_MACHINE fixture
    share its group, and groups that meet merge. A test in no group runs anywhere."""
    parent: dict[str, str] = {}

    def find(key: str) -> str:
        while parent.setdefault(key, key) != key:
            key = parent[key]
        return key

    keys_of: dict[str, set[str]] = {}
    for item in items:
        keys = set()
        info = getattr(item, "_fixtureinfo", None)  # a doctest has none
        for name in info.names_closure if info else ():
            defs = info.name2fixturedefs.get(name) or ()
            scope = defs[-1].scope if defs else "function"
            if name in ONE_PER_MACHINE:
                keys.add(ONE_PER_MACHINE[name])
            elif scope in ("module", "class"):
                keys.add(item.nodeid.split("::")[0])
            elif scope == "package":
                keys.add(str(Path(item.nodeid.split("::")[0]).parent))
        keys_of[item.nodeid] = keys
        for key in keys:
            parent[find(key)] = find(min(keys))
    members: dict[str, list[str]] = {}
    for key in list(parent):
        members.setdefault(find(key), []).append(key)
    name = {
        root: next((g for g in LONGEST_FIRST if g in keys), min(keys))
        for root, keys in members.items()
    }
    return {nodeid: name[find(min(keys))] for nodeid, keys in keys_of.items() if keys}


def _tag(item: pytest.Item, group: str) -> None:
    """Append ``@group`` to the test's id, which is how xdist's loadgroup reads a group.

    pytest-xdist 3.8 does this itself for an ``xdist_group`` mark by setting
    ``item._nodeid``, which pytest 9.2 no longer reads (it keeps the id in ``item._id``):
    its loadgroup then groups nothing. So the tag is set here, for both pytests.
    """
    tagged = f"{item.nodeid}@{group}"
    if hasattr(item, "_id"):
        from _pytest.nodeid import NodeId

        item._id = NodeId.parse(tagged)
    else:
        item._nodeid = tagged
    assert item.nodeid == tagged, "this pytest keeps a test's id elsewhere: update _tag"


@pytest.hookimpl(trylast=True)  # after deselection (-k, -m, --deselect read the plain ids)
def pytest_collection_modifyitems(config, items):
    if not os.environ.get("PYTEST_XDIST_WORKER"):  # xdist's workers collect, not its controller
        return  # a plain run keeps its order and needs no groups
    groups = _groups(items)
    slow = {groups.get(i.nodeid, i.nodeid) for i in items if i.get_closest_marker("slow")}

    def rank(item: pytest.Item) -> tuple[int, int]:
        group = groups.get(item.nodeid, item.nodeid)
        first = [i for i, name in enumerate(LONGEST_FIRST) if group.startswith(name)]
        return (first or [len(LONGEST_FIRST)])[0], group not in slow

    items.sort(key=rank)  # stable: each group keeps its collection order
    if config.getvalue("loadgroup"):
        for item in items:
            if item.nodeid in groups:
                _tag(item, groups[item.nodeid])


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def dart_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["HF_HUB_OFFLINE"] = "1"
    env["HF_DATASETS_OFFLINE"] = "1"
    return env


@pytest.fixture()
def run_dart(dart_env, tmp_path):
    """Run the `dart` command in tmp_path; return the CompletedProcess."""

    def _run(*args: str, cwd: Path | None = None, check: bool = False):
        proc = subprocess.run(
            [sys.executable, "-m", "dart.cli", *args],
            cwd=cwd or tmp_path,
            env=dart_env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"dart {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
        return proc

    return _run


@pytest.fixture(scope="session")
def smollm2_folder(tmp_path_factory) -> Path:
    """The embedded SmolLM2 materialised once per test run (about 30 s)."""
    from dart.models.embedded import materialise

    def build(folder: Path) -> Path:
        materialise("embedded:smollm2", folder / "smollm2")
        return folder / "smollm2"

    return build_once(tmp_path_factory, "smollm2", build)


BOXED = tuple(f"\\boxed{{{d}}}" for d in range(10))


def build_boxing_model(path: Path, seed: int = 0) -> Path:
    """A random two-layer Llama that often writes ``\\boxed{d}`` and often stops.

    Its vocabulary is printable characters plus ten whole-word tokens ``\\boxed{0}`` ..
    ``\\boxed{9}``. Every embedding carries a constant component that the output layer
    maps onto those ten tokens and EOS, so a sampled response usually ends (``stop``)
    after a few boxed digits: a uniformly random digit answer, right about one time in
    ten for a one-digit reference. Real tokenizer, real model, real sampling: the pool
    gets a mix of correct, wrong and truncated responses without any trained weights.
    """
    import torch
    from transformers import LlamaForCausalLM

    from dart.engines.tiny import build_tokenizer, tiny_llama_config

    tokenizer = build_tokenizer()
    tokenizer.add_tokens(list(BOXED))
    config = tiny_llama_config(tokenizer, max_position_embeddings=2048, tie_word_embeddings=False)
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    boxed_ids = tokenizer.convert_tokens_to_ids(list(BOXED))
    with torch.no_grad():
        model.model.embed_tokens.weight[:, 0] = 1.0
        model.lm_head.weight[:, 0] = 0.0
        model.lm_head.weight[boxed_ids, 0] = 0.5
        model.lm_head.weight[tokenizer.eos_token_id, 0] = 0.55
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def boxing_model(tmp_path_factory) -> Path:
    return build_once(
        tmp_path_factory, "boxing", lambda folder: build_boxing_model(folder / "boxing")
    )


@pytest.fixture(scope="session")
def small_run_built(tmp_path_factory, repo_root, dart_env, boxing_model) -> Path:
    """The small real run of tests/small_workflow.py, built once per test run; read-only:
    tests work on their own copy (``small_run``)."""
    from small_workflow import build_run

    build = lambda folder: build_run(folder, repo_root, dart_env, boxing_model)  # noqa: E731
    return build_once(tmp_path_factory, "small-workflow", build)


@pytest.fixture()
def small_run(small_run_built, tmp_path) -> Path:
    """This test's own copy of the built small run (mtimes and Snakemake metadata kept)."""
    from small_workflow import copy_run

    return copy_run(small_run_built, tmp_path / "small-run")


# -- the Slurm cluster ------------------------------------------------------------------


@pytest.fixture(scope="session")
def slurm_cluster(tmp_path_factory):
    """The real single-node Slurm of tests/slurm/cluster.py, brought up once per test run
    for every test that needs it (they all run on one worker: ONE_PER_MACHINE) and stopped
    by its daemons' PIDs at the end. Under CI (`CI` set) it must come up; elsewhere the
    tests that need it are skipped when it cannot (no root or apt-get to install the
    packages, or a Slurm that is not ours)."""
    from slurm import cluster

    try:
        running = cluster.up(tmp_path_factory.mktemp("slurm"))
    except cluster.Unavailable as exc:
        if os.environ.get("CI"):
            pytest.fail(f"Slurm must run under CI: {exc}")
        pytest.skip(f"no Slurm cluster on this machine: {exc}")
    try:
        yield running
    finally:
        cluster.down(running)


@pytest.fixture(scope="session")
def slurm_env(dart_env) -> dict[str, str]:
    """The tests' environment with the Slurm daemons' folder (/usr/sbin) on PATH."""
    env = dict(dart_env)
    env["PATH"] = f"{env['PATH']}{os.pathsep}/usr/sbin"
    return env
