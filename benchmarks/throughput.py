"""Throughput of newsbeam against the floor: the same libraries in a plain loop, in the same run.

    python benchmarks/throughput.py --corpus DIR [--docs 1000 10000] [--workers 1 2] [--repeat K] [--json OUT.json]

Builds N captures from the pages of ``--corpus`` (repeated, every URL made unique so nothing is
deduplicated; see ``scaling.py``), then measures, in one invocation:

1. the floor: the plain loop a user would write over the same files with the same libraries at their
   defaults — trafilatura extraction with metadata, newsbeam's furniture cleaning, langdetect on the
   whole body, spaCy's full English pipeline one document at a time — and nothing else (no Beam, no
   dedup, no Parquet); per-stage seconds from the loop itself. What the pipeline does less of (only
   tok2vec+ner, texts batched through nlp.pipe, comments skipped, langdetect-rs — langdetect's answers,
   bit for bit — on a bounded sample) is how it can beat the floor;
2. peers in the same process for extraction only: trafilatura with metadata alone, and newspaper4k
   where it is installed, measured just before and just after the pipeline's extraction-only run (the
   mean is its baseline; the machine's speed drifts by a few percent);
3. the pipeline: ``newsbeam run`` on the same files with 1 and 2 workers (and ``--entities off``),
   per-stage seconds from its counters and peak RSS per process (sampled from /proc); extraction only
   also net of its start-up (the same command over one capture). ``--repeat K`` takes that measure
   and its peers K times in a row and prints every ratio and their median: one ratio moves with the
   machine's drift (up to 10% between invocations).

It prints articles/s and the ratios, and writes a JSON record to compare across commits. A
benchmark, not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scaling import REPO, build_input, template_files  # noqa: E402  (the shared input builder)

from pipeline.config import load_run_config  # noqa: E402


def read_capture(path: Path) -> tuple[str, str]:
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    kind = "text" if path.name.removesuffix(".gz").endswith(".txt") else "html"
    return kind, data.decode("utf-8", errors="replace")


def floor(files: list[Path], cfg: dict, entities: bool) -> dict:
    """The libraries the pipeline uses, called at their defaults in a plain loop; seconds per stage."""
    import spacy
    import trafilatura
    from langdetect import DetectorFactory, detect_langs
    from langdetect.detector_factory import init_factory

    from transforms.furniture import compile_rules
    from transforms.layout import LayoutRules, layout_text
    from transforms.sections import SectionIndex

    DetectorFactory.seed = 0
    init_factory()  # langdetect's profiles, loaded up front as the pipeline's setup() does
    rules = LayoutRules.from_config(cfg["boilerplate"], compile_rules(cfg["boilerplate"]["furniture"]),
                                    SectionIndex.from_config(cfg["sections"]))
    nlp = None
    if entities:
        nlp = spacy.load(next(p for p in cfg["entities"]["models"]["en"] if _importable(p)))
    stages: Counter = Counter()
    started = time.perf_counter()
    for path in files:
        clock = time.perf_counter()
        kind, content = read_capture(path)
        stages["read"] += time.perf_counter() - clock
        clock = time.perf_counter()
        title = None
        if kind == "html":
            document = trafilatura.bare_extraction(content, with_metadata=True)
            content, title = (document.text or "", document.title) if document else ("", None)
        stages["extract"] += time.perf_counter() - clock
        clock = time.perf_counter()
        body = "\n\n".join(layout_text(content, rules, known_title=title).paragraphs)
        stages["clean"] += time.perf_counter() - clock
        clock = time.perf_counter()
        try:
            language = detect_langs(body)[0].lang
        except Exception:
            language = "und"
        stages["language"] += time.perf_counter() - clock
        if nlp is not None and language == "en":
            clock = time.perf_counter()
            _ = nlp(body).ents
            stages["entities"] += time.perf_counter() - clock
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "articles_per_s": len(files) / seconds,
            "stages": {k: round(v, 2) for k, v in stages.items()}}


def extraction_peers(files: list[Path]) -> dict[str, float]:
    """Pages/s of extraction-only peers on the same pages, in this process."""
    import trafilatura

    pages = [content for kind, content in map(read_capture, files) if kind == "html"]
    peers = {}
    clock = time.perf_counter()
    for page in pages:
        trafilatura.bare_extraction(page, with_metadata=True)
    peers["trafilatura (with metadata)"] = len(pages) / (time.perf_counter() - clock)
    try:
        from newspaper import Article  # newspaper4k
    except ImportError:
        return peers
    clock = time.perf_counter()
    for page in pages:
        article = Article("https://example.com/")
        article.download(input_html=page)
        article.parse()
    peers["newspaper4k"] = len(pages) / (time.perf_counter() - clock)
    return peers


def extraction_only(files: list[Path], workdir: Path, attempt: int) -> dict:
    """``newsbeam run`` with configs/extraction-only.yaml, its start-up (one capture, ``workdir/one``), and
    the peers measured just before and just after it (their mean is its baseline: the machine's speed
    drifts). ``attempt`` numbers the output folders of repeated measurements."""
    flags = ["--config", str(REPO / "configs" / "extraction-only.yaml")]
    measured = {"peers_before": extraction_peers(files),
                "extraction_only": run_pipeline(workdir / "captures", workdir / f"out-noner-{attempt}", 1, flags),
                "peers_after": extraction_peers(files),
                "extraction_only_startup": run_pipeline(workdir / "one", workdir / f"out-one-{attempt}", 1, flags)}
    measured["peers"] = {name: (rate + measured["peers_after"][name]) / 2
                         for name, rate in measured["peers_before"].items()}
    return measured


def run_pipeline(captures: Path, output: Path, workers: int, extra: list[str]) -> dict:
    """``newsbeam run`` as a user runs it, with peak RSS per process sampled from /proc."""
    command = [sys.executable, "-m", "pipeline.cli", "run", "--input", str(captures), "--output", str(output),
               "--workers", str(workers), "--quiet", *extra]
    clock = time.perf_counter()
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peaks: dict[int, tuple[str, int, int]] = {}
    while process.poll() is None:
        for pid in _descendants(process.pid) | {process.pid}:
            peak, anon = _memory_kb(pid)
            if peak:
                _, last_peak, last_anon = peaks.get(pid, ("", 0, 0))
                peaks[pid] = (_role(pid, process.pid), max(peak, last_peak), max(anon, last_anon))
        try:  # returns as soon as the command exits: a sleep would add up to its length to the time
            process.wait(timeout=0.2)
        except subprocess.TimeoutExpired:
            pass
    seconds = time.perf_counter() - clock
    errors = process.stderr.read()
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} exited {process.returncode}: {errors[-3000:]}")
    [summary] = [json.loads(p.read_text()) for p in (output / "_runs").glob("*.json")]
    return {"workers": workers, "seconds": seconds, "articles": summary["articles_written"],
            "articles_per_s": summary["articles_written"] / seconds, "stage_seconds": summary["stage_seconds"],
            "peak_rss_mb": sorted((role, round(kb / 1024)) for role, kb, _ in peaks.values()),
            "peak_anon_mb": sorted((role, round(kb / 1024)) for role, _, kb in peaks.values())}


def _descendants(root: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, stack = set(), [root]
    while stack:
        for child in children.get(stack.pop(), []):
            found.add(child)
            stack.append(child)
    return found


def _memory_kb(pid: int) -> tuple[int, int]:
    """``(peak RSS, anonymous RSS now)`` of a process. Peak RSS also counts the pages of library code a
    process has touched; anonymous memory is its data alone (sampled, so a peak shorter than the
    sampling interval can be missed)."""
    fields = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            name, _, value = line.partition(":")
            if name in ("VmHWM", "RssAnon"):
                fields[name] = int(value.split()[0])
    except (OSError, ValueError, IndexError):
        pass
    return fields.get("VmHWM", 0), fields.get("RssAnon", 0)


def _role(pid: int, root: int) -> str:
    if pid == root:
        return "launcher"
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return "gone"
    if command.startswith("/bin/sh"):
        return "shell"  # the `sh -c` that starts each SDK worker
    return "sdk-worker" if "sdk_worker" in command else "child"


def _importable(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, help="folder of pages (default: test fixtures and demo samples)")
    parser.add_argument("--docs", type=int, nargs="+", default=[1000])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--json", type=Path, help="append the record to this JSON-lines file")
    parser.add_argument("--growth-only", action="store_true",
                        help="only the pipeline with 1 worker at each size: how time and peak memory grow with N")
    parser.add_argument("--extraction-only", action="store_true",
                        help="only extraction: the peers and the pipeline with configs/extraction-only.yaml")
    parser.add_argument("--repeat", type=int, default=1, metavar="K",
                        help="measure extraction only and its peers K times in a row; every ratio and the median")
    parser.add_argument("--config", type=Path, help="run config for --growth-only runs (default configs/local.yaml)")
    parser.add_argument("--keep", action="store_true", help="keep each size's inputs and outputs (else removed)")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    cfg = load_run_config()
    templates = template_files(args.corpus)
    record = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "cores": os.cpu_count(),
              "corpus": str(args.corpus), "sizes": []}
    for docs in args.docs:
        workdir = Path(tempfile.mkdtemp(prefix=f"newsbeam-throughput-{docs}-"))
        try:
            record["sizes"].append(_measure_size(args, cfg, templates, docs, workdir))
        finally:
            if not args.keep:
                shutil.rmtree(workdir, ignore_errors=True)
    _print_growth(record["sizes"])
    if args.json:
        with open(args.json, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")


def _measure_size(args: argparse.Namespace, cfg: dict, templates: list[Path], docs: int, workdir: Path) -> dict:
    """Every measure of one input size, printed as it is taken; the record of that size."""
    build_input(templates, docs, workdir / "captures")
    files = sorted(p for p in (workdir / "captures").iterdir() if not p.name.endswith(".meta.json"))
    print(f"\n== {docs} captures from {len(templates)} templates ({workdir}); "
          f"load average {os.getloadavg()[0]:.2f}")
    if args.growth_only:
        extra = ["--config", str(args.config)] if args.config else []
        run = run_pipeline(workdir / "captures", workdir / "out", 1, extra)
        print(f"pipeline, 1 worker: {run['seconds']:.1f}s, {run['articles_per_s']:.2f} articles/s, "
              f"peak RSS MB {run['peak_rss_mb']}, anonymous {run['peak_anon_mb']}")
        return {"docs": docs, "pipeline": [run]}
    size = {"docs": docs}
    if not args.extraction_only:
        size |= {"floor": floor(files, cfg, entities=True), "floor_no_entities": floor(files, cfg, entities=False),
                 "pipeline": [run_pipeline(workdir / "captures", workdir / f"out-{w}", w, [])
                              for w in args.workers]}
        _print(size)
    build_input(templates, 1, workdir / "one")
    attempts = []
    for attempt in range(args.repeat):
        attempts.append(extraction_only(files, workdir, attempt))
        _print_extraction(size | attempts[-1])
    size |= attempts[0]
    if len(attempts) > 1:
        size["extraction_only_attempts"] = attempts
        _print_attempts(attempts)
    return size


def _print_growth(sizes: list[dict]) -> None:
    """How the 1-worker pipeline's (or extraction only's) time and peak memory grow from the smallest N."""
    if len(sizes) < 2:
        return
    first = _one_worker_run(sizes[0])
    first_peak, first_anon = (max(mb for _, mb in first[key]) for key in ("peak_rss_mb", "peak_anon_mb"))
    for size in sizes[1:]:
        run = _one_worker_run(size)
        peak, anon = (max(mb for _, mb in run[key]) for key in ("peak_rss_mb", "peak_anon_mb"))
        print(f"{sizes[0]['docs']} -> {size['docs']} captures, 1 worker: time {run['seconds'] / first['seconds']:.2f}x "
              f"for {size['docs'] / sizes[0]['docs']:.0f}x the captures ({first['articles_per_s']:.2f} -> "
              f"{run['articles_per_s']:.2f} articles/s); largest process peak RSS {first_peak} -> {peak} MB "
              f"({peak / first_peak:.2f}x), anonymous (data, sampled) {first_anon} -> {anon} MB "
              f"({anon / first_anon:.2f}x)")


def _one_worker_run(size: dict) -> dict:
    return size["pipeline"][0] if "pipeline" in size else size["extraction_only"]


def _print(size: dict) -> None:
    base = size["floor"]
    print(f"floor (plain loop, same libraries):   {base['articles_per_s']:7.2f} articles/s   stages {base['stages']}")
    for run in size["pipeline"]:
        print(f"pipeline, {run['workers']} worker(s):                {run['articles_per_s']:7.2f} articles/s   "
              f"{run['articles_per_s'] / base['articles_per_s']:.2f}x floor   stages {run['stage_seconds']}   "
              f"peak RSS MB {run['peak_rss_mb']}")
    if len(size["pipeline"]) > 1:
        one, two = size["pipeline"][0], size["pipeline"][1]
        print(f"2 workers vs 1: {two['articles_per_s'] / one['articles_per_s']:.2f}x")


def _print_attempts(attempts: list[dict]) -> None:
    """Extraction only against each peer over repeated measurements: every ratio, and their median."""
    for peer in attempts[0]["peers"]:
        ratios = sorted(a["extraction_only"]["articles_per_s"] / a["peers"][peer] for a in attempts)
        print(f"extraction only / {peer}, {len(ratios)} runs: {', '.join(f'{r:.2f}x' for r in ratios)}; "
              f"median {statistics.median(ratios):.3f}x")


def _print_extraction(size: dict) -> None:
    noner = size["extraction_only"]
    startup = size["extraction_only_startup"]["seconds"]
    # Net of start-up only means something when the run is much longer than its start-up.
    net = noner["articles"] / (noner["seconds"] - startup) if noner["seconds"] > 2 * startup else None
    versus_floor = (f"{noner['articles_per_s'] / size['floor_no_entities']['articles_per_s']:.2f}x the floor "
                    "without NER   " if "floor_no_entities" in size else "")
    print(f"extraction only (--entities off):     {noner['articles_per_s']:7.2f} articles/s   {versus_floor}"
          f"stages {noner['stage_seconds']}   peak RSS MB {noner['peak_rss_mb']}")
    if net:
        print(f"  net of its start-up ({startup:.1f}s, the same command on one capture): {net:7.2f} articles/s")
    for peer, rate in size["peers"].items():
        print(f"  peer {peer:<32}{rate:7.2f} pages/s (before {size['peers_before'][peer]:.2f}, after "
              f"{size['peers_after'][peer]:.2f})   pipeline extraction-only = {noner['articles_per_s'] / rate:.2f}x"
              + (f", net of start-up {net / rate:.2f}x" if net else ""))


if __name__ == "__main__":
    main()
