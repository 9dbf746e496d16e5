"""The article row is defined once, in ``pipeline/output/schema.py``: writers refuse any other key."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from pipeline.output.schema import ARTICLE_COLUMNS, ARTICLE_SCHEMA, GRAPH_COLUMNS, REJECTED_SCHEMA
from pipeline.output.sink import replace_parquet_file, write_parquet_files
from transforms.article import Enricher, build_article
from transforms.records import Capture

FIXTURES = Path(__file__).parent / "fixtures"


def article_row(**extra) -> dict:
    return {"article_id": "url:a", "source_uri": "/in/a.html", "date": date(2024, 5, 14), "section": "world",
            "title": "A", **extra}


def test_a_writer_refuses_a_key_the_schema_does_not_define_and_leaves_no_file(tmp_path):
    folder = str(tmp_path / "date=2024-05-14" / "section=world")
    with pytest.raises(ValueError, match="_replaces"):
        list(write_parquet_files(folder, [article_row(), article_row(_replaces="old.parquet")],
                                 ARTICLE_SCHEMA, "part", 100))
    assert not list(tmp_path.rglob("*.parquet*"))
    assert [rows for _, rows in write_parquet_files(folder, [article_row()], ARTICLE_SCHEMA, "part", 100)] == [1]


def test_a_rewrite_refuses_a_key_the_schema_does_not_define(tmp_path):
    [(path, _)] = write_parquet_files(str(tmp_path), [{"rejection_id": "r", "source_uri": "/in/a.txt"}],
                                      REJECTED_SCHEMA, "part", 100)
    with pytest.raises(ValueError, match="section"):  # a partition folder, but not one of a dead letter's
        replace_parquet_file(path, [{"rejection_id": "r", "stage": "read", "section": "x"}], REJECTED_SCHEMA)


def test_build_article_fills_every_schema_column_but_those_the_graph_adds(run_config):
    html = (FIXTURES / "chip-plant.html").read_text()
    capture = Capture("/in/chip-plant.html", "html", html, captured_at=datetime(2024, 5, 14, tzinfo=UTC))
    article, rejection, _ = build_article(capture, Enricher.from_config(run_config))
    assert rejection is None
    assert set(article) == set(ARTICLE_COLUMNS) - set(GRAPH_COLUMNS)
