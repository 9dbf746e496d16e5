"""``newsbeam compact``: merge each partition's small files into one, atomically (``pipeline.output.compaction``)."""

from __future__ import annotations

import argparse
import sys
import uuid
from pathlib import Path

from pipeline.cli.options import EXIT_FAILED, EXIT_LOCKED, EXIT_OK, EXIT_USAGE
from pipeline.output import compaction
from pipeline.output.compaction import compact_partition, partitions
from pipeline.output.lock import LockHeld, OutputLock


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("compact", help="merge each partition's small Parquet files into one",
                                 description=compaction.__doc__.split("\n\n")[1])
    parser.add_argument("--output", "-o", required=True, metavar="DIR", help="the output folder")
    parser.add_argument("--partition", action="append", metavar="date=YYYY-MM-DD[/section=SLUG]",
                        help="only these partitions (repeatable); default every partition with 2+ files")
    parser.add_argument("--min-files", type=int, default=2, metavar="N",
                        help="compact a partition only when it holds at least N files (default 2)")
    parser.add_argument("--wait", action="store_true", help="wait for a running job's lock instead of exiting")
    parser.add_argument("--quiet", "-q", action="store_true")
    parser.set_defaults(handler=compact_command)


def compact_command(args: argparse.Namespace, _extra: list[str]) -> int:
    output = Path(args.output).resolve()
    if not output.is_dir():
        print(f"newsbeam: no output folder at {output}", file=sys.stderr)
        return EXIT_USAGE
    try:
        with OutputLock(str(output), f"compact-{uuid.uuid4().hex[:6]}", wait=args.wait):
            for folder in partitions(output, args.partition, args.min_files):
                before, rows = compact_partition(folder)
                if not args.quiet:
                    print(f"{folder.relative_to(output)}: {before} files -> 1 ({rows} rows)")
    except LockHeld as held:
        print(f"newsbeam: {held}", file=sys.stderr)
        return EXIT_LOCKED
    except OSError as error:
        print(f"newsbeam: compaction failed: {error}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK
