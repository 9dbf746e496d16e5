"""``dateline`` task: the dateline the pipeline finds at the top of wire stories, against what they print.

Reuters-21578 stories are rebuilt as ``DATELINE + BODY`` (the corpus splits them apart) and the
CoNLL-2003 documents as their dateline sentence plus story sentences; each goes through the pipeline as
a plain-text capture. Place: exact match (case and white space folded) of ``dateline_place`` with the
printed place; date: the parsed month/day, on the stories whose dateline prints one. Precision counts
every dateline the pipeline reports (also on stories whose printed dateline has no gold place), recall
every story with a gold value.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from quality.articles import text_article
from quality.corpora import WireStory, read_conll_datelines, read_reuters_stories
from quality.dates import FieldTally
from quality.report import CorpusError, Score, TaskResult

_REUTERS, _CONLL = "reuters21578", "conll2003-eng-testb"


def score(corpus: Path, limit: int | None, progress: Callable[[int, int], None],
          config: Path | None = None) -> TaskResult:
    """``corpus`` is the Reuters folder, the CoNLL folder, or a folder holding both."""
    sets = _story_sets(corpus, limit)
    total, done = sum(len(stories) for stories in sets.values()), 0
    result = TaskResult("dateline", corpus.name, "exact match of place, and of month/day where printed")
    for name, stories in sets.items():
        place, day = FieldTally(), FieldTally()
        for story in stories:
            _tally_story(story, text_article(f"{name}#{story.id}", story.text, story.captured_at, config), place, day)
            done += 1
            progress(done, total)
        result.scores.append(Score(f"newsbeam place ({name})", place.scores(), place.gold))
        result.scores.append(Score(f"newsbeam month/day ({name})", day.scores(), day.gold))
    return result


def _story_sets(corpus: Path, limit: int | None) -> dict[str, list[WireStory]]:
    readers = {_REUTERS: read_reuters_stories, _CONLL: read_conll_datelines}
    if corpus.name in readers:
        return {corpus.name: readers[corpus.name](corpus)[:limit]}
    folders = {name: corpus / name for name in readers if (corpus / name).is_dir()}
    if not folders:
        raise CorpusError(f"{corpus}: neither a {_REUTERS} nor a {_CONLL} folder, nor a folder holding them")
    return {name: readers[name](folder)[:limit] for name, folder in folders.items()}


def _tally_story(story: WireStory, article: dict | None, place: FieldTally, day: FieldTally) -> None:
    found_place = article.get("dateline_place") if article else None
    if story.gold_place:
        place.add(story.gold_place, found_place)
    elif found_place:
        place.predicted += 1
    if story.gold_month_day:
        day.add("{}-{}".format(*story.gold_month_day), _month_day(article))


def _month_day(article: dict | None) -> str | None:
    """The month/day the pipeline read from the dateline, from its ``published_at`` when the date came from it."""
    if not article or article.get("date_source") != "dateline" or not article.get("published_at"):
        return None
    return f"{article['published_at'].month}-{article['published_at'].day}"

