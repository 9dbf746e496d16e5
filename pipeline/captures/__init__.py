"""Read raw capture files (plain text, HTML, WARC, JSONL; gzipped or not) into Capture records.

The kind of a file is decided by its content; extensions are only a tie-breaker, because crawl dumps
are routinely misnamed. Every problem becomes a Rejection with a short reason instead of an
exception, so one bad file never stops a run: the DoFn wrapping `iter_captures` routes Rejections
to the dead-letter output.

One module per concern: `files` opens a file, un-gzips and sniffs it (`streams`, `sniff`) and hands it
to the reader of its kind (`single` for one-page HTML and text files with their sidecars, `warc`,
`jsonl`); `fields` reads the dates and strings captures carry; `paths` says which paths are captures.
Imports ``transforms`` and libraries only: no graph, output or command code.
"""

from pipeline.captures.files import iter_captures
from pipeline.captures.jsonl import capture_from_record
from pipeline.captures.paths import is_capture_path, source_file
from pipeline.captures.source import ReadLimits, load_read_limits, read_limits
from pipeline.captures.streams import FileDigest

__all__ = ["FileDigest", "ReadLimits", "capture_from_record", "is_capture_path", "iter_captures", "load_read_limits",
           "read_limits", "source_file"]
