"""``people`` task: does the pipeline find the people a Reuters-21578 story is indexed under?

Reuters' indexers gave each story ``<PEOPLE>`` codes (``reagan``, ``james-baker``): story-level labels,
not spans, so this is a recall check only, and a weak one. A code counts as found when a PERSON entity's
canonical name ends with the code's last word (its surname). The pipeline reads each story as the wire
printed it (ALL-CAPS headline, dateline, body); the bare model reads the same text, its PERSON spans
taken as they are. Both recalls are printed side by side.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from quality.corpora import PeopleStory, read_reuters_people
from quality.report import CorpusError, Score, TaskResult, ratio
from transforms.entities import clean_mention

_PERSON = "PERSON"


def surname(name: str) -> str:
    """The last word of a name or of a people code, casefolded: ``James Baker`` and ``james-baker`` -> baker."""
    words = name.replace("-", " ").casefold().split()
    return words[-1] if words else ""


def found(codes: Iterable[str], names: Iterable[str]) -> int:
    """How many of a story's people ``codes`` some person ``names`` give the surname of."""
    surnames = {surname(name) for name in names}
    return sum(1 for code in codes if surname(code) in surnames)


def score(corpus: Path, limit: int | None, progress: Callable[[int, int], None],
          config: Path | None = None) -> TaskResult:
    """Recall of people codes by newsbeam's PERSON entities and by the bare model's, on the same stories."""
    from pipeline.config import load_run_config
    from transforms.entities import EntityRecognizer

    stories: list[PeopleStory] = read_reuters_people(Path(corpus))[:limit]
    cfg = load_run_config(config)
    recognizer = EntityRecognizer.from_config(cfg)
    nlp = recognizer.pipelines.get("en")
    if nlp is None:
        raise CorpusError("no English spaCy model is installed; nothing to score")
    texts = [story.text for story in stories]
    ours = [[e.canonical for e in entities if e.label == _PERSON] for entities in recognizer.recognise("en", texts)]
    progress(len(stories), 2 * len(stories))
    bare = [[clean_mention(e.text) for e in doc.ents if e.label_ == _PERSON] for doc in nlp.pipe(texts)]
    progress(2 * len(stories), 2 * len(stories))
    codes = sum(len(story.people) for story in stories)
    model = recognizer.model_names["en"]

    def row(system: str, names: list[list[str]], note: str) -> Score:
        hits = sum(found(story.people, found_names) for story, found_names in zip(stories, names, strict=True))
        return Score(system, {"recall": round(ratio(hits, codes), 4)}, len(stories), note=note)

    return TaskResult(
        task="people",
        corpus=str(corpus),
        metric="recall of story-level PEOPLE codes by PERSON names (surname match)",
        scores=[row("newsbeam", ours, f"{model} + context rules"), row("bare model", bare, model)],
        details={"stories": len(stories), "codes": codes},
    )
