"""Stories: the copies of one wire story that several sites publish get one ``story_id``.

Syndicated copies are not byte-identical (a site trims a paragraph, adds its own credit line), so exact
hashes miss them. MinHash over word shingles (datasketch) estimates the Jaccard similarity of two bodies'
shingle sets, and locality-sensitive hashing finds the pairs above ``threshold`` without comparing every
pair. Copies linked through a chain of such pairs are one story, named after its smallest article id so
the name does not depend on the order articles arrive in. A copy of a story seen in an earlier run (its
signature kept in the output's story index) takes that story's name.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from transforms.identity import normalised_text, sha256_hex

if TYPE_CHECKING:  # datasketch imports scipy (0.3-1 s): paid where stories are grouped, not by every importer
    from datasketch import LeanMinHash

SEED = 1  # of the MinHash permutations; signatures kept across runs are comparable only under one seed


@dataclass(frozen=True)
class StorySettings:
    """``stories`` of the run config (see ``configs/local.yaml``).

    ``shingle_words``: words per shingle; ``num_perm``: MinHash permutations (more: finer estimates,
    bigger signatures); ``threshold``: the Jaccard similarity of shingle sets from which two bodies are
    copies; ``min_words``: a body shorter than this is a story of its own (too few shingles to tell).
    """

    shingle_words: int = 5
    num_perm: int = 128
    threshold: float = 0.5
    min_words: int = 40


def shingles(body: str, size: int) -> set[str]:
    """The body's runs of ``size`` consecutive words, case, accents of width and punctuation folded."""
    words = normalised_text(body).split()
    return {" ".join(words[i : i + size]) for i in range(max(1, len(words) - size + 1))} if words else set()


def signature(body: str, settings: StorySettings) -> LeanMinHash | None:
    """The body's MinHash (the lean kind: its values only, small to send between workers), or None for a
    body too short to compare."""
    if len(body.split()) < settings.min_words:
        return None
    from datasketch import LeanMinHash, MinHash

    minhash = MinHash(num_perm=settings.num_perm, seed=SEED)
    minhash.update_batch([shingle.encode("utf-8") for shingle in shingles(body, settings.shingle_words)])
    return LeanMinHash(minhash)


def story_id(article_id: str) -> str:
    """The story named after its smallest article id."""
    return "story:" + sha256_hex(article_id)[:32]


def group_stories(signatures: Iterable[tuple[str, LeanMinHash | None]], settings: StorySettings,
                  earlier: Iterable[tuple[str, str, LeanMinHash]] = ()) -> dict[str, str]:
    """``article_id -> story_id`` for every article: copies linked by near-duplicate pairs (an LSH candidate
    whose estimated Jaccard similarity reaches the threshold) share one.

    ``earlier`` holds ``(article_id, story_id, signature)`` of rows committed before: a story that reaches
    one of them keeps its ``story_id`` (the smallest, should it reach several), and an article seen
    before keeps its own. Earlier rows are never regrouped among themselves, so committed ids stay. They
    are looked up in an LSH of the new rows as they stream by, and only those that reach a new row are
    kept (as a name, not a signature), so memory follows the new rows whatever ``earlier`` holds.
    """
    from datasketch import MinHashLSH

    lsh = MinHashLSH(threshold=settings.threshold, num_perm=settings.num_perm)
    parent: dict[tuple[str, str], tuple[str, str]] = {}
    minhashes: dict[tuple[str, str], LeanMinHash] = {}
    told: dict[tuple[str, str], str] = {}  # an earlier row's node -> its committed story

    def root(node: tuple[str, str]) -> tuple[str, str]:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    def link(node: tuple[str, str], other: tuple[str, str]) -> None:
        first, second = sorted((root(node), root(other)))
        parent[second] = first

    for key, minhash in sorted(signatures, key=lambda item: item[0]):
        node = parent.setdefault(("new", key), ("new", key))
        if minhash is None:
            continue
        for other in lsh.query(minhash):  # candidates; LSH lets some pairs below the threshold through
            if minhash.jaccard(minhashes[other]) >= settings.threshold:
                link(node, other)
        lsh.insert(node, minhash)
        minhashes[node] = minhash
    seen: set[str] = set()  # the first entry of an article id is the one that counts
    for key, story, minhash in earlier:
        if key in seen or not comparable(minhash, settings):
            continue
        seen.add(key)
        reached = [other for other in lsh.query(minhash) if minhash.jaccard(minhashes[other]) >= settings.threshold]
        if ("new", key) in parent:
            reached.append(("new", key))
        if reached:
            node = ("earlier", key)
            parent[node], told[node] = node, story
            for other in reached:
                link(node, other)
    members: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    for node in parent:
        members[root(node)].append(node)
    names: dict[str, str] = {}
    for nodes in members.values():
        committed = sorted(told[node] for node in nodes if node in told)
        new_keys = [key for kind, key in nodes if kind == "new"]
        name = committed[0] if committed else story_id(min(new_keys))
        names.update(dict.fromkeys(new_keys, name))
    return names


@dataclass(frozen=True)
class Wanted:
    """What a group of new rows can meet among earlier entries: their ids and their signatures' band keys."""

    ids: frozenset[str]
    bands: frozenset[int]


def wanted(signatures: Iterable[tuple[str, LeanMinHash | None]], settings: StorySettings) -> Wanted:
    """The ids and band keys of new rows: an earlier entry sharing neither cannot join any of their stories."""
    pairs = list(signatures)
    return Wanted(frozenset(key for key, _ in pairs),
                  frozenset(band for _, minhash in pairs if minhash is not None
                            for band in band_keys(minhash, settings)))


def band_keys(minhash: LeanMinHash, settings: StorySettings) -> list[int]:
    """The signature's LSH band keys as signed 64-bit integers: two signatures sharing one are exactly the
    candidate pairs ``group_stories``'s LSH yields, so a store of earlier signatures can be searched by key."""
    layout, ranges = band_layout(settings.threshold, settings.num_perm)
    return [int.from_bytes(hashlib.blake2b(minhash.hashvalues[start:end].tobytes(), digest_size=8,
                                           person=f"{layout}/{band}".encode()).digest(), "little", signed=True)
            for band, (start, end) in enumerate(ranges)]


@lru_cache(maxsize=8)
def band_layout(threshold: float, num_perm: int) -> tuple[str, tuple[tuple[int, int], ...]]:
    """``("<bands>x<rows>", the hash-value range of each band)`` that datasketch's LSH picks for the settings."""
    from datasketch import MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    return f"{lsh.b}x{lsh.r}", tuple(lsh.hashranges)


def comparable(minhash: LeanMinHash, settings: StorySettings) -> bool:
    """Whether a stored signature was made as ``settings`` make them (same permutations and seed)."""
    return len(minhash.hashvalues) == settings.num_perm and minhash.seed == SEED
