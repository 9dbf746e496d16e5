"""``python -m pipeline.cli``: the ``newsbeam`` program."""

from pipeline.cli import entry

entry()
