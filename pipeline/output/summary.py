"""The run summary: Beam counters turned into the figures a user asks about, printed and saved."""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass, field
from datetime import datetime

from apache_beam.metrics.metric import MetricsFilter

from pipeline.output.sink import join, write_text_atomically

_NAMESPACE = "newsbeam"


@dataclass
class RunSummary:
    run_id: str
    pipeline_version: str
    inputs: list[str]
    output: str
    started_at: str
    seconds: float = 0.0
    status: str = "running"
    files_read: int = 0
    captures_read: int = 0
    articles_written: int = 0
    duplicates_in_run: int = 0
    already_committed: int = 0
    replaced: int = 0
    replaced_by_url_copy: int = 0  # committed rows without URL whose content came again with its URL
    rejections_withdrawn: int = 0
    skipped_outside_window: int = 0
    files_listed: int = 0
    files_unchanged: int = 0
    files_skipped: dict[str, int] = field(default_factory=dict)  # not opened: FIFOs, devices, links out of the input
    files_to_retry: int = 0  # could not be read whole this time: not committed, read again by the next run
    exit_code: int | None = None
    message: str = ""
    rejected: int = 0
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    partitions: dict[str, int] = field(default_factory=dict)
    furniture_removed: dict[str, int] = field(default_factory=dict)
    stage_seconds: dict[str, float] = field(default_factory=dict)
    entities: int = 0
    committed_files: dict[str, int] = field(default_factory=dict)  # whose keys came from the key index, or were read

    @property
    def accounted(self) -> int:
        """Captures with a known fate; equals ``captures_read`` when nothing was lost."""
        return (self.articles_written + self.duplicates_in_run + self.already_committed + self.rejected
                + self.skipped_outside_window)


def counters(result) -> dict[str, int]:
    """Newsbeam counters of a finished pipeline result, by name: committed values, else attempted ones.

    The Flink and Spark job servers report portable metrics as attempted only (committed is empty).
    """
    query = result.metrics().query(MetricsFilter().with_namespace(_NAMESPACE))
    totals: dict[str, int] = {}
    for counter in query["counters"]:
        name = counter.key.metric.name
        value = counter.committed if counter.committed is not None else counter.attempted
        totals[name] = totals.get(name, 0) + (value or 0)
    return totals


def merge_counts(first: dict[str, int], second: dict[str, int]) -> dict[str, int]:
    """Counter totals of two pipelines run one after the other (chunks of a run, micro-batches)."""
    return {name: first.get(name, 0) + second.get(name, 0) for name in {*first, *second}}


def file_tallies(totals: dict[str, int]) -> dict[str, int]:
    """A pipeline's counter totals as the ledger's tallies of a file, for a pipeline that read one part of
    one file: its last part commits the file with the tallies of all its parts."""
    return {"captures": totals.get("captures_read", 0), "articles": totals.get("articles_written", 0),
            "duplicates": totals.get("articles_duplicates_in_run", 0) + totals.get("articles_already_committed", 0),
            "rejected": totals.get("rejected", 0), "skipped": totals.get("captures_outside_window", 0)}


def fill_from_counters(summary: RunSummary, totals: dict[str, int]) -> RunSummary:
    """Copy counter totals into the summary's fields."""
    summary.files_read = totals.get("files_read", 0)
    summary.files_to_retry = totals.get("files_to_retry", 0)
    summary.captures_read = totals.get("captures_read", 0)
    summary.articles_written = totals.get("articles_written", 0)
    summary.duplicates_in_run = totals.get("articles_duplicates_in_run", 0)
    summary.already_committed = totals.get("articles_already_committed", 0)
    summary.replaced = totals.get("articles_replaced", 0)
    summary.replaced_by_url_copy = totals.get("articles_replaced_by_url_copy", 0)
    summary.rejections_withdrawn = totals.get("rejections_withdrawn", 0)
    summary.skipped_outside_window = totals.get("captures_outside_window", 0)
    summary.rejected = totals.get("rejected", 0)
    summary.entities = totals.get("entities", 0)
    summary.rejected_by_reason = _prefixed(totals, "rejected.")
    summary.partitions = _prefixed(totals, "partition.")
    summary.furniture_removed = _prefixed(totals, "furniture.")
    summary.stage_seconds = {stage: round(us / 1e6, 3) for stage, us in _prefixed(totals, "us.").items()}
    summary.committed_files = _prefixed(totals, "committed_files.")
    return summary


def _prefixed(totals: dict[str, int], prefix: str) -> dict[str, int]:
    return dict(sorted((k[len(prefix):], v) for k, v in totals.items() if k.startswith(prefix) and v))


def save(summary: RunSummary) -> str:
    """Write ``OUT/_runs/<run_id>.json`` atomically; return its path."""
    path = join(summary.output, "_runs", f"{summary.run_id}.json")
    write_text_atomically(path, json.dumps(asdict(summary), indent=2, sort_keys=False) + "\n")
    return path


def render(summary: RunSummary) -> str:
    """A short human-readable report of the run."""
    message = f" ({summary.message})" if summary.message else ""
    lines = [
        f"run {summary.run_id}: {summary.status} in {summary.seconds:.1f}s{message}",
        f"  files listed        {summary.files_listed} ({summary.files_unchanged} unchanged since committed, "
        f"{summary.files_read} read)",
        *[f"    skipped ({reason}) {n}, not opened" for reason, n in summary.files_skipped.items()],
        *([f"    to retry            {summary.files_to_retry} (not read whole: not committed, read again next run)"]
          if summary.files_to_retry else []),
        f"  captures read       {summary.captures_read}",
        f"  articles written    {summary.articles_written}",
    ]
    if summary.replaced:
        lines.append(f"  replaced            {summary.replaced} earlier rows (rewritten captures or --reprocess)")
    if summary.replaced_by_url_copy:
        lines.append(f"  replaced            {summary.replaced_by_url_copy} earlier rows without URL by their copy "
                     "with URL")
    lines.append(f"  duplicates          {summary.duplicates_in_run} in this run, "
                 f"{summary.already_committed} already in output")
    if summary.skipped_outside_window:
        lines.append(f"  outside the window  {summary.skipped_outside_window} (--since/--until)")
    lines.append(f"  rejected            {summary.rejected}")
    lines += [f"    {reason:<22}{n}" for reason, n in summary.rejected_by_reason.items()]
    if summary.rejections_withdrawn:
        lines.append(f"  withdrawn           {summary.rejections_withdrawn} earlier rejections of captures read again")
    if summary.accounted != summary.captures_read:
        lines.append(f"  WARNING: {summary.captures_read - summary.accounted} captures unaccounted for")
    if summary.partitions:
        lines.append("  partitions written")
        lines += [f"    {partition:<40}{n}" for partition, n in summary.partitions.items()]
    if summary.stage_seconds:
        stages = ", ".join(f"{stage} {seconds:.1f}s" for stage, seconds in summary.stage_seconds.items())
        lines.append(f"  time in stages      {stages} (summed over workers)")
    if summary.committed_files:
        lines.append(f"  committed keys      {summary.committed_files.get('indexed', 0)} files from the key index, "
                     f"{summary.committed_files.get('read', 0)} read")
    if summary.furniture_removed:
        rules = ", ".join(f"{rule} {n}" for rule, n in summary.furniture_removed.items())
        lines.append(f"  furniture removed   {rules}")
    return "\n".join(lines)


def new_run_id(started: datetime) -> str:
    """Sortable and unique: the start time in UTC (to the millisecond) plus a random suffix."""
    return f"{started:%Y%m%dT%H%M%S}{started.microsecond // 1000:03d}Z-{secrets.token_hex(3)}"
