"""The duplicate policy both graphs follow (``transforms.duplicates``)."""

from __future__ import annotations

from pipeline.cli.stream import StreamStatus
from pipeline.output.summary import RunSummary, fill_from_counters
from transforms.duplicates import (
    ALREADY_COMMITTED,
    IN_RUN,
    counter,
    duplicate_reason,
    keep_smallest_source,
    source_order,
)


def test_the_row_with_the_smallest_source_uri_is_kept_whatever_the_order():
    rows = [{"source_uri": "b.html"}, {"source_uri": "a.warc#offset=9"}, {"source_uri": "c.txt"}]
    assert keep_smallest_source(rows) == ({"source_uri": "a.warc#offset=9"},
                                          [{"source_uri": "b.html"}, {"source_uri": "c.txt"}])
    assert keep_smallest_source(reversed(rows))[0] == {"source_uri": "a.warc#offset=9"}
    assert keep_smallest_source([]) == (None, [])


def test_records_of_one_file_are_ordered_by_their_place_in_it():
    rows = [{"source_uri": "a.jsonl#line=1000"}, {"source_uri": "a.jsonl#line=999"}, {"source_uri": "a.jsonl"}]
    assert [row["source_uri"] for row in sorted(rows, key=lambda row: source_order(row["source_uri"]))] == [
        "a.jsonl", "a.jsonl#line=999", "a.jsonl#line=1000"]
    assert keep_smallest_source(rows[:2])[0] == {"source_uri": "a.jsonl#line=999"}


def test_a_repeat_in_the_run_is_named_before_a_committed_key():
    assert duplicate_reason(seen_in_run=True, committed=True) == IN_RUN
    assert duplicate_reason(seen_in_run=False, committed=True) == ALREADY_COMMITTED
    assert duplicate_reason(seen_in_run=False, committed=False) is None


def test_counter_names_are_the_ones_the_run_summary_and_the_stream_status_line_read():
    totals = {counter("articles", IN_RUN): 2, counter("articles", ALREADY_COMMITTED): 3}
    summary = fill_from_counters(RunSummary("run", "v", [], "out", "now"), totals)
    assert (summary.duplicates_in_run, summary.already_committed) == (2, 3)
    status = StreamStatus(started=0.0)
    status.add(totals)
    assert status.duplicates == 5
