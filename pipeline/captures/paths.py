"""Which paths are capture files, and which file a capture's ``source_uri`` points into."""

from __future__ import annotations


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


def source_file(source_uri: str) -> str:
    """The input file a capture's ``source_uri`` points into (without ``#offset=``/``#line=``)."""
    path, separator, fragment = source_uri.rpartition("#")
    return path if separator and fragment.startswith(("offset=", "line=")) else source_uri


def _path_parts(path: str) -> list[str]:
    """Path components below the bucket for `scheme://bucket/...`, else all components."""
    _, separator, rest = path.partition("://")
    rest = rest.partition("/")[2] if separator else path
    return [part for part in rest.split("/") if part]
