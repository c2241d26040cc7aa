"""Background jobs. Embedded default: a thread in the server process. At scale: `invigil worker`.

Jobs are idempotent and safe to run from several processes at once. On one node only one process
sweeps at a time (a lock file in the data directory): with ``invigil serve --workers N`` or an
``invigil worker`` beside the server, the others skip their turn instead of repeating the work.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
from datetime import timedelta

from invigil.accounts import throttle, websessions
from invigil.audit import chain
from invigil.container import Container
from invigil.exams import keys
from invigil.flags import queue as analysis
from invigil.kit.clock import utcnow
from invigil.retention import engine as retention
from invigil.sessions import service as sessions

log = logging.getLogger("invigil.jobs")


def sweep_once(c: Container) -> dict[str, int]:
    now, ended = utcnow(), list[str]()
    with c.uow() as db:
        counts = sessions.sweep(db, now, c.settings.offline_after_seconds, ended)
        counts["invigilator_key_copies_expired"] = keys.expire_window_grants(db, now)
        counts["web_sessions_ended"] = websessions.sweep(db, now)
        counts["login_throttles_forgotten"] = throttle.sweep(db, now, c.settings.login_window_seconds)
    for session_id in ended:  # a session that never came back still gets its analysis
        analysis.enqueue(c, "session", session_id)
        analysis.enqueue(c, "stream", session_id)
    return counts


def audit_checkpoint(c: Container) -> None:
    """Sign the access log's hash chain where it stands (audit/chain.py), if a checkpoint is due
    and the chain moved."""
    every, now = timedelta(seconds=c.settings.audit_checkpoint_seconds), utcnow()
    with c.uow() as db:
        row = (
            chain.checkpoint(db, c.signer, c.settings.data_dir, now)
            if chain.checkpoint_due(db, now, every)
            else None
        )
    if row is not None:
        log.info("audit checkpoint at seq %d: %s", row.seq, row.hash)


RETENTION_EVERY = 3600.0  # seconds; retention periods are days, so hourly is plenty


class Sweeper:
    """Runs ``sweep_once`` every ``interval`` seconds until stopped."""

    def __init__(self, c: Container, interval: float) -> None:
        self._c, self._interval = c, interval
        self._lock_fd: int | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="invigil-sweeper", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wait(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # lets another process take over
            self._lock_fd = None

    def _is_runner(self) -> bool:
        """Whether this process holds the node's sweeper lock (taken once, kept until stop)."""
        if self._lock_fd is None:
            path = self._c.settings.data_dir / "sweeper.lock"
            self._lock_fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _run(self) -> None:
        last_retention = 0.0
        while not self._stop.wait(self._interval):
            try:
                if not self._is_runner():
                    continue
                counts = sweep_once(self._c)
                if any(counts.values()):
                    log.info("sweep: %s", counts)
                if time.monotonic() - last_retention >= RETENTION_EVERY:
                    last_retention = time.monotonic()
                    for done in retention.run(self._c, utcnow()):
                        log.info("retention: %s", done)
                audit_checkpoint(self._c)
            except Exception:  # a failed sweep must not kill the loop; the next one retries
                log.exception("sweep failed")
