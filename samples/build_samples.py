"""Build the demo's generated captures: a WARC of the pages in samples/pages/ and a JSONL feed.

    python samples/build_samples.py [FOLDER]    # default: samples/captures, beside the committed captures

Both are made here rather than committed so the demo shows real warcio output, one HTML page in a
legacy charset, a non-HTML response (rejected as `not_html`), a duplicate and a malformed record.
Text captures get a fixed modification time so the demo's dates do not depend on the checkout.
"""

from __future__ import annotations

import io
import json
import os
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

HERE = Path(__file__).resolve().parent
CAPTURES = HERE / "captures"
FIXED_MTIME = datetime(2024, 5, 16, 12, 0, tzinfo=UTC).timestamp()
PAGES = {
    "flood-warning.html": ("https://www.example.co.uk/news/uk/2024/05/19/york-flood-warnings",
                           "2024-05-19T06:40:00Z", "text/html; charset=utf-8"),
    "grain-deal.html": ("https://wire.example.com/world/europe/grain-corridor-talks-2024-05-12/",
                        "2024-05-12T09:00:00Z", "text/html; charset=windows-1252"),
}
KYIV_TEXT = """Ukraine says air defences downed most drones in overnight attack

KYIV, Ukraine (AP) — Ukraine's air force said on Saturday that it had shot down 31 of 35 drones launched overnight, most of them over the southern Odesa region, where falling debris damaged a port warehouse and injured two workers.

Regional governor Oleh Kiper said the fire at the warehouse had been put out by morning and that grain shipments from the port would continue as planned.

President Volodymyr Zelenskyy again urged Western allies to speed up deliveries of air defence systems, saying in his nightly address that every battery "saves cities and lives".

Share on Facebook
"""


def write_warc(path: Path) -> None:
    with open(path, "wb") as raw:
        writer = WARCWriter(raw, gzip=True)
        for name, (url, date, content_type) in PAGES.items():
            payload = (HERE / "pages" / name).read_bytes()
            _response(writer, url, date, content_type, payload)
        _response(writer, "https://www.example.co.uk/images/river.png", "2024-05-19T06:40:02Z", "image/png",
                  b"\x89PNG\r\n\x1a\n" + bytes(range(64)))
        request = writer.create_warc_record("https://www.example.co.uk/news/uk/", "request",
                                            payload=io.BytesIO(b"GET /news/uk/ HTTP/1.1\r\nHost: example\r\n\r\n"),
                                            warc_headers_dict=_fixed_headers("https://www.example.co.uk/news/uk/",
                                                                             "2024-05-19T06:40:03Z"))
        writer.write_record(request)


def _response(writer: WARCWriter, url: str, date: str, content_type: str, payload: bytes) -> None:
    headers = StatusAndHeaders("200 OK", [("Content-Type", content_type)], protocol="HTTP/1.1")
    record = writer.create_warc_record(url, "response", payload=io.BytesIO(payload), http_headers=headers,
                                       warc_headers_dict=_fixed_headers(url, date))
    writer.write_record(record)


def _fixed_headers(url: str, date: str) -> dict[str, str]:
    """A record's date and id fixed by its URL, so the file (and its records' offsets) is the same each build."""
    return {"WARC-Date": date, "WARC-Record-ID": f"<urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, url)}>"}


def write_feed(path: Path) -> None:
    chip_page = (CAPTURES / "chip-plant.html").read_text(encoding="utf-8")
    records = [
        {"url": "https://apnews.example.com/world/ukraine-drones-odesa", "text": KYIV_TEXT,
         "fetched_at": "2024-05-18T07:05:00Z", "section": "World"},
        # the same article as chip-plant.html, linked with tracking parameters: a counted duplicate
        {"url": "https://tribune.example.com/technology/2024/05/14/chipmaker-ohio-plant?utm_source=feed",
         "html": chip_page, "fetched_at": "2024-05-14T18:00:00Z"},
    ]
    lines = [json.dumps(record, ensure_ascii=False) for record in records]
    lines.append('{"url": "https://broken.example.com/x", "text": "cut off mid-rec')  # malformed on purpose
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(folder: Path = CAPTURES) -> None:
    """Write the generated captures into ``folder`` and pin the modification time of its text captures."""
    write_warc(folder / "crawl.warc.gz")
    write_feed(folder / "feed.jsonl")
    for capture in folder.glob("*.txt"):
        os.utime(capture, (FIXED_MTIME, FIXED_MTIME))
    print(f"sample captures ready in {folder}")


if __name__ == "__main__":
    main(*(Path(arg) for arg in sys.argv[1:2]))
