"""Which paths are capture files, how a file's path is written in ``source_uri``, and back.

A ``source_uri`` is the file's path with three kinds of character percent-escaped, so that any name the
filesystem can hold is stored as valid UTF-8 and read back exactly: ``%`` (``%25``), ``#`` (``%23``,
which keeps ``#line=``/``#offset=`` the only fragment) and every byte of the name that is not valid
UTF-8 (``%E9`` for a Latin-1 ``é``). Every other character is kept as it is, so most paths read the same.
"""

from __future__ import annotations

import posixpath
import re

_ESCAPED = re.compile(r"%([0-9A-F]{2})")


def is_capture_path(path: str) -> bool:
    """False for sidecars, partial downloads and hidden or underscore-prefixed files and directories.

    Underscore-prefixed *files* are skipped too (not only directories), following the Hadoop/Spark
    convention that `_SUCCESS` and `_temporary` are bookkeeping, not data.
    """
    parts = _path_parts(path)
    if not parts:
        return False
    *directories, name = parts
    lowered = name.lower()
    if name.startswith((".", "_")) or lowered.endswith((".meta.json", ".tmp", ".part")):
        return False
    return not any(part.startswith((".", "_")) for part in directories if part not in (".", ".."))


def is_within(path: str, folder: str) -> bool:
    """True when ``path`` is ``folder`` or lies below it (both absolute, or both URLs)."""
    folder = folder.rstrip("/")
    return path == folder or path.startswith(folder + "/")


def sidecar_paths(path: str) -> list[str]:
    """`a.html.gz` -> `a.html.gz.meta.json`, `a.html.meta.json`, `a.meta.json`: most specific first."""
    without_gz = path[:-3] if path.lower().endswith(".gz") else path
    stems = [path, without_gz, posixpath.splitext(without_gz)[0]]
    return list(dict.fromkeys(stem + ".meta.json" for stem in stems))


def file_uri(path: str) -> str:
    """``path`` (as the OS gives it: undecodable bytes as surrogates) in its reversible escaped form."""
    return "".join(_escape(char) for char in path)


def local_path(uri: str) -> str:
    """The path that ``file_uri`` escaped, as the OS takes it."""
    return _ESCAPED.sub(lambda match: _unescape(int(match[1], 16)), uri)


def _escape(char: str) -> str:
    if char in "%#":
        return f"%{ord(char):02X}"
    if "\udc80" <= char <= "\udcff":  # a byte that is not UTF-8, as os.fsdecode keeps it
        return f"%{ord(char) - 0xDC00:02X}"
    return char


def _unescape(byte: int) -> str:
    return chr(byte) if byte < 0x80 else chr(0xDC00 + byte)


def source_file(source_uri: str) -> str:
    """The input file a capture's ``source_uri`` points into (without ``#offset=``/``#line=``)."""
    path, separator, fragment = source_uri.rpartition("#")
    return path if separator and fragment.startswith(("offset=", "line=")) else source_uri


def _path_parts(path: str) -> list[str]:
    """Path components below the bucket for `scheme://bucket/...`, else all components."""
    _, separator, rest = path.partition("://")
    rest = rest.partition("/")[2] if separator else path
    return [part for part in rest.split("/") if part]
