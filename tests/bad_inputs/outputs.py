"""What the robustness tests read back from an output folder, through DuckDB as an analyst would."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import yaml

from pipeline.config import CONFIG_DIR
from pipeline.output.schema import ARTICLE_GLOB, REJECTED_GLOB

# Columns that differ between two runs over the same input by design; everything else must be equal.
RUN_COLUMNS = ("run_id", "rejected_at", "rejection_id")


def config_copy(folder: Path, **read_limits: int) -> Path:
    """A copy of the default configs with some `read.yaml` limits changed; returns its `local.yaml`."""
    shutil.copytree(CONFIG_DIR, folder)
    read = yaml.safe_load((folder / "read.yaml").read_text())
    read["read"].update(read_limits)
    (folder / "read.yaml").write_text(yaml.safe_dump(read))
    return folder / "local.yaml"


def glob_files(output: Path, glob: str) -> list[str]:
    """Every file DuckDB's own glob matches (its ``*`` also matches dot-files, unlike the shell's)."""
    return sorted(row[0] for row in duckdb.sql(f"select file from glob('{output}/{glob}')").fetchall())


def article_rows(output: Path) -> list[dict]:
    """Every article row with its partition columns, without run columns, in a stable order."""
    return _rows(f"read_parquet('{output}/{ARTICLE_GLOB}', hive_partitioning=true)", output, ARTICLE_GLOB)


def rejected_rows(output: Path) -> list[dict]:
    """Every dead-letter row without run columns, in a stable order."""
    return _rows(f"read_parquet('{output}/{REJECTED_GLOB}')", output, REJECTED_GLOB)


def _rows(source: str, output: Path, glob: str) -> list[dict]:
    if not glob_files(output, glob):
        return []
    relation = duckdb.sql(f"select * exclude ({', '.join(_present(source, RUN_COLUMNS))}) from {source}")
    rows = [dict(zip(relation.columns, values, strict=True)) for values in relation.fetchall()]
    return sorted(rows, key=lambda row: (row["source_uri"], repr(sorted(row.items()))))


def _present(source: str, columns: tuple[str, ...]) -> list[str]:
    names = set(duckdb.sql(f"select * from {source} limit 0").columns)
    return [column for column in columns if column in names]
