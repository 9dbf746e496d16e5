"""Untrusted input stays data: partition paths stay inside the output, captures never reach the network or
the local files they name, and nothing parses input as code (YAML tags, pickle, eval)."""

from __future__ import annotations

import ast
import json
import os
import re
import socket
import sys
import threading
from pathlib import Path

import pytest
from bad_inputs.make_bad_inputs import MTIME, page, text_capture
from bad_inputs.outputs import article_rows

from pipeline.cli import main
from pipeline.cli.options import EXIT_OK
from pipeline.config import load_run_config
from transforms.sections import SectionIndex, choose_section

REPO = Path(__file__).resolve().parents[1]
PARTITION = re.compile(r"date=\d{4}-\d{2}-\d{2}/section=[a-z0-9]+(?:-[a-z0-9]+)*")
HOSTILE_SECTIONS = [
    "../../../../tmp/escaped", "/etc/cron.d", "..", ".", "C:\\Windows\\System32", "..\\..\\boot.ini", "a\0b",
    "Ａ／．．／ｅｔｃ", "\u2215etc\u2215passwd", "\u202egnp.evil", "%2e%2e%2fescaped", "section=x/date=1999-01-01",
    "x" * 5000, "\u200b", "東京/../..", "World/../../x",
]
HOSTILE_DATES = ["../../2024-03-05", "2024-03-05/../../x", "0001-01-01", "9999-12-31T23:59:59Z",
                 "2024-13-45", "\0", "1e400", "2024-03-05T10:00:00+99:00"]


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory) -> dict:
    """One run whose sidecars and JSONL records carry hostile `section` and date values."""
    root = tmp_path_factory.mktemp("hostile")
    captures, output = root / "captures", root / "out"
    captures.mkdir()
    records = []
    for n, section in enumerate(HOSTILE_SECTIONS):
        date = HOSTILE_DATES[n % len(HOSTILE_DATES)]
        (captures / f"story-{n}.txt").write_text(text_capture(700 + n))
        (captures / f"story-{n}.meta.json").write_text(json.dumps({"section": section, "published_at": date,
                                                                    "fetched_at": date}))
        records.append(json.dumps({"url": f"https://wire.example/{n}", "section": section, "published_at": date,
                                   "fetched_at": date, "text": text_capture(800 + n)}))
        meta = f'<meta property="article:section" content="{section.replace(chr(0), "")}">'
        (captures / f"page-{n}.html").write_text(page(900 + n, meta))
    (captures / "wire.jsonl").write_text("\n".join(records) + "\n")
    for path in captures.iterdir():
        os.utime(path, (MTIME, MTIME))
    before = sorted(p.name for p in root.iterdir())
    code = main(["run", "--input", str(captures), "--output", str(output), "--quiet", "--entities", "off"])
    return {"root": root, "output": output, "code": code, "before": before, "rows": article_rows(output)}


def test_hostile_sections_and_dates_stay_inside_the_output_as_safe_partitions(hostile_run):
    output = hostile_run["output"]
    assert hostile_run["code"] == EXIT_OK
    assert sorted(p.name for p in hostile_run["root"].iterdir()) == [*hostile_run["before"], "out"]
    resolved = output.resolve()
    for path in output.rglob("*"):
        assert path.resolve().is_relative_to(resolved) and not path.is_symlink(), path
    partitions = {str(p.parent.relative_to(output)) for p in output.glob("date=*/section=*/*.parquet")}
    assert partitions and all(PARTITION.fullmatch(p) for p in partitions), partitions
    desks = {*SectionIndex.from_config(load_run_config()["sections"]).desks, "unknown"}
    assert {p.name.removeprefix("section=") for p in output.glob("date=*/section=*")} <= desks
    rows = hostile_run["rows"]
    assert len(rows) == 3 * len(HOSTILE_SECTIONS)
    assert {row["section"] for row in rows} <= {p.split("section=")[1] for p in partitions}
    print(f"\nsecurity: {len(HOSTILE_SECTIONS)} hostile sections x 3 capture kinds, {len(HOSTILE_DATES)} hostile dates "
          f"-> {len(partitions)} partitions, all inside the output; 0 paths outside")


def test_hostile_section_labels_become_a_desk_or_the_fallback(sections):
    for label in HOSTILE_SECTIONS:
        choice = choose_section({"breadcrumb": label}, sections)
        assert choice.section in {*sections.desks, sections.fallback}, (label, choice)
    assert choose_section({"breadcrumb": "World/../../x"}, sections).section == "world"


# --- no network, no local files -------------------------------------------------------------------------

_NETWORK_EVENTS = {"socket.connect", "socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyaddr",
                   "socket.sendto", "socket.sendmsg", "urllib.Request", "http.client.connect"}
_guard = {"active": False, "attempts": []}


def _network_guard(event: str, args: tuple) -> None:
    """Audit hook (cannot be removed, so it acts only while a test turns it on): any network call fails."""
    if _guard["active"] and event in _NETWORK_EVENTS:
        _guard["attempts"].append((event, repr(args)[:200]))
        raise ConnectionRefusedError(f"network access during a newsbeam run: {event} {args!r:.200}")


sys.addaudithook(_network_guard)


class _Trap:
    """A local TCP listener the pages point at: a fetch from native code (libxml2, curl) would land here."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.connections = 0
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            self.connections += 1
            connection.close()

    def close(self) -> None:
        self.server.close()


def _page_full_of_urls(number: int, base: str, secret: Path) -> str:
    """A story whose markup names external resources every way a page can, and a local file twice."""
    head = (f'<link rel="canonical" href="{base}/canonical/{number}"><link rel="stylesheet" href="{base}/s.css">'
            f'<meta property="og:url" content="{base}/og/{number}"><meta property="og:image" content="{base}/i.png">'
            f'<meta http-equiv="refresh" content="30;url={base}/refresh"><base href="{base}/base/">'
            f'<script src="{base}/app.js"></script><link rel="preload" href="https://cdn.example.net/font.woff2">'
            f'<script type="application/ld+json">{{"@type": "NewsArticle", "url": "{base}/ld", "image": '
            f'"{base}/ld.png", "publisher": {{"logo": "http://logo.example.org/l.png"}}, "datePublished": '
            f'"2024-03-04T09:00:00Z", "mainEntityOfPage": "{base}/main"}}</script>')
    body = (f'<p>See <a href="{base}/more">more</a> and <a href="http://elsewhere.example.com/x">elsewhere</a>.'
            f'<img src="{base}/photo.jpg" srcset="{base}/a.jpg 1x, http://img.example.org/b.jpg 2x">'
            f'<iframe src="{base}/embed"></iframe><video poster="{base}/p.jpg" src="{base}/v.mp4"></video>'
            f'<object data="{base}/o.swf"></object><img src="file://{secret}"></p>&xxe;')
    doctype = (f'<?xml version="1.0"?><?xml-stylesheet href="{base}/style.xsl"?>'
               f'<!DOCTYPE html SYSTEM "{base}/html.dtd" [<!ENTITY xxe SYSTEM "file://{secret}">]>')
    return doctype + page(number, head, body)


def test_captures_full_of_urls_trigger_no_network_access_and_no_file_reads(tmp_path):
    trap = _Trap()
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-MARKER")
    captures = tmp_path / "captures"
    captures.mkdir()
    bases = [f"http://127.0.0.1:{trap.port}", f"http://localhost:{trap.port}", "https://news.example.com"]
    for number, base in enumerate(bases):
        (captures / f"page-{number}.html").write_text(_page_full_of_urls(40 + number, base, secret))
    (captures / "wire.jsonl").write_text(json.dumps({"url": f"{bases[0]}/jsonl", "html": _page_full_of_urls(
        50, bases[1], secret)}) + "\n")
    (captures / "story.txt").write_text(text_capture(51))
    (captures / "story.meta.json").write_text(json.dumps({"url": f"{bases[0]}/sidecar"}))
    _guard["active"], _guard["attempts"] = True, []
    try:
        code = main(["run", "--input", str(captures), "--output", str(tmp_path / "out"), "--quiet"])
    finally:
        _guard["active"] = False
        trap.close()
    rows = article_rows(tmp_path / "out")
    assert (_guard["attempts"], trap.connections) == ([], 0)
    assert code == EXIT_OK and len(rows) == 5
    assert f"https://127.0.0.1:{trap.port}/canonical/40" in {row["url"] for row in rows}  # the URLs were read, as data
    assert not any("TOP-SECRET-MARKER" in json.dumps(row, default=str) for row in rows)
    print(f"\nnetwork: {len(rows)} captures naming ~20 external URLs each; connection attempts 0 "
          f"(Python-level {len(_guard['attempts'])}, to the local trap {trap.connections}); local file read 0")


def test_the_guard_does_catch_a_connection():
    """The audit hook and the trap are live: a deliberate connection is caught by both."""
    trap = _Trap()
    _guard["active"], _guard["attempts"] = True, []
    try:
        with pytest.raises(ConnectionRefusedError), socket.socket() as blocked:
            blocked.connect(("127.0.0.1", trap.port))
    finally:
        _guard["active"] = False
    with socket.socket() as allowed:
        allowed.connect(("127.0.0.1", trap.port))
    trap.thread.join(timeout=0.5)
    trap.close()
    assert [event for event, _ in _guard["attempts"]] == ["socket.connect"]
    assert trap.connections == 1


# --- nothing parses input as code ---------------------------------------------------------------------------

_UNSAFE_CALLS = {("yaml", "load"), ("yaml", "load_all"), ("yaml", "unsafe_load"), ("yaml", "unsafe_load_all"),
                 ("yaml", "full_load"), ("yaml", "full_load_all"), ("pickle", "load"), ("pickle", "loads"),
                 ("marshal", "load"), ("marshal", "loads"), ("shelve", "open"), ("dill", "loads"),
                 ("cloudpickle", "loads"), ("os", "system"), ("jsonpickle", "decode")}
_UNSAFE_NAMES = {"eval", "exec", "compile", "__import__"}
_UNSAFE_ATTRIBUTES = {"Loader", "UnsafeLoader", "FullLoader"}


def _unsafe_uses(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _UNSAFE_NAMES:
            found.append(f"{node.func.id}() at line {node.lineno}")
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            pair = (node.value.id, node.attr)
            if pair in _UNSAFE_CALLS or (pair[0] == "yaml" and pair[1] in _UNSAFE_ATTRIBUTES):
                found.append(f"{node.value.id}.{node.attr} at line {node.lineno}")
        elif isinstance(node, ast.keyword) and node.arg == "shell" and getattr(node.value, "value", None) is True:
            found.append(f"shell=True at line {node.value.lineno}")
    return found


def test_no_code_reads_input_or_configs_with_unsafe_loaders():
    sources = [p for folder in ("pipeline", "transforms", "quality") for p in sorted((REPO / folder).rglob("*.py"))]
    unsafe = {str(p.relative_to(REPO)): uses for p in sources if (uses := _unsafe_uses(p.read_text()))}
    assert unsafe == {}
    assert sorted(_unsafe_uses("import yaml\nyaml.load(text, Loader=yaml.Loader)\neval(x)\n")) == [
        "eval() at line 3", "yaml.Loader at line 2", "yaml.load at line 2"]
    print(f"\nstatic: {len(sources)} modules, 0 unsafe loads/eval/pickle/shell")
