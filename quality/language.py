"""``language`` task: the pipeline's language identification on lingua's test sentences.

Only the languages langdetect knows are scored (the others could never be right). Besides the sentences
themselves, each length the pipeline meets is rebuilt from them: a single word and a word pair cut from the
middle of each sentence (titles, navigation lines), and an article of consecutive sentences of one language.
Accuracy counts ``und`` as wrong; precision is the share of non-``und`` answers that are right, coverage the
share of texts that get one.
"""

from __future__ import annotations

import json
import re
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from quality.report import CorpusError, Score, TaskResult

SENTENCES_FILE = "sentences.jsonl"
ARTICLE_SENTENCES = 8  # about 800 characters: a short news story
SENTENCE_BUCKETS = ((0, "sentences <50 chars"), (50, "sentences 50-99"), (100, "sentences 100+"))
ENGLISH = "en"
PUBLISHED = [
    Score("langdetect, sentences", {"mean": 0.980, "en": 0.993}, items=0, published=True,
          note="lingua accuracy table, all 1,000 sentences per language"),
    Score("langdetect, words", {"en": 0.232}, items=0, published=True, note="lingua report, English"),
    Score("langdetect, word pairs", {"en": 0.592}, items=0, published=True, note="lingua report, English"),
]
_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")


@dataclass(frozen=True)
class Item:
    bucket: str
    language: str
    text: str


def read_sentences(path: Path) -> list[dict]:
    """Rows ``{"id", "lang", "text"}`` of the corpus file; any other shape is a CorpusError."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise CorpusError(f"cannot read {path}: {error}") from error
    rows = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            raise CorpusError(f"{path}:{number}: not JSON ({error.msg})") from error
        if not isinstance(row, dict) or not all(isinstance(row.get(key), str) for key in ("id", "lang", "text")):
            raise CorpusError(f"{path}:{number}: expected an object with string id, lang and text")
        rows.append(row)
    if not rows:
        raise CorpusError(f"{path}: no sentences")
    return rows


def supported_languages() -> frozenset[str]:
    """ISO 639-1 codes langdetect can answer (its zh-cn and zh-tw are both zh)."""
    from langdetect import detector_factory

    detector_factory.init_factory()
    return frozenset(code.split("-")[0] for code in detector_factory._factory.langlist)


def build_items(rows: list[dict]) -> Iterator[Item]:
    """Words, word pairs, sentences by length and articles, all cut from or built of the sentences."""
    by_language: dict[str, list[dict]] = defaultdict(list)
    for row in sorted(rows, key=lambda row: (row["lang"], row["id"])):
        by_language[row["lang"]].append(row)
        words = _WORD.findall(row["text"])
        middle = len(words) // 2
        if words:
            yield Item("words", row["lang"], words[middle])
        if len(words) > 1:
            yield Item("word pairs", row["lang"], " ".join(words[max(middle - 1, 0) : max(middle - 1, 0) + 2]))
        length = len(row["text"])
        yield Item(next(name for low, name in reversed(SENTENCE_BUCKETS) if length >= low), row["lang"], row["text"])
    for language, group in by_language.items():
        for start in range(0, len(group) - ARTICLE_SENTENCES + 1, ARTICLE_SENTENCES):
            text = " ".join(row["text"] for row in group[start : start + ARTICLE_SENTENCES])
            yield Item("articles", language, text)


def bucket_metrics(results: list[tuple[str, str]]) -> dict[str, float]:
    """``(gold, answer)`` pairs to mean per-language accuracy, English accuracy, precision and coverage."""
    per_language: dict[str, list[bool]] = defaultdict(list)
    for gold, answer in results:
        per_language[gold].append(answer == gold)
    answered = [gold == answer for gold, answer in results if answer != "und"]
    metrics = {"mean": statistics.mean(sum(hits) / len(hits) for hits in per_language.values())}
    if ENGLISH in per_language:
        metrics["en"] = sum(per_language[ENGLISH]) / len(per_language[ENGLISH])
    if answered:  # no answer at all has no precision, rather than a precision of 0
        metrics["precision"] = sum(answered) / len(answered)
    metrics["coverage"] = len(answered) / len(results)
    return {name: round(value, 4) for name, value in metrics.items()}


def _sample(rows: list[dict], limit: int | None) -> list[dict]:
    """At most ``limit`` rows, the same number from each language."""
    if limit is None:
        return rows
    per_language = max(1, limit // len({row["lang"] for row in rows}))
    taken: dict[str, int] = defaultdict(int)
    sample = []
    for row in sorted(rows, key=lambda row: (row["lang"], row["id"])):
        if taken[row["lang"]] < per_language:
            taken[row["lang"]] += 1
            sample.append(row)
    return sample


def score(corpus: Path, limit: int | None, progress: Callable[[int, int], None],
          config: Path | None = None) -> TaskResult:
    """Score ``detect_language`` with the run config's settings, and langdetect's own best guess."""
    from langdetect import LangDetectException, detect_langs

    from pipeline.config import load_run_config
    from transforms.language import UNDETERMINED, LanguageSettings, detect_language, seed_detector

    settings = LanguageSettings(**load_run_config(config)["language"])
    seed_detector(settings)
    seed_detector(replace(settings, implementations=("langdetect",)))  # the baseline is langdetect itself
    rows = read_sentences(Path(corpus) / SENTENCES_FILE)
    supported = supported_languages()
    scored = _sample([row for row in rows if row["lang"] in supported], limit)
    items = list(build_items(scored))

    def langdetect_alone(text: str) -> str:
        try:
            return detect_langs(text[: settings.max_chars])[0].lang.split("-")[0]
        except LangDetectException:
            return UNDETERMINED

    systems = {"newsbeam": lambda text: detect_language(text, settings)[0], "langdetect alone": langdetect_alone}
    answers: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    total, done = len(items) * len(systems), 0
    for name, detect in systems.items():
        for item in items:
            answers[(name, item.bucket)].append((item.language, detect(item.text)))
            done += 1
            if done % 100 == 0 or done == total:
                progress(done, total)
    buckets = ["words", "word pairs", *(name for _, name in SENTENCE_BUCKETS), "articles"]
    scores = [
        Score(f"{name}, {bucket}", bucket_metrics(answers[(name, bucket)]), len(answers[(name, bucket)]))
        for bucket in buckets
        for name in systems
        if answers[(name, bucket)]
    ]
    sentences = [pair for bucket in buckets[2:-1] for pair in answers[("newsbeam", bucket)]]
    alone = [pair for bucket in buckets[2:-1] for pair in answers[("langdetect alone", bucket)]]
    scores += [Score("newsbeam, all sentences", bucket_metrics(sentences), len(sentences)),
               Score("langdetect alone, all sentences", bucket_metrics(alone), len(alone)), *PUBLISHED]
    return TaskResult(
        task="language",
        corpus=str(corpus),
        metric="accuracy (und counts wrong; mean over languages), precision of non-und answers, coverage",
        scores=scores,
        details={
            "languages_scored": sorted({row["lang"] for row in scored}),
            "languages_skipped": sorted({row["lang"] for row in rows} - supported),
            "settings": {"min_letters": settings.min_letters, "min_letters_by_script": settings.min_letters_by_script},
        },
    )
