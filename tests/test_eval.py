"""The eval harness: metric arithmetic on hand-computed cases, corpus readers, and the command end to end.

Corpora are tiny invented fixtures in each corpus's format (`tests/fixtures/eval/`), gzipped into
``tmp_path`` where the real corpus is gzipped.
"""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest

from pipeline.cli import eval as evaluate
from pipeline.cli import main
from pipeline.cli.options import EXIT_USAGE
from quality.body import averaged_scores, score_texts, shingle_match
from quality.boilerplate import SegmentCounts, count_segments, segment_scores
from quality.corpora import CONLL_DOCUMENTS, HALVES, THIRDS, read_conll_datelines, read_reuters_stories
from quality.dates import FieldTally
from quality.report import CorpusError

FIXTURES = Path(__file__).parent / "fixtures" / "eval"


def _gzip(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(source, "rb") as plain, gzip.open(target, "wb") as packed:
        shutil.copyfileobj(plain, packed)


@pytest.fixture()
def corpora(tmp_path: Path) -> Path:
    """The fixture corpora laid out as in the shared corpora folder."""
    aeb, source = tmp_path / "article-extraction-benchmark", FIXTURES / "article-extraction-benchmark"
    aeb.mkdir()
    shutil.copy(source / "ground-truth.json", aeb)
    for page in ("harbour", "empty"):
        _gzip(source / f"{page}.html", aeb / "html" / f"{page}.html.gz")
    _gzip(source / "trafilatura.json", aeb / "baseline-outputs" / "trafilatura.json.gz")
    evaldata = tmp_path / "trafilatura-eval"
    evaldata.mkdir()
    shutil.copy(FIXTURES / "trafilatura-eval" / "evaldata.json", evaldata)
    _gzip(source / "harbour.html", evaldata / "html" / "harbour.html.gz")
    _gzip(FIXTURES / "reuters21578" / "reut2-000.sgm", tmp_path / "reuters21578" / "reut2-000.sgm.gz")
    shutil.copytree(FIXTURES / "conll2003-eng-testb", tmp_path / "conll2003-eng-testb")
    return tmp_path


def test_shingle_match_counts_four_word_shingles_and_normalises():
    # gold shingles: (a b c d), (b c d e); predicted: (a b c d), (b c d x)
    assert shingle_match("a b c d e", "a b c d x") == pytest.approx((1 / 3, 1 / 3, 1 / 3))
    assert shingle_match("one two", "one, two!") == (1.0, 0.0, 0.0)  # short texts are one short shingle
    assert shingle_match("a b c d e", "") == (0.0, 0.0, 1.0)


def test_page_averages_skip_empty_denominators():
    # exact page: P=R=1; half page: P=R=0.5; empty prediction: no precision, recall 0
    scores = averaged_scores([(1.0, 0.0, 0.0), (1 / 3, 1 / 3, 1 / 3), (0.0, 0.0, 1.0)], [True, False, False])
    assert scores["precision"] == pytest.approx(0.75)
    assert scores["recall"] == pytest.approx(0.5)
    assert scores["f1"] == pytest.approx(0.6)
    assert scores["accuracy"] == pytest.approx(1 / 3)


def test_accuracy_compares_token_sequences_not_spacing():
    assert score_texts([("Hello,  world\n\nagain", "Hello world again")])["accuracy"] == 1.0


def test_segments_are_matched_after_whitespace_normalisation():
    counts = count_segments("Alpha beta.\n\nGamma  delta.", ["Alpha beta. Gamma delta.", "missing"], ["Gamma", "nav"])
    assert counts == SegmentCounts(tp=1, fn=1, fp=1, tn=1)
    assert segment_scores(counts + SegmentCounts(tp=1, tn=1)) == pytest.approx(
        {"precision": 2 / 3, "recall": 2 / 3, "accuracy": 4 / 6, "f1": 2 / 3})


def test_field_tally_separates_wrong_from_missing():
    tally = FieldTally()
    tally.add("2021-03-04", "2021-03-04")
    tally.add("Headline  One", "headline one")
    tally.add("2021-03-05", "2021-03-06")
    tally.add("2021-03-07", None)
    assert tally.scores() == pytest.approx({"precision": 2 / 3, "recall": 0.5, "f1": 4 / 7})


def test_reuters_stories_are_rebuilt_with_their_printed_dateline(corpora):
    stories = read_reuters_stories(corpora / "reuters21578")
    assert [s.id for s in stories] == ["11", "12"]  # the brief has no dateline
    assert stories[0].gold_place == "LONDON" and stories[0].gold_month_day == (3, 3)
    assert stories[0].text.startswith("    ****LONDON, March 3 - The canal company")
    assert stories[1].gold_place == "SANTA CLARA" and stories[1].captured_at.day == 4


def test_conll_dateline_sentences_give_place_and_day(corpora):
    [story] = read_conll_datelines(corpora / "conll2003-eng-testb")
    assert (story.id, story.gold_place, story.gold_month_day) == ("doc-001", "LONDON", (12, 6))


def test_eval_body_end_to_end(corpora, tmp_path):
    out = tmp_path / "scores.json"
    assert main(["eval", "body", "--corpus", str(corpora / "article-extraction-benchmark"), "--json", str(out)]) == 0
    [result] = json.loads(out.read_text())
    rows = {row["system"]: row for row in result["scores"]}
    ours = rows["newsbeam body"]
    # The article page comes out exactly (nav, "Related:" link, share and copyright lines removed);
    # the navigation-only page is rejected, which costs recall only.
    assert ours["items"] == 2 and result["details"]["rejected"] == 1
    assert ours["metrics"] == pytest.approx({"precision": 1.0, "recall": 0.5, "f1": 2 / 3, "accuracy": 0.5})
    assert rows["trafilatura 9.9.9"]["metrics"]["recall"] == pytest.approx(0.5)
    assert any(row["published"] for row in result["scores"])
    splits = [rows[f"newsbeam body ({split} pages)"]["items"] for split in ("tuning", "held-out")]
    assert sum(splits) == 2 and [THIRDS.of(page) for page in ("harbour", "empty")].count("heldout") == splits[1]


@pytest.mark.parametrize(("rule", "low", "high"), [(THIRDS, 150, 250), (HALVES, 250, 350), (CONLL_DOCUMENTS, 140, 240)])
def test_hash_splits_hold_out_their_share_by_id_alone(rule, low, high):
    ids = [f"{number:064x}" for number in range(600)]
    assert [rule.of(item) for item in ids] == [rule.of(item) for item in reversed(ids)][::-1]
    assert low <= sum(rule.of(item) == "heldout" for item in ids) <= high


def test_eval_boilerplate_and_date_end_to_end(corpora, tmp_path, capsys):
    out = tmp_path / "scores.json"
    corpus = str(corpora / "trafilatura-eval")
    assert main(["eval", "boilerplate", "--corpus", corpus, "--json", str(out)]) == 0
    ours = json.loads(out.read_text())[0]["scores"][0]
    assert ours["metrics"] == pytest.approx({"precision": 1.0, "recall": 1.0, "accuracy": 1.0, "f1": 1.0})
    assert main(["eval", "date", "--corpus", corpus, "--json", str(out)]) == 0
    rows = {row["system"]: row for row in json.loads(out.read_text())[0]["scores"]}
    # 22:30 at UTC-5 is the next day in UTC; the publisher's day is the one that counts.
    assert rows["newsbeam published_at"]["metrics"]["recall"] == 1.0
    assert rows["newsbeam title"]["metrics"]["recall"] == 1.0
    # The page prints "Nia Brandt, MS and Tom Okoro, Staff Writer": the byline as printed is not the gold
    # value, the authors without degree and role are.
    assert rows["newsbeam byline (author)"]["metrics"]["recall"] == 0.0
    assert rows["newsbeam authors (author)"]["metrics"]["recall"] == 1.0
    assert "== date" in capsys.readouterr().out


def test_eval_dateline_reads_both_corpora_from_their_parent(corpora, tmp_path):
    out = tmp_path / "scores.json"
    assert main(["eval", "dateline", "--corpus", str(corpora), "--json", str(out)]) == 0
    rows = {row["system"]: row for row in json.loads(out.read_text())[0]["scores"]}
    assert rows["newsbeam place (reuters21578)"]["metrics"]["recall"] == 1.0
    assert rows["newsbeam month/day (reuters21578)"]["metrics"]["recall"] == 1.0
    assert rows["newsbeam place (conll2003-eng-testb)"]["items"] == 1


def test_malformed_corpus_exits_non_zero_and_says_why(corpora, capsys):
    (corpora / "article-extraction-benchmark" / "ground-truth.json").write_text("{not json")
    assert main(["eval", "body", "--corpus", str(corpora / "article-extraction-benchmark")]) == 1
    assert "not valid JSON" in capsys.readouterr().err


def test_missing_page_file_is_a_corpus_error(corpora):
    from quality.corpora import read_benchmark_pages

    (corpora / "article-extraction-benchmark" / "html" / "empty.html.gz").unlink()
    with pytest.raises(CorpusError, match="empty.html.gz"):
        read_benchmark_pages(corpora / "article-extraction-benchmark")


def test_missing_task_module_is_named(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(evaluate.TASKS, "body", ("quality.no_such_task", "x"))
    assert main(["eval", "body", "--corpus", str(tmp_path)]) == 2
    assert "quality.no_such_task" in capsys.readouterr().err


def test_eval_section_scores_labelled_pages_by_how_their_desk_was_found(corpora, tmp_path):
    from quality.sections import score as score_sections

    labels = tmp_path / "labels.tsv"
    labels.write_text("# corpus, id, desk\narticle-extraction-benchmark\tharbour\tbusiness\n", encoding="utf-8")
    result = score_sections(corpora, None, lambda done, total: None, labels=labels)
    rows = {score.system.strip(): score for score in result.scores}
    assert rows["newsbeam section, all pages"].items == 1
    found = rows["inferred from the text"].items + rows["declared by the page"].items + rows["unknown"].items
    assert found == 1 and rows["partition folders"].metrics["count"] == 1.0
    labels.write_text("article-extraction-benchmark\tmissing-page\tworld\n", encoding="utf-8")
    with pytest.raises(CorpusError, match="missing-page"):
        score_sections(corpora, None, lambda done, total: None, labels=labels)


def test_eval_section_fresh_split_scores_the_whole_second_set(corpora, tmp_path, capsys):
    from quality.sections import score as score_sections

    labels = tmp_path / "fresh.tsv"
    labels.write_text("article-extraction-benchmark\tharbour\tbusiness\ntrafilatura-eval\tharbour.html\tbusiness\n",
                      encoding="utf-8")
    assert [HALVES.of(page) for page in ("harbour", "harbour.html")] == ["dev", "heldout"]
    scored = {split: score_sections(corpora, None, lambda done, total: None, split=split, labels=labels).scores[0].items
              for split in ("fresh", "dev", "heldout")}
    assert scored == {"fresh": 2, "dev": 1, "heldout": 1}
    assert main(["eval", "date", "--corpus", str(corpora / "trafilatura-eval"), "--split", "fresh"]) == EXIT_USAGE
    assert "--split fresh applies to section" in capsys.readouterr().err


def test_eval_entities_split_scores_each_half_of_the_documents(corpora, tmp_path):
    corpus, out = str(corpora / "conll2003-eng-testb"), tmp_path / "scores.json"
    found = {}
    for split in ("dev", "heldout", "all"):
        assert main(["eval", "entities", "--corpus", corpus, "--split", split, "--json", str(out)]) == 0
        [result] = json.loads(out.read_text())
        assert result["corpus"].endswith(f"({split})")
        found[split] = (result["details"]["documents"], result["details"]["gold_entities"])
    # The fixture's third story is the one whose id the split holds out; its gold is one person, one place.
    assert [CONLL_DOCUMENTS.of(f"doc-{number:03d}") for number in (1, 2, 3)] == ["dev", "dev", "heldout"]
    assert found["heldout"] == (1, {"PER": 1, "ORG": 0, "LOC": 1})
    assert found["dev"] == (2, {"PER": 1, "ORG": 1, "LOC": 1})
    assert found["all"] == (3, {"PER": 2, "ORG": 1, "LOC": 2})


def test_eval_split_is_refused_for_tasks_without_one(corpora, capsys):
    corpus = str(corpora / "article-extraction-benchmark")
    assert main(["eval", "body", "--corpus", corpus, "--split", "dev"]) == EXIT_USAGE
    assert "--split applies to" in capsys.readouterr().err


def test_eval_all_without_a_corpora_folder_says_how_to_name_one(monkeypatch, capsys):
    monkeypatch.delenv("NEWSBEAM_CORPORA", raising=False)
    assert main(["eval", "all"]) == 1
    assert "--corpus DIR or set NEWSBEAM_CORPORA" in capsys.readouterr().err


def test_eval_all_reads_the_corpora_folder_from_the_environment(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("NEWSBEAM_CORPORA", str(tmp_path / "absent"))
    assert main(["eval", "all"]) == 1
    assert f"{tmp_path / 'absent'}: no such corpus folder" in capsys.readouterr().err
