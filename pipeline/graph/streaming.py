"""The unbounded form of the graph, for engines that run it (Flink, Dataflow), selected by a ``stream:`` block.

    file watch | Pub/Sub | Kafka --> ReadCaptures | CleanAndEnrich | ResolveInPane(content_hash, across kinds)
        | ResolveInPane(article_id) | fixed windows | per window pane: GroupStoriesInPane
        | AddEntitiesInBatches | WritePartitions
    rejections ---> RejectionRows | ResolveInPane(rejection_id) | fixed windows | per pane: WritePartitions

The composites and the duplicate policy (``transforms.duplicates``) are the batch graph's: the copies of a
key that arrive in one window pane meet in one decision, as a batch run's rows do, and the stream never
rewrites committed files.

Event time is arrival time (the watch's poll time, Pub/Sub's publish time, Kafka's timestamp), so a window
is a commit batch; an article still lands in the partition of its own date. Each de-duplication step
groups a key's rows per pane of the same arrival windows, then decides in the global window, because Beam
scopes state to key *and* window and a key is remembered across panes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import NamedTuple

import apache_beam as beam
from apache_beam.coders import TimestampCoder
from apache_beam.io import fileio
from apache_beam.transforms.timeutil import TimeDomain
from apache_beam.transforms.trigger import AccumulationMode, AfterCount, AfterWatermark
from apache_beam.transforms.userstate import ReadModifyWriteStateSpec, TimerSpec, on_timer
from apache_beam.transforms.window import FixedWindows, GlobalWindows, WindowFn
from apache_beam.utils.timestamp import Duration, Timestamp

from pipeline.captures import capture_from_record, file_uri, is_capture_path, read_limits
from pipeline.config import ConfigError
from pipeline.graph.batch import CommittedRows
from pipeline.graph.composites import AddEntitiesInBatches, RejectionRows, WritePartitions, by_partition
from pipeline.graph.stages import (
    FILES,
    OUTCOMES,
    REJECTED,
    CleanAndEnrich,
    ReadCaptures,
    Resolved,
    count,
    has_url,
)
from pipeline.output.key_index import KeyIndexSettings
from pipeline.output.ledger import InputFile, list_inputs
from pipeline.output.schema import ARTICLE_GLOB, REJECTED_GLOB
from transforms.duplicates import ACROSS_KINDS, IN_RUN, counter, duplicate_reason, keep_smallest_source
from transforms.records import Capture, Rejection
from transforms.stories import StorySettings, group_stories, signature

DUPLICATES = "duplicates"
SOURCES = ("watch", "pubsub", "kafka")
MESSAGES = ("path", "record")


@dataclass(frozen=True)
class StreamSettings:
    """The ``stream:`` block of a run config; ``configs/stream-flink.yaml`` says what each key means."""

    source: str
    window_seconds: float
    allowed_lateness_seconds: float
    dedup_ttl_hours: float
    skip_committed: bool = True
    watch: str | None = None
    poll_seconds: float | None = None
    reread_changed_files: bool = True
    subscription: str | None = None
    topic: str | None = None
    message: str = "path"
    bootstrap_servers: str | None = None
    group: str = "newsbeam"
    runner_flags: tuple[str, ...] = ()


def stream_settings(cfg: dict) -> StreamSettings:
    """The run config's ``stream:`` block, checked; a ``ConfigError`` says what is wrong."""
    block = cfg.get("stream")
    if not isinstance(block, dict):
        raise ConfigError("the run config has no `stream:` block (see configs/stream-flink.yaml)")
    known = {item.name for item in fields(StreamSettings)}
    if unknown := sorted(set(block) - known):
        raise ConfigError(f"stream: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    try:
        settings = StreamSettings(**{**block, "runner_flags": tuple(block.get("runner_flags") or ())})
    except TypeError as error:
        raise ConfigError(f"stream: {error}") from error
    if problem := _problem(settings):
        raise ConfigError(f"stream: {problem}")
    return settings


def _problem(s: StreamSettings) -> str | None:
    if s.source not in SOURCES:
        return f"source must be one of {', '.join(SOURCES)}, not {s.source!r}"
    if not (s.window_seconds > 0 and s.allowed_lateness_seconds >= 0 and s.dedup_ttl_hours > 0):
        return "window_seconds and dedup_ttl_hours must be positive, allowed_lateness_seconds not negative"
    if s.source == "watch" and not (s.watch and s.poll_seconds and s.poll_seconds > 0):
        return "source watch needs `watch` (a glob) and a positive `poll_seconds`"
    if s.source == "pubsub" and bool(s.subscription) == bool(s.topic):
        return "source pubsub needs exactly one of `subscription` and `topic`"
    if s.source == "kafka" and not (s.bootstrap_servers and s.topic):
        return "source kafka needs `bootstrap_servers` and `topic`"
    if s.source in ("pubsub", "kafka") and s.message not in MESSAGES:
        return f"message must be one of {', '.join(MESSAGES)}, not {s.message!r}"
    return None


# --------------------------------------------------------------------------------------------------
# Sources: each ends in captures (main) and rejections


class WatchFiles(beam.PTransform):
    """Capture files matching the ``watch`` glob as they appear, each once per (path, mtime).

    Beam's ``MatchContinuously`` de-duplicates by itself (its ``Watch`` keeps a hash of every key it
    emitted, in checkpointed state); with ``match_updated_files`` the key is path and mtime, so a
    rewritten or appended file is read again. A second stateful step keyed by path would only repeat it.
    """

    def __init__(self, settings: StreamSettings):
        super().__init__()
        self.settings = settings

    def expand(self, pbegin):
        s = self.settings
        return (
            pbegin
            | "Match" >> fileio.MatchContinuously(
                s.watch, interval=s.poll_seconds, has_deduplication=True,
                match_updated_files=s.reread_changed_files, start_timestamp=Timestamp.now())
            | "CapturesOnly" >> beam.Filter(lambda found: is_capture_path(found.path))
            | "AsInputFile" >> beam.Map(
                lambda found: InputFile(file_uri(found.path), found.size_in_bytes,
                                        float(found.last_updated_in_seconds or 0.0)))
        )


class CapturesFromFiles(beam.PTransform):
    """Input files to captures (main) and ``rejected``, with ``ReadCaptures`` as in the batch job."""

    def __init__(self, read_settings: dict):
        super().__init__()
        self.read_settings = read_settings

    def expand(self, files):
        read = (files
                | "SpreadFiles" >> beam.Reshuffle()
                | "Read" >> beam.ParDo(ReadCaptures(self.read_settings)).with_outputs(
                    REJECTED, OUTCOMES, FILES, main="captures"))
        return {"captures": read.captures, "rejected": read[REJECTED]}


def read_pubsub(settings: StreamSettings) -> beam.PTransform:
    """Message bodies from the subscription (or a topic's temporary subscription), stamped with publish time.

    Imported here, not at the top: only Pub/Sub runs need Beam's GCP IO. Bodies only (no attributes), so
    decoding needs no ``google-cloud-pubsub``; the engine reading the subscription does (Dataflow has it).
    """
    from apache_beam.io.gcp.pubsub import ReadFromPubSub

    return ReadFromPubSub(topic=settings.topic, subscription=settings.subscription)


def message_path(data: bytes) -> str | None:
    """The capture file a message names: its body as a path or URI, or a Cloud Storage notification's object.

    A notification with ``payload_format=JSON_API_V1`` carries the object resource (``bucket``, ``name``).
    """
    try:
        text = data.decode("utf-8").strip()
    except UnicodeDecodeError:
        return None
    if text.startswith("{"):
        try:
            resource = json.loads(text)
        except ValueError:
            return None
        bucket, name = (resource.get("bucket"), resource.get("name")) if isinstance(resource, dict) else (None, None)
        return f"gs://{bucket}/{name}" if isinstance(bucket, str) and isinstance(name, str) else None
    return text if text and "\n" not in text else None


def message_uri(origin: str, data: bytes) -> str:
    """A message's ``source_uri``: where it came from (``pubsub://…``, ``kafka://…``) and its content hash
    (a redelivery has the same one)."""
    return f"{origin}#sha256={hashlib.sha256(data).hexdigest()[:16]}"


class FilesFromMessages(beam.DoFn):
    """A message naming a capture file to that file; other files are ignored, missing ones rejected."""

    def __init__(self, origin: str):
        self.origin = origin

    def process(self, data: bytes):
        count("messages_read")
        path = message_path(data)
        if path is None:
            yield beam.pvalue.TaggedOutput(REJECTED, Rejection(
                message_uri(self.origin, data), "malformed_message", "The message names no file.", stage="message"))
        elif not is_capture_path(path):
            count("messages_ignored")
        elif found := list_inputs([path]).files:
            yield found[0]
        else:
            yield beam.pvalue.TaggedOutput(REJECTED, Rejection(
                path, "missing_file", "The message names a file that does not exist.", stage="message"))


class CapturesFromRecords(beam.DoFn):
    """A message carrying one JSONL-shaped capture record to that capture, read like a JSONL line."""

    def __init__(self, origin: str, read_settings: dict):
        self.origin = origin
        self.read_settings = read_settings
        self.limits = None

    def setup(self):
        self.limits = read_limits(self.read_settings)

    def process(self, data: bytes, timestamp=beam.DoFn.TimestampParam):
        count("messages_read")
        received_at = datetime.fromtimestamp(float(timestamp), tz=UTC)
        capture = capture_from_record(data, message_uri(self.origin, data), self.limits, received_at)
        yield capture if isinstance(capture, Capture) else beam.pvalue.TaggedOutput(REJECTED, capture)


class CapturesFromMessages(beam.PTransform):
    """Message bodies to captures (main) and ``rejected``: files they name, or records they carry."""

    def __init__(self, message: str, origin: str, read_settings: dict):
        super().__init__()
        self.message, self.origin, self.read_settings = message, origin, read_settings

    def expand(self, messages):
        if self.message == "record":
            parsed = messages | "Records" >> beam.ParDo(
                CapturesFromRecords(self.origin, self.read_settings)).with_outputs(REJECTED, main="captures")
            return {"captures": parsed.captures, "rejected": parsed[REJECTED]}
        named = messages | "Paths" >> beam.ParDo(FilesFromMessages(self.origin)).with_outputs(REJECTED, main="files")
        read = named.files | "ReadFiles" >> CapturesFromFiles(self.read_settings)
        rejected = (named[REJECTED], read["rejected"]) | "Rejected" >> beam.Flatten()
        return {"captures": read["captures"], "rejected": rejected}


# --------------------------------------------------------------------------------------------------
# De-duplication, windows, writes


class Arrival(NamedTuple):
    """A row and the time it arrived (its event time), carried through the pane decisions: a decided row
    leaves stamped with its pane, and the time a key was last seen stays its rows' arrival."""

    row: dict
    at: Timestamp


def arrived(row: dict, at=beam.DoFn.TimestampParam) -> Arrival:
    """``row`` with its element's timestamp, its arrival time (``beam.Map`` passes it)."""
    return Arrival(row, at)


# Until when a key is remembered (its state), and the event-time timer that clears it; Beam finds both
# through the parameter defaults below, which ruff wants as module-level values.
_EXPIRY = ReadModifyWriteStateSpec("expiry", TimestampCoder())
_FORGET = TimerSpec("forget", TimeDomain.WATERMARK)
_EXPIRY_STATE = beam.DoFn.StateParam(_EXPIRY)
_FORGET_TIMER = beam.DoFn.TimerParam(_FORGET)


class ResolveInPane(beam.DoFn):
    """Decide, for the rows of one key that arrived in one window pane, which are written and which are
    duplicates (``transforms.duplicates``: the rule of a batch run, with the pane as the run).

    Among the pane's rows the one with the smallest ``source_uri`` is kept, the others are duplicates in
    run. A key seen in an earlier pane and still remembered, or in the output when the job started (the
    ``committed`` side input, so a job restarted without its state writes nothing twice), makes the kept
    row a duplicate too. ``across_kinds`` (keys are content hashes): rows with URL always pass and mark
    the key; rows without URL are duplicates when a row with URL is in the pane, remembered or committed,
    and otherwise all pass (the next step resolves their ``body:`` ids).

    A key is remembered ``ttl`` after its last marking row arrived. The timer that clears the state fires
    once no pane that could still see the key can come: the end of the window of that instant, plus the
    allowed lateness. Rows leave as ``Arrival`` stamped with their pane; duplicates leave as
    ``duplicates``: ``(key, source_uri, why)``.
    """

    def __init__(self, what: str, settings: StreamSettings, across_kinds: bool = False):
        self.what, self.across_kinds = what, across_kinds
        self.ttl = Duration(seconds=settings.dedup_ttl_hours * 3600)
        self.lateness = Duration(seconds=settings.allowed_lateness_seconds)
        self.windows = FixedWindows(settings.window_seconds)

    def process(self, element: tuple[str, Iterable[Arrival]], committed,
                expiry=_EXPIRY_STATE, forget=_FORGET_TIMER) -> Iterator:
        key, arrivals = element[0], list(element[1])
        if self.across_kinds:
            marking = [arrival for arrival in arrivals if has_url(arrival.row)]
            judged = [arrival for arrival in arrivals if not has_url(arrival.row)]
            yield from marking
            kept, repeats = judged, []
        else:
            marking = judged = arrivals
            winner, others = keep_smallest_source(arrival.row for arrival in judged)
            kept = [next(arrival for arrival in judged if arrival.row is winner)]
            repeats = [(other["source_uri"], IN_RUN) for other in others]
        remembered_until = expiry.read()
        seen = remembered_until is not None and min(arrival.at for arrival in arrivals) < remembered_until
        why = duplicate_reason(seen or (self.across_kinds and bool(marking)), key in committed)
        if why is None:
            yield from kept
        else:
            repeats += [(arrival.row["source_uri"], why) for arrival in kept]
        for source_uri, reason in repeats:
            count(counter(self.what, reason))
            if self.across_kinds:
                count(counter(self.what, ACROSS_KINDS))
            yield beam.pvalue.TaggedOutput(DUPLICATES, (key, source_uri, reason))
        if marking:
            until = max(arrival.at for arrival in marking) + self.ttl
            if remembered_until is None or until > remembered_until:
                expiry.write(until)
                window = self.windows.assign(WindowFn.AssignContext(until))[0]
                forget.set(window.end + self.lateness)

    @on_timer(_FORGET)
    def forget_key(self, expiry=_EXPIRY_STATE):
        expiry.clear()


class Deduplicate(beam.PTransform):
    """``Arrival``s to those written (main) and ``duplicates``: rows keyed by ``column`` meet per key in
    each arrival window pane, which ``ResolveInPane`` decides.

    The pane is the step's own ``GroupByKey``, so the runner holds the watermark until it fires and the
    decided rows, stamped with the pane, reach the written windows on time. The decision runs in the
    global window, because Beam scopes state to key *and* window and a key is remembered across panes.
    """

    def __init__(self, what: str, column: str, settings: StreamSettings, output: str | None = None,
                 glob: str = "", index: KeyIndexSettings | None = None, across_kinds: bool = False):
        super().__init__()
        self.what, self.column, self.settings = what, column, settings
        self.output, self.glob, self.index = output, glob, index
        self.across_kinds = across_kinds

    def expand(self, arrivals):
        pipeline = arrivals.pipeline
        index = self.index or KeyIndexSettings()
        found = (pipeline | "Committed" >> CommittedRows(self.output, self.glob, self.column, index)
                 if self.output is not None else pipeline | "NothingCommitted" >> beam.Create([]))
        committed = found | "Keys" >> beam.Map(lambda row: (row.key, None))
        return (
            arrivals
            | "ByKey" >> beam.Map(lambda arrival, column: (arrival.row[column], arrival), self.column
                                  ).with_output_types(tuple[str, Arrival])
            | "InPanes" >> arrival_windows(self.settings)
            | "MeetInPane" >> beam.GroupByKey()
            | "OutOfPanes" >> beam.WindowInto(GlobalWindows())
            | "ResolveInPane" >> beam.ParDo(
                ResolveInPane(self.what, self.settings, self.across_kinds),
                beam.pvalue.AsDict(committed)).with_outputs(DUPLICATES, main="rows"))


def arrival_windows(settings: StreamSettings) -> beam.WindowInto:
    """Fixed windows of arrival time: one pane when the watermark passes, one more per late element.

    A late element (its window already fired, yet within ``allowed_lateness_seconds``) is written in a
    pane of its own; a later one is dropped by the engine, as Beam does. With arrival-time timestamps an
    element is late only when the source misjudged its watermark.
    """
    return beam.WindowInto(
        FixedWindows(settings.window_seconds),
        trigger=AfterWatermark(late=AfterCount(1)),
        accumulation_mode=AccumulationMode.DISCARDING,
        allowed_lateness=Duration(seconds=settings.allowed_lateness_seconds))


class GroupStoriesInPane(beam.PTransform):
    """Each ``Resolved`` row of a window pane with its ``story_id``: copies of one story that arrive in one
    pane share one (``transforms.stories``), as the batch graph's ``GroupStories`` gives the copies of a run.

    A pane is one commit batch and small, so its rows meet in one group; copies arriving in different
    panes get different story ids.
    """

    def __init__(self, settings: StorySettings):
        super().__init__()
        self.settings = settings

    def expand(self, rows):
        return (rows
                | "OneGroup" >> beam.Map(lambda resolved: (None, resolved))
                | "Group" >> beam.GroupByKey()
                | "WithStory" >> beam.FlatMap(_with_stories, self.settings))


def _with_stories(group: tuple[None, list[Resolved]], settings: StorySettings) -> Iterator[Resolved]:
    rows = list(group[1])
    stories = group_stories([(r.row["article_id"], signature(r.row["body"], settings)) for r in rows], settings)
    for resolved in rows:
        yield resolved._replace(row={**resolved.row, "story_id": stories[resolved.row["article_id"]]})


class WriteStream(beam.PTransform):
    """Captures and rejections (from any source) to articles and dead letters written per window.

    Returns the committed file paths, ``articles`` and ``rejected``, in the windows that wrote them, and
    the ``duplicates`` of both (arrival-stamped, not windowed).
    """

    def __init__(self, cfg: dict, settings: StreamSettings, output: str, run_id: str, version: str):
        super().__init__()
        self.cfg, self.settings = cfg, settings
        self.output, self.run_id, self.version = output, run_id, version

    def expand(self, read):
        cfg, s, out_cfg = self.cfg, self.settings, self.cfg["output"]
        committed_in = self.output if s.skip_committed else None
        index = KeyIndexSettings.from_config(cfg)
        cleaned = read["captures"] | "CleanAndEnrich" >> beam.ParDo(
            CleanAndEnrich(cfg, self.run_id, self.version)).with_outputs(REJECTED, main="articles")
        merged = (
            cleaned.articles
            | "Arrived" >> beam.Map(arrived)
            | "MergeInputKinds" >> Deduplicate("articles", "content_hash", s, committed_in, ARTICLE_GLOB, index,
                                               across_kinds=True))
        articles = merged.rows | "Deduplicate" >> Deduplicate(
            "articles", "article_id", s, committed_in, ARTICLE_GLOB, index)
        rejection_rows = (
            (read["rejected"], cleaned[REJECTED])
            | "AllRejections" >> beam.Flatten()
            | "RejectionRows" >> beam.ParDo(RejectionRows(self.run_id, self.version)).with_outputs(
                OUTCOMES, main="rows"))
        rejections = (
            rejection_rows.rows
            | "RejectionArrived" >> beam.Map(lambda keyed, at=beam.DoFn.TimestampParam: arrived(keyed[1], at))
            | "DeduplicateRejections" >> Deduplicate("rejections", "rejection_id", s, committed_in, REJECTED_GLOB,
                                                     index))
        article_paths = (
            articles.rows
            | "Window" >> arrival_windows(s)
            | "Kept" >> beam.Map(lambda arrival: Resolved(arrival.row))
            | "GroupStories" >> GroupStoriesInPane(StorySettings(**cfg.get("stories", {})))
            | "AddEntities" >> AddEntitiesInBatches(cfg)
            | "ByPartition" >> beam.Map(by_partition)
            | "WritePartitions" >> WritePartitions(self.output, self.run_id, out_cfg)
        ).paths
        rejected_paths = (
            rejections.rows
            | "WindowRejections" >> arrival_windows(s)
            | "OneGroup" >> beam.Map(lambda arrival: (None, arrival.row))
            | "WriteRejected" >> WritePartitions(self.output, self.run_id, out_cfg, rejected=True)
        ).paths
        duplicates = ((merged[DUPLICATES], articles[DUPLICATES], rejections[DUPLICATES])
                      | "AllDuplicates" >> beam.Flatten())
        return {"articles": article_paths, "rejected": rejected_paths, "duplicates": duplicates}


def build_streaming_pipeline(pipeline: beam.Pipeline, cfg: dict, output: str, run_id: str, version: str) -> dict:
    """Wire the unbounded job of ``cfg["stream"]`` into ``pipeline``; returns ``WriteStream``'s outputs.

    ``pipeline`` must be built with the engine's options and ``streaming`` on (the stream configs set both).
    """
    settings = stream_settings(cfg)
    read_settings = cfg["read"]
    if settings.source == "watch":
        read = (pipeline
                | "WatchFiles" >> WatchFiles(settings)
                | "ReadFiles" >> CapturesFromFiles(read_settings))
    elif settings.source == "kafka":
        from pipeline.graph.kafka_source import ReadKafka

        read = (pipeline
                | "ReadKafka" >> ReadKafka(settings.bootstrap_servers, settings.topic, settings.group)
                | "Messages" >> CapturesFromMessages(settings.message, f"kafka://{settings.topic}", read_settings))
    else:
        read = (pipeline
                | "ReadPubSub" >> read_pubsub(settings)
                | "Messages" >> CapturesFromMessages(
                    settings.message, f"pubsub://{settings.subscription or settings.topic}", read_settings))
    return read | "WriteStream" >> WriteStream(cfg, settings, output, run_id, version)
