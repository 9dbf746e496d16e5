"""Bytes to text: byte-order marks, declared charsets, valid and mostly-valid UTF-8, then detection.

Pure functions on bytes, used by the capture readers; the order of the attempts is how browsers and
real pages behave, documented function by function.
"""

from __future__ import annotations

import codecs
import re
import unicodedata

from charset_normalizer import from_bytes

_UNICODE_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def bom_encoding(data: bytes) -> str | None:
    """The encoding a byte-order mark at the start of ``data`` names, else None."""
    return next((encoding for bom, encoding in _UNICODE_BOMS if data.startswith(bom)), None)


_CHARSET_DECLARATION = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([\w:.+-]+)", re.IGNORECASE)
_CONTENT_TYPE_CHARSET = re.compile(r"charset\s*=\s*[\"']?\s*([\w:.+-]+)", re.IGNORECASE)
# Labels browsers decode as a superset (WHATWG Encoding Standard); pages rely on that.
_CHARSET_ALIASES = {
    **dict.fromkeys(
        ("iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "us-ascii", "ascii", "cp819", "x-cp1252"),
        "cp1252",
    ),
    **dict.fromkeys(
        ("shift_jis", "shift-jis", "sjis", "x-sjis", "ms_kanji", "csshiftjis", "windows-31j"), "cp932"
    ),
    **dict.fromkeys(("gb2312", "gbk", "x-gbk", "gb_2312-80", "csgb2312"), "gb18030"),
    **dict.fromkeys(("euc-kr", "ks_c_5601-1987", "windows-949"), "cp949"),
    "iso-8859-9": "cp1254",
    "tis-620": "cp874",
}


def decode_html(body: bytes, declared: str | None, prescan_bytes: int, min_utf8_share: float) -> str | None:
    """Decode a page: BOM, valid UTF-8, the declared charset, `<meta>`, mostly UTF-8, then a guess.

    Valid UTF-8 goes before any declaration: text in a legacy charset with a few non-ASCII bytes is
    practically never valid UTF-8, while pages that declare Latin-1 and hold UTF-8 are common.
    Returns None when nothing decodes.
    """
    bom = bom_encoding(body)
    candidates = [bom] if bom else []
    candidates += [_utf8_first(body), _normalise_charset(declared),
                   _meta_charset(body[:prescan_bytes]), "utf-8"]
    for encoding in candidates:
        text = _strict_decode(body, encoding)
        if text is not None:
            return text
    return _mostly_utf8(body, min_utf8_share) or _guess_decode(body)


def decode_text(body: bytes, min_utf8_share: float) -> str | None:
    """Decode plain text: BOM, then UTF-8, then mostly UTF-8, then a guess."""
    for encoding in (bom_encoding(body), "utf-8"):
        text = _strict_decode(body, encoding)
        if text is not None:
            return text
    return _mostly_utf8(body, min_utf8_share) or _guess_decode(body)


def _utf8_first(body: bytes) -> str | None:
    """UTF-8 ahead of declarations, but only for non-ASCII bytes without NULs.

    Pure ASCII may be a 7-bit charset (ISO-2022-JP) that only its declaration reveals; NULs mean
    UTF-16/32 declared without a BOM, which is also valid UTF-8.
    """
    return "utf-8" if not body.isascii() and b"\0" not in body else None


_ASCII = bytes(range(128))


def _as_cp1252(error: UnicodeDecodeError) -> tuple[str, int]:
    return error.object[error.start : error.end].decode("cp1252", errors="replace"), error.end


codecs.register_error("newsbeam-cp1252", _as_cp1252)


def _mostly_utf8(body: bytes, min_share: float) -> str | None:
    """UTF-8 with a few stray bytes (a character cut by a byte-counting CMS, a pasted Latin-1 quote).

    At least ``min_share`` of the non-ASCII bytes must be valid UTF-8; the stray ones are read as
    Windows-1252, which pasted legacy text nearly always is. Legacy CJK charsets form valid UTF-8 by
    chance for up to ~45% of their non-ASCII bytes (GBK), so they stay below the share.
    """
    non_ascii = len(body.translate(None, _ASCII))
    stray = len(body) - len(body.decode("utf-8", errors="ignore").encode("utf-8"))
    if not non_ascii or (non_ascii - stray) / non_ascii < min_share:
        return None
    return body.decode("utf-8", errors="newsbeam-cp1252")


def _strict_decode(body: bytes, encoding: str | None) -> str | None:
    if not encoding:
        return None
    try:
        return body.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def _guess_decode(body: bytes) -> str | None:
    best = from_bytes(body).best()
    return str(best) if best is not None else None


def _meta_charset(prescan: bytes) -> str | None:
    match = _CHARSET_DECLARATION.search(prescan)
    if not match:
        return None
    label = match.group(1).decode("ascii", errors="ignore")
    # A page that can declare itself in ASCII bytes is not UTF-16 (WHATWG: treat as UTF-8).
    return "utf-8" if label.lower().startswith("utf-16") else _normalise_charset(label)


def content_type_charset(content_type: str | None) -> str | None:
    match = _CONTENT_TYPE_CHARSET.search(content_type or "")
    return match.group(1) if match else None


def _normalise_charset(label: str | None) -> str | None:
    if not label:
        return None
    label = label.strip().lower()
    return _CHARSET_ALIASES.get(label, label)


def printable_ratio(text: str) -> float:
    """Share of characters that are not control codes, surrogates or unassigned.

    Not `str.isprintable`, which also refuses no-break and ideographic spaces that real news text has.
    """
    if not text:
        return 1.0
    unprintable = sum(
        1 for char in text if unicodedata.category(char) in ("Cc", "Cs", "Cn") and char not in "\t\n\r\f\v"
    )
    return 1 - unprintable / len(text)
