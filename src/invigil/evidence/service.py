"""Evidence upload and staff reads.

Uploads are idempotent and resumable: ``PUT`` an item whole, or in ``Content-Range`` chunks that
must continue at the byte the server reports. On the last byte the server checks the SHA-256, the
envelope structure, its context (exam, session, item, kind),
and that it is sealed to the exam's key for its category and to the candidate's own key,
then stores it. The server never sees plaintext and refuses anything that is not an envelope.
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from invigil.audit import service as audit
from invigil.evidence import repository
from invigil.evidence.models import EvidenceItem
from invigil.exams import facts, keys
from invigil.exams.facts import ExamFacts
from invigil.exams.facts import facts as exam_facts
from invigil.kit import envelope
from invigil.kit.errors import BadRequest, Conflict, Forbidden, Invalid, NotFound, PayloadTooLarge
from invigil.kit.ids import check_client_id, new_id
from invigil.protocol import v1
from invigil.protocol.policy import EVIDENCE_KINDS
from invigil.sessions.models import ExamSession
from invigil.storage import BlobNotFound, BlobStore

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")


@dataclass(frozen=True)
class Upload:
    item_id: str
    kind: str
    sha256: str
    size: int
    captured_at: datetime
    content_range: str | None
    body: bytes


class Rejected(Exception):
    """The finished upload was refused; the caller forgets the item (``forget``) and reports."""

    def __init__(self, problem: Exception) -> None:
        super().__init__(str(problem))
        self.problem = problem


# Item states after the upload: stored, then shredded (retention) or erased (a reviewer, for
# sensitive personal data). In none of them does a repeated upload store anything again.
FINAL = ("stored", "shredded", "erased")


def forget(db: Session, session_id: str, client_id: str) -> None:
    """Drop a refused, unfinished item so that the agent can start it over."""
    item = repository.by_client_id(db, session_id, client_id)
    if item is not None and item.status == "partial":
        db.delete(item)


def parse_range(header: str | None, body_len: int, size: int) -> tuple[int, int]:
    """-> (start, end exclusive). Without Content-Range the body is the whole item."""
    if header is None:
        if body_len != size:
            raise BadRequest(f"The body has {body_len} bytes but {v1.H_SIZE} says {size}.")
        return 0, size
    match = _RANGE.match(header.strip())
    if not match:
        raise BadRequest("Content-Range must look like 'bytes START-END/TOTAL'.")
    start, last, total = (int(g) for g in match.groups())
    if total != size or last < start or last >= size or last - start + 1 != body_len:
        raise BadRequest("Content-Range does not match the body length or the item size.")
    return start, last + 1


def blob_key(exam_id: str, session_id: str, item_row_id: str) -> str:
    return f"evidence/{exam_id}/{session_id}/{item_row_id}"


def _part_key(session_id: str, item_row_id: str, offset: int) -> str:
    return f"partial/{session_id}/{item_row_id}/{offset:014d}"


def status(db: Session, session: ExamSession, item_id: str) -> v1.UploadStatus:
    check_client_id(item_id, "item id")
    item = repository.by_client_id(db, session.id, item_id)
    if item is None:
        return v1.UploadStatus(item_id=item_id, status="missing", received=0)
    status: Literal["partial", "stored"] = "stored" if item.status == "stored" else "partial"
    return v1.UploadStatus(item_id=item_id, status=status, received=item.received, size=item.size)


def check(db: Session, exam_id: str, up: Upload) -> ExamFacts:
    """The rules on an upload's id, headers and size, before anything is looked up or stored (also
    used by hotpath.py). -> the exam's facts."""
    check_client_id(up.item_id, "item id")
    if up.kind not in EVIDENCE_KINDS:
        raise BadRequest(f"Unknown evidence kind '{up.kind:.40}'.")
    if not _SHA256.match(up.sha256):
        raise BadRequest(f"{v1.H_SHA256} must be 64 lower-case hex digits.")
    known = exam_facts(db, exam_id)
    policy = known.policy
    if not policy.collects(up.kind):
        raise Forbidden(f"This exam's policy does not collect {up.kind.replace('_', ' ')}s.")
    if up.size == 0:
        raise BadRequest("An evidence item cannot be empty: a sealed envelope always has a header.")
    if up.size > policy.max_item_bytes:
        raise PayloadTooLarge(f"Items are limited to {policy.max_item_megabytes} MB by the exam's policy.")
    return known


def put(db: Session, store: BlobStore, session: ExamSession, up: Upload, now: datetime) -> v1.UploadStatus:
    known = check(db, session.exam_id, up)
    start, end = parse_range(up.content_range, len(up.body), up.size)

    item = repository.by_client_id(db, session.id, up.item_id)
    if item is not None and (item.sha256, item.size, item.kind) != (up.sha256, up.size, up.kind):
        raise Conflict("This item id was already used for different content.")
    if item is not None and item.status in FINAL:  # acknowledged; an erased item never comes back
        return v1.UploadStatus(item_id=up.item_id, status="stored", received=item.size, size=item.size)
    if item is None:
        item = EvidenceItem(
            session_id=session.id,
            exam_id=session.exam_id,
            client_id=up.item_id,
            kind=up.kind,
            size=up.size,
            received=0,
            sha256=up.sha256,
            captured_at=up.captured_at,
            received_at=now,
            blob_key="",
        )
        # The id is chosen here, not by a flush: the row is written only after the blob (see _finish),
        # so that SQLite's write lock is never held across the blob write and its fsync.
        item.id = new_id()
        item.blob_key = blob_key(session.exam_id, session.id, item.id)
        db.add(item)
    if start > item.received:
        raise Conflict(f"Upload must continue at byte {item.received}.", received=item.received)
    if end <= item.received:  # a chunk we already have
        return v1.UploadStatus(item_id=up.item_id, status="partial", received=item.received, size=item.size)

    if start == 0 and end == up.size:
        data = up.body  # single request: no parts to assemble
    else:
        new = up.body[item.received - start :]
        store.put(_part_key(session.id, item.id, item.received), new)
        item.received += len(new)
        if item.received < up.size:
            return v1.UploadStatus(
                item_id=up.item_id, status="partial", received=item.received, size=item.size
            )
        data = b"".join(store.get(k) for k in sorted(store.keys(f"partial/{session.id}/{item.id}/")))
    _finish(db, store, session, known, item, data, now)
    return v1.UploadStatus(item_id=up.item_id, status="stored", received=item.size, size=item.size)


class SealedFor(keys.KnowsKeys, Protocol):
    """What the envelope checks need of the session an item belongs to."""

    @property
    def id(self) -> str: ...

    @property
    def candidate_kid(self) -> str | None: ...


@dataclass(frozen=True)
class Item:
    """What an item claims to be, as the envelope checks see it."""

    client_id: str
    kind: str
    size: int
    sha256: str
    captured_at: datetime


def refusal(
    db: Session, known: ExamFacts, session: SealedFor, item: Item, data: bytes
) -> tuple[Exception | None, str | None]:
    """Why the finished item must be refused (None: it may be stored), and the exam key it is sealed
    to: the hash, the envelope, its context, the exam key for its category and the candidate's key."""
    if len(data) != item.size or hashlib.sha256(data).hexdigest() != item.sha256:
        problem = BadRequest(
            "The upload does not match its SHA-256: it was corrupted on the way. Send it again."
        )
        return problem, None
    ctx = envelope.Context(known.exam_id, session.id, item.client_id, item.kind)
    try:
        header = envelope.read_header(io.BytesIO(data[: envelope.PREFIX_MAX]))
        kid = keys.sealing_key(known, session, item.kind, item.captured_at, header.recipients)
        if kid is None:  # perhaps keys were rotated on another node a moment ago
            known = facts.facts(db, known.exam_id, fresh=True)
            kid = keys.sealing_key(known, session, item.kind, item.captured_at, header.recipients)
        envelope.check_envelope(header.raw, len(data), ctx, kid or "")
        if session.candidate_kid not in header.recipients:
            raise envelope.NotARecipient("envelope is not sealed to the candidate's own key")
    except envelope.EnvelopeError as exc:
        return Invalid(f"Refused: {exc}."), None
    except Invalid as exc:
        return exc, None
    return None, kid


def _discard_parts(store: BlobStore, session_id: str, item: EvidenceItem) -> None:
    for key in list(store.keys(f"partial/{session_id}/{item.id}/")):
        store.delete(key)


def _finish(
    db: Session,
    store: BlobStore,
    session: ExamSession,
    known: ExamFacts,
    item: EvidenceItem,
    data: bytes,
    now: datetime,
) -> None:
    claimed = Item(item.client_id, item.kind, item.size, item.sha256, item.captured_at)
    problem, kid = refusal(db, known, session, claimed, data)
    if problem is not None:
        _discard_parts(store, session.id, item)
        raise Rejected(problem)
    store.put(item.blob_key, data)
    try:
        stored = repository.mark_stored(db, item, received=item.size, stored_at=now, exam_kid=kid)
    except IntegrityError:
        store.delete(item.blob_key)  # a racing retry stored this item first; ours is a spare copy
        raise
    if stored:
        repository.count_stored(db, session.id, item.size)
    db.refresh(item)
    _discard_parts(store, session.id, item)


def read_for_staff(
    db: Session, store: BlobStore, item_id: str, actor_id: str, now: datetime
) -> tuple[EvidenceItem, bytes]:
    """The ciphertext of one item; the caller has already checked access. Logged."""
    item = repository.get(db, item_id)
    if item is None or item.status != "stored":
        raise NotFound("No such evidence item.")
    try:
        data = store.get(item.blob_key)
    except BlobNotFound as exc:
        raise NotFound("This evidence item has been deleted.") from exc
    audit.record(
        db,
        actor_kind="staff",
        actor_id=actor_id,
        action="evidence.read",
        at=now,
        exam_id=item.exam_id,
        session_id=item.session_id,
        item_id=item.id,
        kind=item.kind,
    )
    return item, data
