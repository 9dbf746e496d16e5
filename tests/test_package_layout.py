"""The package layout: imports run one way between the folders of ``pipeline``, and importing changes nothing."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Folder (or top-level package) -> the parts of newsbeam its modules may import besides itself and ``transforms``.
MAY_IMPORT = {
    "pipeline.cli": {"pipeline.analyst", "pipeline.graph", "pipeline.output", "pipeline.captures",
                     "pipeline.runtime", "pipeline.config", "quality"},
    "pipeline.analyst": {"pipeline.output", "pipeline.config"},
    "pipeline.graph": {"pipeline.output", "pipeline.captures", "pipeline.runtime", "pipeline.config"},
    "pipeline.output": {"pipeline.captures", "pipeline.config"},
    "pipeline.captures": set(),
    "pipeline.runtime": set(),
    "pipeline.config": set(),
    "quality": {"pipeline.captures", "pipeline.config"},
    "transforms": set(),
    "pipeline": set(),  # the root package: a docstring
}


def _part(module: str) -> str | None:
    """The entry of MAY_IMPORT a dotted module name belongs to (None for a library)."""
    return next((part for part in sorted(MAY_IMPORT, key=len, reverse=True)
                 if module == part or module.startswith(part + ".")), None)


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _modules() -> dict[str, Path]:
    paths = [*ROOT.glob("pipeline/**/*.py"), *ROOT.glob("transforms/**/*.py"), *ROOT.glob("quality/**/*.py")]
    return {".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"): p for p in paths}


def test_imports_run_one_way_between_the_folders():
    crossings = []
    for module, path in _modules().items():
        own = _part(module)
        allowed = {own, "pipeline", "transforms", *MAY_IMPORT[own]}
        for name in _imports(path):
            target = _part(name)
            if target is not None and target not in allowed:
                crossings.append(f"{module} imports {name}")
    assert crossings == []


def test_only_the_eval_command_imports_quality():
    importers = {module for module, path in _modules().items() if not module.startswith("quality")
                 and any(_part(name) == "quality" for name in _imports(path))}
    assert importers == {"pipeline.cli.eval"}


def test_commands_do_not_import_each_other():
    shared = {"pipeline.cli.options", "pipeline.cli.session", "pipeline.cli.__main__"}
    commands = {m for m in _modules() if m.startswith("pipeline.cli.")} - shared
    crossings = [f"{m} imports {name}" for m in commands for name in _imports(_modules()[m])
                 if any(name == c or name.startswith(c + ".") for c in commands - {m})]
    assert crossings == []


_IMPORT_EVERYTHING = """
import importlib, logging, os, pkgutil, sys
import pipeline
before_env, before_filters = dict(os.environ), list(logging.getLogger().filters)
for info in pkgutil.walk_packages(pipeline.__path__, "pipeline."):
    if not info.name.endswith("__main__"):
        importlib.import_module(info.name)
changed = sorted(k for k in {*before_env, *os.environ} if before_env.get(k) != os.environ.get(k))
print(changed, len(logging.getLogger().filters) - len(before_filters))
"""


def test_importing_any_module_leaves_the_process_environment_and_root_logger_alone(tmp_path):
    env = {k: v for k, v in __import__("os").environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    shown = subprocess.run([sys.executable, "-c", _IMPORT_EVERYTHING], cwd=tmp_path, env=env,
                           capture_output=True, text=True, check=True).stdout
    assert shown.split() == ["[]", "0"]
