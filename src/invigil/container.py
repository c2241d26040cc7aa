"""What a running installation holds: settings, database, blob store, receipt-signing key."""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.asymmetric import ed25519
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from invigil.config import Settings
from invigil.kit import signing
from invigil.kit.backpressure import Gate
from invigil.kit.db import make_engine, make_sessionmaker, unit_of_work
from invigil.kit.groupcommit import GroupCommit
from invigil.storage import BlobStore
from invigil.storage.factory import blob_store_from_settings, regional_stores

if TYPE_CHECKING:
    from invigil.flags.queue import JobQueue


def _blob_store(settings: Settings, sessions: sessionmaker[Session]) -> BlobStore:
    """One store, or with INVIGIL_REGION_STORES one per region, each exam's blobs in its region's."""
    if not settings.region_stores:
        return blob_store_from_settings(settings)
    from sqlalchemy import text

    from invigil.storage.regional import RegionalBlobStore

    def region_of(kind: str, owner: str) -> str:
        query = (
            "SELECT e.region FROM exams e JOIN exam_sessions s ON s.exam_id = e.id WHERE s.id = :id"
            if kind == "session"
            else "SELECT region FROM exams WHERE id = :id"
        )
        with sessions() as db:
            region = db.execute(text(query), {"id": owner}).scalar()
        if region is None:
            raise LookupError(f"no exam or session {owner!r} for a blob")
        return str(region)

    return RegionalBlobStore(regional_stores(settings), region_of)


@dataclass
class Container:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    store: BlobStore

    @classmethod
    def from_settings(cls, settings: Settings) -> Container:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = make_engine(settings.effective_database_url)
        sessions = make_sessionmaker(engine)
        return cls(settings, engine, sessions, _blob_store(settings, sessions))

    def uow(self) -> AbstractContextManager[Session]:
        return unit_of_work(self.sessions)

    @cached_property
    def writer(self) -> GroupCommit:
        """Group commit for the agent's small writes (heartbeats, events); its thread starts on first use."""
        # SQLite has one writer at a time anyway. On PostgreSQL a second thread works while the first
        # waits for the server; more only made batches smaller (docs/benchmarks.md, ADR 0025).
        threads = 1 if self.engine.dialect.name == "sqlite" else 2
        return GroupCommit(
            self.sessions,
            max_pending=self.settings.max_pending_writes,
            threads=threads,
            linger=self.settings.group_commit_linger_ms / 1000,
        )

    @cached_property
    def upload_gate(self) -> Gate:
        """Evidence uploads waiting for or running on the thread pool; beyond the limit: 503."""
        return Gate(self.settings.max_pending_uploads)

    @cached_property
    def signer(self) -> ed25519.Ed25519PrivateKey:
        return signing.load_or_create(self.settings.keys_dir / "receipt-signing.pem")

    @cached_property
    def jobs(self) -> JobQueue:
        """Where analysis jobs go (flags/queue.py): a thread here, or a broker for `invigil worker`."""
        from invigil.flags.queue import queue_for

        return queue_for(self)

    def close(self) -> None:
        if "jobs" in self.__dict__:
            self.jobs.close()
        if "writer" in self.__dict__:
            self.writer.close()
        self.engine.dispose()
