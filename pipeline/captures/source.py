"""The limits a capture file is read under, and what every reader is told about the file it reads."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

if TYPE_CHECKING:
    from pipeline.captures.streams import Gunzip


@dataclass(frozen=True)
class ReadLimits:
    """Size and sniffing thresholds; documented defaults live in `configs/read.yaml`."""

    max_file_bytes: int
    max_decompressed_bytes: int
    max_capture_bytes: int
    sniff_bytes: int = 8192
    charset_prescan_bytes: int = 4096
    min_printable_ratio: float = 0.95
    max_sidecar_bytes: int = 65536
    min_utf8_share: float = 0.8
    max_future_capture_hours: float = 36
    min_capture_year: int = 1980

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if not value > 0:
                raise ValueError(f"read limit {item.name} must be positive, got {value!r}")


def load_read_limits(path: str | Path) -> ReadLimits:
    """Read the `read:` section of a YAML file (see `configs/read.yaml`); unknown keys are an error."""
    with open(path, encoding="utf-8") as handle:
        return read_limits(yaml.safe_load(handle))


def read_limits(settings: dict) -> ReadLimits:
    """The limits of a loaded `configs/read.yaml` (its `read:` section); unknown keys are an error."""
    return ReadLimits(**settings["read"])


@dataclass(frozen=True)
class Source:
    """What every per-kind reader needs to know about the file it reads."""

    path: str
    limits: ReadLimits
    mtime: datetime | None
    gunzip: Gunzip | None
    skips: Callable[[int], bool] | None = None  # positions read past unparsed (another part's, ``slices``)
