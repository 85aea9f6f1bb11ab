"""The one table reader and the JSON arguments: errors name the file and what is wrong."""

from __future__ import annotations

import polars as pl
import pytest

from dart.errors import DartError
from dart.inputs import load_json_arg, read_table, read_tables


def test_tables_are_checked_and_concatenated_in_order(tmp_path):
    a, b = tmp_path / "a.parquet", tmp_path / "b.parquet"
    pl.DataFrame({"query_id": ["q1", "q2"], "level": [1, 2]}).write_parquet(a)
    pl.DataFrame({"query_id": ["q0"], "extra": ["x"]}).write_parquet(b)
    both = read_tables([a, b], {"query_id"}, "queries")
    assert both["query_id"].to_list() == ["q1", "q2", "q0"]
    assert both["extra"].to_list() == [None, None, "x"]  # a column only one file has
    upper = read_tables([b], {"query_id"}, "queries", lambda f: f.select(pl.col("extra")))
    assert upper.columns == ["extra"]
    assert read_tables([], {"query_id"}, "queries").is_empty()


def test_missing_columns_and_unreadable_files_name_the_file(tmp_path):
    path = tmp_path / "q.parquet"
    pl.DataFrame({"query": ["x"]}).write_parquet(path)
    with pytest.raises(DartError, match=r"q.parquet: queries lacks column\(s\) level, query_id"):
        read_table(path, ("query_id", "level"), "queries")
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"PAR1 not really")
    with pytest.raises(DartError, match="broken.parquet: cannot read queries"):
        read_tables([path, broken], ("query",), "queries")
    with pytest.raises(DartError, match="nothere.parquet: cannot read benchmark"):
        read_table(tmp_path / "nothere.parquet", (), "benchmark")


def test_json_arguments_inline_or_from_a_file(tmp_path):
    assert load_json_arg('{"k": 1}', "recipes") == {"k": 1}
    path = tmp_path / "r.json"
    path.write_text("[1, 2]")
    assert load_json_arg(str(path), "recipes") == [1, 2]
    with pytest.raises(DartError, match="recipes: invalid JSON"):
        load_json_arg("{nope", "recipes")
    with pytest.raises(DartError, match="missing.json: cannot read recipes"):
        load_json_arg(str(tmp_path / "missing.json"), "recipes")
