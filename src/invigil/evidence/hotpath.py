"""The commonest upload, a whole item in one request, without the ORM and with its row in group commit.

Through ``service.put`` an upload costs an ``ExamSession`` load, an item lookup, an ORM insert, an
update, a counter update and a refresh, in a transaction of its own on the thread pool; that was
the dearest agent request (docs/benchmarks.md). Here:

1. ``prepare`` (thread pool): who holds the token (the token cache), the same header checks
   (``service.check``) and envelope checks (``service.refusal``) as the full path, then the blob is
   written under a fresh row id, before any database write, as in the full path.
2. ``Prepared.commit`` (a group-commit unit): insert the row as stored unless the item id is known
   (``INSERT … ON CONFLICT DO NOTHING RETURNING``), then count it on its session only if the
   session is still live. Two statements.

Anything unusual returns None and the caller takes the full path, which decides and words the
answer: chunks (``Content-Range``), headers the checks refuse, an item id seen before (a retry, a
conflict, a resumed upload), an envelope the checks refuse, one sealed to a retired exam key, a
token not live in the database, a session that ended meanwhile (its row is dropped again in the
same transaction). A blob written for nothing is deleted first (``discard``).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from invigil.evidence import repository, service
from invigil.kit import tokens
from invigil.kit.errors import DomainError
from invigil.kit.ids import new_id
from invigil.protocol import v1
from invigil.sessions import hotpath as sessions_hotpath
from invigil.storage import BlobStore


@dataclass(frozen=True)
class _Sealer:
    """The session as the envelope checks see it here. The generation the agent was last given is not
    known without a query, so it counts as the newest: only an item sealed to the exam's current key
    passes, and one sealed to a retired key goes to the full path, which knows the real one."""

    id: str
    candidate_kid: str | None
    key_generation: int = sys.maxsize
    key_generation_at: datetime | None = None


@dataclass(frozen=True)
class Prepared:
    """An item whose blob is written and whose row is still to be committed."""

    session_id: str
    up: service.Upload
    row: dict[str, object]

    @property
    def blob_key(self) -> str:
        return str(self.row["blob_key"])

    def commit(self, db: Session) -> v1.UploadStatus | None:
        """The group-commit unit: repeatable, database only. None: nothing changed, full path."""
        if not repository.add_stored(db, self.row):
            return None  # the item id was used before: a retry, a conflict or a resumed upload
        if not repository.count_stored(db, self.session_id, self.up.size, only_if_live=True):
            repository.drop(db, str(self.row["id"]))
            return None  # the session ended meanwhile (here or on another node)
        size = self.up.size
        return v1.UploadStatus(item_id=self.up.item_id, status="stored", received=size, size=size)


def prepare(
    db: Session, store: BlobStore, token: str | None, up: service.Upload, now: datetime
) -> Prepared | None:
    """Check the upload and write its blob; None: take the full path (nothing was written)."""
    if not token or up.content_range is not None or len(up.body) != up.size:
        return None
    who = sessions_hotpath.identity(db, tokens.token_hash(token))
    if who is None:
        return None
    try:
        known = service.check(db, who.exam_id, up)
    except DomainError:
        return None  # the full path says so, after checking that the session is still live
    claimed = service.Item(up.item_id, up.kind, up.size, up.sha256, up.captured_at)
    problem, kid = service.refusal(db, known, _Sealer(who.id, who.candidate_kid), claimed, up.body)
    if problem is not None:
        return None
    row_id = new_id()
    row: dict[str, object] = {
        "id": row_id,
        "session_id": who.id,
        "exam_id": who.exam_id,
        "client_id": up.item_id,
        "kind": up.kind,
        "status": "stored",
        "size": up.size,
        "received": up.size,
        "sha256": up.sha256,
        "exam_kid": kid,
        "blob_key": service.blob_key(who.exam_id, who.id, row_id),
        "captured_at": up.captured_at,
        "received_at": now,
        "stored_at": now,
    }
    store.put(str(row["blob_key"]), up.body)
    return Prepared(who.id, up, row)


def discard(store: BlobStore, prepared: Prepared) -> None:
    """The blob of an item the full path will handle: it writes its own."""
    store.delete(prepared.blob_key)
