"""Message bodies from a Kafka topic, read by a Python consumer inside a splittable DoFn.

Beam's own ``ReadFromKafka`` is a cross-language transform: it needs Beam's Java IO expansion service
and a Java SDK environment, and the expansion-service jar is not served by the package registries this
project installs from (``docs/clusters.md``). This reader needs only ``confluent-kafka`` on the workers.

One restriction per partition, an offset range from the consumer group's committed offset (or the
partition's start) to infinity. Offsets are committed to the group only when the runner finalizes the
bundle that emitted them, which Flink does when the checkpoint holding that bundle's output completes;
a job restarted without its state resumes from the last committed offset, and what it reads twice is a
duplicate ``article_id`` the stream's de-duplication counts instead of writing.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator

import apache_beam as beam
from apache_beam.io.restriction_trackers import OffsetRange, OffsetRestrictionTracker
from apache_beam.io.watermark_estimators import ManualWatermarkEstimator
from apache_beam.transforms.core import RestrictionProvider
from apache_beam.transforms.window import TimestampedValue
from apache_beam.utils.timestamp import Duration, Timestamp

from pipeline.graph.stages import count

# How long one process call waits for messages, and how long a caught-up partition rests before the
# runner calls again.
POLL_SECONDS = 1.0
IDLE_RESUME = Duration(seconds=1)
BATCH_MESSAGES = 500


def consumer_settings(bootstrap_servers: str, group: str) -> dict:
    """A consumer that never commits by itself: offsets are committed when a bundle is finalized."""
    return {"bootstrap.servers": bootstrap_servers, "group.id": group, "enable.auto.commit": False,
            "enable.partition.eof": False}


class PartitionStarts(beam.DoFn):
    """A topic to ``(topic, partition, first offset)``: the group's committed offset, else the partition's start."""

    def __init__(self, bootstrap_servers: str, group: str):
        self.settings = consumer_settings(bootstrap_servers, group)

    def process(self, topic: str) -> Iterator[tuple[str, int, int]]:
        from confluent_kafka import Consumer, TopicPartition

        consumer = Consumer(self.settings)
        try:
            partitions = consumer.list_topics(topic, timeout=30).topics[topic].partitions
            committed = consumer.committed([TopicPartition(topic, p) for p in sorted(partitions)], timeout=30)
            for partition in committed:
                start = partition.offset
                if start < 0:  # nothing committed yet: the partition's first retained offset
                    start = consumer.get_watermark_offsets(partition, timeout=30)[0]
                yield topic, partition.partition, start
        finally:
            consumer.close()


class _CheckpointOnly(OffsetRestrictionTracker):
    """Splits only to checkpoint (fraction 0): half of an endless range is offsets no message will ever have."""

    def try_split(self, fraction_of_remainder: float):
        return super().try_split(0) if fraction_of_remainder == 0 else None


class _FromStart(RestrictionProvider):
    """A partition's restriction: every offset from its start on."""

    def initial_restriction(self, element: tuple[str, int, int]) -> OffsetRange:
        return OffsetRange(element[2], sys.maxsize)

    def create_tracker(self, restriction: OffsetRange) -> OffsetRestrictionTracker:
        return _CheckpointOnly(restriction)

    def restriction_size(self, element, restriction: OffsetRange) -> int:
        return restriction.size()


# Beam finds the restriction and the watermark estimator through these parameter defaults, which ruff wants
# as module-level values.
_OFFSETS = beam.DoFn.RestrictionParam(_FromStart())
_WATERMARK = beam.DoFn.WatermarkEstimatorParam(ManualWatermarkEstimator.default_provider())


class ReadPartition(beam.DoFn):
    """Messages of one partition, each stamped with its Kafka timestamp; resumes from where it stopped.

    The watermark is the last message's timestamp, and the wall clock once the partition is caught up, so
    arrival-time windows close while the topic is quiet.
    """

    def __init__(self, bootstrap_servers: str, group: str):
        self.settings = consumer_settings(bootstrap_servers, group)
        self.consumer = None

    def setup(self):
        from confluent_kafka import Consumer

        self.consumer = Consumer(self.settings)

    def teardown(self):
        if self.consumer is not None:
            self.consumer.close()

    @beam.DoFn.unbounded_per_element()
    def process(self, element: tuple[str, int, int], finalizer=beam.DoFn.BundleFinalizerParam,
                tracker=_OFFSETS, watermark=_WATERMARK):
        # Beam passes the tracker and the estimator by name, the other parameters by position: they come last.
        from confluent_kafka import TopicPartition

        topic, partition, _ = element
        position = tracker.current_restriction().start
        self.consumer.assign([TopicPartition(topic, partition, position)])
        messages = self.consumer.consume(num_messages=BATCH_MESSAGES, timeout=POLL_SECONDS)
        last = None
        for message in messages:
            if message.error() is not None:
                count("kafka_errors")
                continue
            if not tracker.try_claim(message.offset()):
                return
            last = message
            count("kafka_messages")
            stamp = Timestamp(micros=message.timestamp()[1] * 1000)
            watermark.set_watermark(max(stamp, watermark.current_watermark() or stamp))
            yield TimestampedValue(message.value(), stamp)
        if last is None:
            now = Timestamp.of(time.time())
            if now > (watermark.current_watermark() or Timestamp(0)):
                watermark.set_watermark(now)
        # Every bundle asks for finalization (some runners finalize every bundle of a stage that asks once).
        committed = TopicPartition(topic, partition, position if last is None else last.offset() + 1)
        finalizer.register(lambda: self.consumer.commit(offsets=[committed], asynchronous=False))
        tracker.defer_remainder(IDLE_RESUME if last is None else Duration(seconds=0))


class ReadKafka(beam.PTransform):
    """Message bodies (bytes) of every partition of ``topic``, for ``CapturesFromMessages``."""

    def __init__(self, bootstrap_servers: str, topic: str, group: str):
        super().__init__()
        self.bootstrap_servers, self.topic, self.group = bootstrap_servers, topic, group

    def expand(self, pbegin):
        return (pbegin
                | "Topic" >> beam.Create([self.topic])
                | "Partitions" >> beam.ParDo(PartitionStarts(self.bootstrap_servers, self.group))
                | "ReadPartitions" >> beam.ParDo(ReadPartition(self.bootstrap_servers, self.group)))
