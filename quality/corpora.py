"""Readers for the evaluation corpora, each in the format its ``SOURCE.md`` describes.

A reader returns plain records and raises ``CorpusError`` (naming the file and the problem) when a
corpus is missing or malformed, so the eval command fails loudly instead of scoring nothing.
"""

from __future__ import annotations

import gzip
import hashlib
import html
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from quality.report import CorpusError

_REUTERS_ELEMENT = re.compile(r"<REUTERS\b([^>]*)>(.*?)</REUTERS>", re.DOTALL)
_REUTERS_WIRE_DATE = re.compile(r"(\d{1,2})-([A-Z]{3})-(\d{4}) (\d{2}):(\d{2}):(\d{2})")
_CONTROL_REFERENCE = re.compile(r"&#\d+;")
_LEADING_MARKS = re.compile(r"^[\W_]+")  # "****LONDON": the wire's attention marks are not the place
_ISO_DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_MONTH_ABBREVIATIONS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")


@dataclass(frozen=True)
class BenchmarkPage:
    """One article-extraction-benchmark page: its capture and the hand-made article body."""

    id: str
    url: str
    html_path: Path
    body: str


@dataclass(frozen=True)
class SegmentPage:
    """One trafilatura-eval page: segments that must / must not be extracted, and metadata gold."""

    id: str
    url: str
    html_path: Path
    with_segments: tuple[str, ...]
    without_segments: tuple[str, ...]
    title: str | None
    author: str | None
    date: str | None


@dataclass(frozen=True)
class PeopleStory:
    """A wire story (headline line first) and the indexers' codes of the people it is about
    (``reagan``, ``james-baker``)."""

    id: str
    text: str
    people: tuple[str, ...]


@dataclass(frozen=True)
class WireStory:
    """A story whose text opens with a dateline; ``gold_place``/``gold_month_day`` are what it prints."""

    id: str
    text: str
    dateline: str
    gold_place: str | None
    gold_month_day: tuple[int, int] | None
    captured_at: datetime | None


SPLITS = ("dev", "heldout", "all")


@dataclass(frozen=True)
class HashSplit:
    """A fixed two-way split of a corpus's items: rules are tuned on ``dev`` and ``heldout`` shows how they
    do on items nobody looked at. An item's side depends on its id alone (the first byte of a SHA-256 of
    ``salt + id``, modulo ``modulus``, is held out when in ``held_out``), so it never moves whatever else the
    corpus, a ``--limit`` or a fixture holds."""

    modulus: int
    held_out: range
    salt: str = ""

    def of(self, item_id: str) -> str:
        """``dev`` or ``heldout`` for one item."""
        digest = hashlib.sha256((self.salt + item_id).encode("utf-8")).digest()
        return "heldout" if digest[0] % self.modulus in self.held_out else "dev"


HALVES = HashSplit(modulus=2, held_out=range(1, 2))  # `date` and `section` pages: half held out
THIRDS = HashSplit(modulus=3, held_out=range(0, 1))  # `body` pages: one in three held out
# `entities` documents (``doc-NNN``, their order in the file): 80 of 256 byte values held out, about 5 in 16.
# Salt and cut are fixed because changing them would move documents the rules were tuned on into the held-out half.
CONLL_DOCUMENTS = HashSplit(modulus=256, held_out=range(0, 80), salt="issue23:")


def in_split(item_id: str, split: str, rule: HashSplit = HALVES) -> bool:
    """Whether an item belongs to ``split`` under ``rule`` (``all`` holds every item)."""
    return split == "all" or rule.of(item_id) == split


def _require(path: Path) -> Path:
    if not path.exists():
        raise CorpusError(f"{path}: missing (is --corpus the right folder?)")
    return path


def _load_json(path: Path) -> object:
    try:
        with open(_require(path), encoding="utf-8") as handle:
            return json.load(handle)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise CorpusError(f"{path}: not valid JSON ({error})") from error


def _mapping(data: object, path: Path) -> dict:
    if not isinstance(data, dict) or not data:
        raise CorpusError(f"{path}: expected a non-empty JSON object keyed by item id")
    return data


def read_benchmark_pages(root: Path) -> list[BenchmarkPage]:
    """``ground-truth.json`` and ``html/<id>.html.gz`` of article-extraction-benchmark."""
    truth_path = root / "ground-truth.json"
    pages = []
    for page_id, item in _mapping(_load_json(truth_path), truth_path).items():
        if not isinstance(item, dict) or not isinstance(item.get("articleBody", ""), str):
            raise CorpusError(f"{truth_path}: item {page_id!r} has no articleBody string")
        html_path = _require(root / "html" / f"{page_id}.html.gz")
        pages.append(BenchmarkPage(page_id, item.get("url") or "", html_path, item.get("articleBody") or ""))
    return pages


def read_benchmark_baselines(root: Path) -> dict[str, tuple[str, dict[str, str]]]:
    """``{system: (version, {id: articleBody})}`` from ``baseline-outputs/*.json.gz`` (null bodies are empty)."""
    systems = {}
    for path in sorted(_require(root / "baseline-outputs").glob("*.json.gz")):
        try:
            with gzip.open(path, "rt", encoding="utf-8") as handle:
                data = json.load(handle)
        except (OSError, json.JSONDecodeError, UnicodeDecodeError) as error:
            raise CorpusError(f"{path}: not gzip'd JSON ({error})") from error
        if not isinstance(data, dict) or not isinstance(data.get("output"), dict):
            raise CorpusError(f"{path}: expected {{'version': ..., 'output': {{id: {{'articleBody': ...}}}}}}")
        bodies = {key: (value or {}).get("articleBody") or "" for key, value in data["output"].items()}
        systems[path.name.removesuffix(".json.gz")] = (str(data.get("version") or ""), bodies)
    return systems


def read_segment_pages(root: Path) -> list[SegmentPage]:
    """``evaldata.json`` and ``html/<file>.gz`` of trafilatura-eval."""
    data_path = root / "evaldata.json"
    pages = []
    for url, item in _mapping(_load_json(data_path), data_path).items():
        if not isinstance(item, dict) or not isinstance(item.get("file"), str):
            raise CorpusError(f"{data_path}: page {url!r} has no 'file'")
        segments = item.get("with"), item.get("without")
        if not all(isinstance(s, list) and all(isinstance(x, str) for x in s) for s in segments):
            raise CorpusError(f"{data_path}: page {url!r}: 'with'/'without' must be lists of strings")
        html_path = _require(root / "html" / f"{item['file']}.gz")
        pages.append(SegmentPage(item["file"], url, html_path, tuple(item["with"]), tuple(item["without"]),
                                 _gold_text(item.get("title")), _gold_text(item.get("author")),
                                 _gold_text(item.get("date"))))
    return pages


def _gold_text(value: object) -> str | None:
    """A metadata gold value as one string (lists joined with ``; ``), None when empty."""
    if isinstance(value, list):
        value = "; ".join(str(v) for v in value if v)
    return value.strip() if isinstance(value, str) and value.strip() else None


def read_reuters_stories(root: Path) -> list[WireStory]:
    """Reuters-21578 stories that have a ``<DATELINE>``, rebuilt as the wire printed them: dateline + body.

    Gold place is the dateline's text before its first comma, without leading marks (datelines
    without a comma are odd fragments and have no gold place); gold month/day is the date it prints.
    """
    files = sorted(_require(root).glob("reut2-*.sgm.gz"))
    if not files:
        raise CorpusError(f"{root}: no reut2-*.sgm.gz files")
    stories = [story for path in files for story in _reuters_file(path)]
    if not stories:
        raise CorpusError(f"{root}: no <REUTERS> story with a <DATELINE> and a <BODY>")
    return stories


def _reuters_file(path: Path) -> Iterator[WireStory]:
    for new_id, element in _reuters_elements(path):
        dateline, body = _sgml_field(element, "DATELINE"), _sgml_field(element, "BODY")
        if dateline is None or body is None:
            continue
        head = " ".join(dateline.split()).rstrip(" -")
        place = _LEADING_MARKS.sub("", head.split(",", 1)[0]).strip() if "," in head else None
        yield WireStory(new_id, dateline + body, head, place, _printed_month_day(head),
                        _wire_time(_sgml_field(element, "DATE") or ""))


def _reuters_elements(path: Path) -> Iterator[tuple[str, str]]:
    """``(NEWID, element text)`` of each ``<REUTERS>`` element of one ``reut2-NNN.sgm.gz`` file."""
    try:
        with gzip.open(path, "rb") as handle:
            text = handle.read().decode("latin-1")
    except (OSError, EOFError) as error:
        raise CorpusError(f"{path}: not a readable gzip file ({error})") from error
    if "<REUTERS" not in text:
        raise CorpusError(f"{path}: no <REUTERS> element")
    for match in _REUTERS_ELEMENT.finditer(text):
        new_id = re.search(r'NEWID="(\d+)"', match.group(1))
        if new_id is None:
            raise CorpusError(f"{path}: a <REUTERS> element has no NEWID")
        yield new_id.group(1), match.group(2)


def read_reuters_people(root: Path) -> list[PeopleStory]:
    """Reuters-21578 stories with a ``<BODY>`` and at least one ``<PEOPLE>`` code, as the wire printed
    them: headline, then dateline and body."""
    files = sorted(_require(root).glob("reut2-*.sgm.gz"))
    if not files:
        raise CorpusError(f"{root}: no reut2-*.sgm.gz files")
    stories = []
    for path in files:
        for new_id, element in _reuters_elements(path):
            body, people = _sgml_field(element, "BODY"), _sgml_field(element, "PEOPLE")
            codes = tuple(re.findall(r"<D>([^<]+)</D>", people or ""))
            if body is None or not codes:
                continue
            head = [_sgml_field(element, tag) or "" for tag in ("TITLE", "DATELINE")]
            stories.append(PeopleStory(new_id, f"{head[0]}\n{head[1]}{body}", codes))
    if not stories:
        raise CorpusError(f"{root}: no <REUTERS> story with a <BODY> and a <PEOPLE> code")
    return stories


def _sgml_field(element: str, tag: str) -> str | None:
    """The text of ``<TAG>`` with SGML references resolved and control-character references dropped."""
    found = re.search(rf"<{tag}>(.*?)</{tag}>", element, re.DOTALL)
    if found is None:
        return None
    return html.unescape(_CONTROL_REFERENCE.sub("", found.group(1)))


def _printed_month_day(dateline: str) -> tuple[int, int] | None:
    """The ``Month Day`` a wire dateline prints after its place (``Feb 26``, ``MARCH 3``), else None."""
    found = re.search(r",\s*([A-Za-z]{3})[A-Za-z.]*\s+(\d{1,2})\s*$", dateline)
    if found is None or found.group(1).upper() not in _MONTH_ABBREVIATIONS:
        return None
    return _MONTH_ABBREVIATIONS.index(found.group(1).upper()) + 1, int(found.group(2))


def _wire_time(value: str) -> datetime | None:
    """``26-FEB-1987 15:01:01.79`` (trailing junk ignored) as UTC."""
    found = _REUTERS_WIRE_DATE.search(value)
    if found is None or found.group(2) not in _MONTH_ABBREVIATIONS:
        return None
    day, month, year, hour, minute, second = found.groups()
    return datetime(int(year), _MONTH_ABBREVIATIONS.index(month) + 1, int(day), int(hour), int(minute),
                    int(second), tzinfo=UTC)


def read_conll_datelines(root: Path) -> list[WireStory]:
    """CoNLL-2003 documents whose second sentence is a dateline (``LONDON 1996-12-06``).

    The text is the dateline sentence and the story's sentences, one per line, tokens rejoined with
    spaces (the corpus is tokenised). Gold place is the tokens before the first comma or the date;
    gold month/day comes from the ISO date.
    """
    path = root / "conllpp_test.txt"
    documents = _conll_documents(_require(path))
    if not documents:
        raise CorpusError(f"{path}: no -DOCSTART- document")
    stories = []
    for number, sentences in enumerate(documents, start=1):
        if len(sentences) < 3 or not _ISO_DAY.fullmatch(sentences[1][-1]):
            continue
        tokens = sentences[1]
        place_tokens = tokens[:tokens.index(",")] if "," in tokens else tokens[:-1]
        day = _ISO_DAY.fullmatch(tokens[-1])
        text = "\n".join(" ".join(sentence) for sentence in sentences[1:])
        stories.append(WireStory(f"doc-{number:03d}", text, " ".join(tokens), " ".join(place_tokens),
                                 (int(day.group(2)), int(day.group(3))), None))
    return stories


def _conll_documents(path: Path) -> list[list[list[str]]]:
    """Documents as lists of sentences of tokens; a line that is not ``token POS chunk NER`` is an error."""
    documents: list[list[list[str]]] = []
    sentence: list[str] = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            fields = line.split()
            if not fields:
                if sentence and documents:
                    documents[-1].append(sentence)
                sentence = []
                continue
            if len(fields) != 4:
                raise CorpusError(f"{path}:{number}: expected 'token POS chunk NER', got {line.strip()!r}")
            if fields[0] == "-DOCSTART-":
                documents.append([])
                continue
            if not documents:
                raise CorpusError(f"{path}:{number}: tokens before the first -DOCSTART-")
            sentence.append(fields[0])
    if sentence and documents:
        documents[-1].append(sentence)
    return documents
