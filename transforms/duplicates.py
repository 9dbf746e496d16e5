"""Which row wins among duplicates, and what the others are counted as: one policy for batch and stream.

A key (an article id, a rejection id) is written once:

- Among copies of a key that meet in one decision, a batch run or one arrival window of a stream, the
  row with the smallest ``source_uri`` wins, so the choice does not depend on bundles, worker counts or
  arrival order (``keep_smallest_source``); the others are duplicates "in run". A key a stream already
  decided in an earlier window (and still remembers) makes later copies duplicates "in run" too: the
  stream job is one run.
- A key committed earlier makes a new row a duplicate, "already committed", unless the batch run
  supersedes the committed row: its capture is read again (a rewritten file, ``--reprocess``). A stream
  never rewrites committed files, so it never supersedes.
- One article, one row, whatever the input kind: a row without URL (``body:`` id) is a duplicate of a
  row with URL (``url:`` id) of the same content that meets it in one decision, was seen earlier in the
  run, or is committed; it is counted as such and also "across kinds". A batch run also drops a committed
  ``body:`` row whose URL copy it writes; a stream, which never rewrites committed files, does not.

Counter names are ``<what>_<reason>`` (``articles_duplicates_in_run``, ``rejections_already_committed``),
the same in both modes; the run summary and the stream's status line read them.
"""

from __future__ import annotations

from collections.abc import Iterable

from transforms.records import capture_position

IN_RUN = "duplicates_in_run"
ALREADY_COMMITTED = "already_committed"
ACROSS_KINDS = "duplicates_across_kinds"


def keep_smallest_source(rows: Iterable[dict]) -> tuple[dict | None, list[dict]]:
    """``(kept, duplicates)`` among new rows sharing one key: the kept row has the smallest ``source_uri``
    (``source_order``)."""
    ordered = sorted(rows, key=lambda row: source_order(row["source_uri"]))
    return (ordered[0], ordered[1:]) if ordered else (None, [])


def source_order(source_uri: str) -> tuple[str, int]:
    """How ``source_uri``s sort: by text, but a capture's place in its file (``#line=``, ``#offset=``) as a
    number, so the earliest record of a file comes first (``#line=999`` before ``#line=1000``) whether the
    file is read whole or in parts (``pipeline.captures.slices``), where the earlier part keeps it."""
    position = capture_position(source_uri)
    return (source_uri, -1) if position is None else (source_uri.rpartition("#")[0], position)


def duplicate_reason(seen_in_run: bool, committed: bool) -> str | None:
    """Why a new row is a duplicate (``IN_RUN`` before ``ALREADY_COMMITTED``), or None when it is new."""
    return IN_RUN if seen_in_run else ALREADY_COMMITTED if committed else None


def counter(what: str, reason: str) -> str:
    """The counter a duplicate of ``what`` (``articles``, ``rejections``) is counted in."""
    return f"{what}_{reason}"
