"""Browser history of the exam window only, for ``browser_history`` evidence:
``{"taken_at", "visits": [{"url", "title", "at", "browser"}]}``.

Each profile's database is copied to a private temporary file first (with its ``-wal`` journal), so
the browser's live database is never opened, locked or changed. Chrome, Chromium and Edge keep
``History`` (visit times in microseconds since 1601-01-01), Firefox ``places.sqlite`` (microseconds
since 1970-01-01). Each capture holds the visits inside the exam's window that the previous one did
not see: by visit id, not by time, because browsers write visits to disk some seconds late.
Profile folders: Linux (tested); Windows and macOS (untested).
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import sys
import tempfile
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from invigil.kit.clock import iso, utcnow

CHROME_EPOCH = datetime(1601, 1, 1, tzinfo=UTC)
UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_VISITS = 5000
CHROME_QUERY = (
    "SELECT v.id, u.url, u.title, v.visit_time FROM visits v JOIN urls u ON u.id = v.url "
    "WHERE v.id > ? AND v.visit_time >= ? AND v.visit_time < ? ORDER BY v.id LIMIT ?"
)
FIREFOX_QUERY = (
    "SELECT v.id, p.url, p.title, v.visit_date FROM moz_historyvisits v "
    "JOIN moz_places p ON p.id = v.place_id "
    "WHERE v.id > ? AND v.visit_date >= ? AND v.visit_date < ? ORDER BY v.id LIMIT ?"
)


def _micros(at: datetime, epoch: datetime) -> int:
    return (at - epoch) // timedelta(microseconds=1)


def _chromium_roots(home: Path) -> dict[str, list[Path]]:
    if sys.platform == "win32":  # untested
        local = home / "AppData" / "Local"
        return {
            "chrome": [local / "Google" / "Chrome" / "User Data"],
            "chromium": [local / "Chromium" / "User Data"],
            "edge": [local / "Microsoft" / "Edge" / "User Data"],
        }
    if sys.platform == "darwin":  # untested
        support = home / "Library" / "Application Support"
        return {
            "chrome": [support / "Google" / "Chrome"],
            "chromium": [support / "Chromium"],
            "edge": [support / "Microsoft Edge"],
        }
    config = home / ".config"
    return {
        "chrome": [config / "google-chrome"],
        "chromium": [config / "chromium", home / "snap" / "chromium" / "common" / "chromium"],
        "edge": [config / "microsoft-edge"],
    }


def _firefox_roots(home: Path) -> list[Path]:
    if sys.platform == "win32":  # untested
        return [home / "AppData" / "Roaming" / "Mozilla" / "Firefox" / "Profiles"]
    if sys.platform == "darwin":  # untested
        return [home / "Library" / "Application Support" / "Firefox" / "Profiles"]
    return [home / ".mozilla" / "firefox", home / "snap" / "firefox" / "common" / ".mozilla" / "firefox"]


def databases(home: Path) -> Iterator[tuple[str, str, Path]]:
    """(browser, engine, database file) for every profile found under ``home``."""
    for browser, roots in _chromium_roots(home).items():
        for root in roots:
            if root.is_dir():
                for db in sorted(root.glob("*/History")):  # Default, Profile 1, ...
                    yield browser, "chromium", db
    for root in _firefox_roots(home):
        if root.is_dir():
            for db in sorted(root.glob("*/places.sqlite")):
                yield "firefox", "firefox", db


def read_visits(
    db: Path, engine: str, start: datetime, end: datetime, after_id: int = 0
) -> list[tuple[int, str, str, datetime]]:
    """(id, url, title, time) of the visits in [start, end) with ids above ``after_id``, read from a
    private copy of ``db``."""
    epoch, query = (CHROME_EPOCH, CHROME_QUERY) if engine == "chromium" else (UNIX_EPOCH, FIREFOX_QUERY)
    with tempfile.TemporaryDirectory(prefix="invigil-history-") as tmp:
        copy = Path(tmp) / "history.sqlite"
        shutil.copyfile(db, copy)
        for suffix in ("-wal", "-journal"):  # recent visits may still sit in the journal
            journal = db.with_name(db.name + suffix)
            if journal.exists():
                shutil.copyfile(journal, copy.with_name(copy.name + suffix))
        with closing(sqlite3.connect(copy)) as conn:
            rows = conn.execute(
                query, (after_id, _micros(start, epoch), _micros(end, epoch), MAX_VISITS)
            ).fetchall()
    return [
        (int(vid), str(url), str(title or ""), epoch + timedelta(microseconds=int(t)))
        for vid, url, title, t in rows
    ]


class BrowserHistory:
    """``browser_history`` evidence: the visits not yet captured, within the exam window."""

    kind = "browser_history"

    def __init__(self, exam_start: datetime, exam_end: datetime, home: Path | None = None) -> None:
        self.exam_start, self.exam_end = exam_start, exam_end
        self.home = home or Path.home()
        self._last: dict[Path, int] = {}  # per database: the highest visit id captured

    def capture(self) -> bytes:
        visits: list[dict[str, Any]] = []
        for browser, engine, db in databases(self.home):
            try:
                found = read_visits(db, engine, self.exam_start, self.exam_end, self._last.get(db, 0))
            except (OSError, sqlite3.Error):
                continue  # a profile being written or an unknown schema: the next capture retries
            if found:
                self._last[db] = max(vid for vid, *_ in found)
            visits += [
                {"url": url, "title": title, "at": iso(at), "browser": browser} for _, url, title, at in found
            ]
        visits.sort(key=lambda v: v["at"])
        return json.dumps({"taken_at": iso(utcnow()), "visits": visits}, ensure_ascii=False).encode()
