"""Shared fixtures: the project's configs, loaded once per test session."""

from __future__ import annotations

import pytest

from pipeline.config import load_run_config
from transforms.furniture import compile_rules
from transforms.layout import LayoutRules
from transforms.sections import SectionIndex


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
