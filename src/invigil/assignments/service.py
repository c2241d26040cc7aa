"""Assignment rules: what a sealed upload must look like, when it may be replaced, who received it.

The server never sees the PIN or the plaintext. It checks what it can without them: the structure of
every sealed file, that it was sealed for this exam, its name, that all files share one lock (KDF
parameters, salt and PIN check), the SHA-256 of the upload and the size limit.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from invigil.accounts.models import Staff
from invigil.assignments import repository
from invigil.assignments.models import AssignmentDelivery, AssignmentFile, AssignmentSet
from invigil.audit import service as audit
from invigil.exams.models import Exam
from invigil.kit import pinseal
from invigil.kit.errors import BadRequest, Conflict, Invalid, NotFound
from invigil.kit.filenames import same_file_key
from invigil.kit.ids import new_id
from invigil.protocol import assignment as proto
from invigil.sessions.models import ExamSession
from invigil.storage import BlobNotFound, BlobStore

MAX_FILES = 50
_SHA256 = re.compile(proto.SHA256_PATTERN)


@dataclass(frozen=True)
class Stored:
    set: AssignmentSet
    files: list[AssignmentFile]
    replaced: bool
    stale_blobs: list[str]  # the replaced version's blobs: delete them once the change is committed


def _local(when: datetime, exam: Exam) -> str:
    return when.astimezone(ZoneInfo(exam.timezone)).strftime("%d %b %Y at %H:%M %Z")


def store_set(
    db: Session, store: BlobStore, exam: Exam, staff: Staff, body: bytes, sha256: str, now: datetime
) -> Stored:
    """Check an upload (sealed files one after another) and make it the exam's assignment."""
    if now >= exam.starts_at:
        raise Conflict(
            f"The exam started on {_local(exam.starts_at, exam)}: its assignment can no longer be "
            "uploaded or replaced, because candidates may already have opened it."
        )
    if not _SHA256.match(sha256):
        raise BadRequest("Header Invigil-Sha256 must be the SHA-256 of the body, 64 lower-case hex digits.")
    if hashlib.sha256(body).hexdigest() != sha256:
        raise BadRequest("The upload does not match its SHA-256: it was corrupted on the way. Send it again.")
    if not body:
        raise Invalid("The upload is empty: send at least one sealed file.")
    try:
        parts = pinseal.split(body)
    except pinseal.NotSealed as exc:
        raise Invalid(f"Refused: {exc}.") from exc
    _check_parts(exam, parts)

    current = repository.set_for_exam(db, exam.id)
    stale = [f.blob_key for f in repository.files(db, current.id)] if current else []
    upload_id = new_id()
    lock = parts[0][0].lock()
    listing = [(h.name, len(data), hashlib.sha256(data).hexdigest()) for h, data in parts]
    if current is None:
        current = AssignmentSet(exam_id=exam.id, version=0)
        db.add(current)
    else:
        repository.delete_files(db, current.id)
        repository.forget_deliveries(db, exam.id)
    current.kdf, current.salt, current.check = lock["kdf"], lock["salt"], lock["check"]
    current.digest = proto.digest(listing)
    current.file_count, current.bytes = len(parts), len(body)
    current.version += 1
    current.uploaded_at, current.uploaded_by = now, staff.id
    db.flush()
    files = []
    for position, ((header, data), (name, size, sha)) in enumerate(zip(parts, listing, strict=True)):
        key = f"assignments/{exam.id}/{upload_id}/{position:03d}"
        store.put(key, data)
        row = AssignmentFile(
            set_id=current.id,
            position=position,
            name=name,
            size=size,
            plain_size=header.size,
            sha256=sha,
            blob_key=key,
        )
        db.add(row)
        files.append(row)
    db.flush()
    audit.record(
        db,
        actor_kind="staff",
        actor_id=staff.id,
        action="assignment.replace" if current.version > 1 else "assignment.upload",
        at=now,
        exam_id=exam.id,
        digest=current.digest,
        files=len(files),
    )
    return Stored(current, files, current.version > 1, stale)


def _check_parts(exam: Exam, parts: list[tuple[pinseal.Header, bytes]]) -> None:
    if len(parts) > MAX_FILES:
        raise Invalid(f"An assignment can have at most {MAX_FILES} files; zip some of them together.")
    lock = parts[0][0].lock()
    seen: dict[str, str] = {}
    for header, _data in parts:
        if header.exam_id != exam.id:
            raise Invalid(
                f"'{header.name}' was sealed for another exam ({header.exam_id[:40]}). "
                f"Seal it again for this exam ({exam.id})."
            )
        if header.lock() != lock:
            raise Invalid(
                "The files were not sealed together with one PIN: seal and upload all of them in one go."
            )
        key = same_file_key(header.name)
        if key in seen:
            raise Invalid(
                f"Two files are named '{seen[key]}' and '{header.name}'; names must differ "
                "(also in more than upper and lower case)."
            )
        seen[key] = header.name


def manifest(db: Session, exam_id: str) -> proto.AssignmentManifest:
    current = repository.set_for_exam(db, exam_id)
    if current is None:
        return proto.AssignmentManifest(available=False)
    return proto.AssignmentManifest(
        available=True,
        digest=current.digest,
        uploaded_at=current.uploaded_at,
        kdf=current.kdf,
        salt=current.salt,
        check=current.check,
        files=[
            proto.AssignmentFileInfo(index=f.position, name=f.name, size=f.size, sha256=f.sha256)
            for f in repository.files(db, current.id)
        ],
    )


def read_file(db: Session, store: BlobStore, exam_id: str, index: int) -> tuple[AssignmentFile, bytes]:
    current = repository.set_for_exam(db, exam_id)
    row = repository.file_at(db, current.id, index) if current else None
    if row is None:
        raise NotFound("This exam's assignment has no such file; fetch the list again.")
    try:
        return row, store.get(row.blob_key)
    except BlobNotFound as exc:
        raise NotFound("This assignment file was replaced; fetch the list again.") from exc


def _current_digest(db: Session, session: ExamSession, digest: str) -> str:
    current = repository.set_for_exam(db, session.exam_id)
    if current is None:
        raise NotFound("This exam has no sealed assignment.")
    if digest != current.digest:
        raise Conflict(
            "The assignment was replaced after this copy was downloaded: download it again.",
            digest=current.digest,
        )
    return current.digest


def received(db: Session, session: ExamSession, digest: str, now: datetime) -> proto.AssignmentProgress:
    """The agent holds every file of the current version (it computed ``digest`` itself)."""
    _current_digest(db, session, digest)
    row = repository.delivery(db, session.id)
    if row is None:
        row = AssignmentDelivery(
            session_id=session.id, exam_id=session.exam_id, digest=digest, received_at=now
        )
        db.add(row)
    return proto.AssignmentProgress(received_at=row.received_at, opened_at=row.opened_at)


def opened(db: Session, session: ExamSession, digest: str, now: datetime) -> proto.AssignmentProgress:
    """The candidate entered the PIN and the agent opened every file. The PIN itself never comes here."""
    _current_digest(db, session, digest)
    row = repository.delivery(db, session.id)
    if row is None:
        row = AssignmentDelivery(
            session_id=session.id, exam_id=session.exam_id, digest=digest, received_at=now
        )
        db.add(row)
    if row.opened_at is None:
        row.opened_at = now
    return proto.AssignmentProgress(received_at=row.received_at, opened_at=row.opened_at)
