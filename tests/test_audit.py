"""Audit a three-step lineage built with the real `dart` command."""

from __future__ import annotations

import polars as pl

from dart.audit import audit
from dart.provenance import write_record


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
