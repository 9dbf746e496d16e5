"""Stories: the copies of one wire story that several sites publish get one ``story_id``.

Syndicated copies are not byte-identical (a site trims a paragraph, adds its own credit line), so exact
hashes miss them. MinHash over word shingles (datasketch) estimates the Jaccard similarity of two bodies'
shingle sets, and locality-sensitive hashing finds the pairs above ``threshold`` without comparing every
pair. Copies linked through a chain of such pairs are one story, named after its smallest article id so
the name does not depend on the order articles arrive in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from transforms.identity import normalised_text, sha256_hex

if TYPE_CHECKING:  # datasketch imports scipy (0.3-1 s): paid where stories are grouped, not by every importer
    from datasketch import LeanMinHash


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

    minhash = MinHash(num_perm=settings.num_perm)
    minhash.update_batch([shingle.encode("utf-8") for shingle in shingles(body, settings.shingle_words)])
    return LeanMinHash(minhash)


def story_id(article_id: str) -> str:
    """The story named after its smallest article id."""
    return "story:" + sha256_hex(article_id)[:32]


def group_stories(signatures: Iterable[tuple[str, LeanMinHash | None]], settings: StorySettings) -> dict[str, str]:
    """``article_id -> story_id`` for every article: copies linked by near-duplicate pairs (an LSH candidate
    whose estimated Jaccard similarity reaches the threshold) share one."""
    from datasketch import MinHashLSH

    items = sorted(signatures, key=lambda item: item[0])
    lsh = MinHashLSH(threshold=settings.threshold, num_perm=settings.num_perm)
    parent = {key: key for key, _ in items}

    def root(key: str) -> str:
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    signatures_of = dict(items)
    for key, minhash in items:
        if minhash is None:
            continue
        for other in lsh.query(minhash):  # candidates; LSH lets some pairs below the threshold through
            if minhash.jaccard(signatures_of[other]) >= settings.threshold:
                first, second = sorted((root(key), root(other)))
                parent[second] = first
        lsh.insert(key, minhash)
    return {key: story_id(root(key)) for key, _ in items}
