"""A non-editable install works away from the checkout: rule files ship inside the installed packages."""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import duckdb
import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures"
SHIPPED = ("pyproject.toml", "README.md", "pipeline", "transforms", "quality", "configs")


def _fresh_venv(folder: Path) -> Path:
    """A venv with newsbeam installed from a copy of the sources (``pip install .``, not editable).

    Its dependencies are this interpreter's: a ``.pth`` line puts their folder after the venv's own, so the
    newsbeam modules imported are the installed ones and nothing is downloaded but the build backend.
    """
    source = folder / "source"
    source.mkdir(parents=True)
    for name in SHIPPED:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(ROOT / name, source / name)
    venv = folder / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-deps", str(source)], check=True)
    Path(purelib, "newsbeam-test-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv


@pytest.mark.slow
def test_newsbeam_installed_from_a_wheel_runs_from_another_folder(tmp_path):
    venv = _fresh_venv(tmp_path / "install")
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "captures").mkdir(parents=True)
    shutil.copy(FIXTURES / "chip-plant.html", elsewhere / "captures")
    located = subprocess.run([str(venv / "bin" / "python"), "-c",
                              "import pipeline, configs; print(pipeline.__file__); print(configs.__file__)"],
                             cwd=elsewhere, capture_output=True, text=True, check=True).stdout.split()
    assert all(Path(path).is_relative_to(venv) for path in located)
    # A config of the user's extends a shipped one by name; neither is in the working folder's configs/.
    (elsewhere / "mine.yaml").write_text("extends: local.yaml\nentities:\n  enabled: false\n", encoding="utf-8")
    subprocess.run([str(venv / "bin" / "newsbeam"), "run", "--input", "captures", "--output", "out", "--quiet",
                    "--config", "mine.yaml"], cwd=elsewhere, check=True)
    rows = duckdb.sql(f"select title, section from read_parquet('{elsewhere / 'out'}/date=*/section=*/*.parquet', "
                      "hive_partitioning=true)").fetchall()
    assert len(rows) == 1 and all(rows[0])
