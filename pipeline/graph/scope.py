"""Which committed rows a pipeline reads again: those of the captures in its input files or file parts.

A pipeline that reads a whole file reads all of its captures again. One that reads a part of a large
file (``captures.slices``) reads only the captures in the part's range; the rows of earlier parts were
written by earlier pipelines of the same run and are ordinary committed rows to it, and those of later
parts are still to be read again, by a later pipeline.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.captures import source_file
from pipeline.output.ledger import InputFile


@dataclass(frozen=True)
class ReadScope:
    """The input files of one pipeline, with the part of each it reads (None: all of it)."""

    parts: dict

    @classmethod
    def of(cls, files: list[InputFile]) -> ReadScope:
        return cls({item.path: item.part for item in files})

    def reads(self, source_uri: str) -> bool:
        """True when this pipeline reads the capture at ``source_uri``: its rows are judged anew here."""
        path = source_file(source_uri)
        if path not in self.parts:
            return False
        part = self.parts[path]
        return part is None or part.holds(source_uri)

    def reads_later(self, source_uri: str) -> bool:
        """True when a later pipeline of this run reads the capture at ``source_uri`` (a later part)."""
        part = self.parts.get(source_file(source_uri))
        return part is not None and part.read_later(source_uri)

    def reads_again(self, source_uri: str) -> bool:
        """True when this run reads the file of the capture at ``source_uri`` here or in a later pipeline and
        the capture is not before this pipeline's part: its committed row belongs to a version of the file
        being read again, and cannot make a new row a duplicate of other content."""
        part = self.parts.get(source_file(source_uri))
        return self.reads(source_uri) or (part is not None and part.ahead(source_uri))
