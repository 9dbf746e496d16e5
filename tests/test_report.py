"""``newsbeam report`` on the demo output: its figures equal SQL counts on the files, it fetches nothing,
and it renders in headless Chromium."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections import Counter
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import duckdb
import lxml.html
import numpy as np
import pyarrow.parquet as pq
import pytest
from PIL import Image

from pipeline.analyst.report import PANELS, draw_timeline
from pipeline.cli import main

CHROMIUM = shutil.which("chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]
TAB_BLUE = (31, 119, 180)  # matplotlib's first colour: every bar chart paints with it


@pytest.fixture(scope="module")
def report(demo_output) -> Path:
    assert main(["report", "--output", str(demo_output)]) == 0
    return demo_output / "report.html"


def figures(page: Path) -> dict[str, list[tuple[str, ...]]]:
    """Each panel's data table, as rows of cell texts."""
    tree = lxml.html.parse(str(page))
    return {table.get("data-panel"): [tuple(td.text_content() for td in tr.findall("td"))
                                      for tr in table.findall("tbody/tr")]
            for table in tree.iterfind(".//table[@data-panel]")}


def totals(page: Path) -> dict[str, str]:
    return {li.get("data-total"): li.findtext("b") for li in lxml.html.parse(str(page)).iterfind(".//li[@data-total]")}


def counted(sql: str) -> list[tuple[str, ...]]:
    """Rows of a query on the files themselves (not the report's views), as the page prints them."""
    return [tuple(str(value) for value in row) for row in duckdb.connect().execute(sql).fetchall()]


def articles(output: Path) -> str:
    return f"read_parquet('{output}/date=*/section=*/*.parquet', hive_partitioning = true)"


def test_report_figures_equal_sql_counts(report, demo_output):
    found = figures(report)
    assert found["articles_per_day"] == counted(
        f"select date, section, count(*) from {articles(demo_output)} group by all order by date, section")
    assert found["languages"] == counted(
        f"select language, count(*) as n from {articles(demo_output)} group by all order by n desc, language")
    assert found["top_entities"] == counted(
        f"select e.canonical, e.label, count(distinct article_id) as n, sum(e.count) as m "
        f"from (select article_id, unnest(entities) as e from {articles(demo_output)}) "
        f"group by all order by n desc, m desc, e.canonical limit 15")
    assert found["dateline_places"] == counted(
        f"select dateline_place, dateline_country_code, count(*) as n from {articles(demo_output)} "
        f"where dateline_place is not null group by all order by n desc, dateline_place limit 15")
    assert found["rejections"] == counted(
        f"select reason, count(*) as n from read_parquet('{demo_output}/_rejected/*.parquet') "
        f"group by all order by n desc, reason")
    runs = [json.loads(path.read_text()) for path in sorted(demo_output.glob("_runs/*.json"))]
    assert [row[1:] for row in found["runs"]] == [
        (run["run_id"], run["status"], str(run["articles_written"]),
         str(run["duplicates_in_run"] + run["already_committed"]), str(run["rejected"])) for run in runs]
    assert all(found[panel.key] for panel in PANELS), "the demo output has something for every chart"


def article_rows(output: Path) -> list[dict]:
    return [{**row, "section": path.parent.name.split("=", 1)[1]}
            for path in sorted(output.glob("date=*/section=*/*.parquet")) for row in pq.read_table(path).to_pylist()]


def test_data_quality_panel_counts_each_gap(report, demo_output):
    rows = article_rows(demo_output)
    gaps = {
        "section unknown": sum(row["section"] == "unknown" for row in rows),
        "no published date (the capture time stands in)": sum(row["date_source"] == "capture_time" for row in rows),
        "published date to the day only (no time of day)": sum(
            row["date_source"] != "capture_time" and row["published_precision"] == "day" for row in rows),
        "no title": sum(not (row["title"] or "").strip() for row in rows),
        "no author named": sum(not row["authors"] for row in rows),
    }
    expected = [(measure, str(round(100 * n / len(rows), 1)), str(n)) for measure, n in gaps.items()]
    found = figures(report)
    assert found["data_quality"] == expected
    assert 0 < gaps["no author named"] < len(rows)  # the demo output has both, so the test can fail
    sources = Counter(("date", row["date_source"]) for row in rows) + Counter(
        ("section", row["section_source"] or "none") for row in rows)
    assert sorted(found["sources"]) == sorted((field, source, str(n)) for (field, source), n in sources.items())
    words = sorted(row["word_count"] for row in rows)
    bands = found["word_counts"]
    assert sum(int(band[1]) for band in bands) == len(rows)
    assert (bands[0][2], bands[-1][3]) == (str(words[0]), str(words[-1]))
    sites = Counter(row["site_name"] or urlsplit(row["url"]).hostname if row["url"] or row["site_name"]
                    else "(no URL)" for row in rows)
    assert {(site, str(n)) for site, n in sites.items()} >= set(found["sites"])


def test_articles_per_day_are_drawn_on_a_time_axis():
    """Days without articles are gaps: bars stand as far apart as their days."""
    from matplotlib.figure import Figure

    axes = Figure().subplots()
    days = [date(2024, 5, 1), date(2024, 5, 2), date(2024, 5, 10)]
    draw_timeline(axes, days, {"world": [2, 1, 4], "sport": [0, 1, 0]}, "articles")
    starts = sorted({round(bar.get_x() + bar.get_width() / 2, 6) for bar in axes.patches})
    assert [b - a for a, b in zip(starts, starts[1:], strict=False)] == [1.0, 8.0]


def test_report_totals_equal_sql_counts(report, demo_output):
    [(n_articles, n_entities)] = counted(f"select count(*), sum(len(entities)) from {articles(demo_output)}")
    [(n_rejected,)] = counted(f"select count(*) from read_parquet('{demo_output}/_rejected/*.parquet')")
    assert totals(report) == {"articles": n_articles, "entities": n_entities, "rejected": n_rejected,
                              "runs": str(len(list(demo_output.glob("_runs/*.json"))))}


def test_each_chart_is_an_inline_svg_labelled_with_its_figures(report):
    tree = lxml.html.parse(str(report))
    found = figures(report)
    for panel in PANELS:
        [svg] = tree.findall(f".//section[@id='{panel.key}']//svg")
        chart_text = " ".join(svg.itertext())
        for row in found[panel.key]:
            if panel.kind == "timeline":  # a time axis labels some days, and the year
                assert row[0][:4] in chart_text
            else:
                assert row[0] in chart_text  # bar label or x category, drawn as SVG text


def test_report_is_self_contained(report):
    tree = lxml.html.parse(str(report))
    assert not tree.findall(".//script") and not tree.findall(".//link") and not tree.findall(".//img")
    for element in tree.iter():
        if not isinstance(element.tag, str):
            continue
        for name, value in element.attrib.items():
            if name.endswith(("href", "src")):
                assert value.startswith("#"), f"{element.tag} {name}={value} points outside the page"
    ids = [element.get("id") for element in tree.iter() if isinstance(element.tag, str) and element.get("id")]
    assert len(ids) == len(set(ids)), "ids of the inline SVGs collide"


def test_report_on_an_empty_output_says_so(tmp_path, capsys):
    assert main(["report", "--output", str(tmp_path), "--html", str(tmp_path / "empty.html")]) == 0
    assert str(tmp_path / "empty.html") in capsys.readouterr().out
    page = (tmp_path / "empty.html").read_text(encoding="utf-8")
    assert "<svg" not in page
    assert all(panel.empty in page for panel in PANELS)
    assert set(totals(tmp_path / "empty.html").values()) == {"0"}
    assert main(["report", "--output", str(tmp_path / "missing")]) == 2


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium not found: install Debian's package "
                                              "(apt-get install chromium) to run the report render test")
def test_report_renders_in_headless_chromium(report, tmp_path):
    def chromium(*args: str) -> str:
        command = [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *args, report.as_uri()]
        return subprocess.run(command, capture_output=True, text=True, check=True, timeout=180).stdout

    dom = lxml.html.fromstring(chromium("--dump-dom"))
    drawn = [panel.key for panel in PANELS if dom.findall(f".//section[@id='{panel.key}']//svg")]
    assert drawn == [panel.key for panel in PANELS]

    screenshot = tmp_path / "report.png"
    chromium("--window-size=1200,2400", "--hide-scrollbars", f"--screenshot={screenshot}")
    pixels = np.asarray(Image.open(screenshot).convert("RGB")).astype(int)
    assert pixels.shape == (2400, 1200, 3)
    painted_blue = (np.abs(pixels - TAB_BLUE).max(axis=2) <= 8).sum()
    assert painted_blue > 20_000, "the bar charts were not painted"
