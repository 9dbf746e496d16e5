"""Print what the demo wrote, as an analyst would see it in DuckDB."""

from __future__ import annotations

import sys

import duckdb


def main(output: str) -> None:
    articles = f"read_parquet('{output}/date=*/section=*/*.parquet', hive_partitioning=true)"
    con = duckdb.connect()
    print("One row per article:")
    con.sql(f"""
        select date, section, language, agency, dateline_place as place, dateline_country_code as cc,
               date_source, left(title, 48) as title, len(entities) as entities
        from {articles} order by date, title
    """).show(max_width=200)
    print("Rejected captures:")
    con.sql(f"""
        select reason, regexp_extract(source_uri, '[^/]*$') as capture, left(detail, 70) as detail
        from read_parquet('{output}/_rejected/*.parquet') order by reason
    """).show(max_width=200)
    print("Articles per date / section / language:")
    con.sql(f"""
        select date, section, language, count(*) as articles
        from {articles} group by all order by date, section, language
    """).show()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "out/demo")
