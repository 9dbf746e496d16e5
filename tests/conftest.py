"""Shared fixtures: the project's configs, loaded once per test session."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.config import load_run_config
from transforms.furniture import compile_rules
from transforms.layout import LayoutRules
from transforms.sections import SectionIndex


@pytest.fixture(scope="session", autouse=True)
def _own_cache_dir(tmp_path_factory) -> None:
    """Tests (and the runs they start) keep built gazetteers in a folder of their own, not the user's."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NEWSBEAM_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        yield


@pytest.fixture(scope="session", autouse=True)
def _own_temp_dir(tmp_path_factory) -> None:
    """Temporary files of the session (and of the processes it starts) go below pytest's own base folder,
    which pytest prunes: a Beam pipeline that is built but never run leaves its empty temp folder."""
    folder = tmp_path_factory.mktemp("tmp")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TMPDIR", str(folder))
        patch.setattr(tempfile, "tempdir", str(folder))
        yield


@pytest.fixture(scope="session")
def run_config() -> dict:
    return load_run_config()


@pytest.fixture(scope="session")
def sections(run_config) -> SectionIndex:
    return SectionIndex.from_config(run_config["sections"])


@pytest.fixture(scope="session")
def layout_rules(run_config, sections) -> LayoutRules:
    boilerplate = run_config["boilerplate"]
    return LayoutRules.from_config(boilerplate, compile_rules(boilerplate["furniture"]), sections)


@pytest.fixture(scope="session")
def demo_output(tmp_path_factory) -> Path:
    """The output of ``make demo``: samples/build_samples.py, then a real run over the sample captures.

    The captures are copied below pytest's temporary folder first, so the tests never write into the checkout.
    Built once per session: the tests that use it only read it (or add a report or views file beside it).
    """
    samples = Path(__file__).resolve().parent.parent / "samples"
    captures = tmp_path_factory.mktemp("samples") / "captures"
    shutil.copytree(samples / "captures", captures, ignore=shutil.ignore_patterns("crawl.warc.gz", "feed.jsonl"))
    subprocess.run([sys.executable, str(samples / "build_samples.py"), str(captures)], check=True,
                   capture_output=True)
    output = tmp_path_factory.mktemp("demo")
    assert main(["run", "--input", str(captures), "--output", str(output), "--quiet"]) == 0
    return output
