"""Heavy per-worker state (spaCy models, gazetteers) shared by every DoFn instance in a process.

Beam calls ``DoFn.setup`` once per DoFn instance; a worker can hold several instances, and the
streaming job builds a new pipeline for every micro-batch in the same process. Keyed by the
configuration it was built from and by thread (spaCy and langdetect make no promise of thread safety,
and a Beam SDK harness runs bundles on several threads), each object is built once and reused.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
_built: dict[tuple[str, str, int], object] = {}
_lock = threading.Lock()


def shared(kind: str, cfg: dict, build: Callable[[dict], T]) -> T:
    """The ``kind`` object built from ``cfg`` by ``build``, built at most once per thread."""
    key = (kind, json.dumps(cfg, sort_keys=True, default=str), threading.get_ident())
    with _lock:
        if key not in _built:
            _built[key] = build(cfg)
        return _built[key]  # type: ignore[return-value]
