"""`dart config --paper-diff`: the paper config differs in nothing, a changed one in
exactly what changed; the summary lists the differences under the paper row."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from dart import paper
from dart.config import load
from dart.config.paper import paper_diff_text, paper_differences, run_settings

ROOT = Path(__file__).resolve().parents[2]


def test_the_paper_config_equals_the_paper_for_every_base_model():
    cfg = load(ROOT / "config.paper.yaml")
    found = paper_differences(cfg)
    assert set(found) == {"mistral-7b", "llama3-8b", "deepseekmath-7b", "llama3-70b"}
    assert all(entry["published"] and entry["differences"] == [] for entry in found.values())
    assert found["llama3-70b"]["paper_model"] == "Llama3-70B"
    assert run_settings(cfg, "llama3-70b")["learning_rate"] == 2e-5
    text = paper_diff_text(cfg, "config.paper.yaml")
    assert text.count("equals the paper's setup") == 4


def test_a_changed_config_lists_each_changed_setting(tmp_path):
    raw = yaml.safe_load((ROOT / "config.paper.yaml").read_text())
    raw["train"]["models"]["llama3-8b"].update(
        global_batch=32, learning_rate=1e-5, epochs=3, precision="fp32"
    )
    raw["eval"]["max_new_tokens"] = 1024
    raw["eval"]["templates"] = {"llama3-8b--prop2diff": "chat"}
    path = tmp_path / "changed.yaml"
    path.write_text(yaml.safe_dump(raw))
    found = paper_differences(load(path))
    assert found["llama3-8b"]["differences"] == [
        "learning rate 1e-05 (paper 5e-05)",
        "global batch 32 packed rows (paper 64 packed rows)",
        "epochs 3 (paper 1)",
        "precision fp32 (paper bf16)",
        "fine-tunes' evaluation template chat for llama3-8b--prop2diff (paper alpaca)",
        "max new tokens 1024 (paper 2048)",
        # chat stops at EOS alone
        "stop strings none for llama3-8b--prop2diff (paper '### Instruction:', '### Response:')",
    ]
    # the other models changed only where the whole config did (max new tokens)
    assert found["mistral-7b"]["differences"] == ["max new tokens 1024 (paper 2048)"]
    out = subprocess.run(
        [sys.executable, "-m", "dart.cli", "config", str(path), "--paper-diff"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "llama3-8b (Llama3-8B): 7 setting(s) differ\n  learning rate 1e-05" in out.stdout


def test_the_embedded_default_is_held_against_the_8b_setup():
    found = paper_differences(load(ROOT / "config.yaml"))
    entry = found["smollm2-135m"]
    assert not entry["published"] and entry["paper_model"] == paper.DEFAULT_MODEL
    assert "global batch 4 samples (paper 64 packed rows)" in entry["differences"]
    assert "max length 512 (paper 4096)" in entry["differences"]
