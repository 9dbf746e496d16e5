"""Named entities: spaCy NER, corrected with document context and a gazetteer, merged per entity.

The model reads one sentence's worth of context and errs in ways a reader of the whole story would not:
it misses names in ALL-CAPS headlines, gives the second mention of a name another label than the first,
and calls a surname a place. :func:`resolve_mentions` fixes those from the document itself and from the
place gazetteer; it returns spans (which the quality harness scores) and :func:`merge_mentions` turns the
same spans into the per-article entity list the pipeline writes.
"""

from __future__ import annotations

import importlib.util
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, fields
from itertools import pairwise

from transforms.gazetteer import Gazetteer

_LEADING_ARTICLE = re.compile(r"^(?:the|The|THE)\s+")
_POSSESSIVE = re.compile(r"(?:['’]s|['’])$")
_PERSON = "PERSON"
_PLACE = "GPE"
_PLACE_LABELS = frozenset({"GPE", "LOC", "FAC"})
_SURNAME = "surname"
_COMPANY = "company"
# A word for recasing and name matching: letters, with inner hyphens, apostrophes or dots ("AL-AIN", "U.S").
_WORD = re.compile(r"[^\W\d_]+(?:[-'’.][^\W\d_]+)*")
# Where one name ends and another may begin inside a model span: a line break, a spaced dash or a figure
# ("Charlton 2 Swindon" in a results row).
_SPAN_BREAK = re.compile(r"\s*\n\s*|\s+(?:[-–—/()]+|vs?\.?|\d[\d.,:/-]*)\s+|\s+[()]|[()]\s+")
# Leading and trailing pieces that are never part of a name: articles, numbers, punctuation, possessives.
_HEAD_JUNK = re.compile(r"^(?:(?:the|The|THE)\s+|[^\w\s]+\s*|\d[\d.,:/-]*\s+)+")
_TAIL_JUNK = re.compile(r"(?:\s+[\d.,:/-]+|['’]s?|\s+|[,;:\"“”‘’()\[\]-])+$")


@dataclass(frozen=True)
class Entity:
    """One entity of an article: ``text`` as the article most often writes it, ``canonical`` the one name
    every article gives it (a place's gazetteer name, a person's full name), ``country_code`` for places."""

    text: str
    label: str
    count: int
    canonical: str
    country_code: str | None = None


@dataclass(frozen=True)
class NameLists:
    """Word lists of ``configs/entity_rules.yaml`` (see there): compared case-insensitively."""

    never: frozenset[str] = frozenset()
    roles: frozenset[str] = frozenset()
    company_suffixes: frozenset[str] = frozenset()
    particles: frozenset[str] = frozenset()
    own_names: frozenset[str] = frozenset()

    @classmethod
    def from_config(cls, config: dict) -> NameLists:
        return cls(*(frozenset(word.casefold() for word in config.get(field.name, ())) for field in fields(cls)))


@dataclass(frozen=True)
class Mention:
    """One resolved mention: offsets into the text given to the recognizer; ``text`` as NER read it (an
    ALL-CAPS line recased, so "LONDON" and "London" merge into one entity)."""

    start: int
    end: int
    text: str
    label: str


@dataclass(frozen=True)
class ContextRules:
    """Document-level corrections (``configs/local.yaml`` says what each one is worth in entity F1).

    ``shouting_*``: a line with at least this many letters, this share of them capitals, is recased
    before NER; ``min_city_population``: a city at least this big is trusted as a place name;
    ``wrapped_*``: a story is hard-wrapped (:func:`is_hard_wrapped`; 0 chars: never), and then a line break
    inside a name that wraps a line at least ``wrapped_line_chars`` long is no cut.
    """

    propagate: bool = True
    split_spans: bool = True
    recase_shouting: bool = True
    places: bool = True
    shouting_min_letters: int = 6
    shouting_ratio: float = 0.9
    min_city_population: int = 300_000
    tables: bool = True
    wrapped_line_chars: int = 0
    wrapped_share: float = 0.6


def clean_mention(text: str) -> str:
    """Mention text without line breaks, a leading article or a trailing possessive."""
    text = " ".join(text.split())
    text = _LEADING_ARTICLE.sub("", text)
    return _POSSESSIVE.sub("", text).strip(" .,;:\"'“”‘’()[]")


def merge_mentions(
    mentions: list[tuple[str, str]],
    labels: frozenset[str],
    places: Gazetteer | None = None,
    names: NameLists = NameLists(),
) -> list[Entity]:
    """Merge ``(text, label)`` mentions into entities, most mentioned first.

    One name is one entity: its label is the one most mentions give it (NER sometimes tags a surname as
    a place), and a single word that is the first or last word of exactly one person's full name
    (``Blinken``, ``Xi``, a ``Wang`` tagged ORG beside ``Wang Yi``) counts toward that person, unless it
    names a country. Each entity is then named by :func:`canonical_name`, and variants sharing that name
    ("U.S", "US", "United States") are one entity.
    """
    votes: dict[str, Counter] = defaultdict(Counter)
    for raw, label in mentions:
        text = clean_mention(raw)
        if text and any(ch.isalpha() for ch in text):
            votes[text][label] += 1
    label_of = {text: counter.most_common(1)[0][0] for text, counter in votes.items()}
    people = [text for text, label in label_of.items() if label == _PERSON and " " in text]
    by_name: dict[tuple[str, str | None], Counter] = defaultdict(Counter)  # (name, code) -> (text, label) -> n
    for text, counter in votes.items():
        country = places is not None and places.is_country(text)
        target = None if country else _full_name(text, people)
        label = _PERSON if target else label_of[text]
        by_name[canonical_name(target or text, label, places, names)][(target or text, label)] += counter.total()
    entities = []
    for (name, code), forms in by_name.items():
        (text, label), _ = forms.most_common(1)[0]
        entities.append(Entity(text, label, forms.total(), name, code))
    entities = [e for e in entities if e.label in labels]
    return sorted(entities, key=lambda e: (-e.count, e.text))


def canonical_name(
    text: str, label: str, places: Gazetteer | None, names: NameLists = NameLists()
) -> tuple[str, str | None]:
    """``(name, country code)`` every article gives one entity: a place the gazetteer knows is named as the
    gazetteer names it ("U.S", "US", "USA" -> "United States", a country's other names unless listed in
    ``names.own_names``) with its country's ISO code; any other name is its text."""
    if label not in _PLACE_LABELS or places is None:
        return text, None
    match = places.lookup_place(text)
    if match is None:
        return text, None
    if match.kind == "country" and text.casefold() not in names.own_names:
        return places.country_name(match.code) or text, match.code
    return places.spelling(text) or text, match.code


def _full_name(text: str, people: list[str]) -> str | None:
    """The one multi-word person name whose first or last word is ``text``, if exactly one."""
    if " " in text:
        return None
    fits = [name for name in people if name.split()[-1] == text or name.split()[0] == text]
    return fits[0] if len(fits) == 1 else None


def is_shouting(line: str, rules: ContextRules) -> bool:
    """True for an ALL-CAPS line (a wire headline, a dateline), where NER cannot see what is a name."""
    letters = [ch for ch in line if ch.isalpha()]
    if len(letters) < rules.shouting_min_letters:
        return False
    return sum(ch.isupper() for ch in letters) >= rules.shouting_ratio * len(letters)


def shouting_lines(text: str, rules: ContextRules) -> list[tuple[int, int]]:
    """``(start, end)`` of each ALL-CAPS line of ``text``."""
    found, offset = [], 0
    for line in text.split("\n"):
        if is_shouting(line, rules):
            found.append((offset, offset + len(line)))
        offset += len(line) + 1
    return found


def recase_shouting(text: str, rules: ContextRules, places: Gazetteer | None = None) -> str:
    """``text`` with its ALL-CAPS lines in the case the rest of the story writes each word, else in the
    gazetteer's spelling of a known place, else in lower case. The length never changes, so offsets into
    the result are offsets into ``text``."""
    lines = text.split("\n")
    loud = [is_shouting(line, rules) for line in lines]
    if not any(loud):
        return text
    forms = _written_forms(line for line, shouting in zip(lines, loud, strict=True) if not shouting)
    return "\n".join(
        _recase_line(line, forms, rules, places) if shouting else line
        for line, shouting in zip(lines, loud, strict=True)
    )


def _written_forms(lines) -> dict[str, str]:
    """Casefolded word -> how the story writes it: lower case if it ever does, else its commonest form."""
    seen: dict[str, Counter] = defaultdict(Counter)
    for line in lines:
        for match in _WORD.finditer(line):
            seen[match.group().casefold()][match.group()] += 1
    return {key: (key if key in forms else forms.most_common(1)[0][0]) for key, forms in seen.items()}


def _recase_line(line: str, forms: dict[str, str], rules: ContextRules, places: Gazetteer | None) -> str:
    words = list(_WORD.finditer(line))
    out = list(line)
    position = 0
    while position < len(words):
        for size in (3, 2, 1):  # the longest run of words that the story or the gazetteer spells
            run = words[position : position + size]
            if len(run) < size or any(line[a.end() : b.start()] != " " for a, b in pairwise(run)):
                continue
            original = line[run[0].start() : run[-1].end()]
            form = forms.get(original.casefold()) or _place_spelling(original, rules, places)
            if form and len(form) == len(original):
                out[run[0].start() : run[-1].end()] = form
                position += size
                break
        else:
            word = words[position]
            lowered = word.group().lower()
            if len(lowered) == len(word.group()):
                out[word.start() : word.end()] = lowered
            position += 1
    return "".join(out)


def _place_spelling(name: str, rules: ContextRules, places: Gazetteer | None) -> str | None:
    """How the gazetteer spells a country or big city (a small town's name is too often a common word)."""
    return places.spelling(name) if places is not None and _is_place(name, rules, places) else None


def _is_place(name: str, rules: ContextRules, places: Gazetteer) -> bool:
    """A country, a newsroom alias, or a city big enough that the name usually means the place."""
    match = places.lookup_place(name)
    if match is None:
        return False
    return match.kind in ("alias", "country") or (
        match.kind == "city" and match.population >= rules.min_city_population
    )


def split_span(text: str, start: int, end: int, wrapped_line_chars: int = 0) -> list[tuple[int, int]]:
    """The names inside one model span: cut at line breaks and spaced dashes, with leading articles,
    numbers and punctuation and trailing scores, possessives and punctuation trimmed off. A line break
    that only wraps a line of prose is no cut (see :func:`is_wrap`; ``wrapped_line_chars`` 0: every one is)."""
    pieces = []
    cursor = start
    breaks = [brk for brk in _SPAN_BREAK.finditer(text, start, end)
              if not (wrapped_line_chars and is_wrap(text, brk.start(), brk.end(), wrapped_line_chars))]
    for brk in [*breaks, None]:
        piece_end = brk.start() if brk else end
        pieces.append(_trim(text, cursor, piece_end))
        cursor = brk.end() if brk else end
    return [(a, b) for a, b in pieces if b > a and any(ch.isalpha() for ch in text[a:b])]


def is_wrap(text: str, start: int, end: int, min_chars: int) -> bool:
    """True when the whitespace ``text[start:end]`` is a line break that hard-wraps prose, as wire copy
    wraps at a fixed width ("Agriculture Secretary Richard\nLyng"): the line it ends is at least
    ``min_chars`` long and ends in a word, and the next line goes on with a capitalised word. A short line
    (a byline, a headline) or one ending in punctuation (a sentence) ends where its names end."""
    gap = text[start:end]
    if "\n" not in gap or gap.strip():
        return False
    line = text[text.rfind("\n", 0, start) + 1 : start]
    return len(line) >= min_chars and line[-1:].isalpha() and text[end : end + 1].isupper()


def is_hard_wrapped(text: str, rules: ContextRules) -> bool:
    """True for a story wrapped at a fixed width, as wire copy is: at least ``rules.wrapped_share`` of its
    lines of ``rules.wrapped_line_chars`` or more end inside a sentence (in a word or a comma). Text with a
    sentence or a table row per line (tokenised corpora, results) ends its lines in punctuation or figures."""
    if not rules.wrapped_line_chars:
        return False
    lines = [line for line in text.split("\n") if len(line) >= rules.wrapped_line_chars]
    inside = sum(1 for line in lines if line[-1].isalpha() or line[-1] == ",")
    return bool(lines) and inside >= rules.wrapped_share * len(lines)


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    piece = text[start:end]
    head = _HEAD_JUNK.match(piece)
    cut_start = head.end() if head else 0
    tail = _TAIL_JUNK.search(piece, cut_start)
    cut_end = tail.start() if tail else len(piece)
    return start + cut_start, start + max(cut_end, cut_start)


def resolve_mentions(
    text: str,
    spans: list[tuple[int, int, str]],
    rules: ContextRules,
    places: Gazetteer | None = None,
    names: NameLists = NameLists(),
    shouted: list[tuple[int, int]] = (),
) -> list[Mention]:
    """Model spans ``(start, end, label)`` over ``text`` to mentions a reader of the whole story would
    mark: names only (a span without a capital letter is none, nor a word of ``names.never``, nor a role
    before a person's name), one label per name throughout the story, every mention of a named person or
    a known place found, a country or big city a place (in a results row, a city is the club named after
    it). ``shouted`` are the lines that were ALL CAPS before recasing (see :func:`_propagate`)."""
    wrap = rules.wrapped_line_chars if is_hard_wrapped(text, rules) else 0
    pieces = [
        (a, b, label)
        for start, end, label in spans
        for a, b in (split_span(text, start, end, wrap) if rules.split_spans else [(start, end)])
    ]
    pieces = [(a, b, label) for a, b, label in pieces if any(ch.isupper() for ch in text[a:b])]
    pieces = _named(text, [part for piece in pieces for part in _person_names(text, piece, names)], names)
    if rules.places and places is not None:
        pieces = [(a, b, _PLACE if _is_place(text[a:b], rules, places) else label)
                  for a, b, label in pieces]
    if rules.propagate:
        pieces = _propagate(text, pieces, names, places, shouted)
    if rules.places and places is not None:
        pieces += _unlabelled_places(text, pieces, rules, places)
    if rules.tables:
        pieces = _named(text, _table_names(text, pieces, rules, places), names)
    return [Mention(a, b, text[a:b], label) for a, b, label in sorted(pieces)]


def _named(text: str, pieces: list[tuple[int, int, str]], names: NameLists) -> list[tuple[int, int, str]]:
    """The pieces whose text is not a never-entity word ("State", "Main", a table's "Total"), nor a word
    made from a name with a lower-case prefix ("trans-Atlantic", "anti-EU"; a name particle, "al-", stays)."""
    return [(a, b, label) for a, b, label in pieces
            if text[a:b].casefold() not in names.never and not _prefixed_word(text[a:b], names)]


def _prefixed_word(name: str, names: NameLists) -> bool:
    head, dash, _ = name.partition("-")
    return bool(dash) and " " not in name and head.islower() and head not in names.particles


def _person_names(text: str, piece: tuple[int, int, str], names: NameLists) -> list[tuple[int, int, str]]:
    """A person span as the names in it: cut at lower-case words other than name particles ("Xu Nannan
    ninth", "Younis st Germon b Harris"), and each part without the role words it opens with ("Defender
    Hassan Abbas" -> "Hassan Abbas"; a part that is only a role is kept as it is)."""
    a, b, label = piece
    if label != _PERSON:
        return [piece]
    words = list(_WORD.finditer(text, a, b))
    parts, current = [], []
    for word in words:
        if word.group().islower() and word.group() not in names.particles:
            parts.append(current)
            current = []
        else:
            current.append(word)
    parts.append(current)
    return [_without_role(text, part, b if part[-1] is words[-1] else part[-1].end(), names)
            for part in parts if part]


def _without_role(text: str, words: list[re.Match], end: int, names: NameLists) -> tuple[int, int, str]:
    """The person span of ``words`` (ending at ``end``) from its first word that is no role word."""
    cut = 0
    while cut < len(words) - 1:
        for size in (3, 2, 1):
            run = words[cut : cut + size]
            if len(run) == size and cut + size < len(words) and _role(text, run) in names.roles:
                cut += size
                break
        else:
            break
    return words[cut].start(), end, _PERSON


def _role(text: str, run: list[re.Match]) -> str:
    end = run[-1].end()
    return text[run[0].start() : end + (text[end : end + 1] == ".")].casefold()


def _propagate(
    text: str, pieces: list[tuple[int, int, str]], names: NameLists = NameLists(), places: Gazetteer | None = None,
    shouted: list[tuple[int, int]] = (),
) -> list[tuple[int, int, str]]:
    """One label per name (the majority); a named person's lone surname a person, and so any other word of
    a person's name the model labelled (unless a country); a company's name without its legal suffix
    ("Acme" of "Acme Corp", and of "Acme Mining Corp" where the model labelled it) a company; and every
    other capitalised occurrence of a labelled name labelled too. A label read in a ``shouted`` line
    (recased from ALL CAPS, where the model guesses) votes only for a name the rest of the story does not
    label: a surname the headline calls an organisation stays the person the body names."""
    votes: dict[str, Counter] = defaultdict(Counter)
    loud_votes: dict[str, Counter] = defaultdict(Counter)
    for a, b, label in pieces:
        (loud_votes if any(start <= a < end for start, end in shouted) else votes)[text[a:b]][label] += 1
    for name, counter in loud_votes.items():
        if name not in votes:
            votes[name] = counter
    for a, b, label in pieces:
        words = text[a:b].split()
        if len(words) < 2:
            continue
        if label == _PERSON and words[-1][:1].isupper() and len(words[-1]) > 1:
            votes[words[-1]][_SURNAME] += 1
        if label == _PERSON:
            for word in words[:-1]:
                if word in votes and not (places is not None and places.is_country(word)):
                    votes[word][_SURNAME] += 1
        if label == "ORG" and words[-1].strip(".,").casefold() in names.company_suffixes:
            votes[" ".join(words[:-1])][_COMPANY] += 1
            if len(words) > 2 and words[0] in votes:  # "Acme" of "Acme Mining Corp", where labelled alone
                votes[words[0]][_COMPANY] += 1
    label_of = {name: counter.most_common(1)[0][0] for name, counter in votes.items()}
    for name in list(label_of):  # "Les Ferdinand" read as a place where "Ferdinand" alone is a person
        words = name.split()
        if len(words) > 1 and label_of.get(words[-1]) == _PERSON and not (places and places.lookup_place(name)):
            votes[name][_SURNAME] += 1
    label_of |= {name: _PERSON for name, counter in votes.items() if counter[_SURNAME]}
    label_of |= {name: "ORG" for name, counter in votes.items() if counter[_COMPANY]}
    resolved = [(a, b, label_of[text[a:b]]) for a, b, _ in pieces]
    lowered = {match.group() for match in _WORD.finditer(text) if match.group().islower()}
    found = [name for name in label_of if name[:1].isupper() and name.lower() not in lowered]
    if not found:
        return resolved
    taken = _taken(resolved, len(text))
    pattern = re.compile(r"(?<![\w.'’-])(?:" + "|".join(map(re.escape, sorted(found, key=len, reverse=True)))
                         + r")(?![\w'’-])")
    for match in pattern.finditer(text):
        if not any(taken[match.start() : match.end()]):
            resolved.append((match.start(), match.end(), label_of[match.group()]))
    return resolved


# A results or standings row: capitalised names, scores and figures, at most a "v" between them.
_TABLE_FIGURE = re.compile(r"[\d.,:/()+-]*\d[\d.,:/()+-]*")
_TABLE_WORD = re.compile(r"[A-Z][\w'’.&-]*|vs?\.?|[.,;:()]")
_BRACKETED = re.compile(r"\([^()]*\)")


def is_table_row(line: str) -> bool:
    """True for a line like "Arsenal 2 Derby 1", "Swindon 22 9 2 11 32 28 29" (two figures or more) or
    "Celtic 2 ( Hay 83 ) Hearts 1 ." (scorers in brackets, punctuation between)."""
    figures = 0
    for token in line.split():
        if _TABLE_FIGURE.fullmatch(token):
            figures += 1
        elif not _TABLE_WORD.fullmatch(token):
            return False
    return figures >= 2


def _table_names(
    text: str, pieces: list[tuple[int, int, str]], rules: ContextRules, places: Gazetteer | None
) -> list[tuple[int, int, str]]:
    """Names in results and standings rows ("Arsenal 2 Derby 1", "Swindon 22 9 2 11 32 28 29") are the
    competitors: a person (a full name, or the surname of one) or a country when the story says so, else
    a team (an organisation)."""
    out = list(pieces)
    by_start = {a: i for i, (a, _, _) in enumerate(pieces)}
    taken = _taken(pieces, len(text))
    person_words = {word for a, b, label in pieces if label == _PERSON for word in text[a:b].split()[1:]}
    offset = 0
    for line in text.split("\n"):
        if is_table_row(line):
            bracketed = [(m.start(), m.end()) for m in _BRACKETED.finditer(line)]  # scorers, not competitors
            for match in _CAPITALISED_RUN.finditer(line):
                if any(a <= match.start() < b for a, b in bracketed):
                    continue
                a, b = offset + match.start(), offset + match.end()
                index = by_start.get(a)
                country = places is not None and places.is_country(match.group())
                competitor = _PLACE if country else "ORG"
                if index is not None and pieces[index][1] == b:
                    if pieces[index][2] != _PERSON or _team_not_person(match.group(), person_words, rules, places):
                        out[index] = (a, b, competitor)
                elif not any(taken[a:b]):
                    out.append((a, b, competitor))
        offset += len(line) + 1
    return out


def _team_not_person(name: str, person_words: set[str], rules: ContextRules, places: Gazetteer | None) -> bool:
    """A "person" in a results row that is a team: one word that is no surname of a person the story names,
    or a name with a place in it ("Atletico Madrid")."""
    if " " not in name:
        return name not in person_words
    return places is not None and any(_is_place(word, rules, places) for word in name.split())


def _taken(pieces: list[tuple[int, int, str]], length: int) -> bytearray:
    taken = bytearray(length)
    for a, b, _ in pieces:
        taken[a:b] = b"\x01" * (b - a)
    return taken


_CAPITALISED_RUN = re.compile(r"(?<![\w'’.-])[A-Z][\w'’.-]*(?: [A-Z][\w'’.-]*)*(?![\w'’-])")


def _unlabelled_places(
    text: str, pieces: list[tuple[int, int, str]], rules: ContextRules, places: Gazetteer
) -> list[tuple[int, int, str]]:
    """Runs of capitalised words the model left unlabelled that are, as a whole, a country or big city."""
    taken = _taken(pieces, len(text))
    found = []
    for match in _CAPITALISED_RUN.finditer(text):
        name = match.group().rstrip(".")
        if not any(taken[match.start() : match.end()]) and _is_place(name, rules, places):
            found.append((match.start(), match.start() + len(name), _PLACE))
    return found


def groups_of_chars(texts: list[str], budget: int) -> Iterator[list[str]]:
    """Consecutive texts in groups of at most ``budget`` characters (a longer text is a group of its own).

    spaCy's peak memory grows with everything it holds in one batch, not with the number of texts.
    """
    group: list[str] = []
    size = 0
    for text in texts:
        if group and size + len(text) > budget:
            yield group
            group, size = [], 0
        group.append(text)
        size += len(text)
    if group:
        yield group


def first_installed(packages: list[str]) -> str | None:
    """The first spaCy model package in ``packages`` that is importable here."""
    return next((name for name in packages if importlib.util.find_spec(name) is not None), None)


class EntityRecognizer:
    """Loads one spaCy model per language with only the components NER needs, and the place gazetteer;
    built once per worker."""

    def __init__(
        self,
        models: dict[str, list[str]],
        labels: list[str],
        batch_chars: int,
        max_chars: int,
        rules: ContextRules | None = None,
        places: Gazetteer | None = None,
        names: NameLists | None = None,
    ):
        import spacy  # heavy import, only where NER runs

        self.labels = frozenset(labels)
        self.batch_chars = batch_chars
        self.max_chars = max_chars
        self.rules = rules or ContextRules()
        self.places = places
        self.names = names or NameLists()
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

    @classmethod
    def from_config(cls, cfg: dict) -> EntityRecognizer:
        """From a run config (``pipeline.config.load_run_config``): its ``entities`` block, gazetteer and
        entity word lists."""
        entities = cfg["entities"]
        places = Gazetteer.shared(cfg["gazetteer"]) if "gazetteer" in cfg else None
        return cls(entities["models"], entities["labels"], entities["batch_chars"], entities["max_chars"],
                   ContextRules(**entities.get("context", {})), places,
                   NameLists.from_config(cfg.get("entity_rules", {})))

    def mentions(self, language: str, texts: list[str]) -> list[list[Mention]]:
        """Resolved mentions, with offsets, for each text (all in ``language``); empty without a model."""
        nlp = self.pipelines.get(language)
        if nlp is None:
            return [[] for _ in texts]
        read = [text[: self.max_chars] for text in texts]
        shouted = [shouting_lines(text, self.rules) for text in read]
        if self.rules.recase_shouting:
            read = [recase_shouting(text, self.rules, self.places) for text in read]
        # Every new word a doc meets stays in the model's vocabulary, so a long run over fresh news would
        # grow without bound. A memory zone drops them when it closes; nothing made in it is kept but
        # offsets and labels.
        with nlp.memory_zone():
            groups = groups_of_chars(read, self.batch_chars)
            docs = (doc for group in groups for doc in nlp.pipe(group, batch_size=len(group)))
            return [
                resolve_mentions(
                    doc.text,
                    [(ent.start_char, ent.end_char, ent.label_) for ent in doc.ents if ent.label_ in self.labels],
                    self.rules,
                    self.places,
                    self.names,
                    loud,
                )
                for doc, loud in zip(docs, shouted, strict=True)
            ]

    def recognise(self, language: str, texts: list[str]) -> list[list[Entity]]:
        """Entities for each text (all in ``language``); empty lists when no model serves it."""
        return [
            merge_mentions([(m.text, m.label) for m in found], self.labels, self.places, self.names)
            for found in self.mentions(language, texts)
        ]
