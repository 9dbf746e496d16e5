"""Run configs checked against ``configs/schema.yaml``: a misspelt key or a wrong type is refused, never ignored.

A config merged over another keeps every key of the base, so a misspelt key (``enabeld: false``) would
otherwise leave the base value in force without a word. The schema is data, beside the configs it
describes; this module only reads it.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import yaml

from pipeline.arguments import did_you_mean

SCHEMA = Path(__file__).resolve().parent.parent / "configs" / "schema.yaml"
_ONE_OF = re.compile(r"one of:\s*(.+)")


@cache
def _schema() -> dict:
    with open(SCHEMA, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def schema_problems(data: object, part: str) -> list[str]:
    """Problems of ``data`` against the schema's ``part`` (``run`` or a rule file's key), each naming the key path."""
    return _check(data, _schema()[part], "")


def _check(value: object, expected: object, where: str) -> list[str]:
    if isinstance(expected, dict):
        if not isinstance(value, dict):
            return [f"{where or 'the file'}: expected a mapping, got {_kind(value)}"]
        problems = []
        for key, item in value.items():
            path = f"{where}.{key}" if where else str(key)
            if key in expected:
                problems += _check(item, expected[key], path)
            elif "*" in expected:
                problems += _check(item, expected["*"], path)
            else:
                hint = did_you_mean(str(key), [str(k) for k in expected])
                problems.append(f"{path}: unknown key{hint}; allowed here: {', '.join(map(str, expected))}")
        return problems
    return _check_leaf(value, str(expected), where)


def _check_leaf(value: object, expected: str, where: str) -> list[str]:
    if expected.endswith("?"):
        return [] if value is None else _check_leaf(value, expected[:-1], where)
    if expected.startswith("list of "):
        if not isinstance(value, list):
            return [f"{where}: expected a list, got {_kind(value)}"]
        return [problem for i, item in enumerate(value) for problem in _check_leaf(item, expected[8:], f"{where}[{i}]")]
    if expected.startswith("map of "):
        if not isinstance(value, dict):
            return [f"{where}: expected a mapping, got {_kind(value)}"]
        return [problem for key, item in value.items() for problem in _check_leaf(item, expected[7:], f"{where}.{key}")]
    if one_of := _ONE_OF.fullmatch(expected):
        allowed = [choice.strip() for choice in one_of[1].split(",")]
        if value in allowed:
            return []
        hint = did_you_mean(str(value), allowed)
        return [f"{where}: {value!r} is not allowed{hint}; allowed: {', '.join(allowed)}"]
    if _TYPES[expected](value):
        return []
    return [f"{where}: expected {expected}, got {_kind(value)} {value!r}"]


_TYPES = {
    "any": lambda value: True,
    "str": lambda value: isinstance(value, str),
    "bool": lambda value: isinstance(value, bool),
    "int": lambda value: isinstance(value, int) and not isinstance(value, bool),
    "number": lambda value: isinstance(value, int | float) and not isinstance(value, bool),
}


def _kind(value: object) -> str:
    return {dict: "a mapping", list: "a list", str: "text", bool: "true/false", type(None): "nothing (null)"}.get(
        type(value), type(value).__name__)
