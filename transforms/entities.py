"""Named entities: spaCy NER mentions merged into one entry per entity with a mention count."""

from __future__ import annotations

import importlib.util
import re
from collections import Counter, defaultdict
from dataclasses import dataclass

_LEADING_ARTICLE = re.compile(r"^(?:the|The|THE)\s+")
_POSSESSIVE = re.compile(r"(?:['’]s|['’])$")
_PERSON = "PERSON"


@dataclass(frozen=True)
class Entity:
    text: str
    label: str
    count: int


def clean_mention(text: str) -> str:
    """Mention text without line breaks, a leading article or a trailing possessive."""
    text = " ".join(text.split())
    text = _LEADING_ARTICLE.sub("", text)
    return _POSSESSIVE.sub("", text).strip(" .,;:\"'“”‘’()[]")


def merge_mentions(mentions: list[tuple[str, str]], labels: frozenset[str]) -> list[Entity]:
    """Merge ``(text, label)`` mentions into entities, most mentioned first.

    One name is one entity: its label is the one most mentions give it (NER sometimes tags a surname as
    a place), and a person's shorter form (``Blinken``, ``Xi``) counts toward the full name it is the
    last or first word of (``Antony Blinken``, ``Xi Jinping``) when exactly one full name fits.
    """
    votes: dict[str, Counter] = defaultdict(Counter)
    for raw, label in mentions:
        text = clean_mention(raw)
        if text and any(ch.isalpha() for ch in text):
            votes[text][label] += 1
    label_of = {text: counter.most_common(1)[0][0] for text, counter in votes.items()}
    counts = {text: sum(counter.values()) for text, counter in votes.items()}
    people = [text for text, label in label_of.items() if label == _PERSON and " " in text]
    merged: Counter = Counter()
    final_label: dict[str, str] = {}
    for text, count in counts.items():
        target = _full_name(text, people) if _PERSON in votes[text] else None
        key = target or text
        merged[key] += count
        final_label[key] = _PERSON if target else label_of[text]
    entities = [Entity(text, final_label[text], count) for text, count in merged.items()]
    entities = [e for e in entities if e.label in labels]
    return sorted(entities, key=lambda e: (-e.count, e.text))


def _full_name(text: str, people: list[str]) -> str | None:
    """The one multi-word person name whose first or last word is ``text``, if exactly one."""
    if " " in text:
        return None
    fits = [name for name in people if name.split()[-1] == text or name.split()[0] == text]
    return fits[0] if len(fits) == 1 else None


def first_installed(packages: list[str]) -> str | None:
    """The first spaCy model package in ``packages`` that is importable here."""
    return next((name for name in packages if importlib.util.find_spec(name) is not None), None)


class EntityRecognizer:
    """Loads one spaCy model with only the components NER needs; built once per worker."""

    def __init__(self, models: dict[str, list[str]], labels: list[str], batch_size: int, max_chars: int):
        import spacy  # heavy import, only where NER runs

        self.labels = frozenset(labels)
        self.batch_size = batch_size
        self.max_chars = max_chars
        self.pipelines = {}
        self.model_names: dict[str, str] = {}
        for language, packages in models.items():
            package = first_installed(packages)
            if package is None:
                continue
            nlp = spacy.load(package)
            nlp.select_pipes(enable=[name for name in ("tok2vec", "ner") if name in nlp.pipe_names])
            self.pipelines[language] = nlp
            self.model_names[language] = f"{package}-{nlp.meta.get('version', '?')}"

    def recognise(self, language: str, texts: list[str]) -> list[list[Entity]]:
        """Entities for each text (all in ``language``); empty lists when no model serves it."""
        nlp = self.pipelines.get(language)
        if nlp is None:
            return [[] for _ in texts]
        docs = nlp.pipe((text[: self.max_chars] for text in texts), batch_size=self.batch_size)
        return [merge_mentions([(ent.text, ent.label_) for ent in doc.ents], self.labels) for doc in docs]
