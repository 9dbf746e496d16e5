"""Send capture records to a Kafka topic, one JSONL line a message, for ``newsbeam stream`` to read.

    python -m samples.produce --topic captures                      # samples/captures/*.jsonl
    python -m samples.produce --topic captures my.jsonl other.jsonl
    echo 'not json' | python -m samples.produce --topic captures -  # lands in _rejected/

Needs ``confluent-kafka`` (``pip install -e '.[kafka]'``) and a broker (``make engines-up`` starts one).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

SAMPLES = Path(__file__).resolve().parent / "captures"


def lines(sources: Iterable[str]) -> Iterator[bytes]:
    """The non-blank lines of each source (a file, or ``-`` for standard input), as sent."""
    for source in sources:
        stream = sys.stdin.buffer if source == "-" else open(source, "rb")  # noqa: SIM115 - closed below
        try:
            yield from (line.rstrip(b"\r\n") for line in stream if line.strip())
        finally:
            if stream is not sys.stdin.buffer:
                stream.close()


def produce(topic: str, records: Iterable[bytes], bootstrap_servers: str) -> int:
    """Send ``records`` and wait until the broker has acknowledged every one; returns how many were sent."""
    from confluent_kafka import KafkaException, Producer

    producer, failures = Producer({"bootstrap.servers": bootstrap_servers, "enable.idempotence": True}), []

    def delivered(error, _message):
        if error is not None:
            failures.append(error)

    sent = 0
    for record in records:
        producer.produce(topic, record, on_delivery=delivered)
        producer.poll(0)
        sent += 1
    if producer.flush(60) or failures:
        raise KafkaException(failures[0] if failures else "messages still unacknowledged after 60 s")
    return sent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m samples.produce", description=__doc__.split("\n\n")[0])
    parser.add_argument("--topic", required=True)
    parser.add_argument("--bootstrap-servers", default="127.0.0.1:9092")
    parser.add_argument("files", nargs="*", help="JSONL capture files, or - for standard input "
                                                 "(default: the sample JSONL captures)")
    args = parser.parse_args(argv)
    files = args.files or [str(path) for path in sorted(SAMPLES.glob("*.jsonl"))]
    if not files:
        parser.error(f"no JSONL files in {SAMPLES}: run `python samples/build_samples.py` first")
    sent = produce(args.topic, lines(files), args.bootstrap_servers)
    print(f"sent {sent} records to {args.topic} on {args.bootstrap_servers}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
