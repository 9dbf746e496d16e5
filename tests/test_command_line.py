"""The real ``newsbeam`` program run as a hurried user runs it: every mistake ends in the documented exit code,
one line naming the offending word, and nothing written; what looks like a mistake but is meant (an unquoted
glob, an output inside the input folder) does what was meant.

Refusals exit before Beam starts, so each costs one short process; the runs that need Beam share a module
fixture.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from multilingual import STORIES, write_captures

from pipeline.cli.options import EXIT_NOTHING_READ, EXIT_NOTHING_TO_DO, EXIT_OK, EXIT_USAGE, choose_workers

NEWSBEAM = Path(sys.executable).parent / "newsbeam"
REPO = Path(__file__).resolve().parent.parent
LOCAL = REPO / "configs" / "local.yaml"


def newsbeam(*args: object, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(NEWSBEAM), *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=900,
                          env={**os.environ, **env})


def tree(folder: Path) -> dict[str, int]:
    return {str(path.relative_to(folder)): path.stat().st_mtime_ns for path in folder.rglob("*")}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    """A folder as a user has it: captures, a file, some configs of their own (none of them valid for long)."""
    root = tmp_path_factory.mktemp("user")
    write_captures(root / "captures", kinds=("txt",))
    (root / "notes.txt").write_text("not a folder\n")
    configs = {
        "typo.yaml": f"extends: {LOCAL}\nentities: {{enabeld: false}}\n",
        "source.yaml": f"extends: {LOCAL}\ndates:\n  order: [record, sidecar, page_title]\n",
        "runner.yaml": f"extends: {LOCAL}\nbeam_options:\n  runner: FlinkRuner\n",
        "beam-typo.yaml": f"extends: {LOCAL}\nbeam_options:\n  paralelism: 2\n",
        "self.yaml": "extends: self.yaml\n",
        "missing-base.yaml": "extends: locall.yaml\n",
        "crlf.yaml": f"extends: {LOCAL}\r\nentities:\r\n  enabled: false\r\n",
        "crlf-typo.yaml": f"extends: {LOCAL}\r\nextraction:\r\n  min_word: 3\r\n",
        "quoted-number.yaml": f"extends: {LOCAL}\nextraction: {{min_words: '5'}}\n",
        "tabs.yaml": f"extends: {LOCAL}\nentities:\n\tenabled: false\n",
    }
    for name, text in configs.items():
        (root / name).write_bytes(text.encode("utf-8"))
    (root / "configs.d").mkdir()
    return root


REFUSALS = {
    # The mistakes.
    "misspelt --entities": (["--entites", "off"], EXIT_USAGE, ["--entites", "did you mean --entities?"]),
    "misspelt --fail-on-reject": (["--fial-on-reject"], EXIT_USAGE,
                                  ["--fial-on-reject", "did you mean --fail-on-reject?"]),
    "misspelt --since": (["--sinse", "2024-01-01"], EXIT_USAGE, ["--sinse", "did you mean --since?"]),
    "misspelt config key": (["--config", "typo.yaml"], EXIT_USAGE,
                            ["typo.yaml", "entities.enabeld", "did you mean enabled?"]),
    "unknown date source": (["--config", "source.yaml"], EXIT_USAGE,
                            ["source.yaml", "dates.order[2]", "'page_title'", "allowed: record, sidecar"]),
    "misspelt runner in the config": (["--config", "runner.yaml"], EXIT_USAGE,
                                      ["runner.yaml", "FlinkRuner", "did you mean FlinkRunner?"]),
    # More a hurried user types.
    "misspelt Beam option": (["--job_endpiont=localhost:8099"], EXIT_USAGE, ["did you mean --job_endpoint?"]),
    "misspelt Beam option in the config": (["--config", "beam-typo.yaml"], EXIT_USAGE,
                                           ["beam-typo.yaml", "paralelism (did you mean parallelism?)"]),
    "misspelt runner": (["--runner", "SparkRuner"], EXIT_USAGE, ["SparkRuner", "did you mean SparkRunner?"]),
    "Beam option with a bad value": (["--direct_num_workers=two"], EXIT_USAGE, ["--direct_num_workers", "'two'"]),
    "workers as a word": (["--workers", "four"], EXIT_USAGE, ["--workers", "'four'"]),
    "no workers": (["--workers", "0"], EXIT_USAGE, ["--workers", "must be 1 or more"]),
    "date in the wrong format": (["--since", "2024-31-12"], EXIT_USAGE, ["--since", "2024-31-12"]),
    "entities maybe": (["--entities", "yes"], EXIT_USAGE, ["--entities", "'yes'"]),
    "config extends itself": (["--config", "self.yaml"], EXIT_USAGE, ["self.yaml", "loops back"]),
    "config extends a missing file": (["--config", "missing-base.yaml"], EXIT_USAGE, ["looked for", "locall.yaml"]),
    "config key misspelt, Windows line endings": (["--config", "crlf-typo.yaml"], EXIT_USAGE,
                                                  ["extraction.min_word", "did you mean min_words?"]),
    "number in quotes": (["--config", "quoted-number.yaml"], EXIT_USAGE, ["extraction.min_words", "expected int"]),
    "tabs in a config": (["--config", "tabs.yaml"], EXIT_USAGE, ["tabs.yaml", "not valid YAML, line 3, column 1"]),
    "a folder as the config": (["--config", "configs.d"], EXIT_USAGE, ["configs.d"]),
}


@pytest.mark.parametrize("extra, code, phrases", REFUSALS.values(), ids=REFUSALS.keys())
def test_mistake_is_refused_with_one_line_and_nothing_written(workspace, extra, code, phrases):
    before = tree(workspace)
    result = newsbeam("run", "--input", "captures", "--output", "out", *extra, cwd=workspace)
    assert (result.returncode, result.stdout) == (code, ""), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert all(phrase in result.stderr for phrase in phrases), result.stderr
    assert tree(workspace) == before


PATH_MISTAKES = {
    "input path that does not exist": (["--input", "captres", "--output", "out"], EXIT_NOTHING_READ,
                                       ["input path does not exist: captres"]),
    "glob that matches nothing": (["--input", "captures/*.htm", "--output", "out"], EXIT_NOTHING_READ,
                                  ["no capture file matches captures/*.htm"]),
    "one of several inputs missing": (["--input", "captures", "more-captures", "--output", "out"], EXIT_NOTHING_READ,
                                      ["does not exist: more-captures"]),
    "output is a file": (["--input", "captures", "--output", "notes.txt"], EXIT_USAGE, ["notes.txt is a file"]),
    "output on a read-only path": (["--input", "captures", "--output", "/sys/newsbeam-out"], EXIT_USAGE,
                                   ["cannot create the output folder /sys/newsbeam-out"]),
    "input inside the output": (["--input", "captures/ja-story.txt", "--output", "."], EXIT_USAGE,
                                ["captures/ja-story.txt is inside the output folder"]),
    "input and output the same": (["--input", "captures", "--output", "captures"], EXIT_USAGE,
                                  ["is inside the output folder"]),
    "stray word after the output": (["--input", "captures", "--output", "out", "captures/ja-story.txt"], EXIT_USAGE,
                                    ["unexpected argument 'captures/ja-story.txt'", "quote a glob"]),
    "log level after the command, missing input": (["--input", "nothing-here", "--output", "out", "--log-level",
                                                    "debug"], EXIT_NOTHING_READ, ["nothing-here"]),
    "config with Windows line endings, missing input": (["--input", "nothing-here", "--output", "out", "--config",
                                                         "crlf.yaml"], EXIT_NOTHING_READ, ["nothing-here"]),
}


@pytest.mark.parametrize("args, code, phrases", PATH_MISTAKES.values(), ids=PATH_MISTAKES.keys())
def test_path_mistake_is_named_and_leaves_no_output_folder_or_run_record(workspace, args, code, phrases):
    before = tree(workspace)
    result = newsbeam("run", *args, cwd=workspace)
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr and all(phrase in result.stderr for phrase in phrases), result.stderr
    assert tree(workspace) == before


@pytest.mark.parametrize("args, phrase", [
    (["rnu", "--input", "captures"], "invalid choice: 'rnu'"),
    (["report", "--output", "out", "--hmtl", "r.html"], "unrecognized argument --hmtl (did you mean --html?)"),
    (["sql", "--output", "out", "select 1"], "no output folder at out"),
    (["sql", "--output", "out", "--mode", "table", "select 1"], "invalid choice: 'table'"),
    (["stream", "--watch", "captures", "--output", "out", "--intervall", "5s"], "did you mean --interval?"),
])
def test_other_commands_refuse_what_they_do_not_know(workspace, args, phrase):
    before = tree(workspace)
    result = newsbeam(*args, cwd=workspace)
    assert result.returncode == EXIT_USAGE and phrase in result.stderr, result.stderr
    assert tree(workspace) == before


def test_version_names_the_installed_package(workspace):
    result = newsbeam("--version", cwd=workspace)
    assert result.returncode == 0 and result.stdout.startswith("newsbeam ") and result.stdout.split()[1][0].isdigit()


def test_make_install_puts_newsbeam_on_a_path(tmp_path):
    subprocess.run(["make", "-s", "install", f"BINDIR={tmp_path}", f"PYTHON={sys.executable}"], cwd=REPO,
                   check=True, capture_output=True)
    result = subprocess.run(["newsbeam", "--version"], capture_output=True, text=True,
                            env={**os.environ, "PATH": f"{tmp_path}:/usr/bin:/bin"})
    assert result.returncode == 0 and result.stdout.startswith("newsbeam ")


# --- runs that need Beam -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def expanded_glob_run(tmp_path_factory) -> dict:
    """``newsbeam run --input captures/* --output out``, unquoted: the shell hands every path (sidecars too)
    to newsbeam. Captures of eight languages in all five kinds."""
    root = tmp_path_factory.mktemp("glob")
    expected = write_captures(root / "captures")
    paths = sorted(str(path.relative_to(root)) for path in (root / "captures").iterdir())
    result = newsbeam("run", "--input", *paths, "--output", "out", "--entities", "off", cwd=root)
    return {"root": root, "expected": expected, "result": result}


def sql(output: Path, query: str, *options: str, **env: str) -> subprocess.CompletedProcess:
    return newsbeam("sql", "--output", output, *options, query, cwd=output.parent, **env)


def test_unquoted_glob_reads_every_path_and_every_language_survives(expanded_glob_run):
    result, root = expanded_glob_run["result"], expanded_glob_run["root"]
    assert result.returncode == EXIT_OK, result.stderr
    assert "Unparseable" not in result.stderr
    rows = json.loads(sql(root / "out", "select source_uri, language from articles", "--mode", "json").stdout)
    found = {Path(row["source_uri"].split("#")[0]).name: row["language"] for row in rows}
    assert found == expanded_glob_run["expected"]
    assert len(found) == len(STORIES) * 5
    rejected = sql(root / "out", "select count(*) from rejected", "--mode", "csv").stdout.split()
    assert rejected == ["count_star()", "0"]


def test_workers_follow_the_input_size_up_to_the_cores():
    assert [choose_workers(files, 200, cores=8) for files in (1, 40, 399, 400, 1000, 100_000)] == [1, 1, 1, 2, 5, 8]


def test_workers_default_is_chosen_by_input_size_and_logged(expanded_glob_run):
    stderr = expanded_glob_run["result"].stderr
    assert "1 worker process for 40 files to read" in stderr, stderr


def test_sql_shows_every_column_on_an_80_column_terminal(expanded_glob_run):
    output = expanded_glob_run["root"] / "out"
    columns = sql(output, "select * from articles limit 0", "--mode", "csv").stdout.strip().split(",")
    shown = sql(output, "select * from articles where language = 'he' and source_uri like '%.html'", COLUMNS="80")
    assert shown.returncode == 0
    names = [line.split(" = ")[0].strip() for line in shown.stdout.splitlines() if " = " in line]
    assert names == columns and len(columns) > 20


def test_closed_pipe_ends_quietly(expanded_glob_run):
    output = expanded_glob_run["root"] / "out"
    process = subprocess.Popen([str(NEWSBEAM), "sql", "--output", str(output), "--csv",
                                "select * from range(1000000)"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout.readline() == b"range\n"
    process.stdout.close()  # what `| head -1` does once it has its line
    assert process.wait(timeout=120) == 141
    assert process.stderr.read() == b""


def test_shell_supports_mode_and_names_what_it_does_not_support(expanded_glob_run):
    output = expanded_glob_run["root"] / "out"
    script = ".mode line\nselect language, count(*) as n from articles where language = 'th' group by all;\n.timer on\n"
    result = subprocess.run([str(NEWSBEAM), "shell", "--output", str(output)], input=script, capture_output=True,
                            text=True, timeout=120)
    assert "language = th\n       n = 5" in result.stdout
    assert result.returncode == 1 and ".timer is not supported here; supported: .tables" in result.stderr


@pytest.fixture(scope="module")
def output_inside_input(tmp_path_factory) -> dict:
    """Two runs with the output folder inside the input folder: the second re-reads every input file."""
    root = tmp_path_factory.mktemp("inside")
    write_captures(root / "captures", kinds=("txt", "html"))
    args = ["run", "--input", "captures", "--output", "captures/out", "--entities", "off"]
    first = newsbeam(*args, cwd=root)
    second = newsbeam(*args, "--reprocess", cwd=root)
    return {"root": root, "first": first, "second": second, "args": args}


def test_output_inside_the_input_folder_is_never_read_back(output_inside_input):
    root = output_inside_input["root"]
    assert (output_inside_input["first"].returncode, output_inside_input["second"].returncode) == (0, 0)
    assert "left out of the input" in output_inside_input["second"].stderr
    records = [json.loads(path.read_text()) for path in sorted((root / "captures/out/_runs").glob("*.json"))]
    assert [record["files_listed"] for record in records] == [len(STORIES) * 2] * 2
    counts = sql(root / "captures/out", "select (select count(*) from articles), (select count(*) from rejected), "
                 "(select count(*) from articles where source_uri like '%/out/%')", "--mode", "csv").stdout
    assert counts.splitlines()[1] == f"{len(STORIES) * 2},0,0"


def test_nothing_new_says_why_and_a_scheduler_can_take_it_as_success(output_inside_input):
    root, args = output_inside_input["root"], output_inside_input["args"]
    again = newsbeam(*args, cwd=root)
    assert again.returncode == EXIT_NOTHING_TO_DO
    assert "nothing to do: all 16 input files are committed already" in again.stderr
    assert "--reprocess" in again.stderr and "--nothing-new-ok" in again.stderr
    assert newsbeam(*args, "--nothing-new-ok", cwd=root).returncode == EXIT_OK


def test_bad_config_is_refused_even_when_there_is_nothing_new(output_inside_input, workspace):
    root, args = output_inside_input["root"], output_inside_input["args"]
    before = tree(root)
    result = newsbeam(*args, "--config", workspace / "runner.yaml", cwd=root)
    assert result.returncode == EXIT_USAGE and "FlinkRuner" in result.stderr
    assert tree(root) == before
