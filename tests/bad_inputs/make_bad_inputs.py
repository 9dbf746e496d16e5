"""Write the hostile captures newsbeam must survive into a folder: ``tests/test_bad_inputs.py`` runs them all.

Every file is built here from code, not stored: a reader sees exactly what each one is, and the 50 MB
page and the gzip bombs cost nothing in the repository. The stories are invented for these tests.

    python tests/bad_inputs/make_bad_inputs.py OUT_DIR [--big-page-mb 50] [--bomb-mb 64]
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import random
import zlib
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

# Every file gets this modification time unless its case says otherwise, so capture dates are fixed.
MTIME = datetime(2024, 3, 5, 12, 0, tzinfo=UTC).timestamp()
MIB = 1 << 20

_PLACES = ["Harbourton", "Millbrook", "Eastfield", "Stonebridge", "Larkspur", "Kettering Vale", "Ashcombe",
           "Redwater", "Fenwick", "Oakhurst", "Brambleford", "Northgate"]
_TOPICS = ["a new ferry timetable", "repairs to the old library roof", "a rise in bus fares",
           "a second primary school", "flood barriers along the river", "a late-night market licence",
           "the closure of the swimming pool", "cycle lanes on the high street", "a budget for street lighting",
           "a youth football pitch", "the sale of the fire station", "a wind farm on the ridge"]


def story(number: int) -> tuple[str, str]:
    """``(title, body)`` of an invented local news story, different for every ``number``."""
    place, topic = _PLACES[number % len(_PLACES)], _TOPICS[(number * 5) % len(_TOPICS)]
    title = f"{place} council backs {topic} (story {number})"
    body = (f"Councillors in {place} voted on Tuesday to support {topic}, after a public meeting that ran "
            f"late into the evening and drew more than {120 + number} residents to the town hall.\n\n"
            f"The plan will now go to a second vote next month, when the council is expected to confirm "
            f"how it will be paid for and when the work on the scheme number {number} can begin.")
    return title, body


def page(number: int, head: str = "", extra_body: str = "") -> str:
    """An HTML page for ``story(number)``; ``head`` goes into ``<head>``, ``extra_body`` after the story."""
    title, body = story(number)
    paragraphs = "".join(f"<p>{p}</p>" for p in body.split("\n\n"))
    return (f"<!DOCTYPE html><html><head>{head}<title>{title}</title></head><body><article><h1>{title}</h1>"
            f"{paragraphs}{extra_body}</article></body></html>")


def text_capture(number: int) -> str:
    """``story(number)`` as a plain-text capture: the title line, then the paragraphs."""
    title, body = story(number)
    return f"{title}\n\n{body}\n"


def _cut(data: bytes) -> bytes:
    return data[: len(data) // 2]


def _seeded(name: str) -> random.Random:
    return random.Random(f"newsbeam-bad-inputs-{name}")


# --------------------------------------------------------------------------------------------------
# WARC pieces


def _response(writer: WARCWriter, uri: str, payload: bytes, content_type: str, status: str = "200 OK",
              when: str = "2024-03-04T10:00:00Z") -> None:
    http = StatusAndHeaders(status, [("Content-Type", content_type)], protocol="HTTP/1.1")
    writer.write_record(writer.create_warc_record(uri, "response", payload=io.BytesIO(payload), http_headers=http,
                                                  warc_headers_dict={"WARC-Date": when}))


def _warc(build: Callable[[WARCWriter], None], gzipped: bool) -> bytes:
    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=gzipped)
    writer.write_record(writer.create_warcinfo_record("bad.warc", {"software": "newsbeam-bad-inputs"}))
    build(writer)
    return buffer.getvalue()


def _raw_warc_record(uri: str, payload: bytes, declared_length: int) -> bytes:
    """A response record written by hand, so its Content-Length can lie about the payload."""
    headers = (f"WARC/1.0\r\nWARC-Type: response\r\nWARC-Record-ID: <urn:uuid:{_seeded(uri).getrandbits(128):032x}>"
               f"\r\nWARC-Date: 2024-03-04T10:00:00Z\r\nWARC-Target-URI: {uri}\r\n"
               f"Content-Type: application/http; msgtype=response\r\nContent-Length: {declared_length}\r\n\r\n")
    return headers.encode() + payload + b"\r\n\r\n"


def _lying_record(slug: str, number: int, length_error: int) -> bytes:
    """An uncompressed record of ``page(number)`` whose Content-Length is off by ``length_error`` bytes."""
    payload = b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + page(number).encode()
    return _raw_warc_record(f"https://news.example/{slug}", payload, len(payload) + length_error)


def _not_html_records(writer: WARCWriter) -> None:
    rng = _seeded("not-html")
    _response(writer, "https://news.example/photo.jpg", b"\xff\xd8\xff\xe0\0\x10JFIF\0" + rng.randbytes(3000),
              "image/jpeg")
    pdf = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Length 900 >>\nstream\n" + rng.randbytes(900)
    _response(writer, "https://news.example/report.pdf", pdf, "application/pdf")
    dns = b"20240304100000\nnews.example.\t300\tIN\tA\t192.0.2.7\n"
    writer.write_record(writer.create_warc_record("dns:news.example", "response", payload=io.BytesIO(dns),
                                                  warc_content_type="text/dns",
                                                  warc_headers_dict={"WARC-Date": "2024-03-04T10:00:00Z"}))
    writer.write_record(writer.create_warc_record(
        "https://news.example/a", "request", payload=io.BytesIO(b"GET /a HTTP/1.1\r\nHost: news.example\r\n\r\n"),
        warc_content_type="application/http; msgtype=request"))


def _cut_in_last_record(numbers: list[int]) -> bytes:
    """Gzipped response records for ``numbers``; the last one is cut off in its middle."""
    def pages(count: int) -> bytes:
        return _warc(lambda w: [_response(w, f"https://news.example/cut-{n}", page(n).encode(), "text/html")
                                for n in numbers[:count]], gzipped=True)

    whole, before_last = pages(len(numbers)), pages(len(numbers) - 1)
    return whole[: (len(before_last) + len(whole)) // 2]


# --------------------------------------------------------------------------------------------------
# gzip bombs


def _gzip_stream(chunks: Iterable[bytes]) -> bytes:
    """Gzip ``chunks`` at the highest compression, one at a time (a bomb inflates ~1000x)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    return b"".join([*(compressor.compress(chunk) for chunk in chunks), compressor.flush()])


def _text_bomb(size: int) -> bytes:
    return _gzip_stream(b"A" * MIB for _ in range(size // MIB))


def _jsonl_bomb(size: int) -> bytes:
    """Two good records, then one endless line of blanks: the records are read, the rest is cut off."""
    records = "".join(json.dumps({"url": f"https://wire.example/bomb-{n}", "text": text_capture(n)}) + "\n"
                      for n in (40, 41)).encode()
    return _gzip_stream([records, *(b" " * MIB for _ in range(size // MIB))])


# --------------------------------------------------------------------------------------------------
# JSONL with bad lines


def _jsonl_lines() -> list[str]:
    """One line per case, in order; the test names the outcome of each line number."""
    good = {"url": "https://wire.example/jsonl-good", "fetched_at": "2024-03-01T09:00:00Z", "section": "Local",
            "text": text_capture(20)}
    return [
        json.dumps(good),                                                                # 1 article
        '{"url": "https://wire.example/cut", "text": "the line breaks off',               # 2 malformed_json
        "[1, 2, 3]",                                                                     # 3 malformed_json
        json.dumps({"url": "https://wire.example/no-content", "section": "Local"}),      # 4 missing_content
        json.dumps({"url": 42, "text": text_capture(21)}),                               # 5 bad_field
        json.dumps({"url": "https://wire.example/list", "text": ["not", "a", "string"]}),  # 6 bad_field
        json.dumps({"url": "https://wire.example/blank", "html": None, "text": "   "}),  # 7 missing_content
        json.dumps({"url": "https://wire.example/bad-dates", "fetched_at": "the day before yesterday",
                    "published_at": "32/13/2024", "text": text_capture(22)}),            # 8 article, mtime
        '"just a string"',                                                               # 9 malformed_json
        "",                                                                              # 10 blank: no capture
        "[" * 100_000 + "]" * 100_000,                                                   # 11 malformed_json
        json.dumps({"url": "https://wire.example/future", "fetched_at": "2024-03-02T09:00:00Z",
                    "published_at": "2999-01-01T00:00:00Z", "text": text_capture(23)}),  # 12 article, no 2999
        '{"url": "https://wire.example/nan", "text": NaN}',                              # 13 bad_field
        json.dumps({"url": "https://tribune.example.com/technology/2024/05/14/chipmaker-ohio-plant",
                    "text": text_capture(24)}),                                          # 14 duplicate of a page
    ]


def _jsonl_with_bad_bytes() -> bytes:
    good = json.dumps({"url": "https://wire.example/after-bad-bytes", "text": text_capture(25)}).encode()
    return b'{"url": "https://wire.example/latin", "text": "caf\xe9 cr\xe8me"}\n' + good + b"\n"


# --------------------------------------------------------------------------------------------------
# Encodings


def _mixed_encodings() -> bytes:
    """UTF-8 text with one sentence pasted in Latin-1 (a quote box from an old CMS)."""
    title, body = story(30)
    utf8 = (f"{title}\n\n{body}\n\nThe café owner, Zoë Brontë-Müller, said the crème brûlée and the "
            "smörgåsbord sold out before the meeting ended.\n\n")
    return utf8.encode("utf-8") + "Déjà vu, said the façade committee.\n".encode("latin-1")


def _invalid_utf8() -> bytes:
    """A UTF-8 page whose summary was cut inside a multi-byte character by a byte-counting CMS."""
    data = page(31, '<meta charset="utf-8">', "<p>The café on the quay will stay open. Déjà vu, said the owner.</p>")
    cut = b"Summary: the plan goes to a second vote, caf" + "é".encode()[:1]
    return data.encode("utf-8").replace(b"</article>", b"<p>" + cut + b" and more</p></article>")


JAPANESE_STORY = ("東京の区議会は火曜日、新しい図書館の建設計画を賛成多数で可決した。工事は来年の春に始まり、"
                  "完成は再来年の秋を予定している。区長は記者会見で、子どもたちが安心して勉強できる場所を作りたいと述べた。")


def _shift_jis_claiming_utf8() -> bytes:
    html = (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>区議会が図書館計画を可決</title></head>'
            f"<body><article><h1>区議会が図書館計画を可決</h1><p>{JAPANESE_STORY}</p></article></body></html>")
    return html.encode("cp932")


def _utf8_claiming_latin1() -> bytes:
    return page(32, '<meta charset="iso-8859-1">',
                "<p>The café owner said the crème brûlée sold out; a naïve façade, déjà vu.</p>").encode("utf-8")


# --------------------------------------------------------------------------------------------------
# The cases: file name -> bytes, plus sidecars and special modification times


def _cases(big_page_bytes: int, bomb_bytes: int) -> dict[str, Callable[[], bytes]]:
    rng = _seeded("junk")
    furniture = "Main Slider\n\nShare this article\n\nBack to top button\n\nRelated Articles\n"
    return {
        # zero bytes, whitespace, binary junk behind text extensions
        "empty.txt": lambda: b"",
        "empty.html": lambda: b"",
        "empty.jsonl": lambda: b"",
        "empty.warc": lambda: b"",
        "empty.html.gz": lambda: gzip.compress(b"", mtime=0),
        "whitespace.html": lambda: b"  \r\n\t\n   \n",
        "junk.html": lambda: rng.randbytes(4096),
        "junk.txt": lambda: bytes(range(1, 32)) * 100 + b"a few words",
        "junk.jsonl": lambda: b"\x00\x01\x02" + rng.randbytes(2000),
        "photo.html": lambda: b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + rng.randbytes(2000),
        "gzip-in-gzip.html.gz": lambda: gzip.compress(gzip.compress(page(1).encode(), mtime=0), mtime=0),
        # broken gzip and bombs
        "truncated.html.gz": lambda: _cut(gzip.compress(page(2).encode(), mtime=0)),
        "bomb.txt.gz": lambda: _text_bomb(bomb_bytes),
        "bomb.jsonl.gz": lambda: _jsonl_bomb(bomb_bytes),
        # WARCs: truncated, lying Content-Length, payloads that are not pages, HTTP errors
        "truncated.warc.gz": lambda: _cut_in_last_record([3, 4, 5]),
        "long-content-length.warc": lambda: _lying_record("long-ok", 6, 0) + _lying_record("long", 7, 5000),
        "short-content-length.warc": lambda: _lying_record("short", 8, -300) + _lying_record("after-short", 9, 0),
        "not-html.warc.gz": lambda: _warc(_not_html_records, gzipped=True),
        "http-errors.warc": lambda: _warc(lambda w: (
            _response(w, "https://news.example/missing", page(10).encode(), "text/html", "404 Not Found"),
            _response(w, "https://news.example/empty-body", b"", "text/html"),
            _response(w, "https://news.example/ok-after-errors", page(11).encode(), "text/html")), gzipped=False),
        # encodings
        "invalid-utf8.html": _invalid_utf8,
        "mixed-encodings.txt": _mixed_encodings,
        "shift-jis-claims-utf8.html": _shift_jis_claiming_utf8,
        "utf8-claims-latin1.html": _utf8_claiming_latin1,
        "undecodable.html": lambda: (b"<html><body>" + bytes(range(1, 9)) * 50 + b"\xff\xfe\x81\x8d" * 30
                                     + b"</body></html>"),
        # pathological HTML
        "nested-100000.html": lambda: ("<html><body>" + "<div>" * 100_000 + f"<p>{story(12)[1]}</p>"
                                       + "</div>" * 100_000 + "</body></html>").encode(),
        "big-page.html": lambda: _big_page(big_page_bytes),
        "no-text.html": lambda: (b"<html><head><title></title></head><body><img src='https://cdn.example/a.png'>"
                                 b"<script>var x = 1;</script><div></div></body></html>"),
        "only-markup.html": lambda: (b"<html><head></head><body>" + b"<div><span></span></div>" * 200
                                     + b"</body></html>"),
        # JSONL
        "feed.jsonl": lambda: ("\n".join(_jsonl_lines()) + "\n").encode(),
        "latin1-line.jsonl": _jsonl_with_bad_bytes,
        # sidecars with bad or future dates, and no usable time at all
        "sidecar-bad-dates.txt": lambda: text_capture(13).encode(),
        "sidecar-future.txt": lambda: text_capture(14).encode(),
        "sidecar-broken.txt": lambda: text_capture(15).encode(),
        "mtime-zero.txt": lambda: text_capture(16).encode(),
        # furniture only
        "only-furniture.txt": lambda: furniture.encode(),
        "only-furniture.html": lambda: ("<html><body><nav>Home | World</nav><div>" + furniture.replace("\n\n", "<br>")
                                        + "</div></body></html>").encode(),
    }


def _big_page(size: int) -> bytes:
    """A real story followed by an inline base64 image that makes the page ``size`` bytes."""
    start = page(17).encode().replace(b"</article>", b'<img src="data:image/png;base64,')
    end = b'"></article></body></html>'
    return start + b"QUJD" * ((size - len(start) - len(end)) // 4) + end


SIDECARS = {
    "sidecar-bad-dates.meta.json": json.dumps({"url": 17, "fetched_at": "the day before yesterday",
                                               "published_at": "32/13/2024", "section": ["World"]}),
    "sidecar-future.meta.json": json.dumps({"url": "https://local.example/future", "fetched_at": "2999-01-01T00:00:00Z",
                                            "published_at": "2998-06-01"}),
    "sidecar-broken.meta.json": '{"url": "https://local.example/broken", "fetched_at": ',
}
MTIMES = {"mtime-zero.txt": 0.0}


def write_bad_inputs(folder: Path, big_page_bytes: int = 50 * MIB, bomb_bytes: int = 64 * MIB) -> list[str]:
    """Write every case into ``folder`` (sidecars too); return the capture file names, sorted."""
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for name, build in _cases(big_page_bytes, bomb_bytes).items():
        path = folder / name
        path.write_bytes(build())
        names.append(name)
    for name, text in SIDECARS.items():
        (folder / name).write_text(text)
    for path in folder.iterdir():
        stamp = MTIMES.get(path.name, MTIME)
        os.utime(path, (stamp, stamp))
    return sorted(names)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--big-page-mb", type=int, default=50, help="size of the oversized page (MiB)")
    parser.add_argument("--bomb-mb", type=int, default=64, help="what the gzip bombs inflate to (MiB)")
    args = parser.parse_args()
    names = write_bad_inputs(args.folder, args.big_page_mb * MIB, args.bomb_mb * MIB)
    print(f"{len(names)} bad inputs written to {args.folder}")


if __name__ == "__main__":
    main()
