"""``entities`` task: the pipeline's NER scored on CoNLL-2003 English test documents (CoNLL++ gold).

Entity-level exact match on PER/ORG/LOC, as in the CoNLL evaluation: a predicted name counts only when
its span and its type both equal a gold entity's. spaCy's OntoNotes labels map PERSON->PER, ORG->ORG,
GPE/LOC/FAC->LOC; MISC (and NORP, EVENT, ... on our side) is not scored. Each document's sentences are
joined by line breaks into one story, which is what the pipeline reads; the raw model baseline reads the
same sentences one at a time, as the published baseline did. ``--split`` keeps one half of the documents
by a hash of their id (`quality.corpora.CONLL_DOCUMENTS`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from quality.corpora import CONLL_DOCUMENTS, in_split
from quality.report import CorpusError, Score, TaskResult

GOLD_FILE = "conllpp_test.txt"
TYPES = ("PER", "ORG", "LOC")
TO_CONLL = {"PERSON": "PER", "ORG": "ORG", "GPE": "LOC", "LOC": "LOC", "FAC": "LOC"}
SENTENCE_BREAK = "\n"
PUBLISHED = Score(
    "spaCy en_core_web_sm, sentences",
    {"F1": 0.59, "PER_F1": 0.64, "ORG_F1": 0.34, "LOC_F1": 0.77},
    items=0,
    published=True,
    note="issue 3 baseline",
)

Span = tuple[int, int, int, str]  # document index, start, end, CoNLL type
Token = tuple[str, str]  # token, NER tag


@dataclass(frozen=True)
class ConllDocument:
    id: str
    sentences: list[list[Token]]

    @property
    def text(self) -> str:
        return SENTENCE_BREAK.join(" ".join(token for token, _ in sentence) for sentence in self.sentences)

    def sentence_starts(self) -> list[int]:
        """Offset of each sentence in :attr:`text`."""
        starts, offset = [], 0
        for sentence in self.sentences:
            starts.append(offset)
            offset += len(" ".join(token for token, _ in sentence)) + len(SENTENCE_BREAK)
        return starts


def read_conll(path: Path) -> list[ConllDocument]:
    """Documents of a CoNLL-2003 file (``token POS chunk NER`` lines, ``-DOCSTART-`` between stories)."""
    documents: list[ConllDocument] = []
    sentence: list[Token] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise CorpusError(f"cannot read {path}: {error}") from error
    for number, line in enumerate(lines, 1):
        fields = line.split(" ")
        if line.startswith("-DOCSTART-") or not line.strip():
            if sentence:
                documents[-1].sentences.append(sentence)
                sentence = []
            if line.startswith("-DOCSTART-"):
                documents.append(ConllDocument(f"doc-{len(documents) + 1:03d}", []))
            continue
        if len(fields) != 4 or not documents or not _is_tag(fields[3]):
            raise CorpusError(f"{path}:{number}: expected 'token POS chunk NER' after a -DOCSTART- line")
        sentence.append((fields[0], fields[3]))
    if sentence:
        documents[-1].sentences.append(sentence)
    if not any(document.sentences for document in documents):
        raise CorpusError(f"{path}: no documents")
    return documents


def _is_tag(tag: str) -> bool:
    return tag == "O" or (tag[:2] in ("B-", "I-") and len(tag) > 2)


def gold_spans(document: ConllDocument, index: int) -> set[Span]:
    """Scored gold entities as character spans of :attr:`ConllDocument.text`; reads IOB1 and IOB2."""
    spans: set[Span] = set()
    for sentence, offset in zip(document.sentences, document.sentence_starts(), strict=True):
        current: list | None = None  # [start, end, type]
        for token, tag in sentence:
            start = offset
            offset += len(token) + 1
            kind = tag[2:]
            if tag == "O" or tag.startswith("B-") or (current and current[2] != kind):
                if current:
                    spans.add((index, *current))
                current = None
            if tag != "O":
                current = [current[0] if current else start, start + len(token), kind]
        if current:
            spans.add((index, *current))
    return {span for span in spans if span[3] in TYPES}


def to_spans(index: int, offset: int, mentions: Iterable[tuple[int, int, str]]) -> set[Span]:
    """Predicted ``(start, end, spaCy label)`` to scored spans; unscored labels are dropped."""
    return {(index, offset + a, offset + b, TO_CONLL[label]) for a, b, label in mentions if label in TO_CONLL}


def prf(gold: set[Span], predicted: set[Span]) -> dict[str, float]:
    """Precision, recall and F1 overall and F1 per type (``PER_F1``, ...); 0 where undefined."""
    metrics = dict(zip(("P", "R", "F1"), _prf(gold, predicted), strict=True))
    for kind in TYPES:
        _, _, f1 = _prf({s for s in gold if s[3] == kind}, {s for s in predicted if s[3] == kind})
        metrics[f"{kind}_F1"] = f1
    return metrics


def _prf(gold: set[Span], predicted: set[Span]) -> tuple[float, float, float]:
    hits = len(gold & predicted)
    precision = hits / len(predicted) if predicted else 0.0
    recall = hits / len(gold) if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return round(precision, 4), round(recall, 4), round(f1, 4)


def _batches(items: list, size: int) -> Iterator[tuple[int, list]]:
    for start in range(0, len(items), size):
        yield start, items[start : start + size]


def score(corpus: Path, limit: int | None, progress: Callable[[int, int], None],
          config: Path | None = None, split: str = "all") -> TaskResult:
    """Score the pipeline's recognizer per document and the raw model per sentence on the same run."""
    from pipeline.config import load_run_config
    from transforms.entities import EntityRecognizer

    documents = [doc for doc in read_conll(Path(corpus) / GOLD_FILE) if in_split(doc.id, split, CONLL_DOCUMENTS)]
    documents = documents[:limit]
    cfg = load_run_config(config)
    recognizer = EntityRecognizer.from_config(cfg)
    nlp = recognizer.pipelines.get("en")
    if nlp is None:
        raise CorpusError("no English spaCy model is installed; nothing to score")
    gold = set().union(*(gold_spans(doc, index) for index, doc in enumerate(documents)))
    ours: set[Span] = set()
    raw: set[Span] = set()
    total, done = 2 * len(documents), 0
    for first, batch in _batches(documents, cfg["entities"]["batch_size"]):
        found = recognizer.mentions("en", [doc.text for doc in batch])
        for index, mentions in enumerate(found, first):
            ours |= to_spans(index, 0, ((m.start, m.end, m.label) for m in mentions))
        done += len(batch)
        progress(done, total)
    for index, doc in enumerate(documents):
        sentences = nlp.pipe([" ".join(token for token, _ in s) for s in doc.sentences])
        for offset, parsed in zip(doc.sentence_starts(), sentences, strict=True):
            raw |= to_spans(index, offset, ((e.start_char, e.end_char, e.label_) for e in parsed.ents))
        done += 1
        progress(done, total)
    model = recognizer.model_names["en"]
    counts = {kind: sum(1 for span in gold if span[3] == kind) for kind in TYPES}
    return TaskResult(
        task="entities",
        corpus=f"{corpus} ({split})",
        metric="entity-level exact-match P/R/F1 on PER/ORG/LOC (MISC, NORP, EVENT, ... not scored)",
        scores=[
            Score("newsbeam (documents)", prf(gold, ours), len(documents), note=f"{model} + context rules"),
            Score("raw model, sentences", prf(gold, raw), len(documents), note=model),
            PUBLISHED,
        ],
        details={"gold_entities": counts, "documents": len(documents)},
    )
