"""The durable local spool: everything captured waits here until the server acknowledged it.

Survives kill -9: a sealed item is written to a temporary file, fsynced and renamed before its row
is committed (SQLite, synchronous=FULL). A file without a row is a capture that never finished and
is removed at start; a row without a file cannot happen. Only ciphertext is ever written here.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from invigil.kit.clock import iso, utcnow

SCHEMA = """
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS items (
  item_id TEXT PRIMARY KEY, kind TEXT NOT NULL, captured_at TEXT NOT NULL, size INTEGER NOT NULL,
  sha256 TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0,
  error TEXT, created_at TEXT NOT NULL, acked_at TEXT);
CREATE INDEX IF NOT EXISTS items_status ON items(status, created_at);
CREATE TABLE IF NOT EXISTS events (
  event_id TEXT PRIMARY KEY, body TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'pending',
  created_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS events_status ON events(status, created_at);
"""


@dataclass(frozen=True)
class SpooledItem:
    item_id: str
    kind: str
    captured_at: datetime
    size: int
    sha256: str
    attempts: int


class Spool:
    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.items_dir = self.folder / "items"
        self.items_dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.folder / "spool.db", check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(SCHEMA)
        self._recover()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _recover(self) -> None:
        known = {row[0] for row in self._db.execute("SELECT item_id FROM items WHERE status != 'acked'")}
        for path in self.items_dir.iterdir():
            if path.name.startswith(".tmp-") or path.stem not in known:
                path.unlink(missing_ok=True)

    # -- state ---------------------------------------------------------------------------------
    def get(self, key: str, default: Any = None) -> Any:
        with self._lock:
            row = self._db.execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone()
        return default if row is None else json.loads(row[0])

    def set(self, **values: Any) -> None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            for key, value in values.items():
                self._db.execute(
                    "INSERT INTO state(key, value) VALUES(?, ?) "
                    "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    (key, json.dumps(value, default=str)),
                )
            self._db.execute("COMMIT")

    # -- items ---------------------------------------------------------------------------------
    def path(self, item_id: str) -> Path:
        return self.items_dir / f"{item_id}.env"

    def add_item(self, item_id: str, kind: str, captured_at: datetime, sealed: bytes, sha256: str) -> None:
        tmp = self.items_dir / f".tmp-{item_id}"
        with open(tmp, "wb") as fh:
            fh.write(sealed)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path(item_id))
        dir_fd = os.open(self.items_dir, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        with self._lock:
            self._db.execute(
                "INSERT INTO items(item_id, kind, captured_at, size, sha256, created_at) VALUES(?,?,?,?,?,?)",
                (item_id, kind, iso(captured_at), len(sealed), sha256, iso(utcnow())),
            )

    def pending_items(self, limit: int = 50) -> list[SpooledItem]:
        with self._lock:
            rows = self._db.execute(
                "SELECT item_id, kind, captured_at, size, sha256, attempts FROM items "
                "WHERE status = 'pending' ORDER BY created_at LIMIT ?",
                (limit,),
            ).fetchall()
        return [
            SpooledItem(r[0], r[1], datetime.fromisoformat(r[2].replace("Z", "+00:00")), r[3], r[4], r[5])
            for r in rows
        ]

    def read_item(self, item_id: str) -> bytes:
        return self.path(item_id).read_bytes()

    def attempted(self, item_id: str) -> None:
        with self._lock:
            self._db.execute("UPDATE items SET attempts = attempts + 1 WHERE item_id = ?", (item_id,))

    def acked(self, item_id: str) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE items SET status = 'acked', acked_at = ? WHERE item_id = ?", (iso(utcnow()), item_id)
            )
        self.path(item_id).unlink(missing_ok=True)

    def rejected(self, item_id: str, error: str) -> None:
        """The server refused it for good. Kept on disk and reported, never silently dropped."""
        with self._lock:
            self._db.execute(
                "UPDATE items SET status = 'rejected', error = ? WHERE item_id = ?", (error[:500], item_id)
            )

    # -- events --------------------------------------------------------------------------------
    def add_event(self, event_id: str, body: dict[str, Any]) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR IGNORE INTO events(event_id, body, created_at) VALUES(?,?,?)",
                (event_id, json.dumps({**body, "id": event_id}, default=str), iso(utcnow())),
            )

    def pending_events(self, limit: int = 200) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT body FROM events WHERE status = 'pending' ORDER BY created_at LIMIT ?", (limit,)
            ).fetchall()
        return [json.loads(r[0]) for r in rows]

    def events_acked(self, event_ids: list[str]) -> None:
        with self._lock:
            self._db.executemany(
                "UPDATE events SET status = 'acked' WHERE event_id = ?", [(i,) for i in event_ids]
            )

    # -- numbers -------------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        with self._lock:
            rows = self._db.execute("SELECT status, COUNT(*) FROM items GROUP BY status").fetchall()
            ev = self._db.execute("SELECT COUNT(*) FROM events WHERE status = 'pending'").fetchone()
        out = {"pending": 0, "acked": 0, "rejected": 0}
        out.update(dict(rows))
        out["events_pending"] = ev[0]
        return out

    def acked_bytes(self) -> int:
        with self._lock:
            row = self._db.execute(
                "SELECT COALESCE(SUM(size), 0) FROM items WHERE status = 'acked'"
            ).fetchone()
        return int(row[0])
