"""``newsbeam eval``: score the pipeline's own code against public ground truth (see `quality/`)."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from pipeline.cli.options import EXIT_FAILED, EXIT_OK, EXIT_USAGE

CORPORA_VARIABLE = "NEWSBEAM_CORPORA"  # the folder holding every corpus, when --corpus is not given
# Task -> (module in `quality/`, the corpus folder it reads inside the folder that holds them all).
TASKS = {
    "body": ("quality.body", "article-extraction-benchmark"),
    "boilerplate": ("quality.boilerplate", "trafilatura-eval"),
    "date": ("quality.dates", "trafilatura-eval"),
    "dateline": ("quality.dateline", "."),
    "entities": ("quality.entities", "conll2003-eng-testb"),
    "language": ("quality.language", "lingua-langid-sentences"),
    "people": ("quality.people", "reuters21578"),
    "section": ("quality.sections", "."),
}
# Tasks whose items are split in two (`quality.corpora.HashSplit`): tune on `dev`, keep `heldout` aside.
SPLIT_TASKS = frozenset({"date", "entities", "section"})
FRESH_SPLIT_TASKS = frozenset({"section"})  # tasks with a second labelled set, scored by `--split fresh`


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``eval`` command to the CLI."""
    parser = commands.add_parser(
        "eval", help="score newsbeam against public ground truth",
        description="Run the pipeline's own cleaning and enrichment over an evaluation corpus and print our "
                    "scores beside the baselines. 'all' runs every task on the folder holding the corpora.",
        epilog=f"Exit codes: {EXIT_OK} scored, {EXIT_FAILED} malformed or missing corpus, {EXIT_USAGE} bad usage.")
    parser.add_argument("task", choices=[*TASKS, "all"], help="what to score")
    parser.add_argument("--corpus", type=Path, default=None,
                        help="the task's corpus folder; for 'all' the folder holding every corpus "
                             f"(default for 'all': ${CORPORA_VARIABLE})")
    parser.add_argument("--limit", type=int, default=None, help="score only the first N items of each corpus")
    parser.add_argument("--split", choices=("dev", "heldout", "all", "fresh"), default=None,
                        help=f"score only this half of the items ({', '.join(sorted(SPLIT_TASKS))}; default: all), "
                             f"or the second labelled set kept aside ('fresh': {', '.join(sorted(FRESH_SPLIT_TASKS))})")
    parser.add_argument("--json", type=Path, default=None, dest="json_out", help="also write the results here")
    parser.add_argument("--config", type=Path, default=None,
                        help="score this run config instead of configs/local.yaml (e.g. a tuned copy)")
    parser.set_defaults(handler=eval_command)


def eval_command(args: argparse.Namespace, _extra: list[str]) -> int:
    """Score the task(s); print one table per task. A malformed corpus is a failure, not an empty score."""
    from quality.report import CorpusError, render

    if args.limit is not None and args.limit < 1:
        print("newsbeam eval: --limit must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    if args.split and args.task not in SPLIT_TASKS:
        print(f"newsbeam eval: --split applies to {', '.join(sorted(SPLIT_TASKS))}, not {args.task!r}",
              file=sys.stderr)
        return EXIT_USAGE
    if args.split == "fresh" and args.task not in FRESH_SPLIT_TASKS:
        print(f"newsbeam eval: --split fresh applies to {', '.join(sorted(FRESH_SPLIT_TASKS))}, not {args.task!r}",
              file=sys.stderr)
        return EXIT_USAGE
    try:
        runs = _runs(args.task, args.corpus)
    except (CorpusError, ModuleNotFoundError) as error:
        print(f"newsbeam eval: {error}", file=sys.stderr)
        return EXIT_FAILED if isinstance(error, CorpusError) else EXIT_USAGE
    results = []
    for task, score, corpus in runs:
        clock = time.monotonic()
        try:
            split = {"split": args.split} if args.split else {}
            result = score(corpus, args.limit, _progress(task), args.config, **split)
        except CorpusError as error:
            print(f"\nnewsbeam eval {task}: malformed corpus: {error}", file=sys.stderr)
            return EXIT_FAILED
        result.details["seconds"] = round(time.monotonic() - clock, 1)
        result.details["config"] = str(args.config or "configs/local.yaml")
        results.append(result)
        print(render(result) + f"\n({result.details['seconds']} s)\n", flush=True)
    if args.json_out:
        args.json_out.write_text(json.dumps([r.as_dict() for r in results], indent=2, default=str) + "\n")
    return EXIT_OK


def _runs(task: str, corpus: Path | None) -> list[tuple[str, Callable, Path]]:
    """``(task, score function, corpus folder)`` for each task to run; fails before any scoring starts."""
    from quality.report import CorpusError

    if task != "all":
        if corpus is None:
            raise CorpusError(f"--corpus is required for '{task}' (its folder is {TASKS[task][1]!r} among the corpora)")
        return [(task, _score_function(task), _existing(corpus))]
    if corpus is None and not os.environ.get(CORPORA_VARIABLE):
        raise CorpusError(f"no corpora folder: pass --corpus DIR or set {CORPORA_VARIABLE} to the folder holding them")
    root = _existing(corpus or Path(os.environ[CORPORA_VARIABLE]))
    runs = []
    for name, (_, folder) in TASKS.items():
        try:
            runs.append((name, _score_function(name), (root / folder).resolve()))
        except ModuleNotFoundError as error:
            print(f"newsbeam eval: skipping {error}", file=sys.stderr)
    return runs


def _existing(folder: Path) -> Path:
    from quality.report import CorpusError

    if not folder.is_dir():
        raise CorpusError(f"{folder}: no such corpus folder")
    return folder


def _score_function(task: str) -> Callable:
    """The task module's ``score``, imported by name so a task whose module is missing says so clearly."""
    module_name = TASKS[task][0]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name != module_name:
            raise
        raise ModuleNotFoundError(f"task '{task}' is not available: {module_name} is not installed",
                                  name=module_name) from error
    return module.score


def _progress(task: str) -> Callable[[int, int], None]:
    """A one-line counter on stderr, redrawn in place; silent when stderr is not a terminal."""
    if not sys.stderr.isatty():
        return lambda done, total: None
    shown = {"percent": -1}

    def show(done: int, total: int) -> None:
        percent = 100 * done // total if total else 100
        if percent != shown["percent"]:
            shown["percent"] = percent
            sys.stderr.write(f"\r{task}: {done}/{total} ({percent}%)" + ("\n" if done >= total else ""))
            sys.stderr.flush()
    return show
