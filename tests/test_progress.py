"""Progress tallies from workers and the status line the launcher draws from them."""

from __future__ import annotations

import json
import shutil
import threading
from collections import Counter
from pathlib import Path

from pipeline.cli import main
from pipeline.runtime.progress import ProgressTally, read_totals, render


def test_tallies_of_several_threads_are_summed(tmp_path):
    def work(n: int) -> None:
        tally = ProgressTally.for_directory(str(tmp_path))
        tally.add("files", n)
        tally.flush()

    threads = [threading.Thread(target=work, args=(n,)) for n in (2, 3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert read_totals(str(tmp_path))["files"] == 5
    assert ProgressTally.for_directory(None) is None


def test_status_line_has_a_rate_and_eta_per_phase():
    reading = render(Counter(files=25, captures=30, enriched=28), 100, reading_for=5.0, tagging_for=None)
    assert reading.startswith("files 25/100 (25%) | captures 30 | enriched 28 | entities 0")
    assert "5.6 articles/s" in reading and "ETA 0m15s" in reading  # 75 files left at 5 files/s
    tagging = render(Counter(files=100, captures=100, enriched=100, entities=40), 100, 30.0, tagging_for=10.0)
    assert "4.0 articles/s" in tagging and "ETA 0m15s" in tagging  # 60 left at 4/s


def test_json_logs_are_one_object_per_line(tmp_path, capfd):
    captures = tmp_path / "in"
    captures.mkdir()
    shutil.copy(Path(__file__).parent / "fixtures" / "seed_shaped.txt", captures)
    assert main(["--log-format", "json", "run", "--input", str(captures), "--output", str(tmp_path / "out"),
                 "--entities", "off"]) == 0
    lines = [line for line in capfd.readouterr().err.splitlines() if line.startswith("{")]
    records = [json.loads(line) for line in lines]
    assert records and {"time", "level", "logger", "message"} <= records[0].keys()
    assert any(r["logger"] == "newsbeam" and "files listed" in r["message"] for r in records)
