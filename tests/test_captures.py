"""Reading capture files: kinds by content, gzip, sidecars, capture times, and every rejection reason."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from pipeline.captures import FileDigest, ReadLimits, is_capture_path, iter_captures, load_read_limits
from transforms.records import Capture, Rejection

REPO = Path(__file__).resolve().parents[1]
LIMITS = ReadLimits(max_file_bytes=1_000_000, max_decompressed_bytes=1_000_000, max_capture_bytes=100_000)
MTIME = datetime(2023, 3, 4, 5, 6, 7, tzinfo=UTC)

STORY = (
    "Home NewsRegion\n\n"
    "Harbour board approves night ferry trial\n\n"
    "Story by Coastline Wire\n\n"
    "Port Ellery – The harbour board voted on Tuesday to run a three-month trial of late ferries "
    "between the old quay and the island, after a petition gathered more than two thousand names.\n\n"
    "“We heard the shift workers loud and clear,” the board chair told reporters after the vote.\n"
)
PAGE = (
    '<!DOCTYPE html><html><head><meta charset="utf-8"><title>Night ferry trial</title></head>'
    "<body><nav>Home | Region</nav><article><h1>Harbour board approves night ferry trial</h1>"
    "<p>Port Ellery – The harbour board voted on Tuesday to run a three-month trial.</p>"
    "</article></body></html>"
)


# --------------------------------------------------------------------------------------------------
# helpers


def write(directory: Path, name: str, data: bytes | str, mtime: datetime = MTIME) -> str:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    os.utime(path, (mtime.timestamp(), mtime.timestamp()))
    return str(path)


def read(path: str, limits: ReadLimits = LIMITS) -> list[Capture | Rejection]:
    return list(iter_captures(path, limits))


def only(path: str, limits: ReadLimits = LIMITS) -> Capture | Rejection:
    [result] = read(path, limits)
    return result


def sidecar(directory: Path, name: str, values: dict | str) -> None:
    (directory / name).write_text(values if isinstance(values, str) else json.dumps(values))


def http_response(
    uri: str,
    body: bytes,
    content_type: str | None = "text/html",
    status: str = "200 OK",
    warc_date: str = "2024-05-06T07:08:09Z",
):
    """(uri, body, headers, date) for `build_warc`."""
    headers = [("Content-Type", content_type)] if content_type else []
    return ("response", uri, body, StatusAndHeaders(status, headers, protocol="HTTP/1.1"), warc_date)


def build_warc(records: list[tuple], gzipped: bool = False) -> bytes:
    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=gzipped)
    writer.write_record(writer.create_warcinfo_record("crawl.warc", {"software": "newsbeam-tests"}))
    for rec_type, uri, body, http, warc_date in records:
        record = writer.create_warc_record(
            uri,
            rec_type,
            payload=io.BytesIO(body),
            http_headers=http,
            warc_headers_dict={"WARC-Date": warc_date},
        )
        writer.write_record(record)
    return buffer.getvalue()


def two_pages_and_an_image() -> list[tuple]:
    return [
        http_response("https://news.example/ferry", PAGE.encode()),
        (
            "request",
            "https://news.example/ferry",
            b"GET /ferry HTTP/1.1\r\nHost: news.example\r\n\r\n",
            None,
            "2024-05-06T07:08:09Z",
        ),
        http_response("https://news.example/logo.png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "image/png"),
        http_response("https://news.example/bridge", PAGE.replace("ferry", "bridge").encode()),
    ]


# --------------------------------------------------------------------------------------------------
# plain text


def test_plain_text_file_becomes_one_text_capture_timed_by_mtime(tmp_path: Path) -> None:
    path = write(tmp_path, "story.txt", STORY)
    capture = only(path)
    assert capture == Capture(
        source_uri=path, kind="text", content=STORY, captured_at=MTIME, captured_at_source="file_mtime"
    )


def test_gzipped_text_is_recognised_by_magic_bytes_not_extension(tmp_path: Path) -> None:
    capture = only(write(tmp_path, "story.txt", gzip.compress(STORY.encode())))
    assert (capture.kind, capture.content) == ("text", STORY)


def test_text_in_a_legacy_charset_is_decoded_by_detection(tmp_path: Path) -> None:
    text = "Le conseil du port a approuvé l'essai des traversées de nuit, déclare la présidente. " * 5
    assert only(write(tmp_path, "histoire.txt", text.encode("cp1252"))).content == text


def test_text_full_of_no_break_and_ideographic_spaces_is_still_text(tmp_path: Path) -> None:
    japanese = "港湾局は\u3000夜間フェリーの試験運航を承認した。\u3000\u3000\n"
    text = japanese * 20 + "Port\xa0Ellery\xa0– 5\xa0km\n" * 20
    assert only(write(tmp_path, "story.txt", text)).content == text


def test_html_extension_holding_plain_text_is_read_as_text(tmp_path: Path) -> None:
    assert only(write(tmp_path, "story.html", STORY)).kind == "text"


# --------------------------------------------------------------------------------------------------
# sidecars


def test_sidecar_supplies_url_fetch_time_published_date_and_section(tmp_path: Path) -> None:
    path = write(tmp_path, "story.txt", STORY)
    sidecar(
        tmp_path,
        "story.meta.json",
        {
            "url": "https://news.example/ferry",
            "fetched_at": "2024-05-06T09:08:09+02:00",
            "published_at": "2024-05-05",
            "section": "Region",
        },
    )
    capture = only(path)
    assert capture.url == "https://news.example/ferry"
    assert (capture.captured_at, capture.captured_at_source) == (
        datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC),
        "sidecar",
    )
    assert (capture.published_hint, capture.published_hint_source) == ("2024-05-05", "sidecar")
    assert (capture.section_hint, capture.section_hint_source) == ("Region", "sidecar")


def test_sidecar_named_after_the_full_filename_wins_over_the_stem_sidecar(tmp_path: Path) -> None:
    path = write(tmp_path, "story.txt", STORY)
    sidecar(tmp_path, "story.meta.json", {"section": "Stem"})
    sidecar(tmp_path, "story.txt.meta.json", {"section": "Full name"})
    assert only(path).section_hint == "Full name"


def test_gzipped_html_finds_the_sidecar_named_without_compression_suffix(tmp_path: Path) -> None:
    path = write(tmp_path, "page.html.gz", gzip.compress(PAGE.encode()))
    sidecar(tmp_path, "page.html.meta.json", {"url": "https://news.example/ferry"})
    assert only(path).url == "https://news.example/ferry"


def test_sidecar_that_is_not_json_is_ignored_and_the_capture_kept(tmp_path: Path) -> None:
    path = write(tmp_path, "story.txt", STORY)
    sidecar(tmp_path, "story.meta.json", "{url: not json")
    capture = only(path)
    assert (capture.kind, capture.url, capture.captured_at_source) == ("text", None, "file_mtime")


def test_sidecar_bad_dates_and_wrong_types_are_dropped_field_by_field(tmp_path: Path) -> None:
    path = write(tmp_path, "story.txt", STORY)
    sidecar(
        tmp_path,
        "story.meta.json",
        {
            "url": "https://news.example/ferry",
            "fetched_at": "last Tuesday",
            "published_at": "soon",
            "section": 7,
        },
    )
    capture = only(path)
    assert capture.url == "https://news.example/ferry"
    assert (capture.captured_at, capture.captured_at_source) == (MTIME, "file_mtime")
    assert capture.published_hint is None and capture.section_hint is None


def test_sidecar_dates_in_rfc_2822_form_are_understood(tmp_path: Path) -> None:
    path = write(tmp_path, "story.txt", STORY)
    sidecar(tmp_path, "story.meta.json", {"fetched_at": "Mon, 06 May 2024 07:08:09 GMT"})
    assert only(path).captured_at == datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)


def test_sidecar_time_without_zone_is_taken_as_utc(tmp_path: Path) -> None:
    path = write(tmp_path, "story.txt", STORY)
    sidecar(tmp_path, "story.meta.json", {"fetched_at": "2024-05-06 07:08:09"})
    assert only(path).captured_at == datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)


# --------------------------------------------------------------------------------------------------
# HTML and charsets


def test_html_file_becomes_one_html_capture(tmp_path: Path) -> None:
    path = write(tmp_path, "page.html", PAGE)
    assert only(path) == Capture(
        source_uri=path, kind="html", content=PAGE, captured_at=MTIME, captured_at_source="file_mtime"
    )


def test_gzipped_html_without_any_extension_is_html(tmp_path: Path) -> None:
    capture = only(write(tmp_path, "capture-0001", gzip.compress(PAGE.encode())))
    assert (capture.kind, capture.content) == ("html", PAGE)


def test_txt_file_holding_markup_is_read_as_html(tmp_path: Path) -> None:
    assert only(write(tmp_path, "page.txt", PAGE)).kind == "html"


def test_html_fragment_starting_with_a_common_tag_is_html(tmp_path: Path) -> None:
    fragment = "<div class='story'><p>Port Ellery – The harbour board voted on Tuesday.</p></div>"
    assert only(write(tmp_path, "fragment.dat", fragment)).kind == "html"


def test_windows_1252_page_declared_by_meta_charset_is_decoded(tmp_path: Path) -> None:
    page = "<html><head><meta charset='windows-1252'></head><body>“Quoted” café – 5€</body></html>"
    assert only(write(tmp_path, "page.html", page.encode("cp1252"))).content == page


def test_latin1_label_decodes_as_windows_1252_like_browsers(tmp_path: Path) -> None:
    page = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=ISO-8859-1">'
        "</head><body>“Quoted” café</body></html>"
    )
    assert only(write(tmp_path, "page.html", page.encode("cp1252"))).content == page


def test_shift_jis_page_declared_by_http_equiv_is_decoded(tmp_path: Path) -> None:
    page = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=Shift_JIS">'
        "</head><body><p>港湾局は夜間フェリーの試験運航を承認した。</p></body></html>"
    )
    assert only(write(tmp_path, "page.html", page.encode("shift_jis"))).content == page


def test_byte_order_mark_beats_a_wrong_meta_charset(tmp_path: Path) -> None:
    page = "<html><head><meta charset='iso-8859-2'></head><body>Ferry – café</body></html>"
    assert only(write(tmp_path, "page.html", b"\xef\xbb\xbf" + page.encode())).content == page


def test_utf16_page_with_bom_is_html_not_binary(tmp_path: Path) -> None:
    capture = only(write(tmp_path, "page.html", PAGE.encode("utf-16")))
    assert (capture.kind, capture.content) == ("html", PAGE)


def test_undeclared_utf8_page_is_decoded_as_utf8(tmp_path: Path) -> None:
    page = "<html><body><p>Ferry – café “trial”</p></body></html>"
    assert only(write(tmp_path, "page.html", page)).content == page


# --------------------------------------------------------------------------------------------------
# WARC


@pytest.mark.parametrize("gzipped", [False, True], ids=["plain", "per-record-gzip"])
def test_warc_html_responses_become_captures_and_other_responses_not_html(
    tmp_path: Path, gzipped: bool
) -> None:
    path = write(tmp_path, "crawl.warc", build_warc(two_pages_and_an_image(), gzipped))
    ferry, image, bridge = read(path)
    assert (ferry.kind, ferry.url, ferry.content) == ("html", "https://news.example/ferry", PAGE)
    assert (ferry.captured_at, ferry.captured_at_source) == (
        datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC),
        "warc_date",
    )
    assert (image.reason, image.extra["content_type"]) == ("not_html", "image/png")
    assert bridge.url == "https://news.example/bridge"


@pytest.mark.parametrize("gzipped", [False, True], ids=["plain", "per-record-gzip"])
def test_warc_source_uri_offset_points_at_the_record_in_the_stored_file(
    tmp_path: Path, gzipped: bool
) -> None:
    data = build_warc(two_pages_and_an_image(), gzipped)
    for result in read(write(tmp_path, "crawl.warc.gz" if gzipped else "crawl.warc", data)):
        offset = int(result.source_uri.rsplit("#offset=", 1)[1])
        record = next(iter(ArchiveIterator(io.BytesIO(data[offset:]))))
        assert record.rec_headers.get_header("WARC-Type") == "response"


def test_warc_gzipped_as_one_member_is_still_read(tmp_path: Path) -> None:
    data = gzip.compress(build_warc(two_pages_and_an_image()))
    assert [r.url for r in read(write(tmp_path, "crawl.warc.gz", data)) if isinstance(r, Capture)] == [
        "https://news.example/ferry",
        "https://news.example/bridge",
    ]


def test_warc_charset_comes_from_the_http_content_type(tmp_path: Path) -> None:
    page = "<html><body><p>“Quoted” café – 5€</p></body></html>"
    records = [
        http_response("https://news.example/cafe", page.encode("cp1252"), "text/html; charset=windows-1252")
    ]
    assert only(write(tmp_path, "crawl.warc", build_warc(records))).content == page


def test_warc_html_served_without_html_content_type_is_sniffed(tmp_path: Path) -> None:
    records = [http_response("https://news.example/ferry", PAGE.encode(), "application/octet-stream")]
    assert only(write(tmp_path, "crawl.warc", build_warc(records))).kind == "html"


def test_warc_error_status_is_rejected_with_the_status(tmp_path: Path) -> None:
    records = [http_response("https://news.example/gone", PAGE.encode(), status="404 Not Found")]
    rejection = only(write(tmp_path, "crawl.warc", build_warc(records)))
    assert (rejection.reason, rejection.extra["status"]) == ("http_status", "404")


def test_warc_page_over_the_capture_cap_is_rejected_and_the_next_read(tmp_path: Path) -> None:
    big = "<html><body>" + "<p>Ferry news paragraph.</p>" * 5000 + "</body></html>"
    records = [
        http_response("https://news.example/big", big.encode()),
        http_response("https://news.example/ferry", PAGE.encode()),
    ]
    big_result, ferry = read(write(tmp_path, "crawl.warc", build_warc(records)))
    assert big_result.reason == "too_large"
    assert ferry.url == "https://news.example/ferry"


@pytest.mark.parametrize("gzipped", [False, True], ids=["plain", "per-record-gzip"])
@pytest.mark.parametrize("cut", [60, 400], ids=["in-warc-headers", "in-payload"])
def test_truncated_warc_yields_records_read_so_far_then_truncated_warc(
    tmp_path: Path, gzipped: bool, cut: int
) -> None:
    data = build_warc(two_pages_and_an_image(), gzipped)
    last_start = int(read(write(tmp_path, "whole.warc", data))[-1].source_uri.rsplit("=", 1)[1])
    results = read(write(tmp_path, "cut.warc", data[: last_start + cut]))
    assert [type(r).__name__ for r in results] == ["Capture", "Rejection", "Rejection"]
    assert (results[-1].reason, results[-1].extra["offset"]) == ("truncated_warc", last_start)


def test_corrupt_warc_yields_records_read_so_far_then_corrupt_warc(tmp_path: Path) -> None:
    data = build_warc(two_pages_and_an_image())
    last_start = int(read(write(tmp_path, "whole.warc", data))[-1].source_uri.rsplit("=", 1)[1])
    corrupt = data[:last_start] + b"THIS IS NOT A WARC HEADER\r\n\r\n" + data[last_start:]
    results = read(write(tmp_path, "corrupt.warc", corrupt))
    assert [getattr(r, "reason", "capture") for r in results] == ["capture", "not_html", "corrupt_warc"]
    assert results[-1].extra["offset"] == last_start


def test_damaged_gzip_member_in_a_warc_is_corrupt_warc_at_that_member(tmp_path: Path) -> None:
    data = build_warc(two_pages_and_an_image(), gzipped=True)
    image_start = int(read(write(tmp_path, "whole.warc.gz", data))[1].source_uri.rsplit("=", 1)[1])
    damaged = data[:image_start] + b"XX" + data[image_start + 2 :]
    results = read(write(tmp_path, "damaged.warc.gz", damaged))
    assert [getattr(r, "reason", "capture") for r in results] == ["capture", "corrupt_warc"]
    assert results[-1].extra["offset"] == image_start


# --------------------------------------------------------------------------------------------------
# JSONL


def jsonl(*records: dict | str) -> str:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records)


def test_jsonl_lines_become_html_or_text_captures_with_their_own_fields(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "batch.jsonl",
        jsonl(
            {
                "url": "https://news.example/ferry",
                "html": PAGE,
                "fetched_at": "2024-05-06T07:08:09Z",
                "published_at": "Sun, 05 May 2024 18:00:00 +0000",
                "section": "Region",
            },
            {"url": "https://news.example/story", "text": STORY},
        ),
    )
    page, story = read(path)
    assert (page.source_uri, page.kind, page.content) == (f"{path}#line=1", "html", PAGE)
    assert page.captured_at == datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
    assert page.captured_at_source == "record"
    assert (page.published_hint, page.published_hint_source) == ("Sun, 05 May 2024 18:00:00 +0000", "record")
    assert (page.section_hint, page.section_hint_source) == ("Region", "record")
    assert (story.source_uri, story.kind) == (f"{path}#line=2", "text")
    assert story.captured_at_source == "file_mtime"


def test_bad_jsonl_lines_are_rejected_one_by_one_and_the_file_continues(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "batch.jsonl",
        jsonl(
            {"url": "https://news.example/a", "text": STORY},
            "{not json",
            "",
            {"url": "https://news.example/no-body"},
            {"url": "https://news.example/typed", "text": STORY, "section": ["Region"]},
            "[1, 2]",
            {"url": "https://news.example/b", "html": PAGE},
        ),
    )
    summary = [(r.source_uri.rsplit("#", 1)[1], getattr(r, "reason", "capture")) for r in read(path)]
    assert summary == [
        ("line=1", "capture"),
        ("line=2", "malformed_json"),
        ("line=4", "missing_content"),
        ("line=5", "bad_field"),
        ("line=6", "malformed_json"),
        ("line=7", "capture"),
    ]


def test_jsonl_line_over_the_capture_cap_is_rejected_alone(tmp_path: Path) -> None:
    limits = ReadLimits(1_000_000, 1_000_000, max_capture_bytes=2_000)
    path = write(tmp_path, "batch.jsonl", jsonl({"text": "x" * 5_000}, {"text": STORY}))
    big, story = read(path, limits)
    assert (big.reason, big.source_uri) == ("too_large", f"{path}#line=1")
    assert story.content == STORY


def test_gzipped_jsonl_is_read_line_by_line(tmp_path: Path) -> None:
    data = gzip.compress(jsonl({"text": STORY}, {"html": PAGE}).encode())
    assert [r.kind for r in read(write(tmp_path, "batch.jsonl.gz", data))] == ["text", "html"]


def test_jsonl_with_an_unparseable_fetch_time_falls_back_to_mtime(tmp_path: Path) -> None:
    capture = only(write(tmp_path, "batch.jsonl", jsonl({"text": STORY, "fetched_at": "yesterday"})))
    assert (capture.captured_at, capture.captured_at_source) == (MTIME, "file_mtime")


# --------------------------------------------------------------------------------------------------
# capture-time precedence across sources


def test_capture_time_prefers_record_then_warc_date_then_sidecar_then_mtime(tmp_path: Path) -> None:
    record_time = datetime(2024, 1, 1, tzinfo=UTC)
    line = only(write(tmp_path, "a.jsonl", jsonl({"text": STORY, "fetched_at": record_time.isoformat()})))
    warc = only(write(tmp_path, "b.warc", build_warc([http_response("https://x.example/", PAGE.encode())])))
    side_path = write(tmp_path, "c.txt", STORY)
    sidecar(tmp_path, "c.meta.json", {"fetched_at": "2024-03-03T00:00:00Z"})
    bare = only(write(tmp_path, "d.txt", STORY))
    assert [(c.captured_at_source, c.captured_at) for c in (line, warc, only(side_path), bare)] == [
        ("record", record_time),
        ("warc_date", datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)),
        ("sidecar", datetime(2024, 3, 3, tzinfo=UTC)),
        ("file_mtime", MTIME),
    ]


def test_warc_record_with_a_broken_date_falls_back_to_mtime(tmp_path: Path) -> None:
    records = [http_response("https://news.example/ferry", PAGE.encode(), warc_date="not a date")]
    capture = only(write(tmp_path, "crawl.warc", build_warc(records)))
    assert (capture.captured_at, capture.captured_at_source) == (MTIME, "file_mtime")


# --------------------------------------------------------------------------------------------------
# file-level rejections


def test_empty_file_is_rejected(tmp_path: Path) -> None:
    assert only(write(tmp_path, "empty.txt", b"")).reason == "empty_file"


def test_whitespace_only_and_empty_gzip_files_are_empty(tmp_path: Path) -> None:
    assert only(write(tmp_path, "blank.txt", "  \n\n\t\n")).reason == "empty_file"
    assert only(write(tmp_path, "empty.txt.gz", gzip.compress(b""))).reason == "empty_file"


def test_truncated_gzip_is_rejected(tmp_path: Path) -> None:
    data = gzip.compress((STORY * 50).encode())
    rejection = only(write(tmp_path, "story.txt.gz", data[: len(data) // 2]))
    assert (rejection.reason, rejection.source_uri) == ("truncated_gzip", str(tmp_path / "story.txt.gz"))


def test_gzip_with_damaged_deflate_data_is_corrupt_gzip(tmp_path: Path) -> None:
    data = bytearray(gzip.compress((STORY * 50).encode()))
    data[20:60] = b"\xff" * 40
    assert only(write(tmp_path, "story.txt.gz", bytes(data))).reason == "corrupt_gzip"


def test_file_over_max_file_bytes_is_too_large_without_being_read(tmp_path: Path) -> None:
    limits = ReadLimits(max_file_bytes=100, max_decompressed_bytes=10_000, max_capture_bytes=10_000)
    rejection = only(write(tmp_path, "story.txt", STORY), limits)
    assert (rejection.reason, rejection.extra["limit"]) == ("too_large", 100)


def test_gzip_bomb_stops_at_max_decompressed_bytes(tmp_path: Path) -> None:
    limits = ReadLimits(max_file_bytes=100_000, max_decompressed_bytes=50_000, max_capture_bytes=10_000_000)
    bomb = gzip.compress(b"A" * 5_000_000)
    assert len(bomb) < 100_000
    rejection = only(write(tmp_path, "innocent.txt", bomb), limits)
    assert (rejection.reason, rejection.extra["limit"]) == ("too_large", 50_000)


def test_page_over_max_capture_bytes_is_too_large(tmp_path: Path) -> None:
    limits = ReadLimits(max_file_bytes=1_000_000, max_decompressed_bytes=1_000_000, max_capture_bytes=100)
    assert only(write(tmp_path, "story.txt", STORY), limits).reason == "too_large"


def test_file_with_nul_bytes_is_binary_content(tmp_path: Path) -> None:
    assert only(write(tmp_path, "photo.txt", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + bytes(256))).reason == (
        "binary_content"
    )


def test_control_character_soup_without_nuls_is_binary_content(tmp_path: Path) -> None:
    data = bytes(range(1, 32)) * 40 + b"some words"
    assert only(write(tmp_path, "blob.txt", data)).reason == "binary_content"


def test_html_that_decodes_in_no_charset_is_undecodable(tmp_path: Path) -> None:
    data = b"<html><body>" + bytes(range(1, 9)) * 50 + b"\xff\xfe\x81\x8d" * 30 + b"</body></html>"
    assert only(write(tmp_path, "page.html", data)).reason == "undecodable"


def test_missing_file_is_unreadable_with_the_error_in_detail(tmp_path: Path) -> None:
    rejection = only(str(tmp_path / "gone.txt"))
    assert rejection.reason == "unreadable"
    assert "No such file" in rejection.detail


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=3_000), gzipped=st.booleans())
def test_arbitrary_bytes_never_raise(tmp_path: Path, data: bytes, gzipped: bool) -> None:
    path = write(tmp_path, "fuzz.bin", gzip.compress(data) if gzipped else data)
    assert all(isinstance(result, Capture | Rejection) for result in iter_captures(path, LIMITS))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    position=st.integers(min_value=0, max_value=10_000),
    junk=st.binary(min_size=1, max_size=40),
    gzipped=st.booleans(),
)
def test_damaged_warcs_never_raise(tmp_path: Path, position: int, junk: bytes, gzipped: bool) -> None:
    data = build_warc(two_pages_and_an_image(), gzipped)
    position %= len(data)
    damaged = data[:position] + junk + data[position + len(junk) :]
    path = write(tmp_path, "fuzz.warc", damaged)
    assert all(isinstance(result, Capture | Rejection) for result in iter_captures(path, LIMITS))


# --------------------------------------------------------------------------------------------------
# paths and configuration


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("captures/story.txt", True),
        ("gs://bucket/2024/05/crawl.warc.gz", True),
        ("../in/./story.html", True),
        ("captures/story.meta.json", False),
        ("captures/story.txt.meta.json", False),
        ("captures/.story.txt", False),
        ("captures/story.txt.tmp", False),
        ("captures/crawl.warc.gz.part", False),
        ("captures/_staging/story.txt", False),
        ("captures/.cache/story.txt", False),
        ("gs://bucket/_temporary/0/story.txt", False),
        ("captures/_SUCCESS", False),
    ],
)
def test_is_capture_path(path: str, expected: bool) -> None:
    assert is_capture_path(path) is expected


def test_repository_read_config_loads(tmp_path: Path) -> None:
    limits = load_read_limits(REPO / "configs" / "read.yaml")
    assert limits.max_capture_bytes < limits.max_file_bytes < limits.max_decompressed_bytes


def test_read_config_with_unknown_or_non_positive_limits_is_refused(tmp_path: Path) -> None:
    typo = tmp_path / "typo.yaml"
    typo.write_text(
        "read: {max_file_bytes: 1, max_decompressed_bytes: 1, max_capture_bytes: 1, max_bytes: 2}"
    )
    with pytest.raises(TypeError):
        load_read_limits(typo)
    with pytest.raises(ValueError):
        ReadLimits(max_file_bytes=0, max_decompressed_bytes=1, max_capture_bytes=1)


# --------------------------------------------------------------------------------------------------
# the file's hash for the ledger, taken while reading


@pytest.mark.parametrize("name, data", [
    ("story.txt", STORY.encode()),
    ("page.html", PAGE.encode()),
    ("page.html.gz", gzip.compress(PAGE.encode())),
    ("crawl.warc.gz", build_warc(two_pages_and_an_image(), gzipped=True)),
    ("feed.jsonl", b'{"url": "https://a.example/1", "text": "One"}\n{"broken\n'),
    ("empty.txt", b""),
], ids=["text", "html", "gzip", "warc", "jsonl", "empty"])
def test_the_digest_taken_while_reading_is_the_files_sha256(tmp_path: Path, name: str, data: bytes) -> None:
    path = write(tmp_path, name, data)
    digest = FileDigest()
    list(iter_captures(path, LIMITS, digest=digest))
    assert digest.hexdigest == hashlib.sha256(data).hexdigest()


def test_a_reader_that_stops_before_the_end_leaves_the_digest_unfinished(tmp_path: Path) -> None:
    """A page over max_capture_bytes is rejected after reading just past the cap: the rest is never hashed."""
    path = write(tmp_path, "big.html", PAGE + " " * (2 * LIMITS.max_capture_bytes))
    digest = FileDigest()
    [rejection] = iter_captures(path, LIMITS, digest=digest)
    assert rejection.reason == "too_large"
    assert digest.hexdigest is None


def test_a_file_damaged_at_its_end_is_still_hashed_whole(tmp_path: Path) -> None:
    data = build_warc(two_pages_and_an_image())[:-40]
    digest = FileDigest()
    assert read(write(tmp_path, "cut.warc", data))[-1].reason == "truncated_warc"
    list(iter_captures(write(tmp_path, "cut2.warc", data), LIMITS, digest=digest))
    assert digest.hexdigest == hashlib.sha256(data).hexdigest()
