"""Run configuration: one YAML file naming the rule files beside it, loaded into one plain dict.

The dict is what travels to workers (it pickles small); each worker compiles it in ``DoFn.setup``.

A config may start from another (``extends: local.yaml``): mappings merge key by key, anything else
in the extending file replaces the base value, and each file's rule-file names stay relative to the
file that names them, so a cluster config shares the local rules without copying them. A config may
also carry Beam pipeline options (``beam_options:``, Beam's flag names without ``--``); the command
line overrides them.
"""

from __future__ import annotations

import difflib
import importlib
import json
import re
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import metadata, resources
from pathlib import Path

import yaml
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions, _BeamArgumentParser

CONFIG_DIR = Path(str(resources.files("configs")))  # the configs installed with newsbeam
DEFAULT_CONFIG = CONFIG_DIR / "local.yaml"
# Keys of the run config that name another YAML file; it is loaded in place of the name, so workers get
# the rules with the pipeline and never open a path that exists only where the job was submitted.
_INCLUDED = ("boilerplate", "sections", "agencies", "dateline", "gazetteer", "entity_rules", "read")
# libyaml's safe loader reads the same documents about ten times faster than the pure-Python one, whose
# parsing of the shipped rule files is a noticeable share of a short run's start-up.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class ConfigError(ValueError):
    """A run configuration that cannot be used; the message names the file and the problem."""


def pipeline_version() -> str:
    try:
        return metadata.version("newsbeam")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def load_run_config(path: str | Path | None = None) -> dict:
    """Load a run config, the configs it extends and the rule files they name."""
    path = shipped_or_given(Path(path)) if path else DEFAULT_CONFIG
    cfg = _read_layered(path.resolve(), ())
    for key in _INCLUDED:
        if key not in cfg:
            raise ConfigError(f"{path}: missing key {key!r} (the file of {key} rules)")
        cfg[key] = _read_yaml(Path(cfg[key]), schema=key)
    cfg["beam_options"] = _checked_beam_options(cfg.get("beam_options"), path)
    return cfg


def load_beam_options(path: str | Path | None = None) -> dict:
    """Only the ``beam_options`` of a run config (after ``extends``), without loading any rule file."""
    path = shipped_or_given(Path(path)) if path else DEFAULT_CONFIG
    return _checked_beam_options(_read_layered(path.resolve(), ()).get("beam_options"), path)


def shipped_or_given(path: Path, beside: Path | None = None) -> Path:
    """``path`` (relative to ``beside`` or the working folder) when it exists, else the shipped config of that name.

    So ``--config configs/flink.yaml`` and ``extends: local.yaml`` work from any folder with an installed
    newsbeam, while a file of the user's always wins over a shipped one.
    """
    given = (beside / path) if beside is not None else path
    if given.exists() or path.is_absolute():
        return given
    shipped = CONFIG_DIR / (path.relative_to("configs") if path.parts[:1] == ("configs",) else path)
    return shipped if shipped.is_file() else given


def beam_flags(options: Mapping[str, object]) -> list[str]:
    """Beam command-line flags for a ``beam_options`` mapping; an option Beam does not know is an error.

    ``true`` is a bare flag and a list repeats the flag; ``false`` is refused rather than silently
    dropped (write the flag that turns the option off, e.g. ``no_use_public_ips: true``).
    """
    flags = []
    for name, value in options.items():
        if value is False:
            raise ValueError(f"beam option {name}: false has no flag; use the option that turns it off")
        values = value if isinstance(value, list) else [value]
        flags += [f"--{name}" if item is True else f"--{name}={_flag_value(item)}" for item in values]
    unknown = [word.split("=", 1)[0].removeprefix("--") for word in unknown_beam_options(flags)]
    if unknown:
        named = [name + did_you_mean(f"--{name}", beam_option_names()).replace("--", "") for name in unknown]
        raise ValueError(f"unknown beam option(s): {', '.join(named)}; options only the engine knows go in "
                         "the command's --engine-flag, or a stream config's runner_flags")
    return flags


def _flag_value(value: object) -> str:
    return json.dumps(value) if isinstance(value, dict) else str(value)


def _checked_beam_options(options: object, path: Path) -> dict:
    """The ``beam_options`` mapping with unset (``null``) entries dropped, validated against Beam."""
    if options is None:
        return {}
    if not isinstance(options, dict):
        raise ConfigError(f"{path}: beam_options must be a mapping of Beam option names to values")
    options = {name: value for name, value in options.items() if value is not None}
    try:
        beam_flags(options)
        if "runner" in options:
            check_runner(str(options["runner"]))
    except ValueError as error:
        raise ConfigError(f"{path}: {error}") from error
    return options


def _read_layered(path: Path, chain: tuple[Path, ...]) -> dict:
    """One config file merged over the configs it extends; rule-file names resolved against their file."""
    if path in chain:
        raise ConfigError(f"{path}: 'extends' loops back ({' -> '.join(str(p) for p in (*chain, path))})")
    if chain and not path.is_file():
        raise ConfigError(f"{chain[-1]}: extends a config that is not there: looked for {path} (a relative name "
                          "is taken from the folder of the extending file)")
    cfg = _read_yaml(path, schema="run")
    for key in _INCLUDED:
        if isinstance(cfg.get(key), str):
            cfg[key] = str((path.parent / cfg[key]).resolve())
    base = cfg.pop("extends", None)
    if base is None:
        return cfg
    if not isinstance(base, str):
        raise ConfigError(f"{path}: extends must name one config file")
    return _merge(_read_layered(shipped_or_given(Path(base), path.parent).resolve(), (*chain, path)), cfg)


def _merge(base: dict, override: dict) -> dict:
    """``override`` over ``base``: nested mappings merge, every other value replaces."""
    merged = dict(base)
    for key, value in override.items():
        both_mappings = isinstance(value, dict) and isinstance(base.get(key), dict)
        merged[key] = _merge(base[key], value) if both_mappings else value
    return merged


def _safe_yaml(handle) -> object:
    """The one YAML document in ``handle``, read by a safe loader (plain data only: no tags run code)."""
    loader = _SAFE_LOADER(handle)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def _read_yaml(path: Path, schema: str) -> dict:
    """A YAML file holding a mapping, checked against the part ``schema`` of ``configs/schema.yaml``."""
    try:
        with open(path, encoding="utf-8-sig") as handle:  # a byte-order mark, as Windows editors write, is not data
            data = _safe_yaml(handle)
    except OSError as error:
        raise ConfigError(f"cannot read config {path}: {error.strerror}") from error
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(f"{path} is not valid YAML{where}: {error.problem}") from error
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path} is not valid YAML: {error}") from error
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    if problems := schema_problems(data, schema):
        raise ConfigError(f"{path}: {'; '.join(problems)}")
    return data


def did_you_mean(word: str, known: Iterable[str]) -> str:
    """`` (did you mean x?)`` for the closest of ``known`` to ``word``, or ``""``."""
    close = difflib.get_close_matches(word, sorted(set(known)), n=1, cutoff=0.7)
    return f" (did you mean {close[0]}?)" if close else ""


class _RefusingParser(_BeamArgumentParser):
    """Beam's option parser, raising on a bad value instead of printing usage and exiting."""

    def error(self, message: str):
        raise ValueError(message)


@cache
def _beam_parser() -> _RefusingParser:
    """A parser of every pipeline option registered with Beam (as ``PipelineOptions.get_all_options``
    builds it): Beam's own, and those of runner modules imported so far."""
    parser = _RefusingParser(allow_abbrev=False, add_help=False)
    for cls in {str(cls): cls for cls in PipelineOptions.__subclasses__()}.values():
        cls._add_argparse_args(parser)  # the registry Beam itself reads
    return parser


def beam_option_names() -> list[str]:
    """``--flag`` names of every registered Beam pipeline option."""
    return [name for name in _beam_parser()._option_string_actions if name.startswith("--")]


def unknown_beam_options(flags: list[str]) -> list[str]:
    """The words of ``flags`` that are no registered Beam option nor an option's value; raises a ValueError
    for a known option with a bad value. (Beam's own parser only warns, and runs on.)"""
    try:
        return _beam_parser().parse_known_args(flags)[1]
    except ValueError as error:
        raise ValueError(f"Beam option: {error}") from None


def check_runner(name: str) -> None:
    """Raise a ValueError unless ``name`` is a runner Beam knows, or an importable runner class."""
    known = {runner.lower() for runner in StandardOptions.KNOWN_RUNNER_NAMES}
    if name.lower() in known or f"{name.lower()}runner" in known:
        return
    if "." in name:
        module, _, attribute = name.rpartition(".")
        try:
            if isinstance(getattr(importlib.import_module(module), attribute), type):
                return
        except (ImportError, AttributeError):
            pass
        raise ValueError(f"runner {name}: no such runner class could be imported")
    hint = did_you_mean(name, StandardOptions.KNOWN_RUNNER_NAMES)
    raise ValueError(f"unknown runner {name}{hint}; known: {', '.join(StandardOptions.KNOWN_RUNNER_NAMES)}")


# --- the schema (configs/schema.yaml): a misspelt key or a wrong type is refused, never ignored ---------------
# A config merged over another keeps every key of the base, so a misspelt key (``enabeld: false``) would
# otherwise leave the base value in force without a word.

_ONE_OF = re.compile(r"one of:\s*(.+)")


@cache
def _schema() -> dict:
    with open(CONFIG_DIR / "schema.yaml", encoding="utf-8") as handle:
        return _safe_yaml(handle)


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
