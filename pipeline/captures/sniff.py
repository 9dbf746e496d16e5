"""Which kind a capture file is (WARC, JSONL, HTML, text or binary), from its first bytes."""

from __future__ import annotations

import codecs
import json
import re

from transforms.charset import bom_encoding

_HTML_START = re.compile(
    r"\A\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*"
    r"<(?:!doctype\s+html|html|head|body|meta|title|link|script|style|div|p|article|section|header"
    r"|nav|main|table|span|h[1-6]|!--)[\s>/]",
    re.IGNORECASE | re.DOTALL,
)
_HTML_MARKER = re.compile(r"<!doctype\s+html|<html[\s>]", re.IGNORECASE)


def sniff_kind(head: bytes, path: str) -> str:
    """'warc', 'jsonl', 'html', 'text' or 'binary', from the first bytes; the extension breaks ties."""
    if head.lstrip(b"\r\n").startswith(b"WARC/1."):
        return "warc"
    view = sniff_view(head)
    if view is None:
        return "binary"
    hint = _extension_hint(path)
    if _looks_like_jsonl(view, hint):
        return "jsonl"
    if looks_like_html(view, hint):
        return "html"
    return "text"


def sniff_view(head: bytes) -> str | None:
    """The head as text good enough for markup tests; None if it has NULs and no UTF-16/32 BOM."""
    encoding = bom_encoding(head)
    if encoding and encoding != "utf-8-sig":
        return head.decode(encoding, errors="replace")
    if b"\0" in head:
        return None
    return head.removeprefix(codecs.BOM_UTF8).decode("latin-1")


def _extension_hint(path: str) -> str | None:
    name = path.lower().removesuffix(".gz")
    for suffixes, kind in (
        ((".warc",), "warc"),
        ((".jsonl", ".ndjson"), "jsonl"),
        ((".html", ".htm", ".xhtml"), "html"),
        ((".txt",), "text"),
    ):
        if name.endswith(suffixes):
            return kind
    return None


def _looks_like_jsonl(view: str, hint: str | None) -> bool:
    """The first non-empty line is a JSON object (or starts like one in a `.jsonl` file)."""
    first = next((line.strip() for line in view.split("\n") if line.strip()), "")
    if not first.startswith("{"):
        return False
    if hint == "jsonl":
        return True
    try:
        return isinstance(json.loads(first), dict)
    except (ValueError, RecursionError):
        return False


def looks_like_html(view: str, hint: str | None) -> bool:
    if _HTML_START.match(view) or _HTML_MARKER.search(view):
        return True
    return hint == "html" and view.lstrip().startswith("<")
