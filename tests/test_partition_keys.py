"""A run over a folder of pages that name their sections every which way lands in the desk folders only."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from pipeline.cli import main
from pipeline.config import load_run_config
from transforms.sections import SectionIndex

STORY = ("{topic} The announcement came after months of talks between officials, residents and the companies "
         "involved, and people who follow the matter closely said the decision would shape the year ahead.")

# (file, URL, section label in the page's meta tag or None, breadcrumb or None, the topic of its lead)
PAGES = [
    ("company-town.html", "https://paper.example.com/entertainment-arts/business/story/2019-11-19/studio-deal",
     "Company Town", None, "The film studio agreed a streaming deal with a famous actor and director."),
    ("wide-angle.html", "https://mag.example.com/culture/2019/11/wide-angle-essay.html", "Wide Angle", None,
     "The novel and its author were celebrated at the festival and the film premiere."),
    ("big-story.html", "https://wire.example.com/article/the-big-story-123", "The Big Story", None,
     "Shares of the company fell after earnings missed forecasts and investors sold stock."),
    ("minnesota-wild.html", "https://sports.example.com/minnesota-wild/2019/11/19/recap", "Minnesota Wild", None,
     "The coach praised the team after the season opener as the players scored a late goal."),
    ("homepage.html", "https://news.example.com/homepage/2019/11/19/story", "homepage", None,
     "Lawmakers in the Senate passed the bill after a long debate over the election campaign."),
    ("general-news.html", "https://wire.example.com/a/12345", "General News / Trials, legal proceedings, law and "
     "order", None, "Police said the mayor asked residents of the county to avoid the downtown street after a crash."),
    ("wirtschaft.html", "https://zeitung.example.de/a/story", "Wirtschaft", None, "Die Firma meldet Umsatz."),
    ("deportes.html", "https://diario.example.es/a/story", None, "Inicio › Deportes › Fútbol", "El equipo ganó."),
    ("sport-ru.html", "https://gazeta.example.ru/a/story", "Спорт", None, "Команда выиграла матч."),
    ("guoji.html", "https://bao.example.cn/a/story", "国际", None, "外交部发言人表示。"),
    ("economie.html", "https://journal.example.fr/a/story", None, "Accueil > Économie", "Les marchés montent."),
    ("no-label.html", "https://blog.example.com/2019/11/19/a-note", None, None, "Nothing much to report today."),
    ("recipe.html", "https://food.example.com/p/99", "All", None,
     "This recipe for a quick weeknight meal comes from our chef, with cooking tips for your kitchen."),
]


def record(url: str, title: str, label: str | None, crumb: str | None, topic: str) -> dict:
    """A feed record: an HTML page with its section meta tag, or a text capture opening with its breadcrumb."""
    body = [STORY.format(topic=topic)] * 3
    if crumb:
        return {"url": url, "text": "\n\n".join([crumb, title, *body]), "published_at": "2019-11-19"}
    meta = f'<meta property="article:section" content="{label}">' if label else ""
    paragraphs = "".join(f"<p>{paragraph}</p>" for paragraph in body)
    return {"url": url, "html": f"<html><head><title>{title}</title>{meta}"
                                f'<meta property="article:published_time" content="2019-11-19"></head>'
                                f"<body><article><h1>{title}</h1>{paragraphs}</article></body></html>"}


@pytest.fixture(scope="module")
def output(tmp_path_factory) -> Path:
    captures, out = tmp_path_factory.mktemp("pages"), tmp_path_factory.mktemp("out")
    records = []
    for name, url, label, crumb, topic in PAGES:
        page = record(url, f"Story from {name}", label, crumb, topic)
        records.append(json.dumps({**page, "fetched_at": "2019-11-20T08:00:00Z"}, ensure_ascii=False))
    (captures / "crawl.jsonl").write_text("\n".join(records) + "\n", encoding="utf-8")
    assert main(["run", "--input", str(captures), "--output", str(out), "--quiet", "--entities", "off"]) == 0
    return out


def test_mixed_pages_land_only_in_the_taxonomys_folders(output):
    desks = SectionIndex.from_config(load_run_config()["sections"])
    folders = {path.name.removeprefix("section=") for path in output.glob("date=*/section=*")}
    assert folders <= {*desks.desks, desks.fallback}
    assert len(folders) <= len(desks.desks) + 1
    assert len(rows_by_url(output)) == len(PAGES)


def test_each_page_gets_its_desk_and_keeps_its_own_label(output):
    by_url = {row["url"]: row for row in rows_by_url(output)}

    def of(name: str) -> tuple[str, str, str | None]:
        url = next(url for file, url, *_ in PAGES if file == name)
        row = by_url[url]
        return row["section"], row["section_source"], row["section_label"]

    assert of("company-town.html") == ("business", "url_path", "business")  # the deepest folder that maps
    assert of("wide-angle.html") == ("entertainment", "url_path", "culture")
    assert of("big-story.html") == ("business", "inferred", "The Big Story")
    assert of("minnesota-wild.html") == ("sports", "url_path", "sports")  # the host's label before the site name
    assert of("homepage.html") == ("politics", "inferred", "homepage")
    assert of("general-news.html")[0] == "local"
    assert of("wirtschaft.html") == ("business", "html_meta", "Wirtschaft")
    assert of("deportes.html") == ("sports", "breadcrumb", "Deportes › Fútbol")
    assert of("sport-ru.html") == ("sports", "html_meta", "Спорт")
    assert of("guoji.html") == ("world", "html_meta", "国际")
    assert of("economie.html") == ("business", "breadcrumb", "Économie")
    assert of("no-label.html") == ("unknown", "none", None)
    assert of("recipe.html") == ("lifestyle", "url_path", "food")


def test_a_day_only_date_says_so(output):
    for row in rows_by_url(output):
        assert (row["published_precision"], str(row["date"])) == ("day", "2019-11-19")


def rows_by_url(output: Path) -> list[dict]:
    relation = duckdb.sql(f"select * from read_parquet('{output}/date=*/section=*/*.parquet', hive_partitioning=1)")
    return [dict(zip(relation.columns, values, strict=True)) for values in relation.fetchall()]
