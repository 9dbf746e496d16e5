"""The people eval: Reuters-21578 PEOPLE codes, read and matched to PERSON names by surname."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest

from quality.corpora import read_reuters_people
from quality.people import found, score, surname
from quality.report import CorpusError

FIXTURE = Path(__file__).parent / "fixtures" / "eval" / "reuters-people" / "reut2-000.sgm"


@pytest.fixture()
def corpus(tmp_path: Path) -> Path:
    with open(FIXTURE, "rb") as plain, gzip.open(tmp_path / "reut2-000.sgm.gz", "wb") as packed:
        shutil.copyfileobj(plain, packed)
    return tmp_path


def test_codes_match_person_names_by_surname():
    assert surname("james-baker") == surname("James Baker") == "baker"
    assert found(["james-baker", "reagan", "volcker"], ["James A. Baker", "Ronald Reagan", "Volcker"]) == 3
    assert found(["james-baker", "reagan"], ["Baker Hughes Inc", "Reaganomics"]) == 0


def test_stories_with_people_are_read_headline_first(corpus):
    stories = read_reuters_people(corpus)
    assert [(s.id, s.people) for s in stories] == [("21", ("vexbura",)), ("22", ("ingrid-halvorsen", "orvald"))]
    assert stories[0].text.startswith("VEXBURA SAYS FARM AID WILL RISE\n    WASHINGTON, March 5 - Agriculture")


def test_a_corpus_without_people_codes_is_an_error(tmp_path):
    with gzip.open(tmp_path / "reut2-000.sgm.gz", "wt") as packed:
        packed.write('<REUTERS NEWID="1"><PEOPLE></PEOPLE><BODY>Nobody.</BODY></REUTERS>')
    with pytest.raises(CorpusError, match="PEOPLE"):
        read_reuters_people(tmp_path)


def test_score_recall_of_newsbeam_and_the_bare_model(corpus):
    result = score(corpus, None, lambda done, total: None)
    rows = {s.system: s for s in result.scores}
    assert result.details == {"stories": 2, "codes": 3}
    assert rows["newsbeam"].metrics["recall"] == pytest.approx(2 / 3, abs=1e-4)  # "orvald" is not in the text
    assert rows["bare model"].items == 2 and rows["bare model"].metrics["recall"] <= 2 / 3 + 1e-4
    assert score(corpus, 1, lambda done, total: None).details == {"stories": 1, "codes": 1}
