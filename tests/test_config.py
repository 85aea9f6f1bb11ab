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
