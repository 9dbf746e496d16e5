"""The report of ``newsbeam report``: one self-contained HTML page about an output folder, charts by matplotlib.

Each chart is an inline SVG followed by the table of the very figures it draws (the query result), so a reader
can check a bar and a test can compare the page with its own SQL counts. No script, stylesheet or image is
fetched: the file can be mailed or archived as it is.
"""

from __future__ import annotations

import html
import io
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from pipeline.config import pipeline_version
from pipeline.output.sink import join, write_text_atomically
from pipeline.output.views import connect, output_location

if TYPE_CHECKING:
    import duckdb
    from matplotlib.axes import Axes

REPORT_FILE = "report.html"
DEFAULT_TOP = 15


@dataclass(frozen=True)
class Panel:
    """One chart of the report. ``kind`` is ``bars`` (one bar per row: the columns not in ``values`` label
    the bar of ``values[0]``), ``stacked`` (columns of the first column's values: stacked by the second
    column when ``values`` has one name, by the ``values`` columns otherwise) or ``timeline`` (``stacked``
    over a time axis: the first column is a date, and a day without articles is a gap)."""

    key: str
    title: str
    sql: str
    kind: str
    values: tuple[str, ...]
    empty: str


PANELS = (
    Panel("articles_per_day", "Articles per day, by section",
          "select date, section, count(*) as articles from articles group by all order by date, section",
          "timeline", ("articles",), "No articles yet."),
    Panel("data_quality", "Data quality: share of articles with each gap",
          "select measure, percent, articles from ("
          " select 1 as position, 'section unknown' as measure, count(*) filter (where section = 'unknown')"
          " as articles, count(*) as total from articles"
          " union all select 2, 'no published date (the capture time stands in)',"
          " count(*) filter (where coalesce(date_source, 'capture_time') = 'capture_time'), count(*) from articles"
          " union all select 3, 'published date to the day only (no time of day)',"
          " count(*) filter (where date_source <> 'capture_time' and published_precision = 'day'), count(*)"
          " from articles"
          " union all select 4, 'no title', count(*) filter (where coalesce(trim(title), '') = ''), count(*)"
          " from articles"
          " union all select 5, 'no author named', count(*) filter (where coalesce(len(authors), 0) = 0),"
          " count(*) from articles"
          ") as gaps(position, measure, articles, total), lateral (select round(100.0 * articles / total, 1)"
          " as percent) where total > 0 order by position",
          "bars", ("percent", "articles"), "No articles yet."),
    Panel("sources", "Where dates and sections came from",
          "select 'date' as field, coalesce(date_source, 'none') as source, count(*) as articles from articles"
          " group by all union all "
          "select 'section', coalesce(section_source, 'none'), count(*) from articles group by all "
          "order by field, articles desc, source",
          "bars", ("articles",), "No articles yet."),
    Panel("word_counts", "Word counts: articles per length band",
          "select case when word_count < 100 then 'under 100' when word_count < 250 then '100-249'"
          " when word_count < 500 then '250-499' when word_count < 1000 then '500-999'"
          " when word_count < 2000 then '1000-1999' else '2000 or more' end as words, count(*) as articles,"
          " min(word_count) as shortest, max(word_count) as longest, median(word_count) as median"
          " from articles group by words order by min(word_count)",
          "bars", ("articles", "shortest", "longest", "median"), "No articles yet."),
    Panel("sites", "Articles per site",
          "select coalesce(nullif(trim(site_name), ''), nullif(regexp_extract(url, '^https?://([^/:]+)', 1), ''),"
          " '(no URL)') as site, count(*) as articles from articles group by all"
          " order by articles desc, site limit {top}",
          "bars", ("articles",), "No articles yet."),
    Panel("languages", "Language mix",
          "select language, count(*) as articles from articles group by all order by articles desc, language",
          "bars", ("articles",), "No articles yet."),
    Panel("top_entities", "Top entities, by articles naming them",
          "select entity, label, count(distinct article_id) as articles, sum(mentions) as mentions from entities "
          "group by all order by articles desc, mentions desc, entity limit {top}",
          "bars", ("articles", "mentions"), "No entities (none found, or entities were off)."),
    Panel("dateline_places", "Dateline places",
          "select dateline_place as place, dateline_country_code as country, count(*) as articles from articles "
          "where dateline_place is not null group by all order by articles desc, place limit {top}",
          "bars", ("articles",), "No article opens with a dateline."),
    Panel("rejections", "Rejected captures, by reason",
          "select reason, count(*) as captures from rejected group by all order by captures desc, reason",
          "bars", ("captures",), "No capture was rejected."),
    Panel("runs", "Run history",
          "select strftime(started_at, '%Y-%m-%d %H:%M:%S') as started, run_id, status, "
          "articles_written as articles, duplicates_in_run + already_committed as duplicates, rejected "
          "from runs order by started_at",
          "stacked", ("articles", "duplicates", "rejected"), "No run has been recorded."),
)

TOTALS = {
    "articles": "select count(*) from articles",
    "entities": "select count(*) from entities",
    "rejected": "select count(*) from rejected",
    "runs": "select count(*) from runs",
}

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; color: #222; }
h1 { margin-bottom: 0.2rem; } .meta { color: #666; margin-top: 0; }
.totals { display: flex; gap: 2rem; padding: 0; list-style: none; font-size: 1.2rem; }
.totals b { font-size: 1.6rem; display: block; }
section { margin: 2.5rem 0; } figure { margin: 0; } svg { max-width: 100%; height: auto; }
table { border-collapse: collapse; font-size: 0.85rem; } td, th { padding: 0.15rem 0.6rem; text-align: left; }
td.number { text-align: right; } tr:nth-child(even) { background: #f4f4f4; }
.empty { color: #666; font-style: italic; }
"""


@dataclass(frozen=True)
class Result:
    columns: list[str]
    rows: list[tuple]


def write_report(output: str, html_path: str | None = None, top: int = DEFAULT_TOP) -> str:
    """Query the output folder's views, draw the charts and write the page; return its path."""
    path = os.path.abspath(html_path) if html_path else join(output_location(output), REPORT_FILE)
    connection = connect(output)
    results = {panel.key: query(connection, panel.sql.format(top=int(top))) for panel in PANELS}
    totals = {name: connection.execute(sql).fetchone()[0] for name, sql in TOTALS.items()}
    write_text_atomically(path, render_page(output_location(output), results, totals))
    return path


def query(connection: duckdb.DuckDBPyConnection, sql: str) -> Result:
    relation = connection.sql(sql)
    return Result(relation.columns, relation.fetchall())


def render_page(output: str, results: dict[str, Result], totals: dict[str, int]) -> str:
    """The whole HTML page: totals, then per panel its chart and its data table."""
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    totals_html = "".join(f'<li data-total="{name}"><b>{value}</b>{name}</li>' for name, value in totals.items())
    sections = "\n".join(_render_panel(panel, results[panel.key]) for panel in PANELS)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>newsbeam report: {html.escape(output)}</title>
<style>{_STYLE}</style></head>
<body>
<h1>newsbeam report</h1>
<p class="meta">Output <code>{html.escape(output)}</code> · generated {generated} · newsbeam {pipeline_version()}</p>
<ul class="totals">{totals_html}</ul>
{sections}
</body></html>
"""


def _render_panel(panel: Panel, result: Result) -> str:
    if not result.rows:
        body = f'<p class="empty">{html.escape(panel.empty)}</p>'
    else:
        body = f"<figure>{_prefix_ids(chart_svg(panel, result), panel.key)}</figure>\n" + _data_table(panel, result)
    return f'<section id="{panel.key}">\n<h2>{html.escape(panel.title)}</h2>\n{body}\n</section>'


def _data_table(panel: Panel, result: Result) -> str:
    head = "".join(f"<th>{html.escape(column)}</th>" for column in result.columns)
    rows = "".join("<tr>" + "".join(_cell(value) for value in row) + "</tr>\n" for row in result.rows)
    return (f'<details><summary>figures</summary><table class="data" data-panel="{panel.key}">'
            f"<thead><tr>{head}</tr></thead>\n<tbody>\n{rows}</tbody></table></details>")


def _cell(value: object) -> str:
    if isinstance(value, int | float):
        return f'<td class="number">{value}</td>'
    return f"<td>{html.escape('' if value is None else str(value))}</td>"


def chart_svg(panel: Panel, result: Result) -> str:
    """The panel's chart as an SVG document (text kept as text, so the page stays small and searchable)."""
    from matplotlib import rc_context  # imported here: it costs every other newsbeam command half a second
    from matplotlib.figure import Figure

    # text.parse_math off: a name with two "$" in it is a label, not a formula
    with rc_context({"svg.fonttype": "none", "svg.hashsalt": panel.key, "font.size": 9, "text.parse_math": False}):
        if panel.kind == "timeline":
            categories, series = _stacks(panel, result)
            figure = Figure(figsize=(9.0, 3.6))
            draw_timeline(figure.subplots(), [row[0] for row in result.rows], series, panel.values[0])
        elif panel.kind == "stacked":
            categories, series = _stacks(panel, result)
            figure = Figure(figsize=(min(9.0, 2.5 + 0.5 * len(categories)), 3.6))
            _draw_stacked(figure.subplots(), categories, series,
                          panel.values[0] if len(panel.values) == 1 else "captures")
        else:
            figure = Figure(figsize=(7, 0.6 + 0.28 * len(result.rows)))
            _draw_bars(figure.subplots(), panel, result)
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    return buffer.getvalue()


def _draw_bars(axes: Axes, panel: Panel, result: Result) -> None:
    value_index = result.columns.index(panel.values[0])
    label_indexes = [i for i, column in enumerate(result.columns) if column not in panel.values]
    labels = [" · ".join(str(row[i]) for i in label_indexes if row[i] is not None) for row in result.rows]
    positions = list(range(len(labels)))
    axes.barh(positions, [row[value_index] for row in result.rows], color="tab:blue")
    axes.set_yticks(positions, labels)
    axes.invert_yaxis()
    axes.set_xlabel(panel.values[0])
    axes.xaxis.get_major_locator().set_params(integer=True)
    axes.spines[["top", "right"]].set_visible(False)


def _draw_stacked(axes: Axes, categories: list[str], series: dict[str, list[float]], unit: str) -> None:
    positions = list(range(len(categories)))
    bottoms = [0] * len(categories)
    for name, heights in series.items():
        axes.bar(positions, heights, bottom=bottoms, label=name)
        bottoms = [b + h for b, h in zip(bottoms, heights, strict=True)]
    crowded = len(categories) > 6
    axes.set_xticks(positions, categories, rotation=45 if crowded else 0, ha="right" if crowded else "center")
    axes.set_ylabel(unit)
    axes.yaxis.get_major_locator().set_params(integer=True)
    axes.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1, 1))
    axes.spines[["top", "right"]].set_visible(False)


def draw_timeline(axes: Axes, dates: list, series: dict[str, list[float]], unit: str) -> None:
    """Stacked bars on a date axis: the distance between bars is the time between their days. A bar is a
    day wide, or wider over a long span so that it stays visible (1/250 of the span)."""
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

    days = list(dict.fromkeys(dates))
    width = max(0.9, (max(days) - min(days)).days / 250)
    bottoms = [0] * len(days)
    for name, heights in series.items():
        axes.bar(days, heights, bottom=bottoms, width=width, linewidth=0, label=name)
        bottoms = [b + h for b, h in zip(bottoms, heights, strict=True)]
    locator = AutoDateLocator(minticks=3, maxticks=10)
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    axes.set_ylabel(unit)
    axes.yaxis.get_major_locator().set_params(integer=True)
    axes.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1, 1))
    axes.spines[["top", "right"]].set_visible(False)


def _stacks(panel: Panel, result: Result) -> tuple[list[str], dict[str, list[float]]]:
    """Bar categories and, per series, its height in each category."""
    categories = list(dict.fromkeys(str(row[0]) for row in result.rows))
    position = {category: i for i, category in enumerate(categories)}
    if len(panel.values) > 1:
        indexes = {name: result.columns.index(name) for name in panel.values}
        series = {name: [0] * len(categories) for name in panel.values}
        for row in result.rows:
            for name, index in indexes.items():
                series[name][position[str(row[0])]] += row[index] or 0  # null: a field older runs lack
        return categories, series
    value_index = result.columns.index(panel.values[0])
    series = {}
    for row in result.rows:
        series.setdefault(str(row[1]), [0] * len(categories))[position[str(row[0])]] += row[value_index]
    return categories, series


def _prefix_ids(svg: str, prefix: str) -> str:
    """Drop the XML prolog and make the SVG's ids unique within the page (several SVGs share one document)."""
    svg = svg[svg.index("<svg"):]
    return re.sub(r'(id="|url\(#|href="#)', rf"\g<1>{prefix}-", svg)
