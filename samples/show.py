"""Print what the demo wrote, as an analyst sees it through newsbeam's DuckDB views."""

from __future__ import annotations

import os
import sys

from pipeline.analyst.report import REPORT_FILE
from pipeline.output.views import VIEWS_FILE, connect


def main(output: str) -> None:
    con = connect(output)
    print("One row per article (view `articles`):")
    con.sql("""
        select date, section, language, agency, dateline_place as place, dateline_country_code as cc,
               date_source, left(title, 48) as title, len(entities) as entities
        from articles order by date, title
    """).show(max_width=200)
    print("Rejected captures (view `rejected`):")
    con.sql("""
        select reason, regexp_extract(source_uri, '[^/]*$') as capture, left(detail, 70) as detail
        from rejected order by reason
    """).show(max_width=200)
    print(f"Query it: newsbeam sql --output {output} \"select ...\"  or  newsbeam shell --output {output}")
    views, report = os.path.join(output, VIEWS_FILE), os.path.join(output, REPORT_FILE)
    if os.path.exists(views):
        print(f"      or: duckdb -cmd \".read {views}\"")
    if os.path.exists(report):
        print(f"HTML report with charts: {report}")
    print("Articles per date / section / language:")
    con.sql("""
        select date, section, language, count(*) as articles
        from articles group by all order by date, section, language
    """).show()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "out/demo")
