"""Run configuration: one YAML file naming the rule files beside it, loaded into one plain dict.

The dict is what travels to workers (it pickles small); each worker compiles it in ``DoFn.setup``.

A config may start from another (``extends: local.yaml``): mappings merge key by key, anything else
in the extending file replaces the base value, and each file's rule-file names stay relative to the
file that names them, so a cluster config shares the local rules without copying them. A config may
also carry Beam pipeline options (``beam_options:``, Beam's flag names without ``--``); the command
line overrides them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from importlib import metadata, resources
from pathlib import Path

import yaml
from apache_beam.options.pipeline_options import PipelineOptions

CONFIG_DIR = Path(str(resources.files("configs")))  # the configs installed with newsbeam
DEFAULT_CONFIG = CONFIG_DIR / "local.yaml"
# Keys of the run config that name another YAML file; it is loaded in place of the name, so workers get
# the rules with the pipeline and never open a path that exists only where the job was submitted.
_INCLUDED = ("boilerplate", "sections", "agencies", "dateline", "gazetteer", "read")


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
        cfg[key] = _read_yaml(Path(cfg[key]))
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
    parsed = PipelineOptions(flags)
    unknown = set(parsed.get_all_options(retain_unknown_options=True)) - set(parsed.get_all_options())
    if unknown:
        raise ValueError(f"unknown beam option(s): {', '.join(sorted(unknown))}")
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
    except ValueError as error:
        raise ConfigError(f"{path}: {error}") from error
    return options


def _read_layered(path: Path, chain: tuple[Path, ...]) -> dict:
    """One config file merged over the configs it extends; rule-file names resolved against their file."""
    if path in chain:
        raise ConfigError(f"{path}: 'extends' loops back ({' -> '.join(str(p) for p in (*chain, path))})")
    cfg = _read_yaml(path)
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


def _read_yaml(path: Path) -> dict:
    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
    except OSError as error:
        raise ConfigError(f"cannot read config {path}: {error.strerror}") from error
    except yaml.YAMLError as error:
        raise ConfigError(f"{path} is not valid YAML: {error}") from error
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    return data
