"""Evidence kind → the analysers that read it. The agent (live, before sealing) and the worker (after
opening) both look analysers up here, so the two passes run the very same code.

An analyser is a pure function ``(plaintext, Capture) -> list[Detection]``. The activity analysers
are registered below. Webcam and audio analysers plug in from ``invigil.analysis.perception`` (its
``ANALYSERS: dict[kind, fn]``) when their models are installed. A kind with no analyser is skipped,
not an error.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from invigil.analysis import activity
from invigil.analysis.base import Detection

log = logging.getLogger("invigil.analysis")


@dataclass(frozen=True)
class Capture:
    """What an analyser knows besides the bytes: the item, when it was taken, the exam's lists."""

    kind: str
    item: str
    captured_at: datetime
    forbidden: tuple[str, ...] = ()
    allowed_sites: tuple[str, ...] = ()


Analyser = Callable[[bytes, Capture], list[Detection]]
_ANALYSERS: dict[str, list[Analyser]] = {}
_optional_loaded = False


def register(kind: str, analyser: Analyser) -> None:
    if analyser not in _ANALYSERS.setdefault(kind, []):
        _ANALYSERS[kind].append(analyser)


def _load_optional() -> None:
    global _optional_loaded
    if _optional_loaded:
        return
    _optional_loaded = True
    for name in ("invigil.analysis.perception",):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue  # not there yet, or its models are not installed: these kinds are skipped
        for kind, fn in getattr(module, "ANALYSERS", {}).items():
            register(kind, fn)


def analysers_for(kind: str) -> list[Analyser]:
    _load_optional()
    return list(_ANALYSERS.get(kind, []))


def kinds() -> list[str]:
    _load_optional()
    return sorted(k for k, fns in _ANALYSERS.items() if fns)


def analyse(data: bytes, capture: Capture) -> list[Detection]:
    """Every registered analyser of this kind on one capture. A failing analyser is logged and skipped."""
    out: list[Detection] = []
    for fn in analysers_for(capture.kind):
        try:
            out.extend(fn(data, capture))
        except Exception:  # one analyser's bug or a malformed capture must not stop the others
            log.exception("analyser %s failed on a %s", getattr(fn, "__name__", fn), capture.kind)
    return out


def _processes(data: bytes, capture: Capture) -> list[Detection]:
    snapshot = activity.load_json(data)
    return [
        *activity.forbidden_processes(snapshot, capture.forbidden, capture.item),
        *activity.environment_from_processes(snapshot, capture.item),
    ]


def _browser(data: bytes, capture: Capture) -> list[Detection]:
    if not capture.allowed_sites:
        return []  # no list: the exam does not restrict sites
    return activity.browser_outside_allowed(activity.load_json(data), capture.allowed_sites, capture.item)


register("process_snapshot", _processes)
register("browser_history", _browser)
