"""Peak memory of reading one large capture file: does it grow with the captures inside the file?

Writes a JSONL file of 1,000 and one of 1,000,000 lines, and a per-record gzipped WARC of 1,000 and one of
100,000 records, into a temporary folder; reads each in a fresh process with the readers the pipeline uses
(``pipeline.captures.iter_captures``, every capture built and dropped, as the read stage hands them on),
and prints each peak RSS and its ratio to the small file of its kind. Prints figures only.

    .venv/bin/python benchmarks/read_memory.py
    .venv/bin/python benchmarks/read_memory.py --jsonl-lines 1000 100000 --warc-records 1000 20000

This measures the read stage. The rest of a local pipeline holds the rows of every capture it was given
until its grouping steps, so a run's memory is bounded by ``run.captures_per_pipeline`` and
``run.files_per_pipeline``, not by this stage: ``benchmarks/run_memory.py`` measures a whole run.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import subprocess
import sys
import tempfile
from functools import lru_cache
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

READ = """
import resource, sys
from pipeline.captures import iter_captures, load_read_limits
limits = load_read_limits(sys.argv[2])
captures = sum(1 for _ in iter_captures(sys.argv[1], limits))
print(captures, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""


def distinct_story(number: int) -> tuple[str, str]:
    """``(title, body)`` of an invented story whose body shares no run of five words with another number's:
    different stories, as a crawl holds them, so the story index finds no copies among them."""
    from bad_inputs.make_bad_inputs import story

    draw, words = random.Random(number), _words()
    paragraphs = [" ".join(draw.choice(words) for _ in range(40)).capitalize() + "." for _ in range(3)]
    return story(number)[0], "\n\n".join(paragraphs)


@lru_cache(maxsize=1)
def _words() -> list[str]:
    """The words of the invented stories, the vocabulary of the distinct ones."""
    from bad_inputs.make_bad_inputs import story

    return sorted({word for n in range(40) for word in " ".join(story(n)).split() if word.isalpha()})


def write_jsonl(path: Path, lines: int) -> None:
    with open(path, "w", encoding="utf-8") as out:
        for n in range(lines):
            title, body = distinct_story(n)
            out.write(json.dumps({"url": f"https://wire.example/{n}", "fetched_at": "2024-03-02T10:00:00Z",
                                  "text": f"{title}\n\n{body}\n"}) + "\n")


def write_warc(path: Path, records: int) -> None:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    with open(path, "wb") as raw:
        writer = WARCWriter(raw, gzip=True)
        for n in range(records):
            title, body = distinct_story(n)
            paragraphs = "".join(f"<p>{p}</p>" for p in body.split("\n\n"))
            page = f"<!DOCTYPE html><html><head><title>{title}</title></head><body><article><h1>{title}</h1>" \
                   f"{paragraphs}</article></body></html>"
            http = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(
                f"https://crawl.example/{n}", "response", payload=io.BytesIO(page.encode()), http_headers=http,
                warc_headers_dict={"WARC-Date": "2024-03-04T10:00:00Z"}))


def peak_mb(path: Path) -> tuple[int, int]:
    """(captures read, peak RSS in MB) of reading ``path`` in a fresh process."""
    done = subprocess.run([sys.executable, "-c", READ, str(path), str(REPO / "configs" / "read.yaml")],
                          capture_output=True, text=True, check=True, cwd=REPO)
    captures, peak = done.stdout.split()
    return int(captures), int(peak)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jsonl-lines", type=int, nargs=2, default=[1_000, 1_000_000], metavar=("SMALL", "LARGE"))
    parser.add_argument("--warc-records", type=int, nargs=2, default=[1_000, 100_000], metavar=("SMALL", "LARGE"))
    args = parser.parse_args()
    record = {}
    with tempfile.TemporaryDirectory() as folder:
        kinds = (("jsonl", args.jsonl_lines, write_jsonl), ("warc.gz", args.warc_records, write_warc))
        for kind, sizes, write in kinds:
            peaks = []
            for size in sizes:
                path = Path(folder) / f"{size}.{kind}"
                write(path, size)
                captures, peak = peak_mb(path)
                print(f"{kind:8} {size:>9,} captures ({path.stat().st_size / 2**20:,.0f} MB): read {captures:,}, "
                      f"peak RSS {peak} MB")
                peaks.append(peak)
                path.unlink()
            ratio = peaks[1] / peaks[0]
            print(f"{kind:8} peak RSS ratio {sizes[1]:,} / {sizes[0]:,} captures: {ratio:.2f}x")
            record[kind] = {"sizes": sizes, "peak_mb": peaks, "ratio": round(ratio, 3)}
    print(json.dumps({"benchmark": "read_memory", **record}))


if __name__ == "__main__":
    main()
