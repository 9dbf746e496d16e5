"""The DuckDB views, ``views.sql``, the ``sql``/``shell`` commands and the docs' cookbook, on the demo output.

Expected results are computed here from the Parquet and JSON files with pyarrow and plain Python, never
through the views under test.
"""

from __future__ import annotations

import io
import json
import re
import shutil
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from pipeline.analyst.sql import StatementBuffer
from pipeline.cli import main
from pipeline.output.views import VIEW_NAMES, connect, write_views

README = Path(__file__).resolve().parent.parent / "README.md"
QUERYING = README.parent / "docs" / "querying.md"
DAY = date(2024, 5, 14)  # the day the cookbook's "one day's stories" query asks for


def article_rows(output: Path) -> list[dict]:
    """Every article row, with ``date`` and ``section`` taken from the partition folders."""
    rows = []
    for path in sorted(output.glob("date=*/section=*/*.parquet")):
        partition = {"date": date.fromisoformat(path.parent.parent.name.split("=", 1)[1]),
                     "section": path.parent.name.split("=", 1)[1]}
        rows += [row | partition for row in pq.read_table(path).to_pylist()]
    return rows


def rejected_rows(output: Path) -> list[dict]:
    return [row for path in sorted(output.glob("_rejected/*.parquet")) for row in pq.read_table(path).to_pylist()]


def run_summaries(output: Path) -> list[dict]:
    return [json.loads(path.read_text()) for path in sorted(output.glob("_runs/*.json"))]


def entity_rows(output: Path) -> list[tuple]:
    return [(row["article_id"], row["date"], e["canonical"], e["label"], e["count"])
            for row in article_rows(output) for e in row["entities"]]


def cookbook() -> dict[str, str]:
    """The cookbook's SQL blocks (docs/querying.md), keyed by their first-line comment (without any parenthesis)."""
    section = QUERYING.read_text(encoding="utf-8").split("## Cookbook", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sql\n(.*?)```", section, flags=re.S)
    return {block.splitlines()[0].removeprefix("-- ").split(" (")[0]: block for block in blocks}


def read_parquet_scans(connection: duckdb.DuckDBPyConnection, sql: str) -> list[dict]:
    """The ``extra_info`` of every READ_PARQUET operator in the query's analyzed plan."""
    [(_, plan)] = connection.execute(f"explain (analyze, format json) {sql}").fetchall()
    scans: list[dict] = []

    def visit(node: object) -> None:
        if isinstance(node, dict):
            if node.get("extra_info", {}).get("Function") == "READ_PARQUET":
                scans.append(node["extra_info"])
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(json.loads(plan))
    return scans


# -- expected results of the cookbook queries, from the files ------------------------------------------------

def expect_articles_per_section_per_day(output: Path) -> list[tuple]:
    counts = Counter((row["date"], row["section"]) for row in article_rows(output))
    return [(*key, n) for key, n in sorted(counts.items())]


def expect_one_days_stories(output: Path) -> list[tuple]:
    return sorted((r["section"], r["title"], r["agency"], r["dateline_place"])
                  for r in article_rows(output) if r["date"] == DAY)


def expect_top_people_this_week(output: Path) -> list[tuple]:
    since = max(row["date"] for row in article_rows(output)) - timedelta(days=7)
    articles: dict[str, set[str]] = {}
    mentions: Counter = Counter()
    for article_id, day, text, label, count in entity_rows(output):
        if label == "PERSON" and day > since:
            articles.setdefault(text, set()).add(article_id)
            mentions[text] += count
    found = [(person, len(ids), mentions[person]) for person, ids in articles.items()]
    return sorted(found, key=lambda t: (-t[1], -t[2], t[0]))[:10]


def expect_agencies_and_datelines(output: Path) -> list[tuple]:
    counts = Counter((r["agency"], r["dateline_place"], r["dateline_country_code"]) for r in article_rows(output)
                     if r["agency"] and r["dateline_place"])
    return sorted(((*key, n) for key, n in counts.items()), key=lambda t: (t[0], -t[3], t[1]))


def expect_language_mix(output: Path) -> list[tuple]:
    counts = Counter(row["language"] for row in article_rows(output))
    total = sum(counts.values())
    return sorted(((language, n, round(100 * n / total, 1)) for language, n in counts.items()),
                  key=lambda t: (-t[1], t[0]))


def expect_named_together(output: Path) -> list[tuple]:
    pairs = Counter()
    for row in article_rows(output):
        names = sorted({e["canonical"] for e in row["entities"] if e["label"] in ("PERSON", "ORG")})
        pairs.update((a, b) for i, a in enumerate(names) for b in names[i + 1:])
    return sorted(((a, b, n) for (a, b), n in pairs.items()), key=lambda t: (-t[2], t[0], t[1]))[:10]


def expect_stories_mentioning_a_word(output: Path) -> list[tuple]:
    return sorted((r["date"], r["section"], r["title"]) for r in article_rows(output) if "drone" in r["body"].lower())


def expect_date_sources(output: Path) -> list[tuple]:
    counts = Counter(row["date_source"] for row in article_rows(output))
    return sorted(counts.items(), key=lambda t: (-t[1], t[0]))


def expect_rejections_by_reason(output: Path) -> list[tuple]:
    examples: dict[str, list[str]] = {}
    for row in rejected_rows(output):
        examples.setdefault(row["reason"], []).append(row["source_uri"].rsplit("/", 1)[-1])
    return sorted(((reason, len(uris), min(uris)) for reason, uris in examples.items()), key=lambda t: (-t[1], t[0]))


def expect_run_history(output: Path) -> list[tuple]:
    return [(s["run_id"], s["status"], datetime.fromisoformat(s["started_at"]), s["seconds"], s["captures_read"],
             s["articles_written"], s["duplicates_in_run"] + s["already_committed"], s["rejected"])
            for s in sorted(run_summaries(output), key=lambda s: s["started_at"])]


EXPECTED = {
    "articles per section per day": expect_articles_per_section_per_day,
    "one day's stories": expect_one_days_stories,
    "top people this week": expect_top_people_this_week,
    "which agencies report from which datelines": expect_agencies_and_datelines,
    "language mix": expect_language_mix,
    "people and organisations named together": expect_named_together,
    "stories mentioning a word": expect_stories_mentioning_a_word,
    "where publication dates came from": expect_date_sources,
    "rejected captures by reason": expect_rejections_by_reason,
    "run history": expect_run_history,
}


def test_every_cookbook_query_has_a_check():
    assert set(cookbook()) == set(EXPECTED)
    assert 8 <= len(EXPECTED) <= 10


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_cookbook_query_gives_what_the_files_hold(name, demo_output):
    expected = EXPECTED[name](demo_output)
    assert expected, "the demo output should give this query something to find"
    assert connect(str(demo_output)).execute(cookbook()[name]).fetchall() == expected


def test_readme_columns_table_names_every_column(demo_output):
    table = README.read_text(encoding="utf-8").split("### Columns", 1)[1].split("\n\n", 2)[1]
    documented = {name for line in table.splitlines()[2:] for name in re.findall(r"`(\w+)`", line.split(" | ")[0])}
    columns = {row[0] for row in connect(str(demo_output)).execute("describe articles").fetchall()}
    assert documented == columns


def test_where_date_reads_only_that_dates_files(demo_output):
    connection = connect(str(demo_output))
    day_files = sorted(demo_output.glob(f"date={DAY}/section=*/*.parquet"))
    all_files = sorted(demo_output.glob("date=*/section=*/*.parquet"))
    assert 0 < len(day_files) < len(all_files)
    for query in (cookbook()["one day's stories"],
                  f"select entity from entities where date = DATE '{DAY}'"):
        [scan] = read_parquet_scans(connection, query)
        assert int(scan["Total Files Read"]) == len(day_files)
        assert scan["Scanning Files"] == f"{len(day_files)}/{len(all_files)}"
        assert "date" in scan["File Filters"]
        assert sorted(scan["Filename(s)"].split(", ")) == [str(path) for path in day_files]
    [unfiltered] = read_parquet_scans(connection, "select title from articles")
    assert int(unfiltered["Total Files Read"]) == len(all_files)


def test_entities_view_has_one_row_per_article_and_entity(demo_output):
    found = connect(str(demo_output)).execute(
        "select article_id, date, entity, label, mentions from entities").fetchall()
    assert sorted(found) == sorted(entity_rows(demo_output))


def test_runs_view_reads_the_run_summaries_typed(demo_output):
    [summary] = run_summaries(demo_output)
    connection = connect(str(demo_output))
    [(run_id, started_at, reasons, articles)] = connection.execute(
        "select run_id, started_at, rejected_by_reason, articles_written from runs").fetchall()
    assert (run_id, articles) == (summary["run_id"], summary["articles_written"])
    assert started_at == datetime.fromisoformat(summary["started_at"])
    assert reasons == summary["rejected_by_reason"] and reasons


def test_views_on_an_empty_output_give_zero_typed_rows(tmp_path):
    connection = connect(str(tmp_path))
    for view in VIEW_NAMES:
        assert connection.execute(f"select count(*) from {view}").fetchall() == [(0,)]
    types = dict(connection.execute("select column_name, column_type from (describe articles)").fetchall())
    assert (types["date"], types["section"], types["published_at"]) == ("DATE", "VARCHAR", "TIMESTAMP WITH TIME ZONE")
    assert types["entities"] == ('STRUCT("text" VARCHAR, "label" VARCHAR, count INTEGER, canonical VARCHAR, '
                                 'country_code VARCHAR)[]')
    runs = dict(connection.execute("select column_name, column_type from (describe runs)").fetchall())
    assert runs["started_at"] == "TIMESTAMP WITH TIME ZONE"
    assert runs["rejected_by_reason"] == "MAP(VARCHAR, BIGINT)"


def test_views_on_an_output_without_rejections_or_runs(tmp_path, demo_output):
    output = tmp_path / "articles only, it's here"  # a quote in the path must not break the SQL
    for partition in demo_output.glob("date=*"):
        shutil.copytree(partition, output / partition.name)
    connection = connect(str(output))
    assert connection.execute("select count(*) from articles").fetchall() == [(len(article_rows(demo_output)),)]
    assert connection.execute("select count(*) from rejected").fetchall() == [(0,)]
    assert connection.execute("select count(*) from runs").fetchall() == [(0,)]


def test_views_sql_loads_in_plain_duckdb_from_any_folder(demo_output, tmp_path, monkeypatch):
    path = write_views(str(demo_output))
    assert path == str(demo_output / "views.sql")
    monkeypatch.chdir(tmp_path)
    connection = duckdb.connect()
    connection.execute(Path(path).read_text(encoding="utf-8"))
    counts = connection.execute("select (select count(*) from articles), (select count(*) from entities), "
                                "(select count(*) from rejected), (select count(*) from runs)").fetchall()
    assert counts == [(len(article_rows(demo_output)), len(entity_rows(demo_output)),
                       len(rejected_rows(demo_output)), len(run_summaries(demo_output)))]


def test_sql_command_prints_csv(demo_output, capsys):
    query = "select language, count(*) as n from articles group by all order by language"
    assert main(["sql", "--output", str(demo_output), "--csv", query]) == 0
    languages = Counter(row["language"] for row in article_rows(demo_output))
    expected = ["language,n"] + [f"{language},{n}" for language, n in sorted(languages.items())]
    assert capsys.readouterr().out.splitlines() == expected


def test_sql_command_exit_codes(demo_output, tmp_path, capsys):
    assert main(["sql", "--output", str(demo_output), "select no_such_column from articles"]) == 1
    assert "no_such_column" in capsys.readouterr().err
    assert main(["sql", "--output", str(tmp_path / "missing"), "select 1"]) == 2
    assert main(["sql", "--output", str(tmp_path), "create view x as select 1"]) == 0
    assert capsys.readouterr().out == ""


def test_shell_runs_a_script_from_stdin(demo_output, monkeypatch, capsys):
    script = ".tables\nselect count(*) as n\n  from rejected;\n.schema runs\nselect 'no semicolon at the end' as last"
    monkeypatch.setattr("sys.stdin", io.StringIO(script))
    assert main(["shell", "--output", str(demo_output)]) == 0
    out = capsys.readouterr().out
    assert "articles  entities  rejected  runs" in out
    assert re.search(rf"│\s+{len(rejected_rows(demo_output))}\s+│", out)
    assert "rejected_by_reason" in out and "no semicolon at the end" in out


def test_shell_script_with_a_failing_statement_exits_1(demo_output, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("select nope from articles;\nselect 41 + 1 as answer;\n"))
    assert main(["shell", "--output", str(demo_output)]) == 1
    captured = capsys.readouterr()
    assert "nope" in captured.err and "42" in captured.out


def test_statement_buffer_ends_statements_at_semicolons_and_takes_dot_commands_whole():
    buffer = StatementBuffer()
    fed = [buffer.feed(line) for line in ["", ".tables", "select 1,", "  2;", "select 'a;b'", ".not a command;"]]
    assert fed == [None, ".tables", None, "select 1,\n  2;", None, "select 'a;b'\n.not a command;"]
    assert not buffer.pending
    assert buffer.feed("select 3") is None and buffer.pending
    assert buffer.rest() == "select 3"
