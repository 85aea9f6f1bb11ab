from __future__ import annotations

import json
import os

import pytest

from dart.lineage.records import (
    atomic_output,
    hash_path,
    read_record,
    record_path,
    set_context,
    sha256_file,
    write_json_atomic,
    write_record,
)


def test_atomic_output_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out.txt"
    with pytest.raises(RuntimeError), atomic_output(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed")
    assert list(tmp_path.iterdir()) == []


def test_atomic_output_keeps_previous_version_on_failure(tmp_path):
    target = tmp_path / "out.json"
    write_json_atomic({"v": 1}, target)
    with pytest.raises(KeyboardInterrupt), atomic_output(target) as tmp:
        tmp.write_text("{")
        raise KeyboardInterrupt
    assert json.loads(target.read_text()) == {"v": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_atomic_directory(tmp_path):
    target = tmp_path / "model"
    with atomic_output(target, directory=True) as tmp:
        (tmp / "a.bin").write_bytes(b"x")
    assert (target / "a.bin").read_bytes() == b"x"
    umask = os.umask(0)
    os.umask(umask)
    # what a plain mkdir gives, not mkdtemp's private 0o700 (nor anything else)
    assert oct(target.stat().st_mode & 0o777) == oct(0o777 & ~umask)


def test_hash_path_folder_ignores_sidecars(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "w.bin").write_bytes(b"abc")
    before = hash_path(tmp_path / "d")
    (tmp_path / "d" / "x.prov.json").write_text("{}")
    assert hash_path(tmp_path / "d") == before
    (tmp_path / "d" / "w.bin").write_bytes(b"abd")
    assert hash_path(tmp_path / "d") != before


def test_record_contents(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    src = tmp_path / "raw.txt"
    src.write_text("raw")
    mid = tmp_path / "mid.txt"
    mid.write_text("mid")
    write_record(mid, step="a", inputs=[src])
    out = tmp_path / "out.txt"
    out.write_text("out")
    set_context(rule="r", wildcards={"source": "s"})
    try:
        rec = write_record(out, step="b", params={"k": 1}, inputs=[mid], rows=3, seeds={"seed": 5})
    finally:
        set_context()
    assert record_path(out).name == "out.txt.prov.json"
    assert read_record(out) == rec
    assert rec["sha256"] == sha256_file(out)
    assert rec["rule"] == "r" and rec["wildcards"] == {"source": "s"}
    assert rec["inputs"][0]["record_id"] == read_record(mid)["record_id"]
    assert rec["inputs"][0]["sha256"] == sha256_file(mid)
    assert rec["code"]["version"] and "git_commit" in rec["code"]
    assert rec["software"]["python"] and "torch" in rec["software"]
    assert rec["host"] and rec["created"] and rec["rows"] == 3


def test_simulated_is_inherited_from_inputs(tmp_path):
    from dart.lineage.records import is_simulated, write_record

    gen, verified, other = (tmp_path / n for n in ("gen.txt", "verified.txt", "other.txt"))
    for path in (gen, verified, other):
        path.write_text(path.name)
    write_record(gen, step="generate", model={"engine": "simulated", "simulated": True})
    write_record(verified, step="verify", inputs=[gen])
    write_record(other, step="verify", inputs=[])
    assert is_simulated(gen) and is_simulated(verified) and not is_simulated(other)
