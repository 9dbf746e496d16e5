"""Run configuration: one YAML file naming the rule files beside it, loaded into one plain dict.

The dict is what travels to workers (it pickles small); each worker compiles it in ``DoFn.setup``.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import yaml

CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"
DEFAULT_CONFIG = CONFIG_DIR / "local.yaml"
# Keys of the run config that name another YAML file; it is loaded in place of the name.
_INCLUDED = ("boilerplate", "sections", "agencies", "dateline")
# Keys that name a file a component loads itself; the resolved path is kept under ``<key>_path``.
_PATHS = ("gazetteer", "read")


class ConfigError(ValueError):
    """A run configuration that cannot be used; the message names the file and the problem."""


def pipeline_version() -> str:
    try:
        return metadata.version("newsbeam")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def load_run_config(path: str | Path | None = None) -> dict:
    """Load a run config and the rule files it names (paths relative to the config's folder)."""
    path = Path(path) if path else DEFAULT_CONFIG
    cfg = _read_yaml(path)
    for key in _PATHS:
        if key in cfg:
            cfg[f"{key}_path"] = str((path.parent / cfg[key]).resolve())
    for key in _INCLUDED:
        if key not in cfg:
            raise ConfigError(f"{path}: missing key {key!r} (the file of {key} rules)")
        cfg[key] = _read_yaml(path.parent / cfg[key])
    return cfg


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
